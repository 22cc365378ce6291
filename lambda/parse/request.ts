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
  CHILD_POLICIES,
  HANDOFF_REQUEST_MAX_BYTES,
  LIMITS,
  REQUEST_DETAILS_MAX,
  swfNameProblem,
  WORKFLOW_TYPE_VERSION_MAX,
} from '../../lib/contract';
import type { Config } from '../config';
import { DomainNotAllowedError, echo, InvalidRequestError, TooManyExecutionsError } from '../errors';
import type { Target, TerminationRequest } from '../types';
import { beforeEpochRule, compareInstants, instantOf } from './instants';
import { fieldPath, invalidRequestFrom, typeOf } from './issues';
import { wireRequest } from './wire';

function nameCheck(value: string, ctx: { addIssue: (issue: { code: 'custom'; message: string }) => void }) {
  const problem = swfNameProblem(value);
  if (problem !== undefined) {
    ctx.addIssue({ code: 'custom', message: problem });
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

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

  const selectorSchema = z.strictObject({
    tag: z.optional(swfName),
    workflowType: z.optional(
      z.strictObject({
        name: swfName,
        version: z.optional(versionString),
      }),
    ),
    startedAfter: z.optional(dateTime),
    startedBefore: z.optional(dateTime),
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

type RawRequest = z.infer<ReturnType<typeof buildSchemas>['requestSchema']>;

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
export function parseRequest(raw: unknown, config: Config, prefix = ''): TerminationRequest {
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
  if (
    maxExecutions !== undefined &&
    (typeof maxExecutions !== 'number' ||
      !Number.isInteger(maxExecutions) ||
      maxExecutions < 1 ||
      maxExecutions > config.maxExecutions)
  ) {
    throw new InvalidRequestError(
      field('maxExecutions'),
      `must be an integer from 1 to ${config.maxExecutions}, the function's ceiling (MAX_EXECUTIONS) (got ${echo(maxExecutions)})`,
    );
  }

  if (!config.allowedDomains.includes(r.domain)) {
    throw new DomainNotAllowedError(r.domain, config.allowedDomains);
  }

  // An explicit list is counted before any SWF call: too many is refused outright.
  const limit = maxExecutions ?? config.maxExecutions;
  if (target.kind === 'list' && target.executions.length > limit) {
    throw new TooManyExecutionsError(target.executions.length, limit);
  }

  const request: TerminationRequest = {
    domain: r.domain,
    target,
    ...(r.reason === undefined ? {} : { reason: r.reason }),
    ...(r.details === undefined ? {} : { details: r.details }),
    ...(r.childPolicy === undefined ? {} : { childPolicy: r.childPolicy }),
    ...(r.dryRun === undefined ? {} : { dryRun: r.dryRun }),
    ...(maxExecutions === undefined ? {} : { maxExecutions }),
  };
  // A request that does not finish in one invocation is carried from chunk to chunk in a job's state:
  // one that could not be carried is refused now, before any SWF call, not after acting on part of it.
  const bytes = Buffer.byteLength(JSON.stringify(wireRequest(request)));
  if (bytes > HANDOFF_REQUEST_MAX_BYTES) {
    throw new InvalidRequestError(
      field(target.kind === 'list' ? 'executions' : 'details'),
      `makes the request ${bytes} bytes as JSON, over the ${HANDOFF_REQUEST_MAX_BYTES} bytes a job carries from ` +
        "one invocation to the next (Lambda's 256 KB asynchronous payload, less room for the job's progress); " +
        'split the list into smaller requests, or use a selector',
    );
  }
  return request;
}

function targetOf(r: RawRequest, prefix: string): Target {
  const field = (...path: PropertyKey[]) => fieldPath(prefix, path);
  const given = (['workflowId', 'executions', 'selector'] as const).filter((k) => r[k] !== undefined);
  if (given.length !== 1) {
    throw new InvalidRequestError(
      given.length === 0 ? field('workflowId') : field(given[1] ?? 'workflowId'),
      given.length === 0
        ? 'a target is required: exactly one of workflowId, executions or selector'
        : `exactly one of workflowId, executions or selector is allowed (got ${given.join(' and ')})`,
    );
  }
  if (r.runId !== undefined && r.workflowId === undefined) {
    throw new InvalidRequestError(field('runId'), 'is only allowed together with workflowId');
  }

  if (r.workflowId !== undefined) {
    return {
      kind: 'single',
      execution: { workflowId: r.workflowId, ...(r.runId === undefined ? {} : { runId: r.runId }) },
    };
  }

  if (r.executions !== undefined) {
    const seen = new Map<string, number>();
    const executions = r.executions.map((e, i) => {
      const key = JSON.stringify([e.workflowId, e.runId ?? null]);
      const first = seen.get(key);
      if (first !== undefined) {
        throw new InvalidRequestError(field('executions', i), `duplicates executions[${first}]`);
      }
      seen.set(key, i);
      return { workflowId: e.workflowId, ...(e.runId === undefined ? {} : { runId: e.runId }) };
    });
    return { kind: 'list', executions };
  }

  const s = r.selector;
  if (s === undefined) {
    // Unreachable: exactly one target was given above.
    throw new InvalidRequestError(field('selector'), 'is required');
  }
  if (s.tag === undefined && s.workflowType === undefined && s.startedBefore === undefined) {
    throw new InvalidRequestError(
      field('selector'),
      'must give at least one of tag, workflowType or startedBefore (to select everything, give startedBefore: <now>)',
    );
  }
  for (const name of ['startedAfter', 'startedBefore'] as const) {
    const raw = s[name];
    const problem = raw === undefined ? undefined : beforeEpochRule(raw);
    if (problem !== undefined) {
      throw new InvalidRequestError(field('selector', name), problem);
    }
  }
  const after = s.startedAfter === undefined ? undefined : instantOf(s.startedAfter);
  const before = s.startedBefore === undefined ? undefined : instantOf(s.startedBefore);
  // Compared exactly, before rounding: equal strings are never refused, whatever their precision.
  if (after !== undefined && before !== undefined && compareInstants(after, before) > 0) {
    throw new InvalidRequestError(
      field('selector', 'startedAfter'),
      `must not be later than selector.startedBefore (${s.startedAfter} > ${s.startedBefore})`,
    );
  }
  // Dates keep milliseconds: a finer fraction is rounded so the window narrows (after up, before down),
  // never widens. A window that rounding leaves empty matches nothing.
  const startedAfter = after === undefined ? undefined : new Date(after.ms + (after.subMs === '' ? 0 : 1));
  const startedBefore = before === undefined ? undefined : new Date(before.ms);
  const workflowType =
    s.workflowType === undefined
      ? undefined
      : {
          name: s.workflowType.name,
          ...(s.workflowType.version === undefined ? {} : { version: s.workflowType.version }),
        };
  return {
    kind: 'selector',
    selector: {
      ...(s.tag === undefined ? {} : { tag: s.tag }),
      ...(workflowType === undefined ? {} : { workflowType }),
      ...(startedAfter === undefined ? {} : { startedAfter }),
      ...(startedBefore === undefined ? {} : { startedBefore }),
    },
  };
}
