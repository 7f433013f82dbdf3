// The restore's read side of a snapshot, treated as hostile input: the manifest (read and checked by
// the catalog, as list and verify do), the files it lists, each key checked against the layout (a key
// that would leave the snapshot folder is refused by name, never followed), and List files parsed with
// exact numbers. Messages name the file or key and never quote what a file holds (it may be a Secret).
import { createHash } from "node:crypto";
import { readManifest } from "../snapshot/catalog.js";
import { isRecord, jsonProblem, parseExact } from "../snapshot/json.js";
import {
  keyInSnapshot,
  keyOfSnapshotFile,
  listFileKey,
  manifestKey,
  parseFileKey,
} from "../snapshot/layout.js";
import type { ManifestFile, SnapshotManifest } from "../snapshot/manifest.js";
import type { KubeObject, Logger, SnapshotStore } from "../snapshot/ports.js";
import type { SnapshotFile } from "./plan.js";

/** The snapshot cannot be restored as asked (no manifest, missing or corrupt files); nothing was written. */
export class RestoreInputError extends Error {
  override readonly name = "RestoreInputError";
}

export interface SnapshotSource {
  /** Undefined when restored with --force from a snapshot without a usable manifest. */
  readonly manifest: SnapshotManifest | undefined;
  readonly files: readonly SnapshotFile[];
}

/**
 * The files to restore: the manifest's (every key checked), or with --force and no usable manifest
 * every List file stored under the snapshot. Throws RestoreInputError.
 */
export async function openSnapshot(
  store: SnapshotStore,
  snapshot: string,
  options: { readonly force: boolean; readonly logger: Logger },
): Promise<SnapshotSource> {
  const where = store.describe(snapshot);
  const read = await readManifest(store, snapshot);
  if (read.ok) {
    const manifest = read.manifest;
    return { manifest, files: manifest.files.map((f, i) => checkedFile(store, snapshot, f, i)) };
  }
  const problem = read.missing ? undefined : `${store.describe(manifestKey(snapshot))}: ${read.problem}`;
  if (problem && !options.force)
    throw new RestoreInputError(`${problem}; nothing was restored (--force restores the files without it)`);
  const keys: string[] = [];
  for await (const info of store.list(`${snapshot}/`)) keys.push(keyInSnapshot(snapshot, info.key));
  if (keys.length === 0) throw new RestoreInputError(`no snapshot at ${where}: there is nothing under it`);
  if (!problem && !options.force) {
    throw new RestoreInputError(
      `snapshot ${where} has no manifest.json, so it is incomplete (its run failed or is still running); ` +
        "restore the files it has with --force",
    );
  }
  const files = keys.flatMap((k) => {
    const file = parseFileKey(k);
    return file ? [file] : [];
  });
  if (files.length === 0) throw new RestoreInputError(`no snapshot at ${where}: it holds no List files`);
  options.logger.warn("restoring a snapshot without a usable manifest (--force)", {
    snapshot: where,
    files: files.length,
    ...(problem ? { problem } : {}),
  });
  return { manifest: undefined, files };
}

/** A manifest entry as a plan file, when its key is the layout's key for its type and namespace. */
function checkedFile(store: SnapshotStore, snapshot: string, f: ManifestFile, i: number): SnapshotFile {
  const parsed = parseFileKey(f.key);
  const expected = listFileKey(f.resource, f.namespace);
  if (parsed && f.key === expected) return { ...parsed, items: f.items, bytes: f.bytes, sha256: f.sha256 };
  const segments = f.key.split(/[/\\]/);
  const escapes =
    f.key.startsWith("/") || f.key.includes("\0") || segments.includes("..") || segments.includes(".");
  const what = escapes
    ? "would leave the snapshot folder"
    : `is not where the layout keeps ${f.resource}${f.namespace ? ` of namespace ${f.namespace}` : ""} (${JSON.stringify(expected)})`;
  throw new RestoreInputError(
    `${store.describe(manifestKey(snapshot))}: files[${i}].key ${JSON.stringify(f.key)} ${what}; the manifest is refused and nothing was restored`,
  );
}

/** Reads one List file, checks it against the manifest and parses it with exact numbers; throws an Error naming the file. */
export async function readListFile(
  store: SnapshotStore,
  snapshot: string,
  file: SnapshotFile,
): Promise<KubeObject[]> {
  const key = keyOfSnapshotFile(snapshot, file.key);
  const where = store.describe(key);
  const bytes = await store.get(key);
  if (!bytes) throw new Error(`${where} is missing (the manifest lists it)`);
  if (file.bytes !== undefined && bytes.length !== file.bytes)
    throw new Error(
      `${where} is ${bytes.length} bytes, the manifest says ${file.bytes} (truncated or changed)`,
    );
  if (file.sha256 !== undefined && createHash("sha256").update(bytes).digest("hex") !== file.sha256)
    throw new Error(`${where}: its sha256 differs from the manifest's (changed or corrupted)`);
  const text = bytes.toString("utf8");
  let list: unknown;
  try {
    list = parseExact(text);
  } catch (err) {
    // JSON.parse's own message quotes the text around the error, which may be a Secret's value.
    throw new Error(`${where} ${jsonProblem(err, text.length)}`);
  }
  const items = isRecord(list) ? list.items : undefined;
  if (!Array.isArray(items)) throw new Error(`${where} is not a Kubernetes List (it has no items array)`);
  if (file.items !== undefined && items.length !== file.items)
    throw new Error(`${where} holds ${items.length} items, the manifest says ${file.items}`);
  const bad = items.findIndex((i) => !isRecord(i));
  if (bad >= 0) throw new Error(`${where}: item ${bad} is not an object`);
  return items as KubeObject[];
}
