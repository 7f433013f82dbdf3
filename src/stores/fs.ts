// The filesystem SnapshotStore: a key is a path under `<dir>/<prefix>`. Snapshots may hold Secrets, so
// everything is created readable by its owner only, and every file appears whole or not at all.
import { randomBytes } from "node:crypto";
import { type FileHandle, mkdir, open, opendir, readFile, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { StoreError } from "../snapshot/errors.js";
import type { ObjectWriter, SnapshotStore, StoredObjectInfo } from "../snapshot/ports.js";

/** Snapshot files may contain Secrets: owner-only, whatever the umask. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** Temp files are dot files ending in `.tmp` beside their target (same filesystem, so rename is atomic). */
const TEMP_FILE = /^\..*\.tmp$/;

/** A filesystem store rooted at `<dir>/<prefix>`; writes are atomic per file (temp file, fsync, rename). */
export class FsStore implements SnapshotStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  describe(key: string): string {
    return join(this.root, key);
  }

  openWrite(key: string): ObjectWriter {
    return new FsObjectWriter(this.pathOf(key));
  }

  async put(key: string, body: Buffer): Promise<void> {
    const writer = this.openWrite(key);
    try {
      await writer.write(body);
      await writer.commit();
    } catch (err) {
      await writer.abort();
      throw err;
    }
  }

  async createExclusive(key: string, body: Buffer): Promise<boolean> {
    const path = this.pathOf(key);
    await makeParent(path);
    let handle: FileHandle;
    try {
      handle = await open(path, "wx", FILE_MODE);
    } catch (err) {
      if (errnoCode(err) === "EEXIST") return false;
      throw fsError("create", path, err);
    }
    try {
      await writeAll(handle, body);
      await handle.sync();
      await handle.close();
    } catch (err) {
      // The claim is ours but incomplete: remove it, so a retry can claim the name again.
      await handle.close().catch(() => undefined);
      await unlink(path).catch(() => undefined);
      throw fsError("write", path, err);
    }
    return true;
  }

  async get(key: string): Promise<Buffer | undefined> {
    const path = this.pathOf(key);
    try {
      return await readFile(path);
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return undefined;
      throw fsError("read", path, err);
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObjectInfo> {
    const start = prefix.replace(/\/+$/, "");
    if (start !== "") checkKey(start, this.describe(start));
    yield* this.walk(start);
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (err) {
      if (errnoCode(err) !== "ENOENT") throw fsError("delete", path, err);
    }
  }

  private pathOf(key: string): string {
    const path = this.describe(key);
    checkKey(key, path);
    return path;
  }

  /**
   * Yields the files under `dirKey` in S3's order (bytewise by key). Sorting each directory's entries
   * with directories compared as `name/` gives the global key order without holding every key:
   * all keys below `d` start with `d/`, and no file name of the same directory contains a `/`.
   */
  private async *walk(dirKey: string): AsyncGenerator<StoredObjectInfo> {
    const dirPath = dirKey === "" ? this.root : join(this.root, dirKey);
    const entries: { name: string; sortKey: Buffer; directory: boolean }[] = [];
    try {
      for await (const entry of await opendir(dirPath)) {
        if (entry.isDirectory()) {
          entries.push({ name: entry.name, sortKey: Buffer.from(`${entry.name}/`), directory: true });
        } else if (entry.isFile() && !TEMP_FILE.test(entry.name)) {
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
        yield* this.walk(key);
        continue;
      }
      const path = join(this.root, key);
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
}

/** A streamed write to a temp file beside the target; commit() fsyncs it and renames it into place. */
class FsObjectWriter implements ObjectWriter {
  private readonly tempPath: string;
  /** Opened eagerly; a failure is reported by the next write(), commit() or abort(). */
  private readonly handle: Promise<FileHandle>;
  private state: "open" | "committed" | "aborted" = "open";

  constructor(private readonly path: string) {
    const tempPath = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
    this.tempPath = tempPath;
    this.handle = (async () => {
      await makeParent(path);
      try {
        return await open(tempPath, "wx", FILE_MODE);
      } catch (err) {
        throw fsError("write", path, err);
      }
    })();
    this.handle.catch(() => undefined); // reported by the caller's next call, not as an unhandled rejection
  }

  async write(chunk: Buffer): Promise<void> {
    this.assertOpen();
    const handle = await this.handle;
    try {
      await writeAll(handle, chunk);
    } catch (err) {
      throw fsError("write", this.path, err);
    }
  }

  async commit(): Promise<void> {
    this.assertOpen();
    const handle = await this.handle;
    try {
      await handle.sync();
      await handle.close();
      await rename(this.tempPath, this.path);
    } catch (err) {
      await handle.close().catch(() => undefined);
      await unlink(this.tempPath).catch(() => undefined);
      this.state = "aborted";
      throw fsError("write", this.path, err);
    }
    this.state = "committed";
    await syncDirectory(dirname(this.path));
  }

  async abort(): Promise<void> {
    if (this.state !== "open") return;
    this.state = "aborted";
    let handle: FileHandle;
    try {
      handle = await this.handle;
    } catch {
      return; // the temp file was never created
    }
    await handle.close().catch(() => undefined);
    try {
      await unlink(this.tempPath);
    } catch (err) {
      if (errnoCode(err) !== "ENOENT") throw fsError("remove the temp file of", this.path, err);
    }
  }

  private assertOpen(): void {
    if (this.state !== "open")
      throw new StoreError(`cannot write ${this.path}: the write was already ${this.state}`);
  }
}

/** Rejects keys that would escape the root or could not round-trip through list(). */
function checkKey(key: string, path: string): void {
  const segments = key.split("/");
  const bad =
    key.startsWith("/") || key.includes("\\") || key.includes("\0")
      ? "must be relative"
      : segments.includes("..") || segments.includes(".")
        ? 'must not contain "." or ".." segments'
        : segments.includes("")
          ? "must not contain empty segments"
          : TEMP_FILE.test(segments[segments.length - 1] ?? "")
            ? 'must not be a dot file ending in ".tmp" (reserved for temp files)'
            : undefined;
  if (bad) throw new StoreError(`invalid key "${key}" for ${path}: a key ${bad}`);
}

async function makeParent(path: string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: DIR_MODE });
  } catch (err) {
    throw fsError("write", path, err);
  }
}

async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

/** Makes a rename durable. Best effort: some platforms cannot open or fsync a directory. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // the file itself is already fsynced and in place
  }
}

function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** "cannot write /x/y: EACCES (permission denied)", from Node's "EACCES: permission denied, open '…'". */
function fsError(verb: string, path: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const code = errnoCode(err);
  const message = err instanceof Error ? err.message : String(err);
  const reason = code ? message.match(new RegExp(`^${code}: ([^,]+),`))?.[1] : undefined;
  const why = code ? (reason ? `${code} (${reason})` : code) : message;
  return new StoreError(`cannot ${verb} ${path}: ${why}`, { cause: err });
}
