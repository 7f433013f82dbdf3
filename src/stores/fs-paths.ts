// Path safety of the filesystem store, in one place. What it reads is hostile input (restore, verify,
// diff and list read folders others wrote): a key must stay inside the root and round-trip through
// list(), and only regular files inside the root are read, never through a symbolic link.

import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { type FileHandle, open, realpath } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { StoreError } from "../snapshot/errors.js";
import { errnoCode, fsError } from "./fs-errors.js";

/** Temp files are dot files ending in `.tmp` beside their target (same filesystem, so rename is atomic). */
const TEMP_FILE = /^\..*\.tmp$/;

/** Temp file names: unique per process (random) and per file (a counter), without a random draw per file. */
const TEMP_PREFIX = randomBytes(4).toString("hex");
let tempCounter = 0;

/** A new temp file path beside `path`, of the form list() skips and no key may take. */
export function tempPathFor(path: string): string {
  tempCounter += 1;
  return join(dirname(path), `.${basename(path)}.${TEMP_PREFIX}${tempCounter.toString(36)}.tmp`);
}

/** True for the name of a temp file (list() does not report them). */
export function isTempFileName(name: string): boolean {
  return TEMP_FILE.test(name);
}

/** The store's root folder: maps keys to paths, refusing keys that leave it and folders that are links. */
export class StoreRoot {
  readonly root: string;
  /** The root with its own symbolic links resolved (the root may be one; nothing below it may). */
  private realRoot: Promise<string> | undefined;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The path of a key, for messages (not checked). */
  describe(key: string): string {
    return join(this.root, key);
  }

  /** The path of a key; throws StoreError for a key that would escape the root or could not round-trip through list(). */
  pathOf(key: string): string {
    const path = this.describe(key);
    checkKey(key, path);
    return path;
  }

  /**
   * Throws StoreError when a folder on the way from the root to `dirKey` is a symbolic link (the
   * resolved path is not the root's own resolved path plus the key). Errors of realpath (ENOENT…) pass.
   */
  async assertNoLinkBelowRoot(dirKey: string, path: string): Promise<void> {
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

  /**
   * The key's file opened for reading, or undefined when there is none; throws StoreError for a symbolic
   * link, a folder below the root reached through one, or anything but a regular file.
   */
  async openRegularFile(key: string): Promise<FileHandle | undefined> {
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
      return handle;
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw fsError("read", path, err);
    }
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
