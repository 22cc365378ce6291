/**
 * The only module that talks to SWF: the port the core uses. It pages through open executions, counts them,
 * terminates one execution, and classifies SWF's answers into outcomes the core understands. The client's
 * settings (timeouts, retries) are in lambda/aws/swf-client.ts.
 */
import {
  CountOpenWorkflowExecutionsCommand,
  DescribeWorkflowExecutionCommand,
  type DescribeWorkflowExecutionCommandOutput,
  ListOpenWorkflowExecutionsCommand,
  RequestCancelWorkflowExecutionCommand,
  type SWFClient,
  TerminateWorkflowExecutionCommand,
  type WorkflowExecutionInfo,
} from '@aws-sdk/client-swf';
import type { ChildPolicyValue } from '../../lib/contract';
import { clip, describeError, EXECUTION_ERROR_MAX_CHARS } from '../errors';
import { createSwfClient, isThrottlingError, retryThrottled } from './swf-client';

/** SWF's ListOpenWorkflowExecutions page size limit: fewer calls against its small quota (48/s). */
export const LIST_PAGE_SIZE = 1000;

/** Arguments of ListOpenWorkflowExecutions other than paging. */
export interface ListOpenInput {
  readonly domain: string;
  readonly startTimeFilter: { readonly oldestDate: Date; readonly latestDate?: Date };
  readonly tagFilter?: { readonly tag: string };
  readonly typeFilter?: { readonly name: string; readonly version?: string };
  readonly executionFilter?: { readonly workflowId: string };
}

/** Arguments of TerminateWorkflowExecution (runId always given: the handler resolves runs itself). */
export interface TerminateInput {
  readonly domain: string;
  readonly workflowId: string;
  readonly runId: string;
  readonly reason: string;
  readonly details: string;
  readonly childPolicy?: ChildPolicyValue;
}

/** One run, for the calls that take nothing else (RequestCancel, Describe). */
export interface RunInput {
  readonly domain: string;
  readonly workflowId: string;
  readonly runId: string;
}

/** What DescribeWorkflowExecution says about an open run's activity (the stalled and idle criteria). */
export interface RunActivity {
  readonly openCounts: {
    readonly openActivityTasks: number;
    readonly openDecisionTasks: number;
    readonly openTimers: number;
    readonly openChildWorkflowExecutions: number;
    readonly openLambdaFunctions: number;
  };
  /** When the latest activity task was scheduled; absent when there was none. */
  readonly latestActivityTaskTimestamp?: Date;
  readonly startTimestamp: Date;
}

/** What DescribeWorkflowExecution says about an open run: its activity, and its info as a listing shows it. */
export interface DescribedRun extends RunActivity {
  /** The run's type, tags, start time, status and whether it was asked to cancel. */
  readonly info: WorkflowExecutionInfo;
}

/** Why a call failed, as far as the handler cares. */
export type FailureKind = 'unknown-domain' | 'not-permitted' | 'other';

/**
 * Asked before every attempt of a call that acts on a run (Terminate, RequestCancel), the SDK's retries
 * included: false means the call must not be sent now (its job was stopped), and it ends `not-sent`.
 */
export type ActGate = () => Promise<boolean>;

/** How a call that acts on a run (Terminate, RequestCancel) can end other than as asked. */
type ActFailure =
  | { readonly kind: 'already-closed' }
  /** The gate said no before an attempt (the first, or a retry after a transient error): put it back. */
  | { readonly kind: 'not-sent' }
  /** SWF throttled the call: not a failure, the caller slows down and tries it again later. */
  | { readonly kind: 'throttled'; readonly error: string }
  | { readonly kind: 'failed'; readonly failure: FailureKind; readonly error: string };

/** The outcome of one TerminateWorkflowExecution call. */
export type TerminateResult = { readonly kind: 'terminated' } | ActFailure;

/** The outcome of one RequestCancelWorkflowExecution call (the run stays open until its decider acts). */
export type CancelResult = { readonly kind: 'cancel-requested' } | ActFailure;

/** Thrown by the gate middleware when the gate says no: the attempt is not sent, and not retried. */
class NotSentError extends Error {
  override readonly name = 'NotSentError';
}

/**
 * Makes `command` ask `gate` before each attempt: a middleware inside the SDK's retry loop (after
 * `retryMiddleware`, like request signing), so a retry after a transient error is asked too. A refusal
 * throws {@link NotSentError}, which the retry strategy does not retry (a client error).
 */
function gated<C extends TerminateWorkflowExecutionCommand | RequestCancelWorkflowExecutionCommand>(
  command: C,
  gate: ActGate | undefined,
): C {
  if (gate === undefined) return command;
  // The middleware stack's own type overloads addRelativeTo by step, which a generic command cannot pick:
  // this is the one overload used (a finalizeRequest middleware, placed relative to another).
  const stack = command.middlewareStack as unknown as GateStack;
  stack.addRelativeTo(
    (next) => async (args) => {
      if (!(await gate())) throw new NotSentError('not sent: the job was stopped before this attempt');
      return next(args);
    },
    { relation: 'after', toMiddleware: 'retryMiddleware', name: 'terminatorActGate' },
  );
  return command;
}

/** The part of an SDK command's middleware stack {@link gated} uses. */
interface GateStack {
  addRelativeTo(
    middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
    options: { relation: 'after'; toMiddleware: string; name: string },
  ): void;
}

/** What an error thrown by Terminate or RequestCancel means for the run. */
function actFailure(error: unknown): ActFailure {
  if (error instanceof NotSentError) return { kind: 'not-sent' };
  if (isThrottlingError(error)) return { kind: 'throttled', error: describeError(error) };
  const classified = classifySwfError(error);
  return classified.kind === 'not-open' ? { kind: 'already-closed' } : classified;
}

/** The answer of CountOpenWorkflowExecutions: `truncated` means the count is not exact. */
export interface OpenCount {
  readonly count: number;
  readonly truncated: boolean;
}

/** What the core needs from SWF: small enough to fake in a unit test without mocking the SDK. */
export interface SwfPort {
  /** Pages of open executions, newest first, each call with every argument unchanged but the page token. */
  listOpen(input: ListOpenInput): AsyncGenerator<readonly WorkflowExecutionInfo[]>;
  /**
   * Terminates one run; never throws, the answer is classified. `gate` is asked before every attempt
   * (retries included): a refusal ends the call `not-sent`.
   */
  terminate(input: TerminateInput, gate?: ActGate): Promise<TerminateResult>;
  /**
   * CountOpenWorkflowExecutions with the same filters as {@link listOpen}; undefined when SWF's answer
   * carries no count. Throws on errors (after throttling retries).
   */
  countOpen(input: ListOpenInput): Promise<OpenCount | undefined>;
  /** Asks one run's decider to cancel it; never throws, the answer is classified; `gate` as for terminate. */
  requestCancel(input: RunInput, gate?: ActGate): Promise<CancelResult>;
  /**
   * One run's activity and info; `closed` when SWF says it is not open (any more). Throws on other errors
   * (after throttling retries), like {@link countOpen}.
   */
  describe(input: RunInput): Promise<DescribedRun | 'closed'>;
}

function errorField(error: unknown, key: 'name' | 'message'): string {
  if (typeof error === 'object' && error !== null && key in error) {
    const value = (error as Record<string, unknown>)[key];
    return typeof value === 'string' ? value : '';
  }
  return '';
}

/** The error an SWF call threw, classified. */
export type SwfErrorClass =
  | { readonly kind: 'not-open' }
  | { readonly kind: 'failed'; readonly failure: FailureKind; readonly error: string };

/**
 * Classifies an error thrown by an SWF call (after the SDK's retries):
 * - `UnknownResourceFault` about the execution: it is not open (closed already, or never existed);
 * - `UnknownResourceFault` about the domain (or anything else): a configuration error, failed;
 * - `OperationNotPermittedFault`: failed (the role may not act on it);
 * - anything else (throttling or 5xx that outlived the retries, network errors): failed.
 */
export function classifySwfError(error: unknown): SwfErrorClass {
  const name = errorField(error, 'name');
  const message = errorField(error, 'message');
  const text = clip(describeError(error), EXECUTION_ERROR_MAX_CHARS);
  if (name === 'UnknownResourceFault') {
    if (/unknown\s+domain/i.test(message)) {
      return { kind: 'failed', failure: 'unknown-domain', error: text };
    }
    if (/unknown\s+execution/i.test(message)) {
      return { kind: 'not-open' };
    }
    // A fault that names neither is not assumed harmless.
    return { kind: 'failed', failure: 'other', error: text };
  }
  if (name === 'OperationNotPermittedFault') {
    return { kind: 'failed', failure: 'not-permitted', error: text };
  }
  return { kind: 'failed', failure: 'other', error: text };
}

/**
 * What went wrong with a call that lists or describes (where "not open" is no answer either), in words:
 * the classified error, clipped.
 */
export function listingErrorText(error: unknown): string {
  const classified = classifySwfError(error);
  return classified.kind === 'failed' ? classified.error : 'unexpected UnknownResourceFault';
}

/**
 * A listing answered a page token it had already answered: following it would go round the same pages
 * forever (A, B, A, B...). Thrown by {@link SwfPort.listOpen}; callers treat it like any listing failure
 * (a selector request fails with ListingFailedError, a run resolution reports `failed`).
 */
export class RepeatedPageTokenError extends Error {
  override readonly name = 'RepeatedPageTokenError';

  constructor(
    readonly operation: string,
    /** Pages listed before the repeat. */
    readonly pages: number,
  ) {
    super(
      `${operation} answered a nextPageToken it had already answered, after ${pages} pages; stopped instead ` +
        'of listing the same pages again',
    );
  }
}

/** Wraps an SDK client as the handler's {@link SwfPort}. */
export function createSwf(client: SWFClient): SwfPort {
  return {
    async *listOpen(input) {
      let nextPageToken: string | undefined;
      // Every token answered so far: a cycle of any length ends the listing. At most one token per page of
      // a listing that the caller bounds by time (2 KB each: well under a megabyte for 100,000 executions).
      const seen = new Set<string>();
      do {
        const token = nextPageToken;
        const page = await retryThrottled(() =>
          client.send(
            new ListOpenWorkflowExecutionsCommand({
              ...filterArgs(input),
              maximumPageSize: LIST_PAGE_SIZE,
              ...(token === undefined ? {} : { nextPageToken: token }),
            }),
          ),
        );
        // A stubbed or faulty endpoint may answer nothing at all: treat it as an empty last page.
        const answer = page as typeof page | undefined;
        nextPageToken = answer?.nextPageToken === '' ? undefined : answer?.nextPageToken;
        // A token answered before would go round the same pages again: fail the listing (nothing more yielded).
        if (nextPageToken !== undefined) {
          if (seen.has(nextPageToken)) {
            throw new RepeatedPageTokenError('ListOpenWorkflowExecutions', seen.size + 1);
          }
          seen.add(nextPageToken);
        }
        yield answer?.executionInfos ?? [];
      } while (nextPageToken !== undefined);
    },

    async terminate(input, gate) {
      try {
        await client.send(
          gated(
            new TerminateWorkflowExecutionCommand({
              domain: input.domain,
              workflowId: input.workflowId,
              runId: input.runId,
              reason: input.reason,
              details: input.details,
              ...(input.childPolicy === undefined ? {} : { childPolicy: input.childPolicy }),
            }),
            gate,
          ),
        );
        return { kind: 'terminated' };
      } catch (error: unknown) {
        return actFailure(error);
      }
    },

    async requestCancel(input, gate) {
      try {
        await client.send(
          gated(
            new RequestCancelWorkflowExecutionCommand({
              domain: input.domain,
              workflowId: input.workflowId,
              runId: input.runId,
            }),
            gate,
          ),
        );
        return { kind: 'cancel-requested' };
      } catch (error: unknown) {
        return actFailure(error);
      }
    },

    async describe(input) {
      let answer;
      try {
        answer = await retryThrottled(() =>
          client.send(
            new DescribeWorkflowExecutionCommand({
              domain: input.domain,
              execution: { workflowId: input.workflowId, runId: input.runId },
            }),
          ),
        );
      } catch (error: unknown) {
        if (classifySwfError(error).kind === 'not-open') return 'closed';
        throw error;
      }
      return activityOf(answer);
    },

    async countOpen(input) {
      const answer = (await retryThrottled(() =>
        client.send(new CountOpenWorkflowExecutionsCommand(filterArgs(input))),
      )) as { count?: unknown; truncated?: unknown } | undefined;
      const count = answer?.count;
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) return undefined;
      return { count, truncated: answer?.truncated === true };
    },
  };
}

/**
 * The activity in a Describe answer; `closed` when the run is closed. Missing counts are read as open work
 * (1), never as none: a run is called stalled only on SWF's word.
 */
function activityOf(answer: DescribeWorkflowExecutionCommandOutput | undefined): DescribedRun | 'closed' {
  const info = answer?.executionInfo;
  if (info?.executionStatus !== 'OPEN' || !(info.startTimestamp instanceof Date)) return 'closed';
  const counts = answer?.openCounts;
  const count = (n: number | undefined) => (typeof n === 'number' && n >= 0 ? n : 1);
  const latest = answer?.latestActivityTaskTimestamp;
  return {
    openCounts: {
      openActivityTasks: count(counts?.openActivityTasks),
      openDecisionTasks: count(counts?.openDecisionTasks),
      openTimers: count(counts?.openTimers),
      openChildWorkflowExecutions: count(counts?.openChildWorkflowExecutions),
      openLambdaFunctions: count(counts?.openLambdaFunctions),
    },
    ...(latest instanceof Date ? { latestActivityTaskTimestamp: latest } : {}),
    startTimestamp: info.startTimestamp,
    info,
  };
}

/** The filter arguments shared by List and Count (every argument but paging). */
function filterArgs(input: ListOpenInput) {
  return {
    domain: input.domain,
    startTimeFilter: {
      oldestDate: input.startTimeFilter.oldestDate,
      ...(input.startTimeFilter.latestDate === undefined
        ? {}
        : { latestDate: input.startTimeFilter.latestDate }),
    },
    ...(input.tagFilter === undefined ? {} : { tagFilter: { ...input.tagFilter } }),
    ...(input.typeFilter === undefined ? {} : { typeFilter: { ...input.typeFilter } }),
    ...(input.executionFilter === undefined ? {} : { executionFilter: { ...input.executionFilter } }),
  };
}

let defaultSwf: SwfPort | undefined;

/** The function's SWF port, created on first use and kept for the life of the execution environment. */
export function getDefaultSwf(): SwfPort {
  defaultSwf ??= createSwf(createSwfClient());
  return defaultSwf;
}
