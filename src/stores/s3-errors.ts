// What an S3 SDK failure means: the predicates the store decides by (not found, checksum mismatch, an
// unreadable 2xx, a bucket without Object Lock), and the one translation of any failure into a
// StoreError whose message names the bucket/key and the cause in words (never credentials).

import type { S3Client } from "@aws-sdk/client-s3";
import { StoreError } from "../snapshot/errors.js";

/** Connection-level failures: the endpoint was not reached or the connection broke. */
const NETWORK_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "ECONNABORTED",
]);
const CREDENTIAL_ERRORS = new Set([
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "InvalidToken",
  "TokenRefreshRequired",
]);

/** The SDK error's name, HTTP status and network code, whatever shape the error has. */
export function describeError(err: unknown): {
  name: string;
  status: number | undefined;
  code: string | undefined;
} {
  const e = err as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  return {
    name: typeof e?.name === "string" ? e.name : "",
    status: typeof e?.$metadata?.httpStatusCode === "number" ? e.$metadata.httpStatusCode : undefined,
    code: typeof e?.code === "string" ? e.code : undefined,
  };
}

/** The key does not exist (a missing bucket, also a 404, is not this). */
export function isNoSuchKey(err: unknown): boolean {
  const { name, status } = describeError(err);
  return name === "NoSuchKey" || name === "NotFound" || (status === 404 && name !== "NoSuchBucket");
}

/** The SDK's response checksum validation failed (the body does not match its x-amz-checksum-* header). */
export function isChecksumMismatch(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith("Checksum mismatch");
}

/** S3's answer to a lock request (a write with retention, GetObjectRetention) on a bucket without Object Lock. */
export function isMissingLockConfiguration(err: unknown): boolean {
  const { name } = describeError(err);
  const message = err instanceof Error ? err.message : "";
  return name === "InvalidRequest" && /object ?lock ?configuration/i.test(message);
}

/** The server said 2xx but the SDK could not read the answer (a body cut short, or not S3's XML). */
export function isUnreadableSuccess(err: unknown): boolean {
  const { status } = describeError(err);
  return status !== undefined && status >= 200 && status < 300;
}

/** An SDK failure as a StoreError naming the bucket/key and the cause in words (never credentials). */
export async function toStoreError(
  err: unknown,
  verb: string,
  location: string,
  bucket: string,
  client: S3Client,
): Promise<StoreError> {
  if (err instanceof StoreError) return err;
  const { name, status, code } = describeError(err);
  const detail = err instanceof Error ? err.message : String(err);
  let message: string;
  if (name === "NoSuchBucket") {
    message = `cannot ${verb} ${location}: bucket "${bucket}" does not exist`;
  } else if (isMissingLockConfiguration(err)) {
    message = `cannot ${verb} ${location}: bucket "${bucket}" does not have S3 Object Lock enabled (objects with a retention need it)`;
  } else if (name === "AccessDenied" || name === "AllAccessDisabled" || name === "Forbidden") {
    message = `access denied to ${location} (cannot ${verb})`;
  } else if (CREDENTIAL_ERRORS.has(name)) {
    message = `cannot ${verb} ${location}: S3 rejected the credentials (${name})`;
  } else if (name === "CredentialsProviderError") {
    message = `cannot ${verb} ${location}: no usable AWS credentials were found`;
  } else if ((code && NETWORK_ERROR_CODES.has(code)) || name === "TimeoutError") {
    message = `cannot reach S3 endpoint ${await endpointOf(client)} (${code ?? name}) to ${verb} ${location}`;
  } else if (status === 403) {
    message = `access denied to ${location} (cannot ${verb}: ${name})`;
  } else if (isUnreadableSuccess(err)) {
    // The SDK adds a line about its hidden $response field: not for users.
    const why = detail.split("\n")[0]?.trim();
    message = `cannot ${verb} ${location}: S3 answered HTTP ${status} with a response that could not be read (${why})`;
  } else {
    message = `cannot ${verb} ${location}: ${name || "error"}${status ? ` (HTTP ${status})` : ""}: ${detail}`;
  }
  return new StoreError(message, { cause: err });
}

/** The endpoint for messages: the configured one (host only, no user info), or AWS's for the region. */
async function endpointOf(client: S3Client): Promise<string> {
  try {
    const endpoint = await client.config.endpoint?.();
    if (endpoint)
      return `${endpoint.protocol}//${endpoint.hostname}${endpoint.port ? `:${endpoint.port}` : ""}`;
    return `of region ${await client.config.region()}`;
  } catch {
    return "(unknown)";
  }
}
