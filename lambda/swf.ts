/**
 * The only module that talks to SWF. It creates the client once, pages through open executions, terminates
 * one execution, and classifies SWF's answers into outcomes the core understands.
 */
import {
  CountOpenWorkflowExecutionsCommand,
  ListOpenWorkflowExecutionsCommand,
  SWFClient,
  type SWFClientConfig,
  TerminateWorkflowExecutionCommand,
  type WorkflowExecutionInfo,
} from '@aws-sdk/client-swf';
import type { ChildPolicyValue } from '../lib/contract';
import { clip, describeError, EXECUTION_ERROR_MAX_CHARS } from './errors';

type RetryStrategyV2 = Extract<
  NonNullable<SWFClientConfig['retryStrategy']>,
  { acquireInitialRetryToken: unknown }
>;
type RetryToken = Awaited<ReturnType<RetryStrategyV2['acquireInitialRetryToken']>>;
type RetryErrorInfo = Parameters<RetryStrategyV2['refreshRetryTokenForRetry']>[1];

/** Attempts per call for transient errors (5xx, dropped connections, timeouts): 1 + 4 retries. */
export const TRANSIENT_MAX_ATTEMPTS = 5;
const TRANSIENT_BASE_DELAY_MS = 100;
const MAX_RETRY_DELAY_MS = 20_000;

/** Longest wait for a connection, per attempt. */
export const CONNECTION_TIMEOUT_MS = 3_000;
/**
 * Longest wait for one attempt's answer, connecting included (up to the response's headers), and longest a
 * response's body may stall (socket idle) once it has started.
 */
export const REQUEST_TIMEOUT_MS = 5_000;

/** The most backoff {@link transientOnlyRetryStrategy} waits between attempts (ms), per retry count. */
function transientBackoffCapMs(count: number): number {
  return Math.min(MAX_RETRY_DELAY_MS, TRANSIENT_BASE_DELAY_MS * 2 ** (count - 1));
}

/**
 * The longest one SWF call can take, every attempt timing out and every backoff at its cap: 5 x 5 s +
 * 1.5 s = 26.5 s. The handler's end-of-invocation reserve must cover it, so that a call started just before
 * the hand-off still finishes inside the invocation (test/handler-http.test.ts pins this).
 */
export const SWF_CALL_MAX_MS =
  TRANSIENT_MAX_ATTEMPTS * REQUEST_TIMEOUT_MS +
  Array.from({ length: TRANSIENT_MAX_ATTEMPTS - 1 }, (_, i) => transientBackoffCapMs(i + 1)).reduce(
    (a, b) => a + b,
    0,
  );

/**
 * The SDK's retry strategy for SWF calls: transient errors (5xx, dropped connections, timeouts) are retried
 * with exponential backoff and full jitter, up to {@link TRANSIENT_MAX_ATTEMPTS} attempts; throttling is
 * NOT retried by the SDK but handed straight back to the handler.
 *
 * Why: the handler paces itself (lambda/pacer.ts). A throttle the SDK retries internally is invisible to the
 * pacer (it cannot slow down), holds an in-flight slot for up to ~50 s of backoff, and makes the time left in
 * the invocation unpredictable. Returned at once, a throttle halves the pacer's rate and the execution is
 * re-queued (never failed); List/Count calls retry throttling themselves ({@link retryThrottled}).
 * Not `'adaptive'` mode either: its limiter can fall to 0.5 calls/s and recovers slowly.
 */
export function transientOnlyRetryStrategy(maxAttempts: number = TRANSIENT_MAX_ATTEMPTS): RetryStrategyV2 {
  const token = (count: number, delay: number): RetryToken => ({
    getRetryCount: () => count,
    getRetryDelay: () => delay,
  });
  return {
    acquireInitialRetryToken: () => Promise.resolve(token(0, 0)),
    refreshRetryTokenForRetry: (previous: RetryToken, info: RetryErrorInfo) => {
      const count = previous.getRetryCount() + 1;
      const retryable = info.errorType === 'TRANSIENT' || info.errorType === 'SERVER_ERROR';
      if (!retryable || count >= maxAttempts) {
        return Promise.reject(new Error('not retried'));
      }
      return Promise.resolve(token(count, Math.random() * transientBackoffCapMs(count)));
    },
    recordSuccess: () => undefined,
  };
}

/**
 * Client settings on top of the SDK's standard configuration (region, credentials and
 * `AWS_ENDPOINT_URL_SWF` still come from the environment; the endpoint is never overridden here):
 * - {@link transientOnlyRetryStrategy} (set in {@link createSwfClient});
 * - timeouts, so that a hung connection or an unanswered request becomes a retryable `TimeoutError` instead
 *   of a stuck invocation: {@link CONNECTION_TIMEOUT_MS} to connect, {@link REQUEST_TIMEOUT_MS} until the
 *   answer starts, and the same for a body that stalls (`socketTimeout`: the request timeout stops at the
 *   response's headers). SWF answers in tens of milliseconds, a 1000-execution page in well under a second.
 *   `throwOnRequestTimeout` is what makes the request timeout an error: without it the SDK only logs a
 *   warning and keeps waiting;
 * - `cacheMiddleware`: the middleware stack is resolved once per command class instead of on every call
 *   (about a tenth of a call's CPU). The SDK then shares one handler context among all calls of a class,
 *   concurrent ones included, and its endpoint, auth and signing middleware write into that context (the
 *   endpoint, the selected auth scheme and identity, clock-skew bookkeeping): a call may sign with the scheme
 *   and identity another call resolved. That is harmless here only because every call of this client has
 *   the same endpoint, region and credentials (one client per container, static environment credentials on
 *   Lambda). Passing options to `send` (an `abortSignal`, say) silently turns the cache off.
 */
export const SWF_CLIENT_CONFIG = {
  maxAttempts: TRANSIENT_MAX_ATTEMPTS,
  cacheMiddleware: true,
  requestHandler: {
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    throwOnRequestTimeout: true,
    socketTimeout: REQUEST_TIMEOUT_MS,
  },
} as const satisfies SWFClientConfig;

/** Creates an SWF client with {@link SWF_CLIENT_CONFIG}; `overrides` are for tests (local endpoint). */
export function createSwfClient(overrides: SWFClientConfig = {}): SWFClient {
  return new SWFClient({
    ...SWF_CLIENT_CONFIG,
    retryStrategy: transientOnlyRetryStrategy(),
    ...overrides,
  });
}

const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'SlowDown',
]);

/** True when an error thrown by an SWF call is throttling (SWF: `ThrottlingException`, or HTTP 429). */
export function isThrottlingError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown }; $retryable?: unknown };
  if (typeof e.name === 'string' && THROTTLING_NAMES.has(e.name)) return true;
  if (e.$metadata?.httpStatusCode === 429) return true;
  const retryable = e.$retryable as { throttling?: unknown } | undefined;
  return retryable?.throttling === true;
}

/** Retries of a throttled List/Count call, and their backoff (full jitter, doubling from 500 ms, capped). */
export const LIST_THROTTLE_RETRIES = 7;
const THROTTLE_BASE_DELAY_MS = 500;

/**
 * Runs `call`, retrying throttling with backoff (what the SDK's standard mode did for these calls before
 * throttling was handed to the handler). Other errors are thrown at once.
 */
export async function retryThrottled<T>(
  call: () => Promise<T>,
  sleep: (ms: number) => Promise<void> = (ms) =>
    new Promise<void>((resolve) => {
      setTimeout(resolve, ms);
    }),
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error: unknown) {
      if (!isThrottlingError(error) || attempt >= LIST_THROTTLE_RETRIES) throw error;
      await sleep(Math.random() * Math.min(MAX_RETRY_DELAY_MS, THROTTLE_BASE_DELAY_MS * 2 ** attempt));
    }
  }
}

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

/** Why a call failed, as far as the handler cares. */
export type FailureKind = 'unknown-domain' | 'not-permitted' | 'other';

/** The outcome of one TerminateWorkflowExecution call. */
export type TerminateResult =
  | { readonly kind: 'terminated' }
  | { readonly kind: 'already-closed' }
  /** SWF throttled the call: not a failure, the caller slows down and tries it again later. */
  | { readonly kind: 'throttled'; readonly error: string }
  | { readonly kind: 'failed'; readonly failure: FailureKind; readonly error: string };

/** The answer of CountOpenWorkflowExecutions: `truncated` means the count is not exact. */
export interface OpenCount {
  readonly count: number;
  readonly truncated: boolean;
}

/** What the core needs from SWF: small enough to fake in a unit test without mocking the SDK. */
export interface SwfPort {
  /** Pages of open executions, newest first, each call with every argument unchanged but the page token. */
  listOpen(input: ListOpenInput): AsyncGenerator<readonly WorkflowExecutionInfo[]>;
  /** Terminates one run; never throws, the answer is classified. */
  terminate(input: TerminateInput): Promise<TerminateResult>;
  /**
   * CountOpenWorkflowExecutions with the same filters as {@link listOpen}; undefined when SWF's answer
   * carries no count. Throws on errors (after throttling retries).
   */
  countOpen(input: ListOpenInput): Promise<OpenCount | undefined>;
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

    async terminate(input) {
      try {
        await client.send(
          new TerminateWorkflowExecutionCommand({
            domain: input.domain,
            workflowId: input.workflowId,
            runId: input.runId,
            reason: input.reason,
            details: input.details,
            ...(input.childPolicy === undefined ? {} : { childPolicy: input.childPolicy }),
          }),
        );
        return { kind: 'terminated' };
      } catch (error: unknown) {
        if (isThrottlingError(error)) return { kind: 'throttled', error: describeError(error) };
        const classified = classifySwfError(error);
        return classified.kind === 'not-open' ? { kind: 'already-closed' } : classified;
      }
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
