// Every key of the snapshot layout comes from here (the S3/folder tree is a public contract).
// Keys are relative to the store's root, which already includes the user's prefix.
import type { ResourceType } from "./ports.js";

/** Written last in a snapshot: its presence means the snapshot is complete. */
export const MANIFEST_FILE = "manifest.json";
/** Beside the snapshots: points at the newest snapshot that has a manifest. */
export const LATEST_KEY = "latest.json";
/** One small object per run, created exclusively, so two runs in the same second get distinct names. */
export const RUNS_DIR = ".runs";

/** The default prefix, kept from kube-aws's autosave so existing readers keep working. */
export function defaultPrefix(clusterName: string): string {
  return `kube-aws/clusters/${clusterName}/backup`;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** UTC `yyyy-MM-dd_HH-mm-ss`: sorts by time, and is valid in S3 keys and file names. */
export function formatTimestamp(date: Date): string {
  return (
    `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}_` +
    `${pad(date.getUTCHours())}-${pad(date.getUTCMinutes())}-${pad(date.getUTCSeconds())}`
  );
}

/** The n-th candidate name for a snapshot started at `timestamp` (1 = the timestamp itself). */
export function snapshotName(timestamp: string, n: number): string {
  return n <= 1 ? timestamp : `${timestamp}-${n}`;
}

/** True for names formatTimestamp/snapshotName produce. */
export function isSnapshotName(name: string): boolean {
  return /^\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}(-\d+)?$/.test(name);
}

/** kubectl's `resource.group` notation; the core group is just `resource`. */
export function qualifiedResource(type: Pick<ResourceType, "resource" | "group">): string {
  return type.group ? `${type.resource}.${type.group}` : type.resource;
}

/** The key of one resource type's file: `<snapshot>/[<namespace>/]<resource>[.<group>].json`. */
export function resourceFileKey(
  snapshot: string,
  type: Pick<ResourceType, "resource" | "group">,
  namespace?: string,
): string {
  return keyOfSnapshotFile(snapshot, listFileKey(qualifiedResource(type), namespace));
}

/**
 * A List file's key inside its snapshot folder (the manifest's `files[].key`):
 * `[<namespace>/]<resource.group>.json`, from kubectl's `resource.group` name.
 */
export function listFileKey(resource: string, namespace?: string | null): string {
  return namespace ? `${namespace}/${resource}.json` : `${resource}.json`;
}

/** A List file key inside a snapshot folder, read back; `namespace` is null for cluster-scoped types. */
export interface ListFileRef {
  /** Relative to the snapshot folder, e.g. `app-1/deployments.apps.json`. */
  readonly key: string;
  readonly namespace: string | null;
  readonly resource: string;
  /** "" for the core group. */
  readonly group: string;
}

/**
 * A List file key: an optional namespace (a DNS label), then `<resource>[.<group>].json` — so a key that
 * parses never holds `..`, a second `/` or a temp file's leading dot.
 */
const LIST_FILE_KEY =
  /^(?:([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/)?([a-z0-9][-a-z0-9]*)((?:\.[a-z0-9][-a-z0-9]*)*)\.json$/;

/** Parses a List file key (`<resource>[.<group>].json` or `<namespace>/…`); undefined when it is not one. */
export function parseFileKey(key: string): ListFileRef | undefined {
  const m = LIST_FILE_KEY.exec(key);
  if (!m || key === MANIFEST_FILE) return undefined;
  const [, namespace, , resource = "", group = ""] = m;
  return { key, namespace: namespace ?? null, resource, group: group.replace(/^\./, "") };
}

/** The manifest key of a snapshot. */
export function manifestKey(snapshot: string): string {
  return `${snapshot}/${MANIFEST_FILE}`;
}

/** The run-claim key of a snapshot name. */
export function claimKey(snapshot: string): string {
  return `${RUNS_DIR}/${snapshot}.json`;
}

/** The snapshot name a run-claim key claims (`.runs/<name>.json`), else undefined. */
export function snapshotOfClaimKey(key: string): string | undefined {
  const prefix = `${RUNS_DIR}/`;
  if (!key.startsWith(prefix) || !key.endsWith(".json")) return undefined;
  const name = key.slice(prefix.length, -".json".length);
  return isSnapshotName(name) ? name : undefined;
}

/** The snapshot a store key lies in (its first segment, when that is a snapshot name), else undefined. */
export function snapshotOfKey(key: string): string | undefined {
  const head = key.split("/", 1)[0] ?? "";
  return key.length > head.length && isSnapshotName(head) ? head : undefined;
}

/** The key relative to its snapshot folder (what the manifest's `files[].key` holds). */
export function keyInSnapshot(snapshot: string, key: string): string {
  return key.startsWith(`${snapshot}/`) ? key.slice(snapshot.length + 1) : key;
}

/** The store key of a key relative to its snapshot folder (the inverse of keyInSnapshot). */
export function keyOfSnapshotFile(snapshot: string, key: string): string {
  return `${snapshot}/${key}`;
}

/** `2026-11-24_03-00-00[-N]` → `2026-11-24T03:00:00.000Z` (names are UTC start times); "" for other names. */
export function startOfName(name: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})_(\d{2})-(\d{2})-(\d{2})/.exec(name);
  return m ? `${m[1]}T${m[2]}:${m[3]}:${m[4]}.000Z` : "";
}

/** Orders snapshot names by time, then by their `-N` suffix (so `…-10` sorts after `…-2`). */
export function compareSnapshotNames(a: string, b: string): number {
  const split = (s: string) => {
    const m = /^(.*?_\d{2}-\d{2}-\d{2})(?:-(\d+))?$/.exec(s);
    return m ? { base: m[1] ?? s, n: Number(m[2] ?? 1) } : { base: s, n: 1 };
  };
  const x = split(a);
  const y = split(b);
  if (x.base !== y.base) return x.base < y.base ? -1 : 1;
  return x.n - y.n;
}
