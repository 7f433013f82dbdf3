// An exclusive create on S3 and on S3-compatible servers whose conditional PUT is not atomic: how a run
// claims a snapshot name that no other run may get.

import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import type { S3ObjectRef } from "./s3-client.js";
import { describeError, toStoreError } from "./s3-errors.js";
import type { WriteParams } from "./s3-writer.js";

/** User metadata naming the writer of an exclusive create, read back to tell who owns the key. */
const CLAIM_METADATA = "kube-autosave-claim";
/**
 * How long an exclusive create waits before reading its object back (at least; longer if its PUT was
 * slower): time for a racing PUT of the same key, which overlapped ours, to land too.
 */
const CLAIM_SETTLE_MS = 200;

/**
 * A conditional PUT (If-None-Match: *), then a read-back; true when the key is now ours. AWS S3 decides
 * racing conditional PUTs atomically, but some S3-compatible servers check and write separately
 * (versitygw v1.7 does): two runs claiming one name in the same second could both succeed, and then
 * write one snapshot folder. So each create carries a unique id as metadata, and once a racing PUT
 * would have landed, only the writer whose id is stored owns the key.
 */
export async function createExclusive(
  object: S3ObjectRef,
  params: WriteParams,
  body: Buffer,
): Promise<boolean> {
  const { client, bucket, key, location } = object;
  const id = randomUUID();
  // Monotonic: a wall-clock step (NTP) while the PUT is in flight must not shorten the wait.
  const started = performance.now();
  try {
    await client.send(
      new PutObjectCommand({ ...params, Body: body, IfNoneMatch: "*", Metadata: { [CLAIM_METADATA]: id } }),
    );
  } catch (err) {
    // 412: the key exists. 409: another conditional write of the same key is in progress, so someone
    // else is claiming this name right now; either way the name is not ours.
    const { name, status } = describeError(err);
    if (name === "PreconditionFailed" || status === 412 || name === "ConditionalRequestConflict")
      return false;
    throw await toStoreError(err, "create", location, bucket, client);
  }
  await delay(Math.max(CLAIM_SETTLE_MS, performance.now() - started));
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return head.Metadata?.[CLAIM_METADATA] === id;
  } catch (err) {
    const { name, status } = describeError(err);
    if (name === "NotFound" || name === "NoSuchKey" || status === 404) return false;
    throw await toStoreError(err, "read", location, bucket, client);
  }
}
