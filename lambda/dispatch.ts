/**
 * How the handler spreads SWF calls over time. Every termination goes through one {@link Dispatcher}, so a
 * pacer (a token bucket sized to SWF's quota) can replace the plain concurrency bound without touching
 * the core.
 */

/** Runs `worker` on every item, some at a time. Resolves when all are done. */
export interface Dispatcher {
  forEach<T>(items: Iterable<T> | AsyncIterable<T>, worker: (item: T) => Promise<void>): Promise<void>;
}

/** Terminations in flight at once by default: enough to hide call latency, small next to SWF's burst. */
export const DEFAULT_CONCURRENCY = 10;

/**
 * At most `limit` workers in flight; items are pulled lazily from the (possibly async) iterable, so a
 * producer that lists page by page is consumed as it goes. If a worker throws, no new item is started,
 * the ones in flight finish, and the first error is rethrown. Workers are expected to record their own
 * per-item failures rather than throw.
 */
export function boundedConcurrency(limit: number = DEFAULT_CONCURRENCY): Dispatcher {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`concurrency must be a positive integer (got ${limit})`);
  }
  return {
    async forEach<T>(items: Iterable<T> | AsyncIterable<T>, worker: (item: T) => Promise<void>) {
      const iterator =
        Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
      // An object, not locals: the lanes mutate it while this function awaits them.
      const state: { failed: boolean; firstError?: unknown } = { failed: false };
      const lane = async (): Promise<void> => {
        while (!state.failed) {
          try {
            const next = await iterator.next();
            if (next.done === true) return;
            await worker(next.value);
          } catch (error: unknown) {
            // Keep the first error; later ones (other lanes) are usually its consequences.
            if (!('firstError' in state)) state.firstError = error;
            state.failed = true;
          }
        }
      };
      await Promise.all(Array.from({ length: limit }, lane));
      if (state.failed) {
        throw state.firstError;
      }
    },
  };
}
