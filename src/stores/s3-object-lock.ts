// S3 Object Lock: which objects a locking store writes with a retention (those inside a snapshot folder)
// and until when, and reading an object's retention back (verify reports it).

import { GetObjectRetentionCommand } from "@aws-sdk/client-s3";
import { snapshotOfKey } from "../snapshot/layout.js";
import type { ObjectLockRetention, ObjectLockState } from "../snapshot/ports.js";
import type { S3ObjectRef } from "./s3-client.js";
import { describeError, isMissingLockConfiguration, isNoSuchKey, toStoreError } from "./s3-errors.js";

/** The Object Lock headers of a write. */
export interface LockParams {
  readonly ObjectLockMode?: ObjectLockRetention["mode"];
  readonly ObjectLockRetainUntilDate?: Date;
}

/** Throws RangeError when the store's retention is not a whole number of days, at least 1. */
export function checkObjectLock(lock: ObjectLockRetention | undefined): void {
  if (lock && !(Number.isInteger(lock.days) && lock.days >= 1)) {
    throw new RangeError("S3Store: objectLock.days must be a whole number of at least 1");
  }
}

/** What locks an object: S3 Object Lock headers for keys inside a snapshot folder, when the store locks. */
export function lockParamsFor(lock: ObjectLockRetention | undefined, key: string, now: Date): LockParams {
  if (!lock || snapshotOfKey(key) === undefined) return {};
  // Whole seconds, rounded up: S3 keeps retain-until dates to the second, never earlier than asked.
  const until = Math.ceil((now.getTime() + lock.days * 86_400_000) / 1000) * 1000;
  return { ObjectLockMode: lock.mode, ObjectLockRetainUntilDate: new Date(until) };
}

/**
 * The object's Object Lock retention (GetObjectRetention, which needs s3:GetObjectRetention): null when
 * it has none or the bucket has no Object Lock, undefined when there is no such key.
 */
export async function readLock(object: S3ObjectRef): Promise<ObjectLockState | null | undefined> {
  const { client, bucket, key, location } = object;
  try {
    const res = await client.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: key }));
    const { Mode: mode, RetainUntilDate: until } = res.Retention ?? {};
    if (!mode || !until) return null;
    return { mode, retainUntil: new Date(until).toISOString() };
  } catch (err) {
    if (describeError(err).name === "NoSuchObjectLockConfiguration" || isMissingLockConfiguration(err))
      return null;
    if (isNoSuchKey(err)) return undefined;
    throw await toStoreError(err, "read the lock of", location, bucket, client);
  }
}
