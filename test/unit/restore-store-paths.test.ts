// The folder store reads what others wrote (restore, verify, diff and list all read through it): only
// regular files inside its root, never through a symbolic link, never a key with `..`. Real files in a
// temp folder, no fakes.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreError } from "../../src/snapshot/errors.js";
import { FsStore } from "../../src/stores/fs.js";

let dir: string;
let root: string;
let store: FsStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kube-autosave-store-paths-"));
  root = join(dir, "root");
  await mkdir(join(root, "snap", "app"), { recursive: true });
  await mkdir(join(dir, "outside", "app"), { recursive: true });
  await writeFile(join(dir, "outside", "secret.json"), "outside");
  await writeFile(join(dir, "outside", "app", "configmaps.json"), "outside");
  await writeFile(join(root, "snap", "app", "secrets.json"), "inside");
  await symlink(join(dir, "outside", "secret.json"), join(root, "snap", "app", "configmaps.json"));
  await symlink(join(dir, "outside", "app"), join(root, "snap", "linked"));
  await symlink(join(dir, "outside"), join(root, "linked-snap"));
  await promisify(execFile)("mkfifo", [join(root, "snap", "app", "fifo.json")]);
  // The root itself may be reached through a link (a user's ~/backups → /data/backups).
  await symlink(root, join(dir, "root-link"));
  store = new FsStore(join(dir, "root-link"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("FsStore: reading only regular files inside the root", () => {
  it("reads a regular file, through a root that is itself a link", async () => {
    expect((await store.get("snap/app/secrets.json"))?.toString()).toBe("inside");
    expect(await store.get("snap/app/absent.json")).toBeUndefined();
  });

  it.each([
    ["snap/app/configmaps.json", "it is a symbolic link; only regular files inside the store are read"],
    ["snap/linked/configmaps.json", "a folder on its path is a symbolic link"],
    ["linked-snap/secret.json", "a folder on its path is a symbolic link"],
    ["snap/app/fifo.json", "it is not a regular file; only regular files inside the store are read"],
    ["snap/app", "it is a folder; only regular files inside the store are read"],
  ])("refuses %s, naming it", async (key, why) => {
    const read = store.get(key);
    await expect(read).rejects.toThrow(StoreError);
    await expect(read).rejects.toThrow(`cannot read ${join(dir, "root-link", key)}: ${why}`);
  });

  it("refuses a key with `..`, naming the key", async () => {
    await expect(store.get("snap/../../outside/secret.json")).rejects.toThrow(
      `invalid key "snap/../../outside/secret.json" for ${join(dir, "root-link", "snap/../../outside/secret.json")}: a key must not contain "." or ".." segments`,
    );
  });

  it("lists no symbolic link, and refuses to list below one", async () => {
    const keys: string[] = [];
    for await (const { key } of store.list("snap")) keys.push(key);
    expect(keys).toEqual(["snap/app/secrets.json"]);
    const below = async () => {
      for await (const _ of store.list("linked-snap")) {
        // never reached
      }
    };
    await expect(below()).rejects.toThrow(`a folder on its path is a symbolic link`);
    const absent: string[] = [];
    for await (const { key } of store.list("no-such-snapshot")) absent.push(key);
    expect(absent).toEqual([]);
  });
});
