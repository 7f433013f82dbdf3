// Decisions about single objects, built on the tables of rules.ts: is it selected by the user's filters,
// is it never restored, does a built-in controller re-create it from an owner that comes back, and if it
// is restored, as what object (cleaned, adjusted, moved to its mapped namespace) and linked to which
// owners. The first pass of a restore fills a SnapshotIndex, so these decisions can look at the whole
// snapshot; nothing here does I/O.
import { CLEANING_RULES, cleanObject } from "../snapshot/clean.js";
import { globMatch, matchesResource } from "../snapshot/filters.js";
import { qualifiedResource } from "../snapshot/layout.js";
import type { KubeObject } from "../snapshot/ports.js";
import { dropControllerFields } from "./compare.js";
import {
  deepCopy,
  deleteField,
  fieldAt,
  forEachParent,
  groupOf,
  metaOf,
  record,
  setField,
  stringMap,
} from "./object-fields.js";
import type { RestoreFilters, SkipReason, SnapshotFile } from "./plan.js";
import { nonRestorableType } from "./plan.js";
import {
  type Adjustment,
  NAMESPACE_REFERENCES,
  type ObjectMatch,
  OWNER_REFERENCES_SET_BY_CONTROLLERS,
  RECREATED_BY_CONTROLLERS,
  RESTORE_ADJUSTMENTS,
  type RecreatedChild,
  SYSTEM_OBJECT_RULES,
  type TypeRef,
} from "./rules.js";
import { matchesSelector, parseSelector, type Requirement } from "./selector.js";

/** How objects are chosen and changed: the user's filters and options. */
export interface DecideOptions {
  readonly filters: RestoreFilters;
  /** Snapshot namespace → namespace in the target cluster (`--namespace-mappings`). */
  readonly namespaceMappings?: ReadonlyMap<string, string> | undefined;
  /** Keep the snapshot's persistentVolumeReclaimPolicy (`--keep-reclaim-policy`). */
  readonly keepReclaimPolicy?: boolean | undefined;
}

function matchesObject(obj: KubeObject, match: ObjectMatch): boolean {
  const { name, namespace, meta } = metaOf(obj);
  if (match.namespace !== undefined && namespace !== match.namespace) return false;
  if (match.names && !match.names.includes(name)) return false;
  if (match.namePrefix !== undefined && !name.startsWith(match.namePrefix)) return false;
  if (match.label && stringMap(meta.labels)[match.label[0]] !== match.label[1]) return false;
  if (match.annotation && stringMap(meta.annotations)[match.annotation[0]] !== match.annotation[1])
    return false;
  if (match.annotationKey !== undefined && !Object.hasOwn(stringMap(meta.annotations), match.annotationKey))
    return false;
  if (match.missing && (fieldAt(obj, match.missing) ?? null) !== null) return false;
  return true;
}

const sameType = (a: TypeRef, b: TypeRef) => a.group === b.group && a.resource === b.resource;
const isNamespaceType = (type: TypeRef) => type.group === "" && type.resource === "namespaces";

/**
 * Reasons that hold whatever else the snapshot contains: a type never restored, a cleaning rule that
 * keeps the object out (service-account tokens in `--raw` snapshots), an object the new cluster makes.
 * A built-in namespace moved by --namespace-mappings becomes a namespace like any other.
 */
export function fixedSkip(
  type: TypeRef,
  obj: KubeObject,
  mappings?: ReadonlyMap<string, string>,
): SkipReason | undefined {
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
  if (isNamespaceType(type) && mappings?.has(metaOf(obj).name)) return undefined;
  const system = SYSTEM_OBJECT_RULES.find(
    (r) => r.appliesTo.some((t) => sameType(t, type)) && matchesObject(obj, r.match),
  );
  return system && { rule: system.id, reason: system.reason };
}

/** Parses the filters' selector once (it was validated by the CLI; a bad one throws SelectorError). */
export function selectorOf(filters: RestoreFilters): Requirement[] | undefined {
  return filters.selector ? parseSelector(filters.selector) : undefined;
}

/** Whether the user's filters select the object (snapshot names: filters apply before mappings); the reason when they do not. */
export function selection(
  file: SnapshotFile,
  obj: KubeObject,
  filters: RestoreFilters,
  selector = selectorOf(filters),
): SkipReason | undefined {
  const notSelected = (by: string) => ({ rule: "not-selected", reason: `not selected by ${by}` });
  if (filters.resources.length > 0 && !matchesResource(filters.resources, file))
    return notSelected("--resource");
  const { name, namespace, meta } = metaOf(obj);
  if (filters.namespaces.length > 0) {
    if (file.namespace !== null) {
      if (!filters.namespaces.some((g) => globMatch(g, namespace ?? file.namespace ?? ""))) {
        return notSelected("--namespace");
      }
    } else if (!isNamespaceType(file)) {
      return {
        rule: "not-selected",
        reason:
          "cluster-scoped: --namespace selects the objects of those namespaces and the Namespaces themselves",
      };
    } else if (!filters.namespaces.some((g) => globMatch(g, name))) {
      return notSelected("--namespace");
    }
  }
  if (filters.names && filters.names.length > 0 && !filters.names.some((g) => globMatch(g, name)))
    return notSelected("--name");
  if (selector && !matchesSelector(stringMap(meta.labels), selector)) return notSelected("--selector");
  return undefined;
}

/** An ownerReference as the restore keeps it (the uid is the old cluster's and is dropped). */
export interface OwnerLink {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly controller?: boolean | undefined;
  readonly blockOwnerDeletion?: boolean | undefined;
  /** The owner's identity and file in the snapshot when this restore restores it: the object is written after it. */
  readonly restored?: { readonly id: string; readonly file: string } | undefined;
}

function ownerRefs(obj: KubeObject): Omit<OwnerLink, "restored">[] {
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

/** The identity of an object in the snapshot (uids are not kept at backup): group, kind, namespace, name. */
export function identity(group: string, kind: string, namespace: string | undefined, name: string): string {
  return `${group}\u0000${kind}\u0000${namespace ?? ""}\u0000${name}`;
}

function objectIdentity(obj: KubeObject): string {
  const { name, namespace } = metaOf(obj);
  const apiVersion = typeof obj.apiVersion === "string" ? obj.apiVersion : "";
  return identity(groupOf(apiVersion), typeof obj.kind === "string" ? obj.kind : "", namespace, name);
}

/** The RECREATED_BY_CONTROLLERS entry and owner identity that re-create `obj`, if its kind has one. */
function recreatingOwner(
  obj: KubeObject,
): { entry: RecreatedChild; owner: string; name: string } | undefined {
  const apiVersion = typeof obj.apiVersion === "string" ? obj.apiVersion : "";
  const group = groupOf(apiVersion);
  const { name, namespace } = metaOf(obj);
  const controller = ownerRefs(obj).find((o) => o.controller);
  for (const entry of RECREATED_BY_CONTROLLERS) {
    if (entry.child.group !== group || entry.child.kind !== obj.kind) continue;
    if (entry.link === "same-name-service-with-selector")
      return { entry, owner: identity("", "Service", namespace, name), name };
    if (
      controller &&
      groupOf(controller.apiVersion) === entry.owner.group &&
      controller.kind === entry.owner.kind
    )
      return {
        entry,
        owner: identity(entry.owner.group, entry.owner.kind, namespace, controller.name),
        name: controller.name,
      };
  }
  return undefined;
}

interface IndexEntry {
  /** The key of the file that holds the object. */
  readonly file: string;
  /** Selected by the filters and not skipped by a fixed rule. */
  readonly selected: boolean;
  /** The owner whose built-in controller re-creates this object (RECREATED_BY_CONTROLLERS). */
  readonly recreatedFrom?: string | undefined;
}

/**
 * What the restore needs to know about the whole snapshot before it writes anything, collected in a
 * first pass over every file: per object its file, whether the filters select it, and the owner that
 * re-creates it; Services that have a selector; and the Namespaces, CRDs and PersistentVolumes that
 * selected objects need. Memory: one short entry per object.
 */
export class SnapshotIndex {
  readonly #objects = new Map<string, IndexEntry>();
  readonly #servicesWithSelector = new Set<string>();
  readonly #needed = new Map<string, number>();
  readonly #options: DecideOptions;
  readonly #selector: Requirement[] | undefined;
  #complete = true;

  constructor(options: DecideOptions) {
    this.#options = options;
    this.#selector = selectorOf(options.filters);
  }

  /** The filters' selector, parsed once. */
  get selector(): Requirement[] | undefined {
    return this.#selector;
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
    const selected =
      !selection(file, obj, this.#options.filters, this.#selector) &&
      !fixedSkip(file, obj, this.#options.namespaceMappings);
    this.#objects.set(objectIdentity(obj), {
      file: file.key,
      selected,
      recreatedFrom: recreatingOwner(obj)?.owner,
    });
    if (
      file.group === "" &&
      file.resource === "services" &&
      Object.keys(stringMap(fieldAt(obj, ["spec", "selector"]))).length > 0
    )
      this.#servicesWithSelector.add(identity("", "Service", namespace, name));
    // Over-approximation on purpose: an object selected here may still be skipped for its owner later;
    // a Namespace, CRD or volume restored for nothing is reported as such and harms nothing.
    if (!selected) return;
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

  /** The file that holds the object of this identity, or undefined when it is not in the snapshot. */
  fileOf(id: string): string | undefined {
    return this.#objects.get(id)?.file;
  }

  /** True when the snapshot holds a Service of that name with a selector. */
  hasServiceWithSelector(namespace: string | undefined, name: string): boolean {
    return this.#servicesWithSelector.has(identity("", "Service", namespace, name));
  }

  /**
   * True when the object will exist once the restore is done: it is selected and not skipped by a fixed
   * rule, and if a built-in controller re-creates it, that controller's owner will exist too.
   */
  willExist(id: string, depth = 0): boolean {
    const entry = this.#objects.get(id);
    if (!entry?.selected) return false;
    const owner = this.#countingOwner(entry);
    // Owner chains are short (Deployment → ReplicaSet → Pod); a cycle in a hostile snapshot ends here.
    if (owner === undefined || depth > 8) return true;
    return this.willExist(owner, depth + 1);
  }

  /** The re-creating owner of an entry when it is in the snapshot (a Service only with a selector). */
  #countingOwner(entry: IndexEntry): string | undefined {
    const owner = entry.recreatedFrom;
    if (owner === undefined || !this.#objects.has(owner)) return undefined;
    if (owner.startsWith("\u0000Service\u0000") && !this.#servicesWithSelector.has(owner)) return undefined;
    return owner;
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
      /** The object to create or compare: cleaned, adjusted, mapped, without ownerReferences. */
      readonly object: KubeObject;
      /** Its namespace (undefined when cluster-scoped) and name in the target cluster. */
      readonly target: { readonly namespace: string | undefined; readonly name: string };
      /** Its namespace (or, for a Namespace, its name) in the snapshot, when --namespace-mappings moved it. */
      readonly mappedFrom?: string | undefined;
      /** What was changed and why, for the report. */
      readonly notes: readonly string[];
      /** Owners in the snapshot: the object is linked to their new uids. */
      readonly owners: readonly OwnerLink[];
    };

/**
 * Decides one object: skipped (with the rule and reason), or restored as the returned object. Order of
 * the checks: the user's filters (a Namespace, CRD or volume that selected objects need is restored
 * even when not selected), the fixed skips, then RECREATED_BY_CONTROLLERS, which needs the whole
 * snapshot: a child whose owner comes back is re-created by the owner's controller.
 *
 * ownerReferences: a uid cannot be carried to a new cluster, and a reference to a uid that does not
 * exist there makes the garbage collector delete the object. So references are removed from the
 * object; those to owners in the snapshot are handed over (`owners`) to be written with the owners'
 * new uids; those to owners that are not in the snapshot are dropped, and the report says so.
 */
export function decideObject(
  file: SnapshotFile,
  obj: KubeObject,
  index: SnapshotIndex,
  options: DecideOptions,
): ObjectDecision {
  const notes: string[] = [];
  const { name, namespace } = metaOf(obj);
  const notSelected = selection(file, obj, options.filters, index.selector);
  if (notSelected) {
    const needed = index.neededBy(file, name);
    if (needed === 0) return { action: "skip", ...notSelected };
    notes.push(`${notSelected.reason}, but restored: ${needed} selected object(s) need it`);
  }
  const fixed = fixedSkip(file, obj, options.namespaceMappings);
  if (fixed) return { action: "skip", ...fixed };

  const recreated = recreatingOwner(obj);
  if (recreated) {
    const { entry, owner } = recreated;
    const inSnapshot =
      index.fileOf(owner) !== undefined &&
      (entry.link !== "same-name-service-with-selector" || index.hasServiceWithSelector(namespace, name));
    const who = `${entry.owner.kind} ${recreated.name}`;
    if (inSnapshot && index.willExist(owner))
      return {
        action: "skip",
        rule: "recreated-by-controller",
        reason: `re-created from ${who}: ${entry.reason}`,
      };
    if (inSnapshot)
      return {
        action: "skip",
        rule: "owner-not-restored",
        reason: `belongs to ${who}, which is in the snapshot but not restored by this run; restoring ${who} re-creates it (${entry.reason})`,
      };
    if (!index.complete && entry.link !== "same-name-service-with-selector")
      // Restoring it on its own could duplicate what its controller makes (a pod beside its ReplicaSet's).
      return {
        action: "skip",
        rule: "controller-unknown",
        reason: `controlled by ${who}, which may be in a snapshot file that could not be read`,
      };
  }

  const object = deepCopy(cleanObject(obj, file) ?? obj);
  for (const adjustment of RESTORE_ADJUSTMENTS) {
    const note = applyAdjustment(adjustment, file, object, options);
    if (note) notes.push(note);
  }
  dropControllerFields(file, object);
  deleteField(object, ["metadata", "ownerReferences"]);

  const owners: OwnerLink[] = [];
  for (const o of ownerRefs(obj)) {
    const id = identity(groupOf(o.apiVersion), o.kind, namespace, o.name);
    const clusterId = identity(groupOf(o.apiVersion), o.kind, undefined, o.name);
    const found =
      index.fileOf(id) !== undefined ? id : index.fileOf(clusterId) !== undefined ? clusterId : undefined;
    if (found === undefined) {
      notes.push(
        `ownerReference to ${o.kind} ${o.name} dropped: the owner is not in the snapshot, and a reference to a missing owner gets the object garbage-collected`,
      );
      continue;
    }
    const byController = OWNER_REFERENCES_SET_BY_CONTROLLERS.find(
      (e) =>
        e.owner.group === groupOf(o.apiVersion) &&
        e.owner.kind === o.kind &&
        e.child.group === groupOf(obj.apiVersion ?? "") &&
        e.child.kind === obj.kind,
    );
    if (byController) {
      notes.push(`ownerReference to ${o.kind} ${o.name} left to its controller: ${byController.reason}`);
      continue;
    }
    owners.push({
      ...o,
      restored: index.willExist(found) ? { id: found, file: index.fileOf(found) as string } : undefined,
    });
  }

  const mapped = mapNamespaces(file, object, options.namespaceMappings);
  const target = metaOf(object);
  return {
    action: "restore",
    object,
    target: { namespace: target.namespace, name: target.name },
    ...(mapped ? { mappedFrom: mapped } : {}),
    notes,
    owners,
  };
}

/** Applies one adjustment to `obj` (in place); returns its note, or undefined when it did not apply. */
function applyAdjustment(
  a: Adjustment,
  type: TypeRef,
  obj: KubeObject,
  options: DecideOptions,
): string | undefined {
  if (!sameType(a.appliesTo, type)) return undefined;
  if (a.optOut && options[a.optOut]) return undefined;
  if (a.whenPresent && (fieldAt(obj, a.whenPresent) ?? null) === null) return undefined;
  if (a.unless && fieldAt(obj, a.unless.path) === a.unless.equals) return undefined;
  let changed = false;
  for (const path of a.deleteFields ?? []) changed = deleteField(obj, path) || changed;
  for (const mapPath of a.deleteLabels?.maps ?? []) {
    for (const key of a.deleteLabels?.keys ?? []) changed = deleteField(obj, [...mapPath, key]) || changed;
  }
  if (a.set) {
    const before = fieldAt(obj, a.set.path);
    if (before !== a.set.value && setField(obj, a.set.path, a.set.value)) {
      const was = typeof before === "string" ? before : JSON.stringify(before ?? null);
      return `${a.id}: ${a.set.path.join(".")} ${was} → ${a.set.value}: ${a.reason}`;
    }
  }
  return changed ? `${a.id}: ${a.reason}` : undefined;
}

/**
 * Moves the object to its mapped namespace (in place): its own namespace, a Namespace's name, and the
 * namespaces it names (NAMESPACE_REFERENCES). Returns the snapshot's namespace (or Namespace name) when
 * the object itself moved.
 */
function mapNamespaces(
  type: TypeRef,
  obj: KubeObject,
  mappings: ReadonlyMap<string, string> | undefined,
): string | undefined {
  if (!mappings || mappings.size === 0) return undefined;
  const meta = record(obj.metadata);
  if (!meta) return undefined;
  for (const ref of NAMESPACE_REFERENCES) {
    if (!ref.appliesTo.some((t) => sameType(t, type))) continue;
    forEachParent(obj, ref.path, (parent, key) => {
      const to = typeof parent[key] === "string" ? mappings.get(parent[key]) : undefined;
      if (to !== undefined) parent[key] = to;
    });
  }
  const field = isNamespaceType(type) ? "name" : "namespace";
  const from = meta[field];
  const to = typeof from === "string" ? mappings.get(from) : undefined;
  if (to === undefined) return undefined;
  meta[field] = to;
  return from as string;
}
