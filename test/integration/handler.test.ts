// The Lambda handler end to end: EventBridge and manual events, EKS DescribeCluster (local
// stand-in) + a real STS-style token checked by kube-apiserver's token webhook, versitygw S3; and
// several clusters of one stack run at once, each against a control plane of its own.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import scheduled from "../../events/scheduled.json" with { type: "json" };
import { runCli, s3Env } from "../support/cli.js";
import { nameAt, thisSecond, withDateFrozen } from "../support/clock.js";
import { type EksStandIn, startEksStandIn } from "../support/eks-standin.js";
import { type FaultProxy, startKubeFaultProxy } from "../support/fault-proxy.js";
import { invokeConcurrently, invokeHandler } from "../support/handler.js";
import { createCa, issueCert } from "../support/pki.js";
import { sharedCluster, sharedS3 } from "../support/shared.js";
import { type OwnedCluster, startCluster, TESTBED_AWS, TESTBED_EKS_CLUSTER } from "../support/testbed.js";

const cluster = sharedCluster();
const s3 = sharedS3();
const NS = "handler-e2e";
const SECRET_VALUE = "handler-secret-value-7f3a9c";
let eks: EksStandIn;

beforeAll(async () => {
  eks = await startEksStandIn({ [TESTBED_EKS_CLUSTER]: { server: cluster.server, caPem: cluster.caPem } });
  await cluster.kubectl(["apply", "-f", "-"], {
    input: JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [
        { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } },
        {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "settings", namespace: NS },
          data: { a: "1" },
        },
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "creds", namespace: NS },
          stringData: { password: SECRET_VALUE },
        },
      ],
    }),
  });
});

afterAll(async () => {
  await eks?.close();
});

async function baseEnv(bucket: string): Promise<Record<string, string>> {
  return {
    CLUSTER_NAME: TESTBED_EKS_CLUSTER,
    AWS_REGION: TESTBED_AWS.region,
    AWS_ACCESS_KEY_ID: TESTBED_AWS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TESTBED_AWS.secretAccessKey,
    BUCKET: bucket,
    SSE_MODE: "aws:kms",
    KMS_KEY_ID: "arn:aws:kms:us-east-1:000000000000:key/testbed",
    S3_ENDPOINT: s3.endpoint,
    EKS_ENDPOINT: eks.endpoint,
    INCLUDE_NAMESPACES: NS,
    POWERTOOLS_METRICS_NAMESPACE: "KubeAutosave",
    POWERTOOLS_LOG_LEVEL: "INFO",
  };
}

async function getJson(bucket: string, key: string): Promise<any> {
  const client = s3.client();
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return JSON.parse((await res.Body?.transformToString()) ?? "null");
  } finally {
    client.destroy();
  }
}

async function keysIn(bucket: string): Promise<string[]> {
  const client = s3.client();
  const res = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  client.destroy();
  return (res.Contents ?? []).map((o) => o.Key ?? "").sort();
}

function metricsOf(json: Record<string, any>[]): Record<string, unknown> {
  const emf = json.filter((l) => l._aws?.CloudWatchMetrics);
  expect(emf).toHaveLength(1);
  const line = emf[0] as Record<string, any>;
  expect(line._aws.CloudWatchMetrics[0].Namespace).toBe("KubeAutosave");
  expect(line._aws.CloudWatchMetrics[0].Dimensions[0]).toContain("Cluster");
  return line;
}

describe("scheduled run", () => {
  it("snapshots the EKS cluster into S3 and returns the summary", async () => {
    const bucket = await s3.createBucket("handler");
    const { result, error, json, lines } = await invokeHandler(await baseEnv(bucket), scheduled);
    expect(error).toBeUndefined();
    expect(result).toMatchObject({
      status: "Completed",
      cluster: TESTBED_EKS_CLUSTER,
      trigger: "schedule",
      errors: 0,
    });
    const summary = result as { snapshot: string; location: string; files: number };
    const prefix = `kube-aws/clusters/${TESTBED_EKS_CLUSTER}/backup`;
    expect(summary.location).toBe(`s3://${bucket}/${prefix}/${summary.snapshot}`);
    const keys = await keysIn(bucket);
    expect(keys).toContain(`${prefix}/${summary.snapshot}/manifest.json`);
    expect(keys).toContain(`${prefix}/${summary.snapshot}/${NS}/configmaps.json`);
    expect(keys).toContain(`${prefix}/${summary.snapshot}/${NS}/secrets.json`);
    expect(keys).toContain(`${prefix}/latest.json`);
    expect(keys.filter((k) => k.startsWith(`${prefix}/${summary.snapshot}/`))).toHaveLength(
      summary.files + 1,
    );

    // DescribeCluster went to the stand-in, SigV4-signed; the token was accepted by the webhook.
    expect(eks.requests.at(-1)).toEqual({ cluster: TESTBED_EKS_CLUSTER, signed: true });

    // One summary line, EMF metrics with the Cluster dimension.
    const summaryLines = json.filter((l) => l.message === "snapshot summary");
    expect(summaryLines).toHaveLength(1);
    expect(summaryLines[0]).toMatchObject({
      level: "INFO",
      service: "kube-autosave",
      status: "Completed",
      cluster: TESTBED_EKS_CLUSTER,
    });
    const metrics = metricsOf(json);
    expect(metrics).toMatchObject({ Cluster: TESTBED_EKS_CLUSTER, SnapshotCompleted: 1, SnapshotErrors: 0 });
    // The figures are the run's own: those of its summary (and manifest).
    const { items, bytes, durationSeconds } = result as Record<string, number>;
    expect(items).toBeGreaterThan(0);
    expect([metrics.Items, metrics.Bytes, metrics.DurationSeconds]).toEqual([items, bytes, durationSeconds]);
    expect(summaryLines[0]).toMatchObject({ items, bytes, durationSeconds });

    // Nothing secret in any log line: no token, no Secret value (plain or base64), no AWS secret key.
    const all = lines.join("\n");
    expect(all).not.toContain("k8s-aws-v1.");
    expect(all).not.toContain(SECRET_VALUE);
    expect(all).not.toContain(Buffer.from(SECRET_VALUE).toString("base64"));
    expect(all).not.toContain(TESTBED_AWS.secretAccessKey);
  });
});

describe("manual invoke", () => {
  it("applies the event's filter override", async () => {
    const bucket = await s3.createBucket("manual");
    const { result, error } = await invokeHandler(await baseEnv(bucket), { excludeResources: ["secrets"] });
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ status: "Completed", trigger: "manual" });
    const keys = await keysIn(bucket);
    expect(keys.some((k) => k.endsWith(`${NS}/configmaps.json`))).toBe(true);
    expect(keys.some((k) => k.endsWith("/secrets.json"))).toBe(false);
  });
});

describe("refusals", () => {
  it("rejects a bad environment with every problem named, writes nothing and emits an error metric", async () => {
    const bucket = await s3.createBucket("badenv");
    const env = { ...(await baseEnv(bucket)), CLUSTER_NAME: "", PAGE_SIZE: "lots", SSE_MODE: "yes" };
    const { error, json } = await invokeHandler(env, scheduled);
    expect(error?.message).toBe(
      [
        "invalid configuration:",
        "  CLUSTER_NAME is required (the EKS cluster to back up; CLUSTER_NAMES for several)",
        '  SSE_MODE must be aws:kms, AES256 or none (got "yes")',
        "  KMS_KEY_ID is set but SSE_MODE is not aws:kms",
        '  PAGE_SIZE must be a whole number from 1 to 10000 (got "lots")',
      ].join("\n"),
    );
    expect(await keysIn(bucket)).toEqual([]);
    expect(metricsOf(json)).toMatchObject({ SnapshotCompleted: 0, SnapshotErrors: 1 });
    expect(json.find((l) => l.message === "snapshot failed")).toMatchObject({
      level: "ERROR",
      error: "ConfigError",
    });
  });

  it("rejects an event with unknown keys and writes nothing", async () => {
    const bucket = await s3.createBucket("badevent");
    const { error } = await invokeHandler(await baseEnv(bucket), { includeNamespace: ["x"] });
    expect(error?.message).toContain('unknown key "includeNamespace"');
    expect(await keysIn(bucket)).toEqual([]);
  });

  it("fails with the cluster's name when EKS does not know it", async () => {
    const bucket = await s3.createBucket("nocluster");
    const { error } = await invokeHandler({ ...(await baseEnv(bucket)), CLUSTER_NAME: "ghost" }, scheduled);
    expect(error?.message).toBe('EKS cluster "ghost" does not exist in us-east-1');
    expect(await keysIn(bucket)).toEqual([]);
  });

  it("stops before the Lambda deadline without writing a manifest", async () => {
    const bucket = await s3.createBucket("deadline");
    const env = { ...(await baseEnv(bucket)), DEADLINE_MARGIN_SECONDS: "1", INCLUDE_NAMESPACES: "*" };
    // 1 s left minus the 1 s margin: the run is stopped at its first page.
    const { error, json } = await invokeHandler(env, scheduled, 1000);
    expect(error?.name).toBe("SnapshotAbortedError");
    expect(error?.message).toMatch(
      /^snapshot stopped before it finished \(Lambda deadline in 1000 ms\); no manifest was written$/,
    );
    expect((await keysIn(bucket)).filter((k) => k.endsWith("manifest.json"))).toEqual([]);
    expect(json.find((l) => l.message === "snapshot failed")).toMatchObject({
      error: "SnapshotAbortedError",
    });
  });
});

describe("several clusters in one stack, their runs at once", () => {
  /** The second cluster of the stack: a control plane of its own, whose token webhook expects this name. */
  const OTHER = "testbed-eks-b";
  const prefixOf = (name: string) => `kube-aws/clusters/${name}/backup`;
  let other: OwnedCluster;
  let work: string;
  /** One fault proxy per control plane (only to see and hold requests; no faults). */
  const proxies: Record<string, FaultProxy> = {};
  let stack: EksStandIn;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "kube-autosave-handler-"));
    other = await startCluster({ controllerManager: false, eksClusterName: OTHER });
    await other.api("POST", "/api/v1/namespaces", { metadata: { name: NS } });
    await other.api("POST", `/api/v1/namespaces/${NS}/configmaps`, {
      metadata: { name: "settings-b" },
      data: { b: "2" },
    });
    // The proxies serve a certificate of a CA of their own; DescribeCluster hands that CA out.
    const ca = await createCa(work, "handler-proxies-ca");
    const serving = await issueCert(ca, "proxy", "/CN=proxy", { serverNames: ["127.0.0.1"] });
    for (const [name, c] of [
      [TESTBED_EKS_CLUSTER, cluster],
      [OTHER, other],
    ] as const) {
      proxies[name] = await startKubeFaultProxy({ upstream: c.server, upstreamCaPem: c.caPem, serving });
    }
    stack = await startEksStandIn({
      [TESTBED_EKS_CLUSTER]: { server: proxies[TESTBED_EKS_CLUSTER]?.url as string, caPem: ca.caPem },
      [OTHER]: { server: proxies[OTHER]?.url as string, caPem: ca.caPem },
    });
  }, 300_000);

  afterAll(async () => {
    await stack?.close();
    for (const p of Object.values(proxies)) await p.close();
    await other?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /**
   * Holds each request it is given until `n` have arrived, then lets them all go; `released` says, per
   * request, whether that happened ("all arrived") or `timeoutMs` passed first ("timed out"). Runs that
   * waited for each other could never all be held at once: theirs would time out.
   */
  function meeting(n: number, timeoutMs: number) {
    const released: string[] = [];
    let arrived = 0;
    let open: () => void = () => {};
    const all = new Promise<void>((resolve) => (open = resolve));
    const hold = async () => {
      arrived += 1;
      if (arrived === n) open();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<string>(
        (resolve) => (timer = setTimeout(() => resolve("timed out"), timeoutMs)),
      );
      released.push(await Promise.race([all.then(() => "all arrived"), timedOut]));
      clearTimeout(timer);
    };
    return { released, hold };
  }

  it("runs a schedule of each cluster and a manual run of one at once: none waits, each under its own prefix, distinct names, complete manifests", async () => {
    const bucket = await s3.createBucket("stack");
    const env = {
      ...(await baseEnv(bucket)),
      CLUSTER_NAME: undefined,
      CLUSTER_NAMES: `${TESTBED_EKS_CLUSTER},${OTHER}`,
      EKS_ENDPOINT: stack.endpoint,
    };
    // Each run's ConfigMap list is held in its cluster's proxy until all three runs are listing.
    const lists = meeting(3, 60_000);
    for (const p of Object.values(proxies)) {
      p.reset();
      p.rule({ path: /^\/api\/v1\/configmaps\?/, action: { kind: "hook", run: lists.hold } });
    }
    // The clock stands still: all three runs start in the same second, so the two runs of one cluster
    // both want the name T.
    const at = thisSecond();
    const t = nameAt(at);

    const { outcomes, json } = await withDateFrozen(at, () =>
      invokeConcurrently(env, [
        { cluster: TESTBED_EKS_CLUSTER, trigger: "schedule" },
        { cluster: OTHER, trigger: "schedule" },
        { cluster: TESTBED_EKS_CLUSTER },
      ]),
    );

    // Neither waited for the other: all three were in the middle of their lists at one moment.
    expect(lists.released).toEqual(["all arrived", "all arrived", "all arrived"]);
    expect(proxies[TESTBED_EKS_CLUSTER]?.count(/^\/api\/v1\/configmaps\?/)).toBe(2);
    expect(proxies[OTHER]?.count(/^\/api\/v1\/configmaps\?/)).toBe(1);
    expect(outcomes.map((o) => o.error)).toEqual([undefined, undefined, undefined]);
    const summaries = outcomes.map((o) => o.result as Record<string, any>);
    expect(summaries.map((r) => [r.cluster, r.trigger, r.status, r.errors])).toEqual([
      [TESTBED_EKS_CLUSTER, "schedule", "Completed", 0],
      [OTHER, "schedule", "Completed", 0],
      [TESTBED_EKS_CLUSTER, "manual", "Completed", 0],
    ]);
    // The two runs of one cluster: T and T-2 (one lost its claim of T); the other cluster's run: T.
    expect([summaries[0]?.snapshot, summaries[2]?.snapshot].sort()).toEqual([t, `${t}-2`]);
    expect(summaries[1]?.snapshot).toBe(t);
    for (const r of summaries) {
      expect(r.location).toBe(`s3://${bucket}/${prefixOf(r.cluster)}/${r.snapshot}`);
    }
    expect(stack.requests.map((r) => `${r.cluster} ${r.signed}`).sort()).toEqual([
      `${TESTBED_EKS_CLUSTER} true`,
      `${TESTBED_EKS_CLUSTER} true`,
      `${OTHER} true`,
    ]);

    // Each cluster's objects under its own prefix only: its claims, its snapshot folders, its latest.json.
    const keys = await keysIn(bucket);
    const folders = summaries.map((r) => `${prefixOf(r.cluster)}/${r.snapshot}/`);
    for (const [i, r] of summaries.entries()) {
      const folder = folders[i] as string;
      const manifest = await getJson(bucket, `${folder}manifest.json`);
      expect(manifest).toMatchObject({
        snapshot: r.snapshot,
        cluster: { name: r.cluster },
        status: "Completed",
        errors: [],
      });
      expect(keys.filter((k) => k.startsWith(folder)).map((k) => k.slice(folder.length))).toEqual(
        [...manifest.files.map((f: any) => f.key), "manifest.json"].sort(),
      );
      // Every file the manifest lists is there with its bytes and sha256.
      const verified = await runCli(
        ["verify", `s3://${bucket}/${folder.slice(0, -1)}`, "--endpoint", s3.endpoint, "--region", s3.region],
        s3Env(s3),
      );
      expect(verified.code, verified.stdout).toBe(0);
      // And it holds its own cluster's objects: the ConfigMap only that cluster has (the shared cluster's
      // controller manager adds kube-root-ca.crt; the other cluster runs none).
      const configMaps = await getJson(bucket, `${folder}${NS}/configmaps.json`);
      expect(configMaps.items.map((i: any) => i.metadata.name)).toEqual(
        r.cluster === OTHER ? ["settings-b"] : ["kube-root-ca.crt", "settings"],
      );
    }
    expect(keys.filter((k) => !folders.some((f) => k.startsWith(f)))).toEqual(
      [
        `${prefixOf(OTHER)}/.runs/${t}.json`,
        `${prefixOf(OTHER)}/latest.json`,
        `${prefixOf(TESTBED_EKS_CLUSTER)}/.runs/${t}-2.json`,
        `${prefixOf(TESTBED_EKS_CLUSTER)}/.runs/${t}.json`,
        `${prefixOf(TESTBED_EKS_CLUSTER)}/latest.json`,
      ].sort(),
    );
    expect((await getJson(bucket, `${prefixOf(TESTBED_EKS_CLUSTER)}/latest.json`)).snapshot).toBe(`${t}-2`);
    expect((await getJson(bucket, `${prefixOf(OTHER)}/latest.json`)).snapshot).toBe(t);

    // One summary line and one EMF record per run, each with its cluster.
    const lines = json
      .filter((l) => l.message === "snapshot summary")
      .map((l) => `${l.cluster} ${l.snapshot}`);
    expect(lines.sort()).toEqual(
      [`${OTHER} ${t}`, `${TESTBED_EKS_CLUSTER} ${t}`, `${TESTBED_EKS_CLUSTER} ${t}-2`].sort(),
    );
    expect(
      json
        .filter((l) => l._aws?.CloudWatchMetrics)
        .map((l) => `${l.Cluster} ${l.SnapshotCompleted}`)
        .sort(),
    ).toEqual([`${OTHER} 1`, `${TESTBED_EKS_CLUSTER} 1`, `${TESTBED_EKS_CLUSTER} 1`].sort());
  });
});
