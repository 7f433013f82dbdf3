// A snapshot's name: the run claims `<timestamp>` (or `-2`, `-3`…) with an exclusive create of its claim
// object, so two runs in the same second never write into one snapshot.
import { claimKey, snapshotName } from "./layout.js";
import type { SnapshotStore } from "./ports.js";

/** Candidate names per second before giving up (`ts`, `ts-2` … `ts-100`). */
const MAX_NAME_ATTEMPTS = 100;

/** Claims `<timestamp>`, or `<timestamp>-2`, `-3`… when a run in the same second got there first. */
export async function claimSnapshotName(
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
