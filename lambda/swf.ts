/**
 * The only module that talks to SWF. It creates the client once, pages through open executions, terminates
 * one execution, and classifies SWF's answers into outcomes the core understands.
 */
import {
  ListOpenWorkflowExecutionsCommand,
  SWFClient,
  type SWFClientConfig,
  TerminateWorkflowExecutionCommand,
  type WorkflowExecutionInfo,
} from '@aws-sdk/client-swf';
import type { ChildPolicyValue } from './contract';
import { describeError } from './errors';

/**
 * Client settings on top of the SDK's standard configuration (region, credentials and
 * `AWS_ENDPOINT_URL_SWF` still come from the environment; the endpoint is never overridden here).
 *
 * - `retryMode: 'standard'`, `maxAttempts: 8`: exponential backoff with full jitter; throttling answers
 *   (ThrottlingException) back off from a 500 ms base, doubling up to 20 s, so 7 retries ride out roughly
 *   50 s of a busy account before an execution is reported failed (and a failed execution makes the
 *   invocation throw and be retried as a whole; terminating is idempotent). 5xx and dropped connections
 *   are retried the same way from a 100 ms base.
 * - Not `'adaptive'`: its client-side limiter can fall to 0.5 calls/s after a throttle (its minimum fill
 *   rate) and recovers slowly, which could stall a bulk request; pacing to SWF's quota belongs in the
 *   dispatcher (a token bucket sized to the quota, see issue 4).
 * - Socket timeouts so a hung connection becomes a retryable error instead of a stuck invocation.
 */
export const SWF_CLIENT_CONFIG = {
  retryMode: 'standard',
  maxAttempts: 8,
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 15_000 },
} as const satisfies SWFClientConfig;

/** Creates an SWF client with {@link SWF_CLIENT_CONFIG}; `overrides` are for tests (local endpoint). */
export function createSwfClient(overrides: SWFClientConfig = {}): SWFClient {
  return new SWFClient({ ...SWF_CLIENT_CONFIG, ...overrides });
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
  | { readonly kind: 'failed'; readonly failure: FailureKind; readonly error: string };

/** What the core needs from SWF: small enough to fake in a unit test without mocking the SDK. */
export interface SwfPort {
  /** Pages of open executions, newest first, each call with every argument unchanged but the page token. */
  listOpen(input: ListOpenInput): AsyncGenerator<readonly WorkflowExecutionInfo[]>;
  /** Terminates one run; never throws, the answer is classified. */
  terminate(input: TerminateInput): Promise<TerminateResult>;
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
  const text = describeError(error);
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

/** Wraps an SDK client as the handler's {@link SwfPort}. */
export function createSwf(client: SWFClient): SwfPort {
  return {
    async *listOpen(input) {
      let nextPageToken: string | undefined;
      do {
        const page = await client.send(
          new ListOpenWorkflowExecutionsCommand({
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
            maximumPageSize: LIST_PAGE_SIZE,
            ...(nextPageToken === undefined ? {} : { nextPageToken }),
          }),
        );
        yield page.executionInfos ?? [];
        nextPageToken = page.nextPageToken === '' ? undefined : page.nextPageToken;
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
        const classified = classifySwfError(error);
        return classified.kind === 'not-open' ? { kind: 'already-closed' } : classified;
      }
    },
  };
}

let defaultSwf: SwfPort | undefined;

/** The function's SWF port, created on first use and kept for the life of the execution environment. */
export function getDefaultSwf(): SwfPort {
  defaultSwf ??= createSwf(createSwfClient());
  return defaultSwf;
}
