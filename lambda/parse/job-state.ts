/**
 * A job's chunk event, read: the job's state (lambda/types.ts) as the state machine hands it to each chunk,
 * and the execution it belongs to.
 *
 * - A selector needs no progress: terminated executions leave the open list, so listing again converges,
 *   and the start-time window stays capped at the original request time.
 * - The settings the request was accepted under (lambda/plan/settings.ts) travel with it, so a redeployment in
 *   between never changes what the job does.
 * - A chunk's event is parsed strictly and its request validated exactly like a new request (domain
 *   allow-list, limits, field rules, unknown fields): anyone who may invoke the function could have made it.
 */
import * as z from 'zod/mini';
import { CHILD_POLICIES, JOB_EVENT_KEY } from '../../lib/contract';
import { POLICY_TRIGGERS } from '../../lib/policy-contract';
import { needsActivity } from '../act/activity';
import type { Config } from '../config';
import { echo, EXECUTION_ERROR_MAX_CHARS, InvalidRequestError } from '../errors';
import { configForCarriedJob, jobSettings } from '../plan/settings';
import type { AcceptedUnder, JobSettings, JobState, ParsedEvent, Provenance } from '../types';
import { invalidRequestFrom } from './issues';
import { policyPermits, requestPermits } from './action';
import { parseRequest } from './request';

export const JOB_STATE_VERSION = 1;

/** Failures a job lists by name (the count in its totals is always exact). */
export const JOB_FAILURES_LISTED_MAX = 50;

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
      z.strictObject({
        via: z.literal('policy'),
        policy: id,
        trigger: z.enum(POLICY_TRIGGERS),
        eventId: id,
        time: instant,
        eventType: z.optional(id),
      }),
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
      // Absent from the state of a job started by a version before it: none then.
      noLongerMatches: z.optional(count),
      failed: count,
      wouldTerminate: count,
      cancelRequested: count,
      wouldCancel: count,
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
    notBefore: z.optional(instant),
    parent: z.optional(z.strictObject({ jobId: id, graceSeconds: z.int().check(z.gte(0)) })),
    recheck: z.optional(
      z.strictObject({
        stalled: z.optional(z.literal(true)),
        idleLongerThanSeconds: z.optional(z.int().check(z.gte(1))),
      }),
    ),
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
  // The strict schema names every key: what it answers holds no other.
  const accepted: AcceptedUnder = body.acceptedUnder;
  const carriedConfig = configForCarriedJob(accepted, config, `${JOB_EVENT_KEY}.acceptedUnder`);
  const provenance: Provenance = body.provenance;
  // A policy's job may do what its policy may (cancel where policies cancel); a request's, what requests may.
  const permits = provenance.via === 'policy' ? policyPermits(config) : requestPermits(config);
  const request = parseRequest(body.request, carriedConfig, `${JOB_EVENT_KEY}.request`, permits);
  if (request.target.kind === 'selector' && needsActivity(request.target.selector)) {
    // A job carries the runs resolved when its request was accepted, never these criteria.
    throw new InvalidRequestError(
      `${JOB_EVENT_KEY}.request.selector`,
      'must not have stalled or idleLongerThanSeconds in a job: a job carries the runs they resolved to',
    );
  }
  const recheck = body.recheck;
  if (recheck !== undefined && !permits.describeDomains.includes(request.domain)) {
    // Described again before acting: only where this function may describe (a redeploy may have removed it).
    throw new InvalidRequestError(
      `${JOB_EVENT_KEY}.recheck`,
      `needs DescribeWorkflowExecution, which this function may no longer call in domain ${echo(request.domain)}`,
    );
  }
  const carried = new Date(body.requestTime);
  const state: JobState = {
    ...body,
    // Validated as a request just above.
    request: body.request as Record<string, unknown>,
    totals: { ...body.totals, noLongerMatches: body.totals.noLongerMatches ?? 0 },
  };
  return {
    parsed: { request, provenance, requestTime: carried < now ? carried : now },
    acceptedUnder: accepted,
    settings: jobSettings(request, accepted),
    state,
    execution: result.data.execution,
  };
}
