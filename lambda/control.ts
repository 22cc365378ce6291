/**
 * Control requests: stop a job, read a job's status, list recent jobs. They come through the same channels
 * as termination requests (the bus, the console), so whoever may request a termination may stop one, and
 * they act on the terminator's own jobs only (executions of its state machine).
 *
 *   { "abort":  { "jobId": "...", "reason": "..." } }
 *   { "status": { "jobId": "..." } }
 *   { "jobs":   { "state"?: "RUNNING", "limit"?: 20 } }
 */
import * as z from 'zod/mini';
import { CONTROL_REQUEST_KINDS } from '../lib/contract';
import { InvalidRequestError } from './errors';
import { isValidJobId, type JobExecutionState, type JobsPort } from './jobs';
import type { JobState } from './job-state';
import { invalidRequestFrom, type Provenance } from './request';

export type ControlRequest =
  | { readonly kind: 'abort'; readonly jobId: string; readonly reason: string }
  | { readonly kind: 'status'; readonly jobId: string }
  | { readonly kind: 'jobs'; readonly state?: JobExecutionState; readonly limit: number };

const CONTROL_KEYS = CONTROL_REQUEST_KINDS;

/** How many jobs `{ "jobs": {} }` lists when it names no limit, and the most it lists. */
export const JOBS_LISTED_DEFAULT = 20;
export const JOBS_LISTED_MAX = 100;

/** True when a request object is a control request (it names abort, status or jobs). */
export function isControlRequest(body: Record<string, unknown>): boolean {
  return CONTROL_KEYS.some((key) => key in body);
}

function buildSchemas() {
  const jobId = z.string().check(
    z.refine(isValidJobId, {
      message:
        'must be a job id: 1-80 characters, no spaces, no < > { } [ ] ? * " # % \\ ^ | ~ ` $ & , ; : /',
    }),
  );
  // One schema per kind, so a problem is reported against the kind that was given.
  return {
    abort: z.strictObject({
      abort: z.strictObject({ jobId, reason: z.string().check(z.minLength(1), z.maxLength(256)) }),
    }),
    status: z.strictObject({ status: z.strictObject({ jobId }) }),
    jobs: z.strictObject({
      jobs: z.strictObject({
        state: z.optional(z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'])),
        limit: z.optional(z.int().check(z.gte(1), z.lte(JOBS_LISTED_MAX))),
      }),
    }),
  };
}

let schemas: ReturnType<typeof buildSchemas> | undefined;

/** Validates a control request strictly (one kind, no unknown field). Never calls AWS. */
export function parseControlRequest(body: Record<string, unknown>, prefix: string): ControlRequest {
  const given = CONTROL_KEYS.filter((key) => key in body);
  if (given.length !== 1) {
    throw new InvalidRequestError(
      prefix === '' ? (given[1] ?? 'request') : `${prefix}.${given[1] ?? 'request'}`,
      `exactly one of abort, status or jobs is allowed (got ${given.join(' and ')})`,
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
    return { kind, jobId: result.data.status.jobId };
  }
  const result = schemas.jobs.safeParse(body, { reportInput: true });
  if (!result.success) throw invalidRequestFrom(prefix, result.error.issues);
  const { state, limit } = result.data.jobs;
  return { kind: 'jobs', ...(state === undefined ? {} : { state }), limit: limit ?? JOBS_LISTED_DEFAULT };
}

/** What a stopped job records as its cause: the reason and who asked, as JSON. */
export interface AbortCause {
  readonly reason: string;
  readonly requestedBy: Provenance;
}

/** Reads an abort cause this module wrote; undefined for any other cause (`aws stepfunctions stop-execution`). */
export function readAbortCause(cause: string | undefined): AbortCause | undefined {
  if (cause === undefined) return undefined;
  try {
    const value = JSON.parse(cause) as Partial<AbortCause> | null;
    return typeof value?.reason === 'string' && typeof value.requestedBy === 'object'
      ? (value as AbortCause)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A job's status as `{ "status": ... }` answers it. */
export interface JobStatusAnswer {
  readonly jobId: string;
  /** RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED; NOT_FOUND when no job has this id. */
  readonly state: JobExecutionState | 'NOT_FOUND';
  readonly startedAt?: string;
  readonly stoppedAt?: string;
  readonly lastProgressAt?: string;
  readonly chunks?: number;
  readonly totals?: JobState['totals'];
  readonly failures?: JobState['failures'];
  readonly summary?: string;
  /** The request as accepted (an explicit list: as given), and the settings it was accepted under. */
  readonly request?: JobState['request'];
  readonly acceptedUnder?: JobState['acceptedUnder'];
  /** Who asked for the job. */
  readonly requestedBy?: Provenance;
  /** For a stopped job: why, and who asked (or the cause given to `aws stepfunctions stop-execution`). */
  readonly abort?: AbortCause | { readonly cause: string };
  readonly error?: string;
  readonly cause?: string;
}

export type ControlAnswer =
  | {
      readonly abort: {
        readonly jobId: string;
        /** `stopped`: it was running and is stopped now; otherwise the state it was already in. */
        readonly outcome: 'stopped' | 'not-running' | 'not-found';
        readonly state?: JobExecutionState;
        readonly reason: string;
      };
    }
  | { readonly status: JobStatusAnswer }
  | {
      readonly jobs: readonly {
        readonly jobId: string;
        readonly state: JobExecutionState;
        readonly startedAt?: string;
        readonly stoppedAt?: string;
      }[];
    };

function parseState(json: string | undefined): JobState | undefined {
  if (json === undefined) return undefined;
  try {
    return JSON.parse(json) as JobState;
  } catch {
    return undefined;
  }
}

/** Carries out a control request. */
export async function runControl(
  request: ControlRequest,
  jobs: JobsPort,
  provenance: Provenance,
): Promise<ControlAnswer> {
  switch (request.kind) {
    case 'abort': {
      const cause: AbortCause = { reason: request.reason, requestedBy: provenance };
      const state = await jobs.stop(request.jobId, JSON.stringify(cause));
      const outcome = state === undefined ? 'not-found' : state === 'RUNNING' ? 'stopped' : 'not-running';
      return {
        abort: {
          jobId: request.jobId,
          outcome,
          ...(state === undefined ? {} : { state: outcome === 'stopped' ? 'ABORTED' : state }),
          reason: request.reason,
        },
      };
    }
    case 'status':
      return { status: await jobStatus(jobs, request.jobId) };
    case 'jobs': {
      const list = await jobs.list({
        limit: request.limit,
        ...(request.state === undefined ? {} : { state: request.state }),
      });
      return {
        jobs: list.map((j) => ({
          jobId: j.jobId,
          state: j.state,
          ...(j.startedAt === undefined ? {} : { startedAt: j.startedAt.toISOString() }),
          ...(j.stoppedAt === undefined ? {} : { stoppedAt: j.stoppedAt.toISOString() }),
        })),
      };
    }
  }
}

/** A job's status: its execution, the state it started with, and the state its last chunk handed back. */
async function jobStatus(jobs: JobsPort, jobId: string): Promise<JobStatusAnswer> {
  const job = await jobs.describe(jobId);
  if (job === undefined) return { jobId, state: 'NOT_FOUND' };
  const initial = parseState(job.input);
  const latest = parseState(job.output) ?? (await jobs.latestState(jobId)) ?? initial;
  const abort =
    job.state === 'ABORTED' ? (readAbortCause(job.cause) ?? { cause: job.cause ?? '' }) : undefined;
  return {
    jobId,
    state: job.state,
    ...(job.startedAt === undefined ? {} : { startedAt: job.startedAt.toISOString() }),
    ...(job.stoppedAt === undefined ? {} : { stoppedAt: job.stoppedAt.toISOString() }),
    ...(latest?.lastProgressAt === undefined ? {} : { lastProgressAt: latest.lastProgressAt }),
    ...(latest === undefined
      ? {}
      : { chunks: latest.chunks, totals: latest.totals, failures: latest.failures, summary: latest.summary }),
    ...(initial === undefined
      ? {}
      : { request: initial.request, acceptedUnder: initial.acceptedUnder, requestedBy: initial.provenance }),
    ...(abort === undefined ? {} : { abort }),
    ...(job.state === 'ABORTED' || job.error === undefined ? {} : { error: job.error }),
    ...(job.state === 'ABORTED' || job.cause === undefined ? {} : { cause: job.cause }),
  };
}
