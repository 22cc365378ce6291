/**
 * cancelThenTerminate, both steps, in one job: ask each run to cancel (RequestCancelWorkflowExecution),
 * recording when each was asked; then, once a run has had the grace period since ITS OWN ask, terminate it
 * if it is still open. Only the runs this job's asking recorded are ever terminated: a run whose cancel
 * request SWF refused is reported failed and left open, whoever else asks it later, and a run asked late
 * (in a later chunk, a retried chunk) waits its own full grace period. The record travels in the job's state
 * (`asked`), so it survives chunks, retries and redeployments; an abort stops both steps.
 */
import type { ExecutionRef, ExecutionReport } from '../types';
import type { WorkDeps, RunOptions } from '../work';
import { runList } from './list';

/** A run this job asked to cancel, and when SWF answered that it was asked (ISO 8601). */
export interface AskedRun {
  readonly workflowId: string;
  readonly runId: string;
  readonly askedAt: string;
}

/** Where a cancelThenTerminate job stands after a chunk's work. */
export interface TwoStepResult {
  /** Runs not finished: not yet asked, or asked and not yet terminated (or found closed). */
  readonly runs: readonly ExecutionRef[];
  /** Of those, the runs asked, with when. */
  readonly asked: readonly AskedRun[];
  /** True when nothing is left of either step. */
  readonly done: boolean;
}

/** The instant a run may be terminated: its own ask time plus the grace period. */
export function dueAt(run: AskedRun, graceSeconds: number): number {
  return Date.parse(run.askedAt) + graceSeconds * 1000;
}

const keyOf = (run: { workflowId: string; runId?: string }) => `${run.workflowId}\u0000${run.runId ?? ''}`;

/**
 * Runs the job's two steps for as long as `options.shouldStop()` allows: first asks the runs not asked yet,
 * then terminates the asked runs whose grace period has passed (`now()`: the handler's clock).
 *
 * @param job the runs not finished (the job's list) and, of those, the ones asked already
 */
export async function runCancelThenTerminate(
  deps: WorkDeps,
  options: RunOptions,
  job: { readonly runs: readonly ExecutionRef[]; readonly asked: readonly AskedRun[] },
  now: () => Date,
): Promise<TwoStepResult> {
  const graceSeconds = options.settings.gracePeriodSeconds ?? 0;
  const asked = new Map(job.asked.map((run) => [keyOf(run), run]));
  let toAsk: readonly ExecutionRef[] = job.runs.filter((run) => !asked.has(keyOf(run)));

  if (toAsk.length > 0) {
    // Step one: ask. A run's ask time is taken when SWF answered, so its grace period is never shortened.
    const record = (entry: ExecutionReport) => {
      options.record(entry);
      if (entry.outcome === 'cancel-requested' && entry.runId !== undefined) {
        const run = { workflowId: entry.workflowId, runId: entry.runId, askedAt: now().toISOString() };
        asked.set(keyOf(run), run);
      }
    };
    const result = await runList(deps, { ...options, record }, toAsk);
    toAsk = result.done ? [] : (result.remaining ?? []);
  }
  const unfinished = (): TwoStepResult => {
    const left = new Set([...toAsk.map(keyOf), ...asked.keys()]);
    return {
      runs: job.runs.filter((run) => left.has(keyOf(run))),
      asked: [...asked.values()],
      done: left.size === 0,
    };
  };
  if (toAsk.length > 0 || options.shouldStop()) return unfinished();

  // Step two: terminate what has had its grace period, by runId, if SWF shows it open and asked to cancel
  // (the record is the job's state: SWF's word is the check); a run its decider closed meanwhile answers
  // already-closed. Not confirmed against the match again: a run asked to cancel may have woken to close.
  const time = now().getTime();
  const due = [...asked.values()].filter((run) => dueAt(run, graceSeconds) <= time);
  if (due.length === 0) return unfinished();
  const finished = (entry: ExecutionReport) => {
    options.record({ ...entry, afterGrace: true });
    asked.delete(keyOf(entry));
  };
  const { confirm: _matchedWhenAsked, ...rest } = options;
  await runList(
    deps,
    // What was matched was counted when it was asked: a termination here is its second step.
    { ...rest, settings: { ...options.settings, action: 'terminate' }, record: finished, askedOnly: true },
    due.map((run) => ({ workflowId: run.workflowId, runId: run.runId })),
  );
  return unfinished();
}
