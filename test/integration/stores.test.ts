// One behaviour suite for every SnapshotStore, run against the real versitygw of the test bed and a
// temp dir, then what only one of them promises (S3 headers and errors, file modes and paths).
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import {
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { StoreError } from "../../src/snapshot/errors.js";
import type { SnapshotStore } from "../../src/snapshot/ports.js";
import { FsStore } from "../../src/stores/fs.js";
import { S3Store } from "../../src/stores/s3.js";
import { freePort } from "../support/process.js";
import { sharedS3 } from "../support/shared.js";

const s3 = sharedS3();
const MiB = 1024 * 1024;
const PREFIX = "kube-aws/clusters/test/backup";
/** The smallest part S3 allows, so a 6 MiB write is a real multipart upload. */
const PART_SIZE = 5 * MiB;

interface StoreHarness {
  readonly store: SnapshotStore;
  /** Unfinished writes the backing store holds: S3 multipart uploads, or temp files on disk. */
  pendingWrites(): Promise<number>;
  cleanup(): Promise<void>;
}

/** Writes `data` in chunks of `chunkSize` (the engine's way of streaming a file). */
async function writeChunks(
  writer: ReturnType<SnapshotStore["openWrite"]>,
  data: Buffer,
  chunkSize = 64 * 1024,
): Promise<void> {
  for (let offset = 0; offset < data.length; offset += chunkSize) {
    await writer.write(data.subarray(offset, offset + chunkSize));
  }
}

async function keysOf(store: SnapshotStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of store.list(prefix)) keys.push(info.key);
  return keys;
}

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await fn();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function storeBehaviour(name: string, open: () => Promise<StoreHarness>): void {
  describe(`${name}: snapshot store behaviour`, () => {
    let harness: StoreHarness;
    let store: SnapshotStore;
    beforeEach(async () => {
      harness = await open();
      store = harness.store;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    describe("streamed writes", () => {
      it("makes a committed object visible with exactly the written bytes", async () => {
        const writer = store.openWrite("2026-11-24_03-00-00/default/configmaps.json");
        await writer.write(Buffer.from('{"apiVersion":"v1",'));
        await writer.write(Buffer.alloc(0));
        await writer.write(Buffer.from('"kind":"List","items":[]}\n'));
        await writer.commit();

        expect((await store.get("2026-11-24_03-00-00/default/configmaps.json"))?.toString()).toBe(
          '{"apiVersion":"v1","kind":"List","items":[]}\n',
        );
      });

      it("commits an empty object", async () => {
        const writer = store.openWrite("empty.json");
        await writer.commit();

        expect(await store.get("empty.json")).toEqual(Buffer.alloc(0));
      });

      it("sync() resolves once committed files are durable, and skips files deleted since", async () => {
        for (const key of ["sync/a.json", "sync/b.json", "sync/c/d.json"]) {
          const writer = store.openWrite(key);
          await writer.write(Buffer.from(`{"key":"${key}"}`));
          await writer.commit();
        }
        await store.delete("sync/b.json");
        await store.sync();
        await store.sync(); // nothing left to do

        const keys: string[] = [];
        for await (const o of store.list("sync")) keys.push(o.key);
        expect(keys).toEqual(["sync/a.json", "sync/c/d.json"]);
        expect((await store.get("sync/c/d.json"))?.toString()).toBe('{"key":"sync/c/d.json"}');
      });

      it("shows nothing under the key or the prefix before commit", async () => {
        const writer = store.openWrite("snap/ns/secrets.json");
        await writeChunks(writer, randomBytes(256 * 1024));

        expect(await store.get("snap/ns/secrets.json")).toBeUndefined();
        expect(await keysOf(store, "snap")).toEqual([]);
        expect(await keysOf(store, "")).toEqual([]);

        await writer.commit();
        expect(await keysOf(store, "snap")).toEqual(["snap/ns/secrets.json"]);
      });

      it("leaves nothing behind when a small write is aborted", async () => {
        const writer = store.openWrite("snap/ns/configmaps.json");
        await writer.write(Buffer.from("[partial"));
        await writer.abort();

        expect(await store.get("snap/ns/configmaps.json")).toBeUndefined();
        expect(await keysOf(store, "")).toEqual([]);
        expect(await harness.pendingWrites()).toBe(0);
      });

      it("leaves no unfinished write behind when a write larger than a part is aborted", async () => {
        const writer = store.openWrite("snap/big.json");
        await writeChunks(writer, randomBytes(6 * MiB));
        // Proves the write really is in progress in the backing store (S3: a multipart upload).
        await eventually("an unfinished write", async () =>
          (await harness.pendingWrites()) >= 1 ? true : undefined,
        );

        await writer.abort();

        expect(await harness.pendingWrites()).toBe(0);
        expect(await store.get("snap/big.json")).toBeUndefined();
        expect(await keysOf(store, "")).toEqual([]);
      });

      it("keeps the previous object when a rewrite of its key is aborted", async () => {
        await store.put("latest.json", Buffer.from("old"));
        const writer = store.openWrite("latest.json");
        await writer.write(Buffer.from("new"));
        await writer.abort();

        expect((await store.get("latest.json"))?.toString()).toBe("old");
      });

      it("keeps a committed object when abort() follows commit(), and refuses later writes", async () => {
        const writer = store.openWrite("twice.json");
        await writer.write(Buffer.from("{}"));
        await writer.commit();
        await writer.abort();

        expect((await store.get("twice.json"))?.toString()).toBe("{}");
        await expect(writer.write(Buffer.from("more"))).rejects.toThrow(StoreError);
      });

      it("round-trips a 12 MiB object written in 64 KiB chunks byte for byte", async () => {
        const data = randomBytes(12 * MiB);
        const writer = store.openWrite("snap/huge.json");
        await writeChunks(writer, data, 64 * 1024);
        await eventually("an unfinished write", async () =>
          (await harness.pendingWrites()) >= 1 ? true : undefined,
        );
        expect(await store.get("snap/huge.json")).toBeUndefined();

        await writer.commit();

        const read = await store.get("snap/huge.json");
        expect(read?.length).toBe(data.length);
        expect(read?.equals(data)).toBe(true);
        expect(await harness.pendingWrites()).toBe(0);
        const listed = [];
        for await (const info of store.list("snap")) listed.push(info);
        expect(listed).toEqual([{ key: "snap/huge.json", size: 12 * MiB }]);
      });
    });

    describe("small objects", () => {
      it("puts and gets an object", async () => {
        await store.put("latest.json", Buffer.from('{"snapshot":"2026-11-24_03-00-00"}'));

        expect((await store.get("latest.json"))?.toString()).toBe('{"snapshot":"2026-11-24_03-00-00"}');
      });

      it("replaces an object put twice", async () => {
        await store.put("latest.json", Buffer.from("1"));
        await store.put("latest.json", Buffer.from("2"));

        expect((await store.get("latest.json"))?.toString()).toBe("2");
      });

      it("returns undefined for a missing key", async () => {
        expect(await store.get("2026-11-24_03-00-00/manifest.json")).toBeUndefined();
      });

      it("creates a key exclusively once, then refuses it and keeps the first body", async () => {
        expect(await store.createExclusive("2026-11-24_03-00-00/manifest.json", Buffer.from("first"))).toBe(
          true,
        );
        expect(await store.createExclusive("2026-11-24_03-00-00/manifest.json", Buffer.from("second"))).toBe(
          false,
        );

        expect((await store.get("2026-11-24_03-00-00/manifest.json"))?.toString()).toBe("first");
      });
    });

    describe("list", () => {
      beforeEach(async () => {
        for (const key of [
          "snap/a/x.json",
          "snap/a-b.json",
          "snap/a.json",
          "snap/b/c/d.json",
          "snap/A.json",
          "snapb/q.json",
          "top.json",
          "a/b/x.json",
          "a/bc/y.json",
          "a/b.json",
        ]) {
          await store.put(key, Buffer.from(key));
        }
      });

      it("returns every key under a prefix, recursively, in S3's bytewise order, relative to the store", async () => {
        expect(await keysOf(store, "snap")).toEqual([
          "snap/A.json",
          "snap/a-b.json",
          "snap/a.json",
          "snap/a/x.json",
          "snap/b/c/d.json",
        ]);
      });

      it("returns every key of the store for the empty prefix", async () => {
        expect(await keysOf(store, "")).toEqual([
          "a/b.json",
          "a/b/x.json",
          "a/bc/y.json",
          "snap/A.json",
          "snap/a-b.json",
          "snap/a.json",
          "snap/a/x.json",
          "snap/b/c/d.json",
          "snapb/q.json",
          "top.json",
        ]);
      });

      it("does not return keys of a sibling prefix (a/b vs a/bc), with or without a trailing slash", async () => {
        expect(await keysOf(store, "a/b")).toEqual(["a/b/x.json"]);
        expect(await keysOf(store, "a/b/")).toEqual(["a/b/x.json"]);
      });

      it("returns each key's size and nothing for an unknown prefix", async () => {
        const infos = [];
        for await (const info of store.list("snap/b")) infos.push(info);

        expect(infos).toEqual([{ key: "snap/b/c/d.json", size: "snap/b/c/d.json".length }]);
        expect(await keysOf(store, "nope")).toEqual([]);
      });
    });

    describe("delete", () => {
      it("removes a key", async () => {
        await store.put("snap/ns/x.json", Buffer.from("x"));
        await store.delete("snap/ns/x.json");

        expect(await store.get("snap/ns/x.json")).toBeUndefined();
        expect(await keysOf(store, "")).toEqual([]);
      });

      it("accepts a missing key", async () => {
        await expect(store.delete("snap/never.json")).resolves.toBeUndefined();
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// S3Store on versitygw

interface CapturedRequest {
  readonly command: string;
  readonly input: Record<string, unknown>;
  readonly headers: Record<string, string>;
}

/** Records every request as sent on the wire (after serialization, checksums and signing). */
function captureRequests(client: S3Client): CapturedRequest[] {
  const seen: CapturedRequest[] = [];
  client.middlewareStack.add(
    (next: any, context: any) => async (args: any) => {
      seen.push({ command: context.commandName, input: args.input, headers: { ...args.request.headers } });
      return next(args);
    },
    { step: "finalizeRequest", name: "testCaptureRequests", priority: "low" },
  );
  return seen;
}

async function multipartUploads(client: S3Client, bucket: string): Promise<number> {
  const res = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return res.Uploads?.length ?? 0;
}

async function openS3(options: Partial<ConstructorParameters<typeof S3Store>[0]> = {}) {
  const client = options.client ?? s3.client();
  const bucket = options.bucket ?? (await s3.createBucket("stores"));
  const store = new S3Store({ client, bucket, prefix: PREFIX, partSizeBytes: PART_SIZE, ...options });
  return { client, bucket, store };
}

storeBehaviour("S3Store on versitygw", async () => {
  const { client, bucket, store } = await openS3();
  return {
    store,
    pendingWrites: () => multipartUploads(client, bucket),
    cleanup: async () => client.destroy(),
  };
});

describe("S3Store on versitygw: objects as written", () => {
  let client: S3Client;
  beforeEach(() => {
    client = s3.client();
  });
  afterEach(() => {
    client.destroy();
  });

  it("stores keys as <prefix>/<key> without double slashes, also for an empty prefix", async () => {
    const bucket = await s3.createBucket("stores");
    const slashed = new S3Store({ client, bucket, prefix: "/kube-aws/backup/" });
    const bare = new S3Store({ client, bucket, prefix: "" });

    await slashed.put("snap/a.json", Buffer.from("a"));
    await bare.put("root.json", Buffer.from("r"));

    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(["kube-aws/backup/snap/a.json", "root.json"]);
    expect(slashed.describe("snap/a.json")).toBe(`s3://${bucket}/kube-aws/backup/snap/a.json`);
    expect(await keysOf(bare, "kube-aws")).toEqual(["kube-aws/backup/snap/a.json"]);
    expect(await keysOf(slashed, "")).toEqual(["snap/a.json"]);
  });

  it("marks .json objects application/json, whether sent in one PutObject or as a multipart upload", async () => {
    const { bucket, store } = await openS3({ client });
    await store.put("small.json", Buffer.from("{}"));
    await store.createExclusive("claimed.json", Buffer.from("{}"));
    const writer = store.openWrite("big.json");
    await writeChunks(writer, randomBytes(6 * MiB));
    await writer.commit();

    for (const key of ["small.json", "claimed.json", "big.json"]) {
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: `${PREFIX}/${key}` }));
      expect(head.ContentType, key).toBe("application/json");
    }
  });

  it("uses a multipart upload (parts of partSizeBytes) above one part, and one PutObject below", async () => {
    const { store } = await openS3({ client });
    const requests = captureRequests(client);

    const small = store.openWrite("small.json");
    await writeChunks(small, randomBytes(PART_SIZE - 1));
    await small.commit();
    const big = store.openWrite("big.json");
    await writeChunks(big, randomBytes(2 * PART_SIZE + 7));
    await big.commit();

    expect(requests.map((r) => r.command)).toEqual([
      "PutObjectCommand",
      "CreateMultipartUploadCommand",
      "UploadPartCommand",
      "UploadPartCommand",
      "UploadPartCommand",
      "CompleteMultipartUploadCommand",
    ]);
    const partSizes = requests
      .filter((r) => r.command === "UploadPartCommand")
      .map((r) => (r.input.Body as Buffer).length);
    expect(partSizes).toEqual([PART_SIZE, PART_SIZE, 7]);
  });

  it("sends a CRC32 checksum the server verifies with every PutObject and UploadPart", async () => {
    const { bucket, store } = await openS3({ client });
    const requests = captureRequests(client);

    await store.put("small.json", Buffer.from("{}"));
    await store.createExclusive("claimed.json", Buffer.from("{}"));
    const writer = store.openWrite("big.json");
    await writeChunks(writer, randomBytes(6 * MiB));
    await writer.commit();

    for (const r of requests.filter((r) => ["PutObjectCommand", "UploadPartCommand"].includes(r.command))) {
      expect(r.headers["x-amz-checksum-crc32"], r.command).toMatch(/^[A-Za-z0-9+/]{6}==$/);
    }
    const create = requests.find((r) => r.command === "CreateMultipartUploadCommand");
    expect(create?.headers["x-amz-checksum-algorithm"]).toBe("CRC32");
    const head = await client.send(
      new HeadObjectCommand({ Bucket: bucket, Key: `${PREFIX}/small.json`, ChecksumMode: "ENABLED" }),
    );
    expect(head.ChecksumCRC32).toBe(requests[0]?.headers["x-amz-checksum-crc32"]);
  });

  // versitygw v1.7 accepts the SSE headers but does not report them back on HeadObject, so the
  // requests themselves are checked.
  it("requests SSE-S3 on every PutObject and CreateMultipartUpload, and not on UploadPart", async () => {
    const { store } = await openS3({ client, sse: { mode: "AES256" } });
    const requests = captureRequests(client);

    await store.put("small.json", Buffer.from("{}"));
    await store.createExclusive("claimed.json", Buffer.from("{}"));
    const writer = store.openWrite("big.json");
    await writeChunks(writer, randomBytes(6 * MiB));
    await writer.commit();

    const writes = requests.filter((r) =>
      ["PutObjectCommand", "CreateMultipartUploadCommand"].includes(r.command),
    );
    expect(writes.map((r) => r.command)).toEqual([
      "PutObjectCommand",
      "PutObjectCommand",
      "CreateMultipartUploadCommand",
    ]);
    for (const r of writes) expect(r.headers["x-amz-server-side-encryption"], r.command).toBe("AES256");
    for (const r of requests.filter((r) => r.command === "UploadPartCommand")) {
      expect(r.headers["x-amz-server-side-encryption"]).toBeUndefined();
    }
  });

  it("requests SSE-KMS with the given key on every PutObject and CreateMultipartUpload", async () => {
    const kmsKeyId = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const { store } = await openS3({ client, sse: { mode: "aws:kms", kmsKeyId } });
    const requests = captureRequests(client);

    await store.put("small.json", Buffer.from("{}"));
    const writer = store.openWrite("big.json");
    await writeChunks(writer, randomBytes(6 * MiB));
    await writer.commit();

    const writes = requests.filter((r) =>
      ["PutObjectCommand", "CreateMultipartUploadCommand"].includes(r.command),
    );
    expect(writes).toHaveLength(2);
    for (const r of writes) {
      expect(r.headers["x-amz-server-side-encryption"]).toBe("aws:kms");
      expect(r.headers["x-amz-server-side-encryption-aws-kms-key-id"]).toBe(kmsKeyId);
    }
  });

  it("lists across result pages", async () => {
    const { store } = await openS3({ client });
    for (const key of ["s/1.json", "s/2.json", "s/3.json", "s/4.json", "s/5.json"]) {
      await store.put(key, Buffer.from(key));
    }
    // Two keys per page, so the store must follow continuation tokens.
    client.middlewareStack.add(
      (next: any, context: any) => async (args: any) => {
        if (context.commandName === "ListObjectsV2Command") args.input.MaxKeys = 2;
        return next(args);
      },
      { step: "initialize", name: "testSmallPages" },
    );
    const requests = captureRequests(client);

    expect(await keysOf(store, "s")).toEqual(["s/1.json", "s/2.json", "s/3.json", "s/4.json", "s/5.json"]);
    expect(requests.filter((r) => r.command === "ListObjectsV2Command")).toHaveLength(3);
  });
});

describe("S3Store on versitygw: failures", () => {
  let client: S3Client;
  beforeEach(() => {
    client = s3.client();
  });
  afterEach(() => {
    client.destroy();
  });

  it("aborts the multipart upload when a part upload failed, leaving no upload behind", async () => {
    const { bucket, store } = await openS3({ client, queueSize: 1 });
    client.middlewareStack.add(
      (next: any, context: any) => async (args: any) => {
        if (context.commandName === "UploadPartCommand" && args.input.PartNumber === 2) {
          throw Object.assign(new Error("injected part failure"), {
            name: "InternalError",
            $metadata: { httpStatusCode: 500 },
          });
        }
        return next(args);
      },
      { step: "initialize", name: "testFailSecondPart" },
    );
    const writer = store.openWrite("big.json");

    const failed = await (async () => {
      await writeChunks(writer, randomBytes(3 * PART_SIZE));
      await writer.commit();
    })().catch((err: unknown) => err);
    expect(await multipartUploads(client, bucket)).toBe(1);
    await writer.abort();

    expect(failed).toBeInstanceOf(StoreError);
    expect((failed as Error).message).toContain(`s3://${bucket}/${PREFIX}/big.json`);
    expect(await multipartUploads(client, bucket)).toBe(0);
    expect(await store.get("big.json")).toBeUndefined();
  });

  it("aborts the multipart upload itself when commit fails", async () => {
    const { bucket, store } = await openS3({ client });
    client.middlewareStack.add(
      (next: any, context: any) => async (args: any) => {
        if (context.commandName === "CompleteMultipartUploadCommand") {
          throw Object.assign(new Error("injected completion failure"), {
            name: "InternalError",
            $metadata: { httpStatusCode: 500 },
          });
        }
        return next(args);
      },
      { step: "initialize", name: "testFailComplete" },
    );
    const writer = store.openWrite("big.json");
    await writeChunks(writer, randomBytes(6 * MiB));

    await expect(writer.commit()).rejects.toThrow(/cannot write .*big\.json: InternalError \(HTTP 500\)/);

    expect(await multipartUploads(client, bucket)).toBe(0);
    expect(await store.get("big.json")).toBeUndefined();
  });

  it("names the bucket when it does not exist", async () => {
    const { store } = await openS3({ client, bucket: "no-such-bucket-kube-autosave" });
    const message = 'bucket "no-such-bucket-kube-autosave" does not exist';

    await expect(store.put("a.json", Buffer.from("{}"))).rejects.toThrow(message);
    await expect(store.createExclusive("a.json", Buffer.from("{}"))).rejects.toThrow(message);
    await expect(store.get("a.json")).rejects.toThrow(message);
    await expect(keysOf(store, "")).rejects.toThrow(message);
    const small = store.openWrite("a.json");
    await small.write(Buffer.from("{}"));
    await expect(small.commit()).rejects.toThrow(message);
    const big = store.openWrite("b.json");
    const streamed = (async () => {
      await writeChunks(big, randomBytes(2 * PART_SIZE));
      await big.commit();
    })();
    await expect(streamed).rejects.toThrow(message);
    await big.abort();
  });

  it("says the endpoint cannot be reached, naming it and the object", async () => {
    const port = await freePort(); // nothing listens there
    const offline = new S3Client({
      endpoint: `http://127.0.0.1:${port}`,
      region: "us-east-1",
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    const store = new S3Store({ client: offline, bucket: "backups", prefix: PREFIX });
    try {
      const err = await store.put("a.json", Buffer.from("{}")).catch((e: unknown) => e);

      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toBe(
        `cannot reach S3 endpoint http://127.0.0.1:${port} (ECONNREFUSED) to write s3://backups/${PREFIX}/a.json`,
      );
    } finally {
      offline.destroy();
    }
  });

  it("reports rejected credentials without revealing them", async () => {
    const bucket = await s3.createBucket("stores");
    const secret = "wrong-secret-0123456789-do-not-print";
    const wrong = new S3Client({
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: secret },
    });
    const store = new S3Store({ client: wrong, bucket, prefix: PREFIX });
    try {
      const err = await store.get("a.json").catch((e: unknown) => e);

      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toBe(
        `cannot read s3://${bucket}/${PREFIX}/a.json: S3 rejected the credentials (SignatureDoesNotMatch)`,
      );
      expect((err as Error).message).not.toContain(secret);
    } finally {
      wrong.destroy();
    }
  });

  it("rejects keys with empty, '.' or '..' segments", () => {
    const store = new S3Store({ client, bucket: "b", prefix: PREFIX });
    for (const key of ["", "/abs.json", "a//b.json", "../x.json", "a/./b.json"]) {
      expect(() => store.openWrite(key), key).toThrow(StoreError);
    }
  });

  it("refuses a part size below S3's 5 MiB minimum", () => {
    expect(() => new S3Store({ client, bucket: "b", prefix: "", partSizeBytes: MiB })).toThrow(/5 MiB/);
  });
});

// ---------------------------------------------------------------------------------------------------------
// FsStore on a temp dir

const tempDirs: string[] = [];
afterAll(async () => {
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "kube-autosave-fs-store-"));
  tempDirs.push(dir);
  return dir;
}

async function tempFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((path) => /^\..*\.tmp$/.test(basename(path)));
}

storeBehaviour("FsStore on a temp dir", async () => {
  const dir = await tempDir();
  return {
    store: new FsStore(join(dir, PREFIX)),
    pendingWrites: async () => (await tempFiles(dir)).length,
    cleanup: async () => {},
  };
});

describe("FsStore on a temp dir: files on disk", () => {
  it("creates files 0600 and directories 0700, also for writes in progress and exclusive creates", async () => {
    const dir = await tempDir();
    const store = new FsStore(join(dir, "backups"));

    await store.put("snap/ns/secrets.json", Buffer.from("{}"));
    await store.createExclusive("snap/manifest.json", Buffer.from("{}"));
    const writer = store.openWrite("snap/other/configmaps.json");
    await writer.write(Buffer.from("{"));
    const [temp] = await tempFiles(dir);

    const mode = async (path: string) => (await stat(join(dir, path))).mode & 0o777;
    expect(await mode("backups/snap/ns/secrets.json")).toBe(0o600);
    expect(await mode("backups/snap/manifest.json")).toBe(0o600);
    expect(await mode(temp!)).toBe(0o600);
    for (const path of ["backups", "backups/snap", "backups/snap/ns", "backups/snap/other"]) {
      expect(await mode(path), path).toBe(0o700);
    }
    await writer.commit();
    expect(await mode("backups/snap/other/configmaps.json")).toBe(0o600);
  });

  it("writes the temp file beside its target and renames it into place on commit", async () => {
    const dir = await tempDir();
    const store = new FsStore(dir);
    const writer = store.openWrite("snap/ns/configmaps.json");
    await writer.write(Buffer.from("{}"));

    expect(await tempFiles(dir)).toEqual([expect.stringMatching(/^snap\/ns\/\.configmaps\.json\..*\.tmp$/)]);
    await writer.commit();
    expect(await tempFiles(dir)).toEqual([]);
    expect(await readdir(join(dir, "snap/ns"))).toEqual(["configmaps.json"]);
  });

  it("describes a key as its absolute path", async () => {
    const dir = await tempDir();

    expect(new FsStore(join(dir, "b")).describe("snap/a.json")).toBe(join(dir, "b/snap/a.json"));
  });

  it("rejects keys that are absolute or contain '..' segments, naming the key", async () => {
    const dir = await tempDir();
    const store = new FsStore(join(dir, "root"));

    for (const key of ["/etc/passwd", "../outside.json", "snap/../../outside.json", "a//b.json"]) {
      await expect(store.put(key, Buffer.from("x")), key).rejects.toThrow(StoreError);
      await expect(store.get(key), key).rejects.toThrow(`invalid key "${key}"`);
      expect(() => store.openWrite(key), key).toThrow(StoreError);
    }
    await expect(keysOf(store, "../")).rejects.toThrow(StoreError);
    expect(await readdir(dir)).toEqual([]);
  });

  it("names the path and the OS reason when the root cannot hold files", async () => {
    // Tests run as root, so a chmod 0500 directory would still be writable: the root is a regular file.
    const dir = await tempDir();
    const root = join(dir, "not-a-dir");
    await writeFile(root, "i am a file");
    const store = new FsStore(root);

    await expect(store.put("snap/a.json", Buffer.from("{}"))).rejects.toThrow(
      `cannot write ${root}/snap/a.json: ENOTDIR (not a directory)`,
    );
    await expect(store.createExclusive("snap/a.json", Buffer.from("{}"))).rejects.toThrow(
      `cannot write ${root}/snap/a.json: ENOTDIR (not a directory)`,
    );
    const writer = store.openWrite("snap/b.json");
    const err = await writer.write(Buffer.from("{}")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).message).toBe(`cannot write ${root}/snap/b.json: ENOTDIR (not a directory)`);
    expect((err as StoreError).cause).toMatchObject({ code: "ENOTDIR" });
    await writer.abort();
  });
});
