// What a snapshot leaves out of each object, as a table: every rule names the objects it touches
// and why, so reviewing the backup format means reading CLEANING_RULES, not the code below it.
import type { KubeObject } from "./ports.js";

type FieldPath = readonly string[];

/** A field of the object as served, compared to a string. */
interface FieldMatch {
  readonly path: FieldPath;
  readonly equals: string;
}

interface ResourceRef {
  readonly group: string;
  readonly resource: string;
}

type CleaningAction =
  | { readonly op: "skip-object" }
  | { readonly op: "delete-fields"; readonly paths: readonly FieldPath[] }
  | { readonly op: "delete-annotations"; readonly keys: readonly string[] };

/** One cleaning rule: which objects it applies to, what it does, and why. */
export interface CleaningRule {
  readonly id: string;
  readonly reason: string;
  /** "*" for every object; otherwise exactly this group ("" for core) and plural resource, never a kind. */
  readonly appliesTo: "*" | ResourceRef;
  /** The rule applies only when this field of the object as served has this value. */
  readonly when?: FieldMatch;
  /** The rule does not apply when this field of the object as served has this value. */
  readonly unless?: FieldMatch;
  readonly action: CleaningAction;
}

const core = (resource: string): ResourceRef => ({ group: "", resource });

/** The rules applied to every object at backup time, one entry per concern, each with its reason. */
export const CLEANING_RULES: readonly CleaningRule[] = [
  {
    id: "service-account-token-secrets",
    reason: "Minted per cluster by the token controller; storing one keeps a live credential for nothing.",
    appliesTo: core("secrets"),
    when: { path: ["type"], equals: "kubernetes.io/service-account-token" },
    action: { op: "skip-object" },
  },
  {
    id: "status",
    reason: "Observed state: controllers rebuild it, and the API server ignores it on create.",
    appliesTo: "*",
    action: { op: "delete-fields", paths: [["status"]] },
  },
  {
    id: "server-assigned-metadata",
    reason: "Set by the API server on create (it refuses a resourceVersion); a restore must not carry them.",
    appliesTo: "*",
    action: {
      op: "delete-fields",
      paths: [
        ["metadata", "uid"],
        ["metadata", "selfLink"],
        ["metadata", "resourceVersion"],
        ["metadata", "creationTimestamp"],
        ["metadata", "generation"],
      ],
    },
  },
  {
    id: "managed-fields",
    reason: "Server-side apply bookkeeping, often bigger than the object; the server rebuilds it on create.",
    appliesTo: "*",
    action: { op: "delete-fields", paths: [["metadata", "managedFields"]] },
  },
  {
    id: "deletion-in-progress",
    reason: "An object caught mid-deletion is restored as a live object, not as one about to go away.",
    appliesTo: "*",
    action: {
      op: "delete-fields",
      paths: [
        ["metadata", "deletionTimestamp"],
        ["metadata", "deletionGracePeriodSeconds"],
      ],
    },
  },
  {
    id: "persistent-volume-claim-ref",
    reason: "Holds the old claim's uid; a restored volume must be free for its restored claim to bind it.",
    appliesTo: core("persistentvolumes"),
    action: { op: "delete-fields", paths: [["spec", "claimRef"]] },
  },
  {
    id: "persistent-volume-binding-annotations",
    reason: "PV controller binding state, redone on restore; an annotations map left empty is removed.",
    appliesTo: core("persistentvolumes"),
    action: { op: "delete-annotations", keys: ["pv.kubernetes.io/bound-by-controller"] },
  },
  {
    id: "service-cluster-ips",
    reason: "Allocated from the old cluster's service CIDR and may clash; a headless service's None is kept.",
    appliesTo: core("services"),
    unless: { path: ["spec", "clusterIP"], equals: "None" },
    action: {
      op: "delete-fields",
      paths: [
        ["spec", "clusterIP"],
        ["spec", "clusterIPs"],
      ],
    },
  },
  {
    id: "persistent-volume-claim-binding-annotations",
    reason: "Binder and scheduler state, redone on restore; an annotations map left empty is removed.",
    appliesTo: core("persistentvolumeclaims"),
    action: {
      op: "delete-annotations",
      keys: [
        "pv.kubernetes.io/bind-completed",
        "pv.kubernetes.io/bound-by-controller",
        "volume.kubernetes.io/selected-node",
      ],
    },
  },
];

/**
 * Returns the object to store (a new object; the input is not mutated), or undefined when the object
 * must not be stored at all. Maps on the path to a removed field are copied; everything the rules do
 * not touch is shared with the input (a deep copy of every object was the snapshot's hottest cost).
 */
export function cleanObject(obj: KubeObject, ref: ResourceRef): KubeObject | undefined {
  // Conditions are read from the input, so no rule's outcome depends on the rules before it.
  const rules = CLEANING_RULES.filter((rule) => applies(rule, obj, ref));
  if (rules.some((rule) => rule.action.op === "skip-object")) return undefined;
  // Spread copies keep key order; `copied` makes each map on a changed path a copy exactly once.
  const cleaned: KubeObject = { ...obj };
  const copied = new Set<object>([cleaned]);
  for (const rule of rules) apply(rule.action, cleaned, copied);
  return cleaned;
}

function applies({ appliesTo, when, unless }: CleaningRule, obj: KubeObject, ref: ResourceRef): boolean {
  const sameResource =
    appliesTo === "*" || (appliesTo.group === ref.group && appliesTo.resource === ref.resource);
  if (!sameResource) return false;
  return (when === undefined || matches(obj, when)) && (unless === undefined || !matches(obj, unless));
}

function matches(obj: KubeObject, match: FieldMatch): boolean {
  return fieldAt(obj, match.path) === match.equals;
}

function apply(action: CleaningAction, obj: KubeObject, copied: Set<object>): void {
  if (action.op === "delete-fields") {
    for (const path of action.paths) deleteField(obj, path, copied);
  } else if (action.op === "delete-annotations") {
    deleteAnnotations(obj, action.keys, copied);
  }
}

/** The map at `path`, made a copy of the input's first (copy-on-write), or undefined if absent. */
function writableAt(
  obj: KubeObject,
  path: FieldPath,
  copied: Set<object>,
): Record<string, unknown> | undefined {
  let node: Record<string, unknown> = obj;
  for (const key of path) {
    const child = Object.hasOwn(node, key) ? node[key] : undefined;
    if (!isRecord(child)) return undefined;
    if (copied.has(child)) {
      node = child;
      continue;
    }
    const copy = { ...child };
    copied.add(copy);
    node[key] = copy;
    node = copy;
  }
  return node;
}

function deleteField(obj: KubeObject, path: FieldPath, copied: Set<object>): void {
  const key = path.at(-1);
  if (key === undefined) return;
  const parentPath = path.slice(0, -1);
  const current = fieldAt(obj, parentPath);
  // Look before copying: most objects lack most fields, and an absent field needs no copy.
  if (!isRecord(current) || !Object.hasOwn(current, key)) return;
  const parent = writableAt(obj, parentPath, copied);
  if (parent) delete parent[key];
}

function deleteAnnotations(obj: KubeObject, keys: readonly string[], copied: Set<object>): void {
  const current = fieldAt(obj, ["metadata", "annotations"]);
  if (!isRecord(current)) return;
  const present = keys.filter((key) => Object.hasOwn(current, key));
  if (present.length === 0) return;
  const annotations = writableAt(obj, ["metadata", "annotations"], copied);
  const metadata = writableAt(obj, ["metadata"], copied);
  if (!annotations || !metadata) return;
  for (const key of present) delete annotations[key];
  // Only a map this rule emptied goes: an `annotations: {}` as served is the user's, not ours.
  if (Object.keys(annotations).length === 0) delete metadata.annotations;
}

/** The value at `path`, or undefined as soon as a step is missing or not an object. */
function fieldAt(obj: unknown, path: FieldPath): unknown {
  let node = obj;
  for (const key of path) {
    if (!isRecord(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
