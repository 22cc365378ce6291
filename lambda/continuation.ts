/**
 * Continuations: when an invocation's time runs low, the rest of the request is handed to a new invocation
 * of the same function (an asynchronous Lambda Invoke, InvocationType 'Event') carrying the request, the
 * settings it was accepted under, its provenance and the job's progress.
 *
 * - A selector needs no progress: terminated executions leave the open list, so listing again converges,
 *   and the start-time window stays capped at the original request time.
 * - An explicit list carries what is left: the continuation's request is the original request with
 *   `executions` narrowed to the entries not yet done (re-queued ones first).
 * - The function's settings the request was accepted under (lambda/settings.ts) travel with it, so a
 *   redeployment in between never changes what the job does.
 * - Every continuation event is parsed strictly and its embedded request validated exactly like a new
 *   request (domain allow-list, limits, field rules, unknown fields). The chain is bounded by
 *   MAX_CONTINUATIONS.
 *
 * The Lambda client is loaded and created on the first continuation only, so a cold start never pays for it;
 * the bundle leaves `@aws-sdk/client-lambda` to the Lambda runtime's copy (lib/handler-bundling.ts).
 */
import * as z from 'zod/mini';
import { CHILD_POLICIES, CONTINUATION_EVENT_KEY, HANDOFF_PAYLOAD_MAX_BYTES } from '../lib/contract';
import type { Config } from './config';
import {
  ContinuationFailedError,
  describeError,
  EXECUTION_ERROR_MAX_CHARS,
  type FailedExecution,
  type JobTotals,
} from './errors';
import type { ParsedEvent, Provenance } from './request';
import { invalidRequestFrom, parseRequest } from './request';
import { type AcceptedUnder, configForCarriedJob, type JobSettings, jobSettings } from './settings';

export const CONTINUATION_VERSION = 1;

/** Failures carried by name to the final invocation (the count is always exact). */
export const CARRIED_FAILURES_MAX = 50;

/** Attempts of the continuation's Invoke, and the most one attempt may take (connecting included). */
export const INVOKE_MAX_ATTEMPTS = 3;
export const INVOKE_REQUEST_TIMEOUT_MS = 3_000;
const INVOKE_CONNECTION_TIMEOUT_MS = 2_000;

/**
 * The longest the continuation's Invoke may take, retries included: a hard deadline on the whole call. The
 * SDK's own retries cannot promise one (Lambda's throttling answers carry a Retry-After that the standard
 * retry mode honours, by as much as 20 s per retry in some SDK versions), and the function uses the Lambda
 * runtime's copy of `@aws-sdk/client-lambda`, whatever its version.
 */
export const INVOKE_MAX_MS = 12_000;

/** What a continuation carries. */
export interface ContinuationBody {
  readonly version: typeof CONTINUATION_VERSION;
  /** The job's id: the first event's id, or the console invocation's request id. */
  readonly jobId: string;
  /** 1 for the first continuation, 2 for the next... */
  readonly sequence: number;
  /** The validated request in its wire form (an explicit list narrowed to what is left). */
  readonly request: Record<string, unknown>;
  /** The function's settings the request was accepted under. */
  readonly acceptedUnder: AcceptedUnder;
  /** The original request time (ISO 8601): selectors and run resolution never reach past it. */
  readonly requestTime: string;
  /** Who asked, as the first invocation recorded it. */
  readonly provenance: Provenance;
  readonly progress:
    { readonly target: 'selector' } | { readonly target: 'list'; readonly remaining: number };
  /** The job's totals over every invocation so far. */
  readonly totals: JobTotals;
  /** The first failures of the job so far, by name. */
  readonly failures: readonly FailedExecution[];
}

export type ContinuationEvent = { readonly [CONTINUATION_EVENT_KEY]: ContinuationBody };

/** A continuation event, parsed and re-validated. */
export interface ParsedContinuation {
  readonly parsed: ParsedEvent;
  readonly acceptedUnder: AcceptedUnder;
  readonly settings: JobSettings;
  readonly jobId: string;
  readonly sequence: number;
  readonly totals: JobTotals;
  readonly failures: readonly FailedExecution[];
}

/** True when the event is a continuation (a plain object whose one marker key is present). */
export function isContinuationEvent(event: unknown): boolean {
  return typeof event === 'object' && event !== null && CONTINUATION_EVENT_KEY in event;
}

/**
 * A continuation event that fits Lambda's asynchronous payload: the failures listed by name are dropped from
 * the end until it does (their count in `totals` stays exact). The request itself always fits: a larger one
 * was refused when it arrived (HANDOFF_REQUEST_MAX_BYTES).
 */
export function continuationEvent(body: ContinuationBody): ContinuationEvent {
  let failures = body.failures.slice(0, CARRIED_FAILURES_MAX);
  for (;;) {
    const event = { [CONTINUATION_EVENT_KEY]: { ...body, failures } };
    if (failures.length === 0 || Buffer.byteLength(JSON.stringify(event)) <= HANDOFF_PAYLOAD_MAX_BYTES) {
      return event;
    }
    failures = failures.slice(0, Math.floor(failures.length / 2));
  }
}

function buildSchema() {
  const count = z.int().check(z.gte(0));
  const id = z.string().check(z.minLength(1), z.maxLength(256));
  return z.strictObject({
    [CONTINUATION_EVENT_KEY]: z.strictObject({
      version: z.literal(CONTINUATION_VERSION),
      jobId: id,
      sequence: z.int().check(z.gte(1)),
      // Passed on as it came and validated by parseRequest like any request: a copy made here (z.record)
      // would silently drop a `__proto__` key instead of refusing it.
      request: z.unknown(),
      acceptedUnder: z.strictObject({
        dryRun: z.boolean(),
        defaultChildPolicy: z.optional(z.enum(CHILD_POLICIES)),
        maxExecutions: z.int().check(z.gte(1)),
      }),
      requestTime: z.iso.datetime({ offset: true }),
      provenance: z.union([
        z.strictObject({
          via: z.literal('eventbridge'),
          eventId: id,
          source: id,
          account: id,
          time: z.iso.datetime({ offset: true }),
        }),
        z.strictObject({ via: z.literal('console'), requestId: id }),
      ]),
      progress: z.union([
        z.strictObject({ target: z.literal('selector') }),
        z.strictObject({ target: z.literal('list'), remaining: count }),
      ]),
      totals: z.strictObject({
        matched: count,
        terminated: count,
        alreadyClosed: count,
        noOpenRun: count,
        failed: count,
        wouldTerminate: count,
      }),
      failures: z
        .array(
          z.strictObject({
            workflowId: id,
            runId: z.optional(z.string().check(z.maxLength(64))),
            // Clipped to EXECUTION_ERROR_MAX_CHARS plus the note of the original length.
            error: z.string().check(z.maxLength(EXECUTION_ERROR_MAX_CHARS + 32)),
          }),
        )
        .check(z.maxLength(CARRIED_FAILURES_MAX)),
    }),
  });
}

let schema: ReturnType<typeof buildSchema> | undefined;

/**
 * Parses a continuation event strictly and validates its request exactly as a new request is validated,
 * against the settings it was accepted under (and today's allowed domains).
 *
 * @param now the invocation time: a carried request time is never allowed to be later
 * @throws InvalidRequestError naming the field, DomainNotAllowedError, TooManyExecutionsError
 */
export function parseContinuation(event: unknown, config: Config, now: Date): ParsedContinuation {
  schema ??= buildSchema();
  const result = schema.safeParse(event, { reportInput: true });
  if (!result.success) {
    throw invalidRequestFrom('', result.error.issues);
  }
  const body = result.data[CONTINUATION_EVENT_KEY];
  const accepted: AcceptedUnder = {
    dryRun: body.acceptedUnder.dryRun,
    ...(body.acceptedUnder.defaultChildPolicy === undefined
      ? {}
      : { defaultChildPolicy: body.acceptedUnder.defaultChildPolicy }),
    maxExecutions: body.acceptedUnder.maxExecutions,
  };
  const carriedConfig = configForCarriedJob(accepted, config, `${CONTINUATION_EVENT_KEY}.acceptedUnder`);
  const request = parseRequest(body.request, carriedConfig, `${CONTINUATION_EVENT_KEY}.request`);
  const carried = new Date(body.requestTime);
  const provenance: Provenance =
    body.provenance.via === 'eventbridge'
      ? {
          via: 'eventbridge',
          eventId: body.provenance.eventId,
          source: body.provenance.source,
          account: body.provenance.account,
          time: body.provenance.time,
        }
      : { via: 'console', requestId: body.provenance.requestId };
  return {
    parsed: { request, provenance, requestTime: carried < now ? carried : now },
    acceptedUnder: accepted,
    settings: jobSettings(request, accepted),
    jobId: body.jobId,
    sequence: body.sequence,
    totals: { ...body.totals },
    failures: body.failures.map((f) => ({
      workflowId: f.workflowId,
      ...(f.runId === undefined ? {} : { runId: f.runId }),
      error: f.error,
    })),
  };
}

/** Hands a continuation event to the next invocation. */
export interface ContinuationSender {
  send(event: ContinuationEvent): Promise<void>;
}

type LambdaSdk = typeof import('@aws-sdk/client-lambda');

/**
 * Loads `@aws-sdk/client-lambda` on first use. `require`, not `import()`: the bundle leaves this module to
 * the Lambda runtime's SDK (lib/handler-bundling.ts), which lives under /var/runtime/node_modules and is
 * found through NODE_PATH; CommonJS resolution honours NODE_PATH, ESM `import()` resolution does not.
 */
function loadLambdaSdk(): LambdaSdk {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@aws-sdk/client-lambda') as LambdaSdk;
}

/**
 * Sends continuations as asynchronous invocations of `functionName()` (the function itself:
 * AWS_LAMBDA_FUNCTION_NAME). `@aws-sdk/client-lambda` is required and its client created on first use.
 * The SDK's standard retries apply (throttling, 5xx, timeouts) within a deadline, {@link INVOKE_MAX_MS}; an
 * answer other than 202 is a failure. An Invoke that Lambda accepted but whose answer was lost (a timeout
 * after acceptance) is reported as failed, and a retry of the invocation then sends the continuation again:
 * two chains work on the job. They act only on what the request named or matched (the second finds those
 * terminated already closed), but the job's totals count both.
 */
export function lambdaContinuationSender(
  functionName: () => string | undefined,
  deadlineMs: number = INVOKE_MAX_MS,
): ContinuationSender {
  let client: import('@aws-sdk/client-lambda').LambdaClient | undefined;
  return {
    async send(event) {
      const jobId = event[CONTINUATION_EVENT_KEY].jobId;
      const name = functionName();
      if (name === undefined || name === '') {
        throw new ContinuationFailedError(jobId, 'AWS_LAMBDA_FUNCTION_NAME is not set');
      }
      const payload = JSON.stringify(event);
      const bytes = Buffer.byteLength(payload);
      if (bytes > HANDOFF_PAYLOAD_MAX_BYTES) {
        throw new ContinuationFailedError(
          jobId,
          `the continuation payload is ${bytes} bytes, over Lambda's ${HANDOFF_PAYLOAD_MAX_BYTES}-byte limit for asynchronous invocations`,
        );
      }
      try {
        const { LambdaClient, InvokeCommand } = loadLambdaSdk();
        // Timeouts per attempt, and a deadline on the whole call: a hung or throttled Invoke fails within
        // deadlineMs instead of outliving the invocation. The deadline aborts the call, so an attempt the SDK
        // would start after it is never sent.
        client ??= new LambdaClient({
          maxAttempts: INVOKE_MAX_ATTEMPTS,
          requestHandler: {
            connectionTimeout: INVOKE_CONNECTION_TIMEOUT_MS,
            requestTimeout: INVOKE_REQUEST_TIMEOUT_MS,
            throwOnRequestTimeout: true,
            socketTimeout: INVOKE_REQUEST_TIMEOUT_MS,
          },
        });
        const deadline = AbortSignal.timeout(deadlineMs);
        const expired = new Promise<never>((_, reject) => {
          deadline.addEventListener(
            'abort',
            () => {
              reject(new Error(`no answer within ${deadlineMs} ms, retries included`));
            },
            { once: true },
          );
        });
        const answer = await Promise.race([
          client.send(
            new InvokeCommand({
              FunctionName: name,
              InvocationType: 'Event',
              Payload: Buffer.from(payload, 'utf8'),
            }),
            { abortSignal: deadline },
          ),
          expired,
        ]);
        if (answer.StatusCode !== 202) {
          throw new Error(`Invoke answered status ${String(answer.StatusCode)} (expected 202)`);
        }
      } catch (error: unknown) {
        throw new ContinuationFailedError(jobId, describeError(error));
      }
    },
  };
}
