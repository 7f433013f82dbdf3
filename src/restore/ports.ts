// What the restore engine needs from a cluster: small enough to read in one go. The adapter over the
// Kubernetes REST API is src/kube/writer.ts; the snapshot side is the snapshot engine's SnapshotStore.
import type { ApiResource, KubeObject } from "../snapshot/ports.js";

/** Where one object lives in the REST API (resolved from the object's apiVersion and its file's resource). */
export interface ObjectRef {
  /** "v1", "apps/v1", "example.com/v1". */
  readonly apiVersion: string;
  /** Plural resource name ("deployments"). */
  readonly resource: string;
  /** Undefined for cluster-scoped objects. */
  readonly namespace?: string | undefined;
  readonly name: string;
}

/** The API server's answer to a write: the object as stored, or its Status (404, 409, 422…). */
export type WriteResult =
  | { readonly ok: true; readonly status: number; readonly object: KubeObject }
  | {
      readonly ok: false;
      readonly status: number;
      /** Status.reason: "AlreadyExists", "Invalid", "NotFound", "Forbidden"… (empty when none). */
      readonly reason: string;
      /** Status.message as the API server wrote it. */
      readonly message: string;
    };

export interface WriteOptions {
  /** Ask the API server to validate and admit the write without persisting it (`dryRun=All`). */
  readonly dryRun: boolean;
  /** The field manager recorded for the write. */
  readonly fieldManager: string;
}

/** A CRD that did not become usable in time, and why. */
export interface NotEstablished {
  readonly name: string;
  readonly message: string;
}

/**
 * Write access to the target cluster. Implementations retry transient failures themselves; a cluster
 * that cannot be reached at all throws ClusterUnreachableError, which ends the restore.
 */
export interface ClusterWriter {
  /** The resources served under `apiVersion`, or undefined when the server does not serve that group/version. */
  resources(apiVersion: string): Promise<readonly ApiResource[] | undefined>;
  /** The live object, or undefined when it does not exist (404); other statuses throw ApiError. */
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  /** Creates the object (POST to its collection). */
  create(ref: ObjectRef, object: KubeObject, options: WriteOptions): Promise<WriteResult>;
  /** Server-side apply of the object, taking over conflicting fields (force). */
  apply(ref: ObjectRef, object: KubeObject, options: WriteOptions): Promise<WriteResult>;
  /**
   * Resolves once each named CRD is Established and its resources are served by discovery; names that
   * are not within `timeoutMs` are returned with the reason the API server gives.
   */
  waitEstablished(crdNames: readonly string[], timeoutMs: number): Promise<NotEstablished[]>;
}
