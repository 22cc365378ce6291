/**
 * How a request's report and a job's totals are shown: the counts that are not zero, and the executions.
 */
import type { Ui } from './ui';
import { count } from './ui';

/** A report's counts, as the handler answers them (lambda/types.ts, `Report`), read loosely. */
export interface ReportLike {
  readonly dryRun?: boolean;
  readonly matched?: number;
  readonly terminated?: number;
  readonly alreadyClosed?: number;
  readonly noOpenRun?: number;
  readonly noLongerMatches?: number;
  readonly failed?: number;
  readonly cancelRequested?: number;
  readonly wouldCancel?: number;
  readonly wouldTerminate?: number;
  readonly passedOver?: number;
  readonly executions?: readonly ExecutionLike[];
  readonly truncated?: boolean;
  readonly jobId?: string;
  readonly job?: { readonly state: string; readonly reason?: string; readonly status?: string };
  readonly refused?: string;
}

export interface ExecutionLike {
  readonly workflowId: string;
  readonly runId?: string;
  readonly outcome: string;
  readonly error?: string;
  readonly seen?: {
    readonly workflowType?: { readonly name: string; readonly version: string };
    readonly startedAt?: string;
    readonly tags?: readonly string[];
  };
}

const COUNTS: readonly [keyof ReportLike, string][] = [
  ['terminated', 'terminated'],
  ['cancelRequested', 'asked to cancel'],
  ['wouldTerminate', 'would terminate'],
  ['wouldCancel', 'would ask to cancel'],
  ['alreadyClosed', 'already closed'],
  ['noOpenRun', 'no open run'],
  ['noLongerMatches', 'no longer match'],
  ['passedOver', 'passed over (breaker)'],
  ['failed', 'failed'],
];

/** Executions a preview would act on: those not already closed, without an open run, or no longer matching. */
export function wouldAct(report: ReportLike): number {
  const executions = report.executions ?? [];
  if (report.truncated !== true) {
    return executions.filter((e) => e.outcome === 'would-terminate' || e.outcome === 'would-cancel').length;
  }
  return (
    (report.matched ?? 0) -
    (report.alreadyClosed ?? 0) -
    (report.noOpenRun ?? 0) -
    (report.noLongerMatches ?? 0) -
    (report.failed ?? 0)
  );
}

/** `terminated 1,200 · already closed 3`: the counts that are not zero. */
export function countsLine(ui: Ui, given: ReportLike): string {
  // A preview's report counts what it would terminate only in its executions (a job's totals count it).
  const totals =
    given.dryRun === true && given.wouldTerminate === undefined
      ? { ...given, wouldTerminate: wouldAct(given) - (given.wouldCancel ?? 0) }
      : given;
  const parts = COUNTS.filter(([key]) => typeof totals[key] === 'number' && totals[key] > 0).map(
    ([key, label]) => {
      const text = `${label} ${count(totals[key] as number)}`;
      return key === 'failed' ? ui.c.red(text) : text;
    },
  );
  return parts.length === 0 ? 'nothing acted on' : parts.join(' · ');
}

/** The first `limit` executions as a table: workflowId, runId, type, start time, tags, outcome. */
export function executionsTable(ui: Ui, executions: readonly ExecutionLike[], limit: number): string {
  const rows = executions
    .slice(0, limit)
    .map((e) => [
      e.workflowId,
      e.runId === undefined ? '' : e.runId.slice(0, 12),
      e.seen?.workflowType === undefined ? '' : `${e.seen.workflowType.name}:${e.seen.workflowType.version}`,
      e.seen?.startedAt?.replace('.000Z', 'Z') ?? '',
      (e.seen?.tags ?? []).join(','),
      e.outcome === 'failed' ? ui.c.red(`failed: ${(e.error ?? '').slice(0, 60)}`) : e.outcome,
    ]);
  return ui.table(['workflowId', 'runId', 'type', 'started', 'tags', 'outcome'], rows);
}
