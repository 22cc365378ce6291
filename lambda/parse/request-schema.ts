/**
 * The request's schema (zod/mini), built on first use, and the shape it validates (`RawRequest`): the parser
 * (lambda/parse/request.ts) checks a request against it, and the target reader (lambda/parse/target.ts) reads
 * the validated fields. Pure.
 */
import * as z from 'zod/mini';
import {
  ACTIONS,
  CHILD_POLICIES,
  GRACE_PERIOD_SECONDS,
  LIMITS,
  REQUEST_DETAILS_MAX,
  DURATION_SECONDS,
  swfNameProblem,
  swfPrefixProblem,
  type RequestWire,
  WORKFLOW_TYPE_VERSION_MAX,
} from '../../lib/contract';

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
    runId: z.exactOptional(runIdString),
  });

  /** A workflowId prefix: SWF's character rule for names, 1-256 characters. */
  const prefixString = z.string().check(
    z.superRefine((value, ctx) => {
      const problem = swfPrefixProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
  );

  /** A duration in whole seconds: at least 1, at most ten years. */
  const seconds = z.int().check(z.gte(DURATION_SECONDS.min), z.lte(DURATION_SECONDS.max));

  const selectorSchema = z.strictObject({
    tag: z.exactOptional(swfName),
    workflowType: z.exactOptional(
      z.strictObject({
        name: swfName,
        version: z.exactOptional(versionString),
      }),
    ),
    workflowIdPrefix: z.exactOptional(prefixString),
    startedAfter: z.exactOptional(dateTime),
    startedBefore: z.exactOptional(dateTime),
    openLongerThanSeconds: z.exactOptional(seconds),
    stalled: z.exactOptional(z.literal(true)),
    idleLongerThanSeconds: z.exactOptional(seconds),
  });

  const requestSchema = z.strictObject({
    domain: swfName,
    workflowId: z.exactOptional(swfName),
    runId: z.exactOptional(runIdString),
    executions: z.exactOptional(z.array(executionSchema).check(z.minLength(1))),
    selector: z.exactOptional(selectorSchema),
    reason: z.exactOptional(maxChars(LIMITS.reasonMax)),
    details: z.exactOptional(
      maxChars(
        REQUEST_DETAILS_MAX,
        ` (SWF's ${LIMITS.detailsMax} minus ${LIMITS.detailsMax - REQUEST_DETAILS_MAX} kept for provenance)`,
      ),
    ),
    childPolicy: z.exactOptional(z.enum(CHILD_POLICIES)),
    action: z.exactOptional(z.enum(ACTIONS)),
    gracePeriodSeconds: z.exactOptional(
      z.int().check(z.gte(GRACE_PERIOD_SECONDS.min), z.lte(GRACE_PERIOD_SECONDS.max)),
    ),
    dryRun: z.exactOptional(z.boolean()),
    // Checked in parseRequest against the function's ceiling, which the schema (built once) does not know.
    maxExecutions: z.exactOptional(z.unknown()),
  });

  return { requestSchema };
}

let schemas: ReturnType<typeof buildSchemas> | undefined;

export function getSchemas(): ReturnType<typeof buildSchemas> {
  schemas ??= buildSchemas();
  return schemas;
}

export type RawRequest = z.infer<ReturnType<typeof buildSchemas>['requestSchema']>;

/** Arrays and fields made writable, all the way down: a schema's output is, a wire type need not be. */
type Writable<T> = T extends readonly (infer U)[]
  ? Writable<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: Writable<T[K]> }
    : T;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;

/**
 * Compile-time only: the schema accepts exactly the wire form the construct writes and a job carries
 * (RequestWire, lib/contract.ts), so a field added, dropped or retyped on one side fails `tsc` until the other
 * follows. maxExecutions is the one difference: the schema takes any value and parseRequest checks it against
 * the function's ceiling, with a message of its own.
 */
export type RequestSchemaIsTheWire = Assert<
  Same<Omit<RawRequest, 'maxExecutions'>, Writable<Omit<RequestWire, 'maxExecutions'>>>
>;
