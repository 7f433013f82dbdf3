// Checks a stored snapshot against its manifest: every file present with the recorded bytes, sha256 and
// item count, nothing stored that the manifest does not list, and every file a List of well-formed
// objects of the right type and namespace. Files are read one at a time (memory: the largest file).
// On a store that can lock objects (S3), each object's Object Lock is read too, and an object without
// the retention the manifest says the run used is a problem.
import { createHash } from "node:crypto";
import { readManifest, SnapshotReadError } from "./catalog.js";
import { isRecord } from "./json.js";
import {
  claimKey,
  keyInSnapshot,
  keyOfSnapshotFile,
  MANIFEST_FILE,
  qualifiedResource,
  resourceFileKey,
} from "./layout.js";
import { ListFileError, listFileItems } from "./list-read.js";
import type { ManifestFile, ManifestResource, SnapshotManifest } from "./manifest.js";
import { runPool } from "./pool.js";
import type { FileProgress, ObjectLockRetention, SnapshotStore } from "./ports.js";

/** Item problems reported per file before the rest are only counted (a bad file can hold thousands). */
const MAX_ITEM_PROBLEMS_PER_FILE = 5;
/** Lock look-ups in flight at once (one request per object). */
const LOCK_CONCURRENCY = 8;

export interface VerifyProblem {
  /** Relative to the snapshot folder, as in the manifest (`default/configmaps.json`, `manifest.json`). */
  readonly key: string;
  readonly problem: string;
}

export interface VerifyResult {
  readonly snapshot: string;
  /** Absent when there is no usable manifest (then the only problem says why). */
  readonly manifest?: SnapshotManifest;
  /** Files of the manifest that were read and checked. */
  readonly checkedFiles: number;
  /** Empty when the snapshot is intact. Ordered by key. */
  readonly problems: readonly VerifyProblem[];
  /**
   * Each stored object's Object Lock (the manifest and every file of it that is stored), ordered by key;
   * absent when the store cannot tell (a folder).
   */
  readonly locks?: readonly ObjectLockReport[];
}

/** One object's Object Lock; mode and retainUntil are null when it has none. */
export interface ObjectLockReport {
  readonly key: string;
  readonly mode: string | null;
  readonly retainUntil: string | null;
}

export interface VerifyOptions {
  /** Hears how far the check has got: "checking" the files, then (S3) "reading locks". */
  readonly onProgress?: ((progress: FileProgress) => void) | undefined;
}

/** Verifies one snapshot; throws SnapshotReadError when nothing at all is stored under its name. */
export async function verifySnapshot(
  store: SnapshotStore,
  snapshot: string,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const stored = new Map<string, number>();
  for await (const { key, size } of store.list(snapshot)) stored.set(keyInSnapshot(snapshot, key), size);

  const read = await readManifest(store, snapshot);
  if (!read.ok) {
    if (read.missing && stored.size === 0 && !(await store.get(claimKey(snapshot)))) {
      throw new SnapshotReadError(
        `no snapshot ${snapshot} at ${store.describe(snapshot)}: nothing is stored there`,
      );
    }
    return { snapshot, checkedFiles: 0, problems: [{ key: MANIFEST_FILE, problem: read.problem }] };
  }
  const manifest = read.manifest;
  const problems: VerifyProblem[] = [...manifestConsistency(manifest, snapshot)];

  const types = new Map<string, ManifestResource>();
  for (const r of manifest.resources) types.set(qualifiedResource(r), r);
  const listed = new Set<string>();
  let checkedFiles = 0;
  let items = 0;
  let bytes = 0;
  for (const [i, file] of manifest.files.entries()) {
    options.onProgress?.({ phase: "checking", files: i, totalFiles: manifest.files.length, items, bytes });
    if (listed.has(file.key)) continue; // reported by manifestConsistency
    listed.add(file.key);
    const size = stored.get(file.key);
    const body = size === undefined ? undefined : await store.get(keyOfSnapshotFile(snapshot, file.key));
    items += file.items;
    bytes += body?.length ?? 0;
    if (body === undefined) {
      problems.push({
        key: file.key,
        problem: `missing: the manifest lists it (${file.items} items, ${file.bytes} bytes)`,
      });
      continue;
    }
    checkedFiles += 1;
    for (const problem of fileProblems(file, body, types.get(file.resource)))
      problems.push({ key: file.key, problem });
  }
  const total = manifest.files.length;
  options.onProgress?.({ phase: "checking", files: total, totalFiles: total, items, bytes });
  for (const key of stored.keys()) {
    if (key !== MANIFEST_FILE && !listed.has(key))
      problems.push({ key, problem: "stray file: stored in the snapshot but not listed in the manifest" });
  }
  let locks: ObjectLockReport[] | undefined;
  if (store.lockOf) {
    const keys = [MANIFEST_FILE, ...[...listed].filter((k) => stored.has(k))].sort();
    locks = await readLocks(store, snapshot, keys, options);
    const expected = manifest.options.objectLock;
    if (expected) for (const lock of locks) problems.push(...lockProblems(lock, expected, manifest));
  }
  problems.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { snapshot, manifest, checkedFiles, problems, ...(locks ? { locks } : {}) };
}

/** The locks of `keys` (relative to the snapshot), a few requests at a time, in key order. */
async function readLocks(
  store: SnapshotStore,
  snapshot: string,
  keys: string[],
  options: VerifyOptions,
): Promise<ObjectLockReport[]> {
  const lockOf = store.lockOf?.bind(store);
  if (!lockOf) return [];
  let read = 0;
  return runPool(keys, { concurrency: LOCK_CONCURRENCY }, async (key) => {
    const lock = await lockOf(keyOfSnapshotFile(snapshot, key));
    read += 1;
    options.onProgress?.({ phase: "reading locks", files: read, totalFiles: keys.length });
    return { key, mode: lock?.mode ?? null, retainUntil: lock?.retainUntil ?? null };
  });
}

/**
 * An object that lacks the lock the manifest says the run wrote it with: none, another mode, or a
 * retain-until date earlier than the run's start plus the retention days (each write counts from its
 * own moment, which is after the start).
 */
function lockProblems(
  lock: ObjectLockReport,
  expected: ObjectLockRetention,
  manifest: SnapshotManifest,
): VerifyProblem[] {
  const wanted = `${expected.mode}, ${expected.days} days`;
  if (lock.mode === null || lock.retainUntil === null)
    return [
      { key: lock.key, problem: `not locked: the manifest says the run locked every object (${wanted})` },
    ];
  if (lock.mode !== expected.mode)
    return [{ key: lock.key, problem: `locked in ${lock.mode} mode, the manifest says ${expected.mode}` }];
  const earliest = Date.parse(manifest.startedAt) + expected.days * 86_400_000;
  if (Date.parse(lock.retainUntil) < earliest - 1000)
    return [
      {
        key: lock.key,
        problem: `retained only until ${lock.retainUntil}, before the run's start plus ${expected.days} days (${new Date(earliest).toISOString()})`,
      },
    ];
  return [];
}

/** Problems of the manifest itself: a name, totals or keys that do not add up. */
function manifestConsistency(m: SnapshotManifest, snapshot: string): VerifyProblem[] {
  const out: string[] = [];
  if (m.snapshot !== snapshot) out.push(`names snapshot ${m.snapshot}, but is stored as ${snapshot}`);
  const sum = (f: (x: ManifestFile) => number) => m.files.reduce((n, x) => n + f(x), 0);
  if (m.totals.files !== m.files.length)
    out.push(`totals.files is ${m.totals.files}, but ${m.files.length} files are listed`);
  if (m.totals.items !== sum((f) => f.items))
    out.push(`totals.items is ${m.totals.items}, but the files hold ${sum((f) => f.items)}`);
  if (m.totals.bytes !== sum((f) => f.bytes))
    out.push(`totals.bytes is ${m.totals.bytes}, but the files add up to ${sum((f) => f.bytes)}`);
  const keys = new Set<string>();
  for (const f of m.files) {
    if (keys.has(f.key)) out.push(`lists ${f.key} twice`);
    keys.add(f.key);
    const [resource = "", ...group] = f.resource.split(".");
    const expected = keyInSnapshot(
      snapshot,
      resourceFileKey(snapshot, { resource, group: group.join(".") }, f.namespace ?? undefined),
    );
    if (f.key !== expected)
      out.push(
        `lists ${f.key} for ${f.resource}${f.namespace ? ` in ${f.namespace}` : ""}, whose key is ${expected}`,
      );
  }
  return out.map((problem) => ({ key: MANIFEST_FILE, problem }));
}

/** Checks one file's bytes against its manifest entry and its content against the List format. */
function fileProblems(file: ManifestFile, body: Buffer, type: ManifestResource | undefined): string[] {
  const problems: string[] = [];
  if (body.length !== file.bytes) {
    problems.push(`size is ${body.length} bytes, the manifest says ${file.bytes}`);
  } else if (createHash("sha256").update(body).digest("hex") !== file.sha256) {
    problems.push("sha256 differs from the manifest: the content changed");
  }
  const itemProblems: string[] = [];
  let count = 0;
  try {
    for (const item of listFileItems(body)) {
      const p = itemProblem(item, count, file, type);
      if (p) itemProblems.push(p);
      count += 1;
    }
  } catch (err) {
    if (!(err instanceof ListFileError)) throw err;
    problems.push(err.message);
    return problems;
  }
  if (count !== file.items) problems.push(`holds ${count} items, the manifest says ${file.items}`);
  if (type === undefined)
    problems.push(`its resource ${file.resource} is not among the manifest's resources`);
  problems.push(...itemProblems.slice(0, MAX_ITEM_PROBLEMS_PER_FILE));
  if (itemProblems.length > MAX_ITEM_PROBLEMS_PER_FILE)
    problems.push(`and ${itemProblems.length - MAX_ITEM_PROBLEMS_PER_FILE} more items with problems`);
  return problems;
}

function itemProblem(
  item: unknown,
  i: number,
  file: ManifestFile,
  type: ManifestResource | undefined,
): string | undefined {
  if (!isRecord(item)) return `items[${i}] is not an object`;
  const metadata = isRecord(item.metadata) ? item.metadata : undefined;
  const name = metadata?.name;
  if (typeof item.apiVersion !== "string" || typeof item.kind !== "string" || typeof name !== "string")
    return `items[${i}] lacks apiVersion, kind or metadata.name`;
  const what = `items[${i}] (${name})`;
  if (type) {
    const apiVersion = type.group ? `${type.group}/${type.version}` : type.version;
    if (item.kind !== type.kind || item.apiVersion !== apiVersion)
      return `${what} is a ${item.apiVersion} ${item.kind}, the manifest lists ${file.resource} as ${apiVersion} ${type.kind}`;
  }
  const namespace = metadata?.namespace;
  if (file.namespace !== null && namespace !== file.namespace)
    return `${what} is in namespace ${typeof namespace === "string" ? namespace : "(none)"}, not ${file.namespace}`;
  if (file.namespace === null && namespace !== undefined && namespace !== "")
    return `${what} has namespace ${String(namespace)} in a cluster-scoped file`;
  return undefined;
}
