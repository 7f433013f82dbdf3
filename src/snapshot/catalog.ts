// What a store holds: its snapshots with their state (complete or not), and the one manifest reader
// that list, verify and diff share, so "is this a snapshot, and is its manifest one" is decided once.

import { isRecord, jsonProblem } from "./json.js";
import { readLatest } from "./latest.js";
import {
  claimKey,
  compareSnapshotNames,
  keyInSnapshot,
  LATEST_KEY,
  MANIFEST_FILE,
  manifestKey,
  snapshotOfClaimKey,
  snapshotOfKey,
  startOfName,
} from "./layout.js";
import { MANIFEST_API_VERSION, type SnapshotManifest } from "./manifest.js";
import type { SnapshotStore } from "./ports.js";

/** A snapshot that cannot be read as one: nothing stored under its name, no manifest, or a broken manifest. */
export class SnapshotReadError extends Error {
  override readonly name = "SnapshotReadError";
}

/** The state of a snapshot: the manifest's status, or why there is no usable manifest. */
export type CatalogStatus = "Completed" | "PartiallyFailed" | "incomplete" | "invalid";

/** One snapshot of a store, as `list` shows it. */
export interface CatalogEntry {
  readonly snapshot: string;
  /** `incomplete`: no manifest (the run crashed or is still running); `invalid`: a manifest that is not one. */
  readonly status: CatalogStatus;
  /** True for the snapshot latest.json points at. */
  readonly latest: boolean;
  /** The cluster name, from the manifest or the run's claim. */
  readonly cluster: string | null;
  /** From the manifest, else the run's claim, else the snapshot's name (its UTC start time). */
  readonly startedAt: string;
  readonly completedAt: string | null;
  /** Resource files stored under the snapshot's folder (the manifest not counted). */
  readonly files: number;
  /** Objects, from the manifest; null without a usable manifest (counting would mean reading every file). */
  readonly items: number | null;
  /** Bytes of the resource files: the manifest's total, or what is stored when there is no manifest. */
  readonly bytes: number;
  /** Resource types that could not be listed (manifest `errors`); null without a usable manifest. */
  readonly errors: number | null;
  /** Why the status is `invalid`; null otherwise. */
  readonly problem: string | null;
}

export interface Catalog {
  /** Oldest first. */
  readonly entries: readonly CatalogEntry[];
  /** The snapshot latest.json points at, or null when there is no (readable) pointer. */
  readonly latest: string | null;
  /** Inconsistencies worth telling the user (a pointer to a missing snapshot, an unreadable latest.json). */
  readonly warnings: readonly string[];
}

interface Seen {
  files: number;
  bytes: number;
  manifest: boolean;
  claim: boolean;
}

/** One listing of the store: what each snapshot name holds (files, bytes, a manifest, a claim). */
async function scan(store: SnapshotStore): Promise<Map<string, Seen>> {
  const seen = new Map<string, Seen>();
  const entryOf = (name: string): Seen => {
    let s = seen.get(name);
    if (!s) {
      s = { files: 0, bytes: 0, manifest: false, claim: false };
      seen.set(name, s);
    }
    return s;
  };
  for await (const { key, size } of store.list("")) {
    const claimed = snapshotOfClaimKey(key);
    if (claimed !== undefined) {
      entryOf(claimed).claim = true;
      continue;
    }
    const snapshot = snapshotOfKey(key);
    if (snapshot === undefined) continue;
    const s = entryOf(snapshot);
    if (keyInSnapshot(snapshot, key) === MANIFEST_FILE) s.manifest = true;
    else {
      s.files += 1;
      s.bytes += size;
    }
  }
  return seen;
}

/** The snapshot names a store holds, oldest first, with whether each has a manifest (one listing, no reads). */
export async function storedSnapshots(
  store: SnapshotStore,
): Promise<{ readonly snapshot: string; readonly manifest: boolean }[]> {
  const seen = await scan(store);
  return [...seen.keys()]
    .sort(compareSnapshotNames)
    .map((snapshot) => ({ snapshot, manifest: (seen.get(snapshot) as Seen).manifest }));
}

/** Lists the snapshots of a store (one listing of the store, then one read per manifest or claim). */
export async function listSnapshots(store: SnapshotStore): Promise<Catalog> {
  const seen = await scan(store);
  const warnings: string[] = [];
  const pointer = await readLatest(store);
  if (pointer.problem) warnings.push(pointer.problem);
  const latest = pointer.snapshot;
  const names = [...seen.keys()].sort(compareSnapshotNames);
  const entries: CatalogEntry[] = [];
  for (const name of names) {
    const s = seen.get(name) as Seen;
    const base = { snapshot: name, latest: name === latest, files: s.files };
    let problem: string | null = null;
    if (s.manifest) {
      const read = await readManifest(store, name);
      if (read.ok) {
        const m = read.manifest;
        entries.push({
          ...base,
          status: m.status,
          cluster: m.cluster.name,
          startedAt: m.startedAt,
          completedAt: m.completedAt,
          items: m.totals.items,
          bytes: m.totals.bytes,
          errors: m.errors.length,
          problem: null,
        });
        continue;
      }
      problem = read.problem;
    }
    // No usable manifest: what is known comes from the run's claim, or from the name itself.
    const claim = s.claim ? await readClaim(store, name) : {};
    entries.push({
      ...base,
      status: problem === null ? "incomplete" : "invalid",
      cluster: claim.cluster ?? null,
      startedAt: claim.startedAt ?? startOfName(name),
      completedAt: null,
      items: null,
      bytes: s.bytes,
      errors: null,
      problem,
    });
  }
  if (latest !== null) {
    const target = entries.find((e) => e.snapshot === latest);
    if (!target) warnings.push(`${LATEST_KEY} points at ${latest}, which is not in the store`);
    else if (target.status === "incomplete" || target.status === "invalid")
      warnings.push(`${LATEST_KEY} points at ${latest}, which has no usable manifest`);
  }
  return { entries, latest, warnings };
}

/** The run's claim (written when the name was taken): who started it and when. Best effort. */
async function readClaim(
  store: SnapshotStore,
  name: string,
): Promise<{ cluster?: string; startedAt?: string }> {
  try {
    const body = await store.get(claimKey(name));
    const claim = body ? (JSON.parse(body.toString("utf8")) as Record<string, unknown>) : {};
    return {
      ...(typeof claim.cluster === "string" ? { cluster: claim.cluster } : {}),
      ...(typeof claim.startedAt === "string" ? { startedAt: claim.startedAt } : {}),
    };
  } catch {
    return {};
  }
}

export type ManifestRead =
  | { readonly ok: true; readonly manifest: SnapshotManifest }
  | { readonly ok: false; readonly missing: boolean; readonly problem: string };

/** Reads and checks a snapshot's manifest; `problem` says what is wrong with it (never its content). */
export async function readManifest(store: SnapshotStore, snapshot: string): Promise<ManifestRead> {
  const body = await store.get(manifestKey(snapshot));
  if (!body) return { ok: false, missing: true, problem: "no manifest.json: the snapshot is incomplete" };
  const text = body.toString("utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, missing: false, problem: `manifest.json ${jsonProblem(err, text.length)}` };
  }
  const problems = manifestProblems(value);
  if (problems.length > 0) {
    const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : "";
    return { ok: false, missing: false, problem: `manifest.json ${problems.slice(0, 3).join("; ")}${more}` };
  }
  return { ok: true, manifest: value as SnapshotManifest };
}

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;

/** The shape checks a manifest must pass before anything relies on it; each problem names its field. */
function manifestProblems(value: unknown): string[] {
  if (!isRecord(value)) return ["is not a JSON object"];
  if (value.apiVersion !== MANIFEST_API_VERSION || value.kind !== "SnapshotManifest") {
    return [
      `is not a ${MANIFEST_API_VERSION} SnapshotManifest (apiVersion ${JSON.stringify(value.apiVersion ?? null)}, kind ${JSON.stringify(value.kind ?? null)})`,
    ];
  }
  const problems: string[] = [];
  if (typeof value.snapshot !== "string") problems.push("has no snapshot name");
  if (value.status !== "Completed" && value.status !== "PartiallyFailed")
    problems.push(`has status ${JSON.stringify(value.status ?? null)}, not Completed or PartiallyFailed`);
  if (!isRecord(value.cluster) || typeof value.cluster.name !== "string")
    problems.push("has no cluster.name");
  for (const field of ["startedAt", "completedAt"] as const)
    if (typeof value[field] !== "string") problems.push(`has no ${field}`);
  const totals = value.totals;
  if (!isRecord(totals) || !["files", "items", "bytes"].every((k) => isCount(totals[k])))
    problems.push("has no totals.files/items/bytes");
  if (!isRecord(value.options)) problems.push("has no options");
  else if (value.options.objectLock !== undefined && value.options.objectLock !== null) {
    const lock = value.options.objectLock;
    if (
      !isRecord(lock) ||
      (lock.mode !== "GOVERNANCE" && lock.mode !== "COMPLIANCE") ||
      !isCount(lock.days) ||
      lock.days === 0
    )
      problems.push("has an options.objectLock that is not a mode (GOVERNANCE, COMPLIANCE) and days");
  }
  for (const field of ["resources", "skipped", "errors"] as const)
    if (!Array.isArray(value[field])) problems.push(`has no ${field} list`);
  if (Array.isArray(value.resources)) {
    value.resources.forEach((r, i) => {
      if (
        !isRecord(r) ||
        typeof r.group !== "string" ||
        typeof r.resource !== "string" ||
        typeof r.kind !== "string"
      )
        problems.push(`resources[${i}] lacks group, resource or kind`);
    });
  }
  if (!Array.isArray(value.files)) {
    problems.push("has no files list");
  } else {
    value.files.forEach((f, i) => {
      const bad =
        !isRecord(f) ||
        typeof f.key !== "string" ||
        typeof f.resource !== "string" ||
        !(f.namespace === null || typeof f.namespace === "string") ||
        !isCount(f.items) ||
        !isCount(f.bytes) ||
        typeof f.sha256 !== "string" ||
        !/^[0-9a-f]{64}$/.test(f.sha256);
      if (bad) problems.push(`files[${i}] lacks key, resource, namespace, items, bytes or a sha256`);
    });
  }
  return problems;
}
