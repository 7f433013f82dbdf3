// `kube-autosave list <location>`: the snapshots under a folder or s3://bucket/prefix, oldest first, with
// their status (Completed / PartiallyFailed / incomplete), time, items and size; latest.json's is marked.
import { type Catalog, type CatalogEntry, listSnapshots } from "../snapshot/catalog.js";
import { MANIFEST_FILE } from "../snapshot/layout.js";
import type { ListCommand } from "./commands.js";
import { type CliIo, formatBytes } from "./output.js";
import { openStore } from "./store.js";

/** Runs `list`; returns the exit code (0, also when there are no snapshots; store errors throw). */
export async function runList(cmd: ListCommand, io: CliIo): Promise<number> {
  const { store, close } = await openStore(cmd.location.target, cmd.location.prefix, io);
  try {
    const catalog = await listSnapshots(store);
    const location = store.describe("").replace(/\/+$/, "");
    if (cmd.json) {
      io.stdout.write(`${JSON.stringify({ location, ...catalog }, null, 2)}\n`);
    } else {
      io.stdout.write(formatCatalog(catalog, location));
      if (catalog.entries.length === 0 && (await store.get(MANIFEST_FILE))) {
        io.stdout.write(`  (${location} is itself a snapshot: list its parent folder)\n`);
      }
    }
    for (const warning of catalog.warnings) io.stderr.write(`warning: ${warning}\n`);
    return 0;
  } finally {
    close();
  }
}

/** The table `list` prints: one line per snapshot, `*` marking the one latest.json points at. */
export function formatCatalog(catalog: Catalog, location: string): string {
  if (catalog.entries.length === 0) return `No snapshots in ${location}\n`;
  const header = ["", "SNAPSHOT", "STATUS", "TIME (UTC)", "FILES", "ITEMS", "SIZE", ""];
  const rows = catalog.entries.map((e) => [
    e.latest ? "*" : " ",
    e.snapshot,
    e.status,
    timeOf(e),
    String(e.files),
    e.items === null ? "-" : String(e.items),
    formatBytes(e.bytes),
    note(e),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const right = new Set([4, 5, 6]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const count = catalog.entries.length;
  const out = [`${count} snapshot${count === 1 ? "" : "s"} in ${location}`, line(header), ...rows.map(line)];
  if (catalog.latest !== null) out.push(`* latest.json points at ${catalog.latest}`);
  return `${out.join("\n")}\n`;
}

/** Completion time for a manifest, start time (marked) for a run that never finished. */
function timeOf(e: CatalogEntry): string {
  const iso = e.completedAt ?? e.startedAt;
  const text = iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "");
  return e.completedAt ? text : `${text} (started)`;
}

function note(e: CatalogEntry): string {
  if (e.problem) return e.problem;
  if (e.errors) return `${e.errors} type${e.errors === 1 ? "" : "s"} failed`;
  if (e.status === "incomplete") return e.files === 0 ? "no files, no manifest" : "no manifest";
  return "";
}
