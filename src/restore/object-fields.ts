// Small readers and writers of raw Kubernetes objects, shared by the restore modules. Numbers that
// parseExact kept as their source text (JSON.rawJSON values) are leaves: never walked into, never
// copied, so an int64 goes back to the API server with the digits it came with.
import { isRecord } from "../snapshot/json.js";
import type { KubeObject } from "../snapshot/ports.js";

/** Keys from the object's root; `"[]"` stands for every item of a list. */
export type FieldPath = readonly string[];

/** An object's group, from its apiVersion ("apps/v1" → "apps", "v1" → ""). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

/** The map at `value`, or undefined when it is not a plain JSON object. */
export function record(value: unknown): Record<string, unknown> | undefined {
  return isRecord(value) ? value : undefined;
}

/** The value at `path` (no `[]` steps), or undefined as soon as a step is missing. */
export function fieldAt(obj: unknown, path: FieldPath): unknown {
  let node = obj;
  for (const key of path) {
    const r = record(node);
    if (!r || !Object.hasOwn(r, key)) return undefined;
    node = r[key];
  }
  return node;
}

/** Removes the field at `path` (no `[]` steps); true when it was there. */
export function deleteField(obj: unknown, path: FieldPath): boolean {
  const parent = record(fieldAt(obj, path.slice(0, -1)));
  const key = path.at(-1);
  if (!parent || key === undefined || !Object.hasOwn(parent, key)) return false;
  delete parent[key];
  return true;
}

/** Sets the field at `path` (no `[]` steps) when its parent map exists; true when it did. */
export function setField(obj: unknown, path: FieldPath, value: unknown): boolean {
  const parent = record(fieldAt(obj, path.slice(0, -1)));
  const key = path.at(-1);
  if (!parent || key === undefined) return false;
  parent[key] = value;
  return true;
}

/**
 * Calls `visit` with each map that holds the last key of `path`, following `[]` steps into every item
 * of a list (`subjects.[].namespace` visits each subject).
 */
export function forEachParent(
  obj: unknown,
  path: FieldPath,
  visit: (parent: Record<string, unknown>, key: string) => void,
): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (head === "[]") {
    if (Array.isArray(obj)) for (const item of obj) forEachParent(item, rest, visit);
    return;
  }
  const r = record(obj);
  if (!r) return;
  if (rest.length === 0) {
    if (Object.hasOwn(r, head)) visit(r, head);
    return;
  }
  if (Object.hasOwn(r, head)) forEachParent(r[head], rest, visit);
}

/** A deep copy of parsed JSON: maps and lists copied, exact numbers and other leaves shared. */
export function deepCopy<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => deepCopy(v)) as T;
  const r = record(value);
  if (!r) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) out[k] = deepCopy(v);
  return out as T;
}

/** The labels, annotations or another string map at `value` (an empty map when absent). */
export function stringMap(value: unknown): Record<string, unknown> {
  return record(value) ?? {};
}

/** An object's name, namespace ("" and absent are undefined) and metadata map. */
export function metaOf(obj: KubeObject): {
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
