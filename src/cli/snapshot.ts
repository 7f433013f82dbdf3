// `kube-autosave snapshot`: wire a kubeconfig, a folder or S3 store and the engine; report.
import pkg from "../../package.json" with { type: "json" };
import { KubeClient } from "../kube/client.js";
import { defaultKubeconfigPaths, loadKubeconfig } from "../kube/kubeconfig.js";
import { kubeClientOptions } from "../kube/options.js";
import { KubeClusterReader } from "../kube/reader.js";
import { defaultPrefix, type SnapshotResult, takeSnapshot } from "../snapshot/index.js";
import { formatChanges } from "./changes.js";
import type { SnapshotCommand } from "./commands.js";
import { type CliIo, stderrLogger } from "./output.js";
import { progressLine } from "./progress.js";
import { openStore } from "./store.js";

/** Exit code of a snapshot that was written with errors (status PartiallyFailed). */
export const EXIT_PARTIAL = 3;

/** The one-screen summary printed at the end of a run. */
export function formatSummary(result: SnapshotResult, location: string): string {
  const m = result.manifest;
  const mib = (m.totals.bytes / 1024 / 1024).toFixed(2);
  const seconds = ((Date.parse(m.completedAt) - Date.parse(m.startedAt)) / 1000).toFixed(1);
  const lines = [
    `Snapshot ${m.snapshot} of ${m.cluster.name} (${m.cluster.serverVersion}): ${m.status}`,
    `  location:       ${location}`,
    `  resource types: ${m.totals.resourceTypes}`,
    `  files:          ${m.totals.files}`,
    `  items:          ${m.totals.items}`,
    `  size:           ${mib} MiB`,
    `  duration:       ${seconds} s`,
    `  skipped types:  ${m.skipped.length}`,
  ];
  if (m.errors.length > 0) {
    lines.push(`  errors:         ${m.errors.length}`);
    for (const e of m.errors)
      lines.push(
        `    ${e.resource}${e.namespace ? ` in ${e.namespace}` : ""}: ${e.status ?? "-"} ${e.message}`,
      );
  }
  if (m.changes) lines.push(...formatChanges(m.changes));
  return `${lines.join("\n")}\n`;
}

/** Runs the snapshot command; returns the exit code. */
export async function runSnapshot(cmd: SnapshotCommand, io: CliIo): Promise<number> {
  const conn = await loadKubeconfig(cmd.kubeconfig ?? defaultKubeconfigPaths(io.env), cmd.context);
  const clusterName = cmd.clusterName ?? conn.name.replace(/[^A-Za-z0-9._-]/g, "_");
  const prefix = cmd.prefix ?? defaultPrefix(clusterName);
  // One live status line on a terminal (none with --json or off a terminal); warnings clear it first.
  const progress = progressLine(io, cmd.json);
  const logger = stderrLogger(io, () => progress?.clear());
  const { store, close } = await openStore(cmd.target, prefix, io);
  const client = new KubeClient(conn, { ...kubeClientOptions(cmd.concurrency, logger), signal: io.signal });
  try {
    const result = await takeSnapshot(
      {
        cluster: new KubeClusterReader(client),
        store,
        clock: { now: () => new Date() },
        logger,
        onProgress: progress && ((e) => progress.onSnapshot(e)),
      },
      {
        clusterName,
        filters: cmd.filters,
        pageSize: cmd.pageSize,
        concurrency: cmd.concurrency,
        raw: cmd.raw,
        toolVersion: pkg.version,
        signal: io.signal,
      },
    );
    const location = store.describe(result.snapshot);
    if (cmd.json) {
      const { resources: _r, files: _f, skipped: _s, ...summary } = result.manifest;
      io.stdout.write(
        `${JSON.stringify({ location, manifestKey: store.describe(result.manifestKey), requests: client.requestCount, ...summary }, null, 2)}\n`,
      );
    } else {
      io.stdout.write(formatSummary(result, location));
    }
    return result.manifest.status === "Completed" ? 0 : EXIT_PARTIAL;
  } finally {
    progress?.clear();
    client.close();
    close();
  }
}
