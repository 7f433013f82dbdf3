// Reading the filesystem store back: a file's bytes (through StoreRoot's safe open), and the files
// under a prefix in S3's key order, temp files left out.

import { opendir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { StoredObjectInfo } from "../snapshot/ports.js";
import { errnoCode, fsError } from "./fs-errors.js";
import { isTempFileName, type StoreRoot } from "./fs-paths.js";

/** The file's bytes, undefined when there is none; throws StoreError for anything but a regular file inside the root. */
export async function readStoredFile(root: StoreRoot, key: string): Promise<Buffer | undefined> {
  const handle = await root.openRegularFile(key);
  if (!handle) return undefined;
  try {
    return await handle.readFile();
  } catch (err) {
    throw fsError("read", root.describe(key), err);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** The files under `prefix` (a missing prefix is an empty one, as in S3), in S3's key order. */
export async function* listStoredFiles(root: StoreRoot, prefix: string): AsyncGenerator<StoredObjectInfo> {
  const start = prefix.replace(/\/+$/, "");
  if (start !== "") {
    const path = root.pathOf(start);
    try {
      await root.assertNoLinkBelowRoot(start, path);
    } catch (err) {
      // A missing prefix is an empty one, as in S3.
      if (errnoCode(err) === "ENOENT") return;
      throw fsError("list", path, err);
    }
  }
  yield* walk(root.root, start);
}

/**
 * Yields the files under `dirKey` in S3's order (bytewise by key). Sorting each directory's entries
 * with directories compared as `name/` gives the global key order without holding every key:
 * all keys below `d` start with `d/`, and no file name of the same directory contains a `/`.
 */
async function* walk(root: string, dirKey: string): AsyncGenerator<StoredObjectInfo> {
  const dirPath = dirKey === "" ? root : join(root, dirKey);
  const entries: { name: string; sortKey: Buffer; directory: boolean }[] = [];
  try {
    for await (const entry of await opendir(dirPath)) {
      if (entry.isDirectory()) {
        entries.push({ name: entry.name, sortKey: Buffer.from(`${entry.name}/`), directory: true });
      } else if (entry.isFile() && !isTempFileName(entry.name)) {
        entries.push({ name: entry.name, sortKey: Buffer.from(entry.name), directory: false });
      }
    }
  } catch (err) {
    // A missing prefix is an empty one; a prefix naming a file has nothing below it (as in S3).
    const code = errnoCode(err);
    if (code === "ENOENT" || code === "ENOTDIR") return;
    throw fsError("list", dirPath, err);
  }
  entries.sort((a, b) => Buffer.compare(a.sortKey, b.sortKey));
  for (const entry of entries) {
    const key = dirKey === "" ? entry.name : `${dirKey}/${entry.name}`;
    if (entry.directory) {
      yield* walk(root, key);
      continue;
    }
    const path = join(root, key);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch (err) {
      if (errnoCode(err) === "ENOENT") continue; // deleted while listing
      throw fsError("list", path, err);
    }
    yield { key, size };
  }
}
