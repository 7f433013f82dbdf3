// `kube-autosave list / verify / diff` on real snapshots of the shared cluster, in a folder and in S3
// (versitygw): what they report for intact, damaged, partial and incomplete snapshots, and that a diff
// reports exactly the changes made between two snapshots, never a Secret's value.
import { cp, mkdtemp, readFile, rm, truncate, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDiff } from "../../src/cli/diff.js";
import { UsageError } from "../../src/cli/flags.js";
import { runList } from "../../src/cli/list.js";
import type { CliIo } from "../../src/cli/main.js";
import { parseCommand } from "../../src/cli/parse.js";
import { runVerify } from "../../src/cli/verify.js";
import { type CliRun, runCli, s3Env } from "../support/cli.js";
import { eventually } from "../support/fixtures.js";
import { sharedCluster, sharedS3 } from "../support/shared.js";

const cluster = sharedCluster();
const s3 = sharedS3();
const S3_ENV = s3Env(s3);
/** The prefix `snapshot --cluster-name t` writes under. */
const PREFIX = "kube-aws/clusters/t/backup";
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "kube-autosave-inspect-"));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/**
 * Runs `kube-autosave list|verify|diff <argv>` in-process with captured output. main.ts does not
 * dispatch these commands yet, so this does what main does: parse, run, and turn errors into exit codes.
 */
async function inspect(argv: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { HOME: "/nonexistent-home", ...env },
    cwd: () => process.cwd(),
  };
  let code: number;
  try {
    const command = parseCommand(argv, io.env);
    if (command.name === "list") code = await runList(command, io);
    else if (command.name === "verify") code = await runVerify(command, io);
    else if (command.name === "diff") code = await runDiff(command, io);
    else throw new Error(`not an inspect command: ${command.name}`);
  } catch (err) {
    if (err instanceof UsageError) {
      stderr += `kube-autosave: ${err.message}\nRun 'kube-autosave --help' for usage.\n`;
      code = 2;
    } else {
      stderr += `kube-autosave: ${(err as Error).message}\n`;
      code = 1;
    }
  }
  return { code, stdout, stderr };
}

interface Taken {
  /** The snapshot's name. */
  readonly snapshot: string;
  /** `<out>/<prefix>` for a folder, `s3://bucket/<prefix>` for S3. */
  readonly root: string;
  /** root + "/" + snapshot. */
  readonly path: string;
}

/** Takes a real snapshot with the CLI (one namespace of our own); returns where it went. */
async function snapshot(
  where: { out: string } | { bucket: string },
  args: string[],
  options: { user?: "viewer" | "restricted"; expectCode?: number } = {},
): Promise<Taken> {
  const target =
    "out" in where
      ? ["--out", where.out]
      : ["--bucket", where.bucket, "--endpoint", s3.endpoint, "--region", s3.region];
  const res = await runCli(
    [
      "snapshot",
      "--kubeconfig",
      cluster.kubeconfig(options.user ?? "viewer"),
      ...target,
      "--cluster-name",
      "t",
      "--json",
      ...args,
    ],
    "out" in where ? {} : S3_ENV,
  );
  expect(res.code, res.stderr).toBe(options.expectCode ?? 0);
  const name: string = JSON.parse(res.stdout).snapshot;
  const root = "out" in where ? join(where.out, PREFIX) : `s3://${where.bucket}/${PREFIX}`;
  return { snapshot: name, root, path: `${root}/${name}` };
}

async function apply(objects: object[], verb: "apply" | "create" = "apply"): Promise<void> {
  await cluster.kubectl([verb, "-f", "-"], {
    input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
  });
}

/** Waits for what the controllers add to a new namespace, so later snapshots do not see it appear. */
async function settledNamespace(ns: string): Promise<void> {
  await eventually(`the default service account of ${ns}`, async () =>
    (await cluster.api("GET", `/api/v1/namespaces/${ns}/serviceaccounts/default`)).status === 200
      ? true
      : undefined,
  );
  await eventually(`kube-root-ca.crt in ${ns}`, async () =>
    (await cluster.api("GET", `/api/v1/namespaces/${ns}/configmaps/kube-root-ca.crt`)).status === 200
      ? true
      : undefined,
  );
}

describe("verify", () => {
  const NS = "inspect-verify";
  let out: string;
  let taken: Taken;

  beforeAll(async () => {
    await apply([
      { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } },
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "settings", namespace: NS },
        data: { color: "blue", greeting: "hello world" },
      },
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "api-key", namespace: NS },
        stringData: { key: "verify-secret-value" },
      },
    ]);
    await settledNamespace(NS);
    out = await mkdtemp(join(work, "verify-"));
    // Every type of the cluster, our namespace only: a realistic snapshot with cluster-scoped files too.
    taken = await snapshot({ out }, ["--include-namespaces", NS]);
  });

  /** A copy of the whole output folder (the snapshot keeps its name, so the manifest still matches). */
  async function damagedCopy(damage: (snap: string) => Promise<void>): Promise<string> {
    const copy = await mkdtemp(join(work, "damaged-"));
    await cp(out, copy, { recursive: true });
    const snap = join(copy, PREFIX, taken.snapshot);
    await damage(snap);
    return snap;
  }

  async function problemsOf(snap: string): Promise<{ key: string; problem: string }[]> {
    const res = await inspect(["verify", snap, "--json"]);
    expect(res.code).toBe(1);
    const report = JSON.parse(res.stdout);
    expect(report.ok).toBe(false);
    return report.problems;
  }

  it("passes a fresh snapshot with exit 0", async () => {
    const res = await inspect(["verify", taken.path]);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(
      new RegExp(
        `^OK ${taken.path}: \\d+ files, \\d+ items, [\\d.]+ (B|KiB|MiB) match the manifest \\(status Completed\\)\\n$`,
      ),
    );
    const json = await inspect(["verify", taken.path, "--json"]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({
      location: taken.path,
      snapshot: taken.snapshot,
      ok: true,
      status: "Completed",
    });
    expect(report.problems).toEqual([]);
    expect(report.checkedFiles).toBeGreaterThan(5);
  });

  it("catches one changed character inside a string value (the file still parses)", async () => {
    const snap = await damagedCopy(async (s) => {
      const path = join(s, NS, "configmaps.json");
      const text = await readFile(path, "utf8");
      expect(text).toContain('"color": "blue"');
      await writeFile(path, text.replace('"color": "blue"', '"color": "blux"'));
    });
    expect(await problemsOf(snap)).toEqual([
      { key: `${NS}/configmaps.json`, problem: "sha256 differs from the manifest: the content changed" },
    ]);
    const text = await inspect(["verify", snap]);
    expect(text.code).toBe(1);
    expect(text.stdout).toBe(
      `FAILED ${snap}: 1 problem\n  ${NS}/configmaps.json: sha256 differs from the manifest: the content changed\n`,
    );
  });

  it("catches a missing file", async () => {
    const snap = await damagedCopy((s) => unlink(join(s, NS, "secrets.json")));
    const problems = await problemsOf(snap);
    expect(problems).toEqual([
      {
        key: `${NS}/secrets.json`,
        problem: expect.stringMatching(/^missing: the manifest lists it \(1 items, \d+ bytes\)$/),
      },
    ]);
  });

  it("catches stray files, in the snapshot's root and in a namespace folder", async () => {
    const snap = await damagedCopy(async (s) => {
      await writeFile(join(s, NS, "extra.json"), '{"apiVersion":"v1","kind":"List","items":[]}\n');
      await writeFile(join(s, "notes.txt"), "hello\n");
    });
    expect(await problemsOf(snap)).toEqual([
      {
        key: `${NS}/extra.json`,
        problem: "stray file: stored in the snapshot but not listed in the manifest",
      },
      { key: "notes.txt", problem: "stray file: stored in the snapshot but not listed in the manifest" },
    ]);
  });

  it("catches a file whose item count no longer matches the manifest", async () => {
    let size = 0;
    const snap = await damagedCopy(async (s) => {
      const path = join(s, NS, "configmaps.json");
      const list = JSON.parse(await readFile(path, "utf8"));
      expect(list.items.map((i: any) => i.metadata.name)).toEqual(["kube-root-ca.crt", "settings"]);
      list.items.pop();
      const text = `${JSON.stringify(list, null, 2)}\n`;
      size = Buffer.byteLength(text);
      await writeFile(path, text);
    });
    expect(await problemsOf(snap)).toEqual([
      {
        key: `${NS}/configmaps.json`,
        problem: expect.stringMatching(new RegExp(`^size is ${size} bytes, the manifest says \\d+$`)),
      },
      { key: `${NS}/configmaps.json`, problem: "holds 1 items, the manifest says 2" },
    ]);
  });

  it("catches a truncated file and a file that is not JSON at all", async () => {
    const snap = await damagedCopy(async (s) => {
      await truncate(join(s, NS, "configmaps.json"), 100);
      await writeFile(join(s, NS, "secrets.json"), "this is not JSON");
    });
    const problems = await problemsOf(snap);
    expect(problems).toEqual([
      {
        key: `${NS}/configmaps.json`,
        problem: expect.stringMatching(/^size is 100 bytes, the manifest says \d+$/),
      },
      { key: `${NS}/configmaps.json`, problem: "is not valid JSON (it ends early: truncated?)" },
      {
        key: `${NS}/secrets.json`,
        problem: expect.stringMatching(/^size is 16 bytes, the manifest says \d+$/),
      },
      { key: `${NS}/secrets.json`, problem: expect.stringMatching(/^is not valid JSON/) },
    ]);
    // The parser's message may quote the input; the report must not (it could be a Secret).
    expect(JSON.stringify(problems)).not.toContain("this is");
  });

  it("catches an item moved to another namespace's file", async () => {
    const snap = await damagedCopy(async (s) => {
      const path = join(s, NS, "configmaps.json");
      await writeFile(
        path,
        (await readFile(path, "utf8")).replaceAll(`"namespace": "${NS}"`, '"namespace": "elsewhere"'),
      );
    });
    const problems = await problemsOf(snap);
    expect(problems.slice(1)).toEqual([
      {
        key: `${NS}/configmaps.json`,
        problem: `items[0] (kube-root-ca.crt) is in namespace elsewhere, not ${NS}`,
      },
      { key: `${NS}/configmaps.json`, problem: `items[1] (settings) is in namespace elsewhere, not ${NS}` },
    ]);
  });

  it("reports a snapshot without manifest.json as incomplete", async () => {
    const snap = await damagedCopy((s) => unlink(join(s, "manifest.json")));
    expect(await problemsOf(snap)).toEqual([
      { key: "manifest.json", problem: "no manifest.json: the snapshot is incomplete" },
    ]);
  });

  it("reports a manifest that is not JSON, or not a SnapshotManifest, clearly", async () => {
    const notJson = await damagedCopy((s) =>
      writeFile(join(s, "manifest.json"), '{"apiVersion": "kube-auto'),
    );
    expect(await problemsOf(notJson)).toEqual([
      { key: "manifest.json", problem: "manifest.json is not valid JSON (it ends early: truncated?)" },
    ]);
    const wrongKind = await damagedCopy((s) =>
      writeFile(join(s, "manifest.json"), JSON.stringify({ apiVersion: "v1", kind: "ConfigMap" })),
    );
    expect(await problemsOf(wrongKind)).toEqual([
      {
        key: "manifest.json",
        problem:
          'manifest.json is not a kube-autosave/v1 SnapshotManifest (apiVersion "v1", kind "ConfigMap")',
      },
    ]);
  });

  it("fails with a clear message for a snapshot that does not exist, and for a path that is not a snapshot", async () => {
    const missing = join(taken.root, "2020-01-01_00-00-00");
    const res = await inspect(["verify", missing]);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      `kube-autosave: no snapshot 2020-01-01_00-00-00 at ${missing}: nothing is stored there\n`,
    );
    const notSnapshot = await inspect(["verify", taken.root]);
    expect(notSnapshot.code).toBe(2);
    expect(notSnapshot.stderr).toContain(
      `"${taken.root}" does not end in a snapshot name like 2026-11-24_03-00-00`,
    );
  });

  it("names an unknown flag with exit 2", async () => {
    const res = await inspect(["verify", taken.path, "--deep"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("Unknown option '--deep'");
  });
});

describe("list", () => {
  const NS = "inspect-list";
  const ROLE = "inspect-test-list-configmaps";
  let out: string;
  let completed: Taken;
  let partial: Taken;

  beforeAll(async () => {
    await apply([
      { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } },
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: NS }, data: { a: "1" } },
      { apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: NS }, stringData: { a: "1" } },
    ]);
    await settledNamespace(NS);
    out = await mkdtemp(join(work, "list-"));
    const args = ["--include-namespaces", NS, "--include-resources", "configmaps,secrets"];
    completed = await snapshot({ out }, args);
    // A real PartiallyFailed run: "restricted" may list configmaps but not secrets (for seconds only, so
    // other test files that use "restricted" on the shared cluster are not affected for long).
    await apply([
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: ROLE },
        rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["list"] }],
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: ROLE },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: ROLE },
        subjects: [{ kind: "User", name: "restricted", apiGroup: "rbac.authorization.k8s.io" }],
      },
    ]);
    try {
      partial = await snapshot({ out }, args, { user: "restricted", expectCode: 3 });
    } finally {
      await cluster.kubectl([
        "delete",
        `clusterrolebinding/${ROLE}`,
        `clusterrole/${ROLE}`,
        "--ignore-not-found",
      ]);
    }
    const root = join(out, PREFIX);
    // A run that crashed after writing files: a copy of the completed one without its manifest.
    await cp(join(root, completed.snapshot), join(root, "2000-01-01_00-00-00"), { recursive: true });
    await unlink(join(root, "2000-01-01_00-00-00", "manifest.json"));
    // A run that crashed right after claiming its name: a claim, no files.
    await writeFile(
      join(root, ".runs", "2000-01-02_00-00-00.json"),
      `${JSON.stringify({ snapshot: "2000-01-02_00-00-00", cluster: "t", startedAt: "2000-01-02T00:00:07.000Z", tool: "0.1.0" })}\n`,
    );
    // A folder whose manifest is not a manifest.
    await cp(join(root, completed.snapshot), join(root, "2000-01-03_00-00-00"), { recursive: true });
    await writeFile(join(root, "2000-01-03_00-00-00", "manifest.json"), "[]");
  });

  it("lists every snapshot oldest first with its status, and marks the one latest.json points at", async () => {
    const res = await inspect(["list", join(out, PREFIX), "--json"]);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const catalog = JSON.parse(res.stdout);
    expect(catalog.location).toBe(join(out, PREFIX));
    expect(catalog.latest).toBe(partial.snapshot);
    expect(catalog.warnings).toEqual([]);
    const manifest = JSON.parse(
      await readFile(join(out, PREFIX, completed.snapshot, "manifest.json"), "utf8"),
    );
    expect(catalog.entries).toEqual([
      {
        snapshot: "2000-01-01_00-00-00",
        status: "incomplete",
        latest: false,
        cluster: null,
        startedAt: "2000-01-01T00:00:00.000Z",
        completedAt: null,
        files: manifest.files.length,
        items: null,
        bytes: manifest.totals.bytes,
        errors: null,
        problem: null,
      },
      {
        snapshot: "2000-01-02_00-00-00",
        status: "incomplete",
        latest: false,
        cluster: "t",
        startedAt: "2000-01-02T00:00:07.000Z",
        completedAt: null,
        files: 0,
        items: null,
        bytes: 0,
        errors: null,
        problem: null,
      },
      {
        snapshot: "2000-01-03_00-00-00",
        status: "invalid",
        latest: false,
        cluster: null,
        startedAt: "2000-01-03T00:00:00.000Z",
        completedAt: null,
        files: manifest.files.length,
        items: null,
        bytes: manifest.totals.bytes,
        errors: null,
        problem: "manifest.json is not a JSON object",
      },
      {
        snapshot: completed.snapshot,
        status: "Completed",
        latest: false,
        cluster: "t",
        startedAt: manifest.startedAt,
        completedAt: manifest.completedAt,
        files: manifest.files.length,
        items: manifest.totals.items,
        bytes: manifest.totals.bytes,
        errors: 0,
        problem: null,
      },
      expect.objectContaining({
        snapshot: partial.snapshot,
        status: "PartiallyFailed",
        latest: true,
        cluster: "t",
        errors: 1,
        problem: null,
      }),
    ]);
    // configmaps of NS and kube-root-ca.crt; the completed snapshot also has the secret.
    expect(catalog.entries[4].items).toBe(manifest.totals.items - 1);
  });

  it("prints a table with one line per snapshot and a star on latest.json's", async () => {
    const res = await inspect(["list", join(out, PREFIX)]);
    expect(res.code).toBe(0);
    const lines = res.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(`5 snapshots in ${join(out, PREFIX)}`);
    expect(lines[1]).toMatch(/^\s+SNAPSHOT\s+STATUS\s+TIME \(UTC\)\s+FILES\s+ITEMS\s+SIZE$/);
    expect(lines[2]).toMatch(
      /^ {3}2000-01-01_00-00-00 +incomplete +2000-01-01 00:00:00 \(started\) +\d+ +- +[\d.]+ KiB +no manifest$/,
    );
    expect(lines[3]).toMatch(
      /^ {3}2000-01-02_00-00-00 +incomplete +2000-01-02 00:00:07 \(started\) +0 +- +0 B +no files, no manifest$/,
    );
    expect(lines[4]).toMatch(/^ {3}2000-01-03_00-00-00 +invalid .* manifest.json is not a JSON object$/);
    expect(lines[5]).toMatch(
      new RegExp(
        `^ {3}${completed.snapshot} +Completed +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d +\\d+ +\\d+ +[\\d.]+ KiB$`,
      ),
    );
    expect(lines[6]).toMatch(new RegExp(`^\\* +${partial.snapshot} +PartiallyFailed .* 1 type failed$`));
    expect(lines[7]).toBe(`* latest.json points at ${partial.snapshot}`);
    expect(lines).toHaveLength(8);
  });

  it("diff leaves out a type that failed in one snapshot instead of reporting its objects as removed", async () => {
    const res = await inspect(["diff", completed.path, partial.path, "--json"]);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout);
    expect(report.notCompared).toEqual([
      {
        resource: "secrets",
        reason: expect.stringMatching(/^listed in a only; in b it failed \(403: .*forbidden.*\)$/),
      },
    ]);
    expect(report.objects).toEqual([]);
    const text = await inspect(["diff", completed.path, partial.path]);
    expect(text.stdout).toMatch(
      /\nnot compared: secrets: listed in a only; in b it failed \(403: .*\)\nNo differences\.\n$/,
    );
  });

  it("says so when a folder holds no snapshots, and hints when it is given a snapshot instead", async () => {
    const empty = await inspect(["list", join(work, "nothing-here")]);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toBe(`No snapshots in ${join(work, "nothing-here")}\n`);
    const snap = await inspect(["list", join(out, PREFIX, completed.snapshot)]);
    expect(snap.code).toBe(0);
    expect(snap.stdout).toContain("is itself a snapshot: list its parent folder");
  });
});

describe("diff", () => {
  const NS = "inspect-diff";
  const OLD_PASSWORD = "old-db-passw0rd-4711";
  const NEW_PASSWORD = "new-db-passw0rd-0815";
  /** The types this test changes, plus the ones the namespace's controllers fill: nothing else can differ. */
  const ONLY = [
    "--include-namespaces",
    NS,
    "--include-resources",
    "namespaces,configmaps,secrets,services,deployments.apps,serviceaccounts",
  ];
  let out: string;
  let bucket: string;
  let a: Taken;
  let b: Taken;
  let bS3: Taken;

  beforeAll(async () => {
    // Created (not applied), so no last-applied-configuration annotation changes along with the objects.
    await apply([{ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } }], "create");
    await settledNamespace(NS);
    await apply(
      [
        {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "app-config", namespace: NS },
          data: { mode: "blue", size: "10" },
        },
        {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "unchanged", namespace: NS },
          data: { x: "y" },
        },
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "db", namespace: NS },
          type: "Opaque",
          stringData: { password: OLD_PASSWORD, user: "admin" },
        },
        {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name: "web", namespace: NS },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: "web" } },
            template: {
              metadata: { labels: { app: "web" } },
              spec: { containers: [{ name: "web", image: "nginx:1.27" }] },
            },
          },
        },
        {
          // No selector: no Endpoints or EndpointSlices follow it around.
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "legacy", namespace: NS },
          spec: { ports: [{ port: 80 }] },
        },
      ],
      "create",
    );
    await eventually("the deployment controller to annotate web", async () =>
      (await cluster.api("GET", `/apis/apps/v1/namespaces/${NS}/deployments/web`)).body.metadata
        ?.annotations?.["deployment.kubernetes.io/revision"]
        ? true
        : undefined,
    );
    out = await mkdtemp(join(work, "diff-"));
    bucket = await s3.createBucket("inspect");
    a = await snapshot({ out }, ONLY);

    await cluster.kubectl(["scale", "deployment/web", "-n", NS, "--replicas=3"]);
    await cluster.kubectl(["patch", "configmap/app-config", "-n", NS, "-p", '{"data":{"mode":"green"}}']);
    await apply(
      [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "extra", namespace: NS }, data: { k: "v" } }],
      "create",
    );
    await cluster.kubectl(["delete", "service/legacy", "-n", NS]);
    await cluster.kubectl([
      "patch",
      "secret/db",
      "-n",
      NS,
      "-p",
      JSON.stringify({ stringData: { password: NEW_PASSWORD } }),
    ]);

    b = await snapshot({ out }, ONLY);
    bS3 = await snapshot({ bucket }, ONLY);
  });

  const EXPECTED = [
    {
      resource: "configmaps",
      namespace: NS,
      name: "app-config",
      change: "changed",
      redacted: false,
      fields: [{ op: "changed", path: "data.mode", segments: ["data", "mode"], from: "blue", to: "green" }],
    },
    { resource: "configmaps", namespace: NS, name: "extra", change: "added", redacted: false, fields: [] },
    {
      resource: "deployments.apps",
      namespace: NS,
      name: "web",
      change: "changed",
      redacted: false,
      fields: [{ op: "changed", path: "spec.replicas", segments: ["spec", "replicas"], from: 1, to: 3 }],
    },
    {
      resource: "secrets",
      namespace: NS,
      name: "db",
      change: "changed",
      redacted: true,
      fields: [{ op: "changed", path: "data.password", segments: ["data", "password"] }],
    },
    { resource: "services", namespace: NS, name: "legacy", change: "removed", redacted: false, fields: [] },
  ];

  function expectNoSecretValue(text: string): void {
    for (const value of [OLD_PASSWORD, NEW_PASSWORD]) {
      expect(text).not.toContain(value);
      expect(text).not.toContain(Buffer.from(value).toString("base64"));
    }
  }

  it("reports exactly the changes made between two folder snapshots, with exit 3", async () => {
    const res = await inspect(["diff", a.path, b.path, "--json"]);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(3);
    const report = JSON.parse(res.stdout);
    expect(report.from).toMatchObject({ location: a.path, snapshot: a.snapshot, status: "Completed" });
    expect(report.to).toMatchObject({ location: b.path, snapshot: b.snapshot, status: "Completed" });
    expect(report.notCompared).toEqual([]);
    expect(report.objects).toEqual(EXPECTED);
    expect(report.summary).toEqual({ added: 1, removed: 1, changed: 3, identical: false });
    expectNoSecretValue(res.stdout);
  });

  it("prints the changes grouped by type and namespace, with old and new values but none of a Secret", async () => {
    const res = await inspect(["diff", a.path, b.path]);
    expect(res.code).toBe(3);
    expect(res.stdout).toBe(
      [
        `a: ${a.path} (Completed)`,
        `b: ${b.path} (Completed)`,
        `configmaps in ${NS}:`,
        "  ~ app-config",
        '      ~ data.mode: "blue" → "green"',
        "  + extra",
        `deployments.apps in ${NS}:`,
        "  ~ web",
        "      ~ spec.replicas: 1 → 3",
        `secrets in ${NS}:`,
        "  ~ db (values hidden)",
        "      ~ data.password",
        `services in ${NS}:`,
        "  - legacy",
        "5 objects differ: 1 added, 1 removed, 3 changed",
        "",
      ].join("\n"),
    );
    expectNoSecretValue(res.stdout + res.stderr);
  });

  it("compares a folder snapshot with one in S3 and finds the same changes", async () => {
    const args = ["diff", a.path, bS3.path, "--endpoint", s3.endpoint, "--region", s3.region, "--json"];
    const res = await inspect(args, S3_ENV);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(3);
    const report = JSON.parse(res.stdout);
    expect(report.to.location).toBe(bS3.path);
    expect(report.objects).toEqual(EXPECTED);
    expectNoSecretValue(res.stdout);
  });

  it("reports no differences with exit 0 between a snapshot and itself, and between b in a folder and in S3", async () => {
    const same = await inspect(["diff", a.path, a.path]);
    expect(same.code).toBe(0);
    expect(same.stdout).toBe(`a: ${a.path} (Completed)\nb: ${a.path} (Completed)\nNo differences.\n`);
    const across = await inspect(["diff", bS3.path, b.path, "--endpoint", s3.endpoint, "--json"], S3_ENV);
    expect(across.code).toBe(0);
    expect(JSON.parse(across.stdout)).toMatchObject({ objects: [], summary: { identical: true } });
  });

  it("verifies and lists the S3 snapshot like a folder one", async () => {
    const verify = await inspect(
      ["verify", bS3.path, "--endpoint", s3.endpoint, "--region", s3.region],
      S3_ENV,
    );
    expect(verify.stderr).toBe("");
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^OK s3:\/\/.*match the manifest \(status Completed\)\n$/);
    const list = await inspect(["list", bS3.root, "--endpoint", s3.endpoint, "--json"], S3_ENV);
    expect(list.code).toBe(0);
    const catalog = JSON.parse(list.stdout);
    expect(catalog.location).toBe(bS3.root);
    expect(catalog.entries.map((e: any) => [e.snapshot, e.status, e.latest])).toEqual([
      [bS3.snapshot, "Completed", true],
    ]);
  });

  it("refuses to compare a snapshot without a manifest, or one that does not exist", async () => {
    const copy = await mkdtemp(join(work, "diff-incomplete-"));
    await cp(join(out, PREFIX, a.snapshot), join(copy, a.snapshot), { recursive: true });
    await unlink(join(copy, a.snapshot, "manifest.json"));
    const incomplete = await inspect(["diff", join(copy, a.snapshot), b.path]);
    expect(incomplete.code).toBe(1);
    expect(incomplete.stderr).toBe(
      `kube-autosave: cannot compare ${join(copy, a.snapshot)}: no manifest.json: the snapshot is incomplete\n`,
    );
    expect(incomplete.stdout).toBe("");
    const missing = join(out, PREFIX, "2020-01-01_00-00-00");
    const res = await inspect(["diff", a.path, missing]);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      `kube-autosave: no snapshot 2020-01-01_00-00-00 at ${missing}: nothing is stored there\n`,
    );
  });

  it("names bad arguments with exit 2", async () => {
    const unknown = await inspect(["diff", a.path, b.path, "--ignore", "status"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--ignore'");
    const notSnapshot = await inspect(["diff", a.path, join(out, PREFIX)]);
    expect(notSnapshot.code).toBe(2);
    expect(notSnapshot.stderr).toContain("does not end in a snapshot name");
  });
});
