// What a restore does, as tables of data with a reason per entry: the order of resource types, the
// types and objects that are never restored, what built-in controllers re-create from their owners,
// the changes made to an object before it is written, the fields controllers maintain (ignored when
// comparing, never written), and where objects name namespaces (moved by --namespace-mappings).
// Reviewing what a restore does means reading this file; decide.ts and compare.ts only apply it.
import { type PatternRule, patternRules } from "../snapshot/filters.js";
import type { FieldPath } from "./object-fields.js";

/** A resource type as snapshot files name it: plural resource and group ("" for core). */
export interface TypeRef {
  readonly group: string;
  readonly resource: string;
}

/** A kind as objects and ownerReferences name it: group ("" for core) and kind. */
export interface KindRef {
  readonly group: string;
  readonly kind: string;
}

const core = (resource: string): TypeRef => ({ group: "", resource });
const rbac = (resource: string): TypeRef => ({ group: "rbac.authorization.k8s.io", resource });
const coreKind = (kind: string): KindRef => ({ group: "", kind });
const appsKind = (kind: string): KindRef => ({ group: "apps", kind });
const batchKind = (kind: string): KindRef => ({ group: "batch", kind });

// ---------------------------------------------------------------------------------------------------
// Order

export interface OrderEntry {
  /** kubectl's `resource.group` name. */
  readonly resource: string;
  readonly reason: string;
}

/** Entries written as one object, `{ resource: reason, … }`, in the order written. */
const inOrder = (reasons: Readonly<Record<string, string>>): readonly OrderEntry[] =>
  Object.entries(reasons).map(([resource, reason]) => ({ resource, reason }));

/** Entries that share one reason, in the order of `resources`. */
const withReason = (reason: string, resources: readonly string[]): readonly OrderEntry[] =>
  resources.map((resource) => ({ resource, reason }));

/** Restored first, in this order (DESIGN.md "Restore"): `resource: reason`. */
export const RESTORE_ORDER_FIRST: readonly OrderEntry[] = inOrder({
  "customresourcedefinitions.apiextensions.k8s.io":
    "custom resources can only be created once their definition is Established (the restore waits)",
  namespaces: "every namespaced object needs its namespace",
  "storageclasses.storage.k8s.io": "claims name their class; provisioning needs it",
  "priorityclasses.scheduling.k8s.io": "pods naming a missing class are rejected",
  persistentvolumes:
    "before their claims, so a claim binds its restored volume instead of provisioning an empty one",
  persistentvolumeclaims: "before the pods that mount them",
  "clusterroles.rbac.authorization.k8s.io": "bindings refer to roles",
  "roles.rbac.authorization.k8s.io": "bindings refer to roles",
  serviceaccounts: "bindings name them and pods run as them",
  "clusterrolebindings.rbac.authorization.k8s.io": "access is granted before the workloads that need it run",
  "rolebindings.rbac.authorization.k8s.io": "access is granted before the workloads that need it run",
  secrets: "mounted and referenced by pods",
  configmaps: "mounted and referenced by pods",
  limitranges: "they default and limit the pods created after them",
  resourcequotas: "they count the objects created after them",
  services: "pods started later get environment variables for the services that exist",
  "apiservices.apiregistration.k8s.io":
    "after the Services they name: an API service registered before its Service exists is unavailable (its group drops out of discovery)",
});

/** Restored last, in this order, after every other type (which go alphabetically in between). */
export const RESTORE_ORDER_LAST: readonly OrderEntry[] = [
  ...withReason("workloads last: what they mount, reference or run as exists by the time they start", [
    "deployments.apps",
    "statefulsets.apps",
    "daemonsets.apps",
    "replicasets.apps",
    "replicationcontrollers",
    "jobs.batch",
    "cronjobs.batch",
    "pods",
  ]),
  ...withReason(
    "admission after everything else: a webhook whose backend is not running yet, or a policy, would reject the restore's own writes",
    [
      "mutatingwebhookconfigurations.admissionregistration.k8s.io",
      "validatingwebhookconfigurations.admissionregistration.k8s.io",
      "mutatingadmissionpolicies.admissionregistration.k8s.io",
      "mutatingadmissionpolicybindings.admissionregistration.k8s.io",
      "validatingadmissionpolicies.admissionregistration.k8s.io",
      "validatingadmissionpolicybindings.admissionregistration.k8s.io",
    ],
  ),
];

export const REST_REASON =
  "no dependency of its own: alphabetically between the first types and the workloads";

// ---------------------------------------------------------------------------------------------------
// What is never restored

const PAST_EVENTS = "a record of the old cluster's past, expired after 1 h";

/** Types whose objects are never restored (globs over `resource.group`): `pattern: reason`. */
export const NON_RESTORABLE_TYPES: readonly PatternRule[] = patternRules({
  nodes: "registered by each kubelet of the new cluster; a restored Node is a machine that does not exist",
  events: PAST_EVENTS,
  "events.events.k8s.io": PAST_EVENTS,
  "leases.coordination.k8s.io":
    "leader election and node heartbeats, renewed every few seconds by their holders",
  "leasecandidates.coordination.k8s.io": "leader-election candidacy, renewed by its holders",
  componentstatuses: "computed on read (deprecated)",
  "csinodes.storage.k8s.io": "written by each node's kubelet",
  "volumeattachments.storage.k8s.io":
    "attachments to the old cluster's nodes; the attach/detach controller makes new ones",
  "certificatesigningrequests.certificates.k8s.io":
    "requests of the old cluster's kubelets and clients, for certificates of its CA",
  "resourceslices.resource.k8s.io": "published per node by device drivers",
  "*.metrics.k8s.io": "live metrics computed on read, not stored objects",
});

/** Conditions on an object's identity, labels, annotations or fields; every condition given must hold. */
export interface ObjectMatch {
  readonly namespace?: string;
  readonly names?: readonly string[];
  readonly namePrefix?: string;
  readonly label?: readonly [key: string, value: string];
  readonly annotation?: readonly [key: string, value: string];
  /** The object has this annotation, whatever its value. */
  readonly annotationKey?: string;
  /** This field is absent or null. */
  readonly missing?: FieldPath;
}

export interface SystemObjectRule {
  readonly id: string;
  readonly reason: string;
  readonly appliesTo: readonly TypeRef[];
  readonly match: ObjectMatch;
}

const APF_TYPES = ["flowschemas", "prioritylevelconfigurations"].map((resource) => ({
  group: "flowcontrol.apiserver.k8s.io",
  resource,
}));
const RBAC_TYPES = [rbac("clusterroles"), rbac("clusterrolebindings"), rbac("roles"), rbac("rolebindings")];

/**
 * Objects every new cluster makes for itself. Restoring them would at best duplicate work, at worst
 * carry the old cluster's CA, addresses or credentials into the new one. Other objects in kube-system,
 * kube-public and kube-node-lease (add-ons a user installed there) are restored like any other; the new
 * cluster's own add-ons that already exist are compared and, when they differ, skipped unless --update.
 */
export const SYSTEM_OBJECT_RULES: readonly SystemObjectRule[] = [
  {
    id: "system-namespace",
    reason: "created by the API server in every cluster",
    appliesTo: [core("namespaces")],
    match: { names: ["default", "kube-system", "kube-public", "kube-node-lease"] },
  },
  {
    id: "system-rbac",
    reason:
      "bootstrap RBAC policy, created and reconciled by the API server (label kubernetes.io/bootstrapping)",
    appliesTo: RBAC_TYPES,
    match: { label: ["kubernetes.io/bootstrapping", "rbac-defaults"] },
  },
  {
    id: "system-rbac",
    reason: "system: names are reserved for Kubernetes components, which create their own roles and bindings",
    appliesTo: RBAC_TYPES,
    match: { namePrefix: "system:" },
  },
  {
    id: "system-configmap",
    reason:
      "published in every namespace by the root-ca-cert-publisher controller, with the new cluster's CA",
    appliesTo: [core("configmaps")],
    match: { names: ["kube-root-ca.crt"] },
  },
  {
    id: "system-configmap",
    reason: "written by the new cluster's API server (its client CA and token tracking)",
    appliesTo: [core("configmaps")],
    match: {
      namespace: "kube-system",
      names: ["extension-apiserver-authentication", "kube-apiserver-legacy-service-account-token-tracking"],
    },
  },
  {
    id: "system-configmap",
    reason: "written by kubeadm with the new cluster's CA and address",
    appliesTo: [core("configmaps")],
    match: { namespace: "kube-public", names: ["cluster-info"] },
  },
  {
    id: "default-service-account",
    reason: "created in every namespace by the service account controller",
    appliesTo: [core("serviceaccounts")],
    match: { names: ["default"] },
  },
  {
    id: "kubernetes-service",
    reason: "the API server's own service and endpoints, with the new cluster's addresses",
    appliesTo: [
      core("services"),
      core("endpoints"),
      { group: "discovery.k8s.io", resource: "endpointslices" },
    ],
    match: { namespace: "default", names: ["kubernetes"] },
  },
  {
    id: "system-flow-control",
    reason:
      "API priority and fairness defaults, kept up to date by the API server (apf.kubernetes.io/autoupdate-spec)",
    appliesTo: APF_TYPES,
    match: { annotation: ["apf.kubernetes.io/autoupdate-spec", "true"] },
  },
  {
    id: "system-priority-class",
    reason: "system- priority classes are reserved and created by the API server",
    appliesTo: [{ group: "scheduling.k8s.io", resource: "priorityclasses" }],
    match: { namePrefix: "system-" },
  },
  {
    id: "default-service-cidr",
    reason: "created by the API server from the new cluster's --service-cluster-ip-range",
    appliesTo: [{ group: "networking.k8s.io", resource: "servicecidrs" }],
    match: { names: ["kubernetes"] },
  },
  {
    id: "allocated-ip-address",
    reason:
      "allocated by the API server for a Service's cluster IP; restored, it would reserve an old address",
    appliesTo: [{ group: "networking.k8s.io", resource: "ipaddresses" }],
    match: { label: ["ipaddress.kubernetes.io/managed-by", "ipallocator.k8s.io"] },
  },
  {
    id: "local-api-service",
    reason:
      "served by the API server itself (a built-in group, or a CRD's group registered by crd-autoregister); the new cluster registers its own",
    appliesTo: [{ group: "apiregistration.k8s.io", resource: "apiservices" }],
    match: { missing: ["spec", "service"] },
  },
  {
    id: "mirror-pod",
    reason:
      "published by a node's kubelet for a static pod of its manifest folder; the new nodes publish their own",
    appliesTo: [core("pods")],
    match: { annotationKey: "kubernetes.io/config.mirror" },
  },
];

// ---------------------------------------------------------------------------------------------------
// Owned objects

/** An owner kind whose built-in controller makes objects of a child kind from it. */
export interface RecreatedChild {
  readonly owner: KindRef;
  readonly child: KindRef;
  /**
   * How the child names its owner: its controller ownerReference (the default), or the same name as a
   * Service that has a selector (Endpoints carry no ownerReference).
   */
  readonly link?: "controller-ref" | "same-name-service-with-selector";
  readonly reason: string;
}

/**
 * What built-in controllers re-create from an owner that the restore restores: such children are
 * skipped (a restored copy would sit beside the controller's own, or be adopted and deleted). Every other
 * owned object (an operator's Secrets, PVCs, ConfigMaps) is restored, after its owner, with the owner's
 * new uid (OWNER_REFERENCES_SET_BY_CONTROLLERS lists the exceptions).
 */
export const RECREATED_BY_CONTROLLERS: readonly RecreatedChild[] = [
  {
    owner: appsKind("ReplicaSet"),
    child: coreKind("Pod"),
    reason: "the ReplicaSet controller creates its pods from its pod template",
  },
  {
    owner: appsKind("StatefulSet"),
    child: coreKind("Pod"),
    reason: "the StatefulSet controller creates its pods, with the same names, from its pod template",
  },
  {
    owner: appsKind("DaemonSet"),
    child: coreKind("Pod"),
    reason: "the DaemonSet controller creates a pod per node of the new cluster",
  },
  {
    owner: batchKind("Job"),
    child: coreKind("Pod"),
    reason: "the Job controller creates the pods of a Job that has not finished",
  },
  {
    owner: coreKind("ReplicationController"),
    child: coreKind("Pod"),
    reason: "the replication controller creates its pods from its pod template",
  },
  {
    owner: appsKind("Deployment"),
    child: appsKind("ReplicaSet"),
    reason:
      "the deployment controller creates the ReplicaSet of its current template (older ones were rollout history)",
  },
  {
    owner: batchKind("CronJob"),
    child: batchKind("Job"),
    reason: "the CronJob controller creates its jobs on schedule",
  },
  {
    owner: appsKind("StatefulSet"),
    child: appsKind("ControllerRevision"),
    reason: "rollout history the StatefulSet controller writes anew for the restored StatefulSet",
  },
  {
    owner: appsKind("DaemonSet"),
    child: appsKind("ControllerRevision"),
    reason: "rollout history the DaemonSet controller writes anew for the restored DaemonSet",
  },
  {
    owner: coreKind("Service"),
    child: { group: "discovery.k8s.io", kind: "EndpointSlice" },
    reason: "the EndpointSlice controller keeps the slices of a Service with a selector",
  },
  {
    owner: coreKind("Endpoints"),
    child: { group: "discovery.k8s.io", kind: "EndpointSlice" },
    reason: "the EndpointSlice mirroring controller mirrors Endpoints written by hand",
  },
  {
    owner: coreKind("Service"),
    child: coreKind("Endpoints"),
    link: "same-name-service-with-selector",
    reason: "the endpoints controller keeps the Endpoints of a Service with a selector",
  },
  {
    owner: coreKind("Pod"),
    child: coreKind("PersistentVolumeClaim"),
    reason: "the ephemeral volume controller creates a pod's generic ephemeral volume claims",
  },
  {
    owner: coreKind("Pod"),
    child: { group: "resource.k8s.io", kind: "ResourceClaim" },
    reason: "the resource claim controller creates a pod's claims from its resourceClaimTemplates",
  },
];

/**
 * References a built-in controller keeps itself: the child is restored in its own type's order (before
 * its owner) without that reference, and the owner's controller sets it as its own rules say.
 */
export const OWNER_REFERENCES_SET_BY_CONTROLLERS: readonly {
  readonly owner: KindRef;
  readonly child: KindRef;
  readonly reason: string;
}[] = [
  {
    owner: appsKind("StatefulSet"),
    child: coreKind("PersistentVolumeClaim"),
    reason:
      "the StatefulSet controller sets or removes it by its persistentVolumeClaimRetentionPolicy; the claim comes first, as the controller would create a missing claim empty",
  },
];

// ---------------------------------------------------------------------------------------------------
// Changes before writing

export interface Adjustment {
  readonly id: string;
  readonly reason: string;
  readonly appliesTo: TypeRef;
  /** Applies only when this field is present (and not null). */
  readonly whenPresent?: FieldPath;
  /** Does not apply when this field equals this value. */
  readonly unless?: { readonly path: FieldPath; readonly equals: unknown };
  /** Does not apply when the user turned it off with this option. */
  readonly optOut?: "keepReclaimPolicy";
  readonly deleteFields?: readonly FieldPath[];
  /** Label keys removed from each of these label maps. */
  readonly deleteLabels?: { readonly maps: readonly FieldPath[]; readonly keys: readonly string[] };
  /** Sets a field (the note says what it was). */
  readonly set?: { readonly path: FieldPath; readonly value: string };
}

/**
 * Changes made to an object before it is created, on top of the backup-time cleaning (applied again, so
 * `--raw` snapshots are restored the same way). Each change is noted on the object in the report.
 * ownerReferences are handled apart (see decide.ts).
 */
export const RESTORE_ADJUSTMENTS: readonly Adjustment[] = [
  {
    id: "pv-reclaim-retain",
    reason:
      "the old cluster may still use the same disk: deleting this claim in the new cluster must not delete it (--keep-reclaim-policy keeps the snapshot's policy)",
    appliesTo: core("persistentvolumes"),
    whenPresent: ["spec", "persistentVolumeReclaimPolicy"],
    unless: { path: ["spec", "persistentVolumeReclaimPolicy"], equals: "Retain" },
    optOut: "keepReclaimPolicy",
    set: { path: ["spec", "persistentVolumeReclaimPolicy"], value: "Retain" },
  },
  {
    id: "job-selector",
    reason:
      "the API server generates a Job's selector and controller-uid labels from its new uid, and rejects a Job that brings its own without manualSelector",
    appliesTo: { group: "batch", resource: "jobs" },
    unless: { path: ["spec", "manualSelector"], equals: true },
    deleteFields: [["spec", "selector"]],
    deleteLabels: {
      maps: [
        ["metadata", "labels"],
        ["spec", "template", "metadata", "labels"],
      ],
      keys: ["controller-uid", "batch.kubernetes.io/controller-uid"],
    },
  },
  {
    id: "pod-node-name",
    reason: "the old cluster's nodes are gone; the scheduler places the pod on the new cluster's nodes",
    appliesTo: core("pods"),
    deleteFields: [["spec", "nodeName"]],
  },
  {
    id: "pod-priority",
    reason:
      "computed by the Priority admission plugin from priorityClassName; a value that disagrees with the new cluster is rejected",
    appliesTo: core("pods"),
    deleteFields: [["spec", "priority"]],
  },
  {
    id: "aggregated-cluster-role-rules",
    reason: "filled in by the clusterrole-aggregation controller from the roles it aggregates",
    appliesTo: rbac("clusterroles"),
    whenPresent: ["aggregationRule"],
    deleteFields: [["rules"]],
  },
];

/** A field or annotation that the API server or a controller of the new cluster maintains. */
export interface ControllerField {
  readonly id: string;
  readonly reason: string;
  readonly appliesTo: readonly TypeRef[];
  readonly annotations?: readonly string[];
  readonly labels?: readonly string[];
}

/**
 * Maintained by the new cluster, not by the user: left out of what is created, compared and applied
 * (`--update` never takes them over), so a second restore reports these objects unchanged. Their
 * snapshot values describe the old cluster's history (how often it rolled out), not the desired state.
 */
export const CONTROLLER_FIELDS: readonly ControllerField[] = [
  {
    id: "deployment-revision",
    reason:
      "the deployment controller numbers rollouts; a restored Deployment starts again at revision 1 in the new cluster",
    appliesTo: [{ group: "apps", resource: "deployments" }],
    annotations: ["deployment.kubernetes.io/revision"],
  },
  {
    id: "replicaset-deployment-annotations",
    reason: "written by the deployment controller on the ReplicaSets it manages",
    appliesTo: [{ group: "apps", resource: "replicasets" }],
    annotations: [
      "deployment.kubernetes.io/revision",
      "deployment.kubernetes.io/revision-history",
      "deployment.kubernetes.io/desired-replicas",
      "deployment.kubernetes.io/max-replicas",
    ],
  },
  {
    id: "daemonset-template-generation",
    reason: "counted by the API server per template change; a restored DaemonSet starts again at 1",
    appliesTo: [{ group: "apps", resource: "daemonsets" }],
    annotations: ["deprecated.daemonset.template.generation"],
  },
  {
    id: "job-tracking",
    reason: "added by the Job controller of Kubernetes 1.23 to 1.26 while it tracked pods with finalizers",
    appliesTo: [{ group: "batch", resource: "jobs" }],
    annotations: ["batch.kubernetes.io/job-tracking"],
  },
  {
    id: "claim-provisioner",
    reason:
      "set by the persistent volume controller from the new cluster's storage classes and CSI migration",
    appliesTo: [core("persistentvolumeclaims"), core("persistentvolumes")],
    annotations: [
      "volume.beta.kubernetes.io/storage-provisioner",
      "volume.kubernetes.io/storage-provisioner",
      "pv.kubernetes.io/migrated-to",
    ],
  },
  {
    id: "leader-election-record",
    reason: "renewed every few seconds by the holder of an old-style leader election lock",
    appliesTo: [core("configmaps"), core("endpoints")],
    annotations: ["control-plane.alpha.kubernetes.io/leader"],
  },
  {
    id: "namespace-name-label",
    reason: "set by the API server to the namespace's name on every write",
    appliesTo: [core("namespaces")],
    labels: ["kubernetes.io/metadata.name"],
  },
];

// ---------------------------------------------------------------------------------------------------
// Namespace references

/** Fields that name a namespace, moved with the objects by --namespace-mappings. */
export const NAMESPACE_REFERENCES: readonly {
  readonly appliesTo: readonly TypeRef[];
  readonly path: FieldPath;
  readonly reason: string;
}[] = [
  {
    appliesTo: [rbac("rolebindings"), rbac("clusterrolebindings")],
    path: ["subjects", "[]", "namespace"],
    reason: "a ServiceAccount subject names its namespace; the account moved with it",
  },
  {
    appliesTo: [{ group: "apiregistration.k8s.io", resource: "apiservices" }],
    path: ["spec", "service", "namespace"],
    reason: "the Service that serves the API moved with its namespace",
  },
  {
    appliesTo: [
      { group: "admissionregistration.k8s.io", resource: "mutatingwebhookconfigurations" },
      { group: "admissionregistration.k8s.io", resource: "validatingwebhookconfigurations" },
    ],
    path: ["webhooks", "[]", "clientConfig", "service", "namespace"],
    reason: "the Service that serves the webhook moved with its namespace",
  },
  {
    appliesTo: [{ group: "apiextensions.k8s.io", resource: "customresourcedefinitions" }],
    path: ["spec", "conversion", "webhook", "clientConfig", "service", "namespace"],
    reason: "the Service that serves the conversion webhook moved with its namespace",
  },
];
