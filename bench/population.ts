// The synthetic clusters of the benchmark. A "mix" size is N objects spread evenly over M namespaces, in
// the mix a real application cluster has (config and secrets with 1-4 KB payloads, workloads, services,
// RBAC, custom resources); the "heavy" size is few but big objects (bench/heavy.ts). Both are created fast
// with parallel POSTs as admin, then left to the controllers to settle.
import { createHash } from "node:crypto";
import { WIDGET_CRD } from "../test/support/fixtures.js";
import type { Cluster } from "../test/support/testbed.js";
import {
  benchNamespace,
  HEAVY,
  HEAVY_OBJECTS,
  heavyCrdNames,
  heavyCrds,
  heavyCustomResources,
  helmReleases,
} from "./heavy.js";

/** Share of each kind in every namespace (sums to 1); the rounding remainder goes to config maps. */
export const OBJECT_MIX = [
  { kind: "ConfigMap", share: 0.3 },
  { kind: "Secret", share: 0.25 },
  { kind: "Deployment", share: 0.08 },
  { kind: "Service", share: 0.08 },
  { kind: "ServiceAccount", share: 0.07 },
  { kind: "Role", share: 0.07 },
  { kind: "RoleBinding", share: 0.07 },
  { kind: "Widget", share: 0.08 },
] as const;

type Kind = (typeof OBJECT_MIX)[number]["kind"];

/** Where each kind is POSTed, relative to its namespace. */
const COLLECTION: Record<Kind, string> = {
  ConfigMap: "/api/v1/namespaces/{ns}/configmaps",
  Secret: "/api/v1/namespaces/{ns}/secrets",
  Deployment: "/apis/apps/v1/namespaces/{ns}/deployments",
  Service: "/api/v1/namespaces/{ns}/services",
  ServiceAccount: "/api/v1/namespaces/{ns}/serviceaccounts",
  Role: "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
  RoleBinding: "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
  Widget: "/apis/example.com/v1/namespaces/{ns}/widgets",
};

export interface Size {
  /** "mix": the application mix below; "heavy": Helm releases and CRDs with big schemas (heavy.ts). */
  readonly kind: "mix" | "heavy";
  /** As given to --sizes, normalised: 2k, 10k, 50k, 200:4, heavy. */
  readonly name: string;
  /** Objects the benchmark creates (the controllers add their own on top). */
  readonly objects: number;
  readonly namespaces: number;
}

export const HEAVY_SIZE: Size = {
  kind: "heavy",
  name: "heavy",
  objects: HEAVY_OBJECTS,
  namespaces: HEAVY.namespaces,
};

/** A mix size's name: objects in k when round, the namespaces only when not the default. */
export function mixSize(objects: number, namespaces = namespacesFor(objects)): Size {
  const count = objects % 1000 === 0 ? `${objects / 1000}k` : String(objects);
  const name = namespaces === namespacesFor(objects) ? count : `${count}:${namespaces}`;
  return { kind: "mix", name, objects, namespaces };
}

/** Namespaces per size of the issue (20 / 100 / 200); other sizes get one namespace per 100 objects, 200 at most. */
export function namespacesFor(objects: number): number {
  if (objects <= 2000) return Math.max(1, Math.min(20, Math.round(objects / 100)));
  if (objects <= 10_000) return 100;
  return 200;
}

/** Deterministic bytes, so every run builds the same cluster. */
function bytes(seed: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  let block = createHash("sha256").update(seed).digest();
  for (let off = 0; off < length; off += block.length) {
    block.copy(out, off);
    block = createHash("sha256").update(block).digest();
  }
  return out;
}

/** A payload size between 1 and 4 KiB, fixed per object. */
function payloadSize(seed: string): number {
  return 1024 + (bytes(seed, 4).readUInt32BE(0) % 3073);
}

/** An application config file of about `size` bytes, like the ones teams keep in config maps. */
function configText(seed: string, size: number): string {
  const lines: string[] = [];
  const hex = bytes(seed, size).toString("hex");
  let used = 0;
  for (let i = 0; used < size; i++) {
    const line = `service.${i % 7 === 0 ? "feature" : "setting"}.key${i}=${hex.slice((i * 24) % (hex.length - 24), ((i * 24) % (hex.length - 24)) + 24)}`;
    lines.push(line);
    used += line.length + 1;
  }
  return `${lines.join("\n")}\n`;
}

/** The objects of one namespace, in creation order (service accounts before the bindings naming them). */
export function namespaceObjects(ns: string, count: number): { path: string; body: object }[] {
  const counts = new Map<Kind, number>();
  let assigned = 0;
  for (const { kind, share } of OBJECT_MIX) {
    const n = Math.floor(count * share);
    counts.set(kind, n);
    assigned += n;
  }
  counts.set("ConfigMap", (counts.get("ConfigMap") ?? 0) + count - assigned);
  const order: Kind[] = [
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ConfigMap",
    "Secret",
    "Deployment",
    "Service",
    "Widget",
  ];
  const out: { path: string; body: object }[] = [];
  for (const kind of order) {
    const path = COLLECTION[kind].replace("{ns}", ns);
    for (let i = 0; i < (counts.get(kind) ?? 0); i++) out.push({ path, body: objectOf(kind, ns, i) });
  }
  return out;
}

function objectOf(kind: Kind, ns: string, i: number): object {
  const seed = `${ns}/${kind}/${i}`;
  const app = `app-${i % 12}`;
  const labels = { "app.kubernetes.io/name": app, "app.kubernetes.io/part-of": ns, tier: "backend" };
  switch (kind) {
    case "ConfigMap":
      return {
        apiVersion: "v1",
        kind,
        metadata: { name: `config-${i}`, namespace: ns, labels },
        data: { "application.properties": configText(seed, payloadSize(seed)) },
      };
    case "Secret":
      return {
        apiVersion: "v1",
        kind,
        metadata: { name: `secret-${i}`, namespace: ns, labels },
        type: "Opaque",
        // base64 grows the payload by a third: the raw bytes are sized so the stored value is 1-4 KiB.
        data: { "credentials.bin": bytes(seed, Math.floor((payloadSize(seed) * 3) / 4)).toString("base64") },
      };
    case "Deployment":
      return {
        apiVersion: "apps/v1",
        kind,
        metadata: { name: `deploy-${i}`, namespace: ns, labels },
        spec: {
          // No pods: with no scheduler or kubelet they would stay Pending; the ReplicaSet is still created.
          replicas: 0,
          selector: { matchLabels: { "app.kubernetes.io/name": `deploy-${i}` } },
          template: {
            metadata: { labels: { ...labels, "app.kubernetes.io/name": `deploy-${i}` } },
            spec: {
              serviceAccountName: "default",
              containers: [
                {
                  name: "app",
                  image: `registry.example.com/${ns}/${app}:1.${i % 40}.0`,
                  ports: [{ name: "http", containerPort: 8080 }],
                  env: [
                    { name: "LOG_LEVEL", value: "info" },
                    { name: "CONFIG_PATH", value: "/etc/app/application.properties" },
                    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                  ],
                  envFrom: [{ secretRef: { name: `secret-${i % 4}`, optional: true } }],
                  resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
                  readinessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 10 },
                  volumeMounts: [{ name: "config", mountPath: "/etc/app" }],
                },
              ],
              volumes: [{ name: "config", configMap: { name: `config-${i % 4}`, optional: true } }],
            },
          },
        },
      };
    case "Service":
      return {
        apiVersion: "v1",
        kind,
        metadata: { name: `svc-${i}`, namespace: ns, labels },
        spec: {
          selector: { "app.kubernetes.io/name": `deploy-${i}` },
          ports: [{ name: "http", port: 80, targetPort: "http" }],
        },
      };
    case "ServiceAccount":
      return { apiVersion: "v1", kind, metadata: { name: `sa-${i}`, namespace: ns, labels } };
    case "Role":
      return {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind,
        metadata: { name: `role-${i}`, namespace: ns, labels },
        rules: [
          { apiGroups: [""], resources: ["configmaps", "secrets"], verbs: ["get", "list", "watch"] },
          { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "patch"] },
        ],
      };
    case "RoleBinding":
      return {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind,
        metadata: { name: `binding-${i}`, namespace: ns, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: `role-${i}` },
        subjects: [{ kind: "ServiceAccount", name: `sa-${i}`, namespace: ns }],
      };
    case "Widget":
      return {
        apiVersion: "example.com/v1",
        kind,
        metadata: { name: `widget-${i}`, namespace: ns, labels },
        spec: {
          size: (i % 9) + 1,
          owner: `team-${i % 5}`,
          settings: Object.fromEntries(
            Array.from({ length: 8 }, (_, k) => [`option${k}`, bytes(`${seed}/${k}`, 16).toString("hex")]),
          ),
        },
      };
  }
}

/** Names of the namespaces of a size. */
export function namespaceNames(size: Size): string[] {
  return Array.from({ length: size.namespaces }, (_, i) => benchNamespace(i));
}

/** Runs `work` over `items` with at most `concurrency` in flight. */
async function pool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** POSTs one object, retrying what a busy API server answers (429, 5xx, resets); 409 means it exists. */
async function create(cluster: Cluster, path: string, body: object | string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await cluster.api("POST", path, body);
      if (res.status === 201 || res.status === 200 || res.status === 409) return;
      if (res.status !== 429 && res.status < 500)
        throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    } catch (err) {
      if (attempt >= 8 || (err as Error).message.startsWith("POST ")) throw err;
    }
    if (attempt >= 8) throw new Error(`POST ${path}: still failing after ${attempt} attempts`);
    await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
  }
}

/** How many objects a cluster-wide list would return (limit=1 plus the server's remainingItemCount). */
export async function countObjects(cluster: Cluster, collection: string): Promise<number> {
  const res = await cluster.api("GET", `${collection}?limit=1`);
  if (res.status !== 200) throw new Error(`GET ${collection}: ${res.status}`);
  return (res.body.items?.length ?? 0) + (res.body.metadata?.remainingItemCount ?? 0);
}

export interface PopulateReport {
  readonly created: number;
  /** Bytes of the JSON bodies POSTed (the heavy size's 300+ MB is checked against this). */
  readonly bytesCreated: number;
  readonly createSeconds: number;
  readonly settleSeconds: number;
  readonly createConcurrency: number;
}

interface Options {
  readonly concurrency: number;
  readonly log: (line: string) => void;
}

/** What a size creates after its namespaces, in order; bodies are built when sent. */
type Creation = { readonly path: string; readonly body: () => object | string };

/**
 * Creates the size's objects (CRDs first, established before their resources), then waits until the
 * controllers made what they own (a ReplicaSet per Deployment, Endpoints and an EndpointSlice per
 * Service, a service account and a config map per namespace) and went quiet.
 */
export async function populate(cluster: Cluster, size: Size, options: Options): Promise<PopulateReport> {
  const started = performance.now();
  const crds = size.kind === "heavy" ? heavyCrds() : [{ path: CRDS, body: () => WIDGET_CRD }];
  let bytesCreated = await createAll(cluster, crds, options, "CRDs");
  await waitEstablished(cluster, size.kind === "heavy" ? heavyCrdNames() : ["widgets.example.com"]);
  const namespaces = namespaceNames(size).map((name) => ({
    path: "/api/v1/namespaces",
    body: () => ({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name,
        labels: { "bench.kube-autosave.io/size": size.kind === "heavy" ? "heavy" : String(size.objects) },
      },
    }),
  }));
  bytesCreated += await createAll(cluster, namespaces, options, "namespaces");
  const objects = size.kind === "heavy" ? [...helmReleases(), ...heavyCustomResources()] : mixObjects(size);
  bytesCreated += await createAll(cluster, objects, options, "objects");
  const created = performance.now();
  const owners = {
    deployments: objects.filter((o) => o.path.endsWith("/deployments")).length,
    services: objects.filter((o) => o.path.endsWith("/services")).length,
  };
  await settle(cluster, owners);
  return {
    // The mix's Widget CRD is scaffolding; the heavy size's CRDs are part of what it measures.
    created: objects.length + (size.kind === "heavy" ? crds.length : 0),
    bytesCreated,
    createSeconds: (created - started) / 1000,
    settleSeconds: (performance.now() - created) / 1000,
    createConcurrency: options.concurrency,
  };
}

const CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

/** The mix's objects over its namespaces, the remainder spread over the first ones so the total is exact. */
function mixObjects(size: Size): Creation[] {
  const perNs = Math.floor(size.objects / size.namespaces);
  const extra = size.objects - perNs * size.namespaces;
  return namespaceNames(size).flatMap((ns, i) =>
    namespaceObjects(ns, perNs + (i < extra ? 1 : 0)).map(({ path, body }) => ({ path, body: () => body })),
  );
}

/** POSTs every item, `concurrency` at a time, logging progress every 10 s; returns the bytes sent. */
async function createAll(
  cluster: Cluster,
  items: Creation[],
  options: Options,
  what: string,
): Promise<number> {
  const started = performance.now();
  let done = 0;
  let bytes = 0;
  let lastLog = started;
  await pool(items, options.concurrency, async ({ path, body }) => {
    const made = body();
    const text = typeof made === "string" ? made : JSON.stringify(made);
    await create(cluster, path, text);
    bytes += text.length;
    done += 1;
    if (performance.now() - lastLog > 10_000) {
      lastLog = performance.now();
      const rate = done / ((lastLog - started) / 1000);
      options.log(
        `  created ${done}/${items.length} ${what} (${rate.toFixed(0)}/s, ${(bytes / 1e6).toFixed(0)} MB)`,
      );
    }
  });
  return bytes;
}

/** Waits until every CRD serves its resources (`kubectl wait` fails on CRDs that have no conditions yet). */
async function waitEstablished(cluster: Cluster, names: readonly string[]): Promise<void> {
  const deadline = Date.now() + 5 * 60_000;
  for (const name of names) {
    for (;;) {
      const res = await cluster.api("GET", `${CRDS}/${name}`);
      const conditions: { type: string; status: string }[] = res.body?.status?.conditions ?? [];
      if (conditions.some((c) => c.type === "Established" && c.status === "True")) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not established after 5 minutes`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Waits until the controllers' objects are all there and their counts stayed the same for 5 s. */
async function settle(cluster: Cluster, owners: { deployments: number; services: number }): Promise<void> {
  const watched = {
    replicasets: "/apis/apps/v1/replicasets",
    endpointslices: "/apis/discovery.k8s.io/v1/endpointslices",
    endpoints: "/api/v1/endpoints",
    serviceaccounts: "/api/v1/serviceaccounts",
    configmaps: "/api/v1/configmaps",
  } as const;
  let previous = "";
  let stableSince = 0;
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    const counts = Object.fromEntries(
      await Promise.all(
        Object.entries(watched).map(
          async ([name, path]) => [name, await countObjects(cluster, path)] as const,
        ),
      ),
    ) as Record<keyof typeof watched, number>;
    const complete =
      counts.replicasets >= owners.deployments &&
      counts.endpointslices >= owners.services &&
      counts.endpoints >= owners.services;
    const key = JSON.stringify(counts);
    if (complete && key === previous) {
      if (Date.now() - stableSince >= 5000) return;
    } else {
      previous = key;
      stableSince = Date.now();
    }
    if (Date.now() > deadline) throw new Error(`the controllers did not settle: ${key}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
