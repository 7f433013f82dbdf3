// `kube-autosave restore`: wire the snapshot's store, the target cluster and the restore engine; report.
import { KubeClient } from "../kube/client.js";
import { defaultKubeconfigPaths, loadKubeconfig } from "../kube/kubeconfig.js";
import { kubeClientOptions } from "../kube/options.js";
import { KubeClusterWriter } from "../kube/writer.js";
import {
  DEFAULT_RESTORE_CONCURRENCY,
  type ObjectResult,
  type RestoreReport,
  restoreSnapshot,
} from "../restore/restore.js";
import { SYSTEM_OBJECT_RULES } from "../restore/rules.js";
import type { RestoreCommand } from "./commands.js";
import { type CliIo, stderrLogger } from "./output.js";
import { progressLine } from "./progress.js";
import { openStore } from "./store.js";

/**
 * Runs the restore command; returns 0 when nothing failed, 1 otherwise. Unusable input throws (exit 1 in
 * main), and so does a restore stopped by Ctrl-C or SIGTERM (RestoreAbortedError: main exits 130 / 143).
 */
export async function runRestore(cmd: RestoreCommand, io: CliIo): Promise<number> {
  const conn = await loadKubeconfig(cmd.kubeconfig ?? defaultKubeconfigPaths(io.env), cmd.context);
  // One live status line on a terminal (none with --json or off a terminal); warnings clear it first.
  const progress = progressLine(io, cmd.json);
  const logger = stderrLogger(io, () => progress?.clear());
  const { store, close } = await openStore(cmd.snapshot.target, cmd.snapshot.prefix, io);
  const client = new KubeClient(conn, {
    ...kubeClientOptions(DEFAULT_RESTORE_CONCURRENCY, logger),
    signal: io.signal,
  });
  try {
    const report = await restoreSnapshot(
      {
        store,
        cluster: new KubeClusterWriter(client, { signal: io.signal }),
        logger,
        clock: { now: () => new Date() },
        onProgress: progress && ((p) => progress.onFiles(p)),
      },
      {
        snapshot: cmd.snapshot.snapshot,
        filters: {
          namespaces: cmd.namespaces,
          resources: cmd.resources,
          names: cmd.names,
          selector: cmd.selector,
        },
        namespaceMappings: new Map(cmd.namespaceMappings),
        keepReclaimPolicy: cmd.keepReclaimPolicy,
        update: cmd.update,
        dryRun: cmd.dryRun,
        force: cmd.force,
        signal: io.signal,
      },
    );
    progress?.clear();
    const target = `${conn.name} (${conn.server})`;
    io.stdout.write(
      cmd.json ? `${JSON.stringify({ target, ...report }, null, 2)}\n` : formatReport(report, target),
    );
    return report.counts.failed > 0 || report.aborted ? 1 : 0;
  } finally {
    progress?.clear();
    client.close();
    close();
  }
}

const ORDER: readonly ObjectResult["outcome"][] = ["created", "updated", "unchanged", "skipped", "failed"];

/**
 * Skips that are the same for every snapshot (objects a new cluster makes itself, types that cannot
 * be restored) are counted in the text report, not listed: they are hundreds of lines that hide
 * the few that need a reader's attention. `--json` lists every one.
 */
const COUNTED_ONLY_RULES: ReadonlySet<string> = new Set([
  "not-selected",
  "non-restorable-type",
  ...SYSTEM_OBJECT_RULES.map((r) => r.id),
]);

/** The report for terminals: one line per object (objects the filters leave out are only counted), then totals. */
export function formatReport(report: RestoreReport, target: string): string {
  const m = report.manifest;
  const lines = [
    `Restore of snapshot ${report.snapshot}${m ? ` (cluster ${m.cluster}, ${m.serverVersion}, ${m.status} ${m.completedAt})` : " (no manifest: --force)"}`,
    `  from: ${report.location}`,
    `  into: ${target}`,
  ];
  const mappings = Object.entries(report.namespaceMappings);
  if (mappings.length > 0)
    lines.push(`  namespaces moved: ${mappings.map(([from, to]) => `${from} → ${to}`).join(", ")}`);
  if (report.dryRun)
    lines.push(
      "  DRY RUN: the API server validated each write and persisted nothing ('created' = would be created)",
    );
  lines.push("");
  const listed = report.objects.filter(
    (o) => !(o.outcome === "skipped" && o.rule && COUNTED_ONLY_RULES.has(o.rule)),
  );
  const width = Math.max(10, ...listed.map((o) => o.resource.length));
  for (const outcome of ORDER) {
    for (const o of listed.filter((x) => x.outcome === outcome)) {
      const id = o.namespace ? `${o.namespace}/${o.name}` : o.name;
      const why =
        o.outcome === "skipped"
          ? `  ${o.reason}`
          : o.outcome === "failed"
            ? `  ${o.status ?? "-"} ${o.message}`
            : "";
      const from = o.mappedFrom === undefined ? "" : ` (from ${o.mappedFrom})`;
      lines.push(`${o.outcome.padEnd(9)} ${o.resource.padEnd(width)} ${id}${from}${why}`);
      // Notes explain a write; on objects left alone they would only repeat the plan.
      if (o.outcome === "created" || o.outcome === "updated" || o.outcome === "failed")
        for (const note of o.notes ?? []) lines.push(`${"".padEnd(10)}note: ${note}`);
    }
  }
  for (const f of report.files.filter((x) => x.outcome === "failed"))
    lines.push(`failed    file ${f.key}: ${f.message}`);
  const notSelected =
    report.objects.filter((o) => o.rule === "not-selected").length +
    report.files.filter((f) => f.outcome === "skipped").reduce((n, f) => n + (f.items ?? 0), 0);
  if (notSelected > 0)
    lines.push(`skipped   ${notSelected} objects not selected by --namespace/--resource/--name/--selector`);
  const builtIn = report.objects.filter(
    (o) => o.outcome === "skipped" && o.rule && o.rule !== "not-selected" && COUNTED_ONLY_RULES.has(o.rule),
  ).length;
  if (builtIn > 0)
    lines.push(
      `skipped   ${builtIn} objects a new cluster creates itself or that cannot be restored (by rule below; --json lists each)`,
    );
  const c = report.counts;
  lines.push(
    "",
    `Totals: ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.skipped} skipped, ${c.failed} failed`,
  );
  const rules = Object.entries(report.skippedByRule).sort(([a], [b]) => (a < b ? -1 : 1));
  if (rules.length > 0) lines.push(`Skipped by rule: ${rules.map(([rule, n]) => `${rule} ${n}`).join(", ")}`);
  if (report.aborted) lines.push(`ABORTED: ${report.aborted}`);
  return `${lines.join("\n")}\n`;
}
