// The change digest of a run: its snapshot against the previous one (latest.json's when the run started),
// object by object. Files whose sha256 match in both manifests are not read; changed files are read one
// pair at a time (diffSnapshots). Objects that change by nature (routine.ts) are counted apart, so the
// totals say what people changed. Only names and counts are kept: never a value, so Secrets are safe.
import { diffSnapshots } from "./diff.js";
import { SnapshotAbortedError } from "./errors.js";
import type {
  ChangeCounts,
  ChangeEntry,
  ManifestChanges,
  RoutineChanges,
  SnapshotManifest,
} from "./manifest.js";
import type { SnapshotStore } from "./ports.js";
import { ROUTINE_RULES, routineRuleOf } from "./routine.js";

/** Names kept per list (added, removed, changed) of one type and namespace; the counts stay complete. */
export const DIGEST_MAX_NAMES = 25;

/** The snapshot a run compares itself with, as read when the run started. */
export interface PreviousSnapshot {
  /** latest.json's snapshot; null when there is no latest.json (a first snapshot) or it is unreadable. */
  readonly snapshot: string | null;
  readonly manifest?: SnapshotManifest | undefined;
  /** Why there is nothing to compare with (latest.json or its manifest unreadable), if so. */
  readonly problem?: string | undefined;
}

export interface DigestInput {
  readonly store: SnapshotStore;
  readonly previous: PreviousSnapshot;
  /** The run's manifest, complete but for `changes`; its files are stored. */
  readonly current: SnapshotManifest;
  /** Objects of the current snapshot that no routine rule covers. */
  readonly objects: number;
  /** Called before each file pair is read; throws SnapshotAbortedError to stop (the run's deadline). */
  readonly checkStop: () => void;
}

/** Compares the run with the previous snapshot. Never throws but what checkStop throws: a failure is a `reason`. */
export async function digestChanges(input: DigestInput): Promise<ManifestChanges> {
  const { previous, current } = input;
  const none = (reason: string): ManifestChanges => ({
    since: previous.snapshot,
    compared: false,
    reason,
    totals: zero(),
    objects: { now: input.objects, before: null },
    removedPercent: null,
    routine: { totals: zero(), rules: [] },
    resources: [],
    notCompared: [],
  });
  if (previous.snapshot === null && !previous.problem)
    return none("first snapshot here: latest.json names no earlier one");
  if (!previous.manifest || previous.snapshot === null)
    return none(previous.problem ?? "the previous snapshot has no usable manifest");
  const other = differentOptions(previous.manifest, current);
  if (other)
    return none(`${previous.snapshot} was taken with other ${other}: comparing would report the difference`);

  const totals = zero();
  const routine = new Map<string, Counts>();
  const entries: ChangeEntry[] = [];
  let diff: Awaited<ReturnType<typeof diffSnapshots>>;
  try {
    diff = await diffSnapshots(
      { store: input.store, snapshot: previous.snapshot, manifest: previous.manifest },
      { store: input.store, snapshot: current.snapshot, manifest: current },
      { fields: false, tag: routineRuleOf },
    );
    const files = diff.files();
    for (;;) {
      input.checkStop();
      const next = await files.next();
      if (next.done) break;
      const file = next.value;
      const entry: Counts & { names: Record<keyof ChangeCounts, string[]> } = {
        ...zero(),
        names: { added: [], removed: [], changed: [] },
      };
      for (const o of file.objects) {
        if (o.tag !== undefined) {
          const counts = routine.get(o.tag) ?? zero();
          counts[o.change] += 1;
          routine.set(o.tag, counts);
          continue;
        }
        totals[o.change] += 1;
        entry[o.change] += 1;
        if (entry.names[o.change].length < DIGEST_MAX_NAMES) entry.names[o.change].push(o.name);
      }
      if (entry.added + entry.removed + entry.changed > 0)
        entries.push({ resource: file.resource, namespace: file.namespace, ...entry });
    }
  } catch (err) {
    if (err instanceof SnapshotAbortedError) throw err;
    return none(`could not compare with ${previous.snapshot}: ${(err as Error).message}`);
  }
  entries.sort((a, b) => compare(a.resource, b.resource) || compare(a.namespace ?? "", b.namespace ?? ""));
  // A manifest from before the digest has no count of its non-routine objects: all of them, then.
  const recorded: unknown = previous.manifest.changes?.objects?.now;
  const before = typeof recorded === "number" ? recorded : previous.manifest.totals.items;
  const rules: RoutineChanges[] = ROUTINE_RULES.filter((r) => routine.has(r.id)).map((r) => ({
    rule: r.id,
    reason: r.reason,
    ...(routine.get(r.id) as Counts),
  }));
  return {
    since: previous.snapshot,
    compared: true,
    reason: null,
    totals,
    objects: { now: input.objects, before },
    removedPercent: percent(totals.removed, before),
    routine: { totals: sum(rules), rules },
    resources: entries,
    notCompared: diff.notCompared,
  };
}

type Counts = { -readonly [K in keyof ChangeCounts]: number };

const zero = (): Counts => ({ added: 0, removed: 0, changed: 0 });

function sum(list: readonly ChangeCounts[]): Counts {
  const out = zero();
  for (const c of list) {
    out.added += c.added;
    out.removed += c.removed;
    out.changed += c.changed;
  }
  return out;
}

/** `part` of `whole` in percent, one decimal; all of it when there was nothing before. */
function percent(part: number, whole: number): number {
  if (whole <= 0) return part > 0 ? 100 : 0;
  return Math.round((1000 * part) / whole) / 10;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The option that makes two snapshots' objects incomparable (other namespaces or types selected, or one
 * raw and one cleaned), or undefined when they match.
 */
function differentOptions(a: SnapshotManifest, b: SnapshotManifest): string | undefined {
  const same = (x: readonly string[] | undefined, y: readonly string[] | undefined) =>
    JSON.stringify([...(x ?? [])].sort()) === JSON.stringify([...(y ?? [])].sort());
  const differing = [
    same(a.options.includeNamespaces, b.options.includeNamespaces) ? "" : "includeNamespaces",
    same(a.options.excludeNamespaces, b.options.excludeNamespaces) ? "" : "excludeNamespaces",
    same(a.options.includeResources, b.options.includeResources) ? "" : "includeResources",
    same(a.options.excludeResources, b.options.excludeResources) ? "" : "excludeResources",
    a.options.raw === b.options.raw ? "" : "raw",
  ].filter(Boolean);
  return differing.length === 0 ? undefined : `options (${differing.join(", ")})`;
}
