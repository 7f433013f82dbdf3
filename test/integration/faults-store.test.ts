// Real faults between the tool and the S3 server (a fault-injecting proxy in front of versitygw), stalls,
// two runs in one second, and what is written at rest: SSE on every S3 write, owner-only files on disk.
// Snapshots come from the shared cluster, limited to this file's namespaces. Each case asserts the exact
// outcome; no output of the whole file may hold a token, the AWS secret key or a planted Secret value.
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListMultipartUploadsCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { KubeClient } from "../../src/kube/client.js";
import { loadKubeconfig } from "../../src/kube/kubeconfig.js";
import { KubeClusterReader } from "../../src/kube/reader.js";
import type { Clock, SnapshotStore } from "../../src/snapshot/ports.js";
import { FsStore } from "../../src/stores/fs.js";
import { createS3Client, S3_CLIENT_DEFAULTS, S3Store } from "../../src/stores/s3.js";
import { runCli, s3Env } from "../support/cli.js";
import { nameAt, thisSecond, withDateFrozen } from "../support/clock.js";
import { engineSnapshot } from "../support/engine.js";
import { type FaultProxy, s3Error, startS3FaultProxy } from "../support/fault-proxy.js";
import { expectNothingSecret } from "../support/secrets.js";
import { sharedCluster, sharedS3 } from "../support/shared.js";

const cluster = sharedCluster();
const s3 = sharedS3();
const PREFIX = "kube-aws/clusters/faults/backup";
/** 10 ConfigMaps of ~900 KB: their file (~8.6 MiB) is above one 5 MiB part (2 parts), so it goes up as a multipart upload. */
const BIG_NS = "faults-big";
const BIG_ITEMS = 10;
const SMALL_NS = "faults-s3";
const PLANTED = ["planted-s3-1-deadbeef", "planted-s3-2-deadbeef"];
const KMS_KEY = "arn:aws:kms:us-east-1:000000000000:key/faults-store";
const env = s3Env(s3);
const output: string[] = [];

let work: string;
let proxy: FaultProxy;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "kube-autosave-faults-store-"));
  proxy = await startS3FaultProxy({ upstream: s3.endpoint });
  for (const name of [BIG_NS, SMALL_NS]) {
    await cluster.api("POST", "/api/v1/namespaces", { metadata: { name } });
  }
  // Created with POST, not kubectl apply: its last-applied annotation would double each object past etcd's limit.
  for (let i = 0; i < BIG_ITEMS; i++) {
    const res = await cluster.api("POST", `/api/v1/namespaces/${BIG_NS}/configmaps`, {
      metadata: { name: `blob-${i}` },
      data: { blob: String(i).repeat(900_000) },
    });
    expect([201, 409]).toContain(res.status);
  }
  for (const [i, value] of PLANTED.entries()) {
    await cluster.api("POST", `/api/v1/namespaces/${SMALL_NS}/secrets`, {
      metadata: { name: `creds-${i}` },
      type: "Opaque",
      stringData: { password: value },
    });
  }
}, 300_000);

afterAll(async () => {
  // The shared cluster's other users list every ConfigMap: take the 9 MB away again.
  await cluster.api("DELETE", `/api/v1/namespaces/${BIG_NS}/configmaps`);
  await proxy?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

afterEach(() => {
  proxy.reset();
});

/** `kube-autosave list --json` of this file's prefix in `bucket`, from the S3 server itself (no faults). */
async function listS3(bucket: string) {
  const res = await runCli(["list", `s3://${bucket}/${PREFIX}`, "--json", "--endpoint", s3.endpoint], env);
  return JSON.parse(res.stdout);
}

const LATEST_JSON = /\/latest\.json(\?|$)/;
/**
 * A 200 for latest.json whose body is not what its CRC32 header says: corruption, and what versitygw
 * serves when two runs' PUTs of latest.json overlap.
 */
const CORRUPT_LATEST = {
  kind: "respond",
  status: 200,
  body: '{"snapshot":"not-this-one"}',
  headers: { "content-type": "application/json", "x-amz-checksum-crc32": "AAAAAA==" },
} as const;

/** `kube-autosave snapshot` of this file's namespaces into `bucket`, through the S3 proxy. */
async function s3Snapshot(bucket: string, extra: string[] = []) {
  const res = await runCli(
    [
      "snapshot",
      "--kubeconfig",
      cluster.kubeconfig("viewer"),
      "--bucket",
      bucket,
      "--endpoint",
      proxy.url,
      "--region",
      s3.region,
      "--cluster-name",
      "faults",
      "--include-namespaces",
      `${BIG_NS},${SMALL_NS}`,
      ...extra,
    ],
    env,
  );
  output.push(res.stdout, res.stderr);
  return res;
}

/** `kube-autosave verify` straight against versitygw (not through the proxy). */
async function verifyS3(bucket: string, snapshot: string) {
  const res = await runCli(
    ["verify", `s3://${bucket}/${PREFIX}/${snapshot}`, "--endpoint", s3.endpoint, "--region", s3.region],
    env,
  );
  output.push(res.stdout, res.stderr);
  return res;
}

async function keysOf(bucket: string): Promise<string[]> {
  const client = s3.client();
  try {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ""));
      token = page.NextContinuationToken;
    } while (token);
    return keys.sort();
  } finally {
    client.destroy();
  }
}

async function openUploads(bucket: string): Promise<number> {
  const client = s3.client();
  try {
    return (await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.length ?? 0;
  } finally {
    client.destroy();
  }
}

/** The snapshot a failed run claimed (from its .runs/ entry). */
function claimedSnapshot(keys: string[]): string {
  const claims = keys.filter((k) => k.startsWith(`${PREFIX}/.runs/`));
  expect(claims).toHaveLength(1);
  return (claims[0] as string).slice(`${PREFIX}/.runs/`.length, -".json".length);
}

/** UploadPart attempts per part number. */
function partAttempts(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of proxy.requests.filter((r) => r.op === "UploadPart")) {
    const n = new URL(r.path, "http://x").searchParams.get("partNumber") ?? "?";
    out[n] = (out[n] ?? 0) + 1;
  }
  return out;
}

const opCount = (op: string) => proxy.requests.filter((r) => r.op === op).length;

describe("S3 faults", () => {
  it("retries SlowDown, 5xx, 429 and resets on parts, puts, create and complete: Completed, verified, no upload left", async () => {
    const bucket = await s3.createBucket("faults-retry");
    proxy.rule({
      op: "UploadPart",
      nth: [1],
      action: s3Error(503, "SlowDown", "Please reduce your request rate."),
    });
    proxy.rule({
      op: "UploadPart",
      nth: [3],
      action: s3Error(500, "InternalError", "We encountered an internal error. Please try again."),
    });
    proxy.rule({
      op: "CreateMultipartUpload",
      nth: [1],
      action: s3Error(500, "InternalError", "We encountered an internal error. Please try again."),
    });
    proxy.rule({
      op: "CompleteMultipartUpload",
      nth: [1],
      action: s3Error(503, "SlowDown", "Please reduce your request rate."),
    });
    proxy.rule({
      op: "PutObject",
      nth: [2],
      action: s3Error(503, "ServiceUnavailable", "Service is unable to handle request."),
    });
    proxy.rule({
      op: "PutObject",
      nth: [3],
      action: s3Error(429, "TooManyRequests", "Please slow down.", { "retry-after": "1" }),
    });
    proxy.rule({ op: "PutObject", nth: [5], action: { kind: "reset", afterBytes: 0 } });

    const res = await s3Snapshot(bucket, ["--json"]);

    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const summary = JSON.parse(res.stdout);
    expect(summary).toMatchObject({ status: "Completed", errors: [] });
    // Two parts, each first attempt of part 1 and one other failing once: 4 UploadParts in all.
    expect(Object.values(partAttempts()).reduce((a, b) => a + b, 0)).toBe(4);
    expect(opCount("CreateMultipartUpload")).toBe(2);
    expect(opCount("CompleteMultipartUpload")).toBe(2);
    const puts = proxy.requests.filter((r) => r.op === "PutObject");
    expect(puts.filter((r) => r.outcome !== 200)).toHaveLength(3);
    expect(await openUploads(bucket)).toBe(0);
    const verified = await verifyS3(bucket, summary.snapshot);
    expect(verified.code).toBe(0);
    const manifest = JSON.parse(
      (
        await runCli(
          ["verify", `s3://${bucket}/${PREFIX}/${summary.snapshot}`, "--json", "--endpoint", s3.endpoint],
          env,
        )
      ).stdout,
    );
    expect(manifest).toMatchObject({ ok: true, status: "Completed" });
    const big = await keysOf(bucket);
    expect(big).toContain(`${PREFIX}/${summary.snapshot}/${BIG_NS}/configmaps.json`);
  });

  it("S3 failing for good on every part: exit 1 naming the object, no manifest, the upload aborted", async () => {
    const bucket = await s3.createBucket("faults-parts");
    proxy.rule({
      op: "UploadPart",
      action: s3Error(500, "InternalError", "We encountered an internal error. Please try again."),
    });

    const res = await s3Snapshot(bucket);

    expect(res.code).toBe(1);
    expect(res.stdout).toBe("");
    const keys = await keysOf(bucket);
    const snapshot = claimedSnapshot(keys);
    expect(res.stderr).toBe(
      `kube-autosave: cannot write s3://${bucket}/${PREFIX}/${snapshot}/${BIG_NS}/configmaps.json: InternalError (HTTP 500): We encountered an internal error. Please try again.\n`,
    );
    expect(keys.filter((k) => k.endsWith("manifest.json") || k.endsWith("latest.json"))).toEqual([]);
    expect(keys).not.toContain(`${PREFIX}/${snapshot}/${BIG_NS}/configmaps.json`);
    // Part 1 and, when the rest of the file arrived before part 1 gave up, part 2 (the file has two): each
    // got the client's 5 attempts; the upload was aborted, none is left open.
    const attempts = partAttempts();
    expect(attempts["1"]).toBe(S3_CLIENT_DEFAULTS.maxAttempts);
    expect(attempts).toEqual(
      Object.fromEntries(Object.keys(attempts).map((n) => [n, S3_CLIENT_DEFAULTS.maxAttempts])),
    );
    expect(["1", "1,2"]).toContain(Object.keys(attempts).sort().join(","));
    expect(proxy.requests.filter((r) => r.op === "AbortMultipartUpload").map((r) => r.outcome)).toEqual([
      204,
    ]);
    expect(await openUploads(bucket)).toBe(0);
  });

  it("S3 failing for good on the manifest: exit 1 naming it, every file written but no manifest and no latest.json", async () => {
    const bucket = await s3.createBucket("faults-manifest");
    proxy.rule({
      op: "PutObject",
      path: /\/manifest\.json(\?|$)/,
      action: s3Error(500, "InternalError", "We encountered an internal error. Please try again."),
    });

    const res = await s3Snapshot(bucket, ["--include-resources", "configmaps,secrets"]);

    expect(res.code).toBe(1);
    const keys = await keysOf(bucket);
    const snapshot = claimedSnapshot(keys);
    expect(res.stderr).toBe(
      `kube-autosave: cannot write s3://${bucket}/${PREFIX}/${snapshot}/manifest.json: InternalError (HTTP 500): We encountered an internal error. Please try again.\n`,
    );
    expect(proxy.count(/\/manifest\.json(\?|$)/, "PUT")).toBe(S3_CLIENT_DEFAULTS.maxAttempts);
    expect(keys.filter((k) => k.startsWith(`${PREFIX}/${snapshot}/`))).toEqual([
      `${PREFIX}/${snapshot}/${BIG_NS}/configmaps.json`,
      `${PREFIX}/${snapshot}/${SMALL_NS}/configmaps.json`,
      `${PREFIX}/${snapshot}/${SMALL_NS}/secrets.json`,
    ]);
    expect(keys).not.toContain(`${PREFIX}/latest.json`);
    const listed = await listS3(bucket);
    expect(listed.entries.map((e: any) => [e.snapshot, e.status])).toEqual([[snapshot, "incomplete"]]);
    expect(await openUploads(bucket)).toBe(0);
  });

  it("reads an object again when its download is cut off mid-body (latest.json during a run, files during verify)", async () => {
    const bucket = await s3.createBucket("faults-get");
    const first = await s3Snapshot(bucket, ["--json"]);
    expect(first.code).toBe(0);
    proxy.reset();
    const cutLatest = proxy.rule({
      op: "GetObject",
      path: LATEST_JSON,
      nth: [1],
      action: { kind: "reset", afterBytes: 10 },
    });

    const second = await s3Snapshot(bucket, ["--json"]);

    expect(cutLatest.fired).toBe(1);
    expect(second.stderr).toBe("");
    expect(second.code).toBe(0);
    const snapshot = JSON.parse(second.stdout).snapshot;
    expect((await listS3(bucket)).latest).toBe(snapshot);

    proxy.reset();
    const cutFile = proxy.rule({
      op: "GetObject",
      path: new RegExp(`/${BIG_NS}/configmaps\\.json(\\?|$)`),
      nth: [1],
      action: { kind: "reset", afterBytes: 1_000_000 },
    });
    const verified = await runCli(
      ["verify", `s3://${bucket}/${PREFIX}/${snapshot}`, "--endpoint", proxy.url, "--region", s3.region],
      env,
    );
    output.push(verified.stdout, verified.stderr);
    expect(cutFile.fired).toBe(1);
    expect(verified.stderr).toBe("");
    expect(verified.code).toBe(0);
  });

  it("reads an object again when its body does not match its CRC32 header (latest.json during a run)", async () => {
    const bucket = await s3.createBucket("faults-crc");
    const first = await s3Snapshot(bucket, ["--json"]);
    expect(first.code).toBe(0);
    proxy.reset();
    const corrupt = proxy.rule({ op: "GetObject", path: LATEST_JSON, nth: [1], action: CORRUPT_LATEST });

    const second = await s3Snapshot(bucket, ["--json"]);

    expect(corrupt.fired).toBe(1);
    expect(second.stderr).toBe("");
    expect(second.code).toBe(0);
    // The corrupt read and its re-read when the run starts, one read before latest.json moves forward.
    expect(proxy.count(LATEST_JSON, "GET")).toBe(3);
    expect((await listS3(bucket)).latest).toBe(JSON.parse(second.stdout).snapshot);
  });

  it("replaces a latest.json whose content never matches its checksum; the run completes", async () => {
    const bucket = await s3.createBucket("faults-crc-rest");
    const first = await s3Snapshot(bucket, ["--json"]);
    expect(first.code).toBe(0);
    proxy.reset();
    // Every read of latest.json is corrupt: what versitygw stores when two runs' PUTs of it overlap.
    const corrupt = proxy.rule({ op: "GetObject", path: LATEST_JSON, action: CORRUPT_LATEST });

    const second = await s3Snapshot(bucket, ["--json"]);

    // The client's 5 reads when the run starts (the digest's previous snapshot), 5 before it moves
    // latest.json forward; then the run writes a good one.
    expect(corrupt.fired).toBe(2 * S3_CLIENT_DEFAULTS.maxAttempts);
    expect(second.stderr).toBe("");
    expect(second.code).toBe(0);
    expect((await listS3(bucket)).latest).toBe(JSON.parse(second.stdout).snapshot);
  });

  it("lists the snapshots when latest.json never matches its checksum, with a warning naming it", async () => {
    const bucket = await s3.createBucket("faults-crc-list");
    const first = await s3Snapshot(bucket, ["--json"]);
    expect(first.code).toBe(0);
    proxy.reset();
    proxy.rule({ op: "GetObject", path: LATEST_JSON, action: CORRUPT_LATEST });

    const res = await runCli(["list", `s3://${bucket}/${PREFIX}`, "--json", "--endpoint", proxy.url], env);
    output.push(res.stdout, res.stderr);

    expect(res.code).toBe(0);
    const listed = JSON.parse(res.stdout);
    expect(listed.entries.map((e: any) => e.snapshot)).toEqual([JSON.parse(first.stdout).snapshot]);
    expect(listed.latest).toBeNull();
    expect(listed.warnings).toEqual([
      `latest.json is corrupt (cannot read s3://${bucket}/${PREFIX}/latest.json: its content does not match its CRC32 checksum (${S3_CLIENT_DEFAULTS.maxAttempts} reads))`,
    ]);
  });

  it("reads a bucket listing cut short again; one that never arrives whole fails the run before anything is written", async () => {
    const bucket = await s3.createBucket("faults-list");
    const cut = { kind: "truncate", afterBytes: 30 } as const;
    proxy.rule({ op: "ListObjectsV2", nth: [1], action: cut });

    const once = await s3Snapshot(bucket, ["--include-resources", "secrets", "--json"]);

    expect(once.code).toBe(0);
    // The new snapshot's folder is checked empty (cut short, read again), then .runs/ before latest.json moves.
    const snap: string = JSON.parse(once.stdout).snapshot;
    expect(
      proxy.requests
        .filter((r) => r.op === "ListObjectsV2")
        .map((r) => `${new URL(r.path, "http://x").searchParams.get("prefix")} ${r.outcome}`),
    ).toEqual([`${PREFIX}/${snap}/ truncated`, `${PREFIX}/${snap}/ 200`, `${PREFIX}/.runs/ 200`]);
    const other = await s3.createBucket("faults-list-bad");
    proxy.reset();
    proxy.rule({ op: "ListObjectsV2", action: cut });

    const always = await s3Snapshot(other, ["--include-resources", "secrets"]);

    expect(always.code).toBe(1);
    expect(always.stderr).toMatch(
      new RegExp(
        `^kube-autosave: cannot list s3://${other}/${PREFIX}/\\d{4}-\\d{2}-\\d{2}_\\d{2}-\\d{2}-\\d{2}/: S3 answered HTTP 200 with a response that could not be read \\(@aws-sdk XML parse error: expected "\\?>" not found\\.\\)\n$`,
      ),
    );
    expect(opCount("ListObjectsV2")).toBe(S3_CLIENT_DEFAULTS.maxAttempts);
    expect(await keysOf(other)).toEqual([]);
  });

  it("abandons a stalled S3 request after the socket timeout and retries it", async () => {
    const bucket = await s3.createBucket("faults-stall");
    const stall = proxy.rule({ op: "PutObject", nth: [2], action: { kind: "stall", ms: 30_000 } });
    const client = createS3Client({
      endpoint: proxy.url,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      // The CLI's and the Lambda's clients wait 30 s; this one 1 s, so the test is quick.
      requestHandler: { ...S3_CLIENT_DEFAULTS.requestHandler, socketTimeout: 1_000 },
    });
    const kube = new KubeClient(await loadKubeconfig(cluster.kubeconfig("viewer")));
    try {
      const result = await engineRun(kube, new S3Store({ client, bucket, prefix: PREFIX }), {
        now: () => new Date(),
      });
      expect(result.manifest.status).toBe("Completed");
    } finally {
      kube.close();
      client.destroy();
    }
    expect(stall.fired).toBe(1);
    // The stalled PUT was given up before the stall ended (it would then have been passed on: 200), and
    // the same object was sent again and stored.
    const puts = proxy.requests.filter((r) => r.op === "PutObject");
    const stalled = puts[1]?.path;
    expect(puts.filter((r) => r.path === stalled).map((r) => r.outcome)).toEqual(["client-gone", 200]);
    expect(puts.filter((r) => r.outcome === "client-gone")).toHaveLength(1);
  });

  it("gives every S3 client of the tool 5 attempts in standard retry mode", async () => {
    const client = createS3Client({ region: s3.region });
    try {
      expect(await client.config.maxAttempts()).toBe(5);
      const mode = client.config.retryMode;
      expect(typeof mode === "function" ? await mode() : mode).toBe("standard");
    } finally {
      client.destroy();
    }
  });
});

/** The engine straight on a store: this file's small namespace only, so it is quick. */
function engineRun(kube: KubeClient, store: SnapshotStore, clock: Clock) {
  return engineSnapshot(new KubeClusterReader(kube), store, {
    clusterName: "faults",
    includeResources: ["configmaps", "secrets", "namespaces"],
    includeNamespaces: [SMALL_NS],
    pageSize: 500,
    concurrency: 2,
    clock,
  });
}

describe("two runs started in the same second", () => {
  const sameSecond = { now: () => new Date("2026-11-24T03:00:00.250Z") };

  it("get two distinct names (T and T-2), both complete and verifiable, latest.json on T-2: in a folder and in S3", async () => {
    const bucket = await s3.createBucket("faults-twice");
    const client = s3.client();
    const kube = new KubeClient(await loadKubeconfig(cluster.kubeconfig("viewer")));
    const folder = join(work, "twice");
    try {
      for (const [store, where] of [
        [new FsStore(join(folder, PREFIX)), join(folder, PREFIX)],
        [new S3Store({ client, bucket, prefix: PREFIX }), `s3://${bucket}/${PREFIX}`],
      ] as const) {
        const runs = await Promise.all([
          engineRun(kube, store, sameSecond),
          engineRun(kube, store, sameSecond),
        ]);

        expect(runs.map((r) => r.snapshot).sort(), where).toEqual([
          "2026-11-24_03-00-00",
          "2026-11-24_03-00-00-2",
        ]);
        for (const r of runs) {
          const s3Flags = where.startsWith("s3://") ? ["--endpoint", s3.endpoint] : [];
          const res = await runCli(["verify", `${where}/${r.snapshot}`, ...s3Flags], env);
          output.push(res.stdout, res.stderr);
          expect(res.code, `${where}/${r.snapshot}: ${res.stdout}`).toBe(0);
        }
        const latest = JSON.parse((await store.get("latest.json"))?.toString() ?? "{}");
        expect(latest.snapshot).toBe("2026-11-24_03-00-00-2");
      }
    } finally {
      kube.close();
      client.destroy();
    }
  });

  it("two CLI runs at once into one bucket, in the same second: T and T-2, one claim of T lost, both verifiable", async () => {
    const bucket = await s3.createBucket("faults-cli-twice");
    // The clock stands still, so both runs start in the same second whenever the test runs.
    const at = thisSecond();
    const runs = await withDateFrozen(at, () =>
      Promise.all([1, 2].map(() => s3Snapshot(bucket, ["--include-resources", "secrets", "--json"]))),
    );

    expect(runs.map((r) => r.code)).toEqual([0, 0]);
    const t = nameAt(at);
    expect(runs.map((r) => JSON.parse(r.stdout).snapshot as string).sort()).toEqual([t, `${t}-2`]);
    // Both runs claimed T; the one that lost it claimed T-2 alone.
    const claims = proxy.requests
      .filter((r) => r.op === "PutObject" && r.path.includes(`/${PREFIX}/.runs/`))
      .map((r) => r.path.slice(r.path.lastIndexOf("/") + 1).split("?")[0])
      .sort();
    expect(claims).toEqual([`${t}-2.json`, `${t}.json`, `${t}.json`]);
    for (const name of [t, `${t}-2`]) expect((await verifyS3(bucket, name)).code).toBe(0);
  });
});

describe("what is written at rest", () => {
  it("requests SSE-KMS with the given key on every PutObject and CreateMultipartUpload of a CLI run", async () => {
    const bucket = await s3.createBucket("faults-sse");
    const res = await s3Snapshot(bucket, ["--sse", "aws:kms", "--kms-key-id", KMS_KEY, "--json"]);

    expect(res.code).toBe(0);
    const summary = JSON.parse(res.stdout);
    const writes = proxy.requests.filter((r) => r.op === "PutObject" || r.op === "CreateMultipartUpload");
    // The claim, the manifest, latest.json, and every file (one of them multipart).
    expect(writes).toHaveLength(summary.totals.files + 3);
    expect(writes.filter((w) => w.op === "CreateMultipartUpload")).toHaveLength(1);
    for (const w of writes) {
      expect(w.headers["x-amz-server-side-encryption"], `${w.op} ${w.path}`).toBe("aws:kms");
      expect(w.headers["x-amz-server-side-encryption-aws-kms-key-id"], `${w.op} ${w.path}`).toBe(KMS_KEY);
    }
  });

  it("creates every file and folder of a folder snapshot owner-only, even with umask 000", async () => {
    const out = join(work, "modes", "backups");
    const umask = process.umask(0);
    try {
      for (let i = 0; i < 2; i++) {
        const res = await runCli([
          "snapshot",
          "--kubeconfig",
          cluster.kubeconfig("viewer"),
          "--out",
          out,
          "--cluster-name",
          "faults",
          "--include-namespaces",
          SMALL_NS,
          "--exclude-resources",
          "configmaps",
        ]);
        output.push(res.stdout, res.stderr);
        expect(res.code).toBe(0);
      }
    } finally {
      process.umask(umask);
    }
    const seen: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      expect((await stat(dir)).mode & 0o777, dir).toBe(0o700);
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, e.name);
        seen.push(path.slice(out.length + 1));
        if (e.isDirectory()) await walk(path);
        else expect((await stat(path)).mode & 0o777, path).toBe(0o600);
      }
    };
    await walk(out);
    expect(seen).toContain(`${PREFIX}/latest.json`);
    expect(seen.filter((p) => p.startsWith(`${PREFIX}/.runs/`))).toHaveLength(2);
    expect(seen.filter((p) => p.endsWith(`${SMALL_NS}/secrets.json`))).toHaveLength(2);
  });
});

describe("nothing secret in any output of this file", () => {
  it("has no bearer token, AWS secret key, presigned URL or planted Secret value", () => {
    const all = output.join("\n");
    expect(all.length).toBeGreaterThan(500);
    expectNothingSecret(all, { tokens: Object.values(cluster.tokens), planted: PLANTED });
  });
});
