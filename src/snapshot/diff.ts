// Differences between two snapshots, object by object: added, removed and changed objects per resource
// type and namespace, with the changed field paths. Snapshots are compared file by file (one file of
// each side in memory at a time), and files whose sha256 match in both manifests are not read at all.
// Secrets are compared without their values: only the paths that changed are reported. Without field
// paths (the change digest), only one side's names and hashes are held, and one file's bytes at a time.
import { createHash } from "node:crypto";
import { readManifest, SnapshotReadError } from "./catalog.js";
import { isRecord, jsonEqual } from "./json.js";
import { keyOfSnapshotFile, qualifiedResource } from "./layout.js";
import { ListFileError, listFileItems } from "./list-read.js";
import type { ManifestFile, SnapshotManifest } from "./manifest.js";
import type { FileProgress, SnapshotStore } from "./ports.js";

/** One step of a field path: an object key or an array index. */
export type PathSegment = string | number;

/** One changed field. `from`/`to` are absent when values are redacted (Secrets). */
export interface FieldChange {
  readonly op: "added" | "removed" | "changed";
  /** `spec.replicas`, `spec.containers[0].image`, `metadata.labels["app.kubernetes.io/name"]`. */
  readonly path: string;
  readonly segments: readonly PathSegment[];
  /** The old value (removed, changed). */
  readonly from?: unknown;
  /** The new value (added, changed). */
  readonly to?: unknown;
}

export interface DiffObjectsOptions {
  /** Report paths only, never values; added or removed maps and lists are expanded to their leaf paths. */
  readonly redactValues?: boolean;
}

/**
 * The field-level differences between two JSON values. Objects are compared key by key, arrays index by
 * index (an element inserted at the front shows as every later index changed, plus one added at the end:
 * the same as `kubectl diff` reads, and stable for lists such as containers whose order is meaningful).
 */
export function diffObjects(a: unknown, b: unknown, options: DiffObjectsOptions = {}): FieldChange[] {
  const out: FieldChange[] = [];
  walk(a, b, [], options.redactValues ?? false, out);
  return out;
}

function walk(a: unknown, b: unknown, path: PathSegment[], redact: boolean, out: FieldChange[]): void {
  if (isRecord(a) && isRecord(b)) {
    for (const key of Object.keys(a)) {
      if (Object.hasOwn(b, key)) walk(a[key], b[key], [...path, key], redact, out);
      else one("removed", a[key], [...path, key], redact, out);
    }
    for (const key of Object.keys(b))
      if (!Object.hasOwn(a, key)) one("added", b[key], [...path, key], redact, out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const common = Math.min(a.length, b.length);
    for (let i = 0; i < common; i++) walk(a[i], b[i], [...path, i], redact, out);
    for (let i = common; i < a.length; i++) one("removed", a[i], [...path, i], redact, out);
    for (let i = common; i < b.length; i++) one("added", b[i], [...path, i], redact, out);
    return;
  }
  if (jsonEqual(a, b)) return;
  out.push(redact ? change("changed", path) : change("changed", path, { from: a, to: b }));
}

/** An added or removed value: whole when values may be shown, as its leaf paths when they may not. */
function one(
  op: "added" | "removed",
  value: unknown,
  path: PathSegment[],
  redact: boolean,
  out: FieldChange[],
) {
  if (!redact) {
    out.push(change(op, path, op === "added" ? { to: value } : { from: value }));
    return;
  }
  const children: [PathSegment, unknown][] = isRecord(value)
    ? Object.entries(value)
    : Array.isArray(value)
      ? value.map((v, i) => [i, v])
      : [];
  if (children.length === 0) out.push(change(op, path));
  for (const [segment, child] of children) one(op, child, [...path, segment], redact, out);
}

function change(
  op: FieldChange["op"],
  segments: PathSegment[],
  values: { from?: unknown; to?: unknown } = {},
): FieldChange {
  return { op, path: formatPath(segments), segments, ...values };
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `["spec","containers",0,"image"]` → `spec.containers[0].image`; other keys as `["app.kubernetes.io/name"]`. */
export function formatPath(segments: readonly PathSegment[]): string {
  let text = "";
  for (const s of segments) {
    if (typeof s === "number") text += `[${s}]`;
    else if (IDENTIFIER.test(s)) text += text === "" ? s : `.${s}`;
    else text += `[${JSON.stringify(s)}]`;
  }
  return text;
}

/** Resource types whose values a diff never shows (qualified names; core Secrets hold credentials). */
export const REDACTED_RESOURCES: ReadonlySet<string> = new Set(["secrets"]);

/** A snapshot to compare: a store and the snapshot's name in it. */
export interface SnapshotSource {
  readonly store: SnapshotStore;
  readonly snapshot: string;
  /** Its manifest, when the caller holds it (a run comparing itself before its manifest is written). */
  readonly manifest?: SnapshotManifest;
}

/** How two snapshots are compared. */
export interface DiffSnapshotsOptions {
  /**
   * Find each changed object's field paths (default true). False only tells changed from unchanged, by a
   * hash of each object, holding one side's names and hashes instead of two files' objects.
   */
  readonly fields?: boolean;
  /** Names a class for each object that differs (its new body, or the old one when removed): ObjectDiff.tag. */
  readonly tag?: (resource: string, object: unknown) => string | undefined;
  /** Hears how far files() has got ("comparing"): files of both snapshots done, objects and bytes read. */
  readonly onProgress?: ((progress: FileProgress) => void) | undefined;
}

/** Objects and bytes read so far (progress). */
interface Tally {
  items: number;
  bytes: number;
}

/** One object that differs. Added and removed objects carry no body (it may be a Secret). */
export interface ObjectDiff {
  readonly change: "added" | "removed" | "changed";
  readonly name: string;
  /** Changed fields (changed objects only; empty when the diff was asked for no fields). */
  readonly fields: readonly FieldChange[];
  /** What DiffSnapshotsOptions.tag said of the object, if anything. */
  readonly tag?: string;
}

/** The differences within one (resource type, namespace) file; only files with differences are yielded. */
export interface FileDiff {
  readonly key: string;
  /** `resource.group` notation (`deployments.apps`, core: `configmaps`). */
  readonly resource: string;
  readonly namespace: string | null;
  /** True when values are never reported (Secrets). */
  readonly redacted: boolean;
  /** Ordered by name. */
  readonly objects: readonly ObjectDiff[];
}

/** A resource type listed in only one snapshot (excluded, or failed): its objects are not compared. */
export interface NotCompared {
  readonly resource: string;
  readonly reason: string;
}

export interface SnapshotDiff {
  readonly from: SnapshotManifest;
  readonly to: SnapshotManifest;
  /** Sorted by resource. */
  readonly notCompared: readonly NotCompared[];
  /** Differences file by file, in key order; reads the files as it goes (one pair in memory at a time). */
  files(): AsyncGenerator<FileDiff>;
}

/** Prepares a diff of two snapshots (both must have a manifest); throws SnapshotReadError otherwise. */
export async function diffSnapshots(
  from: SnapshotSource,
  to: SnapshotSource,
  options: DiffSnapshotsOptions = {},
): Promise<SnapshotDiff> {
  const [a, b] = [await requireManifest(from), await requireManifest(to)];
  const listedA = listedTypes(a);
  const listedB = listedTypes(b);
  const notCompared: NotCompared[] = [];
  const onlyIn = (
    side: "a" | "b",
    listed: Set<string>,
    other: Set<string>,
    otherManifest: SnapshotManifest,
  ) => {
    const otherSide = side === "a" ? "b" : "a";
    for (const resource of listed) {
      if (other.has(resource)) continue;
      const failed = otherManifest.errors.find((e) => e.resource === resource);
      notCompared.push({
        resource,
        reason: failed
          ? `listed in ${side} only; in ${otherSide} it failed (${failed.status ?? "error"}: ${failed.message})`
          : `listed in ${side} only (not backed up in ${otherSide})`,
      });
    }
  };
  onlyIn("a", listedA, listedB, b);
  onlyIn("b", listedB, listedA, a);
  notCompared.sort((x, y) => (x.resource < y.resource ? -1 : x.resource > y.resource ? 1 : 0));
  const compared = new Set([...listedA].filter((r) => listedB.has(r)));

  async function* files(): AsyncGenerator<FileDiff> {
    const byKey = new Map<string, { a?: ManifestFile; b?: ManifestFile }>();
    for (const f of a.files) byKey.set(f.key, { ...byKey.get(f.key), a: f });
    for (const f of b.files) byKey.set(f.key, { ...byKey.get(f.key), b: f });
    const keys = [...byKey.keys()]
      .filter((key) => {
        const pair = byKey.get(key) as { a?: ManifestFile; b?: ManifestFile };
        return compared.has(((pair.a ?? pair.b) as ManifestFile).resource);
      })
      .sort();
    const tally: Tally = { items: 0, bytes: 0 };
    const progress = (files: number) =>
      options.onProgress?.({ phase: "comparing", files, totalFiles: keys.length, ...tally });
    for (const [i, key] of keys.entries()) {
      progress(i);
      const pair = byKey.get(key) as { a?: ManifestFile; b?: ManifestFile };
      const meta = (pair.a ?? pair.b) as ManifestFile;
      if (pair.a && pair.b && pair.a.sha256 === pair.b.sha256) continue;
      const redacted = REDACTED_RESOURCES.has(meta.resource);
      let objects: ObjectDiff[];
      if (options.fields === false) {
        objects = await diffByHash(
          pair.a ? from : undefined,
          pair.b ? to : undefined,
          key,
          meta.resource,
          options,
          tally,
        );
      } else {
        const itemsA = pair.a ? await readItems(from, key, tally) : new Map<string, unknown>();
        const itemsB = pair.b ? await readItems(to, key, tally) : new Map<string, unknown>();
        objects = diffItems(itemsA, itemsB, { redacted, resource: meta.resource, ...options });
      }
      if (objects.length > 0)
        yield { key, resource: meta.resource, namespace: meta.namespace, redacted, objects };
    }
    progress(keys.length);
  }

  return { from: a, to: b, notCompared, files };
}

function diffItems(
  a: Map<string, unknown>,
  b: Map<string, unknown>,
  how: DiffSnapshotsOptions & { readonly redacted: boolean; readonly resource: string },
): ObjectDiff[] {
  const names = [...new Set([...a.keys(), ...b.keys()])].sort();
  const out: ObjectDiff[] = [];
  const tagged = (diff: ObjectDiff, ...bodies: unknown[]): ObjectDiff => {
    for (const body of bodies) {
      const tag = how.tag?.(how.resource, body);
      if (tag !== undefined) return { ...diff, tag };
    }
    return diff;
  };
  for (const name of names) {
    const [before, after] = [a.get(name), b.get(name)];
    if (!b.has(name)) out.push(tagged({ change: "removed", name, fields: [] }, before));
    else if (!a.has(name)) out.push(tagged({ change: "added", name, fields: [] }, after));
    else {
      const fields = diffObjects(before, after, { redactValues: how.redacted });
      if (fields.length > 0) out.push(tagged({ change: "changed", name, fields }, after, before));
    }
  }
  return out;
}

/**
 * Which objects of one file were added, removed or changed, by name, without field paths: the old
 * side's names with a hash of each object (and its tag) are held, the new side is read item by item.
 * Equal hashes are equal objects: both files come from this tool's writer, which serialises what the
 * server sent in the server's key order. Memory: the names, and one file's bytes at a time.
 */
async function diffByHash(
  from: SnapshotSource | undefined,
  to: SnapshotSource | undefined,
  key: string,
  resource: string,
  options: DiffSnapshotsOptions,
  tally: Tally,
): Promise<ObjectDiff[]> {
  const tagOf = (item: unknown) => options.tag?.(resource, item);
  const withTag = (diff: ObjectDiff, tag: string | undefined): ObjectDiff =>
    tag === undefined ? diff : { ...diff, tag };
  const before = new Map<string, { hash: string; tag: string | undefined }>();
  if (from)
    await eachItem(from, key, tally, (name, item) =>
      before.set(name, { hash: hashOf(item), tag: tagOf(item) }),
    );
  const out: ObjectDiff[] = [];
  if (to) {
    await eachItem(to, key, tally, (name, item) => {
      const old = before.get(name);
      if (!old) {
        out.push(withTag({ change: "added", name, fields: [] }, tagOf(item)));
        return;
      }
      before.delete(name);
      if (old.hash !== hashOf(item))
        out.push(withTag({ change: "changed", name, fields: [] }, tagOf(item) ?? old.tag));
    });
  }
  for (const [name, old] of before) out.push(withTag({ change: "removed", name, fields: [] }, old.tag));
  return out.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}

function hashOf(item: unknown): string {
  return createHash("sha256").update(JSON.stringify(item)).digest("base64");
}

async function requireManifest(source: SnapshotSource): Promise<SnapshotManifest> {
  if (source.manifest) return source.manifest;
  const read = await readManifest(source.store, source.snapshot);
  if (read.ok) return read.manifest;
  const where = source.store.describe(source.snapshot);
  if (read.missing) {
    let any = false;
    for await (const _ of source.store.list(source.snapshot)) {
      any = true;
      break;
    }
    if (!any)
      throw new SnapshotReadError(`no snapshot ${source.snapshot} at ${where}: nothing is stored there`);
  }
  throw new SnapshotReadError(`cannot compare ${where}: ${read.problem}`);
}

/** Types a snapshot listed (the manifest's resources), as `resource.group`. */
function listedTypes(m: SnapshotManifest): Set<string> {
  return new Set(m.resources.map((r) => qualifiedResource(r)));
}

/** The items of one file by name (names are unique within a resource type and namespace). */
async function readItems(source: SnapshotSource, key: string, tally: Tally): Promise<Map<string, unknown>> {
  const items = new Map<string, unknown>();
  await eachItem(source, key, tally, (name, item) => items.set(name, item));
  return items;
}

/**
 * Hands each item of one file to `visit` with its name, in order, counting them and the file's bytes in
 * `tally`; throws SnapshotReadError for a bad file.
 */
async function eachItem(
  source: SnapshotSource,
  key: string,
  tally: Tally,
  visit: (name: string, item: unknown) => void,
): Promise<void> {
  const where = source.store.describe(keyOfSnapshotFile(source.snapshot, key));
  const body = await source.store.get(keyOfSnapshotFile(source.snapshot, key));
  if (body === undefined)
    throw new SnapshotReadError(`cannot compare: ${where} is missing (the manifest lists it; run verify)`);
  tally.bytes += body.length;
  const names = new Set<string>();
  try {
    for (const item of listFileItems(body)) {
      const name = isRecord(item) && isRecord(item.metadata) ? item.metadata.name : undefined;
      if (typeof name !== "string")
        throw new SnapshotReadError(
          `cannot compare: ${where} holds an item without metadata.name (run verify)`,
        );
      if (names.has(name))
        throw new SnapshotReadError(`cannot compare: ${where} holds ${name} twice (run verify)`);
      names.add(name);
      tally.items += 1;
      visit(name, item);
    }
  } catch (err) {
    if (err instanceof ListFileError)
      throw new SnapshotReadError(`cannot compare: ${where} ${err.message} (run verify)`);
    throw err;
  }
}
