/**
 * The report an invocation returns (what the Lambda console shows), built incrementally so memory stays
 * bounded however many executions a request reaches: counts are exact, the per-execution list is capped.
 */
import type { FailedExecution, JobTotals } from './errors';

/** What happened to one execution. */
export type Outcome = 'terminated' | 'already-closed' | 'no-open-run' | 'would-terminate' | 'failed';

export interface ExecutionReport {
  readonly workflowId: string;
  /** The run acted on; absent only when a run-less workflowId had no open run (`no-open-run`). */
  readonly runId?: string;
  readonly outcome: Outcome;
  /** Why it failed (outcome `failed` only). */
  readonly error?: string;
}

export interface Report {
  /** True when nothing was terminated on purpose (request dryRun, or the function's DRY_RUN). */
  readonly dryRun: boolean;
  /** Executions the request named or matched (every outcome). */
  readonly matched: number;
  readonly terminated: number;
  readonly alreadyClosed: number;
  /**
   * Run-less workflowIds with no open run listed: closed, never started, or started so recently that SWF's
   * eventually consistent listing did not show it yet. Give the runId to be sure.
   */
  readonly noOpenRun: number;
  readonly failed: number;
  /** One entry per execution, in completion order; capped at {@link REPORT_EXECUTIONS_MAX}. */
  readonly executions: readonly ExecutionReport[];
  /** Present and true when `executions` was capped; the counts are still exact. */
  readonly truncated?: true;
  /** The job this request is (the first event's id, or the console request id). */
  readonly jobId?: string;
  /**
   * Present when the request became a job on the state machine: too large for one invocation from the start
   * (`too-large`: nothing above was done here), or handed on when this invocation's time ran out
   * (`out-of-time`: the counts above are what was done here). `already-started`: a job of this id existed
   * (a re-delivered request), and no second one was started.
   */
  readonly job?: {
    readonly state: 'started' | 'already-started';
    readonly reason: 'too-large' | 'out-of-time';
    readonly executionArn: string;
  };
}

/** Extra fields of a report (job). */
export type ReportJobFields = Pick<Report, 'jobId' | 'job'>;

/** Longest `executions` list a report carries (Lambda's response payload is limited to 6 MB). */
export const REPORT_EXECUTIONS_MAX = 1000;

/** Failures listed by name in TerminationFailedError's message (the count is always exact). */
export const FAILURES_LISTED_MAX = 50;

/** Accumulates outcomes into a {@link Report}. */
export class ReportBuilder {
  private readonly counts: Record<Outcome, number> = {
    terminated: 0,
    'already-closed': 0,
    'no-open-run': 0,
    'would-terminate': 0,
    failed: 0,
  };
  private readonly executions: ExecutionReport[] = [];
  private readonly failures: FailedExecution[] = [];
  private truncated = false;

  constructor(
    private readonly dryRun: boolean,
    private readonly maxListed: number = REPORT_EXECUTIONS_MAX,
  ) {}

  add(entry: ExecutionReport): void {
    this.counts[entry.outcome] += 1;
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
      matched: c.terminated + c['already-closed'] + c['no-open-run'] + c['would-terminate'] + c.failed,
      terminated: c.terminated,
      alreadyClosed: c['already-closed'],
      noOpenRun: c['no-open-run'],
      failed: c.failed,
      wouldTerminate: c['would-terminate'],
    };
  }

  build(extra: ReportJobFields = {}): Report {
    const { matched, terminated, alreadyClosed, noOpenRun, failed } = this.totals();
    return {
      dryRun: this.dryRun,
      matched,
      terminated,
      alreadyClosed,
      noOpenRun,
      failed,
      executions: [...this.executions],
      ...(this.truncated ? { truncated: true as const } : {}),
      ...extra,
    };
  }
}
