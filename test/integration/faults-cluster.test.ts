// Real faults between the tool and kube-apiserver (a fault-injecting TLS proxy in front of a cluster of
// this file's own), a real 410 from etcd compaction, a killed kube-apiserver, TLS impostors, rejected
// tokens, the Lambda's deadline, and bad configuration. Each case asserts the exact outcome: exit code or
// thrown error, files, manifest status and errors, log lines; and no output of the whole file may hold a
// token, a presigned URL, the AWS secret key or a planted Secret value.
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
} from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import scheduled from "../../events/scheduled.json" with { type: "json" };
import { KubeClient } from "../../src/kube/client.js";
import { loadKubeconfig } from "../../src/kube/kubeconfig.js";
import { KubeClusterReader } from "../../src/kube/reader.js";
import { FsStore } from "../../src/stores/fs.js";
import { runCli, s3Env } from "../support/cli.js";
import { withDateFrozen } from "../support/clock.js";
import { type EksStandIn, startEksStandIn } from "../support/eks-standin.js";
import { engineSnapshot, warningsInto } from "../support/engine.js";
import {
  type FaultProxy,
  kubeStatus,
  startKubeFaultProxy,
  startS3FaultProxy,
} from "../support/fault-proxy.js";
import { invokeHandler } from "../support/handler.js";
import { createCa, issueCert } from "../support/pki.js";
import { expectNothingSecret } from "../support/secrets.js";
import { sharedCluster, sharedS3 } from "../support/shared.js";
import { listKeys, readJson } from "../support/snapshot-files.js";
import {
  type OwnedCluster,
  restartApiserver,
  startCluster,
  startS3,
  TESTBED_AWS,
  TESTBED_EKS_CLUSTER,
} from "../support/testbed.js";

const s3 = sharedS3();
const PREFIX = "kube-aws/clusters/faults/backup";
const NAMESPACES = ["fault-a", "fault-b", "fault-c"];
/** Secret values planted in the cluster: no output may ever contain them, plain or base64. */
const PLANTED = NAMESPACES.flatMap((ns) => [1, 2].map((i) => `planted-${ns}-${i}-c0ffee`));
/** Everything the CLI and the handler printed or threw in this file, scanned at the end. */
const output: string[] = [];

let work: string;
let cluster: OwnedCluster;
let proxy: FaultProxy & { kubeconfig(source: string): Promise<string> };
/** The viewer's kubeconfig, pointing at the proxy. */
let viaProxy: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "kube-autosave-faults-cluster-"));
  cluster = await startCluster({ controllerManager: false });
  const serving = await issueCert(cluster.pki, "fault-proxy", "/CN=fault-proxy", {
    serverNames: ["127.0.0.1"],
  });
  proxy = await startKubeFaultProxy({ upstream: cluster.server, upstreamCaPem: cluster.caPem, serving });
  viaProxy = await proxy.kubeconfig(cluster.kubeconfig("viewer"));
  await cluster.kubectl(["apply", "-f", "-"], {
    input: JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [
        ...NAMESPACES.map((name) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } })),
        ...NAMESPACES.flatMap((ns) => [
          ...[1, 2, 3].map((i) => ({
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: `cm-${i}`, namespace: ns },
            data: { index: String(i), text: "x".repeat(200) },
          })),
          ...[1, 2].map((i) => ({
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: `creds-${i}`, namespace: ns },
            type: "Opaque",
            stringData: { password: `planted-${ns}-${i}-c0ffee` },
          })),
          {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "Role",
            metadata: { name: "reader", namespace: ns },
            rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"] }],
          },
        ]),
      ],
    }),
  });
}, 300_000);

afterAll(async () => {
  await proxy?.close();
  await cluster?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

afterEach(() => {
  proxy.reset();
  s3proxy?.reset();
});

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The snapshot folder (also of a failed run, if it claimed a name). */
  readonly snap: string | undefined;
  readonly manifest: any;
}

let runs = 0;

/** The arguments of a CLI snapshot of the faults cluster into `out`, through the proxy by default, pages of 2. */
function snapshotArgs(out: string, kubeconfig = viaProxy): string[] {
  return [
    "snapshot",
    "--kubeconfig",
    kubeconfig,
    "--out",
    out,
    "--cluster-name",
    "faults",
    "--page-size",
    "2",
  ];
}

/** `kube-autosave snapshot` of the faults cluster into a new folder, through the proxy by default. */
async function snapshot(options: { kubeconfig?: string; args?: string[] } = {}): Promise<Run> {
  runs += 1;
  const out = join(work, `run-${runs}`);
  const res = await runCli([...snapshotArgs(out, options.kubeconfig), ...(options.args ?? [])]);
  output.push(res.stdout, res.stderr);
  const root = join(out, PREFIX);
  const names = await readdir(root).catch(() => [] as string[]);
  const name = names.find((n) => /^\d{4}-/.test(n));
  const snap = name ? join(root, name) : undefined;
  const manifest = snap ? await readJson(join(snap, "manifest.json")).catch(() => undefined) : undefined;
  return { ...res, snap, manifest };
}

/** The engine runs of this file: this cluster's ConfigMaps, pages of 2, one type at a time. */
const CONFIGMAPS_ONE_AT_A_TIME = {
  clusterName: "faults",
  includeResources: ["configmaps"],
  pageSize: 2,
  concurrency: 1,
} as const;

/** What must be identical between two runs of an unchanged cluster: every file's key, items, bytes, sha256. */
function filesOf(manifest: any, except: (key: string) => boolean = () => false): string[] {
  return manifest.files
    .filter((f: any) => !except(f.key))
    .map((f: any) => `${f.key} ${f.items} ${f.bytes} ${f.sha256}`);
}

function resourcesOf(manifest: any): string[] {
  return manifest.resources.map((r: any) => `${r.group}/${r.resource} ${r.items}`);
}

/** The stderr lines that are retry warnings, as the path they name. */
function retriedPaths(stderr: string): string[] {
  return stderr
    .split("\n")
    .filter((l) => l.startsWith("warning: retrying a Kubernetes request"))
    .map((l) => /path=([^,]+),/.exec(l)?.[1] ?? "?")
    .sort();
}

async function verify(snap: string): Promise<{ code: number; stdout: string }> {
  const res = await runCli(["verify", snap]);
  output.push(res.stdout, res.stderr);
  return res;
}

/** Temp files of writes that never committed (none may be left behind, whatever happened). */
async function tempFiles(dir: string): Promise<string[]> {
  return (await listKeys(dir).catch(() => [] as string[])).filter((k) => /(^|\/)\..*\.tmp$/.test(k));
}

describe("transient API faults are retried and change nothing", () => {
  it("rides out 429 with Retry-After, 5xx, resets mid-body, truncated and non-JSON bodies: Completed, same files as a clean run", async () => {
    const clean = await snapshot();
    expect(clean.code).toBe(0);
    expect(clean.stderr).toBe("");
    proxy.reset();

    const throttled = proxy.rule({
      path: /^\/api\/v1\/configmaps\?limit=2$/,
      nth: [1],
      action: kubeStatus(429, "TooManyRequests", "too many requests, please try again later", {
        "retry-after": "1",
      }),
    });
    proxy.rule({
      path: /^\/api\/v1\/configmaps\?limit=2&continue=/,
      nth: [2],
      action: kubeStatus(503, "ServiceUnavailable", "the server is currently unable to handle the request"),
    });
    proxy.rule({
      path: /^\/api\/v1\/configmaps\?limit=2&continue=/,
      nth: [4],
      action: { kind: "reset", afterBytes: 64 },
    });
    proxy.rule({
      path: /^\/api\/v1\/secrets\?limit=2$/,
      nth: [1, 2],
      action: kubeStatus(500, "InternalError", "etcd leader changed"),
    });
    proxy.rule({
      path: /^\/api\/v1\/namespaces\?limit=2$/,
      nth: [1],
      action: { kind: "truncate", afterBytes: 40 },
    });
    proxy.rule({
      path: /^\/apis\/rbac\.authorization\.k8s\.io\/v1\/clusterroles\?limit=2&continue=/,
      nth: [3],
      action: {
        kind: "respond",
        status: 200,
        headers: { "content-type": "text/html" },
        body: "<html><body>502 Bad Gateway</body></html>",
      },
    });
    proxy.rule({ path: /^\/apis$/, nth: [1], action: kubeStatus(503, "ServiceUnavailable", "starting") });
    proxy.rule({ path: /^\/apis\/apps\/v1$/, nth: [1], action: { kind: "reset", afterBytes: 10 } });
    proxy.rule({
      path: /^\/version$/,
      nth: [1],
      action: kubeStatus(502, "BadGateway", "upstream connect error"),
    });

    const faulted = await snapshot();

    expect(faulted.code).toBe(0);
    expect(faulted.stdout).toContain(`Snapshot ${faulted.manifest.snapshot} of faults (v1.36.3): Completed`);
    expect(faulted.manifest).toMatchObject({ status: "Completed", errors: [] });
    expect(filesOf(faulted.manifest)).toEqual(filesOf(clean.manifest));
    expect(resourcesOf(faulted.manifest)).toEqual(resourcesOf(clean.manifest));
    expect((await verify(faulted.snap as string)).code).toBe(0);
    // One warning per fault, naming the path without its query; nothing else on stderr.
    expect(retriedPaths(faulted.stderr)).toEqual(
      [
        "/api/v1/configmaps",
        "/api/v1/configmaps",
        "/api/v1/configmaps",
        "/api/v1/namespaces",
        "/api/v1/secrets",
        "/api/v1/secrets",
        "/apis",
        "/apis/apps/v1",
        "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        "/version",
      ].sort(),
    );
    expect(faulted.stderr.split("\n").filter((l) => l && !l.startsWith("warning: retrying"))).toEqual([]);
    expect(faulted.stderr).toContain(
      "warning: retrying a Kubernetes request (path=/api/v1/configmaps, attempt=1, delayMs=1000, reason=HTTP 429: too many requests, please try again later)",
    );
    // Retry-After: 1 was honoured.
    const firstPages = proxy.requests.filter((r) => r.path === "/api/v1/configmaps?limit=2");
    expect(throttled.fired).toBe(1);
    expect(firstPages.map((r) => r.outcome)).toEqual([429, 200]);
    expect((firstPages[1]?.at ?? 0) - (firstPages[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(await tempFiles(faulted.snap as string)).toEqual([]);
  });
});

describe("lists the API server does not serve in namespace order", () => {
  it("stores every object of a list whose namespaces come mixed, by listing that type namespace by namespace", async () => {
    const clean = await snapshot();
    proxy.reset();
    // Pages of 2: [a/cm-1 a/cm-2] [a/cm-3 b/cm-1] …; the second page comes back as [b/cm-1 a/cm-3], so
    // fault-a's items arrive in two runs, as an aggregated API server may send them.
    proxy.rule({
      path: /^\/api\/v1\/configmaps\?limit=2&continue=/,
      nth: [1],
      action: {
        kind: "rewrite",
        rewrite: (body) => {
          const list = JSON.parse(body.toString("utf8"));
          list.items.reverse();
          return Buffer.from(JSON.stringify(list));
        },
      },
    });

    const run = await snapshot();

    expect(run.code).toBe(0);
    expect(run.manifest).toMatchObject({ status: "Completed", errors: [] });
    expect(filesOf(run.manifest)).toEqual(filesOf(clean.manifest));
    expect(run.stderr).toBe(
      "warning: the list mixes namespaces; listing the type namespace by namespace (resource=configmaps)\n",
    );
    const perNamespace = proxy.requests
      .map((r) => r.path)
      .filter((p) => /^\/api\/v1\/namespaces\/[^/]+\/configmaps\?/.test(p))
      .map((p) => p.split("/")[4])
      .sort();
    expect(perNamespace).toEqual([
      "default",
      "fault-a",
      "fault-a",
      "fault-b",
      "fault-b",
      "fault-c",
      "fault-c",
      "kube-node-lease",
      "kube-public",
      "kube-system",
    ]);
    expect((await verify(run.snap as string)).code).toBe(0);
  });
});

describe("a list response that breaks off after items were written", () => {
  /** The engine over the proxy, every page streamed item by item (as pages above 4 MiB are). */
  const streamedSnapshot = async (warnings: string[]) => {
    const client = new KubeClient(await loadKubeconfig(viaProxy));
    const root = await mkdtemp(join(work, "streamed-"));
    try {
      const result = await engineSnapshot(
        new KubeClusterReader(client, { bufferedPageBytes: 0 }),
        new FsStore(root),
        { ...CONFIGMAPS_ONE_AT_A_TIME, includeNamespaces: NAMESPACES, logger: warningsInto(warnings) },
      );
      return { root, result };
    } finally {
      client.close();
    }
  };

  it("restarts that type's list (a retry of the one page could mix two points in time): same files as a clean run", async () => {
    const clean = await streamedSnapshot([]);
    proxy.reset();
    // The first page holds two ConfigMaps of ~450 bytes: 700 bytes in, the first item was handed on.
    proxy.rule({
      path: /^\/api\/v1\/configmaps\?limit=2$/,
      nth: [1],
      action: { kind: "reset", afterBytes: 700 },
    });
    const warnings: string[] = [];

    const run = await streamedSnapshot(warnings);

    expect(run.result.manifest).toMatchObject({ status: "Completed", errors: [] });
    expect(filesOf(run.result.manifest)).toEqual(filesOf(clean.result.manifest));
    expect(filesOf(run.result.manifest)).toHaveLength(3);
    expect(warnings).toEqual([
      'list response broke off; restarting the list {"resource":"configmaps","attempt":1}',
    ]);
    expect(proxy.count(/^\/api\/v1\/configmaps\?limit=2$/)).toBe(2);
    expect(await tempFiles(join(run.root, run.result.snapshot))).toEqual([]);
  });

  it("retries a page cut off before any of its items was handed on, as any broken response", async () => {
    const clean = await snapshot();
    proxy.reset();
    proxy.rule({
      path: /^\/api\/v1\/configmaps\?limit=2$/,
      nth: [1],
      action: { kind: "reset", afterBytes: 700 },
    });

    const run = await snapshot();

    expect(run.code).toBe(0);
    expect(filesOf(run.manifest)).toEqual(filesOf(clean.manifest));
    expect(retriedPaths(run.stderr)).toEqual(["/api/v1/configmaps"]);
    expect(run.stderr).toContain("reason=the connection broke before the response was complete");
  });
});

describe("a type that keeps failing", () => {
  it("records a type answering 500 every time in errors after 6 attempts: PartiallyFailed, exit 3, the rest verified", async () => {
    const clean = await snapshot();
    proxy.reset();
    proxy.rule({
      path: /^\/api\/v1\/secrets\?/,
      action: kubeStatus(500, "InternalError", "etcd leader changed"),
    });

    const run = await snapshot();

    expect(run.code).toBe(3);
    expect(run.stdout).toContain(`Snapshot ${run.manifest.snapshot} of faults (v1.36.3): PartiallyFailed`);
    expect(run.manifest.status).toBe("PartiallyFailed");
    expect(run.manifest.errors).toEqual([
      {
        resource: "secrets",
        namespace: null,
        status: 500,
        message: "GET /api/v1/secrets?limit=2 failed after 6 attempts: HTTP 500: etcd leader changed",
      },
    ]);
    expect(proxy.count(/^\/api\/v1\/secrets\?/)).toBe(6);
    expect(run.stderr).toContain(
      "warning: resource type failed (resource=secrets, status=500, message=GET /api/v1/secrets?limit=2 failed after 6 attempts: HTTP 500: etcd leader changed)",
    );
    const keys = await listKeys(run.snap as string);
    expect(keys.filter((k) => k.endsWith("secrets.json"))).toEqual([]);
    expect(filesOf(run.manifest)).toEqual(filesOf(clean.manifest, (k) => k.endsWith("/secrets.json")));
    expect(run.manifest.resources.map((r: any) => r.resource)).not.toContain("secrets");
    const verified = await verify(run.snap as string);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^OK .* match the manifest \(status PartiallyFailed\)\n$/);
  });

  it("never stores a truncated, cut-off or non-JSON list as a file: each such type is an errors entry, its files removed", async () => {
    const clean = await snapshot();
    proxy.reset();
    // configmaps: pages 1-2 pass (fault-a's file is committed), every later page is cut short.
    proxy.rule({
      path: /^\/api\/v1\/configmaps\?limit=2&continue=/,
      nth: (n) => n >= 2,
      action: { kind: "truncate", afterBytes: 40 },
    });
    // secrets: the connection dies mid-body every time.
    proxy.rule({ path: /^\/api\/v1\/secrets\?/, action: { kind: "reset", afterBytes: 100 } });
    // roles: a 200 whose body is not JSON at all.
    proxy.rule({
      path: /^\/apis\/rbac\.authorization\.k8s\.io\/v1\/roles\?/,
      action: {
        kind: "respond",
        status: 200,
        headers: { "content-type": "text/html" },
        body: "<html>oops</html>",
      },
    });

    const run = await snapshot();

    expect(run.code).toBe(3);
    expect(run.manifest.status).toBe("PartiallyFailed");
    const byResource = [...run.manifest.errors].sort((a: any, b: any) =>
      a.resource.localeCompare(b.resource),
    );
    expect(byResource).toEqual([
      {
        resource: "configmaps",
        namespace: null,
        status: null,
        message:
          "GET /api/v1/configmaps?limit=2&continue=… failed after 6 attempts: HTTP 200 with a body that is not complete JSON (40 bytes)",
      },
      {
        resource: "roles.rbac.authorization.k8s.io",
        namespace: null,
        status: null,
        message:
          "GET /apis/rbac.authorization.k8s.io/v1/roles?limit=2 failed after 6 attempts: HTTP 200 with a body that is not complete JSON (17 bytes)",
      },
      {
        resource: "secrets",
        namespace: null,
        status: null,
        message: expect.stringMatching(
          /^GET \/api\/v1\/secrets\?limit=2 failed after 6 attempts: the connection broke before the response was complete/,
        ),
      },
    ]);
    const keys = await listKeys(run.snap as string);
    expect(
      keys.filter((k) => /(^|\/)(configmaps|secrets|roles\.rbac\.authorization\.k8s\.io)\.json$/.test(k)),
    ).toEqual([]);
    expect(await tempFiles(run.snap as string)).toEqual([]);
    const failed = /\/(configmaps|secrets|roles\.rbac\.authorization\.k8s\.io)\.json$/;
    expect(filesOf(run.manifest)).toEqual(filesOf(clean.manifest, (k) => failed.test(k)));
    expect((await verify(run.snap as string)).code).toBe(0);
  });
});

describe("an expired continue token (real etcd compaction between pages)", () => {
  /** Writes an object and compacts etcd: every outstanding continue token expires with a real 410. */
  const expireContinueTokens = async () => {
    await cluster.api("POST", "/api/v1/namespaces/fault-b/configmaps", {
      metadata: { generateName: "bump-" },
    });
    await cluster.compactEtcd();
  };

  async function liveConfigMaps(): Promise<string[]> {
    const list = JSON.parse(await cluster.kubectl(["get", "configmaps", "-A", "-o", "json"])).items;
    return list.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`).sort();
  }

  async function storedConfigMaps(run: Run): Promise<string[]> {
    const stored: string[] = [];
    for (const f of run.manifest.files.filter((f: any) => f.key.endsWith("/configmaps.json"))) {
      const list = await readJson(join(run.snap as string, f.key));
      stored.push(...list.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`));
    }
    return stored.sort();
  }

  it("restarts the type's list and stores each object exactly once", async () => {
    const hook = proxy.rule({
      path: /^\/api\/v1\/configmaps\?limit=2&continue=/,
      nth: [1],
      action: { kind: "hook", run: expireContinueTokens },
    });

    const run = await snapshot({ args: ["--include-resources", "configmaps"] });

    expect(hook.fired).toBe(1);
    expect(run.code).toBe(0);
    expect(run.manifest).toMatchObject({ status: "Completed", errors: [] });
    expect(run.stderr).toBe(
      "warning: continue token expired; restarting the list (resource=configmaps, attempt=1)\n",
    );
    expect(proxy.count(/^\/api\/v1\/configmaps\?limit=2$/)).toBe(2);
    const stored = await storedConfigMaps(run);
    expect(stored).toEqual(await liveConfigMaps());
    expect(new Set(stored).size).toBe(stored.length);
    expect((await verify(run.snap as string)).code).toBe(0);
  });

  it("keeps the namespaces it had finished: on an Object Lock bucket each key of the snapshot has one version", async () => {
    const locked = await startS3({ versioning: true });
    const client = locked.client();
    try {
      const bucket = await locked.createBucket("restart", { objectLock: true });
      // Pages of 2: [a/cm-1 a/cm-2] [a/cm-3 b/…] [b/… …]: fault-a's file is committed when fault-b's
      // first item arrives; the third page's request finds its continue token expired.
      const hook = proxy.rule({
        path: /^\/api\/v1\/configmaps\?limit=2&continue=/,
        nth: [2],
        action: { kind: "hook", run: expireContinueTokens },
      });
      const res = await runCli(
        [
          "snapshot",
          "--kubeconfig",
          viaProxy,
          ...["--bucket", bucket, "--endpoint", locked.endpoint, "--region", locked.region],
          ...["--cluster-name", "faults", "--page-size", "2", "--include-resources", "configmaps"],
          ...["--object-lock", "governance", "--object-lock-days", "1", "--json"],
        ],
        s3Env(locked),
      );
      output.push(res.stdout, res.stderr);

      expect(hook.fired).toBe(1);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stderr).toBe(
        "warning: continue token expired; restarting the list (resource=configmaps, attempt=1)\n",
      );
      const snap: string = JSON.parse(res.stdout).snapshot;
      const listed = await client.send(
        new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `${PREFIX}/${snap}/` }),
      );
      expect(listed.DeleteMarkers ?? []).toEqual([]);
      const keys = (listed.Versions ?? []).map((v) => v.Key?.slice(PREFIX.length + snap.length + 2)).sort();
      // One version per key: fault-a's file from before the restart was neither written again nor deleted.
      const live = await liveConfigMaps();
      const namespaces = [...new Set(live.map((name) => name.split("/")[0]))];
      expect(namespaces).toEqual(expect.arrayContaining(NAMESPACES));
      expect(keys).toEqual([...namespaces.map((ns) => `${ns}/configmaps.json`), "manifest.json"].sort());
      const stored: string[] = [];
      for (const key of keys.filter((k) => k?.endsWith("/configmaps.json"))) {
        const got = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: `${PREFIX}/${snap}/${key}` }),
        );
        const list = JSON.parse(
          await (got.Body as { transformToString(): Promise<string> }).transformToString(),
        );
        stored.push(...list.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`));
      }
      expect(stored.sort()).toEqual(live);
      const verified = await runCli(
        ["verify", `s3://${bucket}/${PREFIX}/${snap}`, "--endpoint", locked.endpoint],
        s3Env(locked),
      );
      output.push(verified.stdout, verified.stderr);
      expect(verified.code, verified.stdout).toBe(0);
    } finally {
      client.destroy();
      await locked.stop();
    }
  });

  it("gives up after 3 restarts: the type is an errors entry with status 410 and none of its files stay", async () => {
    proxy.rule({
      path: /^\/api\/v1\/configmaps\?limit=2&continue=/,
      action: { kind: "hook", run: expireContinueTokens },
    });

    // One type at a time: a compaction also expires the continue token of any other list in progress.
    const run = await snapshot({ args: ["--include-resources", "configmaps,secrets", "--concurrency", "1"] });

    expect(run.code).toBe(3);
    expect(run.manifest.errors).toEqual([
      {
        resource: "configmaps",
        namespace: null,
        status: 410,
        message: "GET /api/v1/configmaps?limit=2&continue=…: the list's continue token expired (410)",
      },
    ]);
    expect(proxy.count(/^\/api\/v1\/configmaps\?limit=2$/)).toBe(4);
    expect(run.stderr.match(/continue token expired; restarting the list/g)).toHaveLength(3);
    expect((await listKeys(run.snap as string)).filter((k) => k.endsWith("configmaps.json"))).toEqual([]);
    expect(run.manifest.files.map((f: any) => f.key)).toEqual(NAMESPACES.map((ns) => `${ns}/secrets.json`));
    expect((await verify(run.snap as string)).code).toBe(0);
  });
});

describe("kube-apiserver killed in the middle of a run", () => {
  it("fails the run (exit 1, no manifest, the server named); once it is back, the next run completes", async () => {
    const kill = proxy.rule({
      path: /^\/api\/v1\/configmaps\?limit=2&continue=/,
      nth: [1],
      action: { kind: "hook", run: () => cluster.apiserver.kill() },
    });
    const out = join(work, "killed");
    const args = snapshotArgs(out);

    let failed: Awaited<ReturnType<typeof runCli>>;
    try {
      failed = await runCli(args);
    } finally {
      // Whatever the outcome, the rest of this file needs the server back.
      proxy.reset();
      await restartApiserver(cluster);
    }
    output.push(failed.stdout, failed.stderr);

    expect(kill.fired).toBe(1);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe("");
    // The proxy drops the connection of every request the dead server cannot take (RST, as a TCP load balancer).
    const lastLine = failed.stderr.trimEnd().split("\n").at(-1);
    expect(lastLine).toBe(
      `kube-autosave: cannot reach ${proxy.url} (testbed) after 6 attempts: ECONNRESET: read ECONNRESET`,
    );
    const keys = await listKeys(join(out, PREFIX));
    expect(keys.filter((k) => k.endsWith("manifest.json") || k === "latest.json")).toEqual([]);
    expect(keys.filter((k) => /(^|\/)\..*\.tmp$/.test(k))).toEqual([]);
    const listed = await runCli(["list", join(out, PREFIX), "--json"]);
    expect(JSON.parse(listed.stdout).entries.map((e: any) => e.status)).toEqual(["incomplete"]);

    const next = await runCli([...args, "--json"]);
    output.push(next.stdout, next.stderr);

    expect(next.code).toBe(0);
    const summary = JSON.parse(next.stdout);
    expect(summary).toMatchObject({ status: "Completed", errors: [] });
    const listedAfter = JSON.parse((await runCli(["list", join(out, PREFIX), "--json"])).stdout);
    expect(listedAfter.entries.map((e: any) => e.status)).toEqual(["incomplete", "Completed"]);
    expect(listedAfter.latest).toBe(summary.snapshot);
    expect((await verify(join(out, PREFIX, summary.snapshot))).code).toBe(0);
  });
});

describe("Ctrl-C and SIGTERM", () => {
  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)(
    "%s stops a snapshot cleanly: requests cancelled, no manifest, no temp file, one line, exit %i",
    async (signal, exitCode) => {
      // The configmaps list hangs in the proxy (60 s); `listing` resolves when it arrives there.
      let arrived: () => void = () => {};
      const listing = new Promise<void>((resolve) => (arrived = resolve));
      proxy.rule({
        path: /^\/api\/v1\/configmaps\?limit=2$/,
        action: {
          kind: "hook",
          run: async () => arrived(),
          // biome-ignore lint/suspicious/noThenProperty: FaultAction's follow-up action (fault-proxy.ts)
          then: { kind: "stall", ms: 60_000 },
        },
      });
      const out = await mkdtemp(join(work, `${signal}-`));
      const child = spawn(process.execPath, ["bin/kube-autosave.js", ...snapshotArgs(out)], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { PATH: process.env.PATH, HOME: "/nonexistent-home" },
      });
      let stderr = "";
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      // Signal it once the configmaps list hangs in the proxy: the run is in the middle of its lists.
      const first = await Promise.race([listing.then(() => "listing"), exited.then((c) => `exited ${c}`)]);
      expect(first, stderr).toBe("listing");
      child.kill(signal);

      const code = await exited;

      output.push(stderr);
      expect(code).toBe(exitCode);
      // The hanging list was given up before its stall ended (it would then have been answered: 200).
      expect(
        proxy.requests.filter((r) => r.path === "/api/v1/configmaps?limit=2").map((r) => r.outcome),
      ).toEqual(["client-gone"]);
      expect(stderr.split("\n").filter(Boolean).at(-1)).toBe(
        `kube-autosave: stopped by ${signal}: snapshot stopped before it finished (interrupted (${signal})); no manifest was written`,
      );
      const keys = await listKeys(out);
      expect(keys.filter((k) => k.endsWith("manifest.json") || k.endsWith("latest.json"))).toEqual([]);
      expect(await tempFiles(out)).toEqual([]);
    },
  );
});

describe("stalled requests", () => {
  it("abandons a request that gets no answer within the client's timeout and retries it", async () => {
    const stall = proxy.rule({
      path: /^\/api\/v1\/configmaps\?limit=2$/,
      nth: [1],
      action: { kind: "stall", ms: 30_000 },
    });
    const client = new KubeClient(await loadKubeconfig(viaProxy), { requestTimeoutMs: 1_000 });
    const root = join(work, "stalled");
    try {
      const result = await engineSnapshot(new KubeClusterReader(client), new FsStore(root), {
        ...CONFIGMAPS_ONE_AT_A_TIME,
        includeNamespaces: ["*"],
      });
      expect(result.manifest.status).toBe("Completed");
    } finally {
      client.close();
    }
    expect(stall.fired).toBe(1);
    // Given up before the 30 s stall ended (it would then have been answered: 200), then sent again.
    expect(
      proxy.requests.filter((r) => r.path === "/api/v1/configmaps?limit=2").map((r) => r.outcome),
    ).toEqual(["client-gone", 200]);
  });
});

describe("TLS is never skipped", () => {
  async function impostor(serving: { certPem: string; keyPem: string }) {
    const fake = await startKubeFaultProxy({
      upstream: cluster.server,
      upstreamCaPem: cluster.caPem,
      serving,
    });
    return { fake, kubeconfig: await fake.kubeconfig(cluster.kubeconfig("viewer")) };
  }

  it("refuses a self-signed server and one whose certificate names another host; no request (no token) reaches them", async () => {
    const selfSigned = await createCa(await mkdtemp(join(work, "self-")), "127.0.0.1");
    const selfKey = await readFile(selfSigned.caKey, "utf8");
    const wrongName = await issueCert(cluster.pki, "wrong-name", "/CN=wrong-name", {
      serverNames: ["kubernetes.default"],
    });
    for (const [serving, code] of [
      [{ certPem: selfSigned.caPem, keyPem: selfKey }, "DEPTH_ZERO_SELF_SIGNED_CERT"],
      [wrongName, "ERR_TLS_CERT_ALTNAME_INVALID"],
    ] as const) {
      const { fake, kubeconfig } = await impostor(serving);
      try {
        const out = join(work, `impostor-${code}`);
        const res = await runCli(["snapshot", "--kubeconfig", kubeconfig, "--out", out]);
        output.push(res.stdout, res.stderr);

        expect(res.code, code).toBe(1);
        expect(res.stderr).toBe(
          `kube-autosave: TLS verification of ${fake.url} (testbed) failed: ${code}; check the cluster CA\n`,
        );
        expect(fake.requests).toEqual([]);
        expect(await listKeys(out).catch(() => [])).toEqual([]);
      } finally {
        await fake.close();
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// The Lambda handler

let eks: EksStandIn;
let s3proxy: FaultProxy;

beforeAll(async () => {
  s3proxy = await startS3FaultProxy({ upstream: s3.endpoint });
  eks = await startEksStandIn({ [TESTBED_EKS_CLUSTER]: { server: proxy.url, caPem: cluster.caPem } });
});

afterAll(async () => {
  await eks?.close();
  await s3proxy?.close();
});

function lambdaEnv(bucket: string): Record<string, string> {
  return {
    CLUSTER_NAME: TESTBED_EKS_CLUSTER,
    AWS_REGION: TESTBED_AWS.region,
    AWS_ACCESS_KEY_ID: TESTBED_AWS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TESTBED_AWS.secretAccessKey,
    BUCKET: bucket,
    SSE_MODE: "aws:kms",
    KMS_KEY_ID: "arn:aws:kms:us-east-1:000000000000:key/faults",
    S3_ENDPOINT: s3proxy.url,
    EKS_ENDPOINT: eks.endpoint,
    POWERTOOLS_METRICS_NAMESPACE: "KubeAutosave",
    POWERTOOLS_LOG_LEVEL: "INFO",
  };
}

/** Invokes the handler (test/support/handler.ts) and keeps its output for this file's secret scan. */
async function invoke(env: Record<string, string | undefined>, event: unknown, remainingMs = 900_000) {
  const run = await invokeHandler(env, event, remainingMs);
  output.push(...run.lines, run.error?.message ?? "", JSON.stringify(run.result ?? null));
  return run;
}

async function bucketKeys(bucket: string): Promise<string[]> {
  const client = s3.client();
  try {
    const res = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    return (res.Contents ?? []).map((o) => o.Key ?? "").sort();
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

describe("Lambda: through both proxies", () => {
  it("requests SSE-KMS with the configured key on every PutObject and CreateMultipartUpload of a run", async () => {
    const bucket = await s3.createBucket("faults-sse");
    const { result, error } = await invoke(lambdaEnv(bucket), scheduled);

    expect(error).toBeUndefined();
    expect(result).toMatchObject({ status: "Completed", errors: 0 });
    const writes = s3proxy.requests.filter((r) => r.op === "PutObject" || r.op === "CreateMultipartUpload");
    // The claim, one PutObject per file, the manifest and latest.json.
    expect(writes.length).toBe((result?.files as number) + 3);
    for (const w of writes) {
      expect(w.headers["x-amz-server-side-encryption"], w.path).toBe("aws:kms");
      expect(w.headers["x-amz-server-side-encryption-aws-kms-key-id"], w.path).toBe(
        "arn:aws:kms:us-east-1:000000000000:key/faults",
      );
    }
  });

  it("stops at the deadline even while a request is stalled: no manifest, no open upload, one clear log line", async () => {
    const bucket = await s3.createBucket("faults-deadline");
    const stall = proxy.rule({ path: /^\/api\/v1\/configmaps\?/, action: { kind: "stall", ms: 120_000 } });

    // 5 s left, 1 s margin: the run is stopped 4 s in, while the configmaps list hangs.
    const { error, json } = await invoke(
      { ...lambdaEnv(bucket), DEADLINE_MARGIN_SECONDS: "1" },
      scheduled,
      5000,
    );

    expect(stall.fired).toBe(1);
    expect(error?.name).toBe("SnapshotAbortedError");
    expect(error?.message).toBe(
      "snapshot stopped before it finished (Lambda deadline in 1000 ms); no manifest was written",
    );
    expect(json.filter((l) => l.level === "ERROR")).toEqual([
      expect.objectContaining({
        message: "snapshot failed",
        error: "SnapshotAbortedError",
        errorMessage:
          "snapshot stopped before it finished (Lambda deadline in 1000 ms); no manifest was written",
        cluster: TESTBED_EKS_CLUSTER,
      }),
    ]);
    expect(
      (await bucketKeys(bucket)).filter((k) => k.endsWith("manifest.json") || k.endsWith("latest.json")),
    ).toEqual([]);
    expect(await openUploads(bucket)).toBe(0);
    // The stalled list was cancelled at the deadline, not answered when its 120 s stall ended.
    expect(
      proxy.requests.filter((r) => r.path.startsWith("/api/v1/configmaps?")).map((r) => r.outcome),
    ).toEqual(["client-gone"]);
  });

  it("stops at the deadline even while an S3 part upload is stalled, and aborts the multipart upload", async () => {
    const bucket = await s3.createBucket("faults-deadline-s3");
    // ~9 MB of ConfigMaps: more than one 5 MiB part, so the file goes up as a multipart upload.
    await cluster.api("POST", "/api/v1/namespaces", { metadata: { name: "fault-big" } });
    for (let i = 0; i < 10; i++) {
      await cluster.api("POST", "/api/v1/namespaces/fault-big/configmaps", {
        metadata: { name: `blob-${i}` },
        data: { blob: String(i).repeat(900_000) },
      });
    }
    const stall = s3proxy.rule({ op: "UploadPart", action: { kind: "stall", ms: 120_000 } });
    try {
      const env = {
        ...lambdaEnv(bucket),
        DEADLINE_MARGIN_SECONDS: "1",
        INCLUDE_NAMESPACES: "fault-big",
        INCLUDE_RESOURCES: "configmaps",
      };
      // 6 s left, 1 s margin: stopped 5 s in, while the parts hang.
      const { error, json } = await invoke(env, scheduled, 6000);

      // Every part sent hung in the proxy and was cancelled at the deadline, not answered when its 120 s
      // stall ended: part 1, and part 2 when the rest of the file was read in time.
      const parts = s3proxy.requests.filter((r) => r.op === "UploadPart");
      expect(parts.map((r) => r.outcome)).toEqual(parts.map(() => "client-gone"));
      expect(parts.map((r) => new URL(r.path, "http://x").searchParams.get("partNumber")).sort()).toEqual(
        ["1", "2"].slice(0, stall.fired),
      );
      expect(stall.fired).toBeGreaterThanOrEqual(1);
      expect(error?.name).toBe("SnapshotAbortedError");
      expect(error?.message).toBe(
        "snapshot stopped before it finished (Lambda deadline in 1000 ms); no manifest was written",
      );
      expect(json.find((l) => l.message === "snapshot failed")).toMatchObject({
        error: "SnapshotAbortedError",
      });
      expect(
        (await bucketKeys(bucket)).filter(
          (k) => k.endsWith("manifest.json") || k.endsWith("configmaps.json"),
        ),
      ).toEqual([]);
      expect(s3proxy.requests.filter((r) => r.op === "AbortMultipartUpload").map((r) => r.outcome)).toEqual([
        204,
      ]);
      expect(await openUploads(bucket)).toBe(0);
    } finally {
      await cluster.api("DELETE", "/api/v1/namespaces/fault-big/configmaps");
    }
  });
});

describe("Lambda: credentials the cluster rejects", () => {
  const shared = sharedCluster();
  let sharedEks: EksStandIn;
  beforeAll(async () => {
    sharedEks = await startEksStandIn({
      [TESTBED_EKS_CLUSTER]: { server: shared.server, caPem: shared.caPem },
    });
  });
  afterAll(async () => {
    await sharedEks?.close();
  });

  const rejected = () =>
    `${shared.server} (${TESTBED_EKS_CLUSTER}) rejected the credentials (401 Unauthorized): the token or client certificate is invalid or expired`;

  it("says 401 for an EKS token that expired (signed 20 minutes ago), writes nothing", async () => {
    const bucket = await s3.createBucket("faults-expired");
    const outcome = await withDateFrozen(new Date(Date.now() - 20 * 60_000), () =>
      invoke({ ...lambdaEnv(bucket), EKS_ENDPOINT: sharedEks.endpoint }, scheduled),
    );
    expect(outcome.error?.name).toBe("ClusterUnreachableError");
    expect(outcome.error?.message).toBe(rejected());
    expect(outcome.json.find((l) => l.message === "snapshot failed")).toMatchObject({
      errorMessage: rejected(),
    });
    expect(await bucketKeys(bucket)).toEqual([]);
  });

  it("says 401 for a token signed with the wrong secret key, and never prints that key", async () => {
    const bucket = await s3.createBucket("faults-badkey");
    const wrong = "wrong-secret-key-for-faults-0123456789";
    const { error } = await invoke(
      { ...lambdaEnv(bucket), EKS_ENDPOINT: sharedEks.endpoint, AWS_SECRET_ACCESS_KEY: wrong },
      scheduled,
    );
    expect(error?.message).toBe(rejected());
    expect(output.join("\n")).not.toContain(wrong);
    expect(await bucketKeys(bucket)).toEqual([]);
  });
});

describe("bad configuration, events and flags: every problem in one message, nothing written or sent", () => {
  const GLOB_HINT = " (use lowercase letters, digits, '-', '.', '*', '?')";

  async function expectNothingHappened(bucket: string): Promise<void> {
    expect(await bucketKeys(bucket)).toEqual([]);
    expect(proxy.requests).toEqual([]);
    expect(s3proxy.requests.filter((r) => r.path.includes(bucket))).toEqual([]);
  }

  it("names every missing variable", async () => {
    const bucket = await s3.createBucket("faults-env-missing");
    const requestsBefore = eks.requests.length;
    const env = { ...lambdaEnv(bucket), CLUSTER_NAME: undefined, AWS_REGION: undefined, BUCKET: undefined };
    const { error, json } = await invoke(env, scheduled);
    expect(error?.name).toBe("ConfigError");
    expect(error?.message).toBe(
      [
        "invalid configuration:",
        "  CLUSTER_NAME is required (the EKS cluster to back up; CLUSTER_NAMES for several)",
        '  AWS_REGION must be an AWS region such as eu-west-1 (got "")',
        "  BUCKET is required (the S3 bucket for snapshots)",
      ].join("\n"),
    );
    expect(json.find((l) => l.message === "snapshot failed")).toMatchObject({ error: "ConfigError" });
    expect(eks.requests.length).toBe(requestsBefore);
    await expectNothingHappened(bucket);
  });

  it("names every variable of the wrong type", async () => {
    const bucket = await s3.createBucket("faults-env-type");
    const env = {
      ...lambdaEnv(bucket),
      PAGE_SIZE: "lots",
      CONCURRENCY: "2.5",
      DEADLINE_MARGIN_SECONDS: "-1",
      SSE_MODE: "true",
      KMS_KEY_ID: undefined,
      S3_ENDPOINT: "not a url",
      EKS_ENDPOINT: "ftp://127.0.0.1/",
      INCLUDE_NAMESPACES: "Kube_System",
    };
    const { error } = await invoke(env, scheduled);
    expect(error?.message).toBe(
      [
        "invalid configuration:",
        '  SSE_MODE must be aws:kms, AES256 or none (got "true")',
        `  INCLUDE_NAMESPACES: "Kube_System" is not a valid namespace name or glob${GLOB_HINT}`,
        '  PAGE_SIZE must be a whole number from 1 to 10000 (got "lots")',
        '  CONCURRENCY must be a whole number from 1 to 32 (got "2.5")',
        '  DEADLINE_MARGIN_SECONDS must be a whole number from 1 to 600 (got "-1")',
        '  S3_ENDPOINT must be an http(s) URL (got "not a url")',
        '  EKS_ENDPOINT must be an http(s) URL (got "ftp://127.0.0.1/")',
      ].join("\n"),
    );
    await expectNothingHappened(bucket);
  });

  it("names every variable out of range", async () => {
    const bucket = await s3.createBucket("faults-env-range");
    const env = {
      ...lambdaEnv(bucket),
      CLUSTER_NAME: `c${"x".repeat(100)}`,
      BUCKET: "ab",
      PAGE_SIZE: "0",
      CONCURRENCY: "33",
      DEADLINE_MARGIN_SECONDS: "601",
    };
    const { error } = await invoke(env, scheduled);
    expect(error?.message).toBe(
      [
        "invalid configuration:",
        `  CLUSTER_NAME "c${"x".repeat(100)}" is not a valid EKS cluster name`,
        '  BUCKET "ab" is not a valid S3 bucket name',
        '  PAGE_SIZE must be a whole number from 1 to 10000 (got "0")',
        '  CONCURRENCY must be a whole number from 1 to 32 (got "33")',
        '  DEADLINE_MARGIN_SECONDS must be a whole number from 1 to 600 (got "601")',
      ].join("\n"),
    );
    await expectNothingHappened(bucket);
  });

  it("names every bad field of a manual event", async () => {
    const bucket = await s3.createBucket("faults-event");
    const { error } = await invoke(lambdaEnv(bucket), {
      cluster: 5,
      trigger: "nightly",
      raw: "yes",
      includeNamespaces: "fault-a",
      excludeNamespaces: [],
      includeResources: [1],
      excludeResources: ["Not A Resource"],
      namespaces: ["fault-a"],
    });
    expect(error?.name).toBe("ConfigError");
    expect(error?.message).toBe(
      [
        "invalid event:",
        '  unknown key "namespaces" (allowed: cluster, trigger, includeNamespaces, excludeNamespaces, includeResources, excludeResources, raw)',
        "  cluster must be a string",
        "  includeNamespaces must be a non-empty array of strings",
        "  excludeNamespaces must be a non-empty array of strings",
        "  includeResources must be a non-empty array of strings",
        `  excludeResources: "Not A Resource" is not a valid resource name or glob${GLOB_HINT}`,
        "  raw must be true or false",
        '  trigger must be "schedule" or "manual"',
      ].join("\n"),
    );
    await expectNothingHappened(bucket);
  });

  it("names every bad flag of the CLI, exits 2 and sends nothing", async () => {
    const out = join(work, "bad-flags");
    const res = await runCli([
      "snapshot",
      "--kubeconfig",
      viaProxy,
      "--out",
      out,
      "--bucket",
      "Bad_Bucket",
      "--endpoint",
      "ftp://127.0.0.1",
      "--sse",
      "yes",
      "--kms-key-id",
      "k",
      "--cluster-name",
      "bad name",
      "--prefix",
      "a/../b",
      "--page-size",
      "0",
      "--concurrency",
      "1.5",
      "--include-namespaces",
      "Bad_NS",
      "--exclude-resources",
      "Not A Resource",
      "extra",
    ]);
    output.push(res.stdout, res.stderr);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe("");
    expect(res.stderr).toBe(
      [
        "kube-autosave: snapshot takes no arguments (got extra)",
        `  --exclude-resources: "Not A Resource" is not a valid resource name or glob${GLOB_HINT}`,
        `  --include-namespaces: "Bad_NS" is not a valid namespace name or glob${GLOB_HINT}`,
        "  --out and --bucket cannot be used together (choose a folder or S3)",
        '  --bucket "Bad_Bucket" is not a valid S3 bucket name',
        '  --endpoint "ftp://127.0.0.1" is not an http(s) URL',
        '  --sse must be AES256 or aws:kms (got "yes")',
        "  --kms-key-id requires --sse aws:kms",
        `  --cluster-name "bad name" must be letters, digits, '.', '_' or '-' (it becomes part of the prefix)`,
        "  --prefix \"a/../b\" must not contain '.', '..' or empty segments",
        '  --page-size must be a whole number from 1 to 10000 (got "0")',
        '  --concurrency must be a whole number from 1 to 32 (got "1.5")',
        "Run 'kube-autosave --help' for usage.",
        "",
      ].join("\n"),
    );
    expect(await listKeys(out).catch(() => "absent")).toBe("absent");
    expect(proxy.requests).toEqual([]);
  });

  it("names a flag given without its value and an empty one", async () => {
    const missing = await runCli(["snapshot", "--kubeconfig", viaProxy, "--page-size"]);
    const empty = await runCli(["snapshot", "--kubeconfig", "", "--out", join(work, "empty")]);
    output.push(missing.stderr, empty.stderr);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("Option '--page-size <value>' argument missing");
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("--kubeconfig must not be empty");
    expect(proxy.requests).toEqual([]);
  });
});

describe("nothing secret in any output of this file", () => {
  it("has no bearer token, EKS token, presigned URL, AWS secret key or planted Secret value", () => {
    const all = output.join("\n");
    expect(all.length).toBeGreaterThan(1000);
    expectNothingSecret(all, { tokens: Object.values(cluster.tokens), planted: PLANTED });
  });
});
