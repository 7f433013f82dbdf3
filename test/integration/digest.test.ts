// The change digest on the shared cluster: two snapshots (CLI into a folder, the Lambda into S3) with
// objects added, changed and removed between them, a namespace deleted, a Secret changed and a Deployment
// scaled (its ReplicaSet and new Pod are routine, counted apart). Exact `changes` in the manifest, the
// CLI's digest text, the Lambda's summary line and EMF metrics; no Secret value anywhere.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import scheduled from "../../events/scheduled.json" with { type: "json" };
import { ROUTINE_RULES } from "../../src/snapshot/routine.js";
import { runCli } from "../support/cli.js";
import { type EksStandIn, startEksStandIn } from "../support/eks-standin.js";
import { eventually } from "../support/fixtures.js";
import { type HandlerRun, invokeHandler } from "../support/handler.js";
import { expectNothingSecret } from "../support/secrets.js";
import { sharedCluster, sharedS3 } from "../support/shared.js";
import { TESTBED_AWS, TESTBED_EKS_CLUSTER } from "../support/testbed.js";

const cluster = sharedCluster();
const s3 = sharedS3();
const KEPT = "digest-kept";
const GONE = "digest-gone";
const OLD_SECRET = "digest-old-secret-4e1f";
const NEW_SECRET = "digest-new-secret-9b2c";
const GONE_SECRET = "digest-gone-secret-77d0";
/** Only our namespaces, and only types whose objects this file controls (other files run alongside). */
const FILTERS = [
  "--include-namespaces",
  `${KEPT},${GONE}`,
  "--include-resources",
  "namespaces,configmaps,secrets,serviceaccounts,deployments.apps,replicasets.apps,pods",
];
const output: string[] = [];
let work: string;
let eks: EksStandIn;
let bucket: string;

interface Taken {
  readonly cli: { code: number; stdout: string; stderr: string };
  readonly manifest: any;
  readonly lambda: HandlerRun;
  readonly lambdaManifest: any;
}
let first: Taken;
let second: Taken;

async function apply(items: object[]): Promise<void> {
  await cluster.kubectl(["apply", "-f", "-"], {
    input: JSON.stringify({ apiVersion: "v1", kind: "List", items }),
  });
}

async function podsOf(ns: string): Promise<number> {
  const list = JSON.parse(await cluster.kubectl(["get", "pods", "-n", ns, "-o", "json"])).items;
  return list.length;
}

async function settled(ns: string): Promise<void> {
  for (const path of [`serviceaccounts/default`, `configmaps/kube-root-ca.crt`]) {
    await eventually(`${path} in ${ns}`, async () =>
      (await cluster.api("GET", `/api/v1/namespaces/${ns}/${path}`)).status === 200 ? true : undefined,
    );
  }
}

/** A snapshot with the CLI into `work` and with the Lambda into `bucket`, with the same filters. */
async function take(): Promise<Taken> {
  const cli = await runCli([
    "snapshot",
    "--kubeconfig",
    cluster.kubeconfig("viewer"),
    "--out",
    work,
    "--cluster-name",
    "digest",
    ...FILTERS,
  ]);
  output.push(cli.stdout, cli.stderr);
  expect(cli.code, cli.stderr).toBe(0);
  const name = /^Snapshot (\S+) of digest/.exec(cli.stdout)?.[1];
  const manifest = JSON.parse(
    await readFile(join(work, "kube-aws/clusters/digest/backup", name as string, "manifest.json"), "utf8"),
  );
  const lambda = await invokeHandler(
    {
      CLUSTER_NAME: TESTBED_EKS_CLUSTER,
      AWS_REGION: TESTBED_AWS.region,
      AWS_ACCESS_KEY_ID: TESTBED_AWS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TESTBED_AWS.secretAccessKey,
      BUCKET: bucket,
      S3_ENDPOINT: s3.endpoint,
      EKS_ENDPOINT: eks.endpoint,
      INCLUDE_NAMESPACES: FILTERS[1] as string,
      INCLUDE_RESOURCES: FILTERS[3] as string,
    },
    scheduled,
  );
  output.push(...lambda.lines, lambda.error?.message ?? "");
  expect(lambda.error).toBeUndefined();
  const client = s3.client();
  const got = await client.send(
    new GetObjectCommand({
      Bucket: bucket,
      Key: `kube-aws/clusters/${TESTBED_EKS_CLUSTER}/backup/${lambda.result?.snapshot}/manifest.json`,
    }),
  );
  const text = await (got.Body as { transformToString(): Promise<string> }).transformToString();
  client.destroy();
  output.push(text, JSON.stringify(manifest));
  return { cli, manifest, lambda, lambdaManifest: JSON.parse(text) };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "kube-autosave-digest-"));
  eks = await startEksStandIn({ [TESTBED_EKS_CLUSTER]: { server: cluster.server, caPem: cluster.caPem } });
  bucket = await s3.createBucket("digest");
  const labels = { app: "web" };
  await apply([
    { apiVersion: "v1", kind: "Namespace", metadata: { name: KEPT } },
    { apiVersion: "v1", kind: "Namespace", metadata: { name: GONE } },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "settings", namespace: KEPT },
      data: { color: "blue" },
    },
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "retired", namespace: KEPT }, data: { a: "1" } },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "creds", namespace: KEPT },
      type: "Opaque",
      stringData: { password: OLD_SECRET },
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: KEPT },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: "web", image: "nginx:1.27" }] } },
      },
    },
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: GONE }, data: { b: "2" } },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "y", namespace: GONE },
      type: "Opaque",
      stringData: { token: GONE_SECRET },
    },
  ]);
  await settled(KEPT);
  await settled(GONE);
  await eventually("the Deployment's Pod", async () => ((await podsOf(KEPT)) === 1 ? true : undefined));
  await eventually("the Deployment's revision", async () => {
    const d = (await cluster.api("GET", `/apis/apps/v1/namespaces/${KEPT}/deployments/web`)).body;
    return d.metadata?.annotations?.["deployment.kubernetes.io/revision"] ? true : undefined;
  });
  first = await take();

  // Between the two snapshots: one added, one changed, one removed in KEPT; the Secret's value changed;
  // the Deployment scaled (a ReplicaSet changed and a Pod added by controllers); GONE deleted.
  await apply([
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "added", namespace: KEPT }, data: { c: "3" } },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "settings", namespace: KEPT },
      data: { color: "green" },
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "creds", namespace: KEPT },
      type: "Opaque",
      stringData: { password: NEW_SECRET },
    },
  ]);
  await cluster.kubectl(["delete", "configmap", "retired", "-n", KEPT]);
  await cluster.kubectl(["scale", "deployment", "web", "-n", KEPT, "--replicas=2"]);
  await cluster.kubectl(["delete", "namespace", GONE, "--wait=true"]);
  await eventually(`namespace ${GONE} gone`, async () =>
    (await cluster.api("GET", `/api/v1/namespaces/${GONE}`)).status === 404 ? true : undefined,
  );
  await eventually("the second Pod", async () => ((await podsOf(KEPT)) === 2 ? true : undefined));
  second = await take();
}, 240_000);

afterAll(async () => {
  await eks?.close();
  await rm(work, { recursive: true, force: true });
});

const EXPECTED_RESOURCES = [
  {
    resource: "configmaps",
    namespace: GONE,
    added: 0,
    removed: 1,
    changed: 0,
    names: { added: [], removed: ["x"], changed: [] },
  },
  {
    resource: "configmaps",
    namespace: KEPT,
    added: 1,
    removed: 1,
    changed: 1,
    names: { added: ["added"], removed: ["retired"], changed: ["settings"] },
  },
  {
    resource: "deployments.apps",
    namespace: KEPT,
    added: 0,
    removed: 0,
    changed: 1,
    names: { added: [], removed: [], changed: ["web"] },
  },
  {
    resource: "namespaces",
    namespace: null,
    added: 0,
    removed: 1,
    changed: 0,
    names: { added: [], removed: [GONE], changed: [] },
  },
  {
    resource: "secrets",
    namespace: GONE,
    added: 0,
    removed: 1,
    changed: 0,
    names: { added: [], removed: ["y"], changed: [] },
  },
  {
    resource: "secrets",
    namespace: KEPT,
    added: 0,
    removed: 0,
    changed: 1,
    names: { added: [], removed: [], changed: ["creds"] },
  },
];

describe("the first snapshot", () => {
  it("records that there was nothing to compare with", () => {
    expect(first.manifest.changes).toMatchObject({
      since: null,
      compared: false,
      reason: "first snapshot here: latest.json names no earlier one",
      totals: { added: 0, removed: 0, changed: 0 },
      removedPercent: null,
    });
    // Namespaces 2, ConfigMaps 3, Secrets 2, the Deployment: 8 objects people manage.
    expect(first.manifest.changes.objects).toEqual({ now: 8, before: null });
    expect(first.cli.stdout).toContain(
      "\nChanges: not compared (first snapshot here: latest.json names no earlier one)\n",
    );
  });
});

describe("the second snapshot's digest", () => {
  it("names what people added, changed and removed, per type and namespace, the deleted namespace included", () => {
    const changes = second.manifest.changes;
    expect(changes).toMatchObject({
      since: first.manifest.snapshot,
      compared: true,
      reason: null,
      totals: { added: 1, removed: 4, changed: 3 },
      objects: { now: 5, before: 8 },
      removedPercent: 50,
      notCompared: [],
    });
    expect(changes.resources).toEqual(EXPECTED_RESOURCES);
  });

  it("counts what controllers did apart, by rule with its reason", () => {
    expect(second.manifest.changes.routine.totals).toEqual({ added: 1, removed: 2, changed: 1 });
    expect(
      second.manifest.changes.routine.rules.map((r: any) => [r.rule, r.added, r.removed, r.changed]),
    ).toEqual([
      ["controller-owned", 1, 0, 1],
      ["namespace-defaults", 0, 2, 0],
    ]);
    // Each with the reason its rule gives (src/snapshot/routine.ts).
    expect(second.manifest.changes.routine.rules.map((r: any) => r.reason)).toEqual(
      ["controller-owned", "namespace-defaults"].map((id) => ROUTINE_RULES.find((r) => r.id === id)?.reason),
    );
  });

  it("is the same for the Lambda's S3 snapshots", () => {
    const { since: _a, ...cli } = second.manifest.changes;
    const { since: lambdaSince, ...lambda } = second.lambdaManifest.changes;
    expect(lambdaSince).toBe(first.lambdaManifest.snapshot);
    expect(lambda).toEqual(cli);
  });

  it("is printed by the CLI after the summary", () => {
    const text = second.cli.stdout;
    const digest = text
      .slice(text.indexOf("\nChanges since") + 1)
      .trimEnd()
      .split("\n");
    expect(digest).toEqual([
      `Changes since ${first.manifest.snapshot}: 1 added, 4 removed, 3 changed (50% of the 8 objects before removed)`,
      `  configmaps in ${GONE}: - x`,
      `  configmaps in ${KEPT}: + added  - retired  ~ settings`,
      `  deployments.apps in ${KEPT}: ~ web`,
      `  namespaces (cluster-scoped): - ${GONE}`,
      `  secrets in ${GONE}: - y`,
      `  secrets in ${KEPT}: ~ creds`,
      "Routine, counted apart: 1 added, 2 removed, 1 changed (controller-owned +1 ~1, namespace-defaults -2)",
    ]);
  });

  it("is in the Lambda's summary line, with ObjectsAdded/Removed/Changed and the removed percentage as metrics", () => {
    const summary = second.lambda.json.find((l) => l.message === "snapshot summary");
    expect(summary?.changes).toEqual({
      since: first.lambdaManifest.snapshot,
      compared: true,
      reason: null,
      added: 1,
      removed: 4,
      changed: 3,
      removedPercent: 50,
      routine: { added: 1, removed: 2, changed: 1 },
      resources: EXPECTED_RESOURCES,
      moreResources: 0,
    });
    expect(second.lambda.result?.changes).toEqual(summary?.changes);
    const emf = second.lambda.json.filter((l) => l._aws?.CloudWatchMetrics);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({
      Cluster: TESTBED_EKS_CLUSTER,
      ObjectsAdded: 1,
      ObjectsRemoved: 4,
      ObjectsChanged: 3,
      ObjectsRemovedPercent: 50,
    });
    const names = emf[0]?._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name);
    expect(names).toEqual(expect.arrayContaining(["ObjectsAdded", "ObjectsRemoved", "ObjectsChanged"]));
  });

  it("emits no change metrics for a first snapshot", () => {
    const emf = first.lambda.json.filter((l) => l._aws?.CloudWatchMetrics);
    expect(emf[0]).not.toHaveProperty("ObjectsRemoved");
    expect(first.lambda.result?.changes).toMatchObject({ since: null, compared: false });
  });
});

describe("nothing secret", () => {
  it("never shows the Secrets' values in the digest, the manifests, the CLI output or the Lambda's log", () => {
    expectNothingSecret(output.join("\n"), { tokens: [], planted: [OLD_SECRET, NEW_SECRET, GONE_SECRET] });
  });
});
