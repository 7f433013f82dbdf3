// The Lambda handler end to end: EventBridge and manual events, EKS DescribeCluster (local
// stand-in) + a real STS-style token checked by kube-apiserver's token webhook, versitygw S3.
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import scheduled from "../../events/scheduled.json" with { type: "json" };
import { type EksStandIn, startEksStandIn } from "../support/eks-standin.js";
import { invokeHandler } from "../support/handler.js";
import { sharedCluster, sharedS3 } from "../support/shared.js";
import { TESTBED_AWS, TESTBED_EKS_CLUSTER } from "../support/testbed.js";

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
    expect(metrics.Items).toBeGreaterThan(0);
    expect(metrics.Bytes).toBeGreaterThan(0);
    expect(typeof metrics.DurationSeconds).toBe("number");

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
