/**
 * The in-memory SWF for unit tests: a {@link SwfPort} over a list of runs that close when terminated, with
 * the misbehaviours the handler must survive as options (a listing that lags or ignores its filters, a count
 * that is low, runs that cannot be terminated, a page that comes late). Wire-level behaviour (the SDK, HTTP
 * errors, SWF's own quotas) is the HTTP fake's job (test/support/fake-swf.ts).
 */
import type { WorkflowExecutionInfo } from '@aws-sdk/client-swf';
import type {
  CancelResult,
  DescribedRun,
  ListOpenInput,
  RunActivity,
  RunInput,
  SwfPort,
  TerminateInput,
  TerminateResult,
} from '../../lambda/aws/swf';

export interface MemoryRunInit {
  readonly workflowId: string;
  readonly runId: string;
  /** @default 'x' */
  readonly tag?: string;
  /** @default one hour before the fake was created */
  readonly startTimestamp?: Date;
  /** What Describe answers about it. @default nothing open, no activity task ever */
  readonly activity?: Partial<Omit<RunActivity, 'startTimestamp'>>;
}

export interface MemorySwfOptions {
  /** Runs per listing page. @default 100 */
  readonly pageSize?: number;
  /** The listing still shows terminated runs (SWF's listing is eventually consistent). */
  readonly stale?: boolean;
  /** The listing ignores the tag filter (an endpoint may): the handler must filter itself. */
  readonly ignoreTagFilter?: boolean;
  /** Awaited before each page is handed out (index from 0): a slow page. */
  readonly beforePage?: (index: number) => Promise<void> | void;
  /** Terminating these workflowIds always fails (as OperationNotPermitted would). */
  readonly failing?: ReadonlySet<string>;
  /** What CountOpenWorkflowExecutions answers, if not the true number of open matching runs. */
  readonly count?: number;
}

interface MemoryRun {
  readonly workflowId: string;
  readonly runId: string;
  readonly tag: string;
  readonly startTimestamp: Date;
  readonly activity: Partial<Omit<RunActivity, 'startTimestamp'>>;
  open: boolean;
  cancelRequested: boolean;
}

export class MemorySwf implements SwfPort {
  /** Every TerminateWorkflowExecution call, in order (including those that failed or found the run closed). */
  public readonly terminateCalls: TerminateInput[] = [];
  /** Every RequestCancelWorkflowExecution call, in order. */
  public readonly cancelCalls: RunInput[] = [];
  /** Every DescribeWorkflowExecution call, in order. */
  public readonly describeCalls: RunInput[] = [];
  /** How many ListOpenWorkflowExecutions calls were started. */
  public listCalls = 0;
  /** How many pages were asked for, over all listings (a page asked for but not yet handed out included). */
  public pagesAsked = 0;
  private readonly runs: MemoryRun[];

  constructor(
    runs: readonly MemoryRunInit[],
    private readonly options: MemorySwfOptions = {},
  ) {
    const anHourAgo = new Date(Date.now() - 3_600_000);
    this.runs = runs.map((run) => ({
      workflowId: run.workflowId,
      runId: run.runId,
      tag: run.tag ?? 'x',
      startTimestamp: run.startTimestamp ?? anHourAgo,
      activity: run.activity ?? {},
      open: true,
      cancelRequested: false,
    }));
  }

  /** `count` runs `e0`..`e<count-1>` (runs `r0`...), all tagged `x`. */
  public static withRuns(count: number, options: MemorySwfOptions = {}): MemorySwf {
    const runs = Array.from({ length: count }, (_, i) => ({ workflowId: `e${i}`, runId: `r${i}` }));
    return new MemorySwf(runs, options);
  }

  public async *listOpen(input: ListOpenInput): AsyncGenerator<readonly WorkflowExecutionInfo[]> {
    this.listCalls += 1;
    const listed = this.runs.filter(
      (run) => (this.options.stale === true || run.open) && this.matches(run, input),
    );
    const pageSize = this.options.pageSize ?? 100;
    for (let index = 0; index * pageSize < listed.length; index += 1) {
      this.pagesAsked += 1;
      await this.options.beforePage?.(index);
      yield listed.slice(index * pageSize, (index + 1) * pageSize).map(infoOf);
    }
  }

  public async terminate(input: TerminateInput): Promise<TerminateResult> {
    this.terminateCalls.push(input);
    // A call takes time: the pipeline's other work interleaves with it as it would with SWF.
    await new Promise((resolve) => setTimeout(resolve, 1));
    if (this.options.failing?.has(input.workflowId) === true) {
      return { kind: 'failed', failure: 'not-permitted', error: 'not permitted' };
    }
    const run = this.runs.find((r) => r.workflowId === input.workflowId && r.runId === input.runId);
    if (run === undefined || !run.open) return { kind: 'already-closed' };
    run.open = false;
    return { kind: 'terminated' };
  }

  public async requestCancel(input: RunInput): Promise<CancelResult> {
    this.cancelCalls.push(input);
    await new Promise((resolve) => setTimeout(resolve, 1));
    const run = this.runs.find((r) => r.workflowId === input.workflowId && r.runId === input.runId);
    if (run === undefined || !run.open) return { kind: 'already-closed' };
    run.cancelRequested = true;
    return { kind: 'cancel-requested' };
  }

  public describe(input: RunInput): Promise<DescribedRun | 'closed'> {
    this.describeCalls.push(input);
    const run = this.runs.find((r) => r.workflowId === input.workflowId && r.runId === input.runId);
    if (run === undefined || !run.open) return Promise.resolve('closed');
    const none = {
      openActivityTasks: 0,
      openDecisionTasks: 0,
      openTimers: 0,
      openChildWorkflowExecutions: 0,
      openLambdaFunctions: 0,
    };
    return Promise.resolve({
      openCounts: { ...none, ...run.activity.openCounts },
      ...(run.activity.latestActivityTaskTimestamp === undefined
        ? {}
        : { latestActivityTaskTimestamp: run.activity.latestActivityTaskTimestamp }),
      startTimestamp: run.startTimestamp,
      info: infoOf(run),
    });
  }

  /** The workflowIds asked to cancel and still open. */
  public cancelRequested(): string[] {
    return this.runs.filter((r) => r.open && r.cancelRequested).map((r) => r.workflowId);
  }

  public countOpen(input: ListOpenInput): Promise<{ count: number; truncated: boolean }> {
    const count = this.runs.filter((run) => run.open && this.matches(run, input)).length;
    return Promise.resolve({ count: this.options.count ?? count, truncated: false });
  }

  /** The workflowIds still open. */
  public open(): string[] {
    return this.runs.filter((r) => r.open).map((r) => r.workflowId);
  }

  /** How many runs were terminated. */
  public terminatedCount(): number {
    return this.runs.filter((r) => !r.open).length;
  }

  private matches(run: MemoryRun, input: ListOpenInput): boolean {
    if (input.executionFilter !== undefined && run.workflowId !== input.executionFilter.workflowId)
      return false;
    if (
      input.tagFilter !== undefined &&
      this.options.ignoreTagFilter !== true &&
      run.tag !== input.tagFilter.tag
    ) {
      return false;
    }
    const { oldestDate, latestDate } = input.startTimeFilter;
    if (run.startTimestamp < oldestDate) return false;
    return latestDate === undefined || run.startTimestamp <= latestDate;
  }
}

function infoOf(run: MemoryRun): WorkflowExecutionInfo {
  return {
    execution: { workflowId: run.workflowId, runId: run.runId },
    workflowType: { name: 't', version: '1' },
    startTimestamp: run.startTimestamp,
    executionStatus: 'OPEN',
    tagList: [run.tag],
    cancelRequested: run.cancelRequested,
  };
}
