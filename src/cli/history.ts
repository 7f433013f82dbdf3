// `kube-autosave history <location> <resource>[.<group>]/<name> [--namespace NS]`: one object across
// every snapshot of a folder or S3 prefix, oldest first, with what happened to it in each (added, changed
// with its fields, unchanged, removed, absent). Secrets: the changed paths only, never a value.
// Exit 0; 1 when a snapshot's file could not be read (or the store failed); 2 for bad usage.
import {
  type HistoryEntry,
  HistoryTargetError,
  type ObjectHistory,
  objectHistory,
} from "../snapshot/history.js";
import type { HistoryCommand } from "./commands.js";
import { UsageError } from "./flags.js";
import type { CliIo } from "./output.js";
import { fieldLine } from "./output.js";
import { openStore } from "./store.js";

/** Runs `history`; returns 0, or 1 when some snapshot's file was unreadable. */
export async function runHistory(cmd: HistoryCommand, io: CliIo): Promise<number> {
  const { store, close } = await openStore(cmd.location.target, cmd.location.prefix, io);
  try {
    let history: ObjectHistory;
    try {
      history = await objectHistory(store, {
        resource: cmd.resource,
        name: cmd.objectName,
        namespace: cmd.namespace,
      });
    } catch (err) {
      if (err instanceof HistoryTargetError) throw new UsageError(err.message);
      throw err;
    }
    const location = store.describe("").replace(/\/+$/, "");
    const skipped = history.entries.filter((e) => e.file === "same-sha256").length;
    if (cmd.json) {
      const { entries, ...head } = history;
      io.stdout.write(
        `${JSON.stringify({ location, ...head, snapshots: entries.length, skippedSameSha256: skipped, entries }, null, 2)}\n`,
      );
    } else {
      io.stdout.write(formatHistory(history, location, skipped));
    }
    return history.entries.some((e) => e.change === "unreadable") ? 1 : 0;
  } finally {
    close();
  }
}

/** The text report: a header, one line per snapshot (changed fields below it), and what was read. */
export function formatHistory(history: ObjectHistory, location: string, skipped: number): string {
  const where = history.namespace === null ? "" : ` in namespace ${history.namespace}`;
  const hidden = history.redacted ? " (values hidden)" : "";
  const lines = [`History of ${history.resource}/${history.name}${where}${hidden} in ${location}`];
  const width = Math.max(...history.entries.map((e) => e.snapshot.length));
  for (const e of history.entries) {
    lines.push(`  ${e.snapshot.padEnd(width)}  ${entryText(e)}`);
    for (const f of e.fields ?? []) lines.push(`      ${fieldLine(f)}`);
  }
  const n = history.entries.length;
  const present = history.entries.some((e) => e.change === "added");
  lines.push(
    `${n} snapshot${n === 1 ? "" : "s"}: ${history.filesRead} file${history.filesRead === 1 ? "" : "s"} read, ` +
      `${skipped} skipped (same sha256 as the snapshot before)${present ? "" : "; the object is in none of them"}`,
  );
  return `${lines.join("\n")}\n`;
}

function entryText(e: HistoryEntry): string {
  switch (e.change) {
    case "not-backed-up":
      return `not backed up: ${e.note}`;
    case "incomplete":
      return `not read: ${e.note}`;
    case "unreadable":
      return `unreadable: ${e.note}`;
    default:
      return e.change;
  }
}
