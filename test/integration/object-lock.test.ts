// S3 Object Lock on a versitygw started with a versioning folder: a bucket created with Object Lock, every
// object of a snapshot written once with the mode and a retain-until date (CLI and Lambda), a locked
// version that cannot be deleted, and verify reporting each object's lock.
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import scheduled from "../../events/scheduled.json" with { type: "json" };
import { runCli, s3Env, s3SnapshotArgs } from "../support/cli.js";
import { type EksStandIn, startEksStandIn } from "../support/eks-standin.js";
import { invokeHandler } from "../support/handler.js";
import { sharedCluster } from "../support/shared.js";
import { type OwnedS3Server, startS3, TESTBED_AWS, TESTBED_EKS_CLUSTER } from "../support/testbed.js";

const cluster = sharedCluster();
const NS = "object-lock-e2e";
const PREFIX = "kube-aws/clusters/locked/backup";
const DAY = 86_400_000;
let s3: OwnedS3Server;
let client: S3Client;
let env: Record<string, string>;

beforeAll(async () => {
  s3 = await startS3({ versioning: true });
  client = s3.client();
  env = s3Env(s3);
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
      ],
    }),
  });
});

afterAll(async () => {
  client?.destroy();
  await s3?.stop();
});

/** `kube-autosave snapshot` of the shared cluster (namespace NS only) into `bucket`. */
async function snapshot(bucket: string, ...args: string[]) {
  const res = await runCli(
    [
      ...s3SnapshotArgs(cluster.kubeconfig("viewer"), bucket, s3),
      "--cluster-name",
      "locked",
      "--include-namespaces",
      NS,
      "--json",
      ...args,
    ],
    env,
  );
  return { ...res, summary: res.code === 0 ? JSON.parse(res.stdout) : undefined };
}

interface Version {
  readonly key: string;
  readonly versionId: string;
  readonly deleteMarker: boolean;
}

async function versions(bucket: string): Promise<Version[]> {
  const res = await client.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  return [
    ...(res.Versions ?? []).map((v) => ({
      key: v.Key ?? "",
      versionId: v.VersionId ?? "",
      deleteMarker: false,
    })),
    ...(res.DeleteMarkers ?? []).map((v) => ({
      key: v.Key ?? "",
      versionId: v.VersionId ?? "",
      deleteMarker: true,
    })),
  ].sort((a, b) => a.key.localeCompare(b.key));
}

async function retention(bucket: string, key: string): Promise<{ mode: string; until: number } | null> {
  try {
    const res = await client.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: key }));
    return {
      mode: res.Retention?.Mode ?? "",
      until: new Date(res.Retention?.RetainUntilDate ?? 0).getTime(),
    };
  } catch (err) {
    if ((err as Error).name === "NoSuchObjectLockConfiguration") return null;
    throw err;
  }
}

describe("a bucket with S3 Object Lock", () => {
  it("is created with Object Lock enabled on the versioning test bed", async () => {
    const bucket = await s3.createBucket("lock", { objectLock: true });
    const conf = await client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
    expect(conf.ObjectLockConfiguration?.ObjectLockEnabled).toBe("Enabled");
  });
});

describe("snapshot --object-lock", () => {
  let bucket: string;
  let snap: string;
  let started: number;
  let finished: number;

  beforeAll(async () => {
    bucket = await s3.createBucket("lock", { objectLock: true });
    started = Date.now();
    const res = await snapshot(bucket, "--object-lock", "governance", "--object-lock-days", "3");
    finished = Date.now();
    expect(res.code, res.stderr).toBe(0);
    snap = res.summary.snapshot;
  });

  it("writes every object inside the snapshot once, with GOVERNANCE retention until its write plus 3 days", async () => {
    const all = await versions(bucket);
    const inside = all.filter((v) => v.key.startsWith(`${PREFIX}/${snap}/`));
    expect(inside.length).toBeGreaterThan(10);
    expect(inside.filter((v) => v.deleteMarker)).toEqual([]);
    // One version per key: nothing inside the snapshot was overwritten or deleted.
    expect(new Set(inside.map((v) => v.key)).size).toBe(inside.length);
    expect(inside.map((v) => v.key)).toContain(`${PREFIX}/${snap}/manifest.json`);
    expect(inside.map((v) => v.key)).toContain(`${PREFIX}/${snap}/${NS}/configmaps.json`);
    for (const v of inside) {
      const lock = await retention(bucket, v.key);
      expect(lock?.mode, v.key).toBe("GOVERNANCE");
      // Whole seconds, rounded up, from the moment of each write.
      expect(lock?.until, v.key).toBeGreaterThanOrEqual(Math.floor(started / 1000) * 1000 + 3 * DAY);
      expect(lock?.until, v.key).toBeLessThanOrEqual(finished + 3 * DAY + 1000);
    }
  });

  it("leaves latest.json and the run's claim outside the snapshot unlocked (they may get new versions)", async () => {
    expect(await retention(bucket, `${PREFIX}/latest.json`)).toBeNull();
    expect(await retention(bucket, `${PREFIX}/.runs/${snap}.json`)).toBeNull();
  });

  it("records the lock in the manifest's options", async () => {
    const res = await runCli(
      ["verify", `s3://${bucket}/${PREFIX}/${snap}`, "--endpoint", s3.endpoint, "--json"],
      env,
    );
    expect(res.code, res.stdout).toBe(0);
    expect(JSON.parse(res.stdout).objectLock).toEqual({ mode: "GOVERNANCE", days: 3 });
  });

  it("refuses to delete a locked version; a plain delete only adds a delete marker above it", async () => {
    const key = `${PREFIX}/${snap}/${NS}/configmaps.json`;
    const [version] = (await versions(bucket)).filter((v) => v.key === key);
    const refused = await client
      .send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: version?.versionId }))
      .then(
        () => undefined,
        (err: Error & { $metadata?: { httpStatusCode?: number } }) => err,
      );
    expect(refused?.name).toBe("AccessDenied");
    expect(refused?.$metadata?.httpStatusCode).toBe(403);

    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    const after = (await versions(bucket)).filter((v) => v.key === key);
    expect(after.map((v) => v.deleteMarker).sort()).toEqual([false, true]);
    expect(after.find((v) => !v.deleteMarker)?.versionId).toBe(version?.versionId);
    const gone = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key })).then(
      () => undefined,
      (err: Error) => err.name,
    );
    expect(gone).toBe("NoSuchKey");
  });
});

describe("verify on S3 reports the locks", () => {
  it("lists each object's mode and retain-until date, and sums them up in text", async () => {
    const bucket = await s3.createBucket("lock", { objectLock: true });
    const taken = await snapshot(bucket, "--object-lock", "compliance", "--object-lock-days", "1");
    expect(taken.code, taken.stderr).toBe(0);
    const ref = `s3://${bucket}/${PREFIX}/${taken.summary.snapshot}`;

    const json = await runCli(["verify", ref, "--endpoint", s3.endpoint, "--json"], env);
    expect(json.code, json.stdout).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.problems).toEqual([]);
    const keys: string[] = report.locks.map((l: { key: string }) => l.key);
    expect(keys).toEqual([...keys].sort());
    expect(keys).toContain("manifest.json");
    expect(keys).toContain(`${NS}/configmaps.json`);
    expect(keys).toHaveLength(taken.summary.totals.files + 1);
    for (const lock of report.locks) {
      expect(lock.mode, lock.key).toBe("COMPLIANCE");
      expect(Date.parse(lock.retainUntil), lock.key).toBeGreaterThan(Date.now() + DAY - 60_000);
    }

    const text = await runCli(["verify", ref, "--endpoint", s3.endpoint], env);
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^OK s3:\/\/.* match the manifest \(status Completed\)$/);
    expect(lines[1]).toBe("object lock (the manifest says COMPLIANCE, 1 days):");
    expect(lines[2]).toMatch(
      new RegExp(
        `^  COMPLIANCE: ${taken.summary.totals.files + 1} objects, retained until \\d{4}-.*Z( … .*Z)?$`,
      ),
    );
    expect(lines).toHaveLength(3);
  });

  it("flags an object the manifest says is locked but whose current version is not (exit 1, naming the key)", async () => {
    const bucket = await s3.createBucket("lock", { objectLock: true });
    const taken = await snapshot(bucket, "--object-lock", "governance", "--object-lock-days", "2");
    expect(taken.code, taken.stderr).toBe(0);
    const snap = taken.summary.snapshot;
    // Someone puts the same bytes back without a retention: a new, unlocked current version.
    const key = `${PREFIX}/${snap}/${NS}/configmaps.json`;
    const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = Buffer.from(
      await (Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ChecksumAlgorithm: "CRC32" }),
    );

    const res = await runCli(["verify", `s3://${bucket}/${PREFIX}/${snap}`, "--endpoint", s3.endpoint], env);

    expect(res.code).toBe(1);
    const lines = res.stdout.trimEnd().split("\n");
    expect(lines.slice(0, 2)).toEqual([
      expect.stringMatching(/^FAILED s3:\/\/.*: 1 problem$/),
      `  ${NS}/configmaps.json: not locked: the manifest says the run locked every object (GOVERNANCE, 2 days)`,
    ]);
    expect(lines[2]).toBe("object lock (the manifest says GOVERNANCE, 2 days):");
    expect(lines.slice(3)).toEqual([
      expect.stringMatching(/^ {2}GOVERNANCE: \d+ objects, retained until /),
      "  not locked: 1 object",
    ]);
  });
});

describe("a lock the bucket cannot hold", () => {
  it("fails the run naming the bucket when it has no Object Lock; no manifest, no latest.json", async () => {
    const bucket = await s3.createBucket("nolock");
    const res = await snapshot(bucket, "--object-lock", "governance", "--object-lock-days", "3");
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(
      new RegExp(
        `^kube-autosave: cannot write s3://${bucket}/${PREFIX}/[0-9_-]+/[^ ]+: bucket "${bucket}" does not have S3 Object Lock enabled \\(objects with a retention need it\\)\\n$`,
      ),
    );
    const keys = (await versions(bucket)).map((v) => v.key);
    expect(keys.filter((k) => k.endsWith("/manifest.json") || k.endsWith("/latest.json"))).toEqual([]);
  });
});

describe("the Lambda with OBJECT_LOCK", () => {
  let eks: EksStandIn;
  beforeAll(async () => {
    eks = await startEksStandIn({ [TESTBED_EKS_CLUSTER]: { server: cluster.server, caPem: cluster.caPem } });
  });
  afterAll(async () => {
    await eks?.close();
  });

  it("writes every snapshot object with the stack's mode and days, and says so in the manifest", async () => {
    const bucket = await s3.createBucket("lock-lambda", { objectLock: true });
    const { result, error } = await invokeHandler(
      {
        CLUSTER_NAME: TESTBED_EKS_CLUSTER,
        AWS_REGION: TESTBED_AWS.region,
        AWS_ACCESS_KEY_ID: TESTBED_AWS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TESTBED_AWS.secretAccessKey,
        BUCKET: bucket,
        S3_ENDPOINT: s3.endpoint,
        EKS_ENDPOINT: eks.endpoint,
        INCLUDE_NAMESPACES: NS,
        OBJECT_LOCK: "governance",
        OBJECT_LOCK_DAYS: "30",
      },
      scheduled,
    );
    expect(error).toBeUndefined();
    const prefix = `kube-aws/clusters/${TESTBED_EKS_CLUSTER}/backup/${result?.snapshot}/`;
    const inside = (await versions(bucket)).filter((v) => v.key.startsWith(prefix));
    expect(inside).toHaveLength((result?.files ?? 0) + 1);
    for (const v of inside) expect((await retention(bucket, v.key))?.mode, v.key).toBe("GOVERNANCE");
    const res = await runCli(
      ["verify", `s3://${bucket}/${prefix}`, "--endpoint", s3.endpoint, "--json"],
      env,
    );
    expect(res.code, res.stdout).toBe(0);
    expect(JSON.parse(res.stdout).objectLock).toEqual({ mode: "GOVERNANCE", days: 30 });
  });
});
