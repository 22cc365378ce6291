/**
 * The types the handler's stages share: a request as parsed, the settings a job acts with, what happened to
 * each execution, and a job's state. Types only: every stage imports from here, and this imports nothing but
 * the contract with the construct.
 */
import type { ActionValue, ChildPolicyValue, RequestWire } from '../lib/contract';
import type { PolicyTriggerValue } from '../lib/policy-contract';

// ---------------------------------------------------------------------------------------------------------
// A request

/** One execution named by a request; without runId, the workflow's current open run. */
export interface ExecutionRef {
  readonly workflowId: string;
  readonly runId?: string;
}

/**
 * Open executions matching every criterion given: at least one of tag, workflowType, workflowIdPrefix or a
 * time bound (startedBefore, openLongerThanSeconds, idleLongerThanSeconds).
 */
export interface Selector {
  readonly tag?: string;
  readonly workflowType?: { readonly name: string; readonly version?: string };
  /** The workflowId starts with this (checked on every listed execution: SWF cannot filter by prefix). */
  readonly workflowIdPrefix?: string;
  /** Started at least this long before the request time. */
  readonly openLongerThanSeconds?: number;
  /**
   * No open decision task, activity task, timer, child execution or Lambda task: nothing is going to move it.
   * Needs DescribeWorkflowExecution per candidate in a sweep; an SWF event's detail carries it.
   */
  readonly stalled?: true;
  /**
   * No activity task scheduled for at least this long before the request time (the start time counts when
   * there was none). Needs DescribeWorkflowExecution per candidate in a sweep, like `stalled`.
   */
  readonly idleLongerThanSeconds?: number;
  /**
   * Inclusive lower bound on the execution's start time, never before the Unix epoch. A fraction finer than
   * a millisecond is rounded UP: the window only ever narrows, never widens.
   */
  readonly startedAfter?: Date;
  /**
   * Inclusive upper bound on the execution's start time, never before the Unix epoch. A fraction finer than
   * a millisecond is rounded DOWN: the window only ever narrows, never widens.
   */
  readonly startedBefore?: Date;
}

/** A selector's criteria that only DescribeWorkflowExecution (or an SWF event's detail) answers. */
export type ActivityCriteria = Pick<Selector, 'stalled' | 'idleLongerThanSeconds'>;

/** What a request acts on: exactly one of these. */
export type Target =
  | { readonly kind: 'single'; readonly execution: ExecutionRef }
  | { readonly kind: 'list'; readonly executions: readonly ExecutionRef[] }
  | { readonly kind: 'selector'; readonly selector: Selector };

/** A validated termination request. */
export interface TerminationRequest {
  readonly domain: string;
  readonly target: Target;
  /** What to do to each execution; absent: terminate. */
  readonly action?: ActionValue;
  /** cancelThenTerminate only: how long the executions asked to cancel get before they are terminated. */
  readonly gracePeriodSeconds?: number;
  readonly reason?: string;
  readonly details?: string;
  readonly childPolicy?: ChildPolicyValue;
  readonly dryRun?: boolean;
  readonly maxExecutions?: number;
}

/** Who asked: recorded in every termination's `details`. */
export type Provenance =
  | {
      readonly via: 'eventbridge';
      readonly eventId: string;
      readonly source: string;
      readonly account: string;
      readonly time: string;
    }
  | { readonly via: 'console'; readonly requestId: string }
  | PolicyProvenance;

/** A policy's run: which policy, how it was triggered, and the triggering event. */
export interface PolicyProvenance {
  readonly via: 'policy';
  readonly policy: string;
  readonly trigger: PolicyTriggerValue;
  /** The triggering event's id (the scheduled event's, or SWF's). */
  readonly eventId: string;
  /** The event's time: the scheduled time, or when SWF sent its event. */
  readonly time: string;
  /** The SWF event's type (trigger `event` only). */
  readonly eventType?: string;
}

/** A policy as its rule's input carries it: what its digest is computed from (lib/policy-contract.ts). */
export interface PolicyText {
  readonly name: string;
  /** How the rule triggers it: `schedule`, or `event` (an SWF event, or its backstop sweep). */
  readonly trigger: PolicyTriggerValue;
  /** The policy's request exactly as the rule delivered it (validated on every use). */
  readonly request: unknown;
}

/** A request together with where it came from and when it was made. */
export interface ParsedEvent {
  readonly request: TerminationRequest;
  readonly provenance: Provenance;
  /** A policy's run: the policy as its rule delivered it (its job carries it, to be checked again). */
  readonly policy?: PolicyText;
  /**
   * When the request was made: the end of the unit the event's `time` is stated to (its second, for
   * EventBridge's one-second `time`), never later than the invocation time; or the invocation time for a
   * console request. Selectors and run resolution never reach past it, so a re-delivered event cannot act
   * on executions started after the request.
   */
  readonly requestTime: Date;
}

// ---------------------------------------------------------------------------------------------------------
// The settings a job acts with (lambda/job/settings.ts derives them)

/** The function's configuration that a request was accepted under: what the job keeps. */
export interface AcceptedUnder {
  /** The function's DRY_RUN. */
  readonly dryRun: boolean;
  /** The function's DEFAULT_CHILD_POLICY; absent: the workflow type's own default. */
  readonly defaultChildPolicy?: ChildPolicyValue;
  /** The function's MAX_EXECUTIONS ceiling. */
  readonly maxExecutions: number;
}

/** What every invocation of a job acts with. */
export interface JobSettings {
  /** Report only; terminate nothing. */
  readonly dryRun: boolean;
  /** Sent with every termination; absent: the workflow type's own default applies. */
  readonly childPolicy?: ChildPolicyValue;
  readonly reason: string;
  /** The request's own details (the provenance block is added to them). */
  readonly details?: string;
  /** The most executions the job may act on. */
  readonly limit: number;
  /** What is done to each execution. */
  readonly action: ActionValue;
  /** cancelThenTerminate: seconds between the cancel requests and the terminations that follow. */
  readonly gracePeriodSeconds?: number;
}

// ---------------------------------------------------------------------------------------------------------
// Outcomes and totals

/** What happened to one execution. */
export type Outcome =
  | 'terminated'
  | 'cancel-requested'
  | 'already-closed'
  | 'no-open-run'
  | 'no-longer-matches'
  | 'would-terminate'
  | 'would-cancel'
  /** An event policy's circuit breaker was tripped: not acted on (lambda/aws/breaker.ts). */
  | 'passed-over'
  | 'failed';

export interface ExecutionReport {
  readonly workflowId: string;
  /** The run acted on; absent only when a run-less workflowId had no open run (`no-open-run`). */
  readonly runId?: string;
  readonly outcome: Outcome;
  /** Why it failed (outcome `failed` only). */
  readonly error?: string;
  /**
   * cancelThenTerminate's second step: the termination (or `already-closed`) of a run this job asked to
   * cancel, after its grace period. Counted in the outcome's total, not again in `matched`.
   */
  readonly afterGrace?: true;
  /** A preview of a selector: the run as SWF listed it, so an operator sees what would be acted on. */
  readonly seen?: ExecutionSeen;
}

/** A listed run's type, start and tags, as SWF listed them. */
export interface ExecutionSeen {
  readonly workflowType?: { readonly name: string; readonly version: string };
  /** ISO 8601. */
  readonly startedAt?: string;
  readonly tags?: readonly string[];
}

/**
 * What an invocation answers: its counts (a job's totals less `wouldTerminate`, which a preview's report shows
 * as `dryRun` and its executions' outcomes) and the executions themselves.
 */
export interface Report extends Omit<JobTotals, 'wouldTerminate'> {
  /** True when nothing was terminated on purpose (request dryRun, or the function's DRY_RUN). */
  readonly dryRun: boolean;
  /** One entry per execution, in completion order; capped at {@link REPORT_EXECUTIONS_MAX}. */
  readonly executions: readonly ExecutionReport[];
  /** Present and true when `executions` was capped; the counts are still exact. */
  readonly truncated?: true;
  /** The job this request is (the first event's id, or the console request id). */
  readonly jobId?: string;
  /**
   * Present when the request is (or already was) a job on the state machine. `started`: too large for one
   * invocation from the start (`too-large`: nothing above was done here), cancelThenTerminate's two steps
   * (`grace-period`: always a job), or handed on when this invocation's time ran out (`out-of-time`: the
   * counts above are what was done here). `exists`: a job of this request's id exists already, in any state
   * (a re-delivered request, or an abort recorded before the job started): this delivery acted on nothing
   * more (the counts above are what it did before it saw the job), and `status` is that job's state.
   */
  readonly job?: {
    readonly state: 'started' | 'exists';
    readonly reason?: 'too-large' | 'out-of-time' | 'grace-period';
    readonly executionArn: string;
    /** `exists`: the job's state as Step Functions reported it (RUNNING, SUCCEEDED, ABORTED...). */
    readonly status?: string;
  };
  /** A policy run refused before acting: more matched than its maxExecutions. */
  readonly refused?: string;
}

/** One execution the handler could not terminate. */
export interface FailedExecution {
  readonly workflowId: string;
  readonly runId?: string;
  readonly error: string;
}

/** The counts of outcomes: a report's, and a job's totals carried from chunk to chunk (lambda/job/write.ts). */
export interface JobTotals {
  /** Executions the request named or matched (every outcome). */
  readonly matched: number;
  readonly terminated: number;
  readonly alreadyClosed: number;
  /**
   * Run-less workflowIds with no open run listed: closed, never started, or started so recently that SWF's
   * eventually consistent listing did not show it yet. Give the runId to be sure.
   */
  readonly noOpenRun: number;
  /**
   * Runs a stalled / idleLongerThanSeconds selector matched that no longer met those criteria when described
   * again just before they were acted on (they resumed meanwhile): left alone.
   */
  readonly noLongerMatches: number;
  readonly failed: number;
  /** Executions a preview would have terminated. */
  readonly wouldTerminate: number;
  /** Executions asked to cancel (requestCancel and cancelThenTerminate). */
  readonly cancelRequested: number;
  /** Executions a preview would have asked to cancel. */
  readonly wouldCancel: number;
  /** Executions an event policy's tripped circuit breaker passed over (present only when some were). */
  readonly passedOver?: number;
}

// ---------------------------------------------------------------------------------------------------------
// A job's state (lambda/parse/job-state.ts reads it, lambda/job/write.ts writes it)

/**
 * Where a job stands, as the state machine's Choice reads it after each chunk: `running` goes on to the next
 * chunk, `done` succeeds, `failed` (executions failed) fails naming them, `aborted` (the chunk saw its
 * execution stopped; Step Functions has dropped the answer already) fails.
 */
export type JobStatus = 'running' | 'done' | 'failed' | 'aborted';

/** What a job carries from chunk to chunk. */
export interface JobState {
  readonly version: 2;
  /** The job's id, its execution's name: the first event's id, or the console invocation's request id. */
  readonly jobId: string;
  /** The validated request in its wire form (an explicit list narrowed to what is left). */
  readonly request: RequestWire;
  /** The function's settings the request was accepted under. */
  readonly acceptedUnder: AcceptedUnder;
  /** The original request time (ISO 8601): selectors and run resolution never reach past it. */
  readonly requestTime: string;
  /** Who asked. */
  readonly provenance: Provenance;
  readonly progress:
    { readonly target: 'selector' } | { readonly target: 'list'; readonly remaining: number };
  /** The job's totals over every chunk so far (and the invocation that accepted it). */
  readonly totals: JobTotals;
  /** The first failures of the job so far, by name. */
  readonly failures: readonly FailedExecution[];
  /** Chunks run so far. */
  readonly chunks: number;
  readonly status: JobStatus;
  /** When a chunk last made progress (ISO 8601); absent before the first chunk. */
  readonly lastProgressAt?: string;
  /**
   * The job waits until then (ISO 8601, whole seconds: Step Functions' Wait ignores fractions) before its next
   * chunk: cancelThenTerminate, until the next run it asked has had its grace period. The state machine's
   * Wait state reads it; a chunk invoked earlier does nothing and answers the state unchanged.
   */
  readonly notBefore?: string;
  /**
   * cancelThenTerminate: the runs this job asked to cancel and has not terminated yet, each with when SWF
   * answered that it was asked. Each is terminated no earlier than its own ask time plus the grace period,
   * and only these are ever terminated (lambda/act/cancel-then-terminate.ts).
   */
  readonly asked?: readonly {
    readonly workflowId: string;
    readonly runId: string;
    readonly askedAt: string;
  }[];
  /**
   * The stalled / idle criteria the job's runs were resolved by: each run is described again just before it
   * is acted on, and left alone (`no-longer-matches`) when it no longer meets them.
   */
  readonly recheck?: ActivityCriteria;
  /**
   * A policy's job: the policy as its rule delivered it. Each chunk accepts the job only if the policy is one
   * deployed with the function (its digest) and the job's request is what that policy makes, and confirms
   * every run against the policy's match from SWF before acting on it.
   */
  readonly policy?: PolicyText;
  /** One line for people: what the job did, and for a failed job which executions failed. */
  readonly summary: string;
}
