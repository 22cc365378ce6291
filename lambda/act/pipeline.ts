/**
 * The pipeline that spreads SWF calls over time: items are pulled lazily from a source (a list, or a
 * selector listing page by page), each start waits for a pacing token, at most `inFlightLimit()` run at
 * once, throttled items are re-queued (never failed), and the whole thing stops starting new work as soon
 * as `shouldStop()` says the invocation's time is running out. Orchestration only: no SWF, and no clock but
 * the timer that re-checks `shouldStop()` while a page is slow to come ({@link STOP_POLL_MS}).
 */

/** Where items come from. `next()` answers undefined when there is nothing more (and keeps answering it). */
export interface PipelineSource<T> {
  next(): Promise<T | undefined>;
  /**
   * Called when the pipeline stops while waiting for `next()`: the answer will be dropped, so the source
   * should stop its work (no further List calls); what it answers after this is ignored.
   */
  cancel?(): void;
}

/** What one item's work reported: done, or re-queue it (throttled), possibly as a replacement item. */
export type ItemResult<T = never> = 'done' | 'retry' | { readonly retryAs: T };

export interface PipelineOptions<T> {
  readonly source: PipelineSource<T>;
  /** Does one item's work; answers 'retry' to re-queue it (throttled). Should not throw. */
  readonly act: (item: T) => Promise<ItemResult<T>>;
  /** Pacing: waits for a token before each start. */
  readonly acquire?: () => Promise<void>;
  /** How many items may be in flight right now. */
  readonly inFlightLimit: () => number;
  /**
   * True when no new item may start (time running out). Checked before every start, and every
   * {@link STOP_POLL_MS} while waiting for the source (a page of a listing that is slow or throttled).
   */
  readonly shouldStop?: () => boolean;
}

/** How often `shouldStop()` is re-checked while the source is slow to answer (ms). */
export const STOP_POLL_MS = 250;

const STOPPED = Symbol('stopped');

/**
 * Waits for `pending` or for `shouldStop()` to turn true, whichever comes first. A source answer that comes
 * after the stop is dropped (a selector lists again in its next chunk), and its failure, if any, ignored.
 */
async function untilStopped<T>(pending: Promise<T>, shouldStop: () => boolean): Promise<T | typeof STOPPED> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stop = new Promise<typeof STOPPED>((resolve) => {
    const check = () => {
      if (shouldStop()) resolve(STOPPED);
      else timer = setTimeout(check, STOP_POLL_MS).unref();
    };
    timer = setTimeout(check, STOP_POLL_MS).unref();
  });
  try {
    // The race has subscribed to `pending`: a failure after the stop is settled there, never unhandled.
    return await Promise.race([pending, stop]);
  } finally {
    clearTimeout(timer);
  }
}

export interface PipelineResult<T> {
  /** True when the pipeline stopped because `shouldStop` said so (work may be left). */
  readonly stopped: boolean;
  /** Items re-queued and not yet done (throttled ones, and one taken just before the stop). */
  readonly requeued: readonly T[];
}

/**
 * Runs the pipeline to the end of the source or to a stop, then waits for the items in flight. The first
 * error thrown by the source or by `act` stops new starts and is rethrown once the in-flight items finished.
 */
export async function runPipeline<T>(options: PipelineOptions<T>): Promise<PipelineResult<T>> {
  const { source, act, acquire, inFlightLimit, shouldStop } = options;
  const retry: T[] = [];
  let inFlight = 0;
  let sourceDone = false;
  let stopped = false;
  const failure: { error?: unknown; failed: boolean } = { failed: false };
  let wake: (() => void) | undefined;
  const waitForOne = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
    });

  const start = (item: T): void => {
    inFlight += 1;
    act(item)
      .then(
        (result) => {
          if (result === 'retry') retry.push(item);
          else if (result !== 'done') retry.push(result.retryAs);
        },
        (error: unknown) => {
          if (!failure.failed) {
            failure.failed = true;
            failure.error = error;
          }
        },
      )
      .finally(() => {
        inFlight -= 1;
        const w = wake;
        wake = undefined;
        w?.();
      });
  };

  try {
    for (;;) {
      if (failure.failed) break;
      if (shouldStop?.() === true) {
        stopped = true;
        break;
      }
      if (inFlight >= inFlightLimit()) {
        await waitForOne();
        continue;
      }
      let item = retry.shift();
      if (item === undefined && !sourceDone) {
        const next = source.next();
        const got = shouldStop === undefined ? await next : await untilStopped(next, shouldStop);
        if (got === STOPPED) {
          source.cancel?.();
          stopped = true;
          break;
        }
        item = got;
        if (item === undefined) sourceDone = true;
      }
      if (item === undefined) {
        if (inFlight === 0) break;
        await waitForOne(); // an item in flight may still be re-queued
        continue;
      }
      if (acquire !== undefined) {
        await acquire();
        if (shouldStop?.() === true) {
          retry.unshift(item);
          stopped = true;
          break;
        }
      }
      start(item);
    }
  } catch (error: unknown) {
    if (!failure.failed) {
      failure.failed = true;
      failure.error = error;
    }
  }
  while (inFlight > 0) await waitForOne();
  if (failure.failed) throw failure.error;
  return { stopped, requeued: retry };
}
