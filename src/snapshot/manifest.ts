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
