// A type's finished List files are committed while its next files are written (an S3 commit is a round
// trip per file; a type has a file per namespace): the commits in flight, bounded in count and bytes.
import type { FileSummary, ListFileWriter } from "./list-file.js";

/**
 * At most this many commits, of at most this many bytes together (a single larger file excepted), are in
 * flight per type.
 */
const MAX_COMMITS_IN_FLIGHT = 8;
const MAX_COMMIT_BYTES_IN_FLIGHT = 4 * 1024 * 1024;

/** The commits of one type's finished files, in flight while the type goes on (bounded in count and bytes). */
export class CommitQueue {
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
