// Objects that change every day by nature: controllers and kubelets rewrite them, or make and replace
// them, whatever people do. The change digest counts them apart (by rule), so its totals show what people
// changed; the mass-deletion alarm compares removals against the objects no rule covers. Rules are data,
// each with its reason, keyed by their id; the first rule that matches an object names it.
import { isRecord } from "./json.js";

export interface RoutineRule {
  /** A short, stable name (in the manifest's `changes.routine`). */
  readonly id: string;
  /** Why objects it covers change without anyone changing them. */
  readonly reason: string;
  /** True for an object (as stored: cleaned, with apiVersion and kind) of `resource` (`resource.group`). */
  matches(resource: string, object: Record<string, unknown>): boolean;
}

const LEADER_ANNOTATION = "control-plane.alpha.kubernetes.io/leader";

/** A rule as ROUTINE_RULES writes it, under its id: the types whose every object it covers, or a test. */
type RuleSpec = { readonly reason: string } & (
  | { readonly types: readonly string[] }
  | { matches(resource: string, object: Record<string, unknown>): boolean }
);

/** Rules written as one object, `{ id: { reason, types | matches }, … }`, in the order written. */
function routineRules(specs: Readonly<Record<string, RuleSpec>>): readonly RoutineRule[] {
  return Object.entries(specs).map(([id, spec]) => ({
    id,
    reason: spec.reason,
    matches: "types" in spec ? (resource: string) => spec.types.includes(resource) : spec.matches,
  }));
}

export const ROUTINE_RULES: readonly RoutineRule[] = routineRules({
  endpoints: {
    reason: "the endpoints controller rewrites Endpoints whenever a Pod behind their Service changes",
    types: ["endpoints"],
  },
  "endpoint-slices": {
    reason: "the EndpointSlice controllers rewrite, split and replace slices as Pods come and go",
    types: ["endpointslices.discovery.k8s.io"],
  },
  "leader-election": {
    reason: `leader-election records (annotation ${LEADER_ANNOTATION}) are renewed every few seconds`,
    matches: (_resource, object) => annotations(object)?.[LEADER_ANNOTATION] !== undefined,
  },
  "controller-owned": {
    reason:
      "made, changed and replaced by their controller (Pods of ReplicaSets, ReplicaSets of Deployments, " +
      "Jobs of CronJobs, ControllerRevisions…): what people changed is the owner",
    matches: (_resource, object) => hasControllerOwner(object),
  },
  "namespace-defaults": {
    reason:
      "kube-controller-manager creates the kube-root-ca.crt ConfigMap and the default ServiceAccount in " +
      "every namespace (what people changed is the Namespace) and rotates the CA bundle",
    matches: (resource, object) =>
      (resource === "configmaps" && nameOf(object) === "kube-root-ca.crt") ||
      (resource === "serviceaccounts" && nameOf(object) === "default"),
  },
  "service-ip-addresses": {
    reason:
      "kube-apiserver allocates an IPAddress for each Service's cluster IP and frees it with the Service " +
      "(what people changed is the Service)",
    types: ["ipaddresses.networking.k8s.io"],
  },
  nodes: {
    reason: "Nodes come and go with autoscaling, and kubelets keep updating their labels and annotations",
    types: ["nodes"],
  },
  "certificate-signing-requests": {
    reason: "kubelets request new certificates as they rotate them; approved requests are garbage-collected",
    types: ["certificatesigningrequests.certificates.k8s.io"],
  },
  leases: {
    reason: "Leases are renewed every few seconds (excluded by default; counted here when included)",
    types: ["leases.coordination.k8s.io"],
  },
  events: {
    reason: "Events expire after an hour (excluded by default; counted here when included)",
    types: ["events", "events.events.k8s.io"],
  },
});

/** The id of the first rule covering the object, or undefined when people are the ones who change it. */
export function routineRuleOf(resource: string, object: unknown): string | undefined {
  if (!isRecord(object)) return undefined;
  for (const rule of ROUTINE_RULES) if (rule.matches(resource, object)) return rule.id;
  return undefined;
}

function metadataOf(object: Record<string, unknown>): Record<string, unknown> | undefined {
  return isRecord(object.metadata) ? object.metadata : undefined;
}

function nameOf(object: Record<string, unknown>): unknown {
  return metadataOf(object)?.name;
}

function annotations(object: Record<string, unknown>): Record<string, unknown> | undefined {
  const a = metadataOf(object)?.annotations;
  return isRecord(a) ? a : undefined;
}

function hasControllerOwner(object: Record<string, unknown>): boolean {
  const owners = metadataOf(object)?.ownerReferences;
  return Array.isArray(owners) && owners.some((o) => isRecord(o) && o.controller === true);
}
