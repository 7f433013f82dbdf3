// What a snapshot run is given and what it gives back: options, the ports it runs on, progress events.
import type { ResourceFilters } from "./filters.js";
import type { SnapshotManifest } from "./manifest.js";
import type { Clock, ClusterReader, Logger, SnapshotStore } from "./ports.js";

export interface SnapshotOptions {
  readonly clusterName: string;
  readonly filters: ResourceFilters;
  /** Items per list request (`limit`). */
  readonly pageSize: number;
  /** Resource types listed at once. */
  readonly concurrency: number;
  /** Store objects exactly as served (no cleaning). */
  readonly raw: boolean;
  readonly toolVersion: string;
  /**
   * Aborting (deadline, signal) stops the run between pages, and adapters given the same signal cancel
   * their requests in flight; the run rejects with SnapshotAbortedError and no manifest is written.
   */
  readonly signal?: AbortSignal | undefined;
}

/** Progress of a run, for terminals: the types to list ("planned", once), then each type's. */
export interface ProgressEvent {
  /** `resource.group` ("" for "planned"). */
  readonly resource: string;
  readonly phase: "planned" | "listing" | "done" | "failed" | "restarted";
  /** Items of the type stored so far ("listing") or in all ("done"). */
  readonly items: number;
  /** Bytes of the type's files ("done"). */
  readonly bytes?: number;
  /** Resource types the run lists ("planned"). */
  readonly types?: number;
}

export interface SnapshotDeps {
  readonly cluster: ClusterReader;
  readonly store: SnapshotStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onProgress?: ((event: ProgressEvent) => void) | undefined;
}

export interface SnapshotResult {
  readonly snapshot: string;
  /** Store key of the manifest. */
  readonly manifestKey: string;
  readonly manifest: SnapshotManifest;
}
