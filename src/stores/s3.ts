// The S3 SnapshotStore: a key is the object `<prefix>/<key>` of one bucket. This file maps keys to
// objects and says what every write carries (a checksum the server verifies, the configured server-side
// encryption, application/json where it is JSON so the S3 console opens it, and the Object Lock
// retention); each operation's work is in its own module:
//   s3-client.ts       the tool's S3 clients (retries, timeouts)
//   s3-writer.ts       streamed writes: 5 MiB parts, two in flight
//   s3-claim.ts        the exclusive create that claims a snapshot name
//   s3-read.ts         reads (re-read on a cut-off or CRC32 mismatch) and listing
//   s3-object-lock.ts  which objects are locked and until when; reading a lock back
//   s3-errors.ts       SDK errors become StoreErrors there, at the adapter

import { DeleteObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { StoreError } from "../snapshot/errors.js";
import type {
  ObjectLockRetention,
  ObjectLockState,
  ObjectWriter,
  SnapshotStore,
  StoredObjectInfo,
} from "../snapshot/ports.js";
import { createExclusive } from "./s3-claim.js";
import type { S3ObjectRef } from "./s3-client.js";
import { describeError, toStoreError } from "./s3-errors.js";
import { checkObjectLock, lockParamsFor, readLock } from "./s3-object-lock.js";
import { listObjects, readObject } from "./s3-read.js";
import {
  CHECKSUM_ALGORITHM,
  type PartBudget,
  partBudget,
  S3ObjectWriter,
  type WriteOptions,
  type WriteParams,
} from "./s3-writer.js";

export { createS3Client, S3_CLIENT_DEFAULTS } from "./s3-client.js";

/** Server-side encryption of written objects: SSE-S3, or SSE-KMS (the bucket's default key without an id). */
export type S3Encryption =
  | { readonly mode: "AES256" }
  | { readonly mode: "aws:kms"; readonly kmsKeyId?: string };

export interface S3StoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Key prefix of the store ("" for the bucket's root); leading and trailing slashes are ignored. */
  readonly prefix: string;
  readonly sse?: S3Encryption;
  /**
   * S3 Object Lock: every object written inside a snapshot folder (`<snapshot>/…`, the manifest included)
   * carries this mode and a retain-until date `days` after its write. latest.json and the run claims are
   * left to the bucket's default retention, if any (they are replaced or raced for, see the README).
   */
  readonly objectLock?: ObjectLockRetention | undefined;
  /** The clock retain-until dates are counted from (tests); default the system clock. */
  readonly now?: () => Date;
  /** Size of each multipart part, and the largest object sent as one PutObject. Default 5 MiB (S3's minimum). */
  readonly partSizeBytes?: number;
  /** Parts uploaded concurrently per write; memory per write is about partSize × (queueSize + 1). Default 2. */
  readonly queueSize?: number;
  /**
   * Aborting cancels the streamed writes in flight (a Lambda deadline must not wait for a stalled upload);
   * the cleanup that follows (AbortMultipartUpload) is still sent, so no upload is left behind. Small
   * objects (put, createExclusive: the claim, the manifest, latest.json) are not cancelled.
   */
  readonly signal?: AbortSignal | undefined;
}

/** A bucket (under a prefix) as a snapshot store. */
export class S3Store implements SnapshotStore {
  readonly objectLock: ObjectLockRetention | undefined;
  private readonly now: () => Date;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly sse: S3Encryption | undefined;
  private readonly parts: PartBudget;
  /** Options of every request of a streamed write: the abort signal, when there is one. */
  private readonly writeOptions: WriteOptions;

  constructor(options: S3StoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = options.prefix.replace(/^\/+|\/+$/g, "");
    this.sse = options.sse;
    this.objectLock = options.objectLock;
    this.now = options.now ?? (() => new Date());
    checkObjectLock(this.objectLock);
    this.parts = partBudget(options.partSizeBytes, options.queueSize);
    this.writeOptions = options.signal ? { abortSignal: options.signal } : {};
  }

  describe(key: string): string {
    return `s3://${this.bucket}/${this.objectKey(key)}`;
  }

  openWrite(key: string): ObjectWriter {
    return new S3ObjectWriter({
      ...this.object(key),
      ...this.parts,
      writeParams: this.writeParams(key),
      writeOptions: this.writeOptions,
    });
  }

  async put(key: string, body: Buffer): Promise<void> {
    const object = this.object(key);
    try {
      await this.client.send(new PutObjectCommand({ ...this.writeParams(key), Body: body }));
    } catch (err) {
      throw await toStoreError(err, "write", object.location, this.bucket, this.client);
    }
  }

  /** See s3-claim.ts: a conditional PUT, then a read-back, since some servers do not decide races atomically. */
  async createExclusive(key: string, body: Buffer): Promise<boolean> {
    return createExclusive(this.object(key), this.writeParams(key), body);
  }

  /** The object's bytes, undefined when there is none; a body that never matches its CRC32 is a CorruptObjectError. */
  async get(key: string): Promise<Buffer | undefined> {
    return readObject(this.object(key));
  }

  list(prefix: string): AsyncIterable<StoredObjectInfo> {
    return listObjects(this.client, this.bucket, this.prefix, prefix);
  }

  async delete(key: string): Promise<void> {
    const object = this.object(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: object.key }));
    } catch (err) {
      if (describeError(err).name === "NoSuchKey") return;
      throw await toStoreError(err, "delete", object.location, this.bucket, this.client);
    }
  }

  /** The object's Object Lock retention: null when it has none, undefined when there is no such key. */
  async lockOf(key: string): Promise<ObjectLockState | null | undefined> {
    return readLock(this.object(key));
  }

  /** Nothing to do: an S3 object is durable once its PUT or CompleteMultipartUpload succeeded. */
  async sync(): Promise<void> {}

  /** The object a key names, after checking the key. */
  private object(key: string): S3ObjectRef {
    checkKey(key);
    return {
      client: this.client,
      bucket: this.bucket,
      key: this.objectKey(key),
      location: this.describe(key),
    };
  }

  private objectKey(key: string): string {
    return this.prefix === "" ? key : `${this.prefix}/${key}`;
  }

  /** What every PutObject and CreateMultipartUpload of `key` carries. */
  private writeParams(key: string): WriteParams {
    return {
      Bucket: this.bucket,
      Key: this.objectKey(key),
      ChecksumAlgorithm: CHECKSUM_ALGORITHM,
      ...(key.endsWith(".json") ? { ContentType: "application/json" } : {}),
      ...lockParamsFor(this.objectLock, key, this.now()),
      ...(this.sse?.mode === "AES256" ? { ServerSideEncryption: "AES256" } : {}),
      ...(this.sse?.mode === "aws:kms"
        ? {
            ServerSideEncryption: "aws:kms",
            ...(this.sse.kmsKeyId ? { SSEKMSKeyId: this.sse.kmsKeyId } : {}),
          }
        : {}),
    };
  }
}

/** Keys are relative, "/"-separated paths, so they map onto a directory tree the same way in every store. */
function checkKey(key: string): void {
  const segments = key.split("/");
  if (key === "" || segments.includes("") || segments.includes(".") || segments.includes("..")) {
    throw new StoreError(
      `invalid key "${key}": a key must be a relative path without empty, "." or ".." segments`,
    );
  }
}
