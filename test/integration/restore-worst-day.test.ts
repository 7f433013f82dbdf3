// Restore on the worst day (issue 12), between two real control planes: a source cluster with what an
// operator-run production namespace holds (a Delete-policy volume, a custom resource that owns a Secret
// and a claim, int64 fields, a Deployment rolled out three times, RBAC) is snapshotted with the CLI and
// restored into a fresh cluster: safely beside a live cluster, completely, repeatably, movably; and
// snapshot folders that lie (symlinks, `..` keys, corrupt Secrets) are refused without leaking.
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { type FaultProxy, kubeStatus, startKubeFaultProxy } from "../support/fault-proxy.js";
import { crdWithSpec, eventually, INT64 } from "../support/fixtures.js";
import { issueCert } from "../support/pki.js";
import { expectNothingSecret } from "../support/secrets.js";
import { onlySnapshot, readJson } from "../support/snapshot-files.js";
import { type OwnedCluster, startCluster } from "../support/testbed.js";

const NS = "ops";
/** The Secret value planted in the source cluster: no output may contain it, or any 8 characters of its base64. */
const PLANTED = "planted-orders-password-c0ffee-5eed";
const PLANTED_B64 = Buffer.from(PLANTED).toString("base64");
/** Everything the CLI printed in this file, scanned by the last test. */
const printed: string[] = [];

let src: OwnedCluster;
let dst: OwnedCluster;
let work: string;
/** The source cluster's snapshot folder (ends in the snapshot name). */
let snap: string;

const CRD = crdWithSpec(
  "ops.example.com",
  { plural: "databases", singular: "database", kind: "Database" },
  {
    maxBytes: INT64,
    minOffset: INT64,
    past53: INT64,
    tuning: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
  },
);
/** Written as text: a JavaScript object could not even hold these numbers. */
const DATABASE =
  `{"apiVersion":"ops.example.com/v1","kind":"Database","metadata":{"name":"orders","namespace":"${NS}"},` +
  `"spec":{"maxBytes":9223372036854775807,"minOffset":-9223372036854775808,"past53":9007199254740993,` +
  `"tuning":{"walBytes":9223372036854775806}}}`;
const DIGITS = [
  '"maxBytes": 9223372036854775807',
  '"minOffset": -9223372036854775808',
  '"past53": 9007199254740993',
  '"walBytes": 9223372036854775806',
];

/** Runs the CLI, keeps what it printed for the final scan. */
async function cli(argv: string[]) {
  const res = await runCli(argv);
  printed.push(res.stdout, res.stderr);
  return res;
}

/** `restore <snapshot> --json` into a cluster (a kubeconfig path); the exit code and the report. */
async function restoreJson(kubeconfig: string, snapshot: string, args: string[] = []) {
  const res = await cli(["restore", snapshot, "--kubeconfig", kubeconfig, "--json", ...args]);
  if (res.stdout === "") throw new Error(`no report (exit ${res.code}): ${res.stderr}`);
  return { code: res.code, stderr: res.stderr, report: JSON.parse(res.stdout) };
}

const idOf = (o: { resource: string; namespace: string | null; name: string }) =>
  `${o.resource} ${o.namespace ?? ""}/${o.name}`;
const byId = (report: any): Record<string, any> =>
  Object.fromEntries(report.objects.map((o: any) => [idOf(o), o]));
const outcomes = (report: any, outcome: string): string[] =>
  report.objects
    .filter((o: any) => o.outcome === outcome)
    .map(idOf)
    .sort();

/** A copy of the source snapshot under `name/` that a test may damage. */
async function copyOfSnapshot(name: string): Promise<string> {
  const dir = join(work, name, "2026-01-01_00-00-00");
  await mkdir(join(work, name), { recursive: true });
  await cp(snap, dir, { recursive: true });
  return dir;
}

/** Asserts that no 8 characters of the planted value's base64 (and not the value) appear in `text`. */
function expectNoPartOfPlanted(text: string): void {
  expectNothingSecret(text, { tokens: [], planted: [PLANTED] });
  for (let i = 0; i + 8 <= PLANTED_B64.length; i++)
    expect(text, `base64 of the planted value, from ${i}`).not.toContain(PLANTED_B64.slice(i, i + 8));
}

async function rollOut(revision: number): Promise<void> {
  await src.kubectl([
    "-n",
    NS,
    "patch",
    "deployment",
    "web",
    "--type=merge",
    "-p",
    JSON.stringify({
      spec: { template: { metadata: { annotations: { "example.com/rollout": `${revision}` } } } },
    }),
  ]);
  await eventually(`revision ${revision} of the deployment`, async () =>
    (await src.api("GET", `/apis/apps/v1/namespaces/${NS}/deployments/web`)).body.metadata?.annotations?.[
      "deployment.kubernetes.io/revision"
    ] === `${revision}`
      ? true
      : undefined,
  );
}

/** The source cluster: an operator-run namespace, as the issue's worst day finds it. */
async function buildSource(): Promise<void> {
  await src.kubectl(["apply", "-f", "-"], { input: JSON.stringify(CRD) });
  await src.kubectl(["wait", "--for=condition=Established", `crd/${CRD.metadata.name}`, "--timeout=60s"]);
  await src.kubectl(["create", "namespace", NS]);
  await eventually(`the default service account of ${NS}`, async () =>
    (await src.api("GET", `/api/v1/namespaces/${NS}/serviceaccounts/default`)).status === 200
      ? true
      : undefined,
  );
  await src.kubectl(["apply", "-f", "-"], { input: DATABASE });
  const dbUid = (await src.api("GET", `/apis/ops.example.com/v1/namespaces/${NS}/databases/orders`)).body
    .metadata.uid;
  const ownedBy = [
    {
      apiVersion: "ops.example.com/v1",
      kind: "Database",
      name: "orders",
      uid: dbUid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ];
  const labels = { app: "web" };
  await src.kubectl(["apply", "-f", "-"], {
    input: JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [
        {
          apiVersion: "v1",
          kind: "PersistentVolume",
          metadata: { name: "pv-orders" },
          spec: {
            capacity: { storage: "1Gi" },
            accessModes: ["ReadWriteOnce"],
            persistentVolumeReclaimPolicy: "Delete",
            storageClassName: "manual",
            hostPath: { path: "/tmp/kube-autosave-pv-orders" },
            claimRef: { namespace: NS, name: "orders-data" },
          },
        },
        {
          apiVersion: "v1",
          kind: "PersistentVolume",
          metadata: { name: "pv-spare" },
          spec: {
            capacity: { storage: "1Gi" },
            accessModes: ["ReadWriteOnce"],
            persistentVolumeReclaimPolicy: "Delete",
            storageClassName: "spare",
            hostPath: { path: "/tmp/kube-autosave-pv-spare" },
          },
        },
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "orders-credentials", namespace: NS, ownerReferences: ownedBy },
          type: "Opaque",
          stringData: { password: PLANTED },
        },
        {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          metadata: { name: "orders-data", namespace: NS, ownerReferences: ownedBy },
          spec: {
            accessModes: ["ReadWriteOnce"],
            storageClassName: "manual",
            resources: { requests: { storage: "1Gi" } },
            volumeName: "pv-orders",
          },
        },
        {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "orders-settings", namespace: NS },
          data: { pool: "10" },
        },
        { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "builder", namespace: NS } },
        {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "Role",
          metadata: { name: "reader", namespace: NS },
          rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"] }],
        },
        {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "RoleBinding",
          metadata: { name: "builder-reads", namespace: NS },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "reader" },
          subjects: [{ kind: "ServiceAccount", name: "builder", namespace: NS }],
        },
        {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "ClusterRoleBinding",
          metadata: { name: "ops-builders" },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
          subjects: [{ kind: "ServiceAccount", name: "builder", namespace: NS }],
        },
        {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name: "web", namespace: NS, labels },
          spec: {
            replicas: 1,
            selector: { matchLabels: labels },
            template: {
              metadata: { labels },
              spec: { containers: [{ name: "web", image: "nginx:1.27" }] },
            },
          },
        },
        {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "web", namespace: NS },
          spec: { selector: labels, ports: [{ port: 80 }] },
        },
      ],
    }),
  });
  await eventually("revision 1 of the deployment", async () =>
    (await src.api("GET", `/apis/apps/v1/namespaces/${NS}/deployments/web`)).body.metadata?.annotations?.[
      "deployment.kubernetes.io/revision"
    ] === "1"
      ? true
      : undefined,
  );
  await rollOut(2);
  await rollOut(3);
  await eventually("the claim to be bound", async () =>
    (await src.api("GET", `/api/v1/namespaces/${NS}/persistentvolumeclaims/orders-data`)).body.status
      ?.phase === "Bound"
      ? true
      : undefined,
  );
  await eventually("the endpoint slice of web", async () =>
    (
      await src.api(
        "GET",
        `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices?labelSelector=kubernetes.io/service-name=web`,
      )
    ).body.items?.length === 1
      ? true
      : undefined,
  );
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "kube-autosave-restore-worst-day-"));
  [src, dst] = await Promise.all([startCluster(), startCluster()]);
  await buildSource();
  const out = join(work, "backups");
  const res = await cli([
    "snapshot",
    "--kubeconfig",
    src.kubeconfig("admin"),
    "--out",
    out,
    "--cluster-name",
    "src",
  ]);
  expect(res.stderr).toBe("");
  expect(res.code).toBe(0);
  snap = await onlySnapshot(join(out, "kube-aws/clusters/src/backup"));
}, 300_000);

afterAll(async () => {
  await Promise.all([src?.stop(), dst?.stop()]);
  await rm(work, { recursive: true, force: true });
});

describe("restoring an operator-run namespace into a fresh cluster", () => {
  let first: { code: number; stderr: string; report: any };

  beforeAll(async () => {
    first = await restoreJson(dst.kubeconfig("admin"), snap, ["--namespace", NS]);
  });

  it("restores a volume with reclaim policy Delete as Retain, and says so on the volume", async () => {
    // Assert
    expect(first.code).toBe(0);
    const pv = (await dst.api("GET", "/api/v1/persistentvolumes/pv-orders")).body;
    expect(pv.spec.persistentVolumeReclaimPolicy).toBe("Retain");
    expect(byId(first.report)["persistentvolumes /pv-orders"]).toMatchObject({
      outcome: "created",
      notes: [
        "cluster-scoped: --namespace selects the objects of those namespaces and the Namespaces themselves, but restored: 1 selected object(s) need it",
        "pv-reclaim-retain: spec.persistentVolumeReclaimPolicy Delete → Retain: the old cluster may still use the same disk: deleting this claim in the new cluster must not delete it (--keep-reclaim-policy keeps the snapshot's policy)",
      ],
    });
    // The source still has Delete: only the restored copy changed.
    expect(
      (await src.api("GET", "/api/v1/persistentvolumes/pv-orders")).body.spec.persistentVolumeReclaimPolicy,
    ).toBe("Delete");
  });

  /** The owner reference the restored objects must carry: the Database orders by its new uid. */
  const ownerRef = (db: any) => ({
    apiVersion: "ops.example.com/v1",
    kind: "Database",
    name: "orders",
    uid: db.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  });

  it("restores what the operator's custom resource owns after it, linked to its new uid, and the garbage collector keeps them", async () => {
    // Arrange
    const db = (await dst.api("GET", `/apis/ops.example.com/v1/namespaces/${NS}/databases/orders`)).body;
    const sourceUid = (await src.api("GET", `/apis/ops.example.com/v1/namespaces/${NS}/databases/orders`))
      .body.metadata.uid;
    const owned = [`secrets ${NS}/orders-credentials`, `persistentvolumeclaims ${NS}/orders-data`];
    const order = first.report.objects.map(idOf);

    // Act: a canary of each owned kind, created after them, referring to the Database by a uid it does not
    // have (what a restore that kept the source's uids would leave). Once the garbage collector has
    // deleted both canaries, it has checked the owners of this namespace's Secrets and claims.
    const staleOwner = [{ ...ownerRef(db), uid: sourceUid }];
    const canaries = [
      await dst.api("POST", `/api/v1/namespaces/${NS}/secrets`, {
        metadata: { name: "gc-canary", ownerReferences: staleOwner },
      }),
      await dst.api("POST", `/api/v1/namespaces/${NS}/persistentvolumeclaims`, {
        metadata: { name: "gc-canary", ownerReferences: staleOwner },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Mi" } } },
      }),
    ];
    expect(canaries.map((c) => c.status)).toEqual([201, 201]);
    for (const path of ["secrets/gc-canary", "persistentvolumeclaims/gc-canary"]) {
      await eventually(`the garbage collector to delete ${path}`, async () =>
        (await dst.api("GET", `/api/v1/namespaces/${NS}/${path}`)).status === 404 ? true : undefined,
      );
    }

    // Assert
    expect(db.metadata.uid).not.toBe(sourceUid);
    const expected = [ownerRef(db)];
    const secret = (await dst.api("GET", `/api/v1/namespaces/${NS}/secrets/orders-credentials`)).body;
    const claim = (await dst.api("GET", `/api/v1/namespaces/${NS}/persistentvolumeclaims/orders-data`)).body;
    expect(secret.metadata.ownerReferences).toEqual(expected);
    expect(claim.metadata.ownerReferences).toEqual(expected);
    for (const id of owned) {
      expect(byId(first.report)[id], id).toMatchObject({
        outcome: "created",
        notes: ["ownerReferences to Database orders linked to the owners' new uids"],
      });
      expect(order.indexOf(id), id).toBeGreaterThan(order.indexOf(`databases.ops.example.com ${NS}/orders`));
    }
    // What built-in controllers make again is left to them: ReplicaSets of the three rollouts, pods,
    // the Endpoints and EndpointSlice of the Service.
    expect(first.report.skippedByRule["recreated-by-controller"]).toBeGreaterThanOrEqual(3 + 1 + 1);
    expect(first.report.skippedByRule["owned-by-controller"]).toBeUndefined();
  });

  it("sends int64 fields of a custom resource back with the digits the snapshot holds", async () => {
    // Act
    const text = await dst.kubectl(["get", "databases.ops.example.com", "orders", "-n", NS, "-o", "json"]);

    // Assert
    for (const digits of DIGITS) expect(text).toContain(digits);
  });

  it("reports every restored object unchanged on a second run, a Deployment rolled out three times included", async () => {
    // Act
    const again = await restoreJson(dst.kubeconfig("admin"), snap, ["--namespace", NS]);

    // Assert
    expect(again.code).toBe(0);
    expect(again.report.counts).toMatchObject({ created: 0, updated: 0, failed: 0 });
    const restored = [...outcomes(first.report, "created"), ...outcomes(first.report, "unchanged")].sort();
    expect(outcomes(again.report, "unchanged")).toEqual(restored);
    expect(restored).toContain(`deployments.apps ${NS}/web`);
    const inSnapshot = (await readJson(join(snap, NS, "deployments.apps.json"))).items[0];
    expect(inSnapshot.metadata.annotations["deployment.kubernetes.io/revision"]).toBe("3");
    const live = (await dst.api("GET", `/apis/apps/v1/namespaces/${NS}/deployments/web`)).body;
    expect(live.metadata.annotations["deployment.kubernetes.io/revision"]).toBe("1");
  });

  it("--update applies what differs, but never the controller's revision annotation; one int64 digit is a difference", async () => {
    // Arrange: someone scaled the Deployment and changed one digit of the database
    await dst.kubectl(["-n", NS, "scale", "deployment", "web", "--replicas=3"]);
    await dst.kubectl([
      "-n",
      NS,
      "patch",
      "databases.ops.example.com",
      "orders",
      "--type=merge",
      "-p",
      '{"spec":{"maxBytes":9223372036854775806}}',
    ]);

    // Act
    const plain = await restoreJson(dst.kubeconfig("admin"), snap, ["--namespace", NS]);
    const update = await restoreJson(dst.kubeconfig("admin"), snap, ["--namespace", NS, "--update"]);

    // Assert
    expect(byId(plain.report)[`deployments.apps ${NS}/web`]).toMatchObject({
      outcome: "skipped",
      rule: "exists-differs",
      reason: "exists and differs (use --update): spec.replicas",
    });
    expect(byId(plain.report)[`databases.ops.example.com ${NS}/orders`]).toMatchObject({
      outcome: "skipped",
      reason: "exists and differs (use --update): spec.maxBytes",
    });
    expect(update.code).toBe(0);
    expect(outcomes(update.report, "updated")).toEqual([
      `databases.ops.example.com ${NS}/orders`,
      `deployments.apps ${NS}/web`,
    ]);
    const live = (await dst.api("GET", `/apis/apps/v1/namespaces/${NS}/deployments/web`)).body;
    expect(live.spec.replicas).toBe(1);
    expect(live.metadata.annotations["deployment.kubernetes.io/revision"]).toBe("1");
    const applied = live.metadata.managedFields.filter((m: any) => m.manager === "kube-autosave");
    expect(applied.length).toBeGreaterThan(0);
    expect(JSON.stringify(applied)).not.toContain("deployment.kubernetes.io/revision");
    const text = await dst.kubectl(["get", "databases.ops.example.com", "orders", "-n", NS, "-o", "json"]);
    expect(text).toContain('"maxBytes": 9223372036854775807');
  });

  it("--keep-reclaim-policy restores a volume with the snapshot's Delete", async () => {
    // Act
    const res = await restoreJson(dst.kubeconfig("admin"), snap, [
      "--resource",
      "persistentvolumes",
      "--name",
      "pv-spare",
      "--keep-reclaim-policy",
    ]);

    // Assert
    expect(res.code).toBe(0);
    expect(outcomes(res.report, "created")).toEqual(["persistentvolumes /pv-spare"]);
    expect(byId(res.report)["persistentvolumes /pv-spare"].notes).toBeUndefined();
    expect(
      (await dst.api("GET", "/api/v1/persistentvolumes/pv-spare")).body.spec.persistentVolumeReclaimPolicy,
    ).toBe("Delete");
  });
});

describe("moving and picking: --namespace-mappings and --name", () => {
  it("--dry-run with a mapping validates the moved Namespace and reports both names", async () => {
    // Act
    const dry = await restoreJson(dst.kubeconfig("admin"), snap, [
      "--namespace",
      NS,
      "--namespace-mappings",
      `${NS}:ops-dry`,
      "--dry-run",
    ]);

    // Assert
    expect(dry.code).toBe(0);
    expect(byId(dry.report)["namespaces /ops-dry"]).toMatchObject({ outcome: "created", mappedFrom: NS });
    expect(byId(dry.report)["configmaps ops-dry/orders-settings"]).toMatchObject({
      outcome: "skipped",
      rule: "dry-run-namespace",
      mappedFrom: NS,
    });
    expect((await dst.api("GET", "/api/v1/namespaces/ops-dry")).status).toBe(404);
  });

  it("moves objects, the Namespace, binding subjects and owner references to the new namespace", async () => {
    // Act
    const res = await cli([
      "restore",
      snap,
      "--kubeconfig",
      dst.kubeconfig("admin"),
      "--namespace",
      NS,
      "--namespace-mappings",
      `${NS}:ops-copy`,
    ]);

    // Assert
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const lines = res.stdout.split("\n");
    expect(lines).toContain(`  namespaces moved: ${NS} → ops-copy`);
    expect(lines).toContainEqual(expect.stringMatching(/^created +namespaces +ops-copy \(from ops\)$/));
    expect(lines).toContainEqual(
      expect.stringMatching(/^created +configmaps +ops-copy\/orders-settings \(from ops\)$/),
    );
    const binding = (
      await dst.api(
        "GET",
        "/apis/rbac.authorization.k8s.io/v1/namespaces/ops-copy/rolebindings/builder-reads",
      )
    ).body;
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "builder", namespace: "ops-copy" }]);
    const db = (await dst.api("GET", "/apis/ops.example.com/v1/namespaces/ops-copy/databases/orders")).body;
    const secret = (await dst.api("GET", "/api/v1/namespaces/ops-copy/secrets/orders-credentials")).body;
    expect(secret.metadata.ownerReferences).toEqual([
      expect.objectContaining({ name: "orders", uid: db.metadata.uid }),
    ]);
    // The original namespace's objects are untouched.
    const original = (await dst.api("GET", `/apis/ops.example.com/v1/namespaces/${NS}/databases/orders`))
      .body;
    expect(original.metadata.uid).not.toBe(db.metadata.uid);
  });

  it("moves the subjects of a ClusterRoleBinding picked by name", async () => {
    // Act
    const res = await restoreJson(dst.kubeconfig("admin"), snap, [
      "--resource",
      "clusterrolebindings.rbac.authorization.k8s.io",
      "--name",
      "ops-builders",
      "--namespace-mappings",
      `${NS}:ops-copy`,
    ]);

    // Assert
    expect(res.code).toBe(0);
    expect(outcomes(res.report, "created")).toEqual([
      "clusterrolebindings.rbac.authorization.k8s.io /ops-builders",
    ]);
    const crb = (await dst.api("GET", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/ops-builders"))
      .body;
    expect(crb.subjects).toEqual([{ kind: "ServiceAccount", name: "builder", namespace: "ops-copy" }]);
  });

  it("--name restores only the objects whose names match, and the Namespace and volume they need", async () => {
    // Act
    const res = await restoreJson(dst.kubeconfig("admin"), snap, [
      "--namespace",
      NS,
      "--name",
      "orders-*",
      "--namespace-mappings",
      `${NS}:ops-named`,
    ]);

    // Assert
    expect(res.code).toBe(0);
    expect(outcomes(res.report, "created")).toEqual([
      "configmaps ops-named/orders-settings",
      "namespaces /ops-named",
      "persistentvolumeclaims ops-named/orders-data",
      "secrets ops-named/orders-credentials",
    ]);
    expect(outcomes(res.report, "unchanged")).toEqual(["persistentvolumes /pv-orders"]);
    // Its owner was not picked: the reference goes, or the garbage collector would delete the Secret.
    expect(byId(res.report)["secrets ops-named/orders-credentials"].notes).toEqual([
      "ownerReference to Database orders dropped: the owner is not in the cluster",
    ]);
    expect(
      (await dst.api("GET", "/api/v1/namespaces/ops-named/secrets/orders-credentials")).body.metadata
        .ownerReferences,
    ).toBeUndefined();
  });
  it("links an object that exists without its owner's reference once the owner is restored", async () => {
    // Arrange: the --name restore above made the Secret without its owner

    // Act
    const res = await restoreJson(dst.kubeconfig("admin"), snap, [
      "--namespace",
      NS,
      "--namespace-mappings",
      `${NS}:ops-named`,
    ]);

    // Assert
    expect(res.code).toBe(0);
    expect(byId(res.report)["secrets ops-named/orders-credentials"]).toMatchObject({
      outcome: "unchanged",
      notes: ["ownerReferences to Database orders re-linked to the owners' new uids"],
    });
    const db = (await dst.api("GET", "/apis/ops.example.com/v1/namespaces/ops-named/databases/orders")).body;
    const secret = (await dst.api("GET", "/api/v1/namespaces/ops-named/secrets/orders-credentials")).body;
    expect(secret.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: "Database", name: "orders", uid: db.metadata.uid, controller: true }),
    ]);
    const relink = secret.metadata.managedFields.find((m: any) => m.manager === "kube-autosave-relink");
    expect(JSON.stringify(relink.fieldsV1)).toContain("ownerReferences");
  });
});

describe("snapshot folders that lie: symlinks, `..` keys, corrupt Secrets", () => {
  /** A List file with one ConfigMap that must never be restored. */
  const outside = JSON.stringify({
    apiVersion: "v1",
    kind: "List",
    items: [
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "from-outside", namespace: NS },
        data: { a: "b" },
      },
    ],
  });

  it("reads no file through a symbolic link, with or without a manifest", async () => {
    // Arrange: a data file and a namespace folder replaced by links to what lies outside the snapshot
    const dir = await copyOfSnapshot("symlinks");
    const elsewhere = join(work, "elsewhere");
    await mkdir(join(elsewhere, NS), { recursive: true });
    await writeFile(join(elsewhere, "configmaps.json"), outside);
    await writeFile(join(elsewhere, NS, "configmaps.json"), outside);
    await rm(join(dir, NS, "configmaps.json"));
    await symlink(join(elsewhere, "configmaps.json"), join(dir, NS, "configmaps.json"));
    const forced = await copyOfSnapshot("symlinked-folder");
    await rm(join(forced, "manifest.json"));
    await rm(join(forced, NS), { recursive: true });
    await symlink(join(elsewhere, NS), join(forced, NS));

    // Act
    const refused = await cli([
      "restore",
      dir,
      "--kubeconfig",
      dst.kubeconfig("admin"),
      "--namespace-mappings",
      `${NS}:ops-link`,
    ]);
    const withForce = await restoreJson(dst.kubeconfig("admin"), dir, [
      "--force",
      "--namespace-mappings",
      `${NS}:ops-link`,
    ]);
    const folder = await restoreJson(dst.kubeconfig("admin"), forced, [
      "--force",
      "--namespace-mappings",
      `${NS}:ops-link2`,
    ]);
    const verify = await cli(["verify", dir]);

    // Assert
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`has 1 unreadable file(s); nothing was restored`);
    expect(refused.stderr).toContain(
      `cannot read ${join(dir, NS, "configmaps.json")}: it is a symbolic link; only regular files inside the store are read`,
    );
    expect(withForce.report.files).toEqual([
      expect.objectContaining({
        key: `${NS}/configmaps.json`,
        outcome: "failed",
        message: expect.stringContaining("symbolic link"),
      }),
    ]);
    // Without a manifest, the linked folder's files are not even listed: nothing lands in its namespace.
    expect(folder.report.objects.filter((o: any) => o.namespace === "ops-link2")).toEqual([]);
    expect(byId(folder.report)["namespaces /ops-link2"]).toMatchObject({
      outcome: "created",
      mappedFrom: NS,
    });
    for (const r of [withForce, folder]) expect(JSON.stringify(r.report)).not.toContain("from-outside");
    expect((await dst.api("GET", "/api/v1/namespaces/ops-link/configmaps/from-outside")).status).toBe(404);
    expect(verify.code).toBe(1);
    expect(verify.stdout + verify.stderr).toContain(`${NS}/configmaps.json`);
  });

  it("refuses a manifest whose key leaves the snapshot folder, naming the key, and writes nothing", async () => {
    // Arrange
    const dir = await copyOfSnapshot("dotdot");
    await mkdir(join(work, "dotdot", "outside"), { recursive: true });
    await writeFile(join(work, "dotdot", "outside", "configmaps.json"), outside);
    const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8"));
    const index = manifest.files.findIndex((f: any) => f.key === `${NS}/configmaps.json`);
    manifest.files[index].key = "../outside/configmaps.json";
    await writeFile(join(dir, "manifest.json"), JSON.stringify(manifest));

    // Act
    const res = await cli([
      "restore",
      dir,
      "--kubeconfig",
      dst.kubeconfig("admin"),
      "--namespace-mappings",
      `${NS}:ops-dotdot`,
    ]);
    const forced = await cli([
      "restore",
      dir,
      "--kubeconfig",
      dst.kubeconfig("admin"),
      "--force",
      "--namespace-mappings",
      `${NS}:ops-dotdot`,
    ]);

    // Assert
    const message = `kube-autosave: ${join(dir, "manifest.json")}: files[${index}].key "../outside/configmaps.json" would leave the snapshot folder; the manifest is refused and nothing was restored\n`;
    expect(res).toEqual({ code: 1, stdout: "", stderr: message });
    expect(forced).toEqual({ code: 1, stdout: "", stderr: message });
    expect((await dst.api("GET", "/api/v1/namespaces/ops-dotdot")).status).toBe(404);
  });

  it("reports a corrupt secrets.json without quoting it: the planted value never appears", async () => {
    // Arrange: the quotes around the Secret's base64 value lost, where JSON.parse quotes the text
    const dir = await copyOfSnapshot("corrupt-secret");
    await rm(join(dir, "manifest.json"));
    const path = join(dir, NS, "secrets.json");
    const text = await readFile(path, "utf8");
    expect(text).toContain(`"${PLANTED_B64}"`);
    const corrupt = text.replace(`"${PLANTED_B64}"`, PLANTED_B64);
    await writeFile(path, corrupt);
    let parseMessage = "";
    try {
      JSON.parse(corrupt);
    } catch (err) {
      parseMessage = (err as Error).message;
    }
    // What the restore must not do: JSON.parse's own message quotes part of the value.
    expect(() => expectNoPartOfPlanted(parseMessage)).toThrow();

    // Act
    const json = await restoreJson(dst.kubeconfig("admin"), dir, ["--force", "--namespace", NS]);
    const text2 = await cli([
      "restore",
      dir,
      "--kubeconfig",
      dst.kubeconfig("admin"),
      "--force",
      "--namespace",
      NS,
    ]);

    // Assert
    expect(json.code).toBe(1);
    expect(json.report.files.filter((f: any) => f.outcome === "failed")).toEqual([
      {
        key: `${NS}/secrets.json`,
        resource: "secrets",
        namespace: NS,
        items: null,
        outcome: "failed",
        message: `${path} is not valid JSON`,
      },
    ]);
    expect(text2.code).toBe(1);
    for (const out of [JSON.stringify(json.report), json.stderr, text2.stdout, text2.stderr])
      expectNoPartOfPlanted(out);
  });
});

describe("writes on a bad network: retried like reads, and one that keeps failing fails only its object", () => {
  let proxy: FaultProxy & { kubeconfig(source: string): Promise<string> };
  let viaProxy: string;

  beforeAll(async () => {
    const serving = await issueCert(dst.pki, "restore-proxy", "/CN=restore-proxy", {
      serverNames: ["127.0.0.1"],
    });
    proxy = await startKubeFaultProxy({ upstream: dst.server, upstreamCaPem: dst.caPem, serving });
    viaProxy = await proxy.kubeconfig(dst.kubeconfig("admin"));
  });

  afterAll(async () => {
    await proxy?.close();
  });

  it("sends a create again after its connection is reset, and goes on past a create that fails every time", async () => {
    // Arrange: the first create of a ConfigMap is done by the server, then its answer is cut off; every
    // create of a Secret is refused with 503.
    const configMaps = /^\/api\/v1\/namespaces\/ops-faults\/configmaps\?/;
    const secrets = /^\/api\/v1\/namespaces\/ops-faults\/secrets\?/;
    proxy.rule({ method: "POST", path: configMaps, nth: [1], action: { kind: "reset", afterBytes: 0 } });
    proxy.rule({
      method: "POST",
      path: secrets,
      action: kubeStatus(503, "ServiceUnavailable", "etcd is slow"),
    });

    // Act
    const res = await restoreJson(viaProxy, snap, [
      "--namespace",
      NS,
      "--namespace-mappings",
      `${NS}:ops-faults`,
    ]);

    // Assert
    expect(res.code).toBe(1);
    expect(res.report.aborted).toBeUndefined();
    expect(proxy.count(configMaps, "POST")).toBe(2);
    expect(proxy.count(secrets, "POST")).toBe(6);
    expect(res.report.objects.filter((o: any) => o.outcome === "failed")).toEqual([
      expect.objectContaining({
        resource: "secrets",
        namespace: "ops-faults",
        name: "orders-credentials",
        status: 503,
        message: "ServiceUnavailable: etcd is slow",
      }),
    ]);
    // Created by the attempt whose answer was lost: the retry's AlreadyExists is compared, not failed.
    expect(byId(res.report)["configmaps ops-faults/orders-settings"].outcome).toBe("unchanged");
    expect((await dst.api("GET", "/api/v1/namespaces/ops-faults/configmaps/orders-settings")).status).toBe(
      200,
    );
    expect(outcomes(res.report, "created")).toContain("databases.ops.example.com ops-faults/orders");
    expect(outcomes(res.report, "created")).toContain(`deployments.apps ops-faults/web`);
  });
});

describe("owner references linked before admission webhooks exist", () => {
  const fixture = fileURLToPath(
    new URL("../fixtures/restore/webhook-after-links/2026-01-01_00-00-00", import.meta.url),
  );

  it("writes every owner reference before a webhook that would reject it exists; a StatefulSet's claim comes first, its reference left to the controller", async () => {
    try {
      // Act
      const res = await restoreJson(dst.kubeconfig("admin"), fixture, ["--force"]);

      // Assert
      expect(res.code).toBe(0);
      const order = res.report.objects.map(idOf);
      const owner = "configmaps hooks/app-settings";
      const owned = "secrets hooks/app-settings-token";
      const claim = "persistentvolumeclaims hooks/data-db-0";
      const statefulSet = "statefulsets.apps hooks/db";
      const webhook = "validatingwebhookconfigurations.admissionregistration.k8s.io /hooks-guard";
      expect(outcomes(res.report, "created")).toEqual(
        ["namespaces /hooks", owner, owned, claim, statefulSet, webhook].sort(),
      );
      expect(order.indexOf(owner)).toBeLessThan(order.indexOf(owned));
      expect(order.indexOf(owned)).toBeLessThan(order.indexOf(webhook));
      expect(order.indexOf(claim)).toBeLessThan(order.indexOf(statefulSet));
      const configMap = (await dst.api("GET", "/api/v1/namespaces/hooks/configmaps/app-settings")).body;
      const secret = (await dst.api("GET", "/api/v1/namespaces/hooks/secrets/app-settings-token")).body;
      expect(secret.metadata.ownerReferences).toEqual([
        {
          apiVersion: "v1",
          kind: "ConfigMap",
          name: "app-settings",
          uid: configMap.metadata.uid,
          controller: true,
        },
      ]);
      expect(byId(res.report)[claim].notes).toEqual([
        "ownerReference to StatefulSet db left to its controller: the StatefulSet controller sets or removes it by its persistentVolumeClaimRetentionPolicy; the claim comes first, as the controller would create a missing claim empty",
      ]);
      // The webhook has no backend: a reference written after it would have been refused.
      const rejected = await eventually("the webhook to refuse updates of the Secret", async () => {
        const patch = await dst.api(
          "PATCH",
          "/api/v1/namespaces/hooks/secrets/app-settings-token",
          { metadata: { labels: { touched: "yes" } } },
          "application/merge-patch+json",
        );
        return patch.status >= 400 ? patch : undefined;
      });
      expect(rejected.body.message).toContain('failed calling webhook "guard.hooks.example.com"');
    } finally {
      await dst.api(
        "DELETE",
        "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/hooks-guard",
      );
    }
  });
});

describe("API services", () => {
  const fixture = fileURLToPath(
    new URL("../fixtures/restore/api-service/2026-01-01_00-00-00", import.meta.url),
  );

  it("restores an API service that names a Service after that Service, and skips local ones", async () => {
    try {
      // Act
      const res = await restoreJson(dst.kubeconfig("admin"), fixture, ["--force"]);

      // Assert
      expect(res.code).toBe(0);
      const order = res.report.objects.map(idOf);
      expect(
        byId(res.report)["apiservices.apiregistration.k8s.io /v1beta1.adapter.example.com"].outcome,
      ).toBe("created");
      expect(
        order.indexOf("apiservices.apiregistration.k8s.io /v1beta1.adapter.example.com"),
      ).toBeGreaterThan(order.indexOf("services apis/metrics-adapter"));
      expect(byId(res.report)["apiservices.apiregistration.k8s.io /v1.ops.example.com"]).toMatchObject({
        outcome: "skipped",
        rule: "local-api-service",
      });
      const live = (
        await dst.api("GET", "/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.adapter.example.com")
      ).body;
      expect(live.spec.service).toEqual({ namespace: "apis", name: "metrics-adapter", port: 443 });
    } finally {
      // No backend runs: the group stays unavailable, which would only disturb later discovery.
      await dst.api("DELETE", "/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.adapter.example.com");
    }
  });
});

describe("Secret data never printed", () => {
  it("no output of this file holds the planted value or any 8 characters of its base64", () => {
    expect(printed.length).toBeGreaterThan(20);
    expectNoPartOfPlanted(printed.join("\n"));
  });
});
