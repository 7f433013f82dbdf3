// Comparing the snapshot's object with the live one, and what is left out of both: the fields the new
// cluster's controllers maintain (rules.ts CONTROLLER_FIELDS) are never created, compared or applied,
// so a second restore reports the object unchanged and --update never takes them over. Numbers are
// compared by their JSON text, so int64 values beyond 2^53 are compared exactly.
import { isRawNumber, numberText, type RawNumber } from "../snapshot/json.js";
import type { KubeObject } from "../snapshot/ports.js";
import { record } from "./object-fields.js";
import { CONTROLLER_FIELDS, type TypeRef } from "./rules.js";

/**
 * Removes from `obj` (in place) the annotations and labels CONTROLLER_FIELDS lists for its type; an
 * annotation or label map left empty goes too. Returns the rule ids that removed something.
 */
export function dropControllerFields(type: TypeRef, obj: KubeObject): string[] {
  const meta = record(obj.metadata);
  if (!meta) return [];
  const applied: string[] = [];
  for (const rule of CONTROLLER_FIELDS) {
    if (!rule.appliesTo.some((t) => t.group === type.group && t.resource === type.resource)) continue;
    let removed = false;
    for (const [mapKey, keys] of [
      ["annotations", rule.annotations],
      ["labels", rule.labels],
    ] as const) {
      const map = record(meta[mapKey]);
      const present = (keys ?? []).filter((key) => map && Object.hasOwn(map, key));
      if (!map || present.length === 0) continue;
      for (const key of present) delete map[key];
      if (Object.keys(map).length === 0) delete meta[mapKey];
      removed = true;
    }
    if (removed) applied.push(rule.id);
  }
  return applied;
}

/**
 * The paths (`spec.replicas`, `data.color`) where `desired` is not contained in `live`, at most `limit`.
 * Containment: every field of `desired` is in `live` with an equal value; `live` may have more (server
 * defaults, fields set by controllers). Lists compare item by item and must have the same length. A
 * null, empty map or empty list in `desired` matches an absent field (the API server omits them).
 * Numbers are equal when their JSON text is (9223372036854775807 ≠ 9223372036854775806).
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

const isNumber = (v: unknown): v is number | RawNumber => typeof v === "number" || isRawNumber(v);

function walk(desired: unknown, live: unknown, path: string, out: string[], limit: number): void {
  if (out.length >= limit) return;
  if (live === undefined || live === null) {
    if (!isEmpty(desired)) out.push(path || "(object)");
    return;
  }
  if (isNumber(desired)) {
    if (!isNumber(live) || numberText(desired) !== numberText(live)) out.push(path);
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
