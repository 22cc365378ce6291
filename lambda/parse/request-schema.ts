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
  swfNameProblem,
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

export function getSchemas(): ReturnType<typeof buildSchemas> {
  schemas ??= buildSchemas();
  return schemas;
}

export type RawRequest = z.infer<ReturnType<typeof buildSchemas>['requestSchema']>;
