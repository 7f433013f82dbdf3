// latest.json, the pointer to the newest complete snapshot: read (one reader for the engine and every
// command) and moved forward by each run that completes.
import { readManifest } from "./catalog.js";
import type { PreviousSnapshot } from "./digest.js";
import { CorruptObjectError } from "./errors.js";
import {
  compareSnapshotNames,
  isSnapshotName,
  LATEST_KEY,
  manifestKey,
  RUNS_DIR,
  snapshotOfClaimKey,
} from "./layout.js";
import { type LatestPointer, MANIFEST_API_VERSION, type SnapshotManifest } from "./manifest.js";
import type { SnapshotStore } from "./ports.js";

export type LatestTarget = Omit<LatestPointer, "apiVersion" | "kind" | "manifest">;

/** Rounds of "point, then look for a newer complete snapshot" before giving up (each round is rare). */
const MAX_LATEST_ROUNDS = 5;

/**
 * Points latest.json at the newest complete snapshot: `next`, unless a newer one holds it. Runs that
 * finish at the same moment both read the pointer before either writes it, so the older run's write can
 * land last; hence each write is followed by a look for newer complete snapshots (claimed in .runs/,
 * with a manifest), and the pointer moves on to the newest. The last writer always looks last, so the
 * pointer ends on the newest snapshot whose manifest was written.
 */
export async function updateLatest(store: SnapshotStore, next: LatestTarget): Promise<void> {
  let target = next;
  for (let round = 1; round <= MAX_LATEST_ROUNDS; round++) {
    const current = (await readLatest(store)).snapshot;
    if (!current || compareSnapshotNames(current, target.snapshot) < 0) {
      const pointer: LatestPointer = {
        apiVersion: MANIFEST_API_VERSION,
        kind: "LatestSnapshot",
        manifest: manifestKey(target.snapshot),
        ...target,
      };
      await store.put(LATEST_KEY, Buffer.from(`${JSON.stringify(pointer, null, 2)}\n`));
    }
    const newer = await newestCompleteAfter(store, target.snapshot);
    if (!newer) return;
    target = newer;
  }
}

/**
 * The snapshot latest.json names, with its manifest, for the change digest. Never throws: a pointer or
 * manifest that cannot be read only means there is nothing to compare with (`problem` says why).
 */
export async function readPrevious(store: SnapshotStore): Promise<PreviousSnapshot> {
  let snapshot: string | undefined;
  try {
    const latest = await readLatest(store);
    if (latest.snapshot === null) return { snapshot: null };
    snapshot = latest.snapshot;
    const read = await readManifest(store, snapshot);
    return read.ok
      ? { snapshot, manifest: read.manifest }
      : { snapshot, problem: `${snapshot} has no usable manifest (${read.problem})` };
  } catch (err) {
    return {
      snapshot: snapshot ?? null,
      problem: `could not read ${snapshot ?? LATEST_KEY}: ${(err as Error).message}`,
    };
  }
}

/** What latest.json says: the snapshot it names, or null, and why it names none when it is unreadable. */
export interface LatestRead {
  readonly snapshot: string | null;
  /** Set when latest.json exists but names no snapshot (corrupt, not JSON, no valid name). */
  readonly problem?: string;
}

/**
 * Reads latest.json, the one reader for every command. An unusable pointer is not an error: a snapshot
 * run replaces it, `list` warns about it and lists what is there. Only a store that fails throws.
 */
export async function readLatest(store: SnapshotStore): Promise<LatestRead> {
  let body: Buffer | undefined;
  try {
    body = await store.get(LATEST_KEY);
  } catch (err) {
    if (err instanceof CorruptObjectError)
      return { snapshot: null, problem: `${LATEST_KEY} is corrupt (${err.message})` };
    throw err;
  }
  if (!body) return { snapshot: null };
  try {
    const pointer = JSON.parse(body.toString("utf8")) as { snapshot?: unknown };
    if (typeof pointer.snapshot === "string" && isSnapshotName(pointer.snapshot))
      return { snapshot: pointer.snapshot };
  } catch {
    // reported below, without quoting the text
  }
  return { snapshot: null, problem: `${LATEST_KEY} is not a readable pointer (no snapshot name in it)` };
}

/** The newest snapshot named after `name` that has a manifest (a run that finished alongside), if any. */
async function newestCompleteAfter(store: SnapshotStore, name: string): Promise<LatestTarget | undefined> {
  const newer: string[] = [];
  for await (const { key } of store.list(RUNS_DIR)) {
    const claimed = snapshotOfClaimKey(key);
    if (claimed !== undefined && compareSnapshotNames(claimed, name) > 0) newer.push(claimed);
  }
  newer.sort(compareSnapshotNames).reverse();
  for (const candidate of newer) {
    const body = await store.get(manifestKey(candidate));
    if (!body) continue; // still running, or crashed
    try {
      const manifest = JSON.parse(body.toString("utf8")) as Partial<SnapshotManifest>;
      if (manifest.status && manifest.completedAt) {
        return { snapshot: candidate, status: manifest.status, completedAt: manifest.completedAt };
      }
    } catch {
      // not a manifest: not a complete snapshot
    }
  }
  return undefined;
}
