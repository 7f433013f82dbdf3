// The engine's error classes. Messages name the resource, namespace or key and why, never a
// token or an object body.

/** A list's continue token expired (HTTP 410 Expired): the list must restart from the beginning. */
export class ListExpiredError extends Error {
  override readonly name = "ListExpiredError";
}

/**
 * A list response broke off after some of its items were handed on (or its continue token was used):
 * retrying that one request could store objects twice or from two points in time, so the type's list
 * restarts from the beginning, as for an expired continue token.
 */
export class ListInterruptedError extends Error {
  override readonly name = "ListInterruptedError";
}

/** A request stopped because its run was stopped (deadline, Ctrl-C): never retried, never a per-object failure. */
export class RequestAbortedError extends Error {
  override readonly name = "RequestAbortedError";
}

/** The API server answered with an error status after retries (or a non-retryable one). */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    message: string,
    readonly status: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The cluster could not be reached at all (DNS, TLS, connection refused, 401). Fatal for a run. */
export class ClusterUnreachableError extends Error {
  override readonly name = "ClusterUnreachableError";
}

/** The store refused or failed a write or read. Fatal for a run. */
export class StoreError extends Error {
  override readonly name: string = "StoreError";
}

/** An object whose bytes do not match the checksum the store holds for it, on every read. */
export class CorruptObjectError extends StoreError {
  override readonly name = "CorruptObjectError";
}

/** The run was stopped before it finished (deadline or signal); no manifest was written. */
export class SnapshotAbortedError extends Error {
  override readonly name = "SnapshotAbortedError";
}

/**
 * Throws SnapshotAbortedError when the run's signal is aborted (deadline, Ctrl-C); `cause` is what the
 * adapters threw when they cancelled on the same signal.
 */
export function throwIfAborted(signal: AbortSignal | undefined, cause?: unknown): void {
  if (signal?.aborted) {
    const reason =
      signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? "aborted");
    throw new SnapshotAbortedError(
      `snapshot stopped before it finished (${reason}); no manifest was written`,
      cause === undefined ? undefined : { cause },
    );
  }
}
