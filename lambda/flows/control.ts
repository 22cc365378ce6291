/**
 * Control requests, carried out: stop a job, read its status, list recent jobs. They come through the same
 * channels as termination requests (the bus, the console), so whoever may request a termination may stop one,
 * and they act on the terminator's own jobs only (executions of its state machine).
 */
import type { JobExecutionState, JobsPort } from '../aws/jobs';
import { InvalidRequestError } from '../errors';
import { type ControlRequest, parseControlRequest } from '../parse/control';
import type { JobState, Provenance } from '../types';
import type { Runtime } from './runtime';

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

/** A control request's flow: parse it, carry it out on the state machine's jobs, log who asked and what. */
export async function handleControl(
  runtime: Runtime,
  body: Record<string, unknown>,
  prefix: string,
  provenance: Provenance,
): Promise<ControlAnswer> {
  const request = parseControlRequest(body, prefix);
  const jobs = runtime.jobs();
  if (jobs === undefined) {
    throw new InvalidRequestError(
      prefix || 'request',
      'this function runs no jobs (STATE_MACHINE_ARN is not set)',
    );
  }
  if ('jobId' in request) runtime.logger.appendKeys({ jobId: request.jobId });
  const answer = await runControl(request, jobs, provenance);
  runtime.logger.info(`control ${request.kind}`, { provenance, request, answer });
  return answer;
}
