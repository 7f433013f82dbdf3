// What a failed request to kube-apiserver means: worth another attempt (RetryableError), or a typed
// error for the caller (ApiError: this request failed, the run goes on; ClusterUnreachableError: fatal;
// ListExpiredError: restart the list; RequestAbortedError). Messages name the request and the server,
// never a token, a header or a body beyond the server's own Status message.

import {
  ApiError,
  ClusterUnreachableError,
  ListExpiredError,
  RequestAbortedError,
} from "../snapshot/errors.js";
import type { ClusterConnection } from "./connection.js";
import { parseRetryAfter, RETRYABLE_ERROR_CODES, RETRYABLE_STATUSES } from "./retry.js";

/** HTTP methods of `KubeClient.request()`. */
export type RequestMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** One response read whole: any status, its headers and its body's bytes. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** TLS failures: the server is not who it claims to be (or we lack its CA). Never retried, never skipped. */
const TLS_ERROR_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "CERT_SIGNATURE_FAILURE",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "EPROTO",
]);

/** A failure worth another attempt; after the last one it becomes an ApiError or ClusterUnreachableError. */
export class RetryableError extends Error {
  constructor(
    message: string,
    readonly details: {
      readonly retryAfterMs?: number | undefined;
      /** The HTTP status the server answered with (5xx, 429, or 2xx with a body that is not JSON). */
      readonly status?: number;
      /** The network error code, when the connection (not the server) failed. */
      readonly code?: string;
      /** The server had started answering (status line received) when the connection broke. */
      readonly responded?: boolean;
    } = {},
  ) {
    super(message);
  }
}

/** A cut-off response, whatever Node reported first (aborted, ECONNRESET, or an end before the last byte). */
const BROKEN_RESPONSE = "the connection broke before the response was complete";

/** The connection broke after the server had started answering. */
export function brokenResponse(): RetryableError {
  return new RetryableError(BROKEN_RESPONSE, { responded: true });
}

/**
 * Thrown by a getStreamed consumer that has handed nothing on yet: the body was cut off or is not what
 * was expected, so the whole request may be tried again. `bytes` is how much of the body arrived.
 */
export class RetryBodyError extends RetryableError {
  constructor(reason: "broken" | "not-json", status: number, bytes: number) {
    super(
      reason === "broken"
        ? BROKEN_RESPONSE
        : `HTTP ${status} with a body that is not complete JSON (${bytes} bytes)`,
      reason === "broken" ? { responded: true } : { status },
    );
  }
}

/** A failure of the connection while a streamed body was read (the consumer decides what it means). */
export function isBrokenBody(err: unknown): boolean {
  return err instanceof RetryableError && err.message === BROKEN_RESPONSE;
}

/** A status worth another attempt (429, 5xx), with the wait the server asked for in Retry-After. */
export function retryableStatus(message: string, res: RawResponse): RetryableError {
  const retryAfterMs = parseRetryAfter(headerValue(res.headers["retry-after"]), new Date());
  return new RetryableError(message, { retryAfterMs, status: res.status });
}

/** What a GET response that is not 2xx means: 410 Expired, a status worth a retry, 401, or an ApiError. */
export function statusFailure(conn: ClusterConnection, path: string, res: RawResponse): Error {
  const status = res.status;
  const apiStatus = parseStatus(res.body);
  const message = apiStatus?.message ?? (res.body.toString("utf8").slice(0, 200) || "(no body)");
  if (
    status === 410 &&
    (apiStatus?.reason === "Expired" || apiStatus?.reason === "Gone" || !apiStatus?.reason)
  ) {
    return new ListExpiredError(`GET ${displayPath(path)}: the list's continue token expired (410)`);
  }
  if (RETRYABLE_STATUSES.has(status)) return retryableStatus(`HTTP ${status}: ${message}`, res);
  if (status === 401) return unauthorized(conn);
  return new ApiError(`GET ${displayPath(path)}: HTTP ${status}: ${message}`, status);
}

/** 401: the credentials are not (or no longer) accepted; fatal, never retried. */
export function unauthorized(conn: ClusterConnection): ClusterUnreachableError {
  return new ClusterUnreachableError(
    `${conn.server} (${conn.name}) rejected the credentials (401 Unauthorized): the token or client certificate is invalid or expired`,
  );
}

/** A request failed before any response: a TLS failure (fatal), a network error worth a retry, or fatal. */
export function networkFailure(conn: ClusterConnection, err: Error & { code?: string }): Error {
  const code = err.code ?? "";
  if (TLS_ERROR_CODES.has(code) || /certificate|self[- ]signed|ssl/i.test(err.message)) {
    return new ClusterUnreachableError(
      `TLS verification of ${conn.server} (${conn.name}) failed: ${code || err.message}; check the cluster CA`,
      { cause: err },
    );
  }
  if (RETRYABLE_ERROR_CODES.has(code) || /socket hang up/i.test(err.message)) {
    return new RetryableError(`${code || "network error"}: ${err.message}`, { code });
  }
  return new ClusterUnreachableError(`request to ${conn.server} failed: ${code || err.message}`, {
    cause: err,
  });
}

/** A retryable failure that may not be retried (a write that may have reached the server): fatal. */
export function notRetried(
  conn: ClusterConnection,
  method: RequestMethod,
  path: string,
  err: RetryableError,
): ClusterUnreachableError {
  return new ClusterUnreachableError(
    `${method} ${displayPath(path)} to ${conn.server} (${conn.name}) failed: ${err.message}`,
  );
}

/**
 * The error after the last attempt. The server answered (an error status, a body that is not JSON, or a
 * response cut off mid-body): an ApiError, so the engine records that one resource type and goes on.
 * No answer at all (refused, reset before a response, timeout): the cluster is unreachable, fatal.
 */
export function exhausted(
  conn: ClusterConnection,
  method: RequestMethod,
  path: string,
  err: RetryableError,
  attempts: number,
): Error {
  const { status, responded } = err.details;
  if (status !== undefined || responded) {
    // A 2xx with a broken body is not an HTTP error: recording it as "status 200" would mislead.
    const recorded = status !== undefined && status >= 300 ? status : null;
    return new ApiError(
      `${method} ${displayPath(path)} failed after ${attempts} attempts: ${err.message}`,
      recorded,
    );
  }
  return new ClusterUnreachableError(
    `cannot reach ${conn.server} (${conn.name}) after ${attempts} attempts: ${err.message}`,
  );
}

/** The run was cancelled (a deadline, Ctrl-C) while this request was in flight or waiting for a retry. */
export function aborted(
  conn: ClusterConnection,
  path: string,
  signal: AbortSignal | undefined,
): RequestAbortedError {
  const reason = signal?.reason;
  const why = reason instanceof Error ? reason.message : String(reason ?? "aborted");
  return new RequestAbortedError(`request ${displayPath(path)} to ${conn.server} aborted: ${why}`);
}

/** A path for messages: continue tokens are long, opaque and name the next object, so they are elided. */
function displayPath(path: string): string {
  return path.replace(/([?&]continue=)[^&]*/, "$1…");
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function parseStatus(body: Buffer): { message?: string; reason?: string } | undefined {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { kind?: string; message?: string; reason?: string };
    return parsed && typeof parsed === "object" ? parsed : undefined;
  } catch {
    return undefined;
  }
}
