// The filesystem SnapshotStore: a key is a path under `<dir>/<prefix>`. Snapshots may hold Secrets, so
// everything is created readable by its owner only, and every file appears whole or not at all. What it
// reads is hostile input (restore, verify, diff and list read folders others wrote). Each job has its file:
//   fs-paths.ts   path safety: valid keys, temp names, regular files inside the root, never through a link
//   fs-write.ts   atomic, owner-only writes (temp file + rename) and their fsyncs
//   fs-read.ts    reading a file back, listing in S3's key order
//   fs-errors.ts  Node errors as StoreErrors

import { unlink } from "node:fs/promises";
import type { ObjectWriter, SnapshotStore, StoredObjectInfo } from "../snapshot/ports.js";
import { errnoCode, fsError } from "./fs-errors.js";
import { StoreRoot } from "./fs-paths.js";
import { listStoredFiles, readStoredFile } from "./fs-read.js";
import { BackgroundSync, createExclusiveFile, FsObjectWriter, MadeDirs } from "./fs-write.js";

/**
 * A filesystem store rooted at `<dir>/<prefix>`; writes are atomic per file (temp file, rename). put()
 * and createExclusive() fsync the file and its folder before they resolve; files written through
 * openWrite() are fsynced in the background once committed, and sync() waits for those fsyncs and then
 * fsyncs their folders: nobody waits for the disk while the snapshot is listing.
 */
export class FsStore implements SnapshotStore {
  private readonly root: StoreRoot;
  /** Files committed through openWrite(), fsynced in the background. */
  private readonly syncer = new BackgroundSync();
  private readonly dirs = new MadeDirs();
  readonly #signal: AbortSignal | undefined;

  /**
   * `signal`: once it aborts (Ctrl-C), reads and listings throw its reason, so a command reading a folder
   * stops at its next file, as one reading S3 does when its requests are cancelled. Writes, deletes and
   * sync() go on: a stopped run still cleans up what it started.
   */
  constructor(root: string, options: { readonly signal?: AbortSignal | undefined } = {}) {
    this.root = new StoreRoot(root);
    this.#signal = options.signal;
  }

  describe(key: string): string {
    return this.root.describe(key);
  }

  openWrite(key: string): ObjectWriter {
    return new FsObjectWriter(this.root.pathOf(key), (path) => this.syncer.add(path), this.dirs);
  }

  async put(key: string, body: Buffer): Promise<void> {
    const writer = new FsObjectWriter(this.root.pathOf(key), "durable", this.dirs);
    try {
      await writer.write(body);
      await writer.commit();
    } catch (err) {
      await writer.abort();
      throw err;
    }
  }

  async createExclusive(key: string, body: Buffer): Promise<boolean> {
    return createExclusiveFile(this.root.pathOf(key), body, this.dirs);
  }

  /** The file's bytes; throws StoreError for a symbolic link, a folder below the root reached through one, or anything but a regular file. */
  async get(key: string): Promise<Buffer | undefined> {
    this.#signal?.throwIfAborted();
    return readStoredFile(this.root, key);
  }

  async *list(prefix: string): AsyncIterable<StoredObjectInfo> {
    for await (const file of listStoredFiles(this.root, prefix)) {
      this.#signal?.throwIfAborted();
      yield file;
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.root.pathOf(key);
    try {
      await unlink(path);
    } catch (err) {
      if (errnoCode(err) !== "ENOENT") throw fsError("delete", path, err);
    }
  }

  async sync(): Promise<void> {
    await this.syncer.drain();
  }
}
