// The snapshot engine: discover every listable type, list each ONCE across all namespaces page by
// page (type-backup.ts), stream the cleaned items into one List file per (type, namespace), then write the
// manifest last. Knows nothing of AWS, Lambda or the process: everything comes in through ports.
import { claimSnapshotName } from "./claim.js";
import { digestChanges } from "./digest.js";
import { selectResourceTypes } from "./discovery.js";
import { SnapshotAbortedError, throwIfAborted } from "./errors.js";
import { readPrevious, updateLatest } from "./latest.js";
import { formatTimestamp, manifestKey } from "./layout.js";
import {
  MANIFEST_API_VERSION,
  type ManifestError,
  type ManifestFile,
  type ManifestResource,
  type SnapshotManifest,
} from "./manifest.js";
import type { SnapshotDeps, SnapshotOptions, SnapshotResult } from "./options.js";
import { runPool } from "./pool.js";
import { TypeBackup } from "./type-backup.js";

/** Takes one snapshot. Resolves with the manifest (Completed or PartiallyFailed); rejects, with no manifest written, when the cluster or store fails or the run is aborted. */
export async function takeSnapshot(deps: SnapshotDeps, options: SnapshotOptions): Promise<SnapshotResult> {
  const progress = { manifestWritten: false };
  try {
    return await snapshotRun(deps, options, progress);
  } catch (err) {
    // Adapters may cancel their requests on the same signal: whatever they threw, the run was stopped.
    if (!progress.manifestWritten && options.signal?.aborted && !(err instanceof SnapshotAbortedError)) {
      throwIfAborted(options.signal, err);
    }
    throw err;
  }
}

async function snapshotRun(
  deps: SnapshotDeps,
  options: SnapshotOptions,
  progress: { manifestWritten: boolean },
): Promise<SnapshotResult> {
  const { cluster, store, clock, logger } = deps;
  const serverVersion = await cluster.serverVersion();
  // Discovery runs while the snapshot's name is claimed; a failure is reported where it is awaited.
  const discovery = cluster.discover();
  discovery.catch(() => undefined);
  const startedAt = clock.now();
  const snapshot = await claimSnapshotName(store, formatTimestamp(startedAt), {
    cluster: options.clusterName,
    startedAt: startedAt.toISOString(),
    tool: options.toolVersion,
  });
  logger.info("snapshot started", {
    snapshot,
    cluster: options.clusterName,
    serverVersion,
    location: store.describe(snapshot),
  });
  // What the change digest compares with: the snapshot latest.json names now, before this run ends.
  const previous = await readPrevious(store);

  const selection = selectResourceTypes(await discovery, options.filters);
  deps.onProgress?.({ resource: "", phase: "planned", items: 0, types: selection.types.length });
  const run = new TypeBackup(deps, options, snapshot);
  const outcomes = await runPool(
    selection.types,
    {
      concurrency: options.concurrency,
      // The first fatal error (cluster or store gone) stops the other types at their next page.
      onError: (error) => {
        run.fatal ??= { error };
      },
    },
    (type) => run.backup(type),
  );

  const resources: ManifestResource[] = [];
  const files: ManifestFile[] = [];
  const errors: ManifestError[] = [...selection.errors];
  let routineItems = 0;
  for (const outcome of outcomes) {
    if (outcome.ok) {
      resources.push(outcome.resource);
      files.push(...outcome.files);
      routineItems += outcome.routine;
    } else {
      errors.push(outcome.error);
    }
  }
  files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const completedAt = clock.now();
  const base: SnapshotManifest = {
    apiVersion: MANIFEST_API_VERSION,
    kind: "SnapshotManifest",
    snapshot,
    cluster: { name: options.clusterName, serverVersion },
    status: errors.length === 0 ? "Completed" : "PartiallyFailed",
    startedAt: startedAt.toISOString(),
    completedAt: completedAt.toISOString(),
    tool: { name: "kube-autosave", version: options.toolVersion },
    options: {
      includeResources: options.filters.includeResources,
      excludeResources: selection.excludeResources,
      includeNamespaces: options.filters.includeNamespaces,
      excludeNamespaces: options.filters.excludeNamespaces,
      pageSize: options.pageSize,
      raw: options.raw,
      objectLock: store.objectLock ?? null,
    },
    totals: {
      resourceTypes: resources.length,
      files: files.length,
      items: files.reduce((n, f) => n + f.items, 0),
      bytes: files.reduce((n, f) => n + f.bytes, 0),
    },
    resources,
    files,
    skipped: selection.skipped,
    errors,
  };
  throwIfAborted(options.signal);
  // Every file is committed by now; once they are durable, the manifest's presence is what makes the
  // snapshot complete.
  await store.sync();
  throwIfAborted(options.signal);
  const changes = await digestChanges({
    store,
    previous,
    current: base,
    objects: base.totals.items - routineItems,
    checkStop: () => throwIfAborted(options.signal),
  });
  if (!changes.compared && changes.since !== null)
    logger.warn("not compared with the previous snapshot", { since: changes.since, reason: changes.reason });
  const { resources: _r, files: _f, skipped: _s, errors: _e, ...head } = base;
  const manifest: SnapshotManifest = { ...head, changes, resources, files, skipped: base.skipped, errors };
  throwIfAborted(options.signal);
  await store.put(manifestKey(snapshot), Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
  progress.manifestWritten = true;
  await updateLatest(store, { snapshot, status: manifest.status, completedAt: manifest.completedAt });
  logger.info("snapshot written", {
    snapshot,
    status: manifest.status,
    ...manifest.totals,
    errors: errors.length,
    changes: { since: changes.since, ...changes.totals },
  });
  return { snapshot, manifestKey: manifestKey(snapshot), manifest };
}
