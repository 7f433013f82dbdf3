// `kube-autosave snapshot` against a real cluster of its own (so the full key list is exact).
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeClient } from "../../src/kube/client.js";
import { loadKubeconfig } from "../../src/kube/kubeconfig.js";
import { KubeClusterReader } from "../../src/kube/reader.js";
import { takeSnapshot } from "../../src/snapshot/engine.js";
import type { ResourceFilters } from "../../src/snapshot/filters.js";
import type { ClusterReader, Logger, SnapshotStore } from "../../src/snapshot/ports.js";
import { FsStore } from "../../src/stores/fs.js";
import { S3Store } from "../../src/stores/s3.js";
import { runCli, s3Env, s3SnapshotArgs } from "../support/cli.js";
import { buildSampleCluster, type SampleCluster } from "../support/fixtures.js";
import { sharedS3 } from "../support/shared.js";
import { listKeys, onlySnapshot, readJson } from "../support/snapshot-files.js";
import { type OwnedCluster, startCluster } from "../support/testbed.js";

const PREFIX = "kube-aws/clusters/test/backup";
const DEFAULT_EXCLUDED = new Set([
  "events",
  "events.events.k8s.io",
  "componentstatuses",
  "leases.coordination.k8s.io",
]);
const quietLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const ALL: ResourceFilters = {
  includeResources: ["*"],
  excludeResources: [],
  includeNamespaces: ["*"],
  excludeNamespaces: [],
};

let cluster: OwnedCluster;
let sample: SampleCluster;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "kube-autosave-snapshot-test-"));
  cluster = await startCluster();
  sample = await buildSampleCluster(cluster, { namespaces: 6 });
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
  await rm(work, { recursive: true, force: true });
});

/** The keys a snapshot must hold, computed independently with kubectl (not with our discovery). */
async function expectedKeysFromKubectl(): Promise<string[]> {
  const names = (await cluster.kubectl(["api-resources", "--verbs=list", "-o", "name"], { user: "viewer" }))
    .trim()
    .split("\n")
    .filter((n) => !DEFAULT_EXCLUDED.has(n) && !n.endsWith(".metrics.k8s.io"));
  const keys = new Set<string>(["manifest.json"]);
  for (const name of names) {
    const list = JSON.parse(
      await cluster.kubectl(["get", name, "--all-namespaces", "-o", "json"], { user: "viewer" }),
    );
    for (const item of list.items) {
      if (name === "secrets" && item.type === "kubernetes.io/service-account-token") continue;
      const ns = item.metadata.namespace;
      keys.add(ns ? `${ns}/${name}.json` : `${name}.json`);
    }
  }
  return [...keys].sort();
}

async function snapshotToFolder(
  args: string[] = [],
): Promise<{ dir: string; snap: string; stdout: string; code: number; stderr: string }> {
  const dir = await mkdtemp(join(work, "out-"));
  const res = await runCli([
    "snapshot",
    "--kubeconfig",
    cluster.kubeconfig("viewer"),
    "--out",
    dir,
    "--cluster-name",
    "test",
    ...args,
  ]);
  const snap = res.code === 0 || res.code === 3 ? await onlySnapshot(join(dir, PREFIX)) : "";
  return { dir, snap, ...res };
}

describe("snapshot of a realistic cluster to a folder", () => {
  let snap: string;
  let manifest: any;

  beforeAll(async () => {
    const res = await snapshotToFolder();
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    snap = res.snap;
    manifest = await readJson(join(snap, "manifest.json"));
  });

  it("writes exactly one file per resource type and namespace that has items, plus the manifest", async () => {
    const expected = await expectedKeysFromKubectl();
    expect(await listKeys(snap)).toEqual(expected);
  });

  it("writes the sample namespaces' files under the documented names", async () => {
    const keys = await listKeys(snap);
    const ns = sample.namespaces[1] as string;
    expect(keys.filter((k) => k.startsWith(`${ns}/`))).toEqual(
      [
        "configmaps.json",
        "deployments.apps.json",
        "endpoints.json",
        "endpointslices.discovery.k8s.io.json",
        "networkpolicies.networking.k8s.io.json",
        "pods.json",
        "replicasets.apps.json",
        "resourcequotas.json",
        "rolebindings.rbac.authorization.k8s.io.json",
        "roles.rbac.authorization.k8s.io.json",
        "secrets.json",
        "serviceaccounts.json",
        "services.json",
        "widgets.example.com.json",
      ].map((f) => `${ns}/${f}`),
    );
    for (const k of [
      "namespaces.json",
      "persistentvolumes.json",
      "gizmos.example.com.json",
      "customresourcedefinitions.apiextensions.k8s.io.json",
    ]) {
      expect(keys).toContain(k);
    }
    expect(keys).toContain(`${sample.namespaces[0]}/persistentvolumeclaims.json`);
  });

  it("writes each file as a pretty-printed v1 List whose items carry apiVersion and kind", async () => {
    for (const key of await listKeys(snap)) {
      if (key === "manifest.json") continue;
      const text = await readFile(join(snap, key), "utf8");
      const list = JSON.parse(text);
      expect(text).toBe(`${JSON.stringify(list, null, 2)}\n`);
      expect(Object.keys(list)).toEqual(["apiVersion", "kind", "items"]);
      expect(list.items.length).toBeGreaterThan(0);
      for (const item of list.items) {
        expect(Object.keys(item).slice(0, 2)).toEqual(["apiVersion", "kind"]);
        expect(item.metadata).not.toHaveProperty("managedFields");
        expect(item.metadata).not.toHaveProperty("uid");
        expect(item.metadata).not.toHaveProperty("resourceVersion");
        expect(item.metadata).not.toHaveProperty("creationTimestamp");
        expect(item).not.toHaveProperty("status");
      }
    }
  });

  it("cleans services, PVs and PVCs, keeps nodePorts and headless clusterIPs, and never stores SA tokens", async () => {
    const ns = sample.namespaces[0] as string;
    const services = await readJson(join(snap, ns, "services.json"));
    const byName = Object.fromEntries(services.items.map((s: any) => [s.metadata.name, s]));
    expect(byName.web.spec).not.toHaveProperty("clusterIP");
    expect(byName.web.spec).not.toHaveProperty("clusterIPs");
    expect(byName.web.spec.ipFamilyPolicy).toBe("SingleStack");
    expect(byName["web-headless"].spec.clusterIP).toBe("None");
    expect(byName["web-nodeport"].spec.ports[0].nodePort).toBe(30000);
    const pvs = await readJson(join(snap, "persistentvolumes.json"));
    expect(pvs.items[0].metadata.name).toBe("pv-data");
    expect(pvs.items[0].spec).not.toHaveProperty("claimRef");
    const pvcs = await readJson(join(snap, ns, "persistentvolumeclaims.json"));
    expect(pvcs.items[0].metadata.annotations ?? {}).not.toHaveProperty("pv.kubernetes.io/bind-completed");
    expect(pvcs.items[0].spec.volumeName).toBe("pv-data");
    const secrets = await readJson(join(snap, ns, "secrets.json"));
    expect(secrets.items.map((s: any) => s.metadata.name)).toEqual(["db-password"]);
    expect(Buffer.from(secrets.items[0].data.password, "base64").toString()).toBe("s3cr3t-value-0");
  });

  it("keeps owner references of controller-made objects and unicode annotations byte for byte", async () => {
    const ns = sample.namespaces[2] as string;
    const rs = await readJson(join(snap, ns, "replicasets.apps.json"));
    expect(rs.items[0].metadata.ownerReferences[0]).toMatchObject({
      kind: "Deployment",
      name: "web",
      controller: true,
    });
    const cms = await readJson(join(snap, ns, "configmaps.json"));
    const settings = cms.items.find((c: any) => c.metadata.name === "settings");
    expect(settings.metadata.annotations["example.com/description"]).toBe("Grüße, 世界 — ünïcødé ✓");
    expect(settings.metadata.annotations["example.com/emoji"]).toBe("🚀");
    expect(settings.data.greeting).toBe("héllo wörld");
  });

  it("stores custom resources of both versions once, in the preferred version, unknown fields intact", async () => {
    const widgets = await readJson(join(snap, sample.namespaces[3] as string, "widgets.example.com.json"));
    expect(widgets.items.map((w: any) => [w.apiVersion, w.kind, w.metadata.name])).toEqual([
      ["example.com/v1", "Widget", "w-v1"],
      ["example.com/v1", "Widget", "w-v1beta1"],
    ]);
    expect(widgets.items[0].spec).toEqual({
      size: 3,
      big: 9007199254740991,
      nested: { list: [1, "two", { three: true }] },
      when: "2026-11-24T03:00:00Z",
    });
    const gizmos = await readJson(join(snap, "gizmos.example.com.json"));
    expect(gizmos.items[0]).toMatchObject({
      apiVersion: "example.com/v1",
      kind: "Gizmo",
      metadata: { name: "global-gizmo" },
    });
  });

  it("records every file with items, bytes and a sha256 that match what is stored", async () => {
    const keys = (await listKeys(snap)).filter((k) => k !== "manifest.json");
    expect(manifest.files.map((f: any) => f.key)).toEqual(keys);
    for (const f of manifest.files) {
      const bytes = await readFile(join(snap, f.key));
      expect(f.bytes).toBe(bytes.length);
      expect(f.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
      expect(f.items).toBe(JSON.parse(bytes.toString()).items.length);
    }
    expect(manifest.totals.files).toBe(keys.length);
    expect(manifest.totals.items).toBe(manifest.files.reduce((n: number, f: any) => n + f.items, 0));
  });

  it("writes a manifest that says Completed, what was listed and what was skipped, and a latest.json pointer", async () => {
    expect(manifest).toMatchObject({
      apiVersion: "kube-autosave/v1",
      kind: "SnapshotManifest",
      status: "Completed",
      cluster: { name: "test", serverVersion: "v1.36.3" },
      errors: [],
    });
    const listed = manifest.resources.map((r: any) => (r.group ? `${r.resource}.${r.group}` : r.resource));
    expect(listed).toEqual(
      expect.arrayContaining([
        "configmaps",
        "secrets",
        "deployments.apps",
        "widgets.example.com",
        "gizmos.example.com",
        "customresourcedefinitions.apiextensions.k8s.io",
      ]),
    );
    expect(new Set(listed).size).toBe(listed.length);
    const skipped = manifest.skipped.map((s: any) => s.resource);
    expect(skipped).toEqual(
      expect.arrayContaining([
        "events",
        "events.events.k8s.io",
        "leases.coordination.k8s.io",
        "componentstatuses",
      ]),
    );
    for (const s of manifest.skipped) expect(s.reason).toMatch(/\S{3,}/);
    const secrets = manifest.resources.find((r: any) => r.resource === "secrets" && r.group === "");
    expect(secrets.notStored).toBe(sample.namespaces.length);
    const latest = await readJson(join(snap, "..", "latest.json"));
    expect(latest).toMatchObject({
      snapshot: manifest.snapshot,
      manifest: `${manifest.snapshot}/manifest.json`,
      status: "Completed",
    });
  });

  it("writes Lists that kubectl create --dry-run=server accepts on a fresh cluster", async () => {
    // Without a controller manager the fresh namespaces stay empty (no default SA, no kube-root-ca.crt).
    const fresh = await startCluster({ controllerManager: false });
    try {
      const crds = await readJson(join(snap, "customresourcedefinitions.apiextensions.k8s.io.json"));
      await fresh.kubectl(["create", "-f", "-"], { input: JSON.stringify(crds) });
      await fresh.kubectl([
        "wait",
        "--for=condition=Established",
        "crd/widgets.example.com",
        "--timeout=60s",
      ]);
      const nss = await readJson(join(snap, "namespaces.json"));
      const sampleNs = nss.items.filter((n: any) => sample.namespaces.includes(n.metadata.name));
      await fresh.kubectl(["create", "-f", "-"], { input: JSON.stringify({ ...nss, items: sampleNs }) });
      for (const file of ["persistentvolumes.json", "gizmos.example.com.json"]) {
        await fresh.kubectl(["create", "--dry-run=server", "-f", join(snap, file)]);
      }
      for (const ns of sample.namespaces) {
        await fresh.kubectl(["create", "--dry-run=server", "-f", join(snap, ns)]);
      }
    } finally {
      await fresh.stop();
    }
  });
});

describe("listing", () => {
  async function engineRun(cluster: ClusterReader, root: string, pageSize: number) {
    return takeSnapshot(
      { cluster, store: new FsStore(root), clock: { now: () => new Date() }, logger: quietLogger },
      { clusterName: "test", filters: ALL, pageSize, concurrency: 4, raw: false, toolVersion: "test" },
    );
  }

  it("lists each type once across all namespaces: requests grow with pages, not namespaces", async () => {
    const conn = await loadKubeconfig(cluster.kubeconfig("viewer"));
    const client = new KubeClient(conn);
    const result = await engineRun(new KubeClusterReader(client), await mkdtemp(join(work, "req-")), 500);
    const groups = JSON.parse(await cluster.kubectl(["get", "--raw", "/apis"])).groups.length;
    // /version + /api/v1 + /apis + one per group, then one list per type (every type fits in one page).
    expect(client.requestCount).toBe(3 + groups + result.manifest.resources.length);
    client.close();
  });

  it("makes every data file durable (store.sync) after its commit and before the manifest is written", async () => {
    const conn = await loadKubeconfig(cluster.kubeconfig("viewer"));
    const client = new KubeClient(conn);
    const fs = new FsStore(await mkdtemp(join(work, "order-")));
    const events: string[] = [];
    const recording: SnapshotStore = {
      describe: (k) => fs.describe(k),
      openWrite: (key) => {
        const w = fs.openWrite(key);
        return {
          write: (c) => w.write(c),
          abort: () => w.abort(),
          commit: async () => {
            await w.commit();
            events.push(`commit ${key}`);
          },
        };
      },
      put: async (key, body) => {
        await fs.put(key, body);
        events.push(`put ${key}`);
      },
      createExclusive: (k, b) => fs.createExclusive(k, b),
      get: (k) => fs.get(k),
      list: (p) => fs.list(p),
      delete: (k) => fs.delete(k),
      sync: async () => {
        await fs.sync();
        events.push("sync");
      },
    };
    const result = await takeSnapshot(
      {
        cluster: new KubeClusterReader(client),
        store: recording,
        clock: { now: () => new Date() },
        logger: quietLogger,
      },
      { clusterName: "test", filters: ALL, pageSize: 2, concurrency: 4, raw: false, toolVersion: "test" },
    );
    client.close();
    const syncAt = events.indexOf("sync");
    const manifestAt = events.indexOf(`put ${result.manifestKey}`);
    expect(events.filter((e) => e === "sync")).toHaveLength(1);
    expect(events.slice(0, syncAt).filter((e) => e.startsWith("commit "))).toHaveLength(
      result.manifest.files.length,
    );
    expect(events.slice(syncAt).some((e) => e.startsWith("commit "))).toBe(false);
    expect(manifestAt).toBeGreaterThan(syncAt);
  });

  it("produces identical files with pages of 3 items as with pages of 500", async () => {
    const conn = await loadKubeconfig(cluster.kubeconfig("viewer"));
    const client = new KubeClient(conn);
    const small = await engineRun(new KubeClusterReader(client), await mkdtemp(join(work, "p3-")), 3);
    const pagedRequests = client.requestCount;
    const big = await engineRun(new KubeClusterReader(client), await mkdtemp(join(work, "p500-")), 500);
    const strip = (m: typeof small.manifest) => m.files.map((f) => [f.key, f.sha256, f.items]);
    expect(strip(small.manifest)).toEqual(strip(big.manifest));
    expect(pagedRequests).toBeGreaterThan(client.requestCount - pagedRequests + 20);
    client.close();
  });

  it("restarts a type's list when its continue token expires (real etcd compaction) and stores each object once", async () => {
    const conn = await loadKubeconfig(cluster.kubeconfig("viewer"));
    const client = new KubeClient(conn);
    const reader = new KubeClusterReader(client);
    let compactions = 0;
    // Compacts etcd while the first page of configmaps is read (before the engine asks for the next
    // one, which it does after the first batch): the next page gets a real 410 Expired.
    const compacting: ClusterReader = {
      serverVersion: () => reader.serverVersion(),
      discover: () => reader.discover(),
      listPage: (type, opts, sink) =>
        reader.listPage(type, opts, async (items, bytes) => {
          if (type.resource === "configmaps" && !opts.continue && compactions === 0) {
            compactions += 1;
            await cluster.api("POST", "/api/v1/namespaces/default/configmaps", {
              metadata: { generateName: "bump-" },
            });
            await cluster.compactEtcd();
          }
          await sink(items, bytes);
        }),
    };
    const warnings: string[] = [];
    const root = await mkdtemp(join(work, "410-"));
    const result = await takeSnapshot(
      {
        cluster: compacting,
        store: new FsStore(root),
        clock: { now: () => new Date() },
        logger: { ...quietLogger, warn: (m) => warnings.push(m) },
      },
      {
        clusterName: "test",
        filters: { ...ALL, includeResources: ["configmaps"] },
        pageSize: 2,
        concurrency: 1,
        raw: false,
        toolVersion: "test",
      },
    );
    expect(compactions).toBe(1);
    expect(warnings).toContain("continue token expired; restarting the list");
    expect(result.manifest.status).toBe("Completed");
    const live = JSON.parse(await cluster.kubectl(["get", "configmaps", "-A", "-o", "json"])).items;
    const stored: string[] = [];
    for (const f of result.manifest.files) {
      const list = await readJson(join(root, result.snapshot, f.key));
      stored.push(...list.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`));
    }
    expect(stored.sort()).toEqual(live.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`).sort());
    expect(new Set(stored).size).toBe(stored.length);
    client.close();
  });
});

describe("partial failure", () => {
  it("records a forbidden type in errors, finishes PartiallyFailed with exit 3, and stores everything else", async () => {
    // "restricted" may list every group's resources except core secrets.
    const groups: string[] = JSON.parse(await cluster.kubectl(["get", "--raw", "/apis"])).groups.map(
      (g: any) => g.name,
    );
    const core = JSON.parse(await cluster.kubectl(["get", "--raw", "/api/v1"]))
      .resources.filter((r: any) => !r.name.includes("/") && r.name !== "secrets")
      .map((r: any) => r.name);
    await cluster.kubectl(["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: [
          {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "ClusterRole",
            metadata: { name: "all-but-secrets" },
            rules: [
              { apiGroups: [""], resources: core, verbs: ["get", "list"] },
              { apiGroups: groups, resources: ["*"], verbs: ["get", "list"] },
            ],
          },
          {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "ClusterRoleBinding",
            metadata: { name: "restricted-all-but-secrets" },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "all-but-secrets" },
            subjects: [{ kind: "User", name: "restricted", apiGroup: "rbac.authorization.k8s.io" }],
          },
        ],
      }),
    });
    const dir = await mkdtemp(join(work, "forbidden-"));
    const res = await runCli([
      "snapshot",
      "--kubeconfig",
      cluster.kubeconfig("restricted"),
      "--out",
      dir,
      "--cluster-name",
      "test",
    ]);
    expect(res.code).toBe(3);
    expect(res.stdout).toContain("PartiallyFailed");
    expect(res.stderr).toMatch(/resource type failed.*resource=secrets.*status=403/);
    const snap = await onlySnapshot(join(dir, PREFIX));
    const manifest = await readJson(join(snap, "manifest.json"));
    expect(manifest.status).toBe("PartiallyFailed");
    expect(manifest.errors).toEqual([
      { resource: "secrets", namespace: null, status: 403, message: expect.stringContaining("forbidden") },
    ]);
    const keys = await listKeys(snap);
    expect(keys.filter((k) => k.endsWith("/secrets.json"))).toEqual([]);
    expect(keys).toContain(`${sample.namespaces[0]}/configmaps.json`);
  });
});

describe("S3", () => {
  it("writes the same files to S3 as to a folder, with a manifest whose sha256s match the objects", async () => {
    const s3 = sharedS3();
    const bucket = await s3.createBucket("snap");
    const env = s3Env(s3);
    const res = await runCli(
      [...s3SnapshotArgs(cluster.kubeconfig("viewer"), bucket, s3), "--cluster-name", "test", "--json"],
      env,
    );
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const summary = JSON.parse(res.stdout);
    expect(summary.location).toBe(`s3://${bucket}/${PREFIX}/${summary.snapshot}`);
    const folder = await snapshotToFolder();
    const client = s3.client();
    const store = new S3Store({ client, bucket, prefix: PREFIX });
    const manifest = JSON.parse((await store.get(`${summary.snapshot}/manifest.json`))!.toString());
    const local = await readJson(join(folder.snap, "manifest.json"));
    expect(manifest.files.map((f: any) => [f.key, f.sha256])).toEqual(
      local.files.map((f: any) => [f.key, f.sha256]),
    );
    for (const f of manifest.files) {
      const body = (await store.get(`${summary.snapshot}/${f.key}`))!;
      expect(createHash("sha256").update(body).digest("hex")).toBe(f.sha256);
    }
    client.destroy();
  });
});
