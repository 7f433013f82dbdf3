// The change digest as text: what `snapshot` prints after its summary (the manifest's `changes`).
import type { ChangeEntry, ManifestChanges } from "../snapshot/manifest.js";

/** Types and namespaces printed before the rest are only counted (manifest.json has them all). */
const MAX_ENTRIES = 40;

/** The digest's lines: totals, then one line per resource type and namespace, routine changes apart. */
export function formatChanges(changes: ManifestChanges): string[] {
  if (!changes.compared) return [`Changes: not compared (${changes.reason ?? "no reason given"})`];
  const t = changes.totals;
  const percent =
    changes.objects.before === null
      ? ""
      : ` (${changes.removedPercent}% of the ${changes.objects.before} objects before removed)`;
  const lines = [
    `Changes since ${changes.since}: ${t.added} added, ${t.removed} removed, ${t.changed} changed${percent}`,
  ];
  for (const entry of changes.resources.slice(0, MAX_ENTRIES)) lines.push(`  ${entryLine(entry)}`);
  const more = changes.resources.length - MAX_ENTRIES;
  if (more > 0) lines.push(`  … and ${more} more types or namespaces (manifest.json lists them all)`);
  const r = changes.routine.totals;
  if (r.added + r.removed + r.changed > 0) {
    const rules = changes.routine.rules.map((x) => `${x.rule} ${counts(x)}`).join(", ");
    lines.push(
      `Routine, counted apart: ${r.added} added, ${r.removed} removed, ${r.changed} changed (${rules})`,
    );
  }
  for (const n of changes.notCompared) lines.push(`Not compared: ${n.resource}: ${n.reason}`);
  return lines;
}

/** `configmaps in shop-0: + new  ~ settings, other (+3 more)`. */
function entryLine(entry: ChangeEntry): string {
  const where = entry.namespace === null ? "(cluster-scoped)" : `in ${entry.namespace}`;
  const parts: string[] = [];
  for (const [mark, kind] of [
    ["+", "added"],
    ["-", "removed"],
    ["~", "changed"],
  ] as const) {
    const names = entry.names[kind];
    if (entry[kind] === 0) continue;
    const rest = entry[kind] - names.length;
    parts.push(`${mark} ${names.join(", ")}${rest > 0 ? ` (+${rest} more)` : ""}`);
  }
  return `${entry.resource} ${where}: ${parts.join("  ")}`;
}

function counts(c: { added: number; removed: number; changed: number }): string {
  return [c.added ? `+${c.added}` : "", c.removed ? `-${c.removed}` : "", c.changed ? `~${c.changed}` : ""]
    .filter(Boolean)
    .join(" ");
}
