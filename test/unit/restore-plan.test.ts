import { describe, expect, it } from "vitest";
import {
  decideObject,
  differences,
  type ObjectDecision,
  parseFileKey,
  parseSelector,
  planRestore,
  type RestoreFilters,
  type SnapshotFile,
  SnapshotIndex,
} from "../../src/restore/plan.js";
import type { KubeObject } from "../../src/snapshot/ports.js";

const ALL: RestoreFilters = { namespaces: [], resources: [] };

/** A file as the manifest lists it, from its key. */
function file(key: string): SnapshotFile {
  const parsed = parseFileKey(key);
  if (!parsed) throw new Error(`bad key ${key}`);
  return parsed;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** A tiny snapshot held in memory: objects by file key. */
type Snapshot = Record<string, KubeObject[]>;

function indexOf(snapshot: Snapshot, filters: RestoreFilters = ALL): SnapshotIndex {
  const index = new SnapshotIndex(filters);
  for (const [key, items] of Object.entries(snapshot)) for (const item of items) index.add(file(key), item);
  return index;
}

/** Decides every object of the snapshot, by `<key> <name>`. */
function decideAll(snapshot: Snapshot, filters: RestoreFilters = ALL): Record<string, ObjectDecision> {
  const index = indexOf(snapshot, filters);
  const out: Record<string, ObjectDecision> = {};
  for (const [key, items] of Object.entries(snapshot))
    for (const item of items)
      out[`${key} ${item.metadata?.name}`] = decideObject(file(key), item, index, filters);
  return out;
}

function outcome(d: ObjectDecision | undefined): string {
  if (!d) return "missing";
  return d.action === "skip" ? `skip:${d.rule}` : "restore";
}

const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name, labels },
});
const owner = (apiVersion: string, kind: string, name: string, controller = true) => ({
  apiVersion,
  kind,
  name,
  uid: "uid-of-the-old-cluster",
  ...(controller ? { controller: true, blockOwnerDeletion: true } : {}),
});
const obj = (
  apiVersion: string,
  kind: string,
  name: string,
  namespace?: string,
  extra: Record<string, unknown> = {},
  metadata: Record<string, unknown> = {},
): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}), ...metadata },
  ...extra,
});

describe("planRestore: order of the files", () => {
  it("restores CRDs first, then the dependency order, then other types alphabetically, then workloads and admission", () => {
    // Arrange: every file of a realistic snapshot, in the store's (alphabetical) order
    const keys = [
      "app/configmaps.json",
      "app/cronjobs.batch.json",
      "app/daemonsets.apps.json",
      "app/deployments.apps.json",
      "app/endpoints.json",
      "app/ingresses.networking.k8s.io.json",
      "app/jobs.batch.json",
      "app/limitranges.json",
      "app/networkpolicies.networking.k8s.io.json",
      "app/persistentvolumeclaims.json",
      "app/pods.json",
      "app/replicasets.apps.json",
      "app/resourcequotas.json",
      "app/rolebindings.rbac.authorization.k8s.io.json",
      "app/roles.rbac.authorization.k8s.io.json",
      "app/secrets.json",
      "app/serviceaccounts.json",
      "app/services.json",
      "app/statefulsets.apps.json",
      "app/widgets.example.com.json",
      "b-app/configmaps.json",
      "a-app/configmaps.json",
      "clusterrolebindings.rbac.authorization.k8s.io.json",
      "clusterroles.rbac.authorization.k8s.io.json",
      "customresourcedefinitions.apiextensions.k8s.io.json",
      "gizmos.example.com.json",
      "namespaces.json",
      "persistentvolumes.json",
      "priorityclasses.scheduling.k8s.io.json",
      "storageclasses.storage.k8s.io.json",
      "validatingwebhookconfigurations.admissionregistration.k8s.io.json",
      "mutatingwebhookconfigurations.admissionregistration.k8s.io.json",
    ];

    // Act
    const plan = planRestore(keys.map(file), ALL);

    // Assert
    expect(plan.notSelected).toEqual([]);
    expect(plan.steps.map((s) => s.file.key)).toEqual([
      "customresourcedefinitions.apiextensions.k8s.io.json",
      "namespaces.json",
      "storageclasses.storage.k8s.io.json",
      "priorityclasses.scheduling.k8s.io.json",
      "persistentvolumes.json",
      "app/persistentvolumeclaims.json",
      "clusterroles.rbac.authorization.k8s.io.json",
      "app/roles.rbac.authorization.k8s.io.json",
      "app/serviceaccounts.json",
      "clusterrolebindings.rbac.authorization.k8s.io.json",
      "app/rolebindings.rbac.authorization.k8s.io.json",
      "app/secrets.json",
      "a-app/configmaps.json",
      "app/configmaps.json",
      "b-app/configmaps.json",
      "app/limitranges.json",
      "app/resourcequotas.json",
      "app/services.json",
      "app/endpoints.json",
      "gizmos.example.com.json",
      "app/ingresses.networking.k8s.io.json",
      "app/networkpolicies.networking.k8s.io.json",
      "app/widgets.example.com.json",
      "app/deployments.apps.json",
      "app/statefulsets.apps.json",
      "app/daemonsets.apps.json",
      "app/replicasets.apps.json",
      "app/jobs.batch.json",
      "app/cronjobs.batch.json",
      "app/pods.json",
      "mutatingwebhookconfigurations.admissionregistration.k8s.io.json",
      "validatingwebhookconfigurations.admissionregistration.k8s.io.json",
    ]);
    expect(plan.steps.every((s) => s.order.reason.length > 0)).toBe(true);
  });

  it("marks the types that are never restored, each with its reason", () => {
    // Arrange
    const keys = [
      "nodes.json",
      "app/events.json",
      "app/events.events.k8s.io.json",
      "apiservices.apiregistration.k8s.io.json",
      "kube-node-lease/leases.coordination.k8s.io.json",
      "app/controllerrevisions.apps.json",
      "app/pods.metrics.k8s.io.json",
      "csinodes.storage.k8s.io.json",
      "volumeattachments.storage.k8s.io.json",
      "certificatesigningrequests.certificates.k8s.io.json",
      "app/configmaps.json",
    ];

    // Act
    const plan = planRestore(keys.map(file), ALL);

    // Assert
    const skipped = plan.steps.filter((s) => s.skip).map((s) => s.file.key);
    expect(skipped.sort()).toEqual(keys.filter((k) => k !== "app/configmaps.json").sort());
    for (const s of plan.steps.filter((x) => x.skip)) {
      expect(s.skip?.rule).toBe("non-restorable-type");
      expect(s.skip?.reason.length).toBeGreaterThan(10);
    }
  });

  it("sets apart the files --namespace and --resource leave out, but keeps the namespaces, CRDs and volumes they may need", () => {
    // Arrange
    const keys = [
      "app-1/configmaps.json",
      "app-2/configmaps.json",
      "app-1/secrets.json",
      "clusterroles.rbac.authorization.k8s.io.json",
      "namespaces.json",
      "customresourcedefinitions.apiextensions.k8s.io.json",
      "persistentvolumes.json",
    ];

    // Act
    const plan = planRestore(keys.map(file), { namespaces: ["app-1"], resources: ["configmaps"] });

    // Assert
    expect(plan.steps.map((s) => s.file.key)).toEqual([
      "customresourcedefinitions.apiextensions.k8s.io.json",
      "namespaces.json",
      "persistentvolumes.json",
      "app-1/configmaps.json",
    ]);
    expect(plan.notSelected.map((f) => f.key).sort()).toEqual([
      "app-1/secrets.json",
      "app-2/configmaps.json",
      "clusterroles.rbac.authorization.k8s.io.json",
    ]);
  });
});

describe("decideObject: objects a controller in the snapshot re-creates", () => {
  const snapshot: Snapshot = {
    "app/deployments.apps.json": [obj("apps/v1", "Deployment", "web", "app")],
    "app/replicasets.apps.json": [
      obj(
        "apps/v1",
        "ReplicaSet",
        "web-1",
        "app",
        {},
        { ownerReferences: [owner("apps/v1", "Deployment", "web")] },
      ),
      obj(
        "apps/v1",
        "ReplicaSet",
        "orphan",
        "app",
        {},
        { ownerReferences: [owner("apps/v1", "Deployment", "gone")] },
      ),
    ],
    "app/pods.json": [
      obj(
        "v1",
        "Pod",
        "web-1-abc",
        "app",
        {},
        { ownerReferences: [owner("apps/v1", "ReplicaSet", "web-1")] },
      ),
      obj("v1", "Pod", "migrate-x", "app", {}, { ownerReferences: [owner("batch/v1", "Job", "migrate")] }),
      obj("v1", "Pod", "db-0", "app", {}, { ownerReferences: [owner("apps/v1", "StatefulSet", "db")] }),
      obj("v1", "Pod", "agent-x", "app", {}, { ownerReferences: [owner("apps/v1", "DaemonSet", "agent")] }),
      obj("v1", "Pod", "standalone", "app", { spec: { containers: [] } }),
      obj("v1", "Pod", "mirror", "app", {}, { ownerReferences: [owner("v1", "Node", "node-1")] }),
    ],
    "app/jobs.batch.json": [
      obj("batch/v1", "Job", "migrate", "app"),
      obj(
        "batch/v1",
        "Job",
        "nightly-1",
        "app",
        {},
        { ownerReferences: [owner("batch/v1", "CronJob", "nightly")] },
      ),
    ],
    "app/cronjobs.batch.json": [obj("batch/v1", "CronJob", "nightly", "app")],
    "app/statefulsets.apps.json": [obj("apps/v1", "StatefulSet", "db", "app")],
    "app/daemonsets.apps.json": [obj("apps/v1", "DaemonSet", "agent", "app")],
    "nodes.json": [obj("v1", "Node", "node-1")],
    "app/services.json": [
      obj("v1", "Service", "web", "app", { spec: { selector: { app: "web" } } }),
      obj("v1", "Service", "external", "app", { spec: { ports: [{ port: 5432 }] } }),
    ],
    "app/endpoints.json": [obj("v1", "Endpoints", "web", "app"), obj("v1", "Endpoints", "external", "app")],
    "app/endpointslices.discovery.k8s.io.json": [
      obj(
        "discovery.k8s.io/v1",
        "EndpointSlice",
        "web-x",
        "app",
        {},
        { ownerReferences: [owner("v1", "Service", "web")] },
      ),
      obj(
        "discovery.k8s.io/v1",
        "EndpointSlice",
        "external-x",
        "app",
        {},
        {
          ownerReferences: [owner("v1", "Endpoints", "external")],
        },
      ),
    ],
  };

  it("skips what a controller owns, matching owners by group, kind, namespace and name (uids are not kept)", () => {
    // Act
    const decisions = decideAll(snapshot);

    // Assert
    const summary = Object.fromEntries(Object.entries(decisions).map(([k, d]) => [k, outcome(d)]));
    expect(summary).toEqual({
      "app/deployments.apps.json web": "restore",
      "app/replicasets.apps.json web-1": "skip:owned-by-controller",
      "app/replicasets.apps.json orphan": "restore",
      "app/pods.json web-1-abc": "skip:owned-by-controller",
      "app/pods.json migrate-x": "skip:owned-by-controller",
      "app/pods.json db-0": "skip:owned-by-controller",
      "app/pods.json agent-x": "skip:owned-by-controller",
      "app/pods.json standalone": "restore",
      "app/pods.json mirror": "skip:owned-by-controller",
      "app/jobs.batch.json migrate": "restore",
      "app/jobs.batch.json nightly-1": "skip:owned-by-controller",
      "app/cronjobs.batch.json nightly": "restore",
      "app/statefulsets.apps.json db": "restore",
      "app/daemonsets.apps.json agent": "restore",
      "nodes.json node-1": "skip:non-restorable-type",
      "app/services.json web": "restore",
      "app/services.json external": "restore",
      "app/endpoints.json web": "skip:service-endpoints",
      "app/endpoints.json external": "restore",
      "app/endpointslices.discovery.k8s.io.json web-x": "skip:owned-by-controller",
      "app/endpointslices.discovery.k8s.io.json external-x": "skip:owned-by-controller",
    });
    const pod = decisions["app/pods.json web-1-abc"];
    expect(pod?.action === "skip" && pod.reason).toBe(
      "controlled by ReplicaSet web-1, which is in the snapshot; its controller re-creates it",
    );
  });

  it("restores an object whose controller is not in the snapshot without the reference, and says why", () => {
    // Act
    const d = decideAll(snapshot)["app/replicasets.apps.json orphan"];

    // Assert
    if (d?.action !== "restore") throw new Error("expected a restore");
    expect(d.object.metadata?.ownerReferences).toBeUndefined();
    expect(d.relink).toEqual([]);
    expect(d.notes).toEqual([
      "ownerReference to Deployment gone dropped: the owner is not in the snapshot, and a reference to a missing owner gets the object garbage-collected",
    ]);
  });

  it("skips controller-owned objects when a file could not be read (--force), since their owner may be in it", () => {
    // Arrange
    const index = indexOf(snapshot);
    index.markIncomplete();

    // Act
    const d = decideObject(
      file("app/replicasets.apps.json"),
      obj(
        "apps/v1",
        "ReplicaSet",
        "orphan",
        "app",
        {},
        { ownerReferences: [owner("apps/v1", "Deployment", "gone")] },
      ),
      index,
      ALL,
    );

    // Assert
    expect(d).toEqual({
      action: "skip",
      rule: "controller-unknown",
      reason: "controlled by Deployment gone, which may be in a snapshot file that could not be read",
    });
  });

  it("removes references to owners in the snapshot and hands them over for re-linking to the new uids", () => {
    // Arrange: a ConfigMap a custom resource owns without being its controller
    const s: Snapshot = {
      "app/widgets.example.com.json": [obj("example.com/v1", "Widget", "w", "app")],
      "app/configmaps.json": [
        obj(
          "v1",
          "ConfigMap",
          "w-config",
          "app",
          { data: { a: "1" } },
          {
            ownerReferences: [
              owner("example.com/v1", "Widget", "w", false),
              owner("v1", "Secret", "gone", false),
            ],
          },
        ),
      ],
    };

    // Act
    const d = decideAll(s)["app/configmaps.json w-config"];

    // Assert
    if (d?.action !== "restore") throw new Error("expected a restore");
    expect(d.object).toEqual({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "w-config", namespace: "app" },
      data: { a: "1" },
    });
    expect(d.relink).toEqual([
      {
        apiVersion: "example.com/v1",
        kind: "Widget",
        name: "w",
        controller: undefined,
        blockOwnerDeletion: undefined,
      },
    ]);
    expect(d.notes).toEqual([expect.stringMatching(/^ownerReference to Secret gone dropped/)]);
  });
});

describe("decideObject: objects every new cluster makes for itself", () => {
  const rbacDefault = { "kubernetes.io/bootstrapping": "rbac-defaults" };
  const apf = { "apf.kubernetes.io/autoupdate-spec": "true" };
  const cases: [string, KubeObject, string][] = [
    ["namespaces.json", ns("default"), "skip:system-namespace"],
    ["namespaces.json", ns("kube-system"), "skip:system-namespace"],
    ["namespaces.json", ns("kube-public"), "skip:system-namespace"],
    ["namespaces.json", ns("kube-node-lease"), "skip:system-namespace"],
    ["namespaces.json", ns("kube-apps"), "restore"],
    [
      "clusterroles.rbac.authorization.k8s.io.json",
      obj("rbac.authorization.k8s.io/v1", "ClusterRole", "admin", undefined, {}, { labels: rbacDefault }),
      "skip:system-rbac",
    ],
    [
      "clusterrolebindings.rbac.authorization.k8s.io.json",
      obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "system:coredns"),
      "skip:system-rbac",
    ],
    [
      "kube-system/roles.rbac.authorization.k8s.io.json",
      obj(
        "rbac.authorization.k8s.io/v1",
        "Role",
        "extension-apiserver-authentication-reader",
        "kube-system",
        {},
        {
          labels: rbacDefault,
        },
      ),
      "skip:system-rbac",
    ],
    [
      "clusterroles.rbac.authorization.k8s.io.json",
      obj("rbac.authorization.k8s.io/v1", "ClusterRole", "ops"),
      "restore",
    ],
    ["app/configmaps.json", obj("v1", "ConfigMap", "kube-root-ca.crt", "app"), "skip:system-configmap"],
    [
      "kube-system/configmaps.json",
      obj("v1", "ConfigMap", "extension-apiserver-authentication", "kube-system"),
      "skip:system-configmap",
    ],
    ["kube-system/configmaps.json", obj("v1", "ConfigMap", "aws-auth", "kube-system"), "restore"],
    [
      "kube-public/configmaps.json",
      obj("v1", "ConfigMap", "cluster-info", "kube-public"),
      "skip:system-configmap",
    ],
    [
      "app/serviceaccounts.json",
      obj("v1", "ServiceAccount", "default", "app"),
      "skip:default-service-account",
    ],
    ["app/serviceaccounts.json", obj("v1", "ServiceAccount", "builder", "app"), "restore"],
    ["default/services.json", obj("v1", "Service", "kubernetes", "default"), "skip:kubernetes-service"],
    ["default/endpoints.json", obj("v1", "Endpoints", "kubernetes", "default"), "skip:kubernetes-service"],
    ["app/services.json", obj("v1", "Service", "kubernetes", "app"), "restore"],
    [
      "flowschemas.flowcontrol.apiserver.k8s.io.json",
      obj("flowcontrol.apiserver.k8s.io/v1", "FlowSchema", "catch-all", undefined, {}, { annotations: apf }),
      "skip:system-flow-control",
    ],
    [
      "flowschemas.flowcontrol.apiserver.k8s.io.json",
      obj("flowcontrol.apiserver.k8s.io/v1", "FlowSchema", "mine"),
      "restore",
    ],
    [
      "priorityclasses.scheduling.k8s.io.json",
      obj("scheduling.k8s.io/v1", "PriorityClass", "system-node-critical"),
      "skip:system-priority-class",
    ],
    [
      "priorityclasses.scheduling.k8s.io.json",
      obj("scheduling.k8s.io/v1", "PriorityClass", "high"),
      "restore",
    ],
    [
      "servicecidrs.networking.k8s.io.json",
      obj("networking.k8s.io/v1", "ServiceCIDR", "kubernetes"),
      "skip:default-service-cidr",
    ],
    [
      "ipaddresses.networking.k8s.io.json",
      obj(
        "networking.k8s.io/v1",
        "IPAddress",
        "10.0.0.1",
        undefined,
        {},
        {
          labels: { "ipaddress.kubernetes.io/managed-by": "ipallocator.k8s.io" },
        },
      ),
      "skip:allocated-ip-address",
    ],
    [
      "app/secrets.json",
      obj("v1", "Secret", "builder-token", "app", { type: "kubernetes.io/service-account-token" }),
      "skip:service-account-token-secrets",
    ],
    ["app/secrets.json", obj("v1", "Secret", "db", "app", { type: "Opaque" }), "restore"],
  ];

  it.each(cases)("%s %j → %s", (key, object, expected) => {
    // Act
    const d = decideObject(file(key), deepFreeze(object), indexOf({ [key]: [object] }), ALL);

    // Assert
    expect(outcome(d)).toBe(expected);
    if (d.action === "skip") expect(d.reason.length).toBeGreaterThan(10);
  });
});

describe("decideObject: what a new cluster must assign is removed", () => {
  const restored = (key: string, o: KubeObject) => {
    const d = decideObject(file(key), deepFreeze(o), indexOf({ [key]: [o] }), ALL);
    if (d.action !== "restore") throw new Error(`expected a restore, got ${d.rule}`);
    return d;
  };

  it("cleans objects of --raw snapshots as a backup would (status, uid, resourceVersion, cluster IPs, claimRef)", () => {
    // Arrange
    const service = obj(
      "v1",
      "Service",
      "web",
      "app",
      { spec: { clusterIP: "10.0.0.12", clusterIPs: ["10.0.0.12"], ports: [{ port: 80 }] }, status: {} },
      { uid: "u", resourceVersion: "42", creationTimestamp: "2026-01-01T00:00:00Z", managedFields: [] },
    );
    const headless = obj("v1", "Service", "db", "app", { spec: { clusterIP: "None", clusterIPs: ["None"] } });
    const pv = obj("v1", "PersistentVolume", "pv", undefined, {
      spec: { claimRef: { name: "data", namespace: "app", uid: "old" }, capacity: { storage: "1Gi" } },
    });

    // Act + Assert
    expect(restored("app/services.json", service).object).toEqual({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "app" },
      spec: { ports: [{ port: 80 }] },
    });
    expect(restored("app/services.json", headless).object.spec).toEqual({
      clusterIP: "None",
      clusterIPs: ["None"],
    });
    expect(restored("persistentvolumes.json", pv).object.spec).toEqual({ capacity: { storage: "1Gi" } });
  });

  it("lets the API server generate a Job's selector and controller-uid labels, unless the selector is manual", () => {
    // Arrange
    const uidLabels = {
      "batch.kubernetes.io/controller-uid": "old",
      "controller-uid": "old",
      "batch.kubernetes.io/job-name": "migrate",
      "job-name": "migrate",
    };
    const job = (manualSelector?: boolean) =>
      obj(
        "batch/v1",
        "Job",
        "migrate",
        "app",
        {
          spec: {
            ...(manualSelector ? { manualSelector } : {}),
            selector: { matchLabels: { "batch.kubernetes.io/controller-uid": "old" } },
            template: { metadata: { labels: uidLabels }, spec: { restartPolicy: "Never" } },
          },
        },
        { labels: uidLabels },
      );

    // Act
    const generated = restored("app/jobs.batch.json", job());
    const manual = restored("app/jobs.batch.json", job(true));

    // Assert
    const kept = { "batch.kubernetes.io/job-name": "migrate", "job-name": "migrate" };
    expect(generated.object.metadata?.labels).toEqual(kept);
    expect(generated.object.spec).toEqual({
      template: { metadata: { labels: kept }, spec: { restartPolicy: "Never" } },
    });
    expect(generated.notes).toEqual([expect.stringMatching(/^job-selector: /)]);
    expect(manual.object).toEqual(job(true));
  });

  it("leaves a Pod's node and priority to the new cluster's scheduler and admission", () => {
    // Arrange
    const pod = obj("v1", "Pod", "p", "app", {
      spec: { nodeName: "old-node", priority: 1000, priorityClassName: "high", containers: [] },
    });

    // Act
    const d = restored("app/pods.json", pod);

    // Assert
    expect(d.object.spec).toEqual({ priorityClassName: "high", containers: [] });
    expect(d.notes.map((n) => n.split(":")[0])).toEqual(["pod-node-name", "pod-priority"]);
  });

  it("leaves an aggregated ClusterRole's rules to the aggregation controller", () => {
    // Arrange
    const role = obj("rbac.authorization.k8s.io/v1", "ClusterRole", "monitoring", undefined, {
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: "y" } }] },
      rules: [{ verbs: ["get"] }],
    });

    // Act
    const d = restored("clusterroles.rbac.authorization.k8s.io.json", role);

    // Assert
    expect(d.object).not.toHaveProperty("rules");
    expect(d.object.aggregationRule).toEqual(role.aggregationRule);
  });
});

describe("decideObject: --namespace, --resource and --selector", () => {
  const snapshot: Snapshot = {
    "namespaces.json": [ns("app-1"), ns("app-2")],
    "customresourcedefinitions.apiextensions.k8s.io.json": [
      obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com"),
      obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "gizmos.example.com"),
    ],
    "persistentvolumes.json": [obj("v1", "PersistentVolume", "pv-1"), obj("v1", "PersistentVolume", "pv-2")],
    "clusterroles.rbac.authorization.k8s.io.json": [
      obj("rbac.authorization.k8s.io/v1", "ClusterRole", "ops"),
    ],
    "app-1/persistentvolumeclaims.json": [
      obj(
        "v1",
        "PersistentVolumeClaim",
        "data",
        "app-1",
        { spec: { volumeName: "pv-1" } },
        { labels: { app: "db" } },
      ),
    ],
    "app-1/widgets.example.com.json": [
      obj("example.com/v1", "Widget", "w", "app-1", {}, { labels: { app: "web" } }),
    ],
    "app-1/configmaps.json": [
      obj("v1", "ConfigMap", "web", "app-1", {}, { labels: { app: "web" } }),
      obj("v1", "ConfigMap", "canary", "app-1", {}, { labels: { app: "web", canary: "" } }),
      obj("v1", "ConfigMap", "plain", "app-1"),
    ],
    "app-2/configmaps.json": [obj("v1", "ConfigMap", "web", "app-2", {}, { labels: { app: "web" } })],
  };

  it("--namespace selects that namespace's objects, the Namespace itself, and what they need (CRD, volume)", () => {
    // Act
    const decisions = decideAll(snapshot, { namespaces: ["app-1"], resources: [] });

    // Assert
    const restoredKeys = Object.entries(decisions)
      .filter(([, d]) => d.action === "restore")
      .map(([k]) => k);
    expect(restoredKeys).toEqual([
      "namespaces.json app-1",
      "customresourcedefinitions.apiextensions.k8s.io.json widgets.example.com",
      "persistentvolumes.json pv-1",
      "app-1/persistentvolumeclaims.json data",
      "app-1/widgets.example.com.json w",
      "app-1/configmaps.json web",
      "app-1/configmaps.json canary",
      "app-1/configmaps.json plain",
    ]);
    const crd = decisions["customresourcedefinitions.apiextensions.k8s.io.json widgets.example.com"];
    expect(crd?.action === "restore" && crd.notes).toEqual([
      "cluster-scoped: --namespace selects the objects of those namespaces and the Namespaces themselves, but restored: 1 selected object(s) need it",
    ]);
    expect(decisions["clusterroles.rbac.authorization.k8s.io.json ops"]).toMatchObject({
      action: "skip",
      rule: "not-selected",
    });
    expect(decisions["app-2/configmaps.json web"]).toEqual({
      action: "skip",
      rule: "not-selected",
      reason: "not selected by --namespace",
    });
  });

  it("--selector uses Kubernetes semantics (key!=value also matches objects without the label)", () => {
    // Act
    const decisions = decideAll(snapshot, {
      namespaces: [],
      resources: ["configmaps"],
      selector: "app=web,!canary",
    });
    const notEqual = decideAll(snapshot, { namespaces: [], resources: ["configmaps"], selector: "app!=web" });

    // Assert
    const restored = (d: Record<string, ObjectDecision>) =>
      Object.entries(d)
        .filter(([k, x]) => x.action === "restore" && k.includes("configmaps"))
        .map(([k]) => k);
    expect(restored(decisions)).toEqual(["app-1/configmaps.json web", "app-2/configmaps.json web"]);
    expect(restored(notEqual)).toEqual(["app-1/configmaps.json plain"]);
    // The namespaces the selected config maps live in come along; the others do not.
    expect(outcome(decisions["namespaces.json app-1"])).toBe("restore");
    expect(outcome(notEqual["namespaces.json app-2"])).toBe("skip:not-selected");
  });

  it("rejects a selector term it does not understand", () => {
    expect(() => parseSelector("app in (web)")).toThrow(/not a label selector term/);
    expect(parseSelector("a=1, b==2,c!=3,d,!e")).toEqual([
      { key: "a", op: "=", value: "1" },
      { key: "b", op: "=", value: "2" },
      { key: "c", op: "!=", value: "3" },
      { key: "d", op: "exists" },
      { key: "e", op: "!exists" },
    ]);
  });
});

describe("differences: is the snapshot's object contained in the live one?", () => {
  it("accepts server defaults and controller fields in the live object", () => {
    const desired = { metadata: { name: "a", labels: { x: "1" } }, spec: { containers: [{ name: "c" }] } };
    const live = {
      metadata: { name: "a", labels: { x: "1" }, uid: "u", resourceVersion: "9" },
      spec: { containers: [{ name: "c", imagePullPolicy: "Always" }], dnsPolicy: "ClusterFirst" },
      status: { phase: "Pending" },
    };
    expect(differences(desired, live)).toEqual([]);
  });

  it("names the fields that differ, lists that differ in length, and missing fields", () => {
    const desired = { data: { color: "blue", size: "L" }, items: [1, 2], spec: { a: { b: 1 } } };
    const live = { data: { color: "red" }, items: [1], spec: {} };
    expect(differences(desired, live)).toEqual(["data.color", "data.size", "items", "spec.a"]);
  });

  it("treats null, empty maps and empty lists as absent (the API server omits them)", () => {
    const desired = { metadata: { creationTimestamp: null, annotations: {} }, spec: { volumes: [] } };
    expect(differences(desired, { metadata: {}, spec: {} })).toEqual([]);
  });
});

describe("parseFileKey", () => {
  it.each([
    ["namespaces.json", { namespace: null, resource: "namespaces", group: "" }],
    ["app/deployments.apps.json", { namespace: "app", resource: "deployments", group: "apps" }],
    [
      "clusterroles.rbac.authorization.k8s.io.json",
      { namespace: null, resource: "clusterroles", group: "rbac.authorization.k8s.io" },
    ],
  ])("reads %s", (key, expected) => {
    expect(parseFileKey(key)).toEqual({ key, ...expected });
  });

  it.each(["manifest.json", "app/.configmaps.json.tmp", "a/b/c.json", "notes.txt"])("ignores %s", (key) => {
    expect(parseFileKey(key)).toBeUndefined();
  });
});
