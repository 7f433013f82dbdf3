// The S3 clients the tool makes (CLI and Lambda): their retries and timeouts, and how one object is
// addressed by the store's modules (the client that reaches it, its bucket and key, its name in messages).

import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";

/**
 * Retries and timeouts of every S3 client the tool makes (CLI and Lambda).
 * - 5 attempts in standard mode (the SDK's default is 3): 5xx, SlowDown/429 and connection errors are
 *   retried with exponential backoff and full jitter (100 ms base, 500 ms for throttling, capped at 20 s),
 *   so a part or a put rides out a few seconds of S3 throttling or a dropped connection. Standard mode's
 *   retry budget stops retries when most requests fail (S3 down), so a broken store fails fast.
 * - A socket idle for 30 s is abandoned and the request retried: the SDK has no timeout by default, so
 *   a stalled connection would hang the run until Lambda kills it. 30 s of silence is far beyond any
 *   healthy S3 answer (CompleteMultipartUpload of a large object keeps the connection alive itself).
 * - Connecting may take 5 s.
 */
export const S3_CLIENT_DEFAULTS = {
  maxAttempts: 5,
  retryMode: "standard",
  requestHandler: { connectionTimeout: 5_000, socketTimeout: 30_000 },
} as const satisfies Partial<S3ClientConfig>;

/** An S3 client with the tool's retries and timeouts; `config` adds the region, endpoint, credentials. */
export function createS3Client(config: S3ClientConfig): S3Client {
  return new S3Client({ ...S3_CLIENT_DEFAULTS, ...config });
}

/** One object of a bucket, as the store's modules address it. */
export interface S3ObjectRef {
  readonly client: S3Client;
  readonly bucket: string;
  /** The object's key in the bucket (the store's prefix included). */
  readonly key: string;
  /** `s3://bucket/key`, for messages. */
  readonly location: string;
}
