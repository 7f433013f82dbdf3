// The S3 SnapshotStore: a key is the object `<prefix>/<key>` of one bucket. Every object carries a
// checksum the server verifies, the configured server-side encryption, and application/json where it
// is JSON (so the S3 console opens it). SDK errors become StoreErrors here, at the adapter.

import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { CorruptObjectError, StoreError } from "../snapshot/errors.js";
import { snapshotOfKey } from "../snapshot/layout.js";
import type {
  ObjectLockRetention,
  ObjectLockState,
  ObjectWriter,
  SnapshotStore,
  StoredObjectInfo,
} from "../snapshot/ports.js";

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

const MiB = 1024 * 1024;
/**
 * The smallest part S3 takes, two in flight per write: 15 MiB per file being written. Measured on the
 * heavy benchmark cluster (315 MiB of 0.5-0.9 MB Secrets and 400 KB CRDs), peak RSS 210 MB with 8 MiB × 4,
 * 185-195 MB with 5 MiB × 2 at the same speed; one part in flight was 30-70 % slower.
 */
const DEFAULT_PART_SIZE = 5 * MiB;
/** S3 rejects parts below 5 MiB (except the last one). */
const MIN_PART_SIZE = 5 * MiB;
/** S3 allows at most 10,000 parts per multipart upload (50 GB at the default part size). */
const MAX_PARTS = 10_000;
const DEFAULT_QUEUE_SIZE = 2;
/**
 * The checksum S3 verifies on every PutObject and UploadPart (and, per part, on completion). CRC32 is the
 * SDK's default algorithm and cheap to compute; versitygw v1.7 accepts CRC32, CRC32C, SHA1 and SHA256 on
 * both (CRC64NVME cannot be used with multipart's composite checksums there).
 */
const CHECKSUM_ALGORITHM = "CRC32";
/** User metadata naming the writer of an exclusive create, read back to tell who owns the key. */
const CLAIM_METADATA = "kube-autosave-claim";
/**
 * How long an exclusive create waits before reading its object back (at least; longer if its PUT was
 * slower): time for a racing PUT of the same key, which overlapped ours, to land too.
 */
const CLAIM_SETTLE_MS = 200;

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

/** A bucket (under a prefix) as a snapshot store. */
export class S3Store implements SnapshotStore {
  readonly objectLock: ObjectLockRetention | undefined;
  private readonly now: () => Date;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly sse: S3Encryption | undefined;
  private readonly partSize: number;
  private readonly queueSize: number;
  /** Options of every request of a streamed write: the abort signal, when there is one. */
  private readonly writeOptions: WriteOptions;

  constructor(options: S3StoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = options.prefix.replace(/^\/+|\/+$/g, "");
    this.sse = options.sse;
    this.objectLock = options.objectLock;
    this.now = options.now ?? (() => new Date());
    if (this.objectLock && !(Number.isInteger(this.objectLock.days) && this.objectLock.days >= 1)) {
      throw new RangeError("S3Store: objectLock.days must be a whole number of at least 1");
    }
    this.partSize = options.partSizeBytes ?? DEFAULT_PART_SIZE;
    this.queueSize = options.queueSize ?? DEFAULT_QUEUE_SIZE;
    this.writeOptions = options.signal ? { abortSignal: options.signal } : {};
    if (!Number.isInteger(this.partSize) || this.partSize < MIN_PART_SIZE) {
      throw new RangeError(`S3Store: partSizeBytes must be an integer of at least ${MIN_PART_SIZE} (5 MiB)`);
    }
    if (!Number.isInteger(this.queueSize) || this.queueSize < 1) {
      throw new RangeError("S3Store: queueSize must be a positive integer");
    }
  }

  describe(key: string): string {
    return `s3://${this.bucket}/${this.objectKey(key)}`;
  }

  openWrite(key: string): ObjectWriter {
    checkKey(key);
    return new S3ObjectWriter({
      client: this.client,
      bucket: this.bucket,
      key: this.objectKey(key),
      location: this.describe(key),
      writeParams: this.writeParams(key),
      partSize: this.partSize,
      queueSize: this.queueSize,
      writeOptions: this.writeOptions,
    });
  }

  async put(key: string, body: Buffer): Promise<void> {
    checkKey(key);
    try {
      await this.client.send(
        new PutObjectCommand({ ...this.writeParams(key), Key: this.objectKey(key), Body: body }),
      );
    } catch (err) {
      throw await toStoreError(err, "write", this.describe(key), this.bucket, this.client);
    }
  }

  /**
   * A conditional PUT (If-None-Match: *), then a read-back. AWS S3 decides racing conditional PUTs
   * atomically, but some S3-compatible servers check and write separately (versitygw v1.7 does): two
   * runs claiming one name in the same second could both succeed, and then write one snapshot folder.
   * So each create carries a unique id as metadata, and once a racing PUT would have landed, only the
   * writer whose id is stored owns the key.
   */
  async createExclusive(key: string, body: Buffer): Promise<boolean> {
    checkKey(key);
    const id = randomUUID();
    const started = Date.now();
    try {
      await this.client.send(
        new PutObjectCommand({
          ...this.writeParams(key),
          Key: this.objectKey(key),
          Body: body,
          IfNoneMatch: "*",
          Metadata: { [CLAIM_METADATA]: id },
        }),
      );
    } catch (err) {
      // 412: the key exists. 409: another conditional write of the same key is in progress, so someone
      // else is claiming this name right now; either way the name is not ours.
      const { name, status } = describeError(err);
      if (name === "PreconditionFailed" || status === 412 || name === "ConditionalRequestConflict")
        return false;
      throw await toStoreError(err, "create", this.describe(key), this.bucket, this.client);
    }
    await delay(Math.max(CLAIM_SETTLE_MS, Date.now() - started));
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
      );
      return head.Metadata?.[CLAIM_METADATA] === id;
    } catch (err) {
      const { name, status } = describeError(err);
      if (name === "NotFound" || name === "NoSuchKey" || status === 404) return false;
      throw await toStoreError(err, "read", this.describe(key), this.bucket, this.client);
    }
  }

  /**
   * The object's bytes. The SDK retries a GET until its response starts; a body cut off after that
   * (connection reset mid-download), or one that does not match its CRC32 header (the SDK checks it as
   * the body streams in), is fetched again here, up to the client's attempts. A body that never matches
   * is a CorruptObjectError. (On S3 a mismatch is corruption in transit; versitygw also stores one when
   * two PUTs of a key overlap, e.g. latest.json written by two runs at once.)
   */
  async get(key: string): Promise<Buffer | undefined> {
    checkKey(key);
    for (let attempt = 1; ; attempt++) {
      let body: { transformToByteArray(): Promise<Uint8Array> } | undefined;
      try {
        const res = await this.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
        );
        body = res.Body;
      } catch (err) {
        const { name, status } = describeError(err);
        if (name === "NoSuchKey" || name === "NotFound" || (status === 404 && name !== "NoSuchBucket")) {
          return undefined;
        }
        throw await toStoreError(err, "read", this.describe(key), this.bucket, this.client);
      }
      if (!body) return Buffer.alloc(0);
      try {
        const bytes = await body.transformToByteArray();
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      } catch (err) {
        if (attempt >= S3_CLIENT_DEFAULTS.maxAttempts) {
          if (isChecksumMismatch(err))
            throw new CorruptObjectError(
              `cannot read ${this.describe(key)}: its content does not match its CRC32 checksum (${attempt} reads)`,
              { cause: err },
            );
          throw await toStoreError(err, "read", this.describe(key), this.bucket, this.client);
        }
        await delay(Math.round(Math.random() * 100 * 2 ** attempt));
      }
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObjectInfo> {
    const sub = prefix.replace(/^\/+|\/+$/g, "");
    const dir = [this.prefix, sub].filter((part) => part !== "").join("/");
    // A trailing slash, so "a/b" lists "a/b/…" but not the sibling "a/bc/…" (as a directory would).
    const listPrefix = dir === "" ? undefined : `${dir}/`;
    const strip = this.prefix === "" ? 0 : this.prefix.length + 1;
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput | undefined;
      for (let attempt = 1; !page; attempt++) {
        try {
          page = await this.client.send(
            new ListObjectsV2Command({ Bucket: this.bucket, Prefix: listPrefix, ContinuationToken: token }),
          );
        } catch (err) {
          // A 2xx whose XML does not parse (cut off on the way): the SDK does not retry it; a page can be read again.
          if (isUnreadableSuccess(err) && attempt < S3_CLIENT_DEFAULTS.maxAttempts) {
            await delay(Math.round(Math.random() * 100 * 2 ** attempt));
            continue;
          }
          const location = `s3://${this.bucket}/${listPrefix ?? ""}`;
          throw await toStoreError(err, "list", location, this.bucket, this.client);
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

  async delete(key: string): Promise<void> {
    checkKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
    } catch (err) {
      if (describeError(err).name === "NoSuchKey") return;
      throw await toStoreError(err, "delete", this.describe(key), this.bucket, this.client);
    }
  }

  /**
   * The object's Object Lock retention (GetObjectRetention, which needs s3:GetObjectRetention): null when
   * it has none or the bucket has no Object Lock, undefined when there is no such key.
   */
  async lockOf(key: string): Promise<ObjectLockState | null | undefined> {
    checkKey(key);
    try {
      const res = await this.client.send(
        new GetObjectRetentionCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
      );
      const { Mode: mode, RetainUntilDate: until } = res.Retention ?? {};
      if (!mode || !until) return null;
      return { mode, retainUntil: new Date(until).toISOString() };
    } catch (err) {
      const { name, status } = describeError(err);
      if (name === "NoSuchObjectLockConfiguration" || isMissingLockConfiguration(err)) return null;
      if (name === "NoSuchKey" || name === "NotFound" || (status === 404 && name !== "NoSuchBucket"))
        return undefined;
      throw await toStoreError(err, "read the lock of", this.describe(key), this.bucket, this.client);
    }
  }

  /** Nothing to do: an S3 object is durable once its PUT or CompleteMultipartUpload succeeded. */
  async sync(): Promise<void> {}

  private lockParams(key: string): Pick<WriteParams, "ObjectLockMode" | "ObjectLockRetainUntilDate"> {
    return lockParamsFor(this.objectLock, key, this.now());
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
      ...this.lockParams(key),
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

/** What locks an object: S3 Object Lock headers for keys inside a snapshot folder, when the store locks. */
function lockParamsFor(
  lock: ObjectLockRetention | undefined,
  key: string,
  now: Date,
): Pick<WriteParams, "ObjectLockMode" | "ObjectLockRetainUntilDate"> {
  if (!lock || snapshotOfKey(key) === undefined) return {};
  // Whole seconds, rounded up: S3 keeps retain-until dates to the second, never earlier than asked.
  const until = Math.ceil((now.getTime() + lock.days * 86_400_000) / 1000) * 1000;
  return { ObjectLockMode: lock.mode, ObjectLockRetainUntilDate: new Date(until) };
}

interface WriteParams {
  readonly Bucket: string;
  readonly Key: string;
  readonly ChecksumAlgorithm: typeof CHECKSUM_ALGORITHM;
  readonly ContentType?: string;
  readonly ServerSideEncryption?: "AES256" | "aws:kms";
  readonly SSEKMSKeyId?: string;
  readonly ObjectLockMode?: ObjectLockRetention["mode"];
  readonly ObjectLockRetainUntilDate?: Date;
}

interface WriteOptions {
  readonly abortSignal?: AbortSignal;
}

interface WriteTarget {
  readonly client: S3Client;
  readonly bucket: string;
  readonly key: string;
  readonly location: string;
  readonly writeParams: WriteParams;
  readonly partSize: number;
  readonly queueSize: number;
  readonly writeOptions: WriteOptions;
}

/**
 * A streamed write: bytes are buffered until a part is full; an object that never fills a part is sent
 * as one PutObject on commit(), a larger one as a multipart upload whose parts go out as they fill.
 *
 * The multipart calls are driven here rather than by @aws-sdk/lib-storage's Upload because of abort:
 * Upload.abort() only signals: done() rejects at once, and AbortMultipartUpload is sent later in the
 * background, once the body stream has ended and the parts in flight settled, so a caller cannot know
 * when (or whether) the upload is gone. Here abort() resolves only after the parts in flight settled and
 * the upload was aborted, so no orphan upload (billed storage) is left behind, also after a failed part.
 */
class S3ObjectWriter implements ObjectWriter {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private partCount = 0;
  /** Set when the first part is full; rejects with a StoreError if the upload could not be created. */
  private uploadId: Promise<string> | undefined;
  private readonly parts: CompletedPart[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  /** The first failed part; reported by the next write() or commit(). */
  private failure: StoreError | undefined;
  private state: "open" | "committing" | "committed" | "aborted" = "open";

  constructor(private readonly target: WriteTarget) {}

  async write(chunk: Buffer): Promise<void> {
    this.assertWritable();
    if (chunk.length === 0) return;
    // Kept, not copied: the ObjectWriter contract has the caller hand over the buffer.
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= this.target.partSize) {
      await this.sendPart(this.takeBuffered(this.target.partSize));
      this.assertWritable();
    }
  }

  async commit(): Promise<void> {
    if (this.state !== "open") {
      throw new StoreError(`cannot commit ${this.target.location}: the write was already ${this.state}`);
    }
    this.state = "committing";
    const { client, location, bucket } = this.target;
    try {
      if (this.failure) throw this.failure;
      if (this.uploadId === undefined) {
        const body = this.takeBuffered(this.buffered);
        await client.send(
          new PutObjectCommand({ ...this.target.writeParams, Body: body }),
          this.target.writeOptions,
        );
      } else {
        if (this.buffered > 0) await this.sendPart(this.takeBuffered(this.buffered));
        await Promise.all(this.inFlight);
        if (this.failure) throw this.failure;
        const uploadId = await this.uploadId;
        const parts = [...this.parts].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
        await client.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: this.target.key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts },
          }),
          this.target.writeOptions,
        );
      }
      this.state = "committed";
    } catch (err) {
      const error = await toStoreError(err, "write", location, bucket, client);
      await this.discard().catch(() => undefined); // the write error is the one to report
      throw error;
    }
  }

  async abort(): Promise<void> {
    if (this.state === "committed" || this.state === "aborted") return;
    await this.discard();
  }

  private async discard(): Promise<void> {
    this.state = "aborted";
    this.chunks = [];
    this.buffered = 0;
    if (this.uploadId === undefined) return;
    // Wait for parts in flight instead of cancelling them: a part the server is still receiving could
    // land after AbortMultipartUpload and leave the upload behind (S3 documents exactly this).
    await Promise.all(this.inFlight);
    let uploadId: string;
    try {
      uploadId = await this.uploadId;
    } catch {
      return; // never created, nothing to abort
    }
    const { client, bucket, key, location } = this.target;
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    } catch (err) {
      if (describeError(err).name === "NoSuchUpload") return;
      throw await toStoreError(err, "abort the upload of", location, bucket, client);
    }
  }

  /** Removes and returns the first `size` buffered bytes (size ≤ buffered). */
  private takeBuffered(size: number): Buffer {
    const all =
      this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.buffered);
    const rest = all.subarray(size);
    // Copy a small remainder, so the part's buffer is not kept alive by it; a large one becomes parts next.
    this.chunks = rest.length === 0 ? [] : [rest.length < this.target.partSize ? Buffer.from(rest) : rest];
    this.buffered = rest.length;
    return all.subarray(0, size);
  }

  /** Starts uploading one part, then waits until fewer than queueSize parts are in flight. */
  private async sendPart(body: Buffer): Promise<void> {
    this.partCount += 1;
    if (this.partCount > MAX_PARTS) {
      throw new StoreError(
        `cannot write ${this.target.location}: more than ${MAX_PARTS} parts of ${this.target.partSize} bytes`,
      );
    }
    this.uploadId ??= this.createUpload();
    const upload = this.uploadPart(this.partCount, body);
    this.inFlight.add(upload);
    void upload.finally(() => this.inFlight.delete(upload));
    while (this.inFlight.size >= this.target.queueSize) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
  }

  private createUpload(): Promise<string> {
    const { client, location, bucket } = this.target;
    const created = (async () => {
      try {
        const res = await client.send(
          new CreateMultipartUploadCommand(this.target.writeParams),
          this.target.writeOptions,
        );
        if (!res.UploadId) throw new Error("CreateMultipartUpload returned no UploadId");
        return res.UploadId;
      } catch (err) {
        throw await toStoreError(err, "write", location, bucket, client);
      }
    })();
    created.catch(() => undefined); // observed by every part and by discard()
    return created;
  }

  /** Never rejects: a failure is kept in `failure` for the next write() or commit(). */
  private async uploadPart(partNumber: number, body: Buffer): Promise<void> {
    const { client, location, bucket, key } = this.target;
    try {
      const uploadId = await (this.uploadId as Promise<string>);
      const res = await client.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: body,
          ChecksumAlgorithm: CHECKSUM_ALGORITHM,
        }),
        this.target.writeOptions,
      );
      this.parts.push({ PartNumber: partNumber, ETag: res.ETag, ChecksumCRC32: res.ChecksumCRC32 });
    } catch (err) {
      this.failure ??= await toStoreError(err, "write", location, bucket, client);
    }
  }

  private assertWritable(): void {
    if (this.failure) throw this.failure;
    if (this.state !== "open") {
      throw new StoreError(`cannot write ${this.target.location}: the write was already ${this.state}`);
    }
  }
}

/** The SDK's response checksum validation failed (the body does not match its x-amz-checksum-* header). */
function isChecksumMismatch(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith("Checksum mismatch");
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

function describeError(err: unknown): { name: string; status: number | undefined; code: string | undefined } {
  const e = err as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  return {
    name: typeof e?.name === "string" ? e.name : "",
    status: typeof e?.$metadata?.httpStatusCode === "number" ? e.$metadata.httpStatusCode : undefined,
    code: typeof e?.code === "string" ? e.code : undefined,
  };
}

/** S3's answer to a lock request (a write with retention, GetObjectRetention) on a bucket without Object Lock. */
function isMissingLockConfiguration(err: unknown): boolean {
  const { name } = describeError(err);
  const message = err instanceof Error ? err.message : "";
  return name === "InvalidRequest" && /object ?lock ?configuration/i.test(message);
}

/** The server said 2xx but the SDK could not read the answer (a body cut short, or not S3's XML). */
function isUnreadableSuccess(err: unknown): boolean {
  const { status } = describeError(err);
  return status !== undefined && status >= 200 && status < 300;
}

/** An SDK failure as a StoreError naming the bucket/key and the cause in words (never credentials). */
async function toStoreError(
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
