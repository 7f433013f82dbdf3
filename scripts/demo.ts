// `npm run demo`: see kube-autosave work on this machine with no AWS account and no real cluster.
// Builds (or reuses) the test bed, starts kube-apiserver + etcd + kube-controller-manager, a local
// S3 server (versitygw) and a local EKS DescribeCluster stand-in, creates a small sample cluster,
// then runs the Lambda function locally (`serverless invoke local` with the scheduled event) and
// prints the S3 tree and the manifest summary. `npm run demo -- --cli` runs the CLI to a folder instead.
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import type { SnapshotManifest } from "../src/snapshot/manifest.js";
import { startEksStandIn } from "../test/support/eks-standin.js";
import { buildSampleCluster } from "../test/support/fixtures.js";
import { listKeys, onlySnapshot, readJson } from "../test/support/snapshot-files.js";
import { startCluster, startS3, TESTBED_AWS, TESTBED_EKS_CLUSTER } from "../test/support/testbed.js";

const run = promisify(execFile);
const cliMode = process.argv.includes("--cli");
const say = (s: string) => process.stdout.write(`\n== ${s}\n`);

function printTree(keys: string[]): void {
  for (const key of keys) process.stdout.write(`  ${key}\n`);
}

function printManifest(m: SnapshotManifest): void {
  process.stdout.write(
    `  snapshot ${m.snapshot}  status ${m.status}  cluster ${m.cluster.name} (${m.cluster.serverVersion})\n` +
      `  ${m.totals.resourceTypes} resource types, ${m.totals.files} files, ${m.totals.items} items, ${m.totals.bytes} bytes\n` +
      `  skipped: ${m.skipped.map((s) => s.resource).join(", ")}\n` +
      `  errors: ${m.errors.length === 0 ? "none" : JSON.stringify(m.errors)}\n`,
  );
}

async function main(): Promise<void> {
  say("building the test bed (first time ~10 min, then cached)");
  const { stdout } = await run("bash", ["testbed/build.sh"], { maxBuffer: 16 * 1024 * 1024 });
  process.env.KUBE_AUTOSAVE_TESTBED_BIN = stdout.trim().split("\n").pop();
  say("starting kube-apiserver v1.36.3, etcd, kube-controller-manager and versitygw on 127.0.0.1");
  const [cluster, s3] = await Promise.all([startCluster(), startS3()]);
  const eks = await startEksStandIn(
    { [TESTBED_EKS_CLUSTER]: { server: cluster.server, caPem: cluster.caPem } },
    TESTBED_AWS.region,
  );
  const work = await mkdtemp(join(tmpdir(), "kube-autosave-demo-"));
  try {
    say(
      "creating a sample cluster: 3 namespaces with workloads, services, RBAC, secrets, a CRD and custom resources",
    );
    await buildSampleCluster(cluster, { namespaces: 3, prefix: "shop" });

    if (cliMode) {
      say(`kube-autosave snapshot --out ${work}`);
      const code = await new Promise<number | null>((resolve) => {
        const child = spawn(
          process.execPath,
          [
            "bin/kube-autosave.js",
            "snapshot",
            "--kubeconfig",
            cluster.kubeconfig("viewer"),
            "--out",
            work,
            "--cluster-name",
            "demo",
          ],
          {
            stdio: "inherit",
          },
        );
        child.on("exit", resolve);
      });
      if (code !== 0) throw new Error(`kube-autosave snapshot exited ${code}`);
      const snap = await onlySnapshot(join(work, "kube-aws/clusters/demo/backup"));
      say(`files under ${snap}`);
      printTree(await listKeys(snap));
      say("manifest.json");
      printManifest(await readJson(join(snap, "manifest.json")));
      return;
    }

    const bucket = await s3.createBucket("demo");
    say(`serverless invoke local -f snapshot --path events/scheduled.json (bucket ${bucket})`);
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: TESTBED_AWS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TESTBED_AWS.secretAccessKey,
      AWS_REGION: TESTBED_AWS.region,
      SLS_TELEMETRY_DISABLED: "1",
      SLS_NOTIFICATIONS_MODE: "off",
    };
    const overrides = {
      BUCKET: bucket,
      S3_ENDPOINT: s3.endpoint,
      EKS_ENDPOINT: eks.endpoint,
      KMS_KEY_ID: "arn:aws:kms:us-east-1:000000000000:key/demo",
      CLUSTER_NAMES: TESTBED_EKS_CLUSTER,
    };
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(
        "npx",
        [
          "serverless",
          "invoke",
          "local",
          "-f",
          "snapshot",
          "--path",
          "events/scheduled.json",
          "--param",
          `cluster=${TESTBED_EKS_CLUSTER}`,
          "--region",
          TESTBED_AWS.region,
          ...Object.entries(overrides).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
        ],
        { stdio: "inherit", env },
      );
      child.on("exit", resolve);
    });
    if (code !== 0) throw new Error(`serverless invoke local exited ${code}`);
    const client = s3.client();
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((o) => `${o.Key} (${o.Size} bytes)`));
      token = page.NextContinuationToken;
    } while (token);
    say(`the S3 tree (s3://${bucket}/)`);
    printTree(keys);
    const readJsonObject = async (key: string) => {
      const res = await client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: `kube-aws/clusters/${TESTBED_EKS_CLUSTER}/backup/${key}`,
        }),
      );
      return JSON.parse((await res.Body?.transformToString()) ?? "{}");
    };
    const latest = await readJsonObject("latest.json");
    const manifest = await readJsonObject(latest.manifest);
    say("manifest.json");
    printManifest(manifest);
    client.destroy();
  } finally {
    await eks.close();
    await Promise.all([cluster.stop(), s3.stop()]);
    await rm(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`demo failed: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
