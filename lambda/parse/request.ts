/**
 * Turns a request object (an EventBridge event's `detail`, or a console test event) into a typed, fully
 * validated termination request, or refuses it. Pure: no SWF call, no clock. Everything that can be checked
 * without SWF is checked here, so a refused request never reaches SWF.
 *
 * Validation uses `zod/mini` (the same checks as full zod, for less module-load time) and reports the first
 * problem as `path.to.field: rule` (lambda/parse/issues.ts).
 */
import * as z from 'zod/mini';
import {
  ACTIONS,
  CANCEL_THEN_TERMINATE_MAX_EXECUTIONS,
  CHILD_POLICIES,
  GRACE_PERIOD_SECONDS,
  HANDOFF_REQUEST_MAX_BYTES,
  LIMITS,
  REQUEST_DETAILS_MAX,
  swfNameProblem,
  WORKFLOW_TYPE_VERSION_MAX,
} from '../../lib/contract';
import type { Config } from '../config';
import { DomainNotAllowedError, echo, InvalidRequestError, TooManyExecutionsError } from '../errors';
import type { TerminationRequest } from '../types';
import { fieldPath, invalidRequestFrom, typeOf } from './issues';
import { checkAction, type Permits, requestPermits } from './action';
import { targetOf } from './target';
import { wireBytes } from './wire';

function nameCheck(value: string, ctx: { addIssue: (issue: { code: 'custom'; message: string }) => void }) {
  const problem = swfNameProblem(value);
  if (problem !== undefined) {
    ctx.addIssue({ code: 'custom', message: problem });
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

/** The longest duration a selector may give (openLongerThanSeconds, idleLongerThanSeconds): ten years. */
const MAX_DURATION_SECONDS = 10 * 365 * 24 * 3600;

/**
 * Builds the schemas. Called on first use, not at module load: building them (regexes, closures) is the
 * largest part of validation's cold-start cost, and a refused-at-init function never needs them.
 */
function buildSchemas() {
  /** An SWF name: domain, workflowId, tag, workflow type name. */
  const swfName = z.string().check(z.superRefine(nameCheck));

  const versionString = z.string().check(
    z.superRefine((value, ctx) => {
      if (value.length < 1 || value.length > WORKFLOW_TYPE_VERSION_MAX) {
        ctx.addIssue({
          code: 'custom',
          message: `must be 1-${WORKFLOW_TYPE_VERSION_MAX} characters (got ${value.length})`,
        });
        return;
      }
      nameCheck(value, ctx);
    }),
  );

  const runIdString = z.string().check(
    z.superRefine((value, ctx) => {
      if (value.length < 1 || value.length > LIMITS.runIdMax) {
        ctx.addIssue({
          code: 'custom',
          message: `must be 1-${LIMITS.runIdMax} characters (got ${value.length})`,
        });
      } else if (CONTROL_CHARS.test(value)) {
        ctx.addIssue({ code: 'custom', message: 'must not contain control characters' });
      }
    }),
  );

  function maxChars(limit: number, why = '') {
    return z.string().check(
      z.superRefine((value, ctx) => {
        if (value.length > limit) {
          ctx.addIssue({
            code: 'custom',
            message: `must be at most ${limit} characters${why} (got ${value.length})`,
          });
        }
      }),
    );
  }

  const dateTime = z.iso.datetime({ offset: true });

  const executionSchema = z.strictObject({
    workflowId: swfName,
    runId: z.optional(runIdString),
  });

  /** A workflowId prefix: SWF's character rule for names, 1-256 characters. */
  const prefixString = z.string().check(
    z.superRefine((value, ctx) => {
      // The whole-name rule but the literal "arn" (a prefix "arn" matches "arn-123").
      const problem = swfNameProblem(value === 'arn' ? 'arn-' : value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
  );

  /** A duration in whole seconds: at least 1, at most ten years. */
  const seconds = z.int().check(z.gte(1), z.lte(MAX_DURATION_SECONDS));

  const selectorSchema = z.strictObject({
    tag: z.optional(swfName),
    workflowType: z.optional(
      z.strictObject({
        name: swfName,
        version: z.optional(versionString),
      }),
    ),
    workflowIdPrefix: z.optional(prefixString),
    startedAfter: z.optional(dateTime),
    startedBefore: z.optional(dateTime),
    openLongerThanSeconds: z.optional(seconds),
    stalled: z.optional(z.literal(true)),
    idleLongerThanSeconds: z.optional(seconds),
  });

  const requestSchema = z.strictObject({
    domain: swfName,
    workflowId: z.optional(swfName),
    runId: z.optional(runIdString),
    executions: z.optional(z.array(executionSchema).check(z.minLength(1))),
    selector: z.optional(selectorSchema),
    reason: z.optional(maxChars(LIMITS.reasonMax)),
    details: z.optional(
      maxChars(
        REQUEST_DETAILS_MAX,
        ` (SWF's ${LIMITS.detailsMax} minus ${LIMITS.detailsMax - REQUEST_DETAILS_MAX} kept for provenance)`,
      ),
    ),
    childPolicy: z.optional(z.enum(CHILD_POLICIES)),
    action: z.optional(z.enum(ACTIONS)),
    gracePeriodSeconds: z.optional(
      z.int().check(z.gte(GRACE_PERIOD_SECONDS.min), z.lte(GRACE_PERIOD_SECONDS.max)),
    ),
    dryRun: z.optional(z.boolean()),
    // Checked in parseRequest against the function's ceiling, which the schema (built once) does not know.
    maxExecutions: z.optional(z.unknown()),
  });

  return { requestSchema };
}

let schemas: ReturnType<typeof buildSchemas> | undefined;

function getSchemas(): ReturnType<typeof buildSchemas> {
  schemas ??= buildSchemas();
  return schemas;
}

export type RawRequest = z.infer<ReturnType<typeof buildSchemas>['requestSchema']>;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates a request object (the `detail` of an EventBridge event, or a console test event) against the
 * schema and the function's configuration. `prefix` is prepended to field paths in error messages.
 *
 * @throws InvalidRequestError, DomainNotAllowedError, TooManyExecutionsError (an explicit list longer than
 *   the limit). Never calls SWF.
 */
export function parseRequest(
  raw: unknown,
  config: Config,
  prefix = '',
  permits: Permits = requestPermits(config),
): TerminationRequest {
  if (!isRecord(raw)) {
    throw new InvalidRequestError(prefix || 'request', `must be a JSON object (got ${typeOf(raw)})`);
  }
  const result = getSchemas().requestSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    throw invalidRequestFrom(prefix, result.error.issues);
  }
  const r = result.data;
  const field = (name: string) => fieldPath(prefix, [name]);

  const target = targetOf(r, prefix);

  const maxExecutions = r.maxExecutions;
  // cancelThenTerminate hands the runs it cancelled to a job as a list: a ceiling of its own.
  const ceiling =
    r.action === 'cancelThenTerminate'
      ? Math.min(config.maxExecutions, CANCEL_THEN_TERMINATE_MAX_EXECUTIONS)
      : config.maxExecutions;
  if (
    maxExecutions !== undefined &&
    (typeof maxExecutions !== 'number' ||
      !Number.isInteger(maxExecutions) ||
      maxExecutions < 1 ||
      maxExecutions > ceiling)
  ) {
    throw new InvalidRequestError(
      field('maxExecutions'),
      `must be an integer from 1 to ${ceiling}, ` +
        (ceiling < config.maxExecutions
          ? 'the most cancelThenTerminate hands to the job that terminates them'
          : "the function's ceiling (MAX_EXECUTIONS)") +
        ` (got ${echo(maxExecutions)})`,
    );
  }

  if (!config.allowedDomains.includes(r.domain)) {
    throw new DomainNotAllowedError(r.domain, config.allowedDomains);
  }
  checkAction(r, target, permits, prefix);

  // An explicit list is counted before any SWF call: too many is refused outright.
  const limit = maxExecutions ?? ceiling;
  if (target.kind === 'list' && target.executions.length > limit) {
    throw new TooManyExecutionsError(target.executions.length, limit);
  }

  const request: TerminationRequest = {
    domain: r.domain,
    target,
    ...(r.reason === undefined ? {} : { reason: r.reason }),
    ...(r.details === undefined ? {} : { details: r.details }),
    ...(r.childPolicy === undefined ? {} : { childPolicy: r.childPolicy }),
    ...(r.action === undefined ? {} : { action: r.action }),
    ...(r.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: r.gracePeriodSeconds }),
    ...(r.dryRun === undefined ? {} : { dryRun: r.dryRun }),
    ...(maxExecutions === undefined ? {} : { maxExecutions }),
  };
  // A request that does not finish in one invocation is carried from chunk to chunk in a job's state:
  // one that could not be carried is refused now, before any SWF call, not after acting on part of it.
  const bytes = wireBytes(request);
  if (bytes > HANDOFF_REQUEST_MAX_BYTES) {
    throw new InvalidRequestError(
      field(target.kind === 'list' ? 'executions' : 'details'),
      `makes the request ${bytes} bytes as JSON, over the ${HANDOFF_REQUEST_MAX_BYTES} bytes a job carries from ` +
        "chunk to chunk (Step Functions' 256 KB state, less room for the job's progress); " +
        'split the list into smaller requests, or use a selector',
    );
  }
  return request;
}
