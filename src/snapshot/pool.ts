// The one worker pool of the code base: resource types in a snapshot, discovery requests, a restore's
// objects, verify's lock reads. Work is taken in order, at most `concurrency` at once.

export interface PoolOptions {
  /** Items worked on at once (at least 1). */
  readonly concurrency: number;
  /** Checked before each item is taken: true leaves the rest untaken (their results stay undefined). */
  readonly stop?: () => boolean;
  /** Hears the first error at once, so work in flight can stop early; the pool throws it at the end. */
  readonly onError?: (error: unknown) => void;
}

/**
 * Runs `work` on the items; resolves with the results in the items' order. The first error stops the
 * taking of new items and is thrown once the work in flight has ended.
 */
export async function runPool<T, R>(
  items: readonly T[],
  options: PoolOptions,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure && !options.stop?.()) {
      const i = next++;
      try {
        results[i] = await work(items[i] as T, i);
      } catch (error) {
        if (failure) continue;
        failure = { error };
        options.onError?.(error);
      }
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency, items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (failure) throw failure.error;
  return results;
}
