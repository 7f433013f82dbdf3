// Writing the filesystem store: every file appears whole or not at all (a temp file beside it, then a
// rename), readable by its owner only (snapshots may hold Secrets), and durable before the manifest is
// written (fsyncs in the background, waited for by FsStore.sync).

import { type FileHandle, mkdir, open, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { StoreError } from "../snapshot/errors.js";
import type { ObjectWriter } from "../snapshot/ports.js";
import { errnoCode, fsError } from "./fs-errors.js";
import { tempPathFor } from "./fs-paths.js";

/** Snapshot files may contain Secrets: owner-only, whatever the umask. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/**
 * Committed files fsynced at once in the background: two of libuv's four pool threads, so the
 * writers' open, close and rename calls never queue behind a slow fsync.
 */
const SYNC_CONCURRENCY = 2;

/**
 * Creates `path` with `body` unless it exists (false then), fsynced before it resolves; a failed write
 * removes the file, so a retry can claim the name again.
 */
export async function createExclusiveFile(path: string, body: Buffer, dirs: MadeDirs): Promise<boolean> {
  try {
    await dirs.ensure(dirname(path));
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

/**
 * A streamed write to a temp file beside the target; commit() renames it into place. "durable": commit()
 * fsyncs the file before the rename and its folder after; otherwise the caller is told the path, to fsync
 * later (FsStore.sync).
 *
 * Every call is asynchronous: creating a file can take a millisecond of kernel time on a busy disk
 * (journal), which the thread pool spends while the snapshot goes on serialising on the main thread.
 */
export class FsObjectWriter implements ObjectWriter {
  private readonly tempPath: string;
  /** Opened eagerly; a failure is reported by the next write(), commit() or abort(). */
  private readonly handle: Promise<FileHandle>;
  private state: "open" | "committed" | "aborted" = "open";

  constructor(
    private readonly path: string,
    private readonly durability: "durable" | ((committedPath: string) => void),
    dirs: MadeDirs,
  ) {
    const tempPath = tempPathFor(path);
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
export class BackgroundSync {
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
export class MadeDirs {
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
