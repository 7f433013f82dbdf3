// Reading a bucket back: an object's bytes, fetched again when a download is cut off or fails its CRC32
// check (a body that never matches is a CorruptObjectError), and the keys under a prefix, page by page.

import { setTimeout as delay } from "node:timers/promises";
import {
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from "@aws-sdk/client-s3";
import { CorruptObjectError } from "../snapshot/errors.js";
import type { StoredObjectInfo } from "../snapshot/ports.js";
import { S3_CLIENT_DEFAULTS, type S3ObjectRef } from "./s3-client.js";
import { isChecksumMismatch, isNoSuchKey, isUnreadableSuccess, toStoreError } from "./s3-errors.js";

/**
 * The object's bytes, or undefined when there is no such key. The SDK retries a GET until its response
 * starts; a body cut off after that (connection reset mid-download), or one that does not match its
 * CRC32 header (the SDK checks it as the body streams in), is fetched again here, up to the client's
 * attempts. A body that never matches is a CorruptObjectError. (On S3 a mismatch is corruption in
 * transit; versitygw also stores one when two PUTs of a key overlap, e.g. latest.json written by two
 * runs at once.)
 */
export async function readObject(object: S3ObjectRef): Promise<Buffer | undefined> {
  const { client, bucket, key, location } = object;
  for (let attempt = 1; ; attempt++) {
    let body: { transformToByteArray(): Promise<Uint8Array> } | undefined;
    try {
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      body = res.Body;
    } catch (err) {
      if (isNoSuchKey(err)) return undefined;
      throw await toStoreError(err, "read", location, bucket, client);
    }
    if (!body) return Buffer.alloc(0);
    try {
      const bytes = await body.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (err) {
      if (attempt >= S3_CLIENT_DEFAULTS.maxAttempts) {
        if (isChecksumMismatch(err))
          throw new CorruptObjectError(
            `cannot read ${location}: its content does not match its CRC32 checksum (${attempt} reads)`,
            { cause: err },
          );
        throw await toStoreError(err, "read", location, bucket, client);
      }
      await rereadDelay(attempt);
    }
  }
}

/**
 * The objects under `<storePrefix>/<prefix>/` (not its sibling `<prefix>x/`), in S3's key order, with
 * keys relative to `storePrefix`. Folder markers (keys ending in "/") are not snapshot files.
 */
export async function* listObjects(
  client: S3Client,
  bucket: string,
  storePrefix: string,
  prefix: string,
): AsyncGenerator<StoredObjectInfo> {
  const sub = prefix.replace(/^\/+|\/+$/g, "");
  const dir = [storePrefix, sub].filter((part) => part !== "").join("/");
  // A trailing slash, so "a/b" lists "a/b/…" but not the sibling "a/bc/…" (as a directory would).
  const listPrefix = dir === "" ? undefined : `${dir}/`;
  const strip = storePrefix === "" ? 0 : storePrefix.length + 1;
  let token: string | undefined;
  do {
    let page: ListObjectsV2CommandOutput | undefined;
    for (let attempt = 1; !page; attempt++) {
      try {
        page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: listPrefix, ContinuationToken: token }),
        );
      } catch (err) {
        // A 2xx whose XML does not parse (cut off on the way): the SDK does not retry it; a page can be read again.
        if (isUnreadableSuccess(err) && attempt < S3_CLIENT_DEFAULTS.maxAttempts) {
          await rereadDelay(attempt);
          continue;
        }
        const location = `s3://${bucket}/${listPrefix ?? ""}`;
        throw await toStoreError(err, "list", location, bucket, client);
      }
    }
    for (const object of page.Contents ?? []) {
      // Keys ending in "/" are the S3 console's empty "folder" markers, not snapshot files.
      if (!object.Key || object.Key.endsWith("/")) continue;
      yield { key: object.Key.slice(strip), size: object.Size ?? 0 };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** Full jitter before reading again what the SDK does not retry itself: up to 200 ms, 400 ms, 800 ms… */
function rereadDelay(attempt: number): Promise<void> {
  return delay(Math.round(Math.random() * 100 * 2 ** attempt));
}
