/**
 * Control requests, carried out: stop a job, read its status, list recent jobs. They come through the same
 * channels as termination requests (the bus, the console), so whoever may request a termination may stop one,
 * and they act on the terminator's own jobs only (executions of its state machine).
 */
import type { ProgressLog, ProgressRecord } from '../aws/job-logs';
import { ABORTED_BEFORE_START_KEY, type JobExecutionState, type JobsPort } from '../aws/jobs';
import { describeError, InvalidRequestError } from '../errors';
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
  /**
   * What the job has done: the newest of what its finished chunks handed back and what its working (or
   * stopped) chunk logged (every few seconds, and when it ends), as of `asOf`.
   */
  readonly totals?: JobState['totals'];
  /** When `totals` were true (ISO 8601). */
  readonly asOf?: string;
  /**
   * True when `totals` are the job's last word: it ended, and no chunk's final figures are still to come.
   * False while it runs, and for a job stopped while a chunk worked until that chunk's final figures are in
   * the log group (seconds): ask again.
   */
  readonly final?: boolean;
  /** Said when the figures are not final, or could not be read beyond the job's history. */
  readonly note?: string;
  /** An abort recorded before the request had a job: no delivery of it acts any more. */
  readonly abortedBeforeStart?: true;
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
        /**
         * `stopped`: it was running and is stopped now; `not-running`: it had ended already (the state it
         * ended in); `recorded`: the request had no job (not yet, or it was acted on inline), and the abort
         * is recorded as a stopped job of its id, so no delivery of it acts any more and an inline run of it
         * stops within two seconds.
         */
        readonly outcome: 'stopped' | 'not-running' | 'recorded';
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

/**
 * Stops the job of `jobId`, or, when the request has none, records the abort as a stopped job of its id (a
 * job started in between is stopped instead). An aborted request stays aborted whatever arrives after.
 */
async function abortJob(jobs: JobsPort, jobId: string, cause: AbortCause): Promise<ControlAnswer> {
  const text = JSON.stringify(cause);
  for (let attempt = 0; attempt < 3; attempt++) {
    const state = await jobs.stop(jobId, text);
    if (state !== undefined) {
      const outcome = state === 'RUNNING' ? 'stopped' : 'not-running';
      const now = outcome === 'stopped' ? 'ABORTED' : state;
      return { abort: { jobId, outcome, state: now, reason: cause.reason } };
    }
    // No job: record the abort. One started meanwhile (a delivery handed it on): stop that one instead.
    if ((await jobs.recordAbort(jobId, text)) === 'recorded') {
      return { abort: { jobId, outcome: 'recorded', state: 'ABORTED', reason: cause.reason } };
    }
  }
  throw new Error(`job ${jobId}: it was neither found to stop nor could its abort be recorded; ask again`);
}

/** Carries out a control request. */
export async function runControl(
  request: ControlRequest,
  jobs: JobsPort,
  provenance: Provenance,
  progress?: ProgressLog,
): Promise<ControlAnswer> {
  switch (request.kind) {
    case 'abort': {
      return abortJob(jobs, request.jobId, { reason: request.reason, requestedBy: provenance });
    }
    case 'status':
      return { status: await jobStatus(jobs, request.jobId, progress) };
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

/** A job's status: its execution, the state it started with, and the newest of what it handed back or logged. */
async function jobStatus(
  jobs: JobsPort,
  jobId: string,
  progress: ProgressLog | undefined,
): Promise<JobStatusAnswer> {
  const job = await jobs.describe(jobId);
  if (job === undefined) return { jobId, state: 'NOT_FOUND' };
  const input = parseObject(job.input);
  const abortedBeforeStart = input !== undefined && ABORTED_BEFORE_START_KEY in input;
  const initial = abortedBeforeStart ? undefined : (input as JobState | undefined);
  const last =
    job.output === undefined
      ? await jobs.lastChunk(jobId)
      : { state: parseState(job.output), inFlight: false };
  const handedBack = last.state ?? initial;
  const ended = job.state !== 'RUNNING';
  // The figures a working or stopped chunk logged, newer than what the job's history holds.
  let logged: ProgressRecord | undefined;
  let note: string | undefined;
  if (!ended || last.inFlight || abortedBeforeStart) {
    try {
      const record = await progress?.latest(jobId, job.startedAt ?? new Date(0));
      if (record !== undefined && (handedBack === undefined || record.chunk > handedBack.chunks))
        logged = record;
    } catch (error: unknown) {
      note = `the job's progress log could not be read (${describeError(error)}): figures as of its last finished chunk`;
    }
  }
  const final = ended && (!last.inFlight || logged?.final === true);
  if (note === undefined && ended && !final) {
    note =
      'the chunk working when the job stopped has not logged its final figures yet (they reach the log ' +
      'group within seconds): ask again';
  }
  const totals = logged?.totals ?? handedBack?.totals;
  const asOf = logged?.at ?? handedBack?.lastProgressAt ?? job.startedAt?.toISOString();
  const abort =
    job.state === 'ABORTED' ? (readAbortCause(job.cause) ?? { cause: job.cause ?? '' }) : undefined;
  return {
    jobId,
    state: job.state,
    ...(job.startedAt === undefined ? {} : { startedAt: job.startedAt.toISOString() }),
    ...(job.stoppedAt === undefined ? {} : { stoppedAt: job.stoppedAt.toISOString() }),
    ...(handedBack?.lastProgressAt === undefined ? {} : { lastProgressAt: handedBack.lastProgressAt }),
    ...(handedBack === undefined
      ? {}
      : { chunks: handedBack.chunks, failures: handedBack.failures, summary: handedBack.summary }),
    ...(totals === undefined ? {} : { totals }),
    ...(asOf === undefined ? {} : { asOf }),
    final,
    ...(note === undefined ? {} : { note }),
    ...(abortedBeforeStart ? { abortedBeforeStart: true as const } : {}),
    ...(initial === undefined
      ? {}
      : { request: initial.request, acceptedUnder: initial.acceptedUnder, requestedBy: initial.provenance }),
    ...(abort === undefined ? {} : { abort }),
    ...(job.state === 'ABORTED' || job.error === undefined ? {} : { error: job.error }),
    ...(job.state === 'ABORTED' || job.cause === undefined ? {} : { cause: job.cause }),
  };
}

function parseObject(json: string | undefined): Record<string, unknown> | undefined {
  const value = parseState(json) as unknown;
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
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
  const answer = await runControl(request, jobs, provenance, runtime.progress);
  runtime.logger.info(`control ${request.kind}`, { provenance, request, answer });
  return answer;
}
