/**
 * Control requests, parsed: stop a job, read a job's status, list recent jobs (lambda/flows/control.ts
 * carries them out). Validated as strictly as a termination request, and refused before any AWS call.
 *
 *   { "abort":  { "jobId": "...", "reason": "..." } }
 *   { "status": { "jobId": "..." } }            a job's
 *   { "status": { "policy": "..." } }           an event policy's circuit breaker
 *   { "jobs":   { "state"?: "RUNNING", "limit"?: 20 } }
 *   { "resetBreaker": { "policy": "...", "reason": "..." } }
 */
import * as z from 'zod/mini';
import { CONTROL_REQUEST_KINDS } from '../../lib/contract';
import { POLICY_NAME_PATTERN } from '../../lib/policy-contract';
import type { JobExecutionState } from '../aws/jobs';
import { InvalidRequestError } from '../errors';
import { invalidRequestFrom } from './issues';
import { isValidJobId } from '../job/id';

export type ControlRequest =
  | { readonly kind: 'abort'; readonly jobId: string; readonly reason: string }
  | { readonly kind: 'status'; readonly jobId: string }
  | { readonly kind: 'breaker-status'; readonly policy: string }
  | { readonly kind: 'reset-breaker'; readonly policy: string; readonly reason: string }
  | { readonly kind: 'jobs'; readonly state?: JobExecutionState; readonly limit: number };

/** How many jobs `{ "jobs": {} }` lists when it names no limit, and the most it lists. */
export const JOBS_LISTED_DEFAULT = 20;
export const JOBS_LISTED_MAX = 100;

/** True when a request object is a control request (it names abort, status or jobs). */
export function isControlRequest(body: Record<string, unknown>): boolean {
  return CONTROL_REQUEST_KINDS.some((key) => key in body);
}

function buildSchemas() {
  const jobId = z.string().check(
    z.refine(isValidJobId, {
      message:
        'must be a job id: 1-80 characters, no spaces, no < > { } [ ] ? * " # % \\ ^ | ~ ` $ & , ; : /',
    }),
  );
  const reason = z.string().check(z.minLength(1), z.maxLength(256));
  const policy = z
    .string()
    .check(
      z.regex(POLICY_NAME_PATTERN, { message: 'must be a policy name: 1-40 letters, digits, "-" or "_"' }),
    );
  // One schema per kind, so a problem is reported against the kind that was given.
  return {
    abort: z.strictObject({ abort: z.strictObject({ jobId, reason }) }),
    status: z.strictObject({ status: z.union([z.strictObject({ jobId }), z.strictObject({ policy })]) }),
    resetBreaker: z.strictObject({ resetBreaker: z.strictObject({ policy, reason }) }),
    jobs: z.strictObject({
      jobs: z.strictObject({
        state: z.exactOptional(z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'])),
        limit: z.exactOptional(z.int().check(z.gte(1), z.lte(JOBS_LISTED_MAX))),
      }),
    }),
  };
}

let schemas: ReturnType<typeof buildSchemas> | undefined;

/** Validates a control request strictly (one kind, no unknown field). Never calls AWS. */
export function parseControlRequest(body: Record<string, unknown>, prefix: string): ControlRequest {
  const given = CONTROL_REQUEST_KINDS.filter((key) => key in body);
  if (given.length !== 1) {
    throw new InvalidRequestError(
      prefix === '' ? (given[1] ?? 'request') : `${prefix}.${given[1] ?? 'request'}`,
      `exactly one of ${CONTROL_REQUEST_KINDS.join(', ')} is allowed (got ${given.join(' and ')})`,
    );
  }
  schemas ??= buildSchemas();
  const kind = given[0];
  if (kind === 'abort') {
    const result = schemas.abort.safeParse(body, { reportInput: true });
    if (!result.success) throw invalidRequestFrom(prefix, result.error.issues);
    return { kind, jobId: result.data.abort.jobId, reason: result.data.abort.reason };
  }
  if (kind === 'status') {
    const result = schemas.status.safeParse(body, { reportInput: true });
    if (!result.success) throw invalidRequestFrom(prefix, result.error.issues);
    const status = result.data.status;
    return 'jobId' in status
      ? { kind, jobId: status.jobId }
      : { kind: 'breaker-status', policy: status.policy };
  }
  if (kind === 'resetBreaker') {
    const result = schemas.resetBreaker.safeParse(body, { reportInput: true });
    if (!result.success) throw invalidRequestFrom(prefix, result.error.issues);
    return { kind: 'reset-breaker', ...result.data.resetBreaker };
  }
  const result = schemas.jobs.safeParse(body, { reportInput: true });
  if (!result.success) throw invalidRequestFrom(prefix, result.error.issues);
  const { state, limit } = result.data.jobs;
  return { kind: 'jobs', ...(state === undefined ? {} : { state }), limit: limit ?? JOBS_LISTED_DEFAULT };
}
