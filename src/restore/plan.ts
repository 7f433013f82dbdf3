// What a restore does, as tables of data with a reason per entry, and the pure decisions built on
// them: the order of resource types, the types and objects that are never restored, the adjustments
// made to an object before it is created, and the comparison with a live object. No I/O here: the
// engine (restore.ts) streams the snapshot through these functions.
import { CLEANING_RULES, cleanObject } from "../snapshot/clean.js";
import { globMatch, matchesResource } from "../snapshot/filters.js";
import { qualifiedResource } from "../snapshot/layout.js";
import type { KubeObject } from "../snapshot/ports.js";

/** A resource type as snapshot files name it: plural resource and group ("" for core). */
export interface TypeRef {
  readonly group: string;
  readonly resource: string;
}

/** One List file of a snapshot. */
export interface SnapshotFile extends TypeRef {
  /** Relative to the snapshot folder, e.g. `app-1/deployments.apps.json`. */
  readonly key: string;
  /** Null for cluster-scoped types. */
  readonly namespace: string | null;
  /** What the manifest says the file holds (absent for a snapshot restored with --force and no manifest). */
  readonly items?: number | undefined;
  readonly bytes?: number | undefined;
  readonly sha256?: string | undefined;
}

/** The user's selection (`--namespace`, `--resource`, `--selector`); empty lists select everything. */
export interface RestoreFilters {
  /** Namespace globs. */
  readonly namespaces: readonly string[];
  /** `resource` or `resource.group` globs. */
  readonly resources: readonly string[];
  /** A label selector in equality form (`app=web,tier!=db,release,!canary`). */
  readonly selector?: string | undefined;
}

/** Why something is not restored: a stable, greppable rule id and a sentence for people. */
export interface SkipReason {
  readonly rule: string;
  readonly reason: string;
}

interface OrderEntry {
  /** kubectl's `resource.group` name. */
  readonly resource: string;
  readonly reason: string;
}

const WORKLOAD_REASON = "workloads last: what they mount, reference or run as exists by the time they start";
const ADMISSION_REASON =
  "admission after everything else: a webhook whose backend is not running yet, or a policy, would reject the restore's own writes";

/** Restored first, in this order (DESIGN.md "Restore"). */
export const RESTORE_ORDER_FIRST: readonly OrderEntry[] = [
  {
    resource: "customresourcedefinitions.apiextensions.k8s.io",
    reason: "custom resources can only be created once their definition is Established (the restore waits)",
  },
  { resource: "namespaces", reason: "every namespaced object needs its namespace" },
  { resource: "storageclasses.storage.k8s.io", reason: "claims name their class; provisioning needs it" },
  { resource: "priorityclasses.scheduling.k8s.io", reason: "pods naming a missing class are rejected" },
  {
    resource: "persistentvolumes",
    reason: "before their claims, so a claim binds its restored volume instead of provisioning an empty one",
  },
  { resource: "persistentvolumeclaims", reason: "before the pods that mount them" },
  { resource: "clusterroles.rbac.authorization.k8s.io", reason: "bindings refer to roles" },
  { resource: "roles.rbac.authorization.k8s.io", reason: "bindings refer to roles" },
  { resource: "serviceaccounts", reason: "bindings name them and pods run as them" },
  {
    resource: "clusterrolebindings.rbac.authorization.k8s.io",
    reason: "access is granted before the workloads that need it run",
  },
  {
    resource: "rolebindings.rbac.authorization.k8s.io",
    reason: "access is granted before the workloads that need it run",
  },
  { resource: "secrets", reason: "mounted and referenced by pods" },
  { resource: "configmaps", reason: "mounted and referenced by pods" },
  { resource: "limitranges", reason: "they default and limit the pods created after them" },
  { resource: "resourcequotas", reason: "they count the objects created after them" },
  {
    resource: "services",
    reason: "pods started later get environment variables for the services that exist",
  },
];

/** Restored last, in this order, after every other type (which go alphabetically in between). */
export const RESTORE_ORDER_LAST: readonly OrderEntry[] = [
  { resource: "deployments.apps", reason: WORKLOAD_REASON },
  { resource: "statefulsets.apps", reason: WORKLOAD_REASON },
  { resource: "daemonsets.apps", reason: WORKLOAD_REASON },
  { resource: "replicasets.apps", reason: WORKLOAD_REASON },
  { resource: "jobs.batch", reason: WORKLOAD_REASON },
  { resource: "cronjobs.batch", reason: WORKLOAD_REASON },
  { resource: "pods", reason: WORKLOAD_REASON },
  { resource: "mutatingwebhookconfigurations.admissionregistration.k8s.io", reason: ADMISSION_REASON },
  { resource: "validatingwebhookconfigurations.admissionregistration.k8s.io", reason: ADMISSION_REASON },
  { resource: "mutatingadmissionpolicies.admissionregistration.k8s.io", reason: ADMISSION_REASON },
  { resource: "mutatingadmissionpolicybindings.admissionregistration.k8s.io", reason: ADMISSION_REASON },
  { resource: "validatingadmissionpolicies.admissionregistration.k8s.io", reason: ADMISSION_REASON },
  { resource: "validatingadmissionpolicybindings.admissionregistration.k8s.io", reason: ADMISSION_REASON },
];

const REST_REASON = "no dependency of its own: alphabetically between the first types and the workloads";

/** Types whose objects are never restored (globs over `resource.group`), each with its reason. */
export const NON_RESTORABLE_TYPES: readonly { readonly pattern: string; readonly reason: string }[] = [
  {
    pattern: "nodes",
    reason: "registered by each kubelet of the new cluster; a restored Node is a machine that does not exist",
  },
  { pattern: "events", reason: "a record of the old cluster's past, expired after 1 h" },
  { pattern: "events.events.k8s.io", reason: "a record of the old cluster's past, expired after 1 h" },
  {
    pattern: "apiservices.apiregistration.k8s.io",
    reason:
      "registered by the API server (built-in groups) and by add-on installers; one restored before its backend runs breaks discovery of its group",
  },
  {
    pattern: "leases.coordination.k8s.io",
    reason: "leader election and node heartbeats, renewed every few seconds by their holders",
  },
  {
    pattern: "leasecandidates.coordination.k8s.io",
    reason: "leader-election candidacy, renewed by its holders",
  },
  {
    pattern: "controllerrevisions.apps",
    reason: "rollout history the StatefulSet and DaemonSet controllers write anew for each restored workload",
  },
  { pattern: "componentstatuses", reason: "computed on read (deprecated)" },
  { pattern: "csinodes.storage.k8s.io", reason: "written by each node's kubelet" },
  {
    pattern: "volumeattachments.storage.k8s.io",
    reason: "attachments to the old cluster's nodes; the attach/detach controller makes new ones",
  },
  {
    pattern: "certificatesigningrequests.certificates.k8s.io",
    reason: "requests of the old cluster's kubelets and clients, for certificates of its CA",
  },
  { pattern: "resourceslices.resource.k8s.io", reason: "published per node by device drivers" },
  { pattern: "*.metrics.k8s.io", reason: "live metrics computed on read, not stored objects" },
];

/** Conditions on an object's identity, labels or annotations; every condition given must hold. */
interface ObjectMatch {
  readonly namespace?: string;
  readonly names?: readonly string[];
  readonly namePrefix?: string;
  readonly label?: readonly [key: string, value: string];
  readonly annotation?: readonly [key: string, value: string];
}

interface SystemObjectRule {
  readonly id: string;
  readonly reason: string;
  readonly appliesTo: readonly TypeRef[];
  readonly match: ObjectMatch;
}

const core = (resource: string): TypeRef => ({ group: "", resource });
const rbac = (resource: string): TypeRef => ({ group: "rbac.authorization.k8s.io", resource });
const RBAC_TYPES = [rbac("clusterroles"), rbac("clusterrolebindings"), rbac("roles"), rbac("rolebindings")];
const APF_TYPES = ["flowschemas", "prioritylevelconfigurations"].map((resource) => ({
  group: "flowcontrol.apiserver.k8s.io",
  resource,
}));

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
];

type FieldPath = readonly string[];

interface Adjustment {
  readonly id: string;
  readonly reason: string;
  readonly appliesTo: TypeRef;
  /** Applies only when this field is present (and not null). */
  readonly whenPresent?: FieldPath;
  /** Does not apply when this field equals this value. */
  readonly unless?: { readonly path: FieldPath; readonly equals: unknown };
  readonly deleteFields?: readonly FieldPath[];
  /** Label keys removed from each of these label maps. */
  readonly deleteLabels?: { readonly maps: readonly FieldPath[]; readonly keys: readonly string[] };
}

/**
 * Changes made to an object before it is created, on top of the backup-time cleaning (applied again, so
 * `--raw` snapshots are restored the same way). ownerReferences are handled apart: see decideObject.
 */
export const RESTORE_ADJUSTMENTS: readonly Adjustment[] = [
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

/** Where a type goes in the order: tier 0 (first, by RESTORE_ORDER_FIRST), 1 (alphabetical), 2 (last). */
export interface StepOrder {
  readonly tier: 0 | 1 | 2;
  readonly position: number;
  readonly reason: string;
}

/** One file of the plan, in restore order. `skip` marks a type that is never restored (its objects are reported). */
export interface PlanStep {
  readonly file: SnapshotFile;
  readonly order: StepOrder;
  readonly skip?: SkipReason | undefined;
}

export interface RestorePlan {
  /** Every file, in the order the restore reads it. */
  readonly steps: readonly PlanStep[];
  /** Files with nothing the filters select (objects not read; counted from the manifest or the first pass). */
  readonly notSelected: readonly SnapshotFile[];
}

/** The type's place in the restore order. */
export function stepOrder(type: TypeRef): StepOrder {
  const name = qualifiedResource(type);
  const first = RESTORE_ORDER_FIRST.findIndex((e) => e.resource === name);
  if (first >= 0) return { tier: 0, position: first, reason: RESTORE_ORDER_FIRST[first]?.reason ?? "" };
  const last = RESTORE_ORDER_LAST.findIndex((e) => e.resource === name);
  if (last >= 0) return { tier: 2, position: last, reason: RESTORE_ORDER_LAST[last]?.reason ?? "" };
  return { tier: 1, position: 0, reason: REST_REASON };
}

/** The reason a type is never restored, or undefined. */
export function nonRestorableType(type: TypeRef): SkipReason | undefined {
  const entry = NON_RESTORABLE_TYPES.find((e) => matchesResource([e.pattern], type));
  return entry && { rule: "non-restorable-type", reason: entry.reason };
}

/** Types that selected objects may need even when the filters leave them out (see SnapshotIndex). */
const DEPENDENCY_TYPES = [
  "namespaces",
  "customresourcedefinitions.apiextensions.k8s.io",
  "persistentvolumes",
] as const;

/**
 * Orders the snapshot's files: CRDs … services (RESTORE_ORDER_FIRST), then every other type
 * alphabetically, then workloads and admission (RESTORE_ORDER_LAST); within a type the cluster-scoped
 * file, then namespaces alphabetically. Files the filters leave out entirely are set apart.
 */
export function planRestore(files: readonly SnapshotFile[], filters: RestoreFilters): RestorePlan {
  const steps: PlanStep[] = [];
  const notSelected: SnapshotFile[] = [];
  for (const file of files) {
    const skip = nonRestorableType(file);
    const mayHoldDependency = (DEPENDENCY_TYPES as readonly string[]).includes(qualifiedResource(file));
    if (!skip && !mayHoldDependency && !fileSelected(file, filters)) notSelected.push(file);
    else steps.push({ file, order: stepOrder(file), skip });
  }
  steps.sort((a, b) => compareSteps(a, b));
  return { steps, notSelected };
}

function compareSteps(a: PlanStep, b: PlanStep): number {
  const byOrder = a.order.tier - b.order.tier || a.order.position - b.order.position;
  if (byOrder !== 0) return byOrder;
  const ra = qualifiedResource(a.file);
  const rb = qualifiedResource(b.file);
  if (ra !== rb) return ra < rb ? -1 : 1;
  const na = a.file.namespace ?? "";
  const nb = b.file.namespace ?? "";
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** True when the filters can select some object of the file (the selector is checked per object). */
function fileSelected(file: SnapshotFile, filters: RestoreFilters): boolean {
  if (filters.resources.length > 0 && !matchesResource(filters.resources, file)) return false;
  if (filters.namespaces.length === 0) return true;
  if (file.namespace !== null) return filters.namespaces.some((g) => globMatch(g, file.namespace as string));
  return qualifiedResource(file) === "namespaces";
}

// ---------------------------------------------------------------------------------------------------
// Label selectors

interface Requirement {
  readonly key: string;
  readonly op: "=" | "!=" | "exists" | "!exists";
  readonly value?: string;
}

/** Parses an equality-based label selector; throws on a term it does not understand. */
export function parseSelector(text: string): Requirement[] {
  return text
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
    .map((term) => {
      const m = /^(!?)([A-Za-z0-9][A-Za-z0-9._/-]*)(?:(==|=|!=)([A-Za-z0-9._-]*))?$/.exec(term);
      if (!m) throw new Error(`"${term}" is not a label selector term (key=value, key!=value, key, !key)`);
      const [, not, key = "", op, value] = m;
      if (not && op)
        throw new Error(`"${term}" is not a label selector term (key=value, key!=value, key, !key)`);
      if (!op) return { key, op: not ? "!exists" : "exists" };
      return { key, op: op === "!=" ? "!=" : "=", value: value ?? "" };
    });
}

/** Kubernetes semantics: `key!=value` also matches objects without the label. */
export function matchesSelector(
  labels: Record<string, unknown>,
  requirements: readonly Requirement[],
): boolean {
  return requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    if (r.op === "exists") return has;
    if (r.op === "!exists") return !has;
    if (r.op === "=") return has && labels[r.key] === r.value;
    return !has || labels[r.key] !== r.value;
  });
}

// ---------------------------------------------------------------------------------------------------
// Objects

/** An object's group, from its apiVersion ("apps/v1" → "apps", "v1" → ""). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function fieldAt(obj: unknown, path: FieldPath): unknown {
  let node = obj;
  for (const key of path) {
    const r = record(node);
    if (!r || !Object.hasOwn(r, key)) return undefined;
    node = r[key];
  }
  return node;
}

function stringMap(value: unknown): Record<string, unknown> {
  return record(value) ?? {};
}

function metaOf(obj: KubeObject): {
  name: string;
  namespace: string | undefined;
  meta: Record<string, unknown>;
} {
  const meta = stringMap(obj.metadata);
  return {
    name: typeof meta.name === "string" ? meta.name : "",
    namespace: typeof meta.namespace === "string" && meta.namespace !== "" ? meta.namespace : undefined,
    meta,
  };
}

function matchesObject(obj: KubeObject, match: ObjectMatch): boolean {
  const { name, namespace, meta } = metaOf(obj);
  if (match.namespace !== undefined && namespace !== match.namespace) return false;
  if (match.names && !match.names.includes(name)) return false;
  if (match.namePrefix !== undefined && !name.startsWith(match.namePrefix)) return false;
  if (match.label && stringMap(meta.labels)[match.label[0]] !== match.label[1]) return false;
  if (match.annotation && stringMap(meta.annotations)[match.annotation[0]] !== match.annotation[1])
    return false;
  return true;
}

const sameType = (a: TypeRef, b: TypeRef) => a.group === b.group && a.resource === b.resource;

/**
 * Reasons that hold whatever else the snapshot contains: a type never restored, a cleaning rule that
 * keeps the object out (service-account tokens in `--raw` snapshots), an object the new cluster makes.
 */
export function fixedSkip(type: TypeRef, obj: KubeObject): SkipReason | undefined {
  const typeSkip = nonRestorableType(type);
  if (typeSkip) return typeSkip;
  const cleaningSkip = CLEANING_RULES.find(
    (r) =>
      r.action.op === "skip-object" &&
      r.appliesTo !== "*" &&
      sameType(r.appliesTo, type) &&
      cleanObject(obj, type) === undefined,
  );
  if (cleaningSkip) return { rule: cleaningSkip.id, reason: cleaningSkip.reason };
  const system = SYSTEM_OBJECT_RULES.find(
    (r) => r.appliesTo.some((t) => sameType(t, type)) && matchesObject(obj, r.match),
  );
  return system && { rule: system.id, reason: system.reason };
}

/** Whether the user's filters select the object; the reason when they do not. */
export function selection(
  file: SnapshotFile,
  obj: KubeObject,
  filters: RestoreFilters,
  selector = filters.selector ? parseSelector(filters.selector) : undefined,
): SkipReason | undefined {
  const notSelected = (by: string) => ({ rule: "not-selected", reason: `not selected by ${by}` });
  if (filters.resources.length > 0 && !matchesResource(filters.resources, file))
    return notSelected("--resource");
  if (filters.namespaces.length > 0) {
    const { name, namespace } = metaOf(obj);
    if (file.namespace !== null) {
      if (!filters.namespaces.some((g) => globMatch(g, namespace ?? file.namespace ?? ""))) {
        return notSelected("--namespace");
      }
    } else if (qualifiedResource(file) !== "namespaces") {
      return {
        rule: "not-selected",
        reason:
          "cluster-scoped: --namespace selects the objects of those namespaces and the Namespaces themselves",
      };
    } else if (!filters.namespaces.some((g) => globMatch(g, name))) {
      return notSelected("--namespace");
    }
  }
  if (selector && !matchesSelector(stringMap(metaOf(obj).meta.labels), selector))
    return notSelected("--selector");
  return undefined;
}

/** An ownerReference in the form the restore keeps (the uid is the old cluster's and is dropped). */
export interface OwnerLink {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly controller?: boolean | undefined;
  readonly blockOwnerDeletion?: boolean | undefined;
}

function ownerRefs(obj: KubeObject): OwnerLink[] {
  const refs = metaOf(obj).meta.ownerReferences;
  if (!Array.isArray(refs)) return [];
  return refs.flatMap((r) => {
    const ref = record(r);
    if (
      !ref ||
      typeof ref.apiVersion !== "string" ||
      typeof ref.kind !== "string" ||
      typeof ref.name !== "string"
    )
      return [];
    return [
      {
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        name: ref.name,
        controller: ref.controller === true ? true : undefined,
        blockOwnerDeletion: ref.blockOwnerDeletion === true ? true : undefined,
      },
    ];
  });
}

const identity = (group: string, kind: string, namespace: string, name: string) =>
  `${group}\u0000${kind}\u0000${namespace}\u0000${name}`;

/**
 * What the restore needs to know about the whole snapshot before it writes anything, collected in a
 * first pass over every file: one short string per object (uids are not kept at backup, so owners are
 * matched by group, kind, namespace and name), Services that have a selector, and the Namespaces, CRDs
 * and PersistentVolumes that objects selected by the filters need.
 */
export class SnapshotIndex {
  readonly #objects = new Set<string>();
  readonly #servicesWithSelector = new Set<string>();
  readonly #needed = new Map<string, number>();
  readonly #filters: RestoreFilters;
  readonly #selector: Requirement[] | undefined;
  #complete = true;

  constructor(filters: RestoreFilters) {
    this.#filters = filters;
    this.#selector = filters.selector ? parseSelector(filters.selector) : undefined;
  }

  /** Objects recorded. */
  get size(): number {
    return this.#objects.size;
  }

  /** False once a file could not be read (--force): an owner may be missing from the index. */
  get complete(): boolean {
    return this.#complete;
  }

  /** Records that a file of the snapshot could not be read. */
  markIncomplete(): void {
    this.#complete = false;
  }

  /** Records one object of `file`. */
  add(file: SnapshotFile, obj: KubeObject): void {
    const { name, namespace } = metaOf(obj);
    const apiVersion = typeof obj.apiVersion === "string" ? obj.apiVersion : "";
    const kind = typeof obj.kind === "string" ? obj.kind : "";
    this.#objects.add(identity(groupOf(apiVersion), kind, namespace ?? "", name));
    if (
      file.group === "" &&
      file.resource === "services" &&
      Object.keys(stringMap(fieldAt(obj, ["spec", "selector"]))).length > 0
    )
      this.#servicesWithSelector.add(`${namespace ?? ""}/${name}`);
    // Over-approximation on purpose: an object selected here may still be skipped for its owner later;
    // a Namespace, CRD or volume restored for nothing is reported as such and harms nothing.
    if (selection(file, obj, this.#filters, this.#selector) || fixedSkip(file, obj)) return;
    if (namespace) this.#need(`namespaces/${namespace}`);
    if (file.group !== "") this.#need(`crds/${file.resource}.${file.group}`);
    const volume = fieldAt(obj, ["spec", "volumeName"]);
    if (
      file.group === "" &&
      file.resource === "persistentvolumeclaims" &&
      typeof volume === "string" &&
      volume
    )
      this.#need(`persistentvolumes/${volume}`);
  }

  #need(key: string): void {
    this.#needed.set(key, (this.#needed.get(key) ?? 0) + 1);
  }

  /** True when the snapshot holds an object of this group and kind (namespaced or cluster-scoped). */
  contains(group: string, kind: string, namespace: string | undefined, name: string): boolean {
    return (
      (namespace !== undefined && this.#objects.has(identity(group, kind, namespace, name))) ||
      this.#objects.has(identity(group, kind, "", name))
    );
  }

  /** True when the snapshot holds a Service of that name with a selector (its endpoints are controller-made). */
  hasServiceWithSelector(namespace: string, name: string): boolean {
    return this.#servicesWithSelector.has(`${namespace}/${name}`);
  }

  /** How many selected objects need this Namespace, CRD or PersistentVolume (0 when none or not such a type). */
  neededBy(type: TypeRef, name: string): number {
    const kind = qualifiedResource(type);
    const key =
      kind === "namespaces"
        ? `namespaces/${name}`
        : kind === "customresourcedefinitions.apiextensions.k8s.io"
          ? `crds/${name}`
          : kind === "persistentvolumes"
            ? `persistentvolumes/${name}`
            : undefined;
    return key === undefined ? 0 : (this.#needed.get(key) ?? 0);
  }
}

/** What to do with one object of the snapshot. */
export type ObjectDecision =
  | ({ readonly action: "skip" } & SkipReason)
  | {
      readonly action: "restore";
      /** The object to create or compare: cleaned and adjusted, without ownerReferences. */
      readonly object: KubeObject;
      /** What was changed and why, for the report. */
      readonly notes: readonly string[];
      /** Owners in the snapshot: the restore re-links the object to their new uids once they exist. */
      readonly relink: readonly OwnerLink[];
    };

/**
 * Decides one object: skipped (with the rule and reason), or restored as the returned object. Order of
 * the checks: the user's filters (a Namespace, CRD or volume that selected objects need is restored
 * even when not selected), the fixed skips, then the rules that need the whole snapshot: an object
 * whose controller owner is in the snapshot is re-created by that controller; the Endpoints of a
 * Service with a selector are re-created by the endpoints controller.
 *
 * ownerReferences: a uid cannot be carried to a new cluster, and a reference to a uid that does not
 * exist there makes the garbage collector delete the object. So every reference is removed before the
 * create; references to owners in the snapshot are re-linked to the owners' new uids once every object
 * is restored (`relink`); references to owners that are not in the snapshot are dropped, and the
 * report says so.
 */
export function decideObject(
  file: SnapshotFile,
  obj: KubeObject,
  index: SnapshotIndex,
  filters: RestoreFilters,
): ObjectDecision {
  const notes: string[] = [];
  const { name, namespace } = metaOf(obj);
  const notSelected = selection(file, obj, filters);
  if (notSelected) {
    const needed = index.neededBy(file, name);
    if (needed === 0) return { action: "skip", ...notSelected };
    notes.push(`${notSelected.reason}, but restored: ${needed} selected object(s) need it`);
  }
  const fixed = fixedSkip(file, obj);
  if (fixed) return { action: "skip", ...fixed };

  const owners = ownerRefs(obj);
  const controller = owners.find(
    (o) => o.controller && index.contains(groupOf(o.apiVersion), o.kind, namespace, o.name),
  );
  if (controller) {
    return {
      action: "skip",
      rule: "owned-by-controller",
      reason: `controlled by ${controller.kind} ${controller.name}, which is in the snapshot; its controller re-creates it`,
    };
  }
  const unknownController = index.complete ? undefined : owners.find((o) => o.controller);
  if (unknownController) {
    // Restoring it on its own could duplicate what its controller makes (a pod beside its ReplicaSet's).
    return {
      action: "skip",
      rule: "controller-unknown",
      reason: `controlled by ${unknownController.kind} ${unknownController.name}, which may be in a snapshot file that could not be read`,
    };
  }
  if (
    file.group === "" &&
    file.resource === "endpoints" &&
    index.hasServiceWithSelector(namespace ?? "", name)
  ) {
    return {
      action: "skip",
      rule: "service-endpoints",
      reason: `kept up to date by the endpoints controller for Service ${name}, which is in the snapshot and has a selector`,
    };
  }

  const cleaned = cleanObject(obj, file) ?? obj;
  const object = structuredClone(cleaned);
  for (const adjustment of RESTORE_ADJUSTMENTS) {
    if (applyAdjustment(adjustment, file, object)) notes.push(`${adjustment.id}: ${adjustment.reason}`);
  }
  const meta = record(object.metadata);
  if (meta) delete meta.ownerReferences;
  const relink: OwnerLink[] = [];
  for (const o of owners) {
    if (index.contains(groupOf(o.apiVersion), o.kind, namespace, o.name)) relink.push(o);
    else
      notes.push(
        `ownerReference to ${o.kind} ${o.name} dropped: the owner is not in the snapshot, and a reference to a missing owner gets the object garbage-collected`,
      );
  }
  return { action: "restore", object, notes, relink };
}

function applyAdjustment(a: Adjustment, type: TypeRef, obj: KubeObject): boolean {
  if (!sameType(a.appliesTo, type)) return false;
  if (a.whenPresent && (fieldAt(obj, a.whenPresent) ?? null) === null) return false;
  if (a.unless && fieldAt(obj, a.unless.path) === a.unless.equals) return false;
  let changed = false;
  for (const path of a.deleteFields ?? []) {
    const parent = record(fieldAt(obj, path.slice(0, -1)));
    const key = path.at(-1);
    if (parent && key !== undefined && Object.hasOwn(parent, key)) {
      delete parent[key];
      changed = true;
    }
  }
  for (const mapPath of a.deleteLabels?.maps ?? []) {
    const labels = record(fieldAt(obj, mapPath));
    if (!labels) continue;
    for (const key of a.deleteLabels?.keys ?? []) {
      if (Object.hasOwn(labels, key)) {
        delete labels[key];
        changed = true;
      }
    }
  }
  return changed;
}

// ---------------------------------------------------------------------------------------------------
// Comparing with the live object

/**
 * The paths (`spec.replicas`, `data.color`) where `desired` is not contained in `live`, at most `limit`.
 * Containment: every field of `desired` is in `live` with an equal value; `live` may have more (server
 * defaults, fields set by controllers). Lists compare item by item and must have the same length. A
 * null, empty map or empty list in `desired` matches an absent field (the API server omits them).
 */
export function differences(desired: unknown, live: unknown, limit = 5): string[] {
  const out: string[] = [];
  walk(desired, live, "", out, limit);
  return out;
}

function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (Array.isArray(value)) return value.length === 0;
  const r = record(value);
  return r !== undefined && Object.keys(r).length === 0;
}

function walk(desired: unknown, live: unknown, path: string, out: string[], limit: number): void {
  if (out.length >= limit) return;
  if (live === undefined || live === null) {
    if (!isEmpty(desired)) out.push(path || "(object)");
    return;
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) {
      out.push(path);
      return;
    }
    desired.forEach((item, i) => {
      walk(item, live[i], `${path}[${i}]`, out, limit);
    });
    return;
  }
  const d = record(desired);
  if (d) {
    const l = record(live);
    if (!l) {
      out.push(path);
      return;
    }
    for (const [key, value] of Object.entries(d)) {
      walk(value, l[key], path ? `${path}.${key}` : key, out, limit);
    }
    return;
  }
  if (desired !== null && desired !== live) out.push(path);
}

/** Parses a snapshot file key (`<resource>[.<group>].json` or `<namespace>/…`); undefined when it is not one. */
export function parseFileKey(key: string): SnapshotFile | undefined {
  const m =
    /^(?:([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/)?([a-z0-9][-a-z0-9]*)((?:\.[a-z0-9][-a-z0-9]*)*)\.json$/.exec(key);
  if (!m || key === "manifest.json") return undefined;
  const [, namespace, , resource = "", group = ""] = m;
  return { key, namespace: namespace ?? null, resource, group: group.replace(/^\./, "") };
}
