/**
 * A working chunk's progress records (lambda/aws/job-logs.ts): its job's totals every
 * {@link PROGRESS_EVERY_MS} while it works, and once more when it ends or sees its job stopped. A job's
 * status reads the newest (lambda/flows/control.ts).
 */
import type { ProgressRecord } from '../aws/job-logs';
import type { JobTotals } from '../types';
import type { Runtime } from './runtime';

/** How often a working chunk records its job's totals (ms): a status is at most this much behind. */
export const PROGRESS_EVERY_MS = 5_000;

/** Records the job's progress now. */
export function recordProgress(runtime: Runtime, fields: Omit<ProgressRecord, 'at'>): void {
  runtime.progress.record({ ...fields, at: runtime.now().toISOString() });
}

/** Records the job's totals (`totals()`, read each time) every PROGRESS_EVERY_MS until `stop()`. */
export function progressEvery(
  runtime: Runtime,
  jobId: string,
  chunk: number,
  totals: () => JobTotals,
): { stop(): void } {
  const timer = setInterval(() => {
    recordProgress(runtime, { jobId, chunk, totals: totals(), final: false, status: 'running' });
  }, PROGRESS_EVERY_MS);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
    },
  };
}
