/**
 * The report an invocation returns (what the Lambda console shows), built incrementally so memory stays
 * bounded however many executions a request reaches: counts are exact, the per-execution list is capped.
 */
import type { ExecutionReport, FailedExecution, JobTotals, Outcome, Report } from '../types';

/** Extra fields of a report (job). */
export type ReportJobFields = Pick<Report, 'jobId' | 'job' | 'refused'>;

/** Longest `executions` list a report carries (Lambda's response payload is limited to 6 MB). */
export const REPORT_EXECUTIONS_MAX = 1000;

/** Failures listed by name in TerminationFailedError's message (the count is always exact). */
export const FAILURES_LISTED_MAX = 50;

/** Accumulates outcomes into a {@link Report}. */
export class ReportBuilder {
  private readonly counts: Record<Outcome, number> = {
    terminated: 0,
    'cancel-requested': 0,
    'already-closed': 0,
    'no-open-run': 0,
    'no-longer-matches': 0,
    'would-terminate': 0,
    'would-cancel': 0,
    'passed-over': 0,
    failed: 0,
  };
  /** Executions named or matched: every outcome but a cancelThenTerminate's second step. */
  private matched = 0;
  private readonly executions: ExecutionReport[] = [];
  private readonly failures: FailedExecution[] = [];
  private truncated = false;

  constructor(
    private readonly dryRun: boolean,
    private readonly maxListed: number = REPORT_EXECUTIONS_MAX,
  ) {}

  add(entry: ExecutionReport): void {
    this.counts[entry.outcome] += 1;
    if (entry.afterGrace !== true) this.matched += 1;
    if (this.executions.length < this.maxListed) {
      this.executions.push(entry);
    } else {
      this.truncated = true;
    }
    if (entry.outcome === 'failed' && this.failures.length < FAILURES_LISTED_MAX) {
      this.failures.push({
        workflowId: entry.workflowId,
        ...(entry.runId === undefined ? {} : { runId: entry.runId }),
        error: entry.error ?? 'failed',
      });
    }
  }

  count(outcome: Outcome): number {
    return this.counts[outcome];
  }

  /** The first failures (up to {@link FAILURES_LISTED_MAX}). */
  listedFailures(): readonly FailedExecution[] {
    return this.failures;
  }

  /** This builder's counts as job totals. */
  totals(): JobTotals {
    const c = this.counts;
    return {
      matched: this.matched,
      terminated: c.terminated,
      alreadyClosed: c['already-closed'],
      noOpenRun: c['no-open-run'],
      noLongerMatches: c['no-longer-matches'],
      failed: c.failed,
      wouldTerminate: c['would-terminate'],
      cancelRequested: c['cancel-requested'],
      wouldCancel: c['would-cancel'],
      ...(c['passed-over'] === 0 ? {} : { passedOver: c['passed-over'] }),
    };
  }

  build(extra: ReportJobFields = {}): Report {
    const { wouldTerminate, ...counts } = this.totals();
    return {
      dryRun: this.dryRun,
      ...counts,
      executions: [...this.executions],
      ...(this.truncated ? { truncated: true as const } : {}),
      ...extra,
    };
  }
}
