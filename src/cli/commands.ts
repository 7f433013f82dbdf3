// What a command line becomes: the data each command runs on, and the limits of its numbers. Parsing
// (parse.ts) produces these; each command module (snapshot.ts, restore.ts…) runs one.
import type { ResourceFilters } from "../snapshot/filters.js";
import type { ObjectLockRetention } from "../snapshot/ports.js";

export type SseSettings =
  | { readonly mode: "AES256" }
  | { readonly mode: "aws:kms"; readonly kmsKeyId?: string };

/** Where snapshots are written or read. */
export type Target =
  | { readonly kind: "dir"; readonly dir: string }
  | {
      readonly kind: "s3";
      readonly bucket: string;
      readonly endpoint?: string | undefined;
      readonly region?: string | undefined;
      readonly sse?: SseSettings | undefined;
      /** S3 Object Lock retention of every object written inside a snapshot (snapshot only). */
      readonly objectLock?: ObjectLockRetention | undefined;
    };

export interface SnapshotCommand {
  readonly name: "snapshot";
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  readonly target: Target;
  readonly prefix?: string | undefined;
  readonly clusterName?: string | undefined;
  readonly filters: ResourceFilters;
  readonly pageSize: number;
  readonly concurrency: number;
  readonly raw: boolean;
  readonly json: boolean;
}

/** A place holding snapshots: a folder, or an S3 bucket + prefix. `prefix` is relative to the target. */
export interface Location {
  readonly target: Target;
  readonly prefix: string;
}

/** One snapshot: its location's store and its name (the last path segment). */
export interface SnapshotRef extends Location {
  readonly snapshot: string;
}

export interface ListCommand {
  readonly name: "list";
  readonly location: Location;
  readonly json: boolean;
}

export interface VerifyCommand {
  readonly name: "verify";
  readonly snapshot: SnapshotRef;
  readonly json: boolean;
}

export interface DiffCommand {
  readonly name: "diff";
  readonly from: SnapshotRef;
  readonly to: SnapshotRef;
  readonly json: boolean;
}

export interface HistoryCommand {
  readonly name: "history";
  readonly location: Location;
  /** `resource.group` notation (core: `configmaps`). */
  readonly resource: string;
  readonly objectName: string;
  /** Undefined: `default` for namespaced types. */
  readonly namespace?: string | undefined;
  readonly json: boolean;
}

export interface RestoreCommand {
  readonly name: "restore";
  readonly snapshot: SnapshotRef;
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  /** Namespace globs; empty = all. */
  readonly namespaces: readonly string[];
  /** Resource globs (`resource` or `resource.group`); empty = all. */
  readonly resources: readonly string[];
  /** Object name globs; empty = all. */
  readonly names: readonly string[];
  /** A label selector (`app=web,tier!=db`), or undefined. */
  readonly selector?: string | undefined;
  /** Snapshot namespace → target namespace (`--namespace-mappings old:new,…`), in the order given. */
  readonly namespaceMappings: readonly (readonly [from: string, to: string])[];
  /** Keep the snapshot's persistentVolumeReclaimPolicy instead of Retain. */
  readonly keepReclaimPolicy: boolean;
  readonly update: boolean;
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly json: boolean;
}

export type Command =
  | { readonly name: "help"; readonly command?: CommandName }
  | { readonly name: "version" }
  | SnapshotCommand
  | ListCommand
  | VerifyCommand
  | DiffCommand
  | RestoreCommand
  | HistoryCommand;

export const DEFAULT_PAGE_SIZE = 500;
export const DEFAULT_CONCURRENCY = 4;
/** kube-apiserver caps nothing, but pages beyond this only cost memory. */
export const MAX_PAGE_SIZE = 10_000;
/** More parallel lists than this only queue up in API priority and fairness. */
export const MAX_CONCURRENCY = 32;

/** The commands that take options (each has its own `--help`). */
export const COMMAND_NAMES = ["snapshot", "list", "verify", "diff", "restore", "history"] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];
