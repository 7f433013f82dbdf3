// The restore engine: reads a snapshot through a SnapshotStore and re-creates its objects through a
// ClusterWriter, in the order and with the skips of plan.ts, and returns a report of every object.
// Two passes over the files: the first only indexes (and checks every file, so a corrupt snapshot is
// refused before anything is written), the second writes. Per object: GET; absent → create; present
// → compare, and apply only with --update. Running it again finishes an interrupted restore: what
// exists and matches is reported unchanged, nothing is created twice.
import { createHash } from "node:crypto";
import { ApiError, ClusterUnreachableError } from "../snapshot/errors.js";
import { keyInSnapshot, manifestKey, qualifiedResource, resourceFileKey } from "../snapshot/layout.js";
import type { SnapshotManifest } from "../snapshot/manifest.js";
import type { ApiResource, Clock, KubeObject, Logger, SnapshotStore } from "../snapshot/ports.js";
import {
  decideObject,
  differences,
  groupOf,
  type OwnerLink,
  type PlanStep,
  parseFileKey,
  planRestore,
  type RestoreFilters,
  type SnapshotFile,
  SnapshotIndex,
} from "./plan.js";
import type { ClusterWriter, NotEstablished, ObjectRef, WriteResult } from "./ports.js";

/** The field manager of every create and apply. */
export const FIELD_MANAGER = "kube-autosave";
/**
 * Re-linking ownerReferences applies only that field, under a manager of its own: an apply by
 * FIELD_MANAGER holding only ownerReferences would remove every field an earlier --update applied.
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

/** The snapshot cannot be restored as asked (no manifest, missing or corrupt files); nothing was written. */
export class RestoreInputError extends Error {
  override readonly name = "RestoreInputError";
}

export type Outcome = "created" | "updated" | "unchanged" | "skipped" | "failed";

/** What happened to one object of the snapshot. */
export interface ObjectResult {
  /** kubectl's `resource.group`. */
  readonly resource: string;
  readonly namespace: string | null;
  readonly name: string;
  outcome: Outcome;
  /** Skips: the rule id (see plan.ts) and the reason. */
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
  /** Apply objects that exist and differ (server-side apply, force). */
  readonly update: boolean;
  /** Every write with dryRun=All: validated and admitted by the API server, persisted nowhere. */
  readonly dryRun: boolean;
  /** Restore a snapshot without a manifest, and the readable files of one with damaged files. */
  readonly force: boolean;
  readonly concurrency?: number;
  readonly crdTimeoutMs?: number;
}

export interface RestoreDeps {
  readonly store: SnapshotStore;
  readonly cluster: ClusterWriter;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Restores one snapshot; resolves with the report, rejects with RestoreInputError before any write. */
export async function restoreSnapshot(deps: RestoreDeps, options: RestoreOptions): Promise<RestoreReport> {
  return new RestoreRun(deps, options).run();
}

interface PendingRelink {
  readonly ref: ObjectRef;
  readonly kind: string;
  readonly owners: readonly OwnerLink[];
  readonly result: ObjectResult;
}

class RestoreRun {
  readonly #store: SnapshotStore;
  readonly #cluster: ClusterWriter;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #startedAt: Date;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #opts: RestoreOptions;
  readonly #discovery = new Map<string, Promise<readonly ApiResource[] | undefined>>();
  /** Namespaces and CRDs that only a dry-run create "made": later objects cannot be validated against them. */
  readonly #dryRunNamespaces = new Set<string>();
  readonly #dryRunCrds = new Set<string>();
  readonly #notEstablished = new Map<string, string>();
  readonly #relinks: PendingRelink[] = [];
  readonly #objects: ObjectResult[] = [];
  readonly #files: FileResult[] = [];
  #aborted: string | undefined;

  constructor(deps: RestoreDeps, options: RestoreOptions) {
    this.#store = deps.store;
    this.#cluster = deps.cluster;
    this.#logger = deps.logger;
    this.#clock = deps.clock;
    this.#startedAt = deps.clock.now();
    this.#sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.#opts = options;
  }

  async run(): Promise<RestoreReport> {
    const { snapshot, filters } = this.#opts;
    const { manifest, files } = await this.#source();
    const plan = planRestore(files, filters);

    // Pass 1: index every file (owners can be in files the filters leave out) and check each one.
    const index = new SnapshotIndex(filters);
    const problems = new Map<string, string>();
    const itemCounts = new Map<string, number>();
    for (const file of files) {
      try {
        const items = await this.#read(file);
        itemCounts.set(file.key, items.length);
        for (const item of items) index.add(file, item);
      } catch (err) {
        problems.set(file.key, (err as Error).message);
      }
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
        {
          snapshot,
          status: manifest.status,
          errors: manifest.errors.length,
        },
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
    }

    // Pass 2: write, in plan order.
    for (const step of plan.steps) {
      if (this.#aborted) break;
      const problem = problems.get(step.file.key);
      if (problem) {
        this.#failFile(step.file, problem);
        continue;
      }
      await this.#restoreStep(step, index);
      if (qualifiedResource(step.file) === CRDS) await this.#waitForCrds();
    }
    if (!this.#aborted && !this.#opts.dryRun) await this.#relinkOwners();
    return this.#report(manifest);
  }

  /** The files to restore: the manifest's, or with --force and no manifest every List file of the folder. */
  async #source(): Promise<{ manifest: SnapshotManifest | undefined; files: SnapshotFile[] }> {
    const { snapshot, force } = this.#opts;
    const where = this.#store.describe(snapshot);
    const raw = await this.#store.get(manifestKey(snapshot));
    let manifestProblem: string | undefined;
    if (raw) {
      const manifest = parseManifest(raw);
      if (typeof manifest !== "string") {
        const files = manifest.files.map((f) => {
          const parsed = parseFileKey(f.key);
          const [resource = "", ...group] = f.resource.split(".");
          return {
            key: f.key,
            resource: parsed?.resource ?? resource,
            group: parsed?.group ?? group.join("."),
            namespace: f.namespace,
            items: f.items,
            bytes: f.bytes,
            sha256: f.sha256,
          };
        });
        return { manifest, files };
      }
      manifestProblem = `${this.#store.describe(manifestKey(snapshot))} ${manifest}`;
      if (!force) throw new RestoreInputError(`${manifestProblem}; nothing was restored`);
    }
    const keys: string[] = [];
    for await (const info of this.#store.list(`${snapshot}/`)) keys.push(keyInSnapshot(snapshot, info.key));
    if (keys.length === 0) {
      throw new RestoreInputError(`no snapshot at ${where}: there is nothing under it`);
    }
    if (!raw && !force) {
      throw new RestoreInputError(
        `snapshot ${where} has no manifest.json, so it is incomplete (its run failed or is still running); ` +
          "restore the files it has with --force",
      );
    }
    const files = keys.flatMap((k) => {
      const file = parseFileKey(k);
      return file ? [file] : [];
    });
    if (files.length === 0) throw new RestoreInputError(`no snapshot at ${where}: it holds no List files`);
    this.#logger.warn("restoring a snapshot without a usable manifest (--force)", {
      snapshot: where,
      files: files.length,
      ...(manifestProblem ? { problem: manifestProblem } : {}),
    });
    return { manifest: undefined, files };
  }

  /** Reads one List file and checks it against the manifest; throws with a message naming the file. */
  async #read(file: SnapshotFile): Promise<KubeObject[]> {
    const key = resourceFileKey(this.#opts.snapshot, file, file.namespace ?? undefined);
    const where = this.#store.describe(key);
    const bytes = await this.#store.get(key);
    if (!bytes) throw new Error(`${where} is missing (the manifest lists it)`);
    if (file.bytes !== undefined && bytes.length !== file.bytes)
      throw new Error(
        `${where} is ${bytes.length} bytes, the manifest says ${file.bytes} (truncated or changed)`,
      );
    if (file.sha256 !== undefined && createHash("sha256").update(bytes).digest("hex") !== file.sha256)
      throw new Error(`${where}: its sha256 differs from the manifest's (changed or corrupted)`);
    let list: unknown;
    try {
      list = JSON.parse(bytes.toString("utf8"));
    } catch (err) {
      throw new Error(`${where} is not valid JSON (${(err as Error).message})`);
    }
    const items = (list as { items?: unknown } | null)?.items;
    if (typeof list !== "object" || list === null || !Array.isArray(items))
      throw new Error(`${where} is not a Kubernetes List (it has no items array)`);
    if (file.items !== undefined && items.length !== file.items)
      throw new Error(`${where} holds ${items.length} items, the manifest says ${file.items}`);
    const bad = items.findIndex((i) => typeof i !== "object" || i === null || Array.isArray(i));
    if (bad >= 0) throw new Error(`${where}: item ${bad} is not an object`);
    return items as KubeObject[];
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
      items = await this.#read(file);
    } catch (err) {
      this.#failFile(file, (err as Error).message);
      return;
    }
    const results: ObjectResult[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
      while (next < items.length && !this.#aborted) {
        const i = next++;
        const item = items[i] as KubeObject;
        results[i] = step.skip
          ? this.#result(file, item, { outcome: "skipped", rule: step.skip.rule, reason: step.skip.reason })
          : await this.#restoreObject(file, item, index);
      }
    };
    const workers = Math.min(this.#opts.concurrency ?? DEFAULT_RESTORE_CONCURRENCY, items.length);
    await Promise.all(Array.from({ length: workers }, worker));
    this.#objects.push(...results.filter((r) => r !== undefined));
    this.#logger.debug("restored file", { key: file.key, items: items.length });
  }

  #result(
    file: SnapshotFile,
    obj: KubeObject,
    fields: Omit<ObjectResult, "resource" | "namespace" | "name">,
  ): ObjectResult {
    const meta = obj.metadata ?? {};
    const namespace = typeof meta.namespace === "string" && meta.namespace ? meta.namespace : file.namespace;
    return {
      resource: qualifiedResource(file),
      namespace,
      name: typeof meta.name === "string" ? meta.name : "",
      ...fields,
    };
  }

  async #restoreObject(file: SnapshotFile, obj: KubeObject, index: SnapshotIndex): Promise<ObjectResult> {
    const fail = (message: string, status: number | null = null, notes?: string[]) =>
      this.#result(file, obj, { outcome: "failed", status, message, ...(notes?.length ? { notes } : {}) });
    const name = obj.metadata?.name;
    if (
      typeof obj.apiVersion !== "string" ||
      typeof obj.kind !== "string" ||
      typeof name !== "string" ||
      !name
    )
      return fail("not a Kubernetes object: apiVersion, kind or metadata.name is missing");

    const decision = decideObject(file, obj, index, this.#opts.filters);
    if (decision.action === "skip")
      return this.#result(file, obj, { outcome: "skipped", rule: decision.rule, reason: decision.reason });
    const notes = [...decision.notes];
    // The same array stays on the result: re-linking adds its notes there later.
    const withNotes = (r: ObjectResult) => {
      if (notes.length > 0) r.notes = notes;
      return r;
    };
    const namespace = obj.metadata?.namespace || file.namespace || undefined;
    const crd = `${file.resource}.${file.group}`;

    if (this.#opts.dryRun && namespace && this.#dryRunNamespaces.has(namespace)) {
      return withNotes(
        this.#result(file, obj, {
          outcome: "skipped",
          rule: "dry-run-namespace",
          reason: `not validated: its namespace ${namespace} is created by this restore, and a dry run does not persist it`,
        }),
      );
    }

    try {
      const mapping = await this.#resolve(obj.apiVersion, obj.kind, file);
      if (typeof mapping === "string") {
        if (this.#opts.dryRun && this.#dryRunCrds.has(crd))
          return withNotes(
            this.#result(file, obj, {
              outcome: "skipped",
              rule: "dry-run-crd",
              reason: `not validated: its CRD ${crd} is created by this restore, and a dry run does not persist it`,
            }),
          );
        const pending = this.#notEstablished.get(crd);
        return fail(pending ? `CRD ${crd} is not usable: ${pending}` : mapping, null, notes);
      }
      if (mapping.namespaced && !namespace)
        return fail("namespaced, but the object has no namespace", null, notes);
      const ref: ObjectRef = {
        apiVersion: obj.apiVersion,
        resource: file.resource,
        namespace: mapping.namespaced ? namespace : undefined,
        name,
      };
      const result = await this.#write(file, obj, ref, decision.object, notes);
      if (
        decision.relink.length > 0 &&
        (result.outcome === "created" || result.outcome === "unchanged" || result.outcome === "updated")
      ) {
        if (this.#opts.dryRun) {
          notes.push(
            `ownerReferences to ${describeOwners(decision.relink)} would be re-linked to the owners' new uids (not in a dry run)`,
          );
        } else this.#relinks.push({ ref, kind: obj.kind, owners: decision.relink, result });
      }
      return withNotes(result);
    } catch (err) {
      if (err instanceof ClusterUnreachableError) this.#aborted ??= err.message;
      const status = err instanceof ApiError ? err.status : null;
      return fail((err as Error).message, status, notes);
    }
  }

  /** GET, then create, or compare and (with --update) apply. */
  async #write(
    file: SnapshotFile,
    obj: KubeObject,
    ref: ObjectRef,
    desired: KubeObject,
    notes: string[],
  ): Promise<ObjectResult> {
    const writeOptions = { dryRun: this.#opts.dryRun, fieldManager: FIELD_MANAGER };
    let live = await this.#cluster.get(ref);
    if (!live) {
      const created = await this.#createWithPatience(ref, desired, writeOptions, notes);
      if (created.ok) {
        if (this.#opts.dryRun) this.#rememberDryRun(file, ref.name);
        return this.#result(file, obj, { outcome: "created" });
      }
      // Someone (or a retried request of ours) created it in between: compare like any existing object.
      if (created.status === 409 && created.reason === "AlreadyExists") live = await this.#cluster.get(ref);
      if (!live) return this.#result(file, obj, failure(created));
    }
    const diff = differences(desired, live);
    if (diff.length === 0) return this.#result(file, obj, { outcome: "unchanged" });
    if (!this.#opts.update) {
      return this.#result(file, obj, {
        outcome: "skipped",
        rule: "exists-differs",
        reason: `exists and differs (use --update): ${diff.join(", ")}`,
      });
    }
    const applied = await this.#cluster.apply(ref, desired, writeOptions);
    if (!applied.ok) return this.#result(file, obj, failure(applied));
    notes.push(`differed in ${diff.join(", ")}`);
    return this.#result(file, obj, { outcome: "updated" });
  }

  async #createWithPatience(
    ref: ObjectRef,
    desired: KubeObject,
    options: { dryRun: boolean; fieldManager: string },
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

  /** Points ownerReferences of restored objects at their owners' new uids. */
  async #relinkOwners(): Promise<void> {
    for (const pending of this.#relinks) {
      if (this.#aborted) return;
      const note = (text: string) => {
        pending.result.notes ??= [];
        pending.result.notes.push(text);
      };
      try {
        const links: Record<string, unknown>[] = [];
        const linked: OwnerLink[] = [];
        for (const owner of pending.owners) {
          const uid = await this.#ownerUid(owner, pending.ref.namespace);
          if (uid === undefined) {
            note(`ownerReference to ${owner.kind} ${owner.name} dropped: the owner is not in the cluster`);
            continue;
          }
          linked.push(owner);
          links.push({
            apiVersion: owner.apiVersion,
            kind: owner.kind,
            name: owner.name,
            uid,
            ...(owner.controller ? { controller: true } : {}),
            ...(owner.blockOwnerDeletion ? { blockOwnerDeletion: true } : {}),
          });
        }
        if (links.length === 0) continue;
        const live = await this.#cluster.get(pending.ref);
        const liveRefs = Array.isArray(live?.metadata?.ownerReferences)
          ? (live.metadata.ownerReferences as Record<string, unknown>[])
          : [];
        if (links.every((l) => liveRefs.some((r) => r.uid === l.uid))) continue;
        const res = await this.#cluster.apply(
          pending.ref,
          {
            apiVersion: pending.ref.apiVersion,
            kind: pending.kind,
            metadata: {
              name: pending.ref.name,
              ...(pending.ref.namespace ? { namespace: pending.ref.namespace } : {}),
              ownerReferences: links,
            },
          },
          { dryRun: false, fieldManager: RELINK_FIELD_MANAGER },
        );
        if (!res.ok) {
          Object.assign(pending.result, {
            outcome: "failed",
            status: res.status,
            message: `${pending.result.outcome}, but re-linking its ownerReferences failed: ${res.message}`,
          });
          continue;
        }
        note(`ownerReferences to ${describeOwners(linked)} re-linked to the owners' new uids`);
      } catch (err) {
        if (err instanceof ClusterUnreachableError) this.#aborted ??= err.message;
        Object.assign(pending.result, {
          outcome: "failed",
          status: err instanceof ApiError ? err.status : null,
          message: `${pending.result.outcome}, but re-linking its ownerReferences failed: ${(err as Error).message}`,
        });
      }
    }
  }

  async #ownerUid(owner: OwnerLink, namespace: string | undefined): Promise<string | undefined> {
    const resources = await this.#served(owner.apiVersion);
    const type = resources?.find((r) => r.kind === owner.kind && !r.name.includes("/"));
    if (!type) return undefined;
    const live = await this.#cluster.get({
      apiVersion: owner.apiVersion,
      resource: type.name,
      namespace: type.namespaced ? namespace : undefined,
      name: owner.name,
    });
    const uid = live?.metadata?.uid;
    return typeof uid === "string" ? uid : undefined;
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

function failure(res: WriteResult): Omit<ObjectResult, "resource" | "namespace" | "name"> {
  if (res.ok) return { outcome: "failed", status: res.status, message: "unexpected success" };
  return {
    outcome: "failed",
    status: res.status,
    message: res.reason ? `${res.reason}: ${res.message}` : res.message,
  };
}

function describeOwners(owners: readonly OwnerLink[]): string {
  return owners.map((o) => `${o.kind} ${o.name}`).join(", ");
}

/** The manifest, or a phrase saying what is wrong with it. */
function parseManifest(raw: Buffer): SnapshotManifest | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString("utf8"));
  } catch (err) {
    return `is not valid JSON (${(err as Error).message})`;
  }
  const m = parsed as Partial<SnapshotManifest> | null;
  if (m?.kind !== "SnapshotManifest" || !Array.isArray(m.files))
    return "is not a kube-autosave manifest (kind SnapshotManifest with a files list)";
  const badFile = m.files.findIndex(
    (f) =>
      typeof f?.key !== "string" ||
      typeof f.resource !== "string" ||
      (f.namespace !== null && typeof f.namespace !== "string"),
  );
  if (badFile >= 0)
    return `is not a kube-autosave manifest (files[${badFile}] has no key, resource or namespace)`;
  return m as SnapshotManifest;
}
