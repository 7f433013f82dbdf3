// The snapshot engine called straight on a reader and a store, as the fault suites do when they need an
// option the CLI does not have (a fixed clock, a reader that streams every page, a short timeout).
import { takeSnapshot } from "../../src/snapshot/engine.js";
import type { SnapshotResult } from "../../src/snapshot/options.js";
import type { Clock, ClusterReader, Logger, SnapshotStore } from "../../src/snapshot/ports.js";

/** A logger that drops everything. */
export const SILENT: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** A logger that keeps each warning as `<message> <context as JSON>`. */
export function warningsInto(warnings: string[]): Logger {
  return { ...SILENT, warn: (m, c) => warnings.push(`${m} ${JSON.stringify(c)}`) };
}

export interface EngineRun {
  readonly clusterName: string;
  readonly includeResources: readonly string[];
  readonly includeNamespaces: readonly string[];
  readonly pageSize: number;
  readonly concurrency: number;
  /** Default: the real clock. */
  readonly clock?: Clock;
  /** Default: SILENT. */
  readonly logger?: Logger;
}

/** `takeSnapshot` of the given types and namespaces (cleaned, nothing else excluded). */
export function engineSnapshot(
  cluster: ClusterReader,
  store: SnapshotStore,
  run: EngineRun,
): Promise<SnapshotResult> {
  return takeSnapshot(
    { cluster, store, clock: run.clock ?? { now: () => new Date() }, logger: run.logger ?? SILENT },
    {
      clusterName: run.clusterName,
      filters: {
        includeResources: run.includeResources,
        excludeResources: [],
        includeNamespaces: run.includeNamespaces,
        excludeNamespaces: [],
      },
      pageSize: run.pageSize,
      concurrency: run.concurrency,
      raw: false,
      toolVersion: "test",
    },
  );
}
