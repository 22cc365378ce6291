/**
 * A job's chunk event, read: the job's state (lambda/types.ts) as the state machine hands it to each chunk,
 * and the execution it belongs to.
 *
 * - A selector needs no progress: terminated executions leave the open list, so listing again converges,
 *   and the start-time window stays capped at the original request time.
 * - The settings the request was accepted under (lambda/job/settings.ts) travel with it, so a redeployment in
 *   between never changes what the job does.
 * - A chunk's event is parsed strictly and its request validated exactly like a new request (domain
 *   allow-list, limits, field rules, unknown fields): anyone who may invoke the function could have made it.
 */
import * as z from 'zod/mini';
import {
  CANCEL_THEN_TERMINATE_MAX_EXECUTIONS,
  CHILD_POLICIES,
  JOB_EVENT_KEY,
  type RequestWire,
} from '../../lib/contract';
import { policyDigest, POLICY_NAME_PATTERN, POLICY_TRIGGERS } from '../../lib/policy-contract';
import { needsActivity } from '../match/activity';
import type { Config } from '../config';
import { echo, EXECUTION_ERROR_MAX_CHARS, InvalidRequestError } from '../errors';
import { configForCarriedJob, jobSettings } from '../job/settings';
import type {
  AcceptedUnder,
  JobSettings,
  JobState,
  ParsedEvent,
  PolicyText,
  Provenance,
  Selector,
  TerminationRequest,
} from '../types';
import { invalidRequestFrom } from './issues';
import { policyPermits, requestPermits } from './action';
import { parseRequest } from './request';
import { JOB_FAILURES_LISTED_MAX, JOB_STATE_VERSION, JOB_SUMMARY_MAX } from '../job/format';
import { wireRequest } from '../job/wire';

/** A chunk's event, parsed and validated. */
export interface ParsedChunk {
  readonly parsed: ParsedEvent;
  readonly acceptedUnder: AcceptedUnder;
  readonly settings: JobSettings;
  readonly state: JobState;
  /** The ARN of the execution the chunk works for. */
  readonly execution: string;
  /** What each run must still match from SWF's facts before it is first acted on (run-checks.ts). */
  readonly confirm?: Selector;
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
      defaultChildPolicy: z.exactOptional(z.enum(CHILD_POLICIES)),
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
        eventType: z.exactOptional(id),
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
      noLongerMatches: z.exactOptional(count),
      failed: count,
      wouldTerminate: count,
      cancelRequested: count,
      wouldCancel: count,
      passedOver: z.exactOptional(count),
    }),
    failures: z
      .array(
        z.strictObject({
          workflowId: id,
          runId: z.exactOptional(z.string().check(z.maxLength(64))),
          // Clipped to EXECUTION_ERROR_MAX_CHARS plus the note of the original length.
          error: z.string().check(z.maxLength(EXECUTION_ERROR_MAX_CHARS + 32)),
        }),
      )
      .check(z.maxLength(JOB_FAILURES_LISTED_MAX)),
    chunks: count,
    status: z.enum(['running', 'done', 'failed', 'aborted']),
    lastProgressAt: z.exactOptional(instant),
    notBefore: z.exactOptional(instant),
    asked: z.exactOptional(
      z
        .array(
          z.strictObject({
            workflowId: id,
            runId: z.string().check(z.minLength(1), z.maxLength(64)),
            askedAt: instant,
          }),
        )
        .check(z.maxLength(CANCEL_THEN_TERMINATE_MAX_EXECUTIONS)),
    ),
    policy: z.exactOptional(
      z.strictObject({
        name: z.string().check(z.regex(POLICY_NAME_PATTERN)),
        trigger: z.enum(POLICY_TRIGGERS),
        // Validated by parseRequest, like a policy run's request.
        request: z.unknown(),
      }),
    ),
    recheck: z.exactOptional(
      z.strictObject({
        stalled: z.exactOptional(z.literal(true)),
        idleLongerThanSeconds: z.exactOptional(z.int().check(z.gte(1))),
      }),
    ),
    summary: z.string().check(z.maxLength(JOB_SUMMARY_MAX)),
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
  // A policy's job may do what its policy may (cancel where policies cancel), once its policy is checked; a
  // request's job, what requests may.
  const permits = provenance.via === 'policy' ? policyPermits(config) : requestPermits(config);
  const request = parseRequest(body.request, carriedConfig, `${JOB_EVENT_KEY}.request`, permits);
  if (request.target.kind === 'selector' && needsActivity(request.target.selector)) {
    // A job carries the runs resolved when its request was accepted, never these criteria.
    throw new InvalidRequestError(
      `${JOB_EVENT_KEY}.request.selector`,
      'must not have stalled or idleLongerThanSeconds in a job: a job carries the runs they resolved to',
    );
  }
  const policy = checkPolicyJob(body.policy, provenance, request, carriedConfig);
  const recheck = body.recheck;
  if (recheck !== undefined && policy !== undefined) {
    throw new InvalidRequestError(
      `${JOB_EVENT_KEY}.recheck`,
      "must not be given in a policy's job: its runs are confirmed against the policy's own match",
    );
  }
  if (recheck !== undefined && !permits.describeDomains.includes(request.domain)) {
    // Described again before acting: only where this function may describe (a redeploy may have removed it).
    throw new InvalidRequestError(
      `${JOB_EVENT_KEY}.recheck`,
      `needs DescribeWorkflowExecution, which this function may no longer call in domain ${echo(request.domain)}`,
    );
  }
  const asked = body.asked ?? [];
  if (asked.length > 0 && request.action !== 'cancelThenTerminate') {
    throw new InvalidRequestError(
      `${JOB_EVENT_KEY}.asked`,
      'is only allowed in a cancelThenTerminate job (the runs it asked to cancel)',
    );
  }
  // The runs asked are runs of the job's list (its unfinished runs): the job terminates nothing else.
  const target = request.target;
  const listed = new Set(
    (target.kind === 'list' ? target.executions : target.kind === 'single' ? [target.execution] : []).map(
      (e) => `${e.workflowId}\u0000${e.runId ?? ''}`,
    ),
  );
  const stray = asked.findIndex((run) => !listed.has(`${run.workflowId}\u0000${run.runId}`));
  if (stray !== -1) {
    throw new InvalidRequestError(
      `${JOB_EVENT_KEY}.asked.${stray}`,
      "must be one of the job's runs (request.executions): a job terminates only runs it was given",
    );
  }
  const settings = jobSettings(request, accepted);
  const carried = new Date(body.requestTime);
  const state: JobState = {
    ...body,
    // Validated as a request just above (and the policy by checkPolicyJob), by the schema that accepts
    // exactly RequestWire (lambda/parse/request-schema.ts).
    request: body.request as RequestWire,
    ...(policy === undefined ? {} : { policy: policy.text }),
    totals: { ...body.totals, noLongerMatches: body.totals.noLongerMatches ?? 0 },
  };
  const confirm = policy?.selector ?? (recheck === undefined ? undefined : { ...recheck });
  return {
    parsed: {
      request,
      provenance,
      ...(policy === undefined ? {} : { policy: policy.text }),
      requestTime: carried < now ? carried : now,
    },
    acceptedUnder: accepted,
    settings,
    state,
    execution: result.data.execution,
    ...(confirm === undefined ? {} : { confirm }),
  };
}

/**
 * A policy's job, checked like a policy's run: it must carry its policy, the policy must be one deployed with
 * this function (its digest; a preview, which acts on nothing, may carry any), and the job's request must be
 * what that policy makes (its domain, action, reason, details, child policy, grace period, cap and dry run;
 * its selector, or a list of runs, each confirmed against the policy's match before it is acted on). Answers
 * the policy and the selector its runs are confirmed against; undefined for a request's job.
 */
function checkPolicyJob(
  given: PolicyText | undefined,
  provenance: Provenance,
  request: TerminationRequest,
  config: Config,
): { text: PolicyText; selector: Selector } | undefined {
  const field = `${JOB_EVENT_KEY}.policy`;
  if (provenance.via !== 'policy') {
    if (given !== undefined) {
      throw new InvalidRequestError(field, "is only allowed in a policy's job (provenance via policy)");
    }
    return undefined;
  }
  if (given === undefined) {
    throw new InvalidRequestError(
      field,
      "is required in a policy's job: the policy it runs, as its rule delivered it",
    );
  }
  if (given.name !== provenance.policy || given.trigger !== provenance.trigger) {
    throw new InvalidRequestError(field, 'must be the policy its provenance names, with the same trigger');
  }
  const preview = given.trigger === 'preview';
  if (!preview && !config.policyDigests.includes(policyDigest(given.name, given.trigger, given.request))) {
    throw new InvalidRequestError(
      field,
      'is not a policy deployed with this function (its name, trigger and request must be exactly as the ' +
        'construct wrote them into the rule)',
    );
  }
  const policyRequest = parseRequest(given.request, config, `${field}.request`, policyPermits(config));
  if (policyRequest.target.kind !== 'selector') {
    throw new InvalidRequestError(
      `${field}.request`,
      'must have a selector: a policy sweeps what it matches',
    );
  }
  const selector = policyRequest.target.selector;
  const made: TerminationRequest = {
    ...policyRequest,
    target: request.target,
    ...(preview ? { dryRun: true } : {}),
  };
  const target = request.target;
  const sameSelector =
    target.kind !== 'selector' ||
    JSON.stringify(wireRequest({ ...policyRequest, target })) === JSON.stringify(wireRequest(policyRequest));
  if (!sameSelector || JSON.stringify(wireRequest(made)) !== JSON.stringify(wireRequest(request))) {
    throw new InvalidRequestError(
      `${JOB_EVENT_KEY}.request`,
      `must be what policy ${given.name} makes: its domain, action, reason, details, child policy, grace ` +
        'period, maxExecutions and dryRun, and its selector or runs it matched',
    );
  }
  return { text: given, selector };
}
