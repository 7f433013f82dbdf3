// The manifest: the completion marker of a snapshot and the record of what it holds.
import type { Skipped } from "./discovery.js";
import type { ObjectLockRetention } from "./ports.js";

export const MANIFEST_API_VERSION = "kube-autosave/v1";

export type SnapshotStatus = "Completed" | "PartiallyFailed";

export interface ManifestResource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** Objects stored (after cleaning; service-account-token Secrets are not stored). */
  readonly items: number;
  /** Objects the API returned but that were not stored (filtered namespace or a cleaning rule). */
  readonly notStored: number;
}

export interface ManifestFile {
  /** Relative to the snapshot folder, e.g. `default/deployments.apps.json`. */
  readonly key: string;
  readonly resource: string;
  readonly namespace: string | null;
  readonly items: number;
  readonly bytes: number;
  readonly sha256: string;
}

export interface ManifestError {
  readonly resource: string;
  readonly namespace: string | null;
  readonly status: number | null;
  readonly message: string;
}

export interface SnapshotManifest {
  readonly apiVersion: typeof MANIFEST_API_VERSION;
  readonly kind: "SnapshotManifest";
  readonly snapshot: string;
  readonly cluster: { readonly name: string; readonly serverVersion: string };
  readonly status: SnapshotStatus;
  readonly startedAt: string;
  readonly completedAt: string;
  readonly tool: { readonly name: "kube-autosave"; readonly version: string };
  readonly options: {
    readonly includeResources: readonly string[];
    readonly excludeResources: readonly string[];
    readonly includeNamespaces: readonly string[];
    readonly excludeNamespaces: readonly string[];
    readonly pageSize: number;
    readonly raw: boolean;
    /**
     * The S3 Object Lock retention every object of the snapshot was written with; null when none (absent
     * in manifests written before locks existed).
     */
    readonly objectLock?: ObjectLockRetention | null;
  };
  readonly totals: {
    readonly resourceTypes: number;
    readonly files: number;
    readonly items: number;
    readonly bytes: number;
  };
  /** What changed since the previous snapshot (absent in manifests written before the digest existed). */
  readonly changes?: ManifestChanges;
  readonly resources: readonly ManifestResource[];
  readonly files: readonly ManifestFile[];
  readonly skipped: readonly Skipped[];
  readonly errors: readonly ManifestError[];
}

/** The object at `<prefix>/latest.json`. */
export interface LatestPointer {
  readonly apiVersion: typeof MANIFEST_API_VERSION;
  readonly kind: "LatestSnapshot";
  readonly snapshot: string;
  readonly manifest: string;
  readonly status: SnapshotStatus;
  readonly completedAt: string;
}

/** Objects added, removed and changed between two snapshots. */
export interface ChangeCounts {
  readonly added: number;
  readonly removed: number;
  readonly changed: number;
}

/** Changes within one resource type and namespace: full counts, and the names (capped per list). */
export interface ChangeEntry extends ChangeCounts {
  /** `resource.group` notation. */
  readonly resource: string;
  readonly namespace: string | null;
  readonly names: {
    readonly added: readonly string[];
    readonly removed: readonly string[];
    readonly changed: readonly string[];
  };
}

/** Changes of objects that change by nature (src/snapshot/routine.ts), counted apart, per rule. */
export interface RoutineChanges extends ChangeCounts {
  readonly rule: string;
  readonly reason: string;
}

/** The change digest: this snapshot against the one latest.json named when the run started. */
export interface ManifestChanges {
  /** The snapshot compared with; null when there was none (a first snapshot) or it could not be named. */
  readonly since: string | null;
  /** False when nothing was compared; `reason` says why. */
  readonly compared: boolean;
  readonly reason: string | null;
  /** Objects people changed: every change except the routine ones. */
  readonly totals: ChangeCounts;
  /**
   * Objects no routine rule covers, in this snapshot (`now`) and in the one compared with (`before`, the
   * base of `removedPercent`; that snapshot's `totals.items` when its manifest predates this count).
   */
  readonly objects: { readonly now: number; readonly before: number | null };
  /** totals.removed as a percentage of objects.before (one decimal); null without a comparison. */
  readonly removedPercent: number | null;
  readonly routine: { readonly totals: ChangeCounts; readonly rules: readonly RoutineChanges[] };
  /** Per resource type and namespace, ordered by resource then namespace; routine objects not included. */
  readonly resources: readonly ChangeEntry[];
  /** Types listed in only one of the two snapshots: their objects were not compared. */
  readonly notCompared: readonly { readonly resource: string; readonly reason: string }[];
}
