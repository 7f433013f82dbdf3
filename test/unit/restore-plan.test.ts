import { describe, expect, it } from "vitest";
import {
  type DecideOptions,
  decideObject,
  type ObjectDecision,
  SnapshotIndex,
} from "../../src/restore/decide.js";
import { planRestore, type RestoreFilters, type SnapshotFile } from "../../src/restore/plan.js";
import {
  NON_RESTORABLE_TYPES,
  RECREATED_BY_CONTROLLERS,
  SYSTEM_OBJECT_RULES,
} from "../../src/restore/rules.js";
import { CLEANING_RULES } from "../../src/snapshot/clean.js";
import { parseFileKey } from "../../src/snapshot/layout.js";
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

/** Options from filters, or from a whole DecideOptions. */
const optionsOf = (o: RestoreFilters | DecideOptions): DecideOptions => ("filters" in o ? o : { filters: o });

function indexOf(snapshot: Snapshot, options: RestoreFilters | DecideOptions = ALL): SnapshotIndex {
  const index = new SnapshotIndex(optionsOf(options));
  for (const [key, items] of Object.entries(snapshot)) for (const item of items) index.add(file(key), item);
  return index;
}

/** Decides every object of the snapshot, by `<key> <name>`. */
function decideAll(
  snapshot: Snapshot,
  options: RestoreFilters | DecideOptions = ALL,
): Record<string, ObjectDecision> {
  const index = indexOf(snapshot, options);
  const out: Record<string, ObjectDecision> = {};
  for (const [key, items] of Object.entries(snapshot))
    for (const item of items)
      out[`${key} ${item.metadata?.name}`] = decideObject(file(key), item, index, optionsOf(options));
  return out;
}

/** The decision of one object that must be restored. */
function restoredOf(d: ObjectDecision | undefined): Extract<ObjectDecision, { action: "restore" }> {
  if (d?.action !== "restore") throw new Error(`expected a restore, got ${d ? d.rule : "nothing"}`);
  return d;
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
      "kube-node-lease/leases.coordination.k8s.io.json",
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
    // Not types that are never restored: API services backed by a Service and revisions an operator owns
    // are restored; the rest of them is skipped object by object (rules.ts).
    expect(
      planRestore(
        ["apiservices.apiregistration.k8s.io.json", "app/controllerrevisions.apps.json"].map(file),
        ALL,
      ).steps.map((s) => s.skip),
    ).toEqual([undefined, undefined]);
    for (const s of plan.steps.filter((x) => x.skip)) {
      expect(s.skip?.rule).toBe("non-restorable-type");
      expect(NON_RESTORABLE_TYPES.map((e) => e.reason)).toContain(s.skip?.reason);
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
      obj(
        "v1",
        "Pod",
        "mirror",
        "app",
        {},
        {
          annotations: { "kubernetes.io/config.mirror": "0f3c" },
          ownerReferences: [owner("v1", "Node", "node-1")],
        },
      ),
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

  it("skips what a built-in controller re-creates from an owner that comes back, matching owners by group, kind, namespace and name", () => {
    // Act
    const decisions = decideAll(snapshot);

    // Assert
    const summary = Object.fromEntries(Object.entries(decisions).map(([k, d]) => [k, outcome(d)]));
    expect(summary).toEqual({
      "app/deployments.apps.json web": "restore",
      "app/replicasets.apps.json web-1": "skip:recreated-by-controller",
      "app/replicasets.apps.json orphan": "restore",
      "app/pods.json web-1-abc": "skip:recreated-by-controller",
      "app/pods.json migrate-x": "skip:recreated-by-controller",
      "app/pods.json db-0": "skip:recreated-by-controller",
      "app/pods.json agent-x": "skip:recreated-by-controller",
      "app/pods.json standalone": "restore",
      "app/pods.json mirror": "skip:mirror-pod",
      "app/jobs.batch.json migrate": "restore",
      "app/jobs.batch.json nightly-1": "skip:recreated-by-controller",
      "app/cronjobs.batch.json nightly": "restore",
      "app/statefulsets.apps.json db": "restore",
      "app/daemonsets.apps.json agent": "restore",
      "nodes.json node-1": "skip:non-restorable-type",
      "app/services.json web": "restore",
      "app/services.json external": "restore",
      "app/endpoints.json web": "skip:recreated-by-controller",
      "app/endpoints.json external": "restore",
      "app/endpointslices.discovery.k8s.io.json web-x": "skip:recreated-by-controller",
      "app/endpointslices.discovery.k8s.io.json external-x": "skip:recreated-by-controller",
    });
    const pod = decisions["app/pods.json web-1-abc"];
    expect(pod?.action === "skip" && pod.reason).toBe(
      "re-created from ReplicaSet web-1: the ReplicaSet controller creates its pods from its pod template",
    );
    const endpoints = decisions["app/endpoints.json web"];
    expect(endpoints?.action === "skip" && endpoints.reason).toBe(
      "re-created from Service web: the endpoints controller keeps the Endpoints of a Service with a selector",
    );
  });

  it("restores an object whose controller is not in the snapshot without the reference, and says why", () => {
    // Act
    const d = decideAll(snapshot)["app/replicasets.apps.json orphan"];

    // Assert
    if (d?.action !== "restore") throw new Error("expected a restore");
    expect(d.object.metadata?.ownerReferences).toBeUndefined();
    expect(d.owners).toEqual([]);
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
      { filters: ALL },
    );

    // Assert
    expect(d).toEqual({
      action: "skip",
      rule: "controller-unknown",
      reason: "controlled by Deployment gone, which may be in a snapshot file that could not be read",
    });
  });

  it("removes references to owners in the snapshot and hands them over, to be written with the owners' new uids", () => {
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
    const d = restoredOf(decideAll(s)["app/configmaps.json w-config"]);

    // Assert
    expect(d.object).toEqual({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "w-config", namespace: "app" },
      data: { a: "1" },
    });
    expect(d.owners).toEqual([
      {
        apiVersion: "example.com/v1",
        kind: "Widget",
        name: "w",
        controller: undefined,
        blockOwnerDeletion: undefined,
        restored: { id: "example.com\u0000Widget\u0000app\u0000w", file: "app/widgets.example.com.json" },
      },
    ]);
    expect(d.notes).toEqual([expect.stringMatching(/^ownerReference to Secret gone dropped/)]);
  });
});

describe("decideObject: an operator's objects come back with their owner", () => {
  // A custom resource that controls what its operator made for it: credentials, a data volume claim.
  const db = obj("example.com/v1", "Database", "orders", "shop");
  const owned = (kind: string, name: string, extra: Record<string, unknown> = {}) =>
    obj("v1", kind, name, "shop", extra, {
      ownerReferences: [owner("example.com/v1", "Database", "orders")],
    });
  const snapshot: Snapshot = {
    "shop/databases.example.com.json": [db],
    "shop/secrets.json": [owned("Secret", "orders-credentials", { type: "Opaque", data: { p: "eA==" } })],
    "shop/persistentvolumeclaims.json": [owned("PersistentVolumeClaim", "orders-data")],
    "shop/statefulsets.apps.json": [obj("apps/v1", "StatefulSet", "cache", "shop")],
  };

  it("restores every object an owner outside RECREATED_BY_CONTROLLERS controls, to be written after it", () => {
    // Act
    const decisions = decideAll(snapshot);

    // Assert
    for (const key of [
      "shop/secrets.json orders-credentials",
      "shop/persistentvolumeclaims.json orders-data",
    ]) {
      const d = restoredOf(decisions[key]);
      expect(d.object.metadata?.ownerReferences, key).toBeUndefined();
      expect(d.owners, key).toEqual([
        expect.objectContaining({
          kind: "Database",
          name: "orders",
          controller: true,
          blockOwnerDeletion: true,
          restored: { id: expect.any(String), file: "shop/databases.example.com.json" },
        }),
      ]);
    }
  });

  it("restores a StatefulSet's claim in its own order and leaves its reference to the StatefulSet to the controller", () => {
    // Arrange
    const claim = obj(
      "v1",
      "PersistentVolumeClaim",
      "data-cache-0",
      "shop",
      {},
      { ownerReferences: [owner("apps/v1", "StatefulSet", "cache")] },
    );

    // Act
    const d = restoredOf(
      decideAll({ ...snapshot, "shop/persistentvolumeclaims.json": [claim] })[
        "shop/persistentvolumeclaims.json data-cache-0"
      ],
    );

    // Assert
    expect(d.owners).toEqual([]);
    expect(d.notes).toEqual([
      "ownerReference to StatefulSet cache left to its controller: the StatefulSet controller sets or removes it by its persistentVolumeClaimRetentionPolicy; the claim comes first, as the controller would create a missing claim empty",
    ]);
  });

  it("skips a child whose re-creating owner is in the snapshot but not selected, naming the owner to restore", () => {
    // Arrange
    const s: Snapshot = {
      "app/replicasets.apps.json": [obj("apps/v1", "ReplicaSet", "web-1", "app")],
      "app/pods.json": [
        obj(
          "v1",
          "Pod",
          "web-1-a",
          "app",
          {},
          { ownerReferences: [owner("apps/v1", "ReplicaSet", "web-1")] },
        ),
      ],
    };

    // Act
    const d = decideAll(s, { namespaces: [], resources: ["pods"] })["app/pods.json web-1-a"];

    // Assert
    expect(d).toEqual({
      action: "skip",
      rule: "owner-not-restored",
      reason:
        "belongs to ReplicaSet web-1, which is in the snapshot but not restored by this run; restoring ReplicaSet web-1 re-creates it (the ReplicaSet controller creates its pods from its pod template)",
    });
  });

  it("follows re-creation up the chain: pods of a ReplicaSet whose Deployment is not restored are not re-created", () => {
    // Arrange
    const s: Snapshot = {
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
      ],
      "app/pods.json": [
        obj(
          "v1",
          "Pod",
          "web-1-a",
          "app",
          {},
          { ownerReferences: [owner("apps/v1", "ReplicaSet", "web-1")] },
        ),
      ],
    };

    // Act
    const all = decideAll(s);
    const withoutDeployments = decideAll(s, { namespaces: [], resources: ["replicasets.apps", "pods"] });

    // Assert
    expect(outcome(all["app/pods.json web-1-a"])).toBe("skip:recreated-by-controller");
    expect(outcome(withoutDeployments["app/replicasets.apps.json web-1"])).toBe("skip:owner-not-restored");
    expect(outcome(withoutDeployments["app/pods.json web-1-a"])).toBe("skip:owner-not-restored");
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
    [
      "apiservices.apiregistration.k8s.io.json",
      obj("apiregistration.k8s.io/v1", "APIService", "v1.apps", undefined, {
        spec: { group: "apps", version: "v1", service: null },
      }),
      "skip:local-api-service",
    ],
    [
      "apiservices.apiregistration.k8s.io.json",
      obj("apiregistration.k8s.io/v1", "APIService", "v1.example.com", undefined, {
        spec: { group: "example.com", version: "v1" },
      }),
      "skip:local-api-service",
    ],
    [
      "apiservices.apiregistration.k8s.io.json",
      obj("apiregistration.k8s.io/v1", "APIService", "v1beta1.custom.metrics.k8s.io", undefined, {
        spec: { group: "custom.metrics.k8s.io", service: { namespace: "monitoring", name: "adapter" } },
      }),
      "restore",
    ],
    [
      "kube-system/pods.json",
      obj(
        "v1",
        "Pod",
        "etcd-node-1",
        "kube-system",
        {},
        { annotations: { "kubernetes.io/config.mirror": "x" } },
      ),
      "skip:mirror-pod",
    ],
  ];

  it.each(cases)("%s %j → %s", (key, object, expected) => {
    // Act
    const d = decideObject(file(key), deepFreeze(object), indexOf({ [key]: [object] }), { filters: ALL });

    // Assert
    expect(outcome(d)).toBe(expected);
    if (d.action === "skip") expect(fromTables(d.rule, d.reason), d.reason).toBe(true);
  });
});

describe("decideObject: what a new cluster must assign is removed", () => {
  const restored = (key: string, o: KubeObject) => {
    const d = decideObject(file(key), deepFreeze(o), indexOf({ [key]: [o] }), { filters: ALL });
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

describe("decideObject: never endanger another cluster's disks", () => {
  const pv = (policy?: string) =>
    obj("v1", "PersistentVolume", "pv", undefined, {
      spec: {
        capacity: { storage: "1Gi" },
        csi: { driver: "ebs.csi.aws.com", volumeHandle: "vol-0abc" },
        ...(policy ? { persistentVolumeReclaimPolicy: policy } : {}),
      },
    });
  const decide = (o: KubeObject, options: Omit<DecideOptions, "filters"> = {}) =>
    restoredOf(
      decideObject(
        file("persistentvolumes.json"),
        deepFreeze(o),
        indexOf({ "persistentvolumes.json": [o] }),
        {
          filters: ALL,
          ...options,
        },
      ),
    );

  it("restores a Delete (or Recycle) volume with Retain, and says what changed and why", () => {
    // Act
    const deleted = decide(pv("Delete"));
    const recycled = decide(pv("Recycle"));

    // Assert
    expect(deleted.object.spec).toMatchObject({ persistentVolumeReclaimPolicy: "Retain" });
    expect(deleted.notes).toEqual([
      "pv-reclaim-retain: spec.persistentVolumeReclaimPolicy Delete → Retain: the old cluster may still use the same disk: deleting this claim in the new cluster must not delete it (--keep-reclaim-policy keeps the snapshot's policy)",
    ]);
    expect(recycled.object.spec).toMatchObject({ persistentVolumeReclaimPolicy: "Retain" });
  });

  it("leaves Retain and an absent policy alone, and keeps Delete with --keep-reclaim-policy", () => {
    // Act + Assert
    expect(decide(pv("Retain")).notes).toEqual([]);
    expect(decide(pv()).object.spec).not.toHaveProperty("persistentVolumeReclaimPolicy");
    const kept = decide(pv("Delete"), { keepReclaimPolicy: true });
    expect(kept.object.spec).toMatchObject({ persistentVolumeReclaimPolicy: "Delete" });
    expect(kept.notes).toEqual([]);
  });
});

describe("decideObject: what the new cluster's controllers maintain is left to them", () => {
  it("leaves out a Deployment's revision and a Namespace's name label, and keeps the user's annotations", () => {
    // Arrange
    const deployment = obj(
      "apps/v1",
      "Deployment",
      "web",
      "app",
      { spec: { replicas: 2 } },
      { annotations: { "deployment.kubernetes.io/revision": "3", "example.com/team": "shop" } },
    );
    const namespace = ns("app", { "kubernetes.io/metadata.name": "app" });

    // Act
    const d = restoredOf(
      decideObject(
        file("app/deployments.apps.json"),
        deepFreeze(deployment),
        indexOf({ "app/deployments.apps.json": [deployment] }),
        { filters: ALL },
      ),
    );
    const n = restoredOf(
      decideObject(
        file("namespaces.json"),
        deepFreeze(namespace),
        indexOf({ "namespaces.json": [namespace] }),
        {
          filters: ALL,
        },
      ),
    );

    // Assert
    expect(d.object.metadata).toEqual({
      name: "web",
      namespace: "app",
      annotations: { "example.com/team": "shop" },
    });
    expect(n.object.metadata).toEqual({ name: "app" });
  });
});

describe("decideObject: --namespace-mappings moves objects after the filters", () => {
  const snapshot: Snapshot = {
    "namespaces.json": [ns("shop", { team: "a" }), ns("kube-system"), ns("other")],
    "shop/configmaps.json": [obj("v1", "ConfigMap", "settings", "shop", { data: { a: "1" } })],
    "shop/rolebindings.rbac.authorization.k8s.io.json": [
      obj("rbac.authorization.k8s.io/v1", "RoleBinding", "builder-reads", "shop", {
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "reader" },
        subjects: [
          { kind: "ServiceAccount", name: "builder", namespace: "shop" },
          { kind: "ServiceAccount", name: "ci", namespace: "other" },
          { kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "jane" },
        ],
      }),
    ],
    "clusterrolebindings.rbac.authorization.k8s.io.json": [
      obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "shop-viewers", undefined, {
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
        subjects: [{ kind: "ServiceAccount", name: "builder", namespace: "shop" }],
      }),
    ],
    "kube-system/configmaps.json": [obj("v1", "ConfigMap", "addon", "kube-system")],
  };
  const mappings = new Map([
    ["shop", "shop-restored"],
    ["kube-system", "old-system"],
  ]);

  it("moves namespaced objects, Namespaces and binding subjects, and reports where each came from", () => {
    // Act
    const decisions = decideAll(snapshot, { filters: ALL, namespaceMappings: mappings });

    // Assert
    const settings = restoredOf(decisions["shop/configmaps.json settings"]);
    expect(settings.object.metadata).toEqual({ name: "settings", namespace: "shop-restored" });
    expect(settings.target).toEqual({ namespace: "shop-restored", name: "settings" });
    expect(settings.mappedFrom).toBe("shop");
    const namespace = restoredOf(decisions["namespaces.json shop"]);
    expect(namespace.object.metadata).toEqual({ name: "shop-restored", labels: { team: "a" } });
    expect(namespace.mappedFrom).toBe("shop");
    expect(
      restoredOf(decisions["shop/rolebindings.rbac.authorization.k8s.io.json builder-reads"]).object.subjects,
    ).toEqual([
      { kind: "ServiceAccount", name: "builder", namespace: "shop-restored" },
      { kind: "ServiceAccount", name: "ci", namespace: "other" },
      { kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "jane" },
    ]);
    const crb = restoredOf(decisions["clusterrolebindings.rbac.authorization.k8s.io.json shop-viewers"]);
    expect(crb.object.subjects).toEqual([
      { kind: "ServiceAccount", name: "builder", namespace: "shop-restored" },
    ]);
    expect(crb.mappedFrom).toBeUndefined();
    // A built-in namespace that is moved is an ordinary namespace in the new cluster.
    expect(restoredOf(decisions["namespaces.json kube-system"]).target.name).toBe("old-system");
    expect(restoredOf(decisions["kube-system/configmaps.json addon"]).target.namespace).toBe("old-system");
    expect(restoredOf(decisions["namespaces.json other"]).mappedFrom).toBeUndefined();
  });

  it("filters by the snapshot's names first (--namespace shop), then maps", () => {
    // Act
    const decisions = decideAll(snapshot, {
      filters: { namespaces: ["shop"], resources: [] },
      namespaceMappings: mappings,
    });

    // Assert
    const restored = Object.entries(decisions)
      .filter(([, d]) => d.action === "restore")
      .map(([k, d]) => `${k} → ${restoredOf(d).target.namespace ?? ""}/${restoredOf(d).target.name}`);
    expect(restored).toEqual([
      "namespaces.json shop → /shop-restored",
      "shop/configmaps.json settings → shop-restored/settings",
      "shop/rolebindings.rbac.authorization.k8s.io.json builder-reads → shop-restored/builder-reads",
    ]);
  });
});

describe("decideObject: --namespace, --resource, --name and --selector", () => {
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

  it("--name selects objects by name globs; the namespace they need comes along", () => {
    // Act
    const decisions = decideAll(snapshot, { namespaces: [], resources: [], names: ["w*", "data"] });

    // Assert
    const restored = Object.entries(decisions)
      .filter(([, d]) => d.action === "restore")
      .map(([k]) => k);
    expect(restored).toEqual([
      "namespaces.json app-1",
      "namespaces.json app-2",
      "customresourcedefinitions.apiextensions.k8s.io.json widgets.example.com",
      "persistentvolumes.json pv-1",
      "app-1/persistentvolumeclaims.json data",
      "app-1/widgets.example.com.json w",
      "app-1/configmaps.json web",
      "app-2/configmaps.json web",
    ]);
    expect(decisions["app-1/configmaps.json plain"]).toEqual({
      action: "skip",
      rule: "not-selected",
      reason: "not selected by --name",
    });
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

  it.each([
    "manifest.json",
    "app/.configmaps.json.tmp",
    "a/b/c.json",
    "notes.txt",
    "../configmaps.json",
    "../../etc/configmaps.json",
    "/etc/configmaps.json",
    "app/../configmaps.json",
  ])("ignores %s", (key) => {
    expect(parseFileKey(key)).toBeUndefined();
  });
});

/** True when `reason` is what the rule tables say for `rule` (a controller's child: its entry's reason in the text). */
function fromTables(rule: string, reason: string): boolean {
  if (rule === "recreated-by-controller" || rule === "owner-not-restored")
    return RECREATED_BY_CONTROLLERS.some(
      (e) => reason.endsWith(`: ${e.reason}`) || reason.endsWith(`(${e.reason})`),
    );
  if (rule === "non-restorable-type") return NON_RESTORABLE_TYPES.some((e) => e.reason === reason);
  if (rule === "not-selected") return /^not selected by \S/.test(reason);
  return [...SYSTEM_OBJECT_RULES, ...CLEANING_RULES].some((r) => r.id === rule && r.reason === reason);
}
