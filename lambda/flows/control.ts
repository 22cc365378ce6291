/**
 * Control requests, carried out: stop a job, read its status, list recent jobs. They come through the same
 * channels as termination requests (the bus, the console), so whoever may request a termination may stop one,
 * and they act on the terminator's own jobs only (executions of its state machine).
 */
import { Breaker, type BreakerStatus } from '../aws/breaker';
import { latestByInvocation, type ProgressLog } from '../aws/job-logs';
import { ABORTED_BEFORE_START_KEY, type JobExecutionState, type JobsPort, type LastChunk } from '../aws/jobs';
import { describeError, InvalidRequestError } from '../errors';
import { type ControlRequest, parseControlRequest } from '../parse/control';
import type { JobState, JobTotals, Provenance } from '../types';
import { addTotals, NO_TOTALS } from '../job/write';
import type { Runtime } from './runtime';
import { RESTORE_JOB_KIND } from '../../lib/contract';

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
  /**
   * A restore job's counts (its state's `kind` is `restore`): started, skipped by why, failed. `totals` is
   * then absent (a restore terminates nothing).
   */
  readonly restore?: Readonly<Record<string, unknown>>;
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
  /** An event policy's circuit breaker: after a `status` of it, or after an operator's `resetBreaker`. */
  | { readonly breaker: { readonly policy: string; readonly reset?: true } & BreakerStatus }
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

/** Carries out a control request about a job. */
export async function runControl(
  request: Exclude<ControlRequest, { kind: 'breaker-status' | 'reset-breaker' }>,
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

/**
 * How long before its job started an invocation of a request can have worked for it (acted inline, then
 * handed on, or run beside it): Lambda's longest invocation, and a minute.
 */
const BEFORE_JOB_MS = 16 * 60_000;

/**
 * How long after a job stopped its invocations' last figures are waited for: Lambda's longest invocation and
 * the ten minutes CloudWatch Logs may take to show a line (docs/facts.md, "CloudWatch Logs"), and more.
 */
const SILENT_AFTER_MS = 30 * 60_000;

/** What the log group says of a job: each invocation's newest record, added up. */
interface Logged {
  readonly totals: JobTotals;
  /** When the newest record was logged. */
  readonly asOf: string | undefined;
  /** Every invocation's newest record is its last word. */
  readonly allFinal: boolean;
  /** The chunk numbers whose last word is in. */
  readonly finalChunks: ReadonlySet<number>;
  /** The search read everything it was asked for. */
  readonly complete: boolean;
}

/**
 * Each invocation's own figures for the job, from the log group: the last records of all of them since
 * `since`, and every record since `recentSince` (the newest figures of those still working), or undefined
 * when the function has no log group to read.
 */
async function readLogged(
  progress: ProgressLog,
  jobId: string,
  since: Date,
  recentSince: Date | undefined,
): Promise<Logged> {
  const finals = await progress.read(jobId, { since, finalOnly: true });
  const recent =
    recentSince === undefined
      ? { records: [], complete: true }
      : await progress.read(jobId, { since: recentSince });
  const latest = latestByInvocation([...finals.records, ...recent.records]);
  let totals = NO_TOTALS;
  let asOf: string | undefined;
  const finalChunks = new Set<number>();
  for (const record of latest.values()) {
    totals = addTotals(totals, record.own);
    if (asOf === undefined || record.at > asOf) asOf = record.at;
    if (record.final) finalChunks.add(record.chunk);
  }
  return {
    totals,
    asOf,
    allFinal: [...latest.values()].every((r) => r.final),
    finalChunks,
    complete: finals.complete && recent.complete,
  };
}

/**
 * A job's status: its execution, the state it started with, what its chunks handed back, and the figures
 * every invocation that worked for it logged (added up: each termination is one invocation's), as of when,
 * and whether they are its last word.
 */
async function jobStatus(
  jobs: JobsPort,
  jobId: string,
  progress: ProgressLog | undefined,
): Promise<JobStatusAnswer> {
  const job = await jobs.describe(jobId);
  if (job === undefined) return { jobId, state: 'NOT_FOUND' };
  const input = parseObject(job.input);
  const tombstone = input?.[ABORTED_BEFORE_START_KEY] as { readonly cause?: string } | undefined;
  const initial = tombstone === undefined ? (input as JobState | undefined) : undefined;
  const last: LastChunk =
    tombstone !== undefined
      ? { inFlight: false }
      : job.output === undefined
        ? await jobs.lastChunk(jobId)
        : { state: parseState(job.output), inFlight: false };
  const handedBack = last.state ?? initial;
  const ended = job.state !== 'RUNNING' && job.state !== 'PENDING_REDRIVE';
  const restore = restoreStatus(handedBack);
  if (restore !== undefined) {
    const abortCause =
      job.state === 'ABORTED' ? (readAbortCause(job.cause) ?? { cause: job.cause ?? '' }) : undefined;
    return {
      jobId,
      ...executionDates(job),
      final: ended,
      ...restore,
      ...(abortCause === undefined ? {} : { abort: abortCause }),
    };
  }

  let logged: Logged | undefined;
  let note: string | undefined;
  if (progress !== undefined) {
    const since = new Date((job.startedAt?.getTime() ?? 0) - BEFORE_JOB_MS);
    const working = !ended || last.inFlight || tombstone !== undefined;
    const recentSince = !working
      ? undefined
      : handedBack?.lastProgressAt === undefined
        ? since
        : new Date(handedBack.lastProgressAt);
    try {
      logged = await readLogged(progress, jobId, since, recentSince);
      if (!logged.complete) note = "the log group's search stopped before its end: the figures may be low";
    } catch (error: unknown) {
      note = `the job's progress log could not be read (${describeError(error)}): figures as of its last finished chunk`;
    }
  }
  // What the log group says, never less than what the job's own state says (its lines may lag).
  const totals =
    logged === undefined ? handedBack?.totals : maxTotals(logged.totals, handedBack?.totals ?? NO_TOTALS);
  const asOf = [logged?.asOf, handedBack?.lastProgressAt, job.startedAt?.toISOString()]
    .filter((t): t is string => t !== undefined)
    .sort()
    .at(-1);
  const inFlightChunk = (handedBack?.chunks ?? 0) + 1;
  const allSaid =
    (logged === undefined ? progress === undefined : logged.allFinal) &&
    (!last.inFlight || logged?.finalChunks.has(inFlightChunk) === true);
  // Long after the job stopped, an invocation still silent never will speak (it timed out, or crashed).
  const stoppedLongAgo = (job.stoppedAt?.getTime() ?? Infinity) < Date.now() - SILENT_AFTER_MS;
  const final = ended && (allSaid || stoppedLongAgo);
  if (note === undefined && ended && !allSaid) {
    note = stoppedLongAgo
      ? 'an invocation working when the job stopped never logged its last figures (it may have timed out): ' +
        'the figures may be low'
      : 'an invocation working when the job stopped has not logged its final figures yet (they reach the log ' +
        'group within seconds, at most minutes): ask again';
  }
  const abort =
    job.state === 'ABORTED'
      ? (readAbortCause(job.cause) ?? readAbortCause(tombstone?.cause) ?? { cause: job.cause ?? '' })
      : undefined;
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
    ...(tombstone === undefined ? {} : { abortedBeforeStart: true as const }),
    ...(initial === undefined
      ? {}
      : { request: initial.request, acceptedUnder: initial.acceptedUnder, requestedBy: initial.provenance }),
    ...(abort === undefined ? {} : { abort }),
    ...(job.state === 'ABORTED' || job.error === undefined ? {} : { error: job.error }),
    ...(job.state === 'ABORTED' || job.cause === undefined ? {} : { cause: job.cause }),
  };
}

/** A job's start and stop dates, as a status answers them. */
function executionDates(job: {
  readonly state: JobExecutionState;
  readonly startedAt?: Date;
  readonly stoppedAt?: Date;
}) {
  return {
    state: job.state,
    ...(job.startedAt === undefined ? {} : { startedAt: job.startedAt.toISOString() }),
    ...(job.stoppedAt === undefined ? {} : { stoppedAt: job.stoppedAt.toISOString() }),
  };
}

/**
 * A restore job's status fields, from the state its last chunk handed back (lambda/restore/job.ts: its counts
 * are restore's own, and it logs no termination progress); undefined for a termination job.
 */
function restoreStatus(state: unknown): Partial<JobStatusAnswer> | undefined {
  const s = state as Record<string, unknown> | undefined;
  if (s?.kind !== RESTORE_JOB_KIND) return undefined;
  return {
    restore: (s.totals ?? {}) as Record<string, unknown>,
    ...(typeof s.chunks === 'number' ? { chunks: s.chunks } : {}),
    ...(typeof s.summary === 'string' ? { summary: s.summary } : {}),
    ...(typeof s.lastProgressAt === 'string' ? { lastProgressAt: s.lastProgressAt } : {}),
    ...(typeof s.provenance === 'object' ? { requestedBy: s.provenance as Provenance } : {}),
  };
}

/** Field by field, the larger of two totals. */
function maxTotals(a: JobTotals, b: JobTotals): JobTotals {
  const keys = Object.keys(NO_TOTALS) as (keyof JobTotals)[];
  return Object.fromEntries(keys.map((k) => [k, Math.max(a[k] ?? 0, b[k] ?? 0)])) as unknown as JobTotals;
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
  if (request.kind === 'breaker-status' || request.kind === 'reset-breaker') {
    const answer = await breakerControl(runtime, request, prefix, provenance);
    runtime.logger.info(`control ${request.kind}`, { provenance, request, answer });
    return answer;
  }
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

/**
 * An event policy's circuit breaker, read or reset by an operator. A reset starts a fresh window at once and
 * is recorded with who asked (the request's provenance) and why, in the breaker's record and this log line.
 */
async function breakerControl(
  runtime: Runtime,
  request: Extract<ControlRequest, { kind: 'breaker-status' | 'reset-breaker' }>,
  prefix: string,
  provenance: Provenance,
): Promise<ControlAnswer> {
  const limits = runtime.config.breakers?.limits.get(request.policy);
  const table = runtime.breakers();
  if (limits === undefined || table === undefined) {
    const field = `${prefix === '' ? '' : `${prefix}.`}${request.kind === 'reset-breaker' ? 'resetBreaker' : 'status'}.policy`;
    throw new InvalidRequestError(
      field,
      `must name an event policy deployed with this function (got ${JSON.stringify(request.policy)})`,
    );
  }
  const breaker = new Breaker(table, request.policy, limits, () => runtime.now().getTime());
  if (request.kind === 'breaker-status')
    return { breaker: { policy: request.policy, ...(await breaker.status()) } };
  const status = await breaker.reset(JSON.stringify(provenance), request.reason);
  return { breaker: { policy: request.policy, reset: true, ...status } };
}
