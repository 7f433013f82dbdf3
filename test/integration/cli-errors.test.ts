// Bad input to `kube-autosave snapshot`: one clear message naming the problem, a non-zero exit,
// and nothing written that looks like a snapshot.
import { existsSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli, s3Env, s3SnapshotArgs } from "../support/cli.js";
import { nameAt, thisSecond, withDateFrozen } from "../support/clock.js";
import { createCa } from "../support/pki.js";
import { freePort } from "../support/process.js";
import { sharedCluster, sharedS3 } from "../support/shared.js";
import { listKeys } from "../support/snapshot-files.js";

const cluster = sharedCluster();
const s3 = sharedS3();
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "kube-autosave-cli-errors-"));
});

async function kubeconfigWith(name: string, mutate: (kc: any) => void): Promise<string> {
  const kc = JSON.parse(await readFile(cluster.kubeconfig("viewer"), "utf8"));
  mutate(kc);
  const path = join(work, `${name}.kubeconfig`);
  await writeFile(path, JSON.stringify(kc));
  return path;
}

async function expectNothingWritten(out: string): Promise<void> {
  if (!existsSync(out)) return;
  const keys = await listKeys(out);
  expect(
    keys.filter((k) => k.endsWith("manifest.json") || (k.endsWith(".json") && !k.includes(".runs/"))),
  ).toEqual([]);
}

describe("snapshot refuses bad input with one clear message", () => {
  it("names an unknown flag and exits 2", async () => {
    const res = await runCli(["snapshot", "--out", join(work, "x"), "--everything"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toBe(
      "kube-autosave: Unknown option '--everything'\nRun 'kube-autosave --help' for usage.\n",
    );
  });

  it("names a bad glob and exits 2", async () => {
    const res = await runCli(["snapshot", "--exclude-namespaces", "Kube_System"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toBe(
      `kube-autosave: --exclude-namespaces: "Kube_System" is not a valid namespace name or glob (use lowercase letters, digits, '-', '.', '*', '?')\nRun 'kube-autosave --help' for usage.\n`,
    );
  });

  it("names a missing kubeconfig file", async () => {
    const out = join(work, "missing-kc");
    const res = await runCli(["snapshot", "--kubeconfig", join(work, "nope.kubeconfig"), "--out", out]);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`kube-autosave: kubeconfig ${join(work, "nope.kubeconfig")} does not exist\n`);
    expect(existsSync(out)).toBe(false);
  });

  it("names a context that is not in the kubeconfig, listing the ones that are", async () => {
    const res = await runCli([
      "snapshot",
      "--kubeconfig",
      cluster.kubeconfig("viewer"),
      "--context",
      "prod",
      "--out",
      join(work, "ctx"),
    ]);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      `kube-autosave: kubeconfig ${cluster.kubeconfig("viewer")} has no context "prod" (contexts: testbed)\n`,
    );
  });

  it("refuses a kubeconfig that turns off TLS verification", async () => {
    const path = await kubeconfigWith("insecure", (kc) => {
      kc.clusters[0].cluster["insecure-skip-tls-verify"] = true;
      delete kc.clusters[0].cluster["certificate-authority"];
    });
    const res = await runCli(["snapshot", "--kubeconfig", path, "--out", join(work, "insecure")]);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      `kube-autosave: kubeconfig ${path}: cluster "testbed" sets insecure-skip-tls-verify; kube-autosave always verifies TLS — add certificate-authority(-data)\n`,
    );
  });

  it("says the server cannot be reached, naming it, and writes nothing", async () => {
    const port = await freePort();
    const path = await kubeconfigWith("unreachable", (kc) => {
      kc.clusters[0].cluster.server = `https://127.0.0.1:${port}`;
    });
    const out = join(work, "unreachable");
    const res = await runCli(["snapshot", "--kubeconfig", path, "--out", out]);
    expect(res.code).toBe(1);
    // Five retries (their jittered delays vary), then one line naming the server.
    const refused = `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port}`;
    expect(res.stderr.replace(/delayMs=\d+/g, "delayMs=…")).toBe(
      [
        ...[1, 2, 3, 4, 5].map(
          (n) =>
            `warning: retrying a Kubernetes request (path=/version, attempt=${n}, delayMs=…, reason=${refused})`,
        ),
        `kube-autosave: cannot reach https://127.0.0.1:${port} (testbed) after 6 attempts: ${refused}`,
        "",
      ].join("\n"),
    );
    await expectNothingWritten(out);
  });

  it("refuses a server whose certificate is not signed by the kubeconfig's CA", async () => {
    const other = await createCa(await mkdtemp(join(work, "other-ca-")), "someone-else");
    const path = await kubeconfigWith("wrong-ca", (kc) => {
      kc.clusters[0].cluster["certificate-authority"] = other.caCert;
    });
    const out = join(work, "wrong-ca");
    const res = await runCli(["snapshot", "--kubeconfig", path, "--out", out]);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      `kube-autosave: TLS verification of ${cluster.server} (testbed) failed: UNABLE_TO_VERIFY_LEAF_SIGNATURE; check the cluster CA\n`,
    );
    await expectNothingWritten(out);
  });

  it("says the credentials were rejected (401) without printing the token", async () => {
    const path = await kubeconfigWith("bad-token", (kc) => {
      kc.users[0].user.token = "not-a-valid-token-abcdef";
    });
    const out = join(work, "bad-token");
    const res = await runCli(["snapshot", "--kubeconfig", path, "--out", out]);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      `kube-autosave: ${cluster.server} (testbed) rejected the credentials (401 Unauthorized): the token or client certificate is invalid or expired\n`,
    );
    expect(res.stderr).not.toContain("not-a-valid-token-abcdef");
    await expectNothingWritten(out);
  });

  it("names a bucket that does not exist", async () => {
    // A stopped clock: the snapshot folder the message names is known.
    const at = thisSecond();
    const res = await withDateFrozen(at, () =>
      runCli([...s3SnapshotArgs(cluster.kubeconfig("viewer"), "no-such-bucket-here", s3)], s3Env(s3)),
    );
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      `kube-autosave: cannot list s3://no-such-bucket-here/kube-aws/clusters/testbed/backup/${nameAt(at)}/: bucket "no-such-bucket-here" does not exist\n`,
    );
  });

  it("says S3 rejected the credentials, without printing them", async () => {
    const bucket = await s3.createBucket("denied");
    const at = thisSecond();
    const res = await withDateFrozen(at, () =>
      runCli([...s3SnapshotArgs(cluster.kubeconfig("viewer"), bucket, s3)], {
        AWS_ACCESS_KEY_ID: s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: "wrong-secret-key-value",
      }),
    );
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      `kube-autosave: cannot list s3://${bucket}/kube-aws/clusters/testbed/backup/${nameAt(at)}/: S3 rejected the credentials (SignatureDoesNotMatch)\n`,
    );
    expect(res.stderr).not.toContain("wrong-secret-key-value");
    const list = await s3
      .client()
      .send(new (await import("@aws-sdk/client-s3")).ListObjectsV2Command({ Bucket: bucket }));
    expect(list.KeyCount ?? 0).toBe(0);
  });
});
