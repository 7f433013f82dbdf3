// One resource type's backup: its list, once across all namespaces, into a List file per namespace;
// restarts on an expired continue token or a broken response, and lists namespace by namespace when the
// server mixes namespaces.
import { cleanObject } from "./clean.js";
import { CommitQueue } from "./commit-queue.js";
import {
  ApiError,
  ListExpiredError,
  ListInterruptedError,
  SnapshotAbortedError,
  throwIfAborted,
} from "./errors.js";
import { namespaceIncluded } from "./filters.js";
import { keyInSnapshot, qualifiedResource, resourceFileKey } from "./layout.js";
import { type FileSummary, ListFileWriter } from "./list-file.js";
import { listPages } from "./list-pages.js";
import type { ManifestError, ManifestFile, ManifestResource } from "./manifest.js";
import type { SnapshotDeps, SnapshotOptions } from "./options.js";
import type { KubeObject, ResourceType } from "./ports.js";
import { routineRuleOf } from "./routine.js";

/** An expired continue token restarts the type's list; after this many restarts the type fails. */
const MAX_LIST_RESTARTS = 3;

export type TypeOutcome =
  | {
      readonly ok: true;
      readonly resource: ManifestResource;
      readonly files: ManifestFile[];
      /** Objects stored that a routine rule covers (routine.ts): the digest counts them apart. */
      readonly routine: number;
    }
  | { readonly ok: false; readonly error: ManifestError };

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
export class TypeBackup {
  /** Set when any type hit a fatal error: the others stop at their next page. */
  fatal: { error: unknown } | undefined;

  constructor(
    private readonly deps: SnapshotDeps,
    private readonly options: SnapshotOptions,
    private readonly snapshot: string,
  ) {
    this.#pageOptions = { pageSize: options.pageSize, checkStop: () => this.#checkStop() };
  }

  /** How listPages sizes pages and checks, between pages, whether the run goes on. */
  readonly #pageOptions: { readonly pageSize: number; readonly checkStop: () => void };

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
    await listPages(this.deps.cluster, type, namespace, this.#pageOptions, async (items) => {
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
    await listPages(this.deps.cluster, NAMESPACES, undefined, this.#pageOptions, async (items) => {
      for (const item of items) {
        const name = item.metadata?.name;
        if (typeof name === "string" && namespaceIncluded(this.options.filters, name)) names.push(name);
      }
    });
    for (const ns of names) {
      if (!skip.has(ns)) await this.#list(type, commits, setOpen, tally, skip, ns);
    }
  }

  #checkStop(): void {
    throwIfAborted(this.options.signal);
    if (this.fatal) throw new SnapshotAbortedError("stopped: another resource type failed fatally");
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
