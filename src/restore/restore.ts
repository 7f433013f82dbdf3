// The restore engine: reads a snapshot (source.ts) and re-creates its objects through a ClusterWriter,
// in the order of plan.ts, deciding each object with decide.ts, and returns a report of every object.
// Two passes over the files: the first only indexes (and checks every file, so a corrupt snapshot is
// refused before anything is written), the second writes. Per object: GET; absent → create; present →
// compare (compare.ts), and apply only with --update. An object owned by another object of the snapshot
// waits until its owner is written and is created with the owner's new uid. Running it again finishes
// an interrupted restore: what exists and matches is reported unchanged, nothing is created twice.
import { setTimeout as delay } from "node:timers/promises";
import { ApiError, ClusterUnreachableError, RequestAbortedError } from "../snapshot/errors.js";
import { qualifiedResource } from "../snapshot/layout.js";
import type { SnapshotManifest } from "../snapshot/manifest.js";
import { runPool } from "../snapshot/pool.js";
import type {
  ApiResource,
  Clock,
  FileProgress,
  KubeObject,
  Logger,
  SnapshotStore,
} from "../snapshot/ports.js";
import { differences } from "./compare.js";
import {
  type DecideOptions,
  decideObject,
  identity,
  type ObjectDecision,
  type OwnerLink,
  SnapshotIndex,
} from "./decide.js";
import { groupOf, metaOf } from "./object-fields.js";
import { type PlanStep, planRestore, type RestoreFilters, type SnapshotFile } from "./plan.js";
import type { ClusterWriter, NotEstablished, ObjectRef, WriteOptions, WriteResult } from "./ports.js";
import { openSnapshot, RestoreInputError, readListFile } from "./source.js";

export { RestoreInputError } from "./source.js";

/**
 * The restore was stopped (its signal aborted: Ctrl-C, SIGTERM) before it finished. Nothing more was
 * started, requests in flight were cancelled; the message says what had been written. Running the
 * restore again finishes it.
 */
export class RestoreAbortedError extends Error {
  override readonly name = "RestoreAbortedError";
}

/** The field manager of every create and apply. */
export const FIELD_MANAGER = "kube-autosave";
/**
 * Re-linking ownerReferences of an object that already exists applies only that field, under a manager
 * of its own: an apply by FIELD_MANAGER holding only ownerReferences would remove every field an earlier
 * --update applied.
 */
export const RELINK_FIELD_MANAGER = "kube-autosave-relink";
/** Objects of one file written at once (files themselves go one after the other, in plan order). */
export const DEFAULT_RESTORE_CONCURRENCY = 8;
/** How long CRDs get to become Established before their custom resources fail. */
const DEFAULT_CRD_TIMEOUT_MS = 60_000;
const CRDS = "customresourcedefinitions.apiextensions.k8s.io";
/** Unreadable files named in the error (a store that refuses every read would otherwise list them all). */
const MAX_PROBLEMS_SHOWN = 10;

/** Create refusals that go away by themselves within seconds: the create is sent again after a pause. */
const TRANSIENT_REFUSALS: readonly {
  readonly status: number;
  readonly messageIncludes: string;
  readonly attempts: number;
  readonly delayMs: number;
  readonly reason: string;
}[] = [
  {
    status: 403,
    messageIncludes: "error looking up service account",
    attempts: 15,
    delayMs: 1000,
    reason:
      "the ServiceAccount admission plugin wants the namespace's service account, which a controller creates moments after the namespace",
  },
];

export type Outcome = "created" | "updated" | "unchanged" | "skipped" | "failed";

/** What happened to one object of the snapshot. */
export interface ObjectResult {
  /** kubectl's `resource.group`. */
  readonly resource: string;
  /** In the target cluster (after --namespace-mappings) for objects the restore wrote or compared. */
  readonly namespace: string | null;
  readonly name: string;
  /** The snapshot's namespace (for a Namespace: its name) when --namespace-mappings moved the object. */
  readonly mappedFrom?: string;
  outcome: Outcome;
  /** Skips: the rule id (see rules.ts, decide.ts) and the reason. */
  rule?: string;
  reason?: string;
  /** Failures: the HTTP status (null when there was no answer) and the API server's message. */
  status?: number | null;
  message?: string;
  /** What the restore changed in the object, and why. */
  notes?: string[];
}

/** A file not restored as a whole: nothing in it was selected, or it could not be read (--force). */
export interface FileResult {
  readonly key: string;
  readonly resource: string;
  readonly namespace: string | null;
  readonly items: number | null;
  readonly outcome: "skipped" | "failed";
  readonly rule?: string;
  readonly reason?: string;
  readonly message?: string;
}

export interface RestoreReport {
  readonly snapshot: string;
  readonly location: string;
  readonly dryRun: boolean;
  readonly update: boolean;
  /** Snapshot namespace → target namespace, as given with --namespace-mappings. */
  readonly namespaceMappings: Record<string, string>;
  readonly startedAt: string;
  readonly completedAt: string;
  /** From the manifest; null when restored with --force from a snapshot that has none. */
  readonly manifest: {
    readonly status: string;
    readonly cluster: string;
    readonly serverVersion: string;
    readonly completedAt: string;
  } | null;
  /**
   * Objects by outcome; `skipped` includes the objects of files nothing was selected from, `failed`
   * counts each unreadable file (--force) as one.
   */
  readonly counts: Record<Outcome, number>;
  readonly skippedByRule: Record<string, number>;
  readonly objects: readonly ObjectResult[];
  readonly files: readonly FileResult[];
  /** Set when the cluster became unreachable and the restore stopped early. */
  readonly aborted?: string;
}

export interface RestoreOptions {
  readonly snapshot: string;
  readonly filters: RestoreFilters;
  /** Snapshot namespace → namespace in the target cluster. */
  readonly namespaceMappings?: ReadonlyMap<string, string> | undefined;
  /** Keep the snapshot's persistentVolumeReclaimPolicy instead of Retain. */
  readonly keepReclaimPolicy?: boolean | undefined;
  /** Apply objects that exist and differ (server-side apply, force). */
  readonly update: boolean;
  /** Every write with dryRun=All: validated and admitted by the API server, persisted nowhere. */
  readonly dryRun: boolean;
  /** Restore a snapshot without a manifest, and the readable files of one with damaged files. */
  readonly force: boolean;
  readonly concurrency?: number;
  readonly crdTimeoutMs?: number;
  /**
   * Aborting stops the restore: no object or file is started after it, and the ClusterWriter given the
   * same signal cancels its requests in flight; the run then rejects with RestoreAbortedError (no report).
   */
  readonly signal?: AbortSignal | undefined;
}

export interface RestoreDeps {
  readonly store: SnapshotStore;
  readonly cluster: ClusterWriter;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Hears how far the restore has got: "reading" (checking every file), then "restoring". */
  readonly onProgress?: ((progress: FileProgress) => void) | undefined;
}

/** Restores one snapshot; resolves with the report, rejects with RestoreInputError before any write. */
export async function restoreSnapshot(deps: RestoreDeps, options: RestoreOptions): Promise<RestoreReport> {
  return new RestoreRun(deps, options).run();
}

/** An ownerReference with the owner's uid in the target cluster. */
interface LiveOwnerRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: true;
  readonly blockOwnerDeletion?: true;
}

/** An object waiting for its owner to be written. */
interface Deferred {
  readonly file: SnapshotFile;
  readonly obj: KubeObject;
  readonly id: string;
  readonly decision: Extract<ObjectDecision, { action: "restore" }>;
}

class RestoreRun {
  readonly #store: SnapshotStore;
  readonly #cluster: ClusterWriter;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #startedAt: Date;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #opts: RestoreOptions;
  readonly #decide: DecideOptions;
  readonly #discovery = new Map<string, Promise<readonly ApiResource[] | undefined>>();
  /** Namespaces and CRDs that only a dry-run create "made": later objects cannot be validated against them. */
  readonly #dryRunNamespaces = new Set<string>();
  readonly #dryRunCrds = new Set<string>();
  readonly #notEstablished = new Map<string, string>();
  /** Files whose every object was written (or skipped); owners in them may be linked to. */
  readonly #doneFiles = new Set<string>();
  readonly #deferred: Deferred[] = [];
  /** Identities of the deferred objects: their own children wait for them. */
  readonly #pendingIds = new Set<string>();
  readonly #ownerUids = new Map<string, Promise<string | undefined>>();
  readonly #objects: ObjectResult[] = [];
  readonly #files: FileResult[] = [];
  #aborted: string | undefined;
  readonly #onProgress: ((progress: FileProgress) => void) | undefined;
  /** Objects of the plan's files that have a result (progress). */
  #handled = 0;

  constructor(deps: RestoreDeps, options: RestoreOptions) {
    this.#store = deps.store;
    this.#cluster = deps.cluster;
    this.#logger = deps.logger;
    this.#clock = deps.clock;
    this.#startedAt = deps.clock.now();
    // Ends early (rejecting) when the signal aborts: a stopped restore does not wait out a pause.
    this.#sleep = deps.sleep ?? ((ms) => delay(ms, undefined, { signal: options.signal }));
    this.#onProgress = deps.onProgress;
    this.#opts = options;
    this.#decide = {
      filters: options.filters,
      namespaceMappings: options.namespaceMappings,
      keepReclaimPolicy: options.keepReclaimPolicy,
    };
  }

  async run(): Promise<RestoreReport> {
    try {
      const report = await this.#run();
      this.#throwIfStopped();
      return report;
    } catch (err) {
      // The ClusterWriter and the store cancel their requests on the same signal: whatever they threw,
      // the restore was stopped.
      this.#throwIfStopped(err);
      throw err;
    }
  }

  /** Throws RestoreAbortedError, saying what was written, once the signal has aborted. */
  #throwIfStopped(cause?: unknown): void {
    const signal = this.#opts.signal;
    if (!signal?.aborted || cause instanceof RestoreAbortedError) return;
    const reason =
      signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? "aborted");
    const done = (outcome: Outcome) => this.#objects.filter((o) => o.outcome === outcome).length;
    const written = this.#opts.dryRun
      ? "a dry run: nothing was persisted"
      : `${done("created")} objects created and ${done("updated")} updated before it stopped; run it again to finish (what is already restored is then reported unchanged)`;
    throw new RestoreAbortedError(
      `restore stopped before it finished (${reason}): ${written}`,
      cause === undefined ? undefined : { cause },
    );
  }

  async #run(): Promise<RestoreReport> {
    const { snapshot } = this.#opts;
    const { manifest, files } = await openSnapshot(this.#store, snapshot, {
      force: this.#opts.force,
      logger: this.#logger,
    });
    const plan = planRestore(files, this.#opts.filters);

    // Pass 1: index every file (owners can be in files the filters leave out) and check each one.
    const index = new SnapshotIndex(this.#decide);
    const problems = new Map<string, string>();
    const itemCounts = new Map<string, number>();
    let indexed = 0;
    for (const [i, file] of files.entries()) {
      this.#throwIfStopped();
      try {
        const items = await readListFile(this.#store, snapshot, file);
        itemCounts.set(file.key, items.length);
        for (const item of items) index.add(file, item);
        indexed += items.length;
      } catch (err) {
        this.#throwIfStopped(err);
        problems.set(file.key, (err as Error).message);
      }
      this.#onProgress?.({ phase: "reading", files: i + 1, totalFiles: files.length, items: indexed });
    }
    if (problems.size > 0) index.markIncomplete();
    if (problems.size > 0 && !this.#opts.force) {
      const shown = [...problems.values()].slice(0, MAX_PROBLEMS_SHOWN);
      if (problems.size > shown.length) shown.push(`… and ${problems.size - shown.length} more`);
      throw new RestoreInputError(
        `snapshot ${this.#store.describe(snapshot)} has ${problems.size} unreadable file(s); nothing was restored ` +
          `(--force restores the other files):\n  ${shown.join("\n  ")}`,
      );
    }
    if (manifest && manifest.status !== "Completed") {
      this.#logger.warn(
        "the snapshot is not complete: the types in its manifest's errors were not backed up",
        { snapshot, status: manifest.status, errors: manifest.errors.length },
      );
    }
    this.#logger.info("restore planned", { snapshot, objects: index.size, steps: plan.steps.length });

    for (const file of plan.notSelected) {
      const items = problems.has(file.key) ? null : (itemCounts.get(file.key) ?? file.items ?? null);
      this.#files.push({
        key: file.key,
        resource: qualifiedResource(file),
        namespace: file.namespace,
        items,
        outcome: "skipped",
        rule: "not-selected",
        reason: "nothing in this file is selected by --namespace/--resource",
      });
      this.#doneFiles.add(file.key);
    }

    // Pass 2: write, in plan order; owned objects right after their owners; links before admission.
    const progress = (files: number) =>
      this.#onProgress?.({
        phase: "restoring",
        files,
        totalFiles: plan.steps.length,
        items: this.#handled,
      });
    progress(0);
    for (const [i, step] of plan.steps.entries()) {
      if (this.#aborted || this.#opts.signal?.aborted) break;
      const problem = problems.get(step.file.key);
      if (problem) this.#failFile(step.file, problem);
      else await this.#restoreStep(step, index);
      if (qualifiedResource(step.file) === CRDS) await this.#waitForCrds();
      this.#doneFiles.add(step.file.key);
      await this.#flushDeferred(false);
      progress(i + 1);
    }
    await this.#flushDeferred(true);
    return this.#report(manifest);
  }

  #failFile(file: SnapshotFile, message: string): void {
    this.#files.push({
      key: file.key,
      resource: qualifiedResource(file),
      namespace: file.namespace,
      items: file.items ?? null,
      outcome: "failed",
      message,
    });
  }

  async #restoreStep(step: PlanStep, index: SnapshotIndex): Promise<void> {
    const { file } = step;
    let items: KubeObject[];
    try {
      items = await readListFile(this.#store, this.#opts.snapshot, file);
    } catch (err) {
      this.#failFile(file, (err as Error).message);
      return;
    }
    const results = await this.#pool(items, async (item) => {
      const result = step.skip
        ? this.#result(file, item, { outcome: "skipped", rule: step.skip.rule, reason: step.skip.reason })
        : await this.#restoreObject(file, item, index);
      this.#handled += 1;
      return result;
    });
    this.#objects.push(...results.filter((r): r is ObjectResult => r !== undefined));
    this.#logger.debug("restored file", { key: file.key, items: items.length });
  }

  /** Runs `fn` over `items`, at most the concurrency at once, results in the items' order. */
  #pool<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<(R | undefined)[]> {
    return runPool<T, R | undefined>(
      items,
      {
        concurrency: this.#opts.concurrency ?? DEFAULT_RESTORE_CONCURRENCY,
        stop: () => this.#aborted !== undefined || this.#opts.signal?.aborted === true,
      },
      fn,
    );
  }

  /** The report line of an object as the snapshot has it (skips, failures before a decision). */
  #result(
    file: SnapshotFile,
    obj: KubeObject,
    fields: Omit<ObjectResult, "resource" | "namespace" | "name">,
  ): ObjectResult {
    const { name, namespace } = metaOf(obj);
    return { resource: qualifiedResource(file), namespace: namespace ?? file.namespace, name, ...fields };
  }

  /** The report line of an object the restore writes or compares, under its target names. */
  #targetResult(
    file: SnapshotFile,
    decision: Extract<ObjectDecision, { action: "restore" }>,
    fields: Omit<ObjectResult, "resource" | "namespace" | "name" | "mappedFrom">,
  ): ObjectResult {
    return {
      resource: qualifiedResource(file),
      namespace: decision.target.namespace ?? null,
      name: decision.target.name,
      ...(decision.mappedFrom !== undefined ? { mappedFrom: decision.mappedFrom } : {}),
      ...fields,
    };
  }

  /** Decides one object and writes it, or defers it until its owner is written (then undefined). */
  async #restoreObject(
    file: SnapshotFile,
    obj: KubeObject,
    index: SnapshotIndex,
  ): Promise<ObjectResult | undefined> {
    const name = obj.metadata?.name;
    if (
      typeof obj.apiVersion !== "string" ||
      typeof obj.kind !== "string" ||
      typeof name !== "string" ||
      !name
    )
      return this.#result(file, obj, {
        outcome: "failed",
        status: null,
        message: "not a Kubernetes object: apiVersion, kind or metadata.name is missing",
      });
    const decision = decideObject(file, obj, index, this.#decide);
    if (decision.action === "skip")
      return this.#result(file, obj, { outcome: "skipped", rule: decision.rule, reason: decision.reason });
    if (decision.owners.some((o) => !this.#ownerDone(o))) {
      const id = identity(groupOf(obj.apiVersion), obj.kind, metaOf(obj).namespace, name);
      this.#deferred.push({ file, obj, id, decision });
      this.#pendingIds.add(id);
      return undefined;
    }
    return this.#writeDecided(file, obj, decision);
  }

  /** True when the owner is written (or is not restored by this run, so nothing is waited for). */
  #ownerDone(owner: OwnerLink): boolean {
    const r = owner.restored;
    return !r || (this.#doneFiles.has(r.file) && !this.#pendingIds.has(r.id));
  }

  /** Writes the deferred objects whose owners are written; with `final`, every one left (owners that never came). */
  async #flushDeferred(final: boolean): Promise<void> {
    while (this.#deferred.length > 0 && !this.#aborted && !this.#opts.signal?.aborted) {
      let ready = this.#deferred.filter((d) => d.decision.owners.every((o) => this.#ownerDone(o)));
      if (ready.length === 0) {
        if (!final) return;
        ready = [...this.#deferred]; // an ownership cycle in the snapshot: nothing would ever be ready
      }
      const set = new Set(ready);
      const waiting = this.#deferred.filter((d) => !set.has(d));
      this.#deferred.length = 0;
      this.#deferred.push(...waiting);
      for (const d of ready) this.#pendingIds.delete(d.id);
      const results = await this.#pool(ready, (d) => this.#writeDecided(d.file, d.obj, d.decision));
      this.#objects.push(...results.filter((r): r is ObjectResult => r !== undefined));
    }
  }

  async #writeDecided(
    file: SnapshotFile,
    obj: KubeObject,
    decision: Extract<ObjectDecision, { action: "restore" }>,
  ): Promise<ObjectResult> {
    const notes = [...decision.notes];
    const result = (fields: Omit<ObjectResult, "resource" | "namespace" | "name" | "mappedFrom">) => {
      const r = this.#targetResult(file, decision, fields);
      if (notes.length > 0) r.notes = notes;
      return r;
    };
    const fail = (message: string, status: number | null = null) =>
      result({ outcome: "failed", status, message });
    const { namespace, name } = decision.target;
    const apiVersion = obj.apiVersion as string;
    const kind = obj.kind as string;

    if (this.#opts.dryRun && namespace && this.#dryRunNamespaces.has(namespace)) {
      return result({
        outcome: "skipped",
        rule: "dry-run-namespace",
        reason: `not validated: its namespace ${namespace} is created by this restore, and a dry run does not persist it`,
      });
    }
    try {
      const mapping = await this.#resolve(apiVersion, kind, file);
      if (typeof mapping === "string") {
        const crd = `${file.resource}.${file.group}`;
        if (this.#opts.dryRun && this.#dryRunCrds.has(crd))
          return result({
            outcome: "skipped",
            rule: "dry-run-crd",
            reason: `not validated: its CRD ${crd} is created by this restore, and a dry run does not persist it`,
          });
        const pending = this.#notEstablished.get(crd);
        return fail(pending ? `CRD ${crd} is not usable: ${pending}` : mapping);
      }
      if (mapping.namespaced && !namespace) return fail("namespaced, but the object has no namespace");
      const ref: ObjectRef = {
        apiVersion,
        resource: file.resource,
        namespace: mapping.namespaced ? namespace : undefined,
        name,
      };
      const links = await this.#liveOwnerRefs(decision.owners, ref.namespace, notes);
      return result(await this.#write(file, ref, decision.object, links, notes));
    } catch (err) {
      // Reads that fail after their retries mean the cluster is gone, and a stopped run (Ctrl-C) sends
      // nothing more: stop rather than fail every object.
      if (err instanceof ClusterUnreachableError || err instanceof RequestAbortedError)
        this.#aborted ??= err.message;
      return fail((err as Error).message, err instanceof ApiError ? err.status : null);
    }
  }

  /** The owners' references with their uids in the target cluster; owners that are not there are noted. */
  async #liveOwnerRefs(
    owners: readonly OwnerLink[],
    namespace: string | undefined,
    notes: string[],
  ): Promise<LiveOwnerRef[]> {
    const out: LiveOwnerRef[] = [];
    for (const owner of owners) {
      const uid = await this.#ownerUid(owner, namespace);
      if (uid !== undefined) out.push(liveRef(owner, uid));
      else if (this.#opts.dryRun && owner.restored)
        notes.push(
          `ownerReference to ${owner.kind} ${owner.name} would be linked to its new uid (not in a dry run: the owner is not persisted)`,
        );
      else
        notes.push(`ownerReference to ${owner.kind} ${owner.name} dropped: the owner is not in the cluster`);
    }
    return out;
  }

  /** GET, then create (with the owners' references), or compare and (with --update) apply; links an existing object. */
  async #write(
    file: SnapshotFile,
    ref: ObjectRef,
    desired: KubeObject,
    links: readonly LiveOwnerRef[],
    notes: string[],
  ): Promise<Omit<ObjectResult, "resource" | "namespace" | "name" | "mappedFrom">> {
    const writeOptions = { dryRun: this.#opts.dryRun, fieldManager: FIELD_MANAGER };
    let live = await this.#cluster.get(ref);
    if (!live) {
      const body =
        links.length === 0
          ? desired
          : { ...desired, metadata: { ...desired.metadata, ownerReferences: links } };
      const created = await this.#safeWrite(() => this.#createWithPatience(ref, body, writeOptions, notes));
      if (created.ok) {
        if (this.#opts.dryRun) this.#rememberDryRun(file, ref.name);
        if (links.length > 0)
          notes.push(`ownerReferences to ${describeOwners(links)} linked to the owners' new uids`);
        return { outcome: "created" };
      }
      // Someone (or an earlier attempt of this create) made it in between: compare like any existing object.
      if (created.status === 409 && created.reason === "AlreadyExists") live = await this.#cluster.get(ref);
      if (!live) return failure(created);
    }
    const diff = differences(desired, live);
    let outcome: "unchanged" | "updated" = "unchanged";
    if (diff.length > 0) {
      if (!this.#opts.update)
        return {
          outcome: "skipped",
          rule: "exists-differs",
          reason: `exists and differs (use --update): ${diff.join(", ")}`,
        };
      const applied = await this.#safeWrite(() => this.#cluster.apply(ref, desired, writeOptions));
      if (!applied.ok) return failure(applied);
      notes.push(`differed in ${diff.join(", ")}`);
      outcome = "updated";
    }
    const linked = await this.#link(ref, desired.kind as string, live, links);
    if (linked === true)
      notes.push(`ownerReferences to ${describeOwners(links)} re-linked to the owners' new uids`);
    else if (linked !== false)
      return {
        outcome: "failed",
        status: linked.status,
        message: `${outcome}, but re-linking its ownerReferences failed: ${linked.message}`,
      };
    return { outcome };
  }

  /**
   * Adds the owners' references an existing object lacks (apply of ownerReferences only, own field
   * manager). True when it did, false when nothing was missing (or in a dry run), else the failure.
   */
  async #link(
    ref: ObjectRef,
    kind: string,
    live: KubeObject,
    links: readonly LiveOwnerRef[],
  ): Promise<boolean | { status: number | null; message: string }> {
    const liveRefs = Array.isArray(live.metadata?.ownerReferences)
      ? (live.metadata.ownerReferences as Record<string, unknown>[])
      : [];
    if (links.length === 0 || links.every((l) => liveRefs.some((r) => r.uid === l.uid))) return false;
    if (this.#opts.dryRun) return false;
    const res = await this.#safeWrite(() =>
      this.#cluster.apply(
        ref,
        {
          apiVersion: ref.apiVersion,
          kind,
          metadata: {
            name: ref.name,
            ...(ref.namespace ? { namespace: ref.namespace } : {}),
            ownerReferences: links,
          },
        },
        { dryRun: false, fieldManager: RELINK_FIELD_MANAGER },
      ),
    );
    return res.ok ? true : { status: res.status, message: res.message };
  }

  /**
   * A write's failure as a value: writes are retried by the client (429, 5xx, resets), and one that keeps
   * failing fails this object only. Reads decide whether the cluster is gone.
   */
  async #safeWrite(write: () => Promise<WriteResult>): Promise<WriteResult> {
    try {
      return await write();
    } catch (err) {
      if (!(err instanceof ClusterUnreachableError) && !(err instanceof ApiError)) throw err;
      return {
        ok: false,
        status: err instanceof ApiError && err.status !== null ? err.status : 0,
        reason: "",
        message: err.message,
      };
    }
  }

  async #createWithPatience(
    ref: ObjectRef,
    desired: KubeObject,
    options: WriteOptions,
    notes: string[],
  ): Promise<WriteResult> {
    for (let attempt = 1; ; attempt++) {
      const res = await this.#cluster.create(ref, desired, options);
      const transient = res.ok
        ? undefined
        : TRANSIENT_REFUSALS.find((t) => t.status === res.status && res.message.includes(t.messageIncludes));
      if (!transient || attempt >= transient.attempts) {
        if (transient && attempt > 1) notes.push(`refused ${attempt} times: ${transient.reason}`);
        return res;
      }
      await this.#sleep(transient.delayMs);
    }
  }

  #rememberDryRun(file: SnapshotFile, name: string): void {
    const type = qualifiedResource(file);
    if (type === "namespaces") this.#dryRunNamespaces.add(name);
    if (type === CRDS) this.#dryRunCrds.add(name);
  }

  /** The served resource for the object, or a message saying why there is none. */
  async #resolve(apiVersion: string, kind: string, file: SnapshotFile): Promise<ApiResource | string> {
    if (groupOf(apiVersion) !== file.group)
      return `the object's apiVersion ${apiVersion} is not in the group of its file (${qualifiedResource(file)})`;
    const resources = await this.#served(apiVersion);
    if (!resources)
      return `${apiVersion} is not served by the target cluster (install what provides ${qualifiedResource(file)} first)`;
    const found = resources.find((r) => r.name === file.resource);
    if (!found) return `${apiVersion} has no resource ${file.resource} in the target cluster`;
    if (found.kind !== kind) return `${apiVersion} ${file.resource} are of kind ${found.kind}, not ${kind}`;
    return found;
  }

  #served(apiVersion: string): Promise<readonly ApiResource[] | undefined> {
    let cached = this.#discovery.get(apiVersion);
    if (!cached) {
      cached = this.#cluster.resources(apiVersion);
      // A failed discovery is asked again by the next object rather than failing all of them.
      cached.catch(() => this.#discovery.delete(apiVersion));
      this.#discovery.set(apiVersion, cached);
    }
    return cached;
  }

  /** After the CRD file: wait until every CRD that exists now is Established, then forget discovery. */
  async #waitForCrds(): Promise<void> {
    const names = this.#objects
      .filter(
        (o) =>
          o.resource === CRDS &&
          (o.outcome === "created" ||
            o.outcome === "updated" ||
            o.outcome === "unchanged" ||
            o.rule === "exists-differs") &&
          !this.#dryRunCrds.has(o.name),
      )
      .map((o) => o.name);
    if (names.length > 0) {
      let late: NotEstablished[];
      try {
        late = await this.#cluster.waitEstablished(names, this.#opts.crdTimeoutMs ?? DEFAULT_CRD_TIMEOUT_MS);
      } catch (err) {
        if (err instanceof ClusterUnreachableError) this.#aborted ??= err.message;
        late = names.map((name) => ({ name, message: (err as Error).message }));
      }
      for (const l of late) this.#notEstablished.set(l.name, l.message);
    }
    this.#discovery.clear();
  }

  /** The owner's uid in the target cluster (cached: owners are looked up once they are written). */
  #ownerUid(owner: OwnerLink, namespace: string | undefined): Promise<string | undefined> {
    const key = `${owner.apiVersion}\u0000${owner.kind}\u0000${namespace ?? ""}\u0000${owner.name}`;
    let uid = this.#ownerUids.get(key);
    if (!uid) {
      uid = (async () => {
        const resources = await this.#served(owner.apiVersion);
        const type = resources?.find((r) => r.kind === owner.kind && !r.name.includes("/"));
        if (!type) return undefined;
        const live = await this.#cluster.get({
          apiVersion: owner.apiVersion,
          resource: type.name,
          namespace: type.namespaced ? namespace : undefined,
          name: owner.name,
        });
        const found = live?.metadata?.uid;
        return typeof found === "string" ? found : undefined;
      })();
      uid.catch(() => this.#ownerUids.delete(key));
      this.#ownerUids.set(key, uid);
    }
    return uid;
  }

  #report(manifest: SnapshotManifest | undefined): RestoreReport {
    const counts: Record<Outcome, number> = { created: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0 };
    const skippedByRule: Record<string, number> = {};
    for (const o of this.#objects) {
      counts[o.outcome] += 1;
      if (o.outcome === "skipped" && o.rule) skippedByRule[o.rule] = (skippedByRule[o.rule] ?? 0) + 1;
    }
    for (const f of this.#files) {
      if (f.outcome === "failed") counts.failed += 1;
      else if (f.rule) {
        counts.skipped += f.items ?? 0;
        skippedByRule[f.rule] = (skippedByRule[f.rule] ?? 0) + (f.items ?? 0);
      }
    }
    return {
      snapshot: this.#opts.snapshot,
      location: this.#store.describe(this.#opts.snapshot),
      dryRun: this.#opts.dryRun,
      update: this.#opts.update,
      namespaceMappings: Object.fromEntries(this.#opts.namespaceMappings ?? []),
      startedAt: this.#startedAt.toISOString(),
      completedAt: this.#clock.now().toISOString(),
      manifest: manifest
        ? {
            status: manifest.status,
            cluster: manifest.cluster.name,
            serverVersion: manifest.cluster.serverVersion,
            completedAt: manifest.completedAt,
          }
        : null,
      counts,
      skippedByRule,
      objects: this.#objects,
      files: this.#files,
      ...(this.#aborted
        ? {
            aborted: `the restore stopped early: ${this.#aborted}. Run it again to finish: objects already restored are reported unchanged`,
          }
        : {}),
    };
  }
}

function liveRef(owner: OwnerLink, uid: string): LiveOwnerRef {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.name,
    uid,
    ...(owner.controller ? { controller: true as const } : {}),
    ...(owner.blockOwnerDeletion ? { blockOwnerDeletion: true as const } : {}),
  };
}

function failure(res: WriteResult): Omit<ObjectResult, "resource" | "namespace" | "name" | "mappedFrom"> {
  if (res.ok) return { outcome: "failed", status: res.status, message: "unexpected success" };
  return {
    outcome: "failed",
    status: res.status === 0 ? null : res.status,
    message: res.reason ? `${res.reason}: ${res.message}` : res.message,
  };
}

function describeOwners(owners: readonly { kind: string; name: string }[]): string {
  return owners.map((o) => `${o.kind} ${o.name}`).join(", ");
}
