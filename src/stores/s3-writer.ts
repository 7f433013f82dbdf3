// Writing one object as it is produced: bytes are cut into parts of a fixed size, two uploading at a
// time, so memory per file being written stays about partSize × (queueSize + 1) whatever its size.

import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { StoreError } from "../snapshot/errors.js";
import type { ObjectWriter } from "../snapshot/ports.js";
import type { S3ObjectRef } from "./s3-client.js";
import { describeError, toStoreError } from "./s3-errors.js";
import type { LockParams } from "./s3-object-lock.js";

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
export const CHECKSUM_ALGORITHM = "CRC32";

/** What every PutObject and CreateMultipartUpload of a key carries. */
export interface WriteParams extends LockParams {
  readonly Bucket: string;
  readonly Key: string;
  readonly ChecksumAlgorithm: typeof CHECKSUM_ALGORITHM;
  readonly ContentType?: string;
  readonly ServerSideEncryption?: "AES256" | "aws:kms";
  readonly SSEKMSKeyId?: string;
}

/** How a store's streamed writes are cut: part size and parts in flight per write. */
export interface PartBudget {
  readonly partSize: number;
  readonly queueSize: number;
}

/** The part budget asked for, defaults filled in (5 MiB × 2); throws RangeError for one S3 would refuse. */
export function partBudget(partSizeBytes: number | undefined, queueSize: number | undefined): PartBudget {
  const budget = { partSize: partSizeBytes ?? DEFAULT_PART_SIZE, queueSize: queueSize ?? DEFAULT_QUEUE_SIZE };
  if (!Number.isInteger(budget.partSize) || budget.partSize < MIN_PART_SIZE) {
    throw new RangeError(`S3Store: partSizeBytes must be an integer of at least ${MIN_PART_SIZE} (5 MiB)`);
  }
  if (!Number.isInteger(budget.queueSize) || budget.queueSize < 1) {
    throw new RangeError("S3Store: queueSize must be a positive integer");
  }
  return budget;
}

/** Options of every request of a streamed write: the abort signal, when there is one. */
export interface WriteOptions {
  readonly abortSignal?: AbortSignal;
}

export interface WriteTarget extends S3ObjectRef, PartBudget {
  readonly writeParams: WriteParams;
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
export class S3ObjectWriter implements ObjectWriter {
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
