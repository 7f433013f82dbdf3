// `kube-autosave verify <snapshot>`: every file against the manifest (present, bytes, sha256, items, List
// format), no stray files. Exit 0 when intact, 1 with the list of problems, each naming its key.
import { verifySnapshot } from "../snapshot/verify.js";
import { formatBytes } from "./list.js";
import type { CliIo } from "./main.js";
import type { VerifyCommand } from "./parse.js";
import { openStore } from "./store.js";

/** Runs `verify`; returns 0 when the snapshot is intact, 1 when any problem was found. */
export async function runVerify(cmd: VerifyCommand, io: CliIo): Promise<number> {
  const ref = cmd.snapshot;
  const { store, close } = await openStore(ref.target, ref.prefix, io);
  try {
    const result = await verifySnapshot(store, ref.snapshot);
    const location = store.describe(ref.snapshot);
    const ok = result.problems.length === 0;
    if (cmd.json) {
      const report = {
        location,
        snapshot: ref.snapshot,
        ok,
        status: result.manifest?.status ?? null,
        checkedFiles: result.checkedFiles,
        problems: result.problems,
      };
      io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else if (ok) {
      const m = result.manifest;
      const totals = m
        ? `${m.totals.files} files, ${m.totals.items} items, ${formatBytes(m.totals.bytes)}`
        : "";
      io.stdout.write(`OK ${location}: ${totals} match the manifest (status ${m?.status})\n`);
    } else {
      const n = result.problems.length;
      const lines = [`FAILED ${location}: ${n} problem${n === 1 ? "" : "s"}`];
      for (const p of result.problems) lines.push(`  ${p.key}: ${p.problem}`);
      io.stdout.write(`${lines.join("\n")}\n`);
    }
    return ok ? 0 : 1;
  } finally {
    close();
  }
}
