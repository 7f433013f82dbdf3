// One object across every snapshot of a store, oldest first: when it was added, changed (which fields),
// unchanged, removed, or absent. Each snapshot's manifest says which file holds the object's type and
// namespace; a file whose sha256 equals the one seen in the snapshot before is not read (the object is as
// it was), so a year of daily snapshots of a quiet object costs the manifests and a handful of files.
// Secrets' values are never reported: only the paths that changed.
import { readManifest, SnapshotReadError, storedSnapshots } from "./catalog.js";
import { diffObjects, type FieldChange, REDACTED_RESOURCES } from "./diff.js";
import { isRecord } from "./json.js";
import { keyInSnapshot, keyOfSnapshotFile, qualifiedResource, resourceFileKey } from "./layout.js";
import { ListFileError, listFileItems } from "./list-read.js";
import type { ManifestResource, SnapshotManifest } from "./manifest.js";
import type { SnapshotStore } from "./ports.js";

/** The object to follow: `resource[.group]/name`, and its namespace when its type is namespaced. */
export interface HistoryTarget {
  /** `resource.group` notation (`deployments.apps`; core: `configmaps`). */
  readonly resource: string;
  readonly name: string;
  /** Undefined: `default` for a namespaced type (as kubectl), none for a cluster-scoped one. */
  readonly namespace?: string | undefined;
}

/**
 * What one snapshot says of the object. `not-backed-up`: the snapshot did not list the type (excluded, or
 * it failed); `incomplete`: no usable manifest; `unreadable`: the file the manifest names could not be read.
 */
export type HistoryChange =
  | "added"
  | "changed"
  | "unchanged"
  | "removed"
  | "absent"
  | "not-backed-up"
  | "incomplete"
  | "unreadable";

export interface HistoryEntry {
  readonly snapshot: string;
  readonly change: HistoryChange;
  /** The changed fields (`changed` only); without values for Secrets. */
  readonly fields?: readonly FieldChange[];
  /** `read`: the file was read; `same-sha256`: skipped, same bytes as before; `no-file`: none to read. */
  readonly file: "read" | "same-sha256" | "no-file" | "none";
  /** Why the snapshot says nothing of the object (not-backed-up, incomplete, unreadable). */
  readonly note?: string;
}

export interface ObjectHistory {
  readonly resource: string;
  /** null for a cluster-scoped type. */
  readonly namespace: string | null;
  readonly name: string;
  /** True when values are never reported (Secrets). */
  readonly redacted: boolean;
  /** Every snapshot of the store, oldest first. */
  readonly entries: readonly HistoryEntry[];
  /** Files read (one per snapshot at most). */
  readonly filesRead: number;
}

/** The target cannot be followed in this store (no snapshot lists its type, or a namespace does not fit it). */
export class HistoryTargetError extends Error {
  override readonly name = "HistoryTargetError";
}

/**
 * Follows one object through every snapshot of `store`. Throws HistoryTargetError when no snapshot lists
 * its type, or a namespace is given for a cluster-scoped type; unreadable files are entries, not throws.
 */
export async function objectHistory(store: SnapshotStore, target: HistoryTarget): Promise<ObjectHistory> {
  const snapshots = await storedSnapshots(store);
  if (snapshots.length === 0)
    throw new SnapshotReadError(`no snapshots at ${store.describe("").replace(/\/+$/, "")}`);
  const manifests = new Map<string, { manifest?: SnapshotManifest; problem?: string }>();
  let type: ManifestResource | undefined;
  for (const { snapshot, manifest } of snapshots) {
    if (!manifest) {
      manifests.set(snapshot, { problem: "no manifest.json: the snapshot is incomplete" });
      continue;
    }
    const read = await readManifest(store, snapshot);
    if (!read.ok) {
      manifests.set(snapshot, { problem: read.problem });
      continue;
    }
    manifests.set(snapshot, { manifest: read.manifest });
    type ??= read.manifest.resources.find((r) => qualifiedResource(r) === target.resource);
  }
  if (!type)
    throw new HistoryTargetError(
      `no snapshot at ${store.describe("")} lists ${target.resource} (resource types are written as kubectl's resource.group, e.g. deployments.apps, configmaps)`,
    );
  if (!type.namespaced && target.namespace !== undefined)
    throw new HistoryTargetError(`${target.resource} is cluster-scoped: it has no namespace`);
  const namespace = type.namespaced ? (target.namespace ?? "default") : null;
  const fileType = type;
  const keyIn = (snapshot: string) =>
    keyInSnapshot(snapshot, resourceFileKey(snapshot, fileType, namespace ?? undefined));
  const redacted = REDACTED_RESOURCES.has(target.resource);

  const entries: HistoryEntry[] = [];
  // What the last snapshot that listed the type held: the file's sha256 (null: no file) and the object.
  let last: { sha256: string | null; object: unknown } | undefined;
  let filesRead = 0;
  for (const { snapshot } of snapshots) {
    const { manifest, problem } = manifests.get(snapshot) ?? {};
    if (!manifest) {
      entries.push({ snapshot, change: "incomplete", file: "none", note: problem ?? "no manifest" });
      continue;
    }
    if (!manifest.resources.some((r) => qualifiedResource(r) === target.resource)) {
      entries.push({ snapshot, change: "not-backed-up", file: "none", note: whyNotListed(manifest, target) });
      continue;
    }
    const key = keyIn(snapshot);
    const file = manifest.files.find((f) => f.key === key);
    const sha256 = file?.sha256 ?? null;
    if (last && last.sha256 === sha256) {
      entries.push({
        snapshot,
        change: last.object === undefined ? "absent" : "unchanged",
        file: sha256 === null ? "no-file" : "same-sha256",
      });
      continue;
    }
    let object: unknown;
    if (file) {
      try {
        object = await findObject(store, keyOfSnapshotFile(snapshot, key), target.name);
        filesRead += 1;
      } catch (err) {
        if (!(err instanceof SnapshotReadError)) throw err;
        entries.push({ snapshot, change: "unreadable", file: "read", note: err.message });
        continue;
      }
    }
    const before = last?.object;
    last = { sha256, object };
    const fileState = file ? "read" : "no-file";
    if (object === undefined) {
      entries.push({ snapshot, change: before === undefined ? "absent" : "removed", file: fileState });
    } else if (before === undefined) {
      entries.push({ snapshot, change: "added", file: fileState });
    } else {
      const fields = diffObjects(before, object, { redactValues: redacted });
      entries.push(
        fields.length === 0
          ? { snapshot, change: "unchanged", file: fileState }
          : { snapshot, change: "changed", file: fileState, fields },
      );
    }
  }
  return { resource: target.resource, namespace, name: target.name, redacted, entries, filesRead };
}

/** The item named `name` of a stored List file, or undefined; reads items one at a time, keeps one. */
async function findObject(store: SnapshotStore, key: string, name: string): Promise<unknown> {
  const where = store.describe(key);
  const body = await store.get(key);
  if (body === undefined)
    throw new SnapshotReadError(`${where} is missing (the manifest lists it; run verify)`);
  let found: unknown;
  try {
    for (const item of listFileItems(body)) {
      const itemName = isRecord(item) && isRecord(item.metadata) ? item.metadata.name : undefined;
      if (itemName !== name) continue;
      if (found !== undefined) throw new SnapshotReadError(`${where} holds ${name} twice (run verify)`);
      found = item;
    }
  } catch (err) {
    if (err instanceof ListFileError) throw new SnapshotReadError(`${where} ${err.message} (run verify)`);
    throw err;
  }
  return found;
}

/** Why a snapshot did not list the type: its errors entry, its skipped entry, or not selected. */
function whyNotListed(manifest: SnapshotManifest, target: HistoryTarget): string {
  const failed = manifest.errors.find((e) => e.resource === target.resource);
  if (failed) return `the type failed in this snapshot (${failed.status ?? "error"}: ${failed.message})`;
  const skipped = manifest.skipped.find((s) => s.resource === target.resource);
  if (skipped) return `skipped: ${skipped.reason}`;
  return "the type was not selected in this snapshot";
}
