// `kube-autosave verify <snapshot>`: every file against the manifest (present, bytes, sha256, items, List
// format), no stray files, and on S3 each object's Object Lock. Exit 0 when intact, 1 with the list of
// problems, each naming its key.
import type { SnapshotManifest } from "../snapshot/manifest.js";
import { type ObjectLockReport, verifySnapshot } from "../snapshot/verify.js";
import type { VerifyCommand } from "./commands.js";
import { type CliIo, formatBytes } from "./output.js";
import { progressLine } from "./progress.js";
import { openStore } from "./store.js";

/** Runs `verify`; returns 0 when the snapshot is intact, 1 when any problem was found. */
export async function runVerify(cmd: VerifyCommand, io: CliIo): Promise<number> {
  const ref = cmd.snapshot;
  const { store, close } = await openStore(ref.target, ref.prefix, io);
  const progress = progressLine(io, cmd.json);
  try {
    const result = await verifySnapshot(store, ref.snapshot, {
      onProgress: progress && ((p) => progress.onFiles(p)),
    });
    progress?.clear();
    const location = store.describe(ref.snapshot);
    const ok = result.problems.length === 0;
    if (cmd.json) {
      const report = {
        location,
        snapshot: ref.snapshot,
        ok,
        status: result.manifest?.status ?? null,
        checkedFiles: result.checkedFiles,
        objectLock: result.manifest?.options.objectLock ?? null,
        problems: result.problems,
        ...(result.locks ? { locks: result.locks } : {}),
      };
      io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return ok ? 0 : 1;
    }
    const lines: string[] = [];
    if (ok) {
      const m = result.manifest;
      const totals = m
        ? `${m.totals.files} files, ${m.totals.items} items, ${formatBytes(m.totals.bytes)}`
        : "";
      lines.push(`OK ${location}: ${totals} match the manifest (status ${m?.status})`);
    } else {
      const n = result.problems.length;
      lines.push(`FAILED ${location}: ${n} problem${n === 1 ? "" : "s"}`);
      for (const p of result.problems) lines.push(`  ${p.key}: ${p.problem}`);
    }
    if (result.manifest) lines.push(...lockLines(result.manifest, result.locks));
    io.stdout.write(`${lines.join("\n")}\n`);
    return ok ? 0 : 1;
  } finally {
    progress?.clear();
    close();
  }
}

/**
 * What the objects' locks are: per mode, how many objects and their earliest and latest retain-until date
 * (--json lists each object), and what the manifest says the run used.
 */
export function lockLines(
  manifest: SnapshotManifest,
  locks: readonly ObjectLockReport[] | undefined,
): string[] {
  const expected = manifest.options.objectLock;
  const wanted = expected ? `${expected.mode}, ${expected.days} days` : "none";
  if (!locks) {
    return expected
      ? [`object lock: the manifest says ${wanted}; a folder holds no locks, so they were not checked`]
      : [];
  }
  // Nothing locked and nothing expected: no lines (--json still lists each object).
  if (!expected && locks.every((l) => l.mode === null)) return [];
  const byMode = new Map<string, { objects: number; until: string[] }>();
  for (const lock of locks) {
    const mode = lock.mode ?? "not locked";
    const group = byMode.get(mode) ?? { objects: 0, until: [] };
    group.objects += 1;
    if (lock.retainUntil) group.until.push(lock.retainUntil);
    byMode.set(mode, group);
  }
  const out = [`object lock (the manifest says ${wanted}):`];
  for (const [mode, { objects, until }] of [...byMode].sort(([a], [b]) => a.localeCompare(b))) {
    const what = `  ${mode}: ${objects} object${objects === 1 ? "" : "s"}`;
    until.sort();
    const first = until[0];
    const last = until.at(-1);
    if (first === undefined || last === undefined) out.push(what);
    else out.push(`${what}, retained until ${first === last ? first : `${first} … ${last}`}`);
  }
  return out;
}
