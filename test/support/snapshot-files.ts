// Reading a snapshot folder back in tests.
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";

/** Every file under `dir`, as sorted relative keys. */
export async function listKeys(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(relative(dir, p));
    }
  };
  await walk(dir);
  return out.sort();
}

export async function readJson(path: string): Promise<any> {
  return JSON.parse(await readFile(path, "utf8"));
}

/** The only snapshot folder under `root` (fails if there is not exactly one). */
export async function onlySnapshot(root: string): Promise<string> {
  const names = (await readdir(root)).filter((n) => /^\d{4}-/.test(n));
  if (names.length !== 1)
    throw new Error(`expected one snapshot under ${root}, found ${names.join(", ") || "none"}`);
  return join(root, names[0] as string);
}
