/**
 * Turns the invocation's event into a typed, fully validated termination request, or refuses it.
 * Pure: no SWF call, no clock (the invocation time is passed in). Everything that can be checked without SWF
 * is checked here, so a refused request never reaches SWF.
 *
 * Validation uses `zod/mini` (same checks as full zod at a fraction of the module-load cost; see the README's
 * cold-start figures) and formats the first problem as `path.to.field: rule`.
 */
import * as z from 'zod/mini';
import {
  CHILD_POLICIES,
  type ChildPolicyValue,
  HANDOFF_REQUEST_MAX_BYTES,
  LIMITS,
  REQUEST_DETAILS_MAX,
  swfNameProblem,
  WORKFLOW_TYPE_VERSION_MAX,
} from '../lib/contract';
import type { Config } from './config';
import {
  clip,
  DomainNotAllowedError,
  ECHO_MAX_CHARS,
  echo,
  InvalidRequestError,
  TooManyExecutionsError,
} from './errors';

/** One execution named by a request; without runId, the workflow's current open run. */
export interface ExecutionRef {
  readonly workflowId: string;
  readonly runId?: string;
}

/** Open executions matching every criterion given (at least one of tag, workflowType, startedBefore). */
export interface Selector {
  readonly tag?: string;
  readonly workflowType?: { readonly name: string; readonly version?: string };
  /**
   * Inclusive lower bound on the execution's start time, never before the Unix epoch. A fraction finer than
   * a millisecond is rounded UP: the window only ever narrows, never widens.
   */
  readonly startedAfter?: Date;
  /**
   * Inclusive upper bound on the execution's start time, never before the Unix epoch. A fraction finer than
   * a millisecond is rounded DOWN: the window only ever narrows, never widens.
   */
  readonly startedBefore?: Date;
}

/** What a request acts on: exactly one of these. */
export type Target =
  | { readonly kind: 'single'; readonly execution: ExecutionRef }
  | { readonly kind: 'list'; readonly executions: readonly ExecutionRef[] }
  | { readonly kind: 'selector'; readonly selector: Selector };

/** A validated termination request. */
export interface TerminationRequest {
  readonly domain: string;
  readonly target: Target;
  readonly reason?: string;
  readonly details?: string;
  readonly childPolicy?: ChildPolicyValue;
  readonly dryRun?: boolean;
  readonly maxExecutions?: number;
}

/** Who asked: recorded in every termination's `details`. */
export type Provenance =
  | {
      readonly via: 'eventbridge';
      readonly eventId: string;
      readonly source: string;
      readonly account: string;
      readonly time: string;
    }
  | { readonly via: 'console'; readonly requestId: string };

/** A request together with where it came from and when it was made. */
export interface ParsedEvent {
  readonly request: TerminationRequest;
  readonly provenance: Provenance;
  /**
   * When the request was made: the end of the unit the event's `time` is stated to (its second, for
   * EventBridge's one-second `time`), never later than the invocation time; or the invocation time for a
   * console request. Selectors and run resolution never reach past it, so a re-delivered event cannot act
   * on executions started after the request.
   */
  readonly requestTime: Date;
}

// ---------------------------------------------------------------------------------------------------------
// Schema

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

  const envelopeSchema = z.looseObject({
    id: z.string().check(z.minLength(1), z.maxLength(256)),
    source: z.string().check(z.minLength(1), z.maxLength(256)),
    account: z.string().check(z.minLength(1), z.maxLength(256)),
    time: dateTime,
  });

  return { requestSchema, envelopeSchema };
}

let schemas: ReturnType<typeof buildSchemas> | undefined;

function getSchemas(): ReturnType<typeof buildSchemas> {
  schemas ??= buildSchemas();
  return schemas;
}

type RawRequest = z.infer<ReturnType<typeof buildSchemas>['requestSchema']>;

// ---------------------------------------------------------------------------------------------------------
// Error formatting

/** A dotted field path; a key (which the sender chose, perhaps megabytes long) is cut to a short prefix. */
function fieldPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === 'number') {
      out += `[${key}]`;
    } else {
      const name = clip(String(key), ECHO_MAX_CHARS);
      out += out === '' ? name : `.${name}`;
    }
  }
  return out === '' ? 'request' : out;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && !Number.isInteger(value)) return 'non-integer number';
  return typeof value;
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string',
  int: 'an integer',
  number: 'a number',
  boolean: 'a boolean (true or false)',
  object: 'an object',
  array: 'an array',
};

/** Phrases a zod issue as the rule the field breaks. Reads issue fields defensively: their shape varies. */
function ruleOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'is required';
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      return `must be ${expected} (got ${typeOf(issue.input)})`;
    }
    case 'too_small': {
      const min = String(issue.minimum);
      if (issue.origin === 'array') return `must have at least ${min} entr${min === '1' ? 'y' : 'ies'}`;
      if (issue.origin === 'string') return `must be at least ${min} characters`;
      return `must be at least ${min}`;
    }
    case 'too_big': {
      const max = String(issue.maximum);
      if (issue.origin === 'array') return `must have at most ${max} entries`;
      if (issue.origin === 'string') return `must be at most ${max} characters`;
      return `must be at most ${max}`;
    }
    case 'invalid_format':
      return issue.format === 'datetime'
        ? 'must be an ISO 8601 date-time with a time zone, e.g. 2024-05-01T12:00:00Z'
        : `must be a valid ${issue.format}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${echo(issue.values[0])} (got ${echo(issue.input)})`
        : `must be one of ${issue.values.map((v) => String(v)).join(', ')} (got ${echo(issue.input)})`;
    case 'invalid_union':
      return 'matches none of the forms it may take';
    default:
      return issue.message;
  }
}

/**
 * The first of zod's issues as an InvalidRequestError: the field's path under `prefix` and the rule it
 * breaks. Unknown fields are named one, with the count of the others.
 */
export function invalidRequestFrom(prefix: string, issues: readonly z.core.$ZodIssue[]): InvalidRequestError {
  const first = issues[0];
  if (first === undefined) {
    return new InvalidRequestError(prefix || 'request', 'is invalid');
  }
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem(s))` : '';
  if (first.code === 'unrecognized_keys') {
    const [key = '?', ...others] = first.keys;
    const named = others.map((k) => clip(k, ECHO_MAX_CHARS));
    const extra =
      others.length === 0
        ? ''
        : others.length <= 3
          ? `, nor ${others.length === 1 ? 'is' : 'are'} ${named.join(', ')}`
          : `, nor are ${others.length} others`;
    return new InvalidRequestError(
      fieldPath(prefix, [...first.path, key]),
      `is not a known field${extra}; unknown fields are refused so a typo cannot change what is terminated${more}`,
    );
  }
  return new InvalidRequestError(fieldPath(prefix, first.path), ruleOf(first) + more);
}

// ---------------------------------------------------------------------------------------------------------
// Dates
//
// `Date` keeps milliseconds and `Date.parse` drops any finer digits, so a validated ISO 8601 string is read
// here exactly: whole milliseconds plus the finer digits, which decide the rounding direction.

/** The fractional seconds of an ISO 8601 date-time (the offset never contains a dot). */
const FRACTION = /:(\d{2})\.(\d+)/;

/** A validated ISO 8601 date-time, read exactly. */
interface Instant {
  /** Whole milliseconds since the epoch (the instant rounded down to the millisecond). */
  readonly ms: number;
  /** Digits after the millisecond, trailing zeros removed: empty when the instant is a whole millisecond. */
  readonly subMs: string;
  /** How many fractional-second digits the string states (0 for "…:00Z"). */
  readonly fractionDigits: number;
}

function instantOf(iso: string): Instant {
  const digits = FRACTION.exec(iso)?.[2] ?? '';
  const normalized = iso.replace(
    FRACTION,
    (_m, seconds: string) => `:${seconds}.${digits.slice(0, 3).padEnd(3, '0')}`,
  );
  return {
    ms: Date.parse(normalized),
    subMs: digits.slice(3).replace(/0+$/, ''),
    fractionDigits: digits.length,
  };
}

/** Compares two instants exactly (sub-millisecond digits included): negative, zero or positive. */
function compareInstants(a: Instant, b: Instant): number {
  if (a.ms !== b.ms) return a.ms - b.ms;
  const width = Math.max(a.subMs.length, b.subMs.length);
  const x = a.subMs.padEnd(width, '0');
  const y = b.subMs.padEnd(width, '0');
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The last millisecond of the unit an instant is stated to: "…:00Z" stands for a whole second, so its end is
 * "…:00.999Z"; "…:00.4Z" ends at "…:00.499Z"; three or more digits state the millisecond itself.
 */
function endOfStatedUnit(instant: Instant): number {
  return instant.fractionDigits >= 3 ? instant.ms : instant.ms + 10 ** (3 - instant.fractionDigits) - 1;
}

/** SWF takes times as seconds since the Unix epoch: an earlier date would be sent as a negative number. */
function beforeEpochRule(raw: string): string | undefined {
  return instantOf(raw).ms < 0
    ? `must not be before the Unix epoch, 1970-01-01T00:00:00Z: SWF takes times as seconds since then (got ${echo(raw)})`
    : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Parsing

function isRecord(value: unknown): value is Record<string, unknown> {
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

/** The request in the form a request event has (dates as ISO strings), so it re-validates as one. */
export function wireRequest(
  request: TerminationRequest,
  executions?: readonly ExecutionRef[],
): Record<string, unknown> {
  const target = request.target;
  let targetFields: Record<string, unknown>;
  if (target.kind === 'selector') {
    const s = target.selector;
    targetFields = {
      selector: {
        ...(s.tag === undefined ? {} : { tag: s.tag }),
        ...(s.workflowType === undefined ? {} : { workflowType: { ...s.workflowType } }),
        ...(s.startedAfter === undefined ? {} : { startedAfter: s.startedAfter.toISOString() }),
        ...(s.startedBefore === undefined ? {} : { startedBefore: s.startedBefore.toISOString() }),
      },
    };
  } else {
    const list = executions ?? (target.kind === 'list' ? target.executions : [target.execution]);
    targetFields = { executions: list.map((e) => ({ ...e })) };
  }
  return {
    domain: request.domain,
    ...targetFields,
    ...(request.reason === undefined ? {} : { reason: request.reason }),
    ...(request.details === undefined ? {} : { details: request.details }),
    ...(request.childPolicy === undefined ? {} : { childPolicy: request.childPolicy }),
    ...(request.dryRun === undefined ? {} : { dryRun: request.dryRun }),
    ...(request.maxExecutions === undefined ? {} : { maxExecutions: request.maxExecutions }),
  };
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

/** What the handler needs from the Lambda context. */
export interface InvocationInfo {
  readonly awsRequestId: string;
}

/** An invocation's event unwrapped: the request object, who sent it and when. */
export interface Envelope {
  /** The request object: the event itself (console) or its `detail` (EventBridge). */
  readonly body: Record<string, unknown>;
  /** Where field paths of the body start in error messages: '' or 'detail'. */
  readonly prefix: string;
  readonly provenance: Provenance;
  /** See {@link ParsedEvent.requestTime}. */
  readonly requestTime: Date;
}

/**
 * Unwraps the invocation's event: an EventBridge event whose detail-type is the configured request
 * detail-type (the request is its `detail`), or a bare request object (a console test event).
 *
 * @param now the invocation time
 * @throws InvalidRequestError. Never calls SWF.
 */
export function unwrapEvent(event: unknown, invocation: InvocationInfo, config: Config, now: Date): Envelope {
  if (!isRecord(event)) {
    throw new InvalidRequestError(
      'event',
      `must be a JSON object: a request, or an EventBridge event carrying one (got ${typeOf(event)})`,
    );
  }

  if (!('detail-type' in event)) {
    return {
      body: event,
      prefix: '',
      provenance: { via: 'console', requestId: invocation.awsRequestId },
      requestTime: now,
    };
  }

  const detailType = event['detail-type'];
  if (detailType !== config.requestDetailType) {
    throw new InvalidRequestError(
      'detail-type',
      `must be ${JSON.stringify(config.requestDetailType)}; this function handles only termination requests (got ${echo(detailType)})`,
    );
  }
  const envelope = getSchemas().envelopeSchema.safeParse(event, { reportInput: true });
  if (!envelope.success) {
    throw invalidRequestFrom('', envelope.error.issues);
  }
  if (!isRecord(event.detail)) {
    throw new InvalidRequestError(
      'detail',
      `must be a JSON object: the request (got ${typeOf(event.detail)})`,
    );
  }
  const { id, source, account, time } = envelope.data;
  const timeProblem = beforeEpochRule(time);
  if (timeProblem !== undefined) {
    throw new InvalidRequestError('time', timeProblem);
  }
  // EventBridge states `time` to the second ("2026-11-25T10:00:00Z"): the request was made at some instant
  // within that second. Taking its START would skip a run that started earlier within the same second
  // (10:00:00.400) and report it already-closed, a silent miss counted as success; so the request time is
  // the END of the stated unit (10:00:00.999 here; a time with a fraction states a finer unit). The price:
  // a run started later in that same second, after the request, is reached too; the time cannot tell them
  // apart, and a silent miss is the worse failure. PutEvents also lets the sender choose `time`: capping at
  // the invocation time means neither a future time nor that rounding reaches runs started after it.
  const requestTime = Math.min(endOfStatedUnit(instantOf(time)), now.getTime());
  return {
    body: event.detail,
    prefix: 'detail',
    provenance: { via: 'eventbridge', eventId: id, source, account, time },
    requestTime: new Date(requestTime),
  };
}

/**
 * Parses the invocation's event as a termination request ({@link unwrapEvent}, then {@link parseRequest}).
 *
 * @param now the invocation time
 * @throws InvalidRequestError, DomainNotAllowedError, TooManyExecutionsError. Never calls SWF.
 */
export function parseEvent(
  event: unknown,
  invocation: InvocationInfo,
  config: Config,
  now: Date,
): ParsedEvent {
  const { body, prefix, provenance, requestTime } = unwrapEvent(event, invocation, config, now);
  return { request: parseRequest(body, config, prefix), provenance, requestTime };
}
