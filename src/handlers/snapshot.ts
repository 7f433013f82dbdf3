// The Lambda: validate configuration and event, reach the EKS cluster, run the engine into S3,
// log one summary line, emit EMF metrics, return the summary (or throw so Lambda counts an Error).

import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { EKSClient } from "@aws-sdk/client-eks";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import pkg from "../../package.json" with { type: "json" };
import { eksConnection } from "../eks/cluster.js";
import { KubeClient } from "../kube/client.js";
import type { ClusterConnection } from "../kube/connection.js";
import { kubeClientOptions } from "../kube/options.js";
import { KubeClusterReader } from "../kube/reader.js";
import { takeSnapshot } from "../snapshot/engine.js";
import type { ChangeEntry, ManifestChanges } from "../snapshot/manifest.js";
import type { Logger as EngineLogger } from "../snapshot/ports.js";
import { createS3Client, S3Store } from "../stores/s3.js";
import { type HandlerConfig, parseHandlerConfig, parseInvocation } from "./config.js";

/** The part of the Lambda context the handler uses. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

export interface SnapshotSummary {
  readonly snapshot: string;
  readonly location: string;
  readonly status: "Completed" | "PartiallyFailed";
  readonly cluster: string;
  readonly trigger: "schedule" | "manual";
  readonly resourceTypes: number;
  readonly files: number;
  readonly items: number;
  readonly bytes: number;
  readonly errors: number;
  readonly durationSeconds: number;
  /** The change digest (manifest `changes`), its per-type list cut to the first few entries. */
  readonly changes: ChangeDigest | null;
}

/** Type-and-namespace entries of the digest in a summary line (the manifest has all of them). */
const SUMMARY_ENTRIES = 20;

export interface ChangeDigest {
  readonly since: string | null;
  readonly compared: boolean;
  readonly reason: string | null;
  readonly added: number;
  readonly removed: number;
  readonly changed: number;
  readonly removedPercent: number | null;
  /** Routine changes (counted apart). */
  readonly routine: { readonly added: number; readonly removed: number; readonly changed: number };
  readonly resources: readonly ChangeEntry[];
  /** Entries left out of `resources`. */
  readonly moreResources: number;
}

function digestOf(changes: ManifestChanges | undefined): ChangeDigest | null {
  if (!changes) return null;
  return {
    since: changes.since,
    compared: changes.compared,
    reason: changes.reason,
    ...changes.totals,
    removedPercent: changes.removedPercent,
    routine: changes.routine.totals,
    resources: changes.resources.slice(0, SUMMARY_ENTRIES),
    moreResources: Math.max(0, changes.resources.length - SUMMARY_ENTRIES),
  };
}

const logger = new Logger({ serviceName: "kube-autosave" });
const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? "KubeAutosave",
  serviceName: "kube-autosave",
});

// Parsed on the first invocation and kept: the environment does not change within a sandbox.
let config: HandlerConfig | undefined;

function engineLogger(): EngineLogger {
  return {
    debug: (m, c) => logger.debug(m, c ?? {}),
    info: (m, c) => logger.info(m, c ?? {}),
    warn: (m, c) => logger.warn(m, c ?? {}),
    error: (m, c) => logger.error(m, c ?? {}),
  };
}

/** Connects to the cluster: DescribeCluster + STS token (EKS_ENDPOINT points the EKS client at a local stand-in). */
async function connect(cfg: HandlerConfig, cluster: string): Promise<ClusterConnection> {
  const eks = new EKSClient({
    region: cfg.region,
    ...(cfg.eksEndpoint ? { endpoint: cfg.eksEndpoint } : {}),
  });
  const credentials = defaultProvider();
  try {
    return await eksConnection({
      clusterName: cluster,
      region: cfg.region,
      eks,
      credentials: () => credentials(),
      clock: { now: () => new Date() },
    });
  } finally {
    eks.destroy();
  }
}

/** Lambda entry point for the EventBridge schedule and manual invokes. */
export async function handler(event: unknown, context: InvocationContext): Promise<SnapshotSummary> {
  const started = Date.now();
  // Failures before the event names a cluster are counted under the configured default (or "unknown").
  let cluster: string | undefined;
  // Stop before Lambda kills us: an aborted run writes no manifest and says so in the log.
  const deadline = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const closers: (() => void)[] = [];
  try {
    config ??= parseHandlerConfig(process.env);
    const cfg = config;
    const request = parseInvocation(event, cfg);
    cluster = request.cluster;
    logger.appendKeys({ cluster, trigger: request.trigger });
    timer = setTimeout(
      () => deadline.abort(new Error(`Lambda deadline in ${cfg.deadlineMarginMs} ms`)),
      Math.max(0, context.getRemainingTimeInMillis() - cfg.deadlineMarginMs),
    );

    const conn = await connect(cfg, cluster);
    // The deadline also cancels requests in flight: a stalled list must not outlive the Lambda.
    const kube = new KubeClient(conn, {
      ...kubeClientOptions(cfg.concurrency, engineLogger()),
      signal: deadline.signal,
    });
    closers.push(() => kube.close());
    const s3 = createS3Client({
      region: cfg.region,
      ...(cfg.s3Endpoint ? { endpoint: cfg.s3Endpoint, forcePathStyle: true } : {}),
    });
    closers.push(() => s3.destroy());
    const store = new S3Store({
      client: s3,
      bucket: cfg.bucket,
      prefix: request.prefix,
      ...(cfg.sse ? { sse: cfg.sse } : {}),
      ...(cfg.objectLock ? { objectLock: cfg.objectLock } : {}),
      signal: deadline.signal,
    });
    const result = await takeSnapshot(
      {
        cluster: new KubeClusterReader(kube),
        store,
        clock: { now: () => new Date() },
        logger: engineLogger(),
      },
      {
        clusterName: cluster,
        filters: request.filters,
        pageSize: cfg.pageSize,
        concurrency: cfg.concurrency,
        raw: request.raw,
        toolVersion: pkg.version,
        signal: deadline.signal,
      },
    );
    const m = result.manifest;
    const summary: SnapshotSummary = {
      snapshot: result.snapshot,
      location: store.describe(result.snapshot),
      status: m.status,
      cluster,
      trigger: request.trigger,
      ...m.totals,
      errors: m.errors.length,
      durationSeconds: Math.round((Date.now() - started) / 100) / 10,
      changes: digestOf(m.changes),
    };
    metrics.addDimension("Cluster", cluster);
    metrics.addMetric("SnapshotCompleted", MetricUnit.Count, 1);
    metrics.addMetric("SnapshotErrors", MetricUnit.Count, m.errors.length);
    metrics.addMetric("Items", MetricUnit.Count, m.totals.items);
    metrics.addMetric("Bytes", MetricUnit.Bytes, m.totals.bytes);
    metrics.addMetric("DurationSeconds", MetricUnit.Seconds, summary.durationSeconds);
    // Only with a comparison: a first snapshot has no changes, and a 0 would look like a quiet day.
    if (m.changes?.compared) {
      metrics.addMetric("ObjectsAdded", MetricUnit.Count, m.changes.totals.added);
      metrics.addMetric("ObjectsRemoved", MetricUnit.Count, m.changes.totals.removed);
      metrics.addMetric("ObjectsChanged", MetricUnit.Count, m.changes.totals.changed);
      metrics.addMetric("ObjectsRemovedPercent", MetricUnit.Percent, m.changes.removedPercent ?? 0);
    }
    logger.info("snapshot summary", { ...summary, apiRequests: kube.requestCount });
    return summary;
  } catch (err) {
    metrics.addDimension(
      "Cluster",
      cluster || config?.clusters[0] || process.env.CLUSTER_NAME?.split(",")[0]?.trim() || "unknown",
    );
    metrics.addMetric("SnapshotCompleted", MetricUnit.Count, 0);
    metrics.addMetric("SnapshotErrors", MetricUnit.Count, 1);
    metrics.addMetric("DurationSeconds", MetricUnit.Seconds, Math.round((Date.now() - started) / 100) / 10);
    // `message` is Powertools' own key (it would drop ours), hence errorMessage.
    logger.error("snapshot failed", { error: (err as Error).name, errorMessage: (err as Error).message });
    throw err;
  } finally {
    clearTimeout(timer);
    for (const close of closers) close();
    metrics.publishStoredMetrics();
    logger.resetKeys();
  }
}
