// The synthetic clusters of the benchmark: N objects spread evenly over M namespaces, in the mix a
// real application cluster has (config and secrets with 1-4 KB payloads, workloads, services, RBAC,
// custom resources), created fast with parallel POSTs as admin, then left to the controllers to settle.
import { createHash } from "node:crypto";
import { WIDGET_CRD } from "../test/support/fixtures.js";
import type { Cluster } from "../test/support/testbed.js";

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
  /** Objects the benchmark creates (the controllers add their own on top). */
  readonly objects: number;
  readonly namespaces: number;
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
  return Array.from({ length: size.namespaces }, (_, i) => `bench-${String(i).padStart(3, "0")}`);
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
async function create(cluster: Cluster, path: string, body: object): Promise<void> {
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
  readonly createSeconds: number;
  readonly settleSeconds: number;
  readonly createConcurrency: number;
}

/**
 * Creates the CRD, the namespaces and `size.objects` objects, then waits until the controllers made
 * what they own (a ReplicaSet per Deployment, Endpoints and an EndpointSlice per Service) and went quiet.
 */
export async function populate(
  cluster: Cluster,
  size: Size,
  options: { concurrency: number; log: (line: string) => void },
): Promise<PopulateReport> {
  const started = performance.now();
  await create(cluster, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", WIDGET_CRD);
  await cluster.kubectl(["wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=60s"]);
  const namespaces = namespaceNames(size);
  await pool(namespaces, options.concurrency, (name) =>
    create(cluster, "/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name, labels: { "bench.kube-autosave.io/size": String(size.objects) } },
    }),
  );
  // Spread the remainder over the first namespaces so the total is exact.
  const perNs = Math.floor(size.objects / size.namespaces);
  const extra = size.objects - perNs * size.namespaces;
  const objects = namespaces.flatMap((ns, i) => namespaceObjects(ns, perNs + (i < extra ? 1 : 0)));
  let done = 0;
  let lastLog = performance.now();
  await pool(objects, options.concurrency, async ({ path, body }) => {
    await create(cluster, path, body);
    done += 1;
    if (performance.now() - lastLog > 10_000) {
      lastLog = performance.now();
      const rate = done / ((lastLog - started) / 1000);
      options.log(`  created ${done}/${objects.length} objects (${rate.toFixed(0)}/s)`);
    }
  });
  const created = performance.now();
  const deployments = objects.filter((o) => o.path.endsWith("/deployments")).length;
  const services = objects.filter((o) => o.path.endsWith("/services")).length;
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
      counts.replicasets >= deployments && counts.endpointslices >= services && counts.endpoints >= services;
    const key = JSON.stringify(counts);
    if (complete && key === previous) {
      if (Date.now() - stableSince >= 5000) break;
    } else {
      previous = key;
      stableSince = Date.now();
    }
    if (Date.now() > deadline) throw new Error(`the controllers did not settle: ${key}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const settled = performance.now();
  return {
    created: objects.length,
    createSeconds: (created - started) / 1000,
    settleSeconds: (settled - created) / 1000,
    createConcurrency: options.concurrency,
  };
}
