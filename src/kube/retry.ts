// When a request to the API server is tried again, and how long to wait before it.

/** Retry policy: capped exponential backoff with full jitter. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Upper bound for a server's Retry-After, so a confused server cannot park a run for hours. */
  readonly maxRetryAfterMs: number;
}

/** 6 attempts over at most ~10 s of backoff: rides out an API server restart or a burst of 429s. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 250,
  maxDelayMs: 5_000,
  maxRetryAfterMs: 30_000,
};

/** HTTP statuses worth retrying: throttling and server-side trouble. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

/** Network error codes worth retrying (the connection, not the request, failed). */
export const RETRYABLE_ERROR_CODES: ReadonlySet<string> = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "ECONNABORTED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
]);

/** Parses Retry-After (delta-seconds or an HTTP date) into milliseconds; undefined when absent or bad. */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

/** The delay before retry number `attempt` (1 = first retry); honours Retry-After when given. */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs: number | undefined,
  random: () => number,
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxRetryAfterMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(random() * ceiling);
}

/**
 * Network errors raised before a byte of the request reached the server (no connection was made), so
 * even a non-idempotent request can be sent again without risk of doing it twice.
 */
export const NOT_SENT_ERROR_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** Patch bodies that give the same result when sent twice (a JSON Patch `add` to a list does not). */
const IDEMPOTENT_PATCH_TYPES: ReadonlySet<string> = new Set([
  "application/apply-patch+yaml",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
]);

/** Requests that do the same when sent twice (GET, PUT, DELETE, apply/merge PATCH), so 5xx and resets are retried. */
export function isIdempotent(method: string, contentType: string): boolean {
  return (
    method === "GET" ||
    method === "PUT" ||
    method === "DELETE" ||
    (method === "PATCH" && IDEMPOTENT_PATCH_TYPES.has(contentType))
  );
}
