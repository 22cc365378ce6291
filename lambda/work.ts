/**
 * One request's (or one chunk's) work, as the plan and act stages both see it: the collaborators they call
 * (SWF, the pacers, the List and Describe buckets), the options of the work, and how many executions it may
 * still act on. Types and one pure rule only, below both stages, so neither imports the other.
 */
import type { Pacer, TokenBucket } from './aws/pacer';
import type { SwfPort } from './aws/swf';
import type {
  ExecutionRef,
  ExecutionReport,
  ExecutionSeen,
  JobSettings,
  ParsedEvent,
  Selector,
} from './types';

/** The invocation that acts on a request. */
export interface ActingInvocation {
  /** The Lambda request id of this invocation. */
  readonly functionRequestId: string;
  /** Id of the job the invocation works on (the event id, or the console request id). */
  readonly jobId: string;
}

/** A concrete run to terminate. */
export interface RunRef {
  readonly workflowId: string;
  readonly runId: string;
  /** A selector's match: the run as listed, which a preview reports. */
  readonly seen?: ExecutionSeen;
}

/** The collaborators the work calls. */
export interface WorkDeps {
  readonly swf: SwfPort;
  /** Paces TerminateWorkflowExecution (module scope: shared by warm invocations of one container). */
  readonly pacer: Pacer;
  /** Paces RequestCancelWorkflowExecution, which has its own quota. */
  readonly cancelPacer: Pacer;
  /** Paces List calls (selector pages, run resolution): ListOpenWorkflowExecutions has its own quota. */
  readonly listBucket: TokenBucket;
  /** Paces DescribeWorkflowExecution (the stalled and idle criteria): its quota is the smallest, 6/s. */
  readonly describeBucket: TokenBucket;
}

/** One request's work (or the part of it one invocation does). */
export interface RunOptions {
  readonly parsed: ParsedEvent;
  /** What the job acts with, fixed when its request was accepted. */
  readonly settings: JobSettings;
  readonly invocation: ActingInvocation;
  /** Called once per execution, as soon as its outcome is known (report + log line). */
  readonly record: (entry: ExecutionReport) => void;
  /** True when no new work may start (the invocation's time is running out, or the job was stopped). */
  readonly shouldStop: () => boolean;
  /**
   * Asked just before every call that acts on a run (every attempt of it): false when it must not be made
   * (the job was stopped; it waits meanwhile while the job's state is not known recently enough). The run is
   * put back, never recorded. Absent: always (a function without jobs).
   */
  readonly mayAct?: () => Promise<boolean>;
  /**
   * Executions earlier invocations of the job terminated or asked to cancel (or, in a preview, would have).
   * The rest of the job
   * may act on at most the limit less these. Not "matched": failed runs stay open and a lagging listing can
   * show terminated ones again, so counting those would use up the allowance and stop the job early.
   */
  readonly alreadyActedOn: number;
  /**
   * What each run of a list must still match, read from SWF just before it is first acted on
   * (lambda/act/run-checks.ts, confirmRun): a policy's whole match (the run an SWF event names, or a policy
   * job's runs), or the stalled / idle criteria a resolved list's runs matched. A run that does not is left
   * alone (`no-longer-matches`, `already-closed`).
   */
  readonly confirm?: Selector;
  /**
   * cancelThenTerminate's second step: terminate a run only when SWF shows it open and asked to cancel (a
   * List call per run, just before it); one SWF shows not asked is reported failed, never terminated.
   */
  readonly askedOnly?: true;
  /**
   * An event policy's circuit breaker (lambda/aws/breaker.ts): asked once a run has passed its checks, just
   * before the first call that acts on it; false: the run is recorded `passed-over`, never acted on. Asked
   * again for a run put back (throttled): the breaker counts a run once, however often it is asked.
   */
  readonly admit?: (run: RunRef) => Promise<boolean>;
  /** Something worth a warning log line. */
  readonly warn: (message: string, extra: Record<string, unknown>) => void;
}

/** How far this invocation got. */
export type RunResult =
  | { readonly done: true }
  /** Time ran out. `remaining` is the explicit list still to do (absent for a selector: it lists again). */
  | { readonly done: false; readonly remaining?: readonly ExecutionRef[] };

/** How many more executions the work may act on: its limit, less what earlier invocations acted on. */
export function allowanceOf(options: RunOptions): number {
  return Math.max(0, options.settings.limit - options.alreadyActedOn);
}
