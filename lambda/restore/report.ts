/**
 * What a restore answers: one entry per run it found (started, or skipped with why), and the counts. Pure.
 */

/** What became of one terminated run. */
export type RestoreOutcome =
  /** Started again: `newRunId` is the new run. */
  | 'started'
  /** A dry run: it would be started. */
  | 'would-start'
  /** A run of that workflowId is open (SWF never starts a second): left alone. */
  | 'open-again'
  /** A run of that workflowId was started after this termination (by anyone, an earlier restore too). */
  | 'restarted-since'
  /** Its workflow type is deprecated: SWF refuses to start it. */
  | 'type-deprecated'
  /** Its history's first event could not be read as WorkflowExecutionStarted: what to start is unknown. */
  | 'start-unreadable'
  /** Closed by its parent's termination (child policy TERMINATE): the parent's restart restarts its work. */
  | 'child-of-restored-parent'
  /** Its run names a Lambda role the restore function may not pass (restoreLambdaRoles). */
  | 'lambda-role-not-allowed'
  /** A named run this project did not terminate (no provenance block in its termination): never started. */
  | 'not-terminated-by-terminator'
  /** SWF refused or failed the start (after retries); `error` says why. */
  | 'failed';

/** The outcomes that skip a run, counted by reason in {@link RestoreTotals.skipped}. */
export const SKIP_OUTCOMES = [
  'open-again',
  'restarted-since',
  'type-deprecated',
  'start-unreadable',
  'child-of-restored-parent',
  'lambda-role-not-allowed',
  'not-terminated-by-terminator',
] as const satisfies readonly RestoreOutcome[];
export type SkipOutcome = (typeof SKIP_OUTCOMES)[number];

/** One terminated run and what the restore did with it. */
export interface RestoredRun {
  readonly workflowId: string;
  /** The terminated run. */
  readonly runId: string;
  readonly outcome: RestoreOutcome;
  /** `started`: the new run. */
  readonly newRunId?: string;
  readonly workflowType?: { readonly name: string; readonly version: string };
  /** The size of the input it is (or would be) started with, in bytes. */
  readonly inputBytes?: number;
  /** `child-of-restored-parent`: the parent run whose termination closed it. */
  readonly parent?: { readonly workflowId: string; readonly runId: string };
  readonly error?: string;
}

/** The counts of a restore (a job's carried from chunk to chunk). */
export interface RestoreTotals {
  /** Terminations this project made for the job or policy (or the named runs), children included. */
  readonly matched: number;
  readonly started: number;
  readonly wouldStart: number;
  readonly failed: number;
  /** Skipped runs by why. */
  readonly skipped: Readonly<Record<SkipOutcome, number>>;
  /** Terminated runs in the window that this project did not terminate for that job or policy: untouched. */
  readonly notOurs: number;
}

export const NO_RESTORE_TOTALS: RestoreTotals = {
  matched: 0,
  started: 0,
  wouldStart: 0,
  failed: 0,
  skipped: Object.fromEntries(SKIP_OUTCOMES.map((o) => [o, 0])) as Record<SkipOutcome, number>,
  notOurs: 0,
};

/** The most runs a report lists (the counts stay exact). */
export const RESTORE_REPORT_RUNS_MAX = 1000;

/** What a restore request (or a restore job's chunk) answers. */
export interface RestoreReport {
  readonly restore: {
    readonly jobId: string;
    readonly domain: string;
    readonly dryRun: boolean;
    readonly totals: RestoreTotals;
    readonly runs: readonly RestoredRun[];
    readonly truncated?: true;
    /** Present when the rest of the work is (or already was) a job on the state machine. */
    readonly job?: {
      readonly state: 'started' | 'exists';
      readonly executionArn: string;
      readonly status?: string;
    };
  };
}

/** Adds one run's outcome to the totals. */
export function countOutcome(totals: RestoreTotals, outcome: RestoreOutcome): RestoreTotals {
  switch (outcome) {
    case 'started':
      return { ...totals, started: totals.started + 1 };
    case 'would-start':
      return { ...totals, wouldStart: totals.wouldStart + 1 };
    case 'failed':
      return { ...totals, failed: totals.failed + 1 };
    default:
      return { ...totals, skipped: { ...totals.skipped, [outcome]: totals.skipped[outcome] + 1 } };
  }
}

/** Field by field, a + b. */
export function addRestoreTotals(a: RestoreTotals, b: RestoreTotals): RestoreTotals {
  return {
    matched: a.matched + b.matched,
    started: a.started + b.started,
    wouldStart: a.wouldStart + b.wouldStart,
    failed: a.failed + b.failed,
    notOurs: a.notOurs + b.notOurs,
    skipped: Object.fromEntries(SKIP_OUTCOMES.map((o) => [o, a.skipped[o] + b.skipped[o]])) as Record<
      SkipOutcome,
      number
    >,
  };
}

/** One line for people. */
export function describeRestoreTotals(t: RestoreTotals): string {
  const skipped = SKIP_OUTCOMES.filter((o) => t.skipped[o] > 0).map((o) => `${t.skipped[o]} ${o}`);
  return (
    `${t.matched} terminated by the terminator: ${t.started} started, ${t.wouldStart} would start, ` +
    `${t.failed} failed${skipped.length === 0 ? '' : `, skipped: ${skipped.join(', ')}`}; ` +
    `${t.notOurs} terminated by others left alone`
  );
}
