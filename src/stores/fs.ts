// The filesystem SnapshotStore: a key is a path under `<dir>/<prefix>`. Snapshots may hold Secrets, so
// everything is created readable by its owner only, and every file appears whole or not at all. What it
// reads is hostile input (restore, verify, diff and list read folders others wrote): only regular files
// inside the root are read, never through a symbolic link, and a key with `..` is refused.

import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { type FileHandle, mkdir, open, opendir, realpath, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { StoreError } from "../snapshot/errors.js";
import type { ObjectWriter, SnapshotStore, StoredObjectInfo } from "../snapshot/ports.js";

/** Temp file names: unique per process (random) and per file (a counter), without a random draw per file. */
const TEMP_PREFIX = randomBytes(4).toString("hex");
let tempCounter = 0;
function tempSuffix(): string {
  tempCounter += 1;
  return `${TEMP_PREFIX}${tempCounter.toString(36)}`;
}

/** Snapshot files may contain Secrets: owner-only, whatever the umask. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** Temp files are dot files ending in `.tmp` beside their target (same filesystem, so rename is atomic). */
const TEMP_FILE = /^\..*\.tmp$/;

/**
 * Committed files fsynced at once in the background: two of libuv's four pool threads, so the
 * writers' open, close and rename calls never queue behind a slow fsync.
 */
const SYNC_CONCURRENCY = 2;

/**
 * A filesystem store rooted at `<dir>/<prefix>`; writes are atomic per file (temp file, rename). put()
 * and createExclusive() fsync the file and its folder before they resolve; files written through
 * openWrite() are fsynced in the background once committed, and sync() waits for those fsyncs and then
 * fsyncs their folders: nobody waits for the disk while the snapshot is listing.
 */
export class FsStore implements SnapshotStore {
  private readonly root: string;
  /** Files committed through openWrite(), fsynced in the background. */
  private readonly syncer = new BackgroundSync();
  private readonly dirs = new MadeDirs();
  /** The root with its own symbolic links resolved (the root may be one; nothing below it may). */
  private realRoot: Promise<string> | undefined;

  constructor(root: string) {
    this.root = resolve(root);
  }

  describe(key: string): string {
    return join(this.root, key);
  }

  openWrite(key: string): ObjectWriter {
    return new FsObjectWriter(this.pathOf(key), (path) => this.syncer.add(path), this.dirs);
  }

  async put(key: string, body: Buffer): Promise<void> {
    const writer = new FsObjectWriter(this.pathOf(key), "durable", this.dirs);
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
    try {
      await this.dirs.ensure(dirname(path));
    } catch (err) {
      throw fsError("write", path, err);
    }
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

  /** The file's bytes; throws StoreError for a symbolic link, a folder below the root reached through one, or anything but a regular file. */
  async get(key: string): Promise<Buffer | undefined> {
    const path = this.pathOf(key);
    let handle: FileHandle;
    try {
      // O_NOFOLLOW: a symlink in the last place fails (ELOOP) instead of being followed;
      // O_NONBLOCK: a FIFO planted there cannot hang the open.
      handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      const code = errnoCode(err);
      if (code === "ENOENT") return undefined;
      if (code === "ELOOP") throw notRegular(path, "a symbolic link");
      throw fsError("read", path, err);
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw notRegular(path, info.isDirectory() ? "a folder" : "not a regular file");
      await this.assertNoLinkBelowRoot(dirname(key) === "." ? "" : dirname(key), path);
      return await handle.readFile();
    } catch (err) {
      throw fsError("read", path, err);
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObjectInfo> {
    const start = prefix.replace(/\/+$/, "");
    if (start !== "") {
      checkKey(start, this.describe(start));
      try {
        await this.assertNoLinkBelowRoot(start, this.describe(start));
      } catch (err) {
        // A missing prefix is an empty one, as in S3.
        if (errnoCode(err) === "ENOENT") return;
        throw fsError("list", this.describe(start), err);
      }
    }
    yield* this.walk(start);
  }

  /**
   * Throws StoreError when a folder on the way from the root to `dirKey` is a symbolic link (the
   * resolved path is not the root's own resolved path plus the key). Errors of realpath (ENOENT…) pass.
   */
  private async assertNoLinkBelowRoot(dirKey: string, path: string): Promise<void> {
    if (dirKey === "") return;
    this.realRoot ??= realpath(this.root);
    this.realRoot.catch(() => {
      this.realRoot = undefined;
    });
    const [root, real] = await Promise.all([this.realRoot, realpath(join(this.root, dirKey))]);
    if (real !== join(root, dirKey))
      throw new StoreError(
        `cannot read ${path}: a folder on its path is a symbolic link (only files inside ${this.root} are read, none through a link)`,
      );
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (err) {
      if (errnoCode(err) !== "ENOENT") throw fsError("delete", path, err);
    }
  }

  async sync(): Promise<void> {
    await this.syncer.drain();
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

/**
 * A streamed write to a temp file beside the target; commit() renames it into place. "durable": commit()
 * fsyncs the file before the rename and its folder after; otherwise the caller is told the path, to fsync
 * later (FsStore.sync).
 *
 * Every call is asynchronous: creating a file can take a millisecond of kernel time on a busy disk
 * (journal), which the thread pool spends while the snapshot goes on serialising on the main thread.
 */
class FsObjectWriter implements ObjectWriter {
  private readonly tempPath: string;
  /** Opened eagerly; a failure is reported by the next write(), commit() or abort(). */
  private readonly handle: Promise<FileHandle>;
  private state: "open" | "committed" | "aborted" = "open";

  constructor(
    private readonly path: string,
    private readonly durability: "durable" | ((committedPath: string) => void),
    dirs: MadeDirs,
  ) {
    const tempPath = join(dirname(path), `.${basename(path)}.${tempSuffix()}.tmp`);
    this.tempPath = tempPath;
    this.handle = (async () => {
      try {
        await dirs.ensure(dirname(path));
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
    const durable = this.durability === "durable";
    try {
      if (durable) await handle.sync();
      await handle.close();
      await rename(this.tempPath, this.path);
    } catch (err) {
      await handle.close().catch(() => undefined);
      await unlink(this.tempPath).catch(() => undefined);
      this.state = "aborted";
      throw fsError("write", this.path, err);
    }
    this.state = "committed";
    if (durable) await syncDirectory(dirname(this.path));
    else this.durability(this.path);
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

/** fsyncs committed files in the background, a few at a time; drain() waits for them, then their folders. */
class BackgroundSync {
  private readonly queue: string[] = [];
  private head = 0;
  private running = 0;
  private readonly dirs = new Set<string>();
  private failure: StoreError | undefined;
  private waiters: (() => void)[] = [];

  add(path: string): void {
    this.queue.push(path);
    this.dirs.add(dirname(path));
    this.pump();
  }

  /** Resolves when every file added so far and its folder are fsynced; throws the first failure. */
  async drain(): Promise<void> {
    if (this.running > 0 || this.head < this.queue.length)
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    // The renames that made the files visible are durable once their folders are.
    const dirs = [...this.dirs];
    this.dirs.clear();
    await Promise.all(dirs.map((dir) => syncDirectory(dir)));
    const failure = this.failure;
    this.failure = undefined;
    if (failure) throw failure;
  }

  private pump(): void {
    while (this.running < SYNC_CONCURRENCY && this.head < this.queue.length) {
      const path = this.queue[this.head++] as string;
      this.running += 1;
      syncFile(path)
        .catch((err: unknown) => {
          this.failure ??= fsError("sync", path, err);
        })
        .finally(() => {
          this.running -= 1;
          this.pump();
        });
    }
    if (this.running === 0 && this.head >= this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      const waiters = this.waiters;
      this.waiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}

/** The folders this store made: one mkdir per folder and run, not one per file. */
class MadeDirs {
  private readonly made = new Map<string, Promise<void>>();

  async ensure(dir: string): Promise<void> {
    let made = this.made.get(dir);
    if (!made) {
      made = mkdir(dir, { recursive: true, mode: DIR_MODE }).then(() => undefined);
      this.made.set(dir, made);
      // A failed mkdir is not remembered: the next file in that folder tries again.
      made.catch(() => this.made.delete(dir));
    }
    await made;
  }
}

/** A path that is there but must not be read. */
function notRegular(path: string, what: string): StoreError {
  return new StoreError(`cannot read ${path}: it is ${what}; only regular files inside the store are read`);
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

async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

/** fsyncs a file written earlier (through another descriptor: fsync flushes the file, not the descriptor). */
async function syncFile(path: string): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return; // replaced or removed since: nothing of it to keep
    throw fsError("sync", path, err);
  }
  try {
    await handle.sync();
  } catch (err) {
    throw fsError("sync", path, err);
  } finally {
    await handle.close().catch(() => undefined);
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
