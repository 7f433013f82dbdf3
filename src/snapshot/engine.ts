// The snapshot engine: discover every listable type, list each ONCE across all namespaces page by
// page, stream the cleaned items into one List file per (type, namespace), then write the manifest
// last. Knows nothing of AWS, Lambda or the process: everything comes in through ports.
import { cleanObject } from "./clean.js";
import { digestChanges } from "./digest.js";
import { selectResourceTypes } from "./discovery.js";
import { ApiError, ListExpiredError, ListInterruptedError, SnapshotAbortedError } from "./errors.js";
import type { ResourceFilters } from "./filters.js";
import { namespaceIncluded } from "./filters.js";
import { readPrevious, updateLatest } from "./latest.js";
import {
  claimKey,
  formatTimestamp,
  keyInSnapshot,
  manifestKey,
  qualifiedResource,
  resourceFileKey,
  snapshotName,
} from "./layout.js";
import { type FileSummary, ListFileWriter } from "./list-file.js";
import {
  MANIFEST_API_VERSION,
  type ManifestError,
  type ManifestFile,
  type ManifestResource,
  type SnapshotManifest,
} from "./manifest.js";
import { runPool } from "./pool.js";
import type {
  Clock,
  ClusterReader,
  KubeObject,
  ListPageResult,
  Logger,
  ResourceType,
  SnapshotStore,
} from "./ports.js";
import { routineRuleOf } from "./routine.js";

/** An expired continue token restarts the type's list; after this many restarts the type fails. */
const MAX_LIST_RESTARTS = 3;
/** Candidate names per second before giving up (`ts`, `ts-2` … `ts-100`). */
const MAX_NAME_ATTEMPTS = 100;
/**
 * A type's finished files are committed while its next files are written (an S3 commit is a round trip
 * per file; a type has a file per namespace). At most this many commits, of at most this many bytes
 * together (a single larger file excepted), are in flight per type.
 */
const MAX_COMMITS_IN_FLIGHT = 8;
const MAX_COMMIT_BYTES_IN_FLIGHT = 4 * 1024 * 1024;

export interface SnapshotOptions {
  readonly clusterName: string;
  readonly filters: ResourceFilters;
  /** Items per list request (`limit`). */
  readonly pageSize: number;
  /** Resource types listed at once. */
  readonly concurrency: number;
  /** Store objects exactly as served (no cleaning). */
  readonly raw: boolean;
  readonly toolVersion: string;
  /**
   * Aborting (deadline, signal) stops the run between pages, and adapters given the same signal cancel
   * their requests in flight; the run rejects with SnapshotAbortedError and no manifest is written.
   */
  readonly signal?: AbortSignal | undefined;
}

/** Progress of a run, for terminals: the types to list ("planned", once), then each type's. */
export interface ProgressEvent {
  /** `resource.group` ("" for "planned"). */
  readonly resource: string;
  readonly phase: "planned" | "listing" | "done" | "failed" | "restarted";
  /** Items of the type stored so far ("listing") or in all ("done"). */
  readonly items: number;
  /** Bytes of the type's files ("done"). */
  readonly bytes?: number;
  /** Resource types the run lists ("planned"). */
  readonly types?: number;
}

export interface SnapshotDeps {
  readonly cluster: ClusterReader;
  readonly store: SnapshotStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onProgress?: ((event: ProgressEvent) => void) | undefined;
}

export interface SnapshotResult {
  readonly snapshot: string;
  /** Store key of the manifest. */
  readonly manifestKey: string;
  readonly manifest: SnapshotManifest;
}

type TypeOutcome =
  | {
      readonly ok: true;
      readonly resource: ManifestResource;
      readonly files: ManifestFile[];
      /** Objects stored that a routine rule covers (routine.ts): the digest counts them apart. */
      readonly routine: number;
    }
  | { readonly ok: false; readonly error: ManifestError };

/** Takes one snapshot. Resolves with the manifest (Completed or PartiallyFailed); rejects, with no manifest written, when the cluster or store fails or the run is aborted. */
export async function takeSnapshot(deps: SnapshotDeps, options: SnapshotOptions): Promise<SnapshotResult> {
  const progress = { manifestWritten: false };
  try {
    return await snapshotRun(deps, options, progress);
  } catch (err) {
    // Adapters may cancel their requests on the same signal: whatever they threw, the run was stopped.
    if (!progress.manifestWritten && options.signal?.aborted && !(err instanceof SnapshotAbortedError)) {
      throwIfAborted(options.signal, err);
    }
    throw err;
  }
}

async function snapshotRun(
  deps: SnapshotDeps,
  options: SnapshotOptions,
  progress: { manifestWritten: boolean },
): Promise<SnapshotResult> {
  const { cluster, store, clock, logger } = deps;
  const serverVersion = await cluster.serverVersion();
  // Discovery runs while the snapshot's name is claimed; a failure is reported where it is awaited.
  const discovery = cluster.discover();
  discovery.catch(() => undefined);
  const startedAt = clock.now();
  const snapshot = await claimSnapshotName(store, formatTimestamp(startedAt), {
    cluster: options.clusterName,
    startedAt: startedAt.toISOString(),
    tool: options.toolVersion,
  });
  logger.info("snapshot started", {
    snapshot,
    cluster: options.clusterName,
    serverVersion,
    location: store.describe(snapshot),
  });
  // What the change digest compares with: the snapshot latest.json names now, before this run ends.
  const previous = await readPrevious(store);

  const selection = selectResourceTypes(await discovery, options.filters);
  deps.onProgress?.({ resource: "", phase: "planned", items: 0, types: selection.types.length });
  const run = new TypeBackup(deps, options, snapshot);
  const outcomes = await runPool(
    selection.types,
    {
      concurrency: options.concurrency,
      // The first fatal error (cluster or store gone) stops the other types at their next page.
      onError: (error) => {
        run.fatal ??= { error };
      },
    },
    (type) => run.backup(type),
  );

  const resources: ManifestResource[] = [];
  const files: ManifestFile[] = [];
  const errors: ManifestError[] = [...selection.errors];
  let routineItems = 0;
  for (const outcome of outcomes) {
    if (outcome.ok) {
      resources.push(outcome.resource);
      files.push(...outcome.files);
      routineItems += outcome.routine;
    } else {
      errors.push(outcome.error);
    }
  }
  files.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const completedAt = clock.now();
  const base: SnapshotManifest = {
    apiVersion: MANIFEST_API_VERSION,
    kind: "SnapshotManifest",
    snapshot,
    cluster: { name: options.clusterName, serverVersion },
    status: errors.length === 0 ? "Completed" : "PartiallyFailed",
    startedAt: startedAt.toISOString(),
    completedAt: completedAt.toISOString(),
    tool: { name: "kube-autosave", version: options.toolVersion },
    options: {
      includeResources: options.filters.includeResources,
      excludeResources: selection.excludeResources,
      includeNamespaces: options.filters.includeNamespaces,
      excludeNamespaces: options.filters.excludeNamespaces,
      pageSize: options.pageSize,
      raw: options.raw,
      objectLock: store.objectLock ?? null,
    },
    totals: {
      resourceTypes: resources.length,
      files: files.length,
      items: files.reduce((n, f) => n + f.items, 0),
      bytes: files.reduce((n, f) => n + f.bytes, 0),
    },
    resources,
    files,
    skipped: selection.skipped,
    errors,
  };
  throwIfAborted(options.signal);
  // Every file is committed by now; once they are durable, the manifest's presence is what makes the
  // snapshot complete.
  await store.sync();
  throwIfAborted(options.signal);
  const changes = await digestChanges({
    store,
    previous,
    current: base,
    objects: base.totals.items - routineItems,
    checkStop: () => throwIfAborted(options.signal),
  });
  if (!changes.compared && changes.since !== null)
    logger.warn("not compared with the previous snapshot", { since: changes.since, reason: changes.reason });
  const { resources: _r, files: _f, skipped: _s, errors: _e, ...head } = base;
  const manifest: SnapshotManifest = { ...head, changes, resources, files, skipped: base.skipped, errors };
  throwIfAborted(options.signal);
  await store.put(manifestKey(snapshot), Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
  progress.manifestWritten = true;
  await updateLatest(store, { snapshot, status: manifest.status, completedAt: manifest.completedAt });
  logger.info("snapshot written", {
    snapshot,
    status: manifest.status,
    ...manifest.totals,
    errors: errors.length,
    changes: { since: changes.since, ...changes.totals },
  });
  return { snapshot, manifestKey: manifestKey(snapshot), manifest };
}

/** Claims `<timestamp>`, or `<timestamp>-2`, `-3`… when a run in the same second got there first. */
async function claimSnapshotName(
  store: SnapshotStore,
  timestamp: string,
  claim: Record<string, string>,
): Promise<string> {
  for (let n = 1; n <= MAX_NAME_ATTEMPTS; n++) {
    const name = snapshotName(timestamp, n);
    if (await hasAnyObject(store, `${name}/`)) continue; // e.g. a snapshot written before claims existed
    if (
      await store.createExclusive(
        claimKey(name),
        Buffer.from(`${JSON.stringify({ snapshot: name, ...claim })}\n`),
      )
    ) {
      return name;
    }
  }
  throw new Error(`no free snapshot name for ${timestamp} after ${MAX_NAME_ATTEMPTS} attempts`);
}

async function hasAnyObject(store: SnapshotStore, prefix: string): Promise<boolean> {
  for await (const _ of store.list(prefix)) return true;
  return false;
}

function throwIfAborted(signal: AbortSignal | undefined, cause?: unknown): void {
  if (signal?.aborted) {
    const reason =
      signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? "aborted");
    throw new SnapshotAbortedError(
      `snapshot stopped before it finished (${reason}); no manifest was written`,
      cause === undefined ? undefined : { cause },
    );
  }
}

/** Sets apiVersion and kind first (list responses omit them on items). */
function withTypeMeta(obj: KubeObject, type: ResourceType): KubeObject {
  const { apiVersion: _apiVersion, kind: _kind, ...rest } = obj;
  return {
    apiVersion: type.group ? `${type.group}/${type.version}` : type.version,
    kind: type.kind,
    ...rest,
  };
}

/** Lists one resource type into its files, restarting on an expired continue token. */
class TypeBackup {
  /** Set when any type hit a fatal error: the others stop at their next page. */
  fatal: { error: unknown } | undefined;

  constructor(
    private readonly deps: SnapshotDeps,
    private readonly options: SnapshotOptions,
    private readonly snapshot: string,
  ) {}

  async backup(type: ResourceType): Promise<TypeOutcome> {
    const resource = qualifiedResource(type);
    // Files of namespaces whose list an earlier attempt finished, by namespace: a restarted list keeps
    // them and skips those namespaces, so inside a snapshot each key is written once (with S3 Object
    // Lock a second write would leave a second locked version behind).
    const kept = new Map<string, KeptFile>();
    // Keys of an attempt whose files cannot be trusted (its list mixed namespaces): rewritten or removed.
    const discarded = new Set<string>();
    let byNamespace = false;
    for (let attempt = 1; ; attempt++) {
      const committed: FileSummary[] = [];
      const commits = new CommitQueue(committed);
      const tally: Tally = new Map();
      let open: ListFileWriter | undefined;
      try {
        const setOpen = (w: ListFileWriter | undefined) => {
          open = w;
        };
        const skip = new Set(kept.keys());
        if (byNamespace) await this.#listByNamespace(type, commits, setOpen, tally, skip);
        else await this.#list(type, commits, setOpen, tally, skip);
        open = undefined;
        await commits.settle();
        const files = [...[...kept.values()].map((k) => k.summary), ...committed];
        // Keys of a discarded attempt that this one did not write again (a namespace emptied in between).
        const keys = new Set(files.map((f) => f.key));
        for (const key of discarded) if (!keys.has(key)) await this.deps.store.delete(key);
        const stored = files.reduce((n, f) => n + f.items, 0);
        let notStored = 0;
        let routine = 0;
        for (const n of [...tally.values(), ...[...kept.values()].map((k) => k.tally)]) {
          notStored += n.notStored;
          routine += n.routine;
        }
        const bytes = files.reduce((n, f) => n + f.bytes, 0);
        this.deps.onProgress?.({ resource, phase: "done", items: stored, bytes });
        return {
          ok: true,
          resource: {
            group: type.group,
            version: type.version,
            resource: type.resource,
            kind: type.kind,
            namespaced: type.namespaced,
            items: stored,
            notStored,
          },
          files: files.map((f) => ({
            key: keyInSnapshot(this.snapshot, f.key),
            resource,
            namespace: namespaceOfKey(this.snapshot, f.key),
            items: f.items,
            bytes: f.bytes,
            sha256: f.sha256,
          })),
          routine,
        };
      } catch (err) {
        if (open) await (open as ListFileWriter).abort().catch(() => undefined);
        // A commit that fails removes its own temp file or upload; one that succeeds is a finished namespace.
        await commits.settle().catch(() => undefined);
        if (err instanceof OutOfOrderError && !byNamespace) {
          this.deps.logger.warn("the list mixes namespaces; listing the type namespace by namespace", {
            resource,
          });
          // A namespace seen twice means files committed so far may lack items: none of them is kept.
          for (const f of committed) discarded.add(f.key);
          for (const k of kept.values()) discarded.add(k.summary.key);
          kept.clear();
          byNamespace = true;
          attempt -= 1; // not a failure of the server's: it does not count as a restart
          continue;
        }
        const restartable = err instanceof ListExpiredError || err instanceof ListInterruptedError;
        if (restartable && attempt <= MAX_LIST_RESTARTS) {
          // Each committed file is a namespace the list had finished (namespaces come one after the other).
          for (const f of committed) {
            const ns = namespaceOfKey(this.snapshot, f.key) ?? "";
            kept.set(ns, { summary: f, tally: tally.get(ns) ?? emptyCount() });
          }
          const why = err instanceof ListExpiredError ? "continue token expired" : "list response broke off";
          this.deps.logger.warn(`${why}; restarting the list`, { resource, attempt });
          this.deps.onProgress?.({ resource, phase: "restarted", items: 0 });
          continue;
        }
        if (err instanceof ApiError || restartable || err instanceof OutOfOrderError) {
          // Files of a type that failed must not stay behind looking like a backup of it.
          const written = [...discarded, ...[...kept.values()].map((k) => k.summary.key)];
          for (const key of [...written, ...committed.map((f) => f.key)]) await this.deps.store.delete(key);
          const status = err instanceof ApiError ? err.status : err instanceof ListExpiredError ? 410 : null;
          this.deps.logger.warn("resource type failed", { resource, status, message: err.message });
          this.deps.onProgress?.({ resource, phase: "failed", items: 0 });
          return { ok: false, error: { resource, namespace: null, status, message: err.message } };
        }
        throw err;
      }
    }
  }

  /**
   * Lists the type into its files. Kubernetes serves a cluster-wide list in key order (namespace/name), so
   * each namespace arrives in one run and its file is committed when the next begins. A server that mixes
   * namespaces (some aggregated API servers) throws OutOfOrderError; the type is then listed namespace by
   * namespace (`#listByNamespace`). Items of the namespaces in `skip` (finished by an earlier attempt) are
   * not written again; `tally` counts, per namespace, what was read but not stored.
   */
  async #list(
    type: ResourceType,
    commits: CommitQueue,
    setOpen: (w: ListFileWriter | undefined) => void,
    tally: Tally,
    skip: ReadonlySet<string>,
    namespace?: string,
  ): Promise<void> {
    const { store } = this.deps;
    const { filters, raw } = this.options;
    const resource = qualifiedResource(type);
    const isNamespaceType = type.group === "" && type.resource === "namespaces";
    const seen = new Set<string>();
    // The namespace whose items are arriving (each must arrive in one run, kept ones included).
    let arriving: string | undefined;
    let current: { namespace: string; writer: ListFileWriter } | undefined;
    let stored = 0;
    await this.#pages(type, namespace, async (items) => {
      // The batch's items of the current namespace, in order: serialised together (ListFileWriter.addAll).
      let run: KubeObject[] = [];
      const batch = items as KubeObject[];
      for (let i = 0; i < batch.length; i++) {
        const item = batch[i] as KubeObject;
        // Drop the batch's reference: a written item can be collected before the batch is done.
        batch[i] = undefined as unknown as KubeObject;
        const ns = type.namespaced ? item.metadata?.namespace : "";
        if (typeof ns !== "string" || (type.namespaced && ns === ""))
          throw new ApiError(`${resource}: the API returned an item without a namespace`, null);
        if (namespace !== undefined && ns !== namespace)
          throw new ApiError(
            `${resource}: a list of namespace ${namespace} returned an item of another`,
            null,
          );
        if (ns !== arriving) {
          if (seen.has(ns))
            throw new OutOfOrderError(`${resource}: the API returned namespace ${ns} out of order`);
          seen.add(ns);
          arriving = ns;
        }
        if (skip.has(ns)) continue;
        const filterName = type.namespaced ? ns : isNamespaceType ? item.metadata?.name : undefined;
        const cleaned =
          filterName !== undefined && !namespaceIncluded(filters, filterName)
            ? undefined
            : raw
              ? item
              : cleanObject(item, type);
        if (!cleaned) {
          countOf(tally, ns).notStored += 1;
          continue;
        }
        if (current?.namespace !== ns) {
          if (current) {
            await current.writer.addAll(run);
            run = [];
            setOpen(undefined);
            await commits.add(current.writer);
          }
          const key = resourceFileKey(this.snapshot, type, ns || undefined);
          current = { namespace: ns, writer: new ListFileWriter(key, store.openWrite(key)) };
          setOpen(current.writer);
        }
        run.push(withTypeMeta(cleaned, type));
        if (routineRuleOf(resource, cleaned) !== undefined) countOf(tally, ns).routine += 1;
        stored += 1;
      }
      if (current) await current.writer.addAll(run);
      this.deps.onProgress?.({ resource, phase: "listing", items: stored });
    });
    this.#checkStop();
    if (current) {
      setOpen(undefined);
      await commits.add(current.writer);
    }
  }

  /** Lists a type one namespace at a time (for servers that mix namespaces in a cluster-wide list). */
  async #listByNamespace(
    type: ResourceType,
    commits: CommitQueue,
    setOpen: (w: ListFileWriter | undefined) => void,
    tally: Tally,
    skip: ReadonlySet<string>,
  ): Promise<void> {
    const names: string[] = [];
    await this.#pages(NAMESPACES, undefined, async (items) => {
      for (const item of items) {
        const name = item.metadata?.name;
        if (typeof name === "string" && namespaceIncluded(this.options.filters, name)) names.push(name);
      }
    });
    for (const ns of names) {
      if (!skip.has(ns)) await this.#list(type, commits, setOpen, tally, skip, ns);
    }
  }

  /**
   * Hands every page of a list to `onItems`, batch by batch, in order. The next page is requested as
   * soon as this one's continue token is known and its first batch has shown how large items are (so
   * its `limit` can be sized by bytes), before that batch is written: the API server works while we
   * write. The next page waits (`ready`) until this one is handled: at most its raw bytes, up to the
   * reader's buffered-page size, or one streamed batch, are held meanwhile; the rest waits in the socket.
   */
  async #pages(
    type: ResourceType,
    namespace: string | undefined,
    onItems: (items: readonly KubeObject[]) => Promise<void>,
  ): Promise<void> {
    const sizer = new PageSizer(this.options.pageSize);
    const start = (cont: string | undefined, after: Promise<unknown>): PageRun => {
      const page: PageRun = { token: undefined, tokenKnown: false, sawItems: false, ended: false };
      const startNext = () => {
        if (page.next || !page.tokenKnown || !page.token || !(page.sawItems || page.ended)) return;
        page.next = start(page.token, page.done as Promise<unknown>);
      };
      page.done = this.deps.cluster
        .listPage(
          type,
          {
            limit: sizer.limit(),
            continue: cont,
            namespace,
            ready: after,
            onContinue: (token) => {
              page.token = token;
              page.tokenKnown = true;
              startNext();
            },
          },
          async (items, bytes) => {
            await after;
            this.#checkStop();
            sizer.observe(items.length, bytes);
            page.sawItems = true;
            startNext();
            await onItems(items);
          },
        )
        .then((result) => {
          page.ended = true;
          page.token = result.continue;
          page.tokenKnown = true;
          startNext();
          return result;
        });
      // Awaited in order below; this only keeps a page that fails while an earlier one is still being
      // read (and then fails on its own) from becoming an unhandled rejection.
      page.done.catch(() => undefined);
      return page;
    };
    let page = start(undefined, Promise.resolve());
    for (;;) {
      this.#checkStop();
      const result = await (page.done as Promise<ListPageResult>);
      if (!result.continue) return;
      page = page.next ?? start(result.continue, Promise.resolve());
    }
  }

  #checkStop(): void {
    throwIfAborted(this.options.signal);
    if (this.fatal) throw new SnapshotAbortedError("stopped: another resource type failed fatally");
  }
}

/** The commits of one type's finished files, in flight while the type goes on (bounded in count and bytes). */
class CommitQueue {
  readonly #inFlight: { readonly done: Promise<void>; readonly bytes: number }[] = [];
  #bytes = 0;
  #failure: { error: unknown } | undefined;

  /** `committed` receives each file's summary once its commit succeeded. */
  constructor(private readonly committed: FileSummary[]) {}

  /** Starts the commit of a finished file; waits while too much is in flight; throws the first failure. */
  async add(writer: ListFileWriter): Promise<void> {
    const bytes = writer.bytes;
    const done = writer.finish().then(
      (summary) => {
        this.committed.push(summary);
      },
      async (error: unknown) => {
        this.#failure ??= { error };
        // A failure before the store's commit (the last write) leaves the write open: discard it.
        await writer.abort().catch(() => undefined);
      },
    );
    this.#inFlight.push({ done, bytes });
    this.#bytes += bytes;
    while (
      this.#inFlight.length > MAX_COMMITS_IN_FLIGHT ||
      (this.#bytes > MAX_COMMIT_BYTES_IN_FLIGHT && this.#inFlight.length > 1)
    ) {
      const oldest = this.#inFlight.shift() as { done: Promise<void>; bytes: number };
      await oldest.done;
      this.#bytes -= oldest.bytes;
    }
    if (this.#failure) throw this.#failure.error;
  }

  /** Waits for every commit; throws the first failure. */
  async settle(): Promise<void> {
    await Promise.all(this.#inFlight.map((c) => c.done));
    this.#inFlight.length = 0;
    this.#bytes = 0;
    if (this.#failure) throw this.#failure.error;
  }
}

function namespaceOfKey(snapshot: string, key: string): string | null {
  const parts = keyInSnapshot(snapshot, key).split("/");
  return parts.length > 1 ? (parts[0] ?? null) : null;
}

/** What a type's list read in one namespace but did not store (filtered namespace, cleaning rules). */
interface NamespaceCount {
  notStored: number;
  /** Stored objects that a routine rule covers. */
  routine: number;
}

/** Counts by namespace ("" for cluster-scoped types), for one attempt of a type's list. */
type Tally = Map<string, NamespaceCount>;

const emptyCount = (): NamespaceCount => ({ notStored: 0, routine: 0 });

function countOf(tally: Tally, namespace: string): NamespaceCount {
  let count = tally.get(namespace);
  if (!count) {
    count = emptyCount();
    tally.set(namespace, count);
  }
  return count;
}

/** A finished namespace's file that an earlier attempt of a restarted list committed, and its counts. */
interface KeptFile {
  readonly summary: FileSummary;
  readonly tally: NamespaceCount;
}

/** A cluster-wide list that came back with a namespace's items split in two runs. */
class OutOfOrderError extends Error {
  override readonly name = "OutOfOrderError";
}

/** The core namespaces type: listed for the names when a type is listed namespace by namespace. */
const NAMESPACES: ResourceType = {
  group: "",
  version: "v1",
  resource: "namespaces",
  kind: "Namespace",
  namespaced: false,
};

/** One page of a list in flight (see TypeBackup.#pages). */
interface PageRun {
  done?: Promise<ListPageResult>;
  next?: PageRun;
  token: string | undefined;
  tokenKnown: boolean;
  sawItems: boolean;
  ended: boolean;
}

/**
 * Page sizing by bytes: Kubernetes accepts a new `limit` on every continue request, so after the first
 * batch a page asks for about PAGE_TARGET_BYTES of items (by the type's average item size so far),
 * never more than the configured page size. Small objects keep the configured size (500 × 3 KB = 1.5 MB);
 * 700 KB Helm releases are fetched about a dozen at a time.
 */
const PAGE_TARGET_BYTES = 8 * 1024 * 1024;

class PageSizer {
  #items = 0;
  #bytes = 0;
  constructor(private readonly maxItems: number) {}

  observe(items: number, bytes: number): void {
    this.#items += items;
    this.#bytes += bytes;
  }

  limit(): number {
    if (this.#items === 0) return this.maxItems;
    const perItem = Math.max(1, this.#bytes / this.#items);
    return Math.max(1, Math.min(this.maxItems, Math.floor(PAGE_TARGET_BYTES / perItem)));
  }
}
