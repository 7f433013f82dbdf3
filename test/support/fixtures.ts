// A realistic sample cluster for snapshot/restore tests: built-ins of every common kind, a CRD
// with custom resources in two versions, controller-owned objects, unicode annotations.
import type { Cluster } from "./testbed.js";

/** Polls until `fn` returns a value (not undefined). */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
}

export const WIDGET_CRD = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.example.com" },
  spec: {
    group: "example.com",
    names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
    scope: "Namespaced",
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
      },
      {
        name: "v1beta1",
        served: true,
        storage: false,
        schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
      },
    ],
  },
};

export const GIZMO_CRD = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "gizmos.example.com" },
  spec: {
    group: "example.com",
    names: { plural: "gizmos", singular: "gizmo", kind: "Gizmo" },
    scope: "Cluster",
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
      },
    ],
  },
};

/** Objects of one sample namespace (apply order matters: SA before its token secret). */
export function namespaceObjects(ns: string, index: number): object[] {
  const labels = { app: "web", tier: "frontend" };
  return [
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: "settings",
        namespace: ns,
        labels: { "team.example.com/owner": "platform" },
        annotations: { "example.com/description": "Grüße, 世界 — ünïcødé ✓", "example.com/emoji": "🚀" },
      },
      data: { "app.properties": `color=blue\nindex=${index}\n`, greeting: "héllo wörld" },
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "db-password", namespace: ns },
      type: "Opaque",
      stringData: { password: `s3cr3t-value-${index}` },
    },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "builder", namespace: ns } },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "builder-token",
        namespace: ns,
        annotations: { "kubernetes.io/service-account.name": "builder" },
      },
      type: "kubernetes.io/service-account-token",
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: ns, labels },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: "web", image: "nginx:1.27", ports: [{ containerPort: 80 }] }] },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: ns },
      spec: {
        selector: labels,
        ipFamilyPolicy: "SingleStack",
        ipFamilies: ["IPv4"],
        ports: [{ port: 80, targetPort: 80 }],
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web-headless", namespace: ns },
      spec: { clusterIP: "None", selector: labels, ports: [{ port: 80 }] },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web-nodeport", namespace: ns },
      spec: { type: "NodePort", selector: labels, ports: [{ port: 80, nodePort: 30000 + index }] },
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "reader", namespace: ns },
      rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "builder-reads", namespace: ns },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "reader" },
      subjects: [{ kind: "ServiceAccount", name: "builder", namespace: ns }],
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "deny-all", namespace: ns },
      spec: { podSelector: {}, policyTypes: ["Ingress"] },
    },
    {
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: { name: "quota", namespace: ns },
      spec: { hard: { "count/configmaps": "50" } },
    },
    {
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "w-v1", namespace: ns },
      spec: {
        size: 3,
        big: 9007199254740991,
        nested: { list: [1, "two", { three: true }] },
        when: "2026-11-24T03:00:00Z",
      },
    },
    {
      apiVersion: "example.com/v1beta1",
      kind: "Widget",
      metadata: { name: "w-v1beta1", namespace: ns },
      spec: { size: 1, legacy: "yes" },
    },
  ];
}

/** Cluster-scoped sample objects (the PV is bound to the PVC of the first sample namespace). */
export function clusterObjects(firstNs: string): object[] {
  return [
    {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "pv-data" },
      spec: {
        capacity: { storage: "1Gi" },
        accessModes: ["ReadWriteOnce"],
        persistentVolumeReclaimPolicy: "Retain",
        storageClassName: "manual",
        hostPath: { path: "/tmp/pv-data" },
        claimRef: { namespace: firstNs, name: "data" },
      },
    },
    {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data", namespace: firstNs },
      spec: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: "manual",
        resources: { requests: { storage: "1Gi" } },
        volumeName: "pv-data",
      },
    },
    {
      apiVersion: "example.com/v1",
      kind: "Gizmo",
      metadata: { name: "global-gizmo" },
      spec: { color: "red" },
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "sample-aggregate", labels: { "example.com/sample": "true" } },
      rules: [{ apiGroups: ["example.com"], resources: ["widgets"], verbs: ["get", "list"] }],
    },
  ];
}

export interface SampleCluster {
  readonly namespaces: string[];
}

/** Creates the sample objects and waits until the controllers have made their owned objects. */
export async function buildSampleCluster(
  cluster: Cluster,
  options: { namespaces: number; prefix?: string },
): Promise<SampleCluster> {
  const prefix = options.prefix ?? "app";
  const namespaces = Array.from({ length: options.namespaces }, (_, i) => `${prefix}-${i}`);
  await cluster.kubectl(["apply", "-f", "-"], {
    input: JSON.stringify({ apiVersion: "v1", kind: "List", items: [WIDGET_CRD, GIZMO_CRD] }),
  });
  await cluster.kubectl([
    "wait",
    "--for=condition=Established",
    "crd/widgets.example.com",
    "crd/gizmos.example.com",
    "--timeout=60s",
  ]);
  await cluster.kubectl(["apply", "-f", "-"], {
    input: JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: namespaces.map((name) => ({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name, labels: { "example.com/sample": "true" } },
      })),
    }),
  });
  // The ServiceAccount admission plugin needs each namespace's default service account first.
  for (const ns of namespaces) {
    await eventually(`the default service account of ${ns}`, async () =>
      (await cluster.api("GET", `/api/v1/namespaces/${ns}/serviceaccounts/default`)).status === 200
        ? true
        : undefined,
    );
  }
  const items = [
    ...namespaces.flatMap((ns, i) => namespaceObjects(ns, i)),
    ...clusterObjects(namespaces[0] as string),
  ];
  await eventually("the sample objects to apply", async () => {
    await cluster.kubectl(["apply", "-f", "-"], {
      input: JSON.stringify({ apiVersion: "v1", kind: "List", items }),
    });
    return true;
  });
  // Wait for what the controllers own: ReplicaSets, Pods, EndpointSlices, SA token data, the PV binding.
  for (const ns of namespaces) {
    await eventually(`two pods in ${ns}`, async () =>
      (await cluster.api("GET", `/api/v1/namespaces/${ns}/pods`)).body.items?.length === 2 ? true : undefined,
    );
    await eventually(`endpoint slices in ${ns}`, async () =>
      (await cluster.api("GET", `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`)).body.items
        ?.length >= 3
        ? true
        : undefined,
    );
    await eventually(`the token of builder-token in ${ns}`, async () =>
      (await cluster.api("GET", `/api/v1/namespaces/${ns}/secrets/builder-token`)).body.data?.token
        ? true
        : undefined,
    );
  }
  await eventually("the PVC to be bound", async () =>
    (await cluster.api("GET", `/api/v1/namespaces/${namespaces[0]}/persistentvolumeclaims/data`)).body.status
      ?.phase === "Bound"
      ? true
      : undefined,
  );
  return { namespaces };
}

/** A CRD schema property the API server validates as a signed 64-bit integer. */
export const INT64 = { type: "integer", format: "int64" } as const;

/**
 * A namespaced CRD whose `spec` has the given typed properties (e.g. `INT64`)
 * validated by the API server, one structural schema version v1.
 */
export function crdWithSpec(
  group: string,
  names: { plural: string; singular: string; kind: string },
  properties: Record<string, object>,
): { apiVersion: string; kind: string; metadata: { name: string }; spec: object } {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${names.plural}.${group}` },
    spec: {
      group,
      names,
      scope: "Namespaced",
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: { type: "object", properties: { spec: { type: "object", properties } } },
          },
        },
      ],
    },
  };
}
