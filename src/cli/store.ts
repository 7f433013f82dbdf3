// Opens the store a command reads or writes: a folder, or an S3 bucket. The S3 SDK is loaded only
// for --bucket (it costs ~0.2 s and ~20 MB to load; a folder snapshot never needs it).
import { join, resolve } from "node:path";
import type { SnapshotStore } from "../snapshot/ports.js";
import { FsStore } from "../stores/fs.js";
import { s3Region } from "./aws-region.js";
import type { Target } from "./commands.js";
import type { CliIo } from "./output.js";

export interface OpenedStore {
  readonly store: SnapshotStore;
  close(): void;
}

/** Builds the store for a target and prefix (shared by the commands that read or write snapshots). */
export async function openStore(
  target: Target,
  prefix: string,
  io: Pick<CliIo, "cwd" | "env" | "signal">,
): Promise<OpenedStore> {
  if (target.kind === "dir")
    return {
      store: new FsStore(join(resolve(io.cwd(), target.dir), prefix), { signal: io.signal }),
      close: () => undefined,
    };
  const { createS3Client, S3Store } = await import("../stores/s3.js");
  const {
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    AWS_SESSION_TOKEN: sessionToken,
  } = io.env;
  const client = createS3Client({
    region: await s3Region(target.region, io.env),
    // Keys in the CLI's environment win; otherwise the SDK's chain (profiles, SSO, instance roles).
    ...(accessKeyId && secretAccessKey
      ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } }
      : {}),
    ...(target.endpoint ? { endpoint: target.endpoint, forcePathStyle: true } : {}),
  });
  return {
    store: new S3Store({
      client,
      bucket: target.bucket,
      prefix,
      ...(target.sse ? { sse: target.sse } : {}),
      ...(target.objectLock ? { objectLock: target.objectLock } : {}),
      // Ctrl-C cancels uploads in flight; their multipart uploads are still aborted.
      signal: io.signal,
    }),
    close: () => client.destroy(),
  };
}
