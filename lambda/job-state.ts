/**
 * A job's state: what the state machine hands each chunk and each chunk hands back. It carries the request
 * (an explicit list narrowed to what is left), the function settings the request was accepted under, who
 * asked and when, and the totals and failures so far. The Step Functions console shows it after every chunk.
 *
 * - A selector needs no progress: terminated executions leave the open list, so listing again converges,
 *   and the start-time window stays capped at the original request time.
 * - The settings the request was accepted under (lambda/settings.ts) travel with it, so a redeployment in
 *   between never changes what the job does.
 * - A chunk's event is parsed strictly and its request validated exactly like a new request (domain
 *   allow-list, limits, field rules, unknown fields): anyone who may invoke the function could have made it.
 */
import * as z from 'zod/mini';
import { CHILD_POLICIES, HANDOFF_PAYLOAD_MAX_BYTES, JOB_EVENT_KEY } from '../lib/contract';
import type { Config } from './config';
import { EXECUTION_ERROR_MAX_CHARS, type FailedExecution, type JobTotals } from './errors';
import type { ParsedEvent, Provenance } from './request';
import { invalidRequestFrom, parseRequest } from './request';
import { type AcceptedUnder, configForCarriedJob, type JobSettings, jobSettings } from './settings';

export const JOB_STATE_VERSION = 1;

/** Failures a job lists by name (the count in its totals is always exact). */
export const JOB_FAILURES_LISTED_MAX = 50;

/**
 * Where a job stands, as the state machine's Choice reads it after each chunk: `running` goes on to the next
 * chunk, `done` succeeds, `failed` (executions failed) fails naming them, `aborted` (the chunk saw its
 * execution stopped; Step Functions has dropped the answer already) fails.
 */
export type JobStatus = 'running' | 'done' | 'failed' | 'aborted';

/** What a job carries from chunk to chunk. */
export interface JobState {
  readonly version: typeof JOB_STATE_VERSION;
  /** The job's id, its execution's name: the first event's id, or the console invocation's request id. */
  readonly jobId: string;
  /** The validated request in its wire form (an explicit list narrowed to what is left). */
  readonly request: Record<string, unknown>;
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
  /** One line for people: what the job did, and for a failed job which executions failed. */
  readonly summary: string;
}

/** The event a chunk is invoked with: the state, and the execution it belongs to (`$$.Execution.Id`). */
export interface ChunkEvent {
  readonly [JOB_EVENT_KEY]: JobState;
  readonly execution: string;
}

/** A chunk's event, parsed and validated. */
export interface ParsedChunk {
  readonly parsed: ParsedEvent;
  readonly acceptedUnder: AcceptedUnder;
  readonly settings: JobSettings;
  readonly state: JobState;
  /** The ARN of the execution the chunk works for. */
  readonly execution: string;
}

/** True when the event is a chunk of a job (a plain object carrying the job's state). */
export function isChunkEvent(event: unknown): boolean {
  return typeof event === 'object' && event !== null && JOB_EVENT_KEY in event;
}

/** The totals as one line: what the job did so far. */
export function describeTotals(totals: JobTotals): string {
  return (
    `${totals.matched} matched: ${totals.terminated} terminated, ${totals.wouldTerminate} would be terminated ` +
    `(preview), ${totals.alreadyClosed} already closed, ${totals.noOpenRun} with no open run, ${totals.failed} failed`
  );
}

/**
 * A job state that fits Step Functions' 256 KB: the failures listed by name are dropped from the end until it
 * does (their count in `totals` stays exact). The request itself always fits: a larger one was refused when it
 * arrived (HANDOFF_REQUEST_MAX_BYTES).
 */
export function fitJobState(state: JobState): JobState {
  let failures = state.failures.slice(0, JOB_FAILURES_LISTED_MAX);
  for (;;) {
    const fitted = { ...state, failures };
    if (failures.length === 0 || Buffer.byteLength(JSON.stringify(fitted)) <= HANDOFF_PAYLOAD_MAX_BYTES) {
      return fitted;
    }
    failures = failures.slice(0, Math.floor(failures.length / 2));
  }
}

function buildSchema() {
  const count = z.int().check(z.gte(0));
  const id = z.string().check(z.minLength(1), z.maxLength(256));
  const instant = z.iso.datetime({ offset: true });
  const state = z.strictObject({
    version: z.literal(JOB_STATE_VERSION),
    jobId: id,
    // Passed on as it came and validated by parseRequest like any request: a copy made here (z.record)
    // would silently drop a `__proto__` key instead of refusing it.
    request: z.unknown(),
    acceptedUnder: z.strictObject({
      dryRun: z.boolean(),
      defaultChildPolicy: z.optional(z.enum(CHILD_POLICIES)),
      maxExecutions: z.int().check(z.gte(1)),
    }),
    requestTime: instant,
    provenance: z.union([
      z.strictObject({ via: z.literal('eventbridge'), eventId: id, source: id, account: id, time: instant }),
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
      .check(z.maxLength(JOB_FAILURES_LISTED_MAX)),
    chunks: count,
    status: z.enum(['running', 'done', 'failed', 'aborted']),
    lastProgressAt: z.optional(instant),
    summary: z.string().check(z.maxLength(4096)),
  });
  return z.strictObject({ [JOB_EVENT_KEY]: state, execution: z.string().check(z.maxLength(2048)) });
}

let schema: ReturnType<typeof buildSchema> | undefined;

/**
 * Parses a chunk's event strictly and validates its request exactly as a new request is validated, against
 * the settings it was accepted under (and today's allowed domains).
 *
 * @param now the invocation time: a carried request time is never allowed to be later
 * @throws InvalidRequestError naming the field, DomainNotAllowedError, TooManyExecutionsError
 */
export function parseChunkEvent(event: unknown, config: Config, now: Date): ParsedChunk {
  schema ??= buildSchema();
  const result = schema.safeParse(event, { reportInput: true });
  if (!result.success) {
    throw invalidRequestFrom('', result.error.issues);
  }
  const body = result.data[JOB_EVENT_KEY];
  const accepted: AcceptedUnder = {
    dryRun: body.acceptedUnder.dryRun,
    ...(body.acceptedUnder.defaultChildPolicy === undefined
      ? {}
      : { defaultChildPolicy: body.acceptedUnder.defaultChildPolicy }),
    maxExecutions: body.acceptedUnder.maxExecutions,
  };
  const carriedConfig = configForCarriedJob(accepted, config, `${JOB_EVENT_KEY}.acceptedUnder`);
  const request = parseRequest(body.request, carriedConfig, `${JOB_EVENT_KEY}.request`);
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
  const state: JobState = {
    ...body,
    // Validated as a request just above.
    request: body.request as Record<string, unknown>,
    acceptedUnder: accepted,
    provenance,
    totals: { ...body.totals },
    failures: body.failures.map((f) => ({
      workflowId: f.workflowId,
      ...(f.runId === undefined ? {} : { runId: f.runId }),
      error: f.error,
    })),
  };
  return {
    parsed: { request, provenance, requestTime: carried < now ? carried : now },
    acceptedUnder: accepted,
    settings: jobSettings(request, accepted),
    state,
    execution: result.data.execution,
  };
}
