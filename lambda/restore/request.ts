/**
 * A restore request, checked before any SWF call: which terminations to undo (a job's, a policy's in a time
 * window, or named runs), in which domain, and how (dry run, cap, children). Pure.
 *
 *   { "restore": { "domain": "orders", "jobId": "...", "dryRun": true } }
 */
import * as z from 'zod/mini';
import { LIMITS, MAX_OPEN_EXECUTIONS_PER_DOMAIN, swfNameProblem } from '../../lib/contract';
import { DomainNotAllowedError, InvalidRequestError } from '../errors';
import { isValidJobId } from '../job/id';
import { invalidRequestFrom } from '../parse/issues';

/** How far back a restore looks by default: SWF keeps a closed run at most 90 days (its domain's retention). */
export const RETENTION_MAX_DAYS = 90;

/** The most runs one request may name (`runs`): a job carries what is left of them in its state (256 KB). */
export const RESTORE_RUNS_MAX = 500;

/** Which terminations a restore undoes: every one is confirmed by the provenance block SWF recorded. */
export type RestoreTarget =
  | { readonly kind: 'job'; readonly jobId: string }
  | { readonly kind: 'policy'; readonly policy: string }
  | {
      readonly kind: 'runs';
      readonly runs: readonly { readonly workflowId: string; readonly runId: string }[];
    };

/** A validated restore request. */
export interface RestoreRequest {
  readonly domain: string;
  readonly target: RestoreTarget;
  /** Terminations closed in [closedAfter, closedBefore] (ISO 8601); a job's and a policy's only. */
  readonly closedAfter: string;
  readonly closedBefore: string;
  readonly dryRun: boolean;
  /** More runs to restart than this refuses the whole request, before any is started. */
  readonly maxExecutions: number;
  /** Restart runs their parent's termination closed too (child policy TERMINATE); default: report them. */
  readonly includeChildren: boolean;
  /** Why (logged with every run started). */
  readonly reason?: string;
}

function nameField() {
  return z.string().check(
    z.superRefine((value, ctx) => {
      const problem = swfNameProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
  );
}

function isoField() {
  return z.string().check(
    z.superRefine((value, ctx) => {
      if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(Date.parse(value))) {
        ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 date-time (2026-12-01T00:00:00Z)' });
      }
    }),
  );
}

let schema: ReturnType<typeof buildSchema> | undefined;

function buildSchema() {
  const run = z.strictObject({
    workflowId: nameField(),
    runId: z.string().check(z.minLength(1), z.maxLength(LIMITS.runIdMax)),
  });
  return z.strictObject({
    domain: nameField(),
    jobId: z.optional(
      z
        .string()
        .check(
          z.refine(isValidJobId, { message: 'must be a job id (1-80 characters, no whitespace or /:*?)' }),
        ),
    ),
    policy: z.optional(nameField()),
    runs: z.optional(z.array(run).check(z.minLength(1), z.maxLength(RESTORE_RUNS_MAX))),
    closedAfter: z.optional(isoField()),
    closedBefore: z.optional(isoField()),
    dryRun: z.optional(z.boolean()),
    maxExecutions: z.optional(z.number().check(z.int(), z.gte(1), z.lte(MAX_OPEN_EXECUTIONS_PER_DOMAIN))),
    includeChildren: z.optional(z.boolean()),
    reason: z.optional(z.string().check(z.minLength(1), z.maxLength(LIMITS.reasonMax))),
  });
}

/** True when `body` asks for a restore (`{ "restore": {...} }`). */
export function isRestoreRequest(body: unknown): body is { restore: unknown } {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && 'restore' in body;
}

/**
 * Checks a restore request: the fields (unknown ones refused), exactly one of jobId / policy / runs, the
 * domain one the function may restore in, the window inside SWF's retention and not reversed.
 */
export function parseRestoreRequest(
  body: unknown,
  settings: { readonly domains: readonly string[]; readonly maxExecutions: number },
  now: Date,
): RestoreRequest {
  if (!isRestoreRequest(body) || Object.keys(body).length !== 1) {
    throw new InvalidRequestError('request', 'must be { "restore": { ... } } and nothing else');
  }
  schema ??= buildSchema();
  const parsed = schema.safeParse(body.restore);
  if (!parsed.success) throw invalidRequestFrom('restore', parsed.error.issues);
  const r = parsed.data;

  const given = [r.jobId, r.policy, r.runs].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw new InvalidRequestError(
      'restore',
      'must name exactly one of jobId, policy or runs (what to undo: a job, a policy, or terminated runs)',
    );
  }
  if (!settings.domains.includes(r.domain)) throw new DomainNotAllowedError(r.domain, settings.domains);

  const oldest = new Date(now.getTime() - RETENTION_MAX_DAYS * 86_400_000);
  const closedAfter = r.closedAfter === undefined ? oldest : new Date(r.closedAfter);
  const closedBefore = r.closedBefore === undefined ? now : new Date(r.closedBefore);
  if (r.policy !== undefined && r.closedAfter === undefined) {
    throw new InvalidRequestError(
      'restore.closedAfter',
      "is required with policy: a policy's terminations are restored from a time window",
    );
  }
  if (closedAfter > closedBefore) {
    throw new InvalidRequestError('restore.closedBefore', 'must not be before closedAfter');
  }
  if (closedAfter < oldest) {
    throw new InvalidRequestError(
      'restore.closedAfter',
      `must be within the last ${RETENTION_MAX_DAYS} days: SWF keeps no closed run longer`,
    );
  }
  const maxExecutions = Math.min(r.maxExecutions ?? settings.maxExecutions, settings.maxExecutions);
  const target: RestoreTarget =
    r.jobId !== undefined
      ? { kind: 'job', jobId: r.jobId }
      : r.policy !== undefined
        ? { kind: 'policy', policy: r.policy }
        : { kind: 'runs', runs: r.runs ?? [] };
  return {
    domain: r.domain,
    target,
    closedAfter: closedAfter.toISOString(),
    closedBefore: closedBefore.toISOString(),
    dryRun: r.dryRun ?? false,
    maxExecutions,
    includeChildren: r.includeChildren ?? false,
    ...(r.reason === undefined ? {} : { reason: r.reason }),
  };
}

/** A request as a job carries it: every default pinned, so each chunk re-checks exactly what was accepted. */
export function restoreWire(request: RestoreRequest): { restore: Record<string, unknown> } {
  const { target } = request;
  return {
    restore: {
      domain: request.domain,
      ...(target.kind === 'job' ? { jobId: target.jobId } : {}),
      ...(target.kind === 'policy' ? { policy: target.policy } : {}),
      ...(target.kind === 'runs' ? { runs: target.runs } : {}),
      closedAfter: request.closedAfter,
      closedBefore: request.closedBefore,
      dryRun: request.dryRun,
      maxExecutions: request.maxExecutions,
      includeChildren: request.includeChildren,
      ...(request.reason === undefined ? {} : { reason: request.reason }),
    },
  };
}
