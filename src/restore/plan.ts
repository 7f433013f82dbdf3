// The plan of a restore: which snapshot files are read, in which order, and which types are never
// restored. Pure: the engine (restore.ts) reads the files in this order and decides each object with
// decide.ts. The order and the skipped types are data in rules.ts.
import { globMatch, matchesResource } from "../snapshot/filters.js";
import { type ListFileRef, qualifiedResource } from "../snapshot/layout.js";
import {
  NON_RESTORABLE_TYPES,
  REST_REASON,
  RESTORE_ORDER_FIRST,
  RESTORE_ORDER_LAST,
  type TypeRef,
} from "./rules.js";

export type { TypeRef } from "./rules.js";

/** One List file of a snapshot (its key parsed by the layout, parseFileKey). */
export interface SnapshotFile extends TypeRef, ListFileRef {
  /** What the manifest says the file holds (absent for a snapshot restored with --force and no manifest). */
  readonly items?: number | undefined;
  readonly bytes?: number | undefined;
  readonly sha256?: string | undefined;
}

/** The user's selection; empty lists select everything. */
export interface RestoreFilters {
  /** Namespace globs (`--namespace`), matched against the snapshot's namespaces. */
  readonly namespaces: readonly string[];
  /** `resource` or `resource.group` globs (`--resource`). */
  readonly resources: readonly string[];
  /** Object name globs (`--name`), matched against the snapshot's names. */
  readonly names?: readonly string[] | undefined;
  /** A label selector (`--selector`), in the grammar of selector.ts. */
  readonly selector?: string | undefined;
}

/** Why something is not restored: a stable, greppable rule id and a sentence for people. */
export interface SkipReason {
  readonly rule: string;
  readonly reason: string;
}

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
const DEPENDENCY_TYPES: readonly string[] = [
  "namespaces",
  "customresourcedefinitions.apiextensions.k8s.io",
  "persistentvolumes",
];

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
    const mayHoldDependency = DEPENDENCY_TYPES.includes(qualifiedResource(file));
    if (!skip && !mayHoldDependency && !fileSelected(file, filters)) notSelected.push(file);
    else steps.push({ file, order: stepOrder(file), skip });
  }
  steps.sort(compareSteps);
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

/** True when the filters can select some object of the file (names and the selector are checked per object). */
function fileSelected(file: SnapshotFile, filters: RestoreFilters): boolean {
  if (filters.resources.length > 0 && !matchesResource(filters.resources, file)) return false;
  if (filters.namespaces.length === 0) return true;
  if (file.namespace !== null) return filters.namespaces.some((g) => globMatch(g, file.namespace as string));
  return qualifiedResource(file) === "namespaces";
}
