/**
 * An invocation's progress records (lambda/aws/job-logs.ts): what THIS invocation has done for a job (its own
 * outcomes), every {@link PROGRESS_EVERY_MS} while it works and once when it ends. A job's status adds up the
 * newest record of each invocation that worked for it (lambda/flows/control.ts): its chunks, the delivery
 * that started it, a duplicate that acted beside it before it existed, a chunk attempt that failed and was
 * retried. Each termination is made by exactly one invocation, so the sum is what SWF saw.
 */
import type { JobStatus, JobTotals } from '../types';
import type { Runtime } from './runtime';

/** How often a working invocation records its figures (ms): a status is at most this much behind. */
export const PROGRESS_EVERY_MS = 5_000;

/** An invocation's progress for one job: started when it begins to act, finished once. */
export interface InvocationProgress {
  /** Records its figures now (not its last word). */
  tick(): void;
  /** Records its last figures with how it ended, and stops recording. Later calls do nothing. */
  finish(status: JobStatus): void;
}

/**
 * Records, for `jobId`, the figures `own()` reads (this invocation's own outcomes) every PROGRESS_EVERY_MS
 * from now until `finish`. `chunk`: the chunk's number, or 0 for a delivery of the request.
 */
export function progressOf(
  runtime: Runtime,
  invocation: string,
  jobId: string,
  chunk: number,
  own: () => JobTotals,
): InvocationProgress {
  let finished = false;
  const write = (final: boolean, status: JobStatus) => {
    runtime.progress.record({
      jobId,
      invocation,
      chunk,
      at: runtime.now().toISOString(),
      own: own(),
      final,
      status,
    });
  };
  const timer = setInterval(() => {
    write(false, 'running');
  }, PROGRESS_EVERY_MS);
  timer.unref();
  return {
    tick() {
      if (!finished) write(false, 'running');
    },
    finish(status) {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      write(true, status);
    },
  };
}
