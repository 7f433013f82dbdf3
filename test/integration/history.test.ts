// `kube-autosave history` on three real snapshots of the shared cluster, in a folder and in S3: an object
// added, changed and unchanged; one absent, added, removed; a Secret changed (paths only, never a value);
// files skipped by sha256; bad usage (exit 2) and an unreadable file (exit 1).
import { cp, mkdtemp, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, s3Env } from "../support/cli.js";
import { eventually } from "../support/fixtures.js";
import { expectNothingSecret } from "../support/secrets.js";
import { sharedCluster, sharedS3 } from "../support/shared.js";

const cluster = sharedCluster();
const s3 = sharedS3();
const S3_ENV = s3Env(s3);
const NS = "history-e2e";
const PREFIX = "kube-aws/clusters/hist/backup";
const FIRST_SECRET = "history-first-secret-a81c";
const SECOND_SECRET = "history-second-secret-5d3e";
const output: string[] = [];
let work: string;
let bucket: string;
let folder: string;
let names: string[] = [];

/** kubectl create or replace (not apply: its last-applied annotation would show in every change). */
async function kubectl(verb: "create" | "replace", items: object[]): Promise<void> {
  await cluster.kubectl([verb, "-f", "-"], {
    input: JSON.stringify({ apiVersion: "v1", kind: "List", items }),
  });
}

const configMap = (name: string, data: Record<string, string>) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: NS },
  data,
});
const secret = (value: string) => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: "creds", namespace: NS },
  type: "Opaque",
  stringData: { password: value },
});

/** One snapshot into the folder and one into S3 (same filters); returns the folder snapshot's name. */
async function take(): Promise<string> {
  const args = [
    "snapshot",
    "--kubeconfig",
    cluster.kubeconfig("viewer"),
    "--cluster-name",
    "hist",
    "--include-namespaces",
    NS,
    "--include-resources",
    "namespaces,configmaps,secrets",
    "--json",
  ];
  const dir = await runCli([...args, "--out", work]);
  const bkt = await runCli(
    [...args, "--bucket", bucket, "--endpoint", s3.endpoint, "--region", s3.region],
    S3_ENV,
  );
  output.push(dir.stdout, dir.stderr, bkt.stdout, bkt.stderr);
  expect(dir.code, dir.stderr).toBe(0);
  expect(bkt.code, bkt.stderr).toBe(0);
  return JSON.parse(dir.stdout).snapshot;
}

/** Snapshot `i`'s name as the text report prints it: padded to the longest name (a "-2" of a run that shared a second). */
function col(i: number): string {
  return (names[i] as string).padEnd(Math.max(...names.map((n) => n.length)));
}

async function history(location: string, ...args: string[]) {
  const s3Args = location.startsWith("s3://") ? ["--endpoint", s3.endpoint] : [];
  const res = await runCli(["history", location, ...args, ...s3Args], S3_ENV);
  output.push(res.stdout, res.stderr);
  return res;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "kube-autosave-history-"));
  folder = join(work, PREFIX);
  bucket = await s3.createBucket("history");
  await kubectl("create", [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } },
    configMap("settings", { greeting: "hello" }),
    secret(FIRST_SECRET),
  ]);
  await eventually(`kube-root-ca.crt in ${NS}`, async () =>
    (await cluster.api("GET", `/api/v1/namespaces/${NS}/configmaps/kube-root-ca.crt`)).status === 200
      ? true
      : undefined,
  );
  names.push(await take());
  await kubectl("replace", [configMap("settings", { greeting: "bonjour" }), secret(SECOND_SECRET)]);
  await kubectl("create", [configMap("late", { a: "1" })]);
  names.push(await take());
  await cluster.kubectl(["delete", "configmap", "late", "-n", NS]);
  names.push(await take());
  names = [...names];
}, 180_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("history in a folder", () => {
  it("shows an object added, changed (field and values) and unchanged, reading only the files it needs", async () => {
    const res = await history(folder, "configmaps/settings", "--namespace", NS);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(
      [
        `History of configmaps/settings in namespace ${NS} in ${folder}`,
        `  ${col(0)}  added`,
        `  ${col(1)}  changed`,
        '      ~ data.greeting: "hello" → "bonjour"',
        `  ${col(2)}  unchanged`,
        "3 snapshots: 3 files read, 0 skipped (same sha256 as the snapshot before)",
        "",
      ].join("\n"),
    );
  });

  it("shows an object absent, then added, then removed", async () => {
    const res = await history(folder, "configmaps/late", "--namespace", NS, "--json");
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout);
    expect(report).toMatchObject({
      location: folder,
      resource: "configmaps",
      namespace: NS,
      name: "late",
      redacted: false,
      snapshots: 3,
      filesRead: 3,
      skippedSameSha256: 0,
    });
    expect(report.entries.map((e: any) => [e.snapshot, e.change, e.file])).toEqual([
      [names[0], "absent", "read"],
      [names[1], "added", "read"],
      [names[2], "removed", "read"],
    ]);
  });

  it("shows a Secret's changed paths, never its values, and skips the file whose sha256 did not change", async () => {
    const res = await history(folder, "secrets/creds", "--namespace", NS);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(
      [
        `History of secrets/creds in namespace ${NS} (values hidden) in ${folder}`,
        `  ${col(0)}  added`,
        `  ${col(1)}  changed`,
        "      ~ data.password",
        `  ${col(2)}  unchanged`,
        "3 snapshots: 2 files read, 1 skipped (same sha256 as the snapshot before)",
        "",
      ].join("\n"),
    );
  });

  it("follows a cluster-scoped object without a namespace", async () => {
    const res = await history(folder, "namespaces/history-e2e", "--json");
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout);
    expect(report.namespace).toBeNull();
    expect(report.entries.map((e: any) => e.change)).toEqual(["added", "unchanged", "unchanged"]);
    expect(report.entries.map((e: any) => e.file)).toEqual(["read", "same-sha256", "same-sha256"]);
    expect(report.filesRead).toBe(1);
  });

  it("says the object is in none of the snapshots (a namespaced type defaults to namespace default)", async () => {
    const res = await history(folder, "configmaps/settings");
    expect(res.code).toBe(0);
    expect(res.stdout.split("\n")[0]).toBe(
      `History of configmaps/settings in namespace default in ${folder}`,
    );
    expect(res.stdout).toContain(`  ${col(0)}  absent\n`);
    expect(res.stdout).toMatch(/; the object is in none of them\n$/);
  });

  it("marks a snapshot whose file is missing as unreadable, goes on, and exits 1", async () => {
    const copy = await mkdtemp(join(work, "damaged-"));
    await cp(folder, copy, { recursive: true });
    await unlink(join(copy, names[1] as string, NS, "configmaps.json"));
    const res = await history(copy, "configmaps/settings", "--namespace", NS);
    expect(res.code).toBe(1);
    const lines = res.stdout.split("\n");
    expect(lines[2]).toBe(
      `  ${col(1)}  unreadable: ${join(copy, names[1] as string, NS, "configmaps.json")} is missing (the manifest lists it; run verify)`,
    );
    // The third snapshot is compared with the last one read (the first): changed.
    expect(lines[3]).toBe(`  ${col(2)}  changed`);
  });
});

describe("history in S3", () => {
  it("gives the same entries as the folder, for each object", async () => {
    for (const object of ["configmaps/settings", "configmaps/late", "secrets/creds"]) {
      const inS3 = JSON.parse(
        (await history(`s3://${bucket}/${PREFIX}`, object, "--namespace", NS, "--json")).stdout,
      );
      const inFolder = JSON.parse((await history(folder, object, "--namespace", NS, "--json")).stdout);
      expect(inS3.location).toBe(`s3://${bucket}/${PREFIX}`);
      expect(inS3.entries.map((e: any) => [e.change, e.file, e.fields])).toEqual(
        inFolder.entries.map((e: any) => [e.change, e.file, e.fields]),
      );
      expect(inS3.filesRead).toBe(inFolder.filesRead);
    }
  });
});

describe("bad usage and errors", () => {
  it("exits 2 for a malformed object, a type no snapshot lists, and a namespace on a cluster-scoped type", async () => {
    const malformed = await history(folder, "settings");
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain(
      '"settings" is not <resource>[.<group>]/<name> (e.g. deployments.apps/web, configmaps/settings)',
    );
    const unknown = await history(folder, "deployment/web");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      `kube-autosave: no snapshot at ${folder} lists deployment (resource types are written as kubectl's resource.group, e.g. deployments.apps, configmaps)\nRun 'kube-autosave --help' for usage.\n`,
    );
    const scoped = await history(folder, "namespaces/history-e2e", "--namespace", NS);
    expect(scoped.code).toBe(2);
    expect(scoped.stderr).toContain("namespaces is cluster-scoped: it has no namespace");
  });

  it("exits 1 when the location holds no snapshots", async () => {
    const empty = await mkdtemp(join(work, "empty-"));
    const res = await history(empty, "configmaps/settings");
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`kube-autosave: no snapshots at ${empty}\n`);
  });
});

describe("nothing secret", () => {
  it("never prints the Secret's values, plain or base64", () => {
    expectNothingSecret(output.join("\n"), { tokens: [], planted: [FIRST_SECRET, SECOND_SECRET] });
  });
});
