// Where snapshots are: a folder, or S3 (\`s3://bucket/prefix\`, \`--bucket\` with its S3 options). Turns
// the location flags and arguments into a Target, Location or SnapshotRef, collecting every problem.
import { isSnapshotName } from "../snapshot/layout.js";
import type { ObjectLockRetention } from "../snapshot/ports.js";
import type { Location, SnapshotRef, SseSettings, Target } from "./commands.js";
import { parseIntFlag } from "./flags.js";

/** The environment (AWS_REGION, AWS_DEFAULT_REGION supply the region). */
export type Env = Record<string, string | undefined>;

/** The S3 flags of a command that reads locations. */
export interface S3Flags {
  readonly endpoint?: string | undefined;
  readonly region?: string | undefined;
}

/** S3 bucket naming rules (the common subset). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Where `snapshot` writes: `--out DIR` (default ./backups), or `--bucket` with its S3-only flags. */
export function parseTarget(
  v: {
    out?: string;
    bucket?: string;
    endpoint?: string;
    region?: string;
    sse?: string;
    "kms-key-id"?: string;
    "object-lock"?: string;
    "object-lock-days"?: string;
  },
  env: Env,
  problems: string[],
): Target {
  const s3Only = (
    ["endpoint", "region", "sse", "kms-key-id", "object-lock", "object-lock-days"] as const
  ).filter((k) => v[k] !== undefined);
  if (v.bucket === undefined) {
    for (const k of s3Only) problems.push(`--${k} only applies with --bucket`);
    return { kind: "dir", dir: v.out ?? "./backups" };
  }
  if (v.out !== undefined)
    problems.push("--out and --bucket cannot be used together (choose a folder or S3)");
  if (v.bucket !== "" && !BUCKET_NAME.test(v.bucket))
    problems.push(`--bucket "${v.bucket}" is not a valid S3 bucket name`);
  if (v.endpoint !== undefined && v.endpoint !== "") endpointProblems(v.endpoint, problems);
  let sse: SseSettings | undefined;
  if (v.sse === "AES256") sse = { mode: "AES256" };
  else if (v.sse === "aws:kms")
    sse = v["kms-key-id"] ? { mode: "aws:kms", kmsKeyId: v["kms-key-id"] } : { mode: "aws:kms" };
  else if (v.sse !== undefined) problems.push(`--sse must be AES256 or aws:kms (got "${v.sse}")`);
  if (v["kms-key-id"] !== undefined && v.sse !== "aws:kms")
    problems.push("--kms-key-id requires --sse aws:kms");
  const objectLock = parseObjectLock(v["object-lock"], v["object-lock-days"], problems);
  return {
    kind: "s3",
    bucket: v.bucket,
    endpoint: v.endpoint,
    region: v.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
    sse,
    ...(objectLock ? { objectLock } : {}),
  };
}

/** S3 allows retention up to 100 years. */
const MAX_LOCK_DAYS = 36_500;

/** `--object-lock governance|compliance` with `--object-lock-days N` (both, or neither). */
function parseObjectLock(
  mode: string | undefined,
  days: string | undefined,
  problems: string[],
): ObjectLockRetention | undefined {
  if (mode === undefined) {
    if (days !== undefined) problems.push("--object-lock-days requires --object-lock");
    return undefined;
  }
  const upper = mode.toUpperCase();
  if (upper !== "GOVERNANCE" && upper !== "COMPLIANCE")
    problems.push(`--object-lock must be governance or compliance (got "${mode}")`);
  if (days === undefined)
    problems.push("--object-lock needs --object-lock-days N (how long objects stay locked)");
  const lockDays =
    days === undefined ? 0 : parseIntFlag("object-lock-days", days, 0, MAX_LOCK_DAYS, problems);
  if (upper !== "GOVERNANCE" && upper !== "COMPLIANCE") return undefined;
  return { mode: upper, days: lockDays };
}

/** The flags of every command that reads snapshots from a location (list, verify, diff, restore, history). */
export const S3_LOCATION_OPTIONS = {
  endpoint: { type: "string" },
  region: { type: "string" },
  json: { type: "boolean" },
} as const;

/** Parses a folder path or `s3://bucket/prefix` into a target + prefix (pure; no I/O). */
export function parseLocation(text: string, s3: S3Flags, env: Env, problems: string[]): Location {
  if (text.startsWith("s3://")) {
    const [bucket = "", ...rest] = text.slice("s3://".length).split("/");
    if (!BUCKET_NAME.test(bucket)) problems.push(`"${text}": "${bucket}" is not a valid S3 bucket name`);
    if (s3.endpoint !== undefined) endpointProblems(s3.endpoint, problems);
    return {
      target: {
        kind: "s3",
        bucket,
        endpoint: s3.endpoint,
        region: s3.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
      },
      prefix: rest.filter((p) => p.length > 0).join("/"),
    };
  }
  if (text === "") problems.push("the location must not be empty");
  return { target: { kind: "dir", dir: text.replace(/\/+$/, "") || "/" }, prefix: "" };
}

/** Parses a snapshot reference: a location whose last segment is the snapshot's name. */
export function parseSnapshotRef(text: string, s3: S3Flags, env: Env, problems: string[]): SnapshotRef {
  const trimmed = text.replace(/\/+$/, "");
  const cut = trimmed.lastIndexOf("/");
  const snapshot = cut >= 0 ? trimmed.slice(cut + 1) : trimmed;
  const parent = cut >= 0 ? trimmed.slice(0, cut) : ".";
  if (!isSnapshotName(snapshot)) {
    problems.push(`"${text}" does not end in a snapshot name like 2026-11-24_03-00-00`);
  }
  const location = parseLocation(
    trimmed.startsWith("s3://") && cut < "s3://".length ? trimmed : parent,
    s3,
    env,
    problems,
  );
  return { ...location, snapshot };
}

/** `--endpoint` and `--region` given although no location is on S3. */
export function s3OnlyProblems(v: S3Flags, refs: string[], problems: string[]): void {
  if (refs.every((r) => !r.startsWith("s3://"))) {
    if (v.endpoint !== undefined) problems.push("--endpoint only applies to s3:// locations");
    if (v.region !== undefined) problems.push("--region only applies to s3:// locations");
  }
}

/** `--endpoint` must be an http(s) URL. */
function endpointProblems(endpoint: string, problems: string[]): void {
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:"))
    problems.push(`--endpoint "${endpoint}" is not an http(s) URL`);
}
