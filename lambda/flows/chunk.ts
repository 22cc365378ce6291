/**
 * A job's chunk: the state machine's task. Plan and act on what is left of the job for a bounded time,
 * guarded by the job's own execution (lambda/flows/job-guard.ts: an abort stops it, and nothing starts once
 * the last look at the execution is too old), and answer the job's next state. A chunk of a redriven
 * execution is refused: a job that was stopped, or failed, stays so (send the request again instead).
 */
import { MAX_JOB_CHUNKS } from '../../lib/contract';
import { type AskedRun, dueAt, runCancelThenTerminate } from '../act/cancel-then-terminate';
import type { RunOptions, RunResult } from '../work';
import { runRequest } from '../act/terminate';
import { InvalidRequestError, JobChunkLimitError, JobRedriveError } from '../errors';
import { type ParsedChunk, parseChunkEvent } from '../parse/job-state';
import { planRequest } from '../plan/plan';
import { summaryOf } from '../report/log';
import type { ExecutionRef, JobState, JobStatus, ParsedEvent } from '../types';
import { guardJob, type JobGuard } from './job-guard';
import { addTotals, jobState, NO_TOTALS, wholeSecondAfter } from '../job/write';
import { progressOf } from './progress';
import { admitThrough, breakerFor } from './policy';
import type { Invocation, Runtime } from './runtime';

export async function handleChunk(
  runtime: Runtime,
  invocation: Invocation,
  event: unknown,
): Promise<JobState> {
  const { config, logger } = runtime;
  const chunk = parseChunkEvent(event, config, invocation.time);
  const { parsed, state } = chunk;
  const jobId = state.jobId;
  const number = state.chunks + 1;
  logger.appendKeys({
    jobId,
    domain: parsed.request.domain,
    chunk: number,
    requestedBy: parsed.provenance,
    reason: chunk.settings.reason,
  });
  const jobs = runtime.jobs();
  if (jobs?.jobIdOf(chunk.execution) !== jobId) {
    throw new InvalidRequestError(
      'execution',
      `must be the execution of job ${jobId} on this function's state machine (STATE_MACHINE_ARN)`,
    );
  }

  if (state.notBefore !== undefined && invocation.time.getTime() < Date.parse(state.notBefore)) {
    // The Wait state ended early (it reads whole seconds), or the chunk was invoked by hand: wait again. It
    // says so in the job's progress too (nothing done), so that a job stopped while it ran is not left
    // waiting for its last word.
    logger.info('chunk waiting', { notBefore: state.notBefore });
    progressOf(runtime, invocation.context.awsRequestId, jobId, number, () => NO_TOTALS).finish('running');
    return state;
  }

  const guard = guardJob(jobs, jobId, 'chunk', { intervalMs: runtime.abortPollMs });
  const { builder, record } = invocation.newReport(chunk.settings);
  let outcome: { done: boolean; remaining?: readonly ExecutionRef[]; asked?: readonly AskedRun[] } = {
    done: false,
  };
  // What this chunk does is logged as it goes and when it ends, whatever ends it (its answer may be dropped,
  // or it may fail and be retried with the state before it): a status adds it up (lambda/flows/progress.ts).
  const progress = progressOf(runtime, invocation.context.awsRequestId, jobId, number, () =>
    builder.totals(),
  );
  try {
    await guard.ready;
    if (!guard.stopped) outcome = await work(runtime, invocation, chunk, guard, { record });
  } catch (error: unknown) {
    progress.finish('failed');
    throw error;
  } finally {
    guard.close();
  }
  // A redriven execution (RUNNING again after it stopped or failed) stops its chunk like an abort does, and
  // fails the job at once naming why: a stopped job stays stopped.
  const redrives = guard.stoppedBy?.redriveCount ?? 0;
  if (redrives > 0) {
    progress.finish('aborted');
    throw new JobRedriveError(jobId, redrives);
  }

  const totals = addTotals(state.totals, builder.totals());
  const status: JobStatus = guard.stopped
    ? 'aborted'
    : !outcome.done
      ? 'running'
      : totals.failed > 0
        ? 'failed'
        : 'done';
  const summary = {
    ...summaryOf(parsed, chunk.settings.dryRun, builder.totals(), runtime.core.pacer),
    job: totals,
  };
  if (status === 'aborted') {
    // The execution is stopped already: Step Functions drops what this chunk answers. What it did is in its
    // last progress record (the status of an aborted job reads it).
    invocation.jobAborted = true;
    progress.finish(status);
    logger.warn('job aborted', { ...summary, cause: guard.stoppedBy?.cause });
  } else if (status === 'running' && number >= MAX_JOB_CHUNKS) {
    progress.finish('failed');
    throw new JobChunkLimitError(jobId, MAX_JOB_CHUNKS, totals);
  } else {
    progress.finish(status);
    logger.info(status === 'running' ? 'chunk done' : `job ${status}`, summary);
  }
  const asked = outcome.asked ?? state.asked;
  const next = nextWake(chunk, outcome, asked);
  return jobState({
    jobId,
    parsed,
    acceptedUnder: chunk.acceptedUnder,
    remaining: outcome.done ? undefined : outcome.remaining,
    totals,
    failures: [...state.failures, ...builder.listedFailures()],
    chunks: number,
    status,
    lastProgressAt: runtime.now(),
    ...(next === undefined ? {} : { notBefore: next }),
    ...(asked === undefined ? {} : { asked }),
    // What the job's runs are checked against is the job's, in every chunk.
    ...(state.recheck === undefined ? {} : { recheck: state.recheck }),
  });
}

/** The chunk's work: plan what is left and act on it, or cancelThenTerminate's two steps. */
async function work(
  runtime: Runtime,
  invocation: Invocation,
  chunk: ParsedChunk,
  guard: JobGuard,
  report: Pick<RunOptions, 'record'>,
): Promise<{ done: boolean; remaining?: readonly ExecutionRef[]; asked?: readonly AskedRun[] }> {
  const { config, core, clock, logger } = runtime;
  const { parsed, settings, state } = chunk;
  const started = clock.now();
  const chunkMs = config.jobChunkSeconds * 1000;
  const timeIsUp = () => clock.now() - started >= chunkMs || invocation.timeIsShort();
  const options: RunOptions = {
    parsed,
    settings,
    invocation: { functionRequestId: invocation.context.awsRequestId, jobId: state.jobId },
    record: report.record,
    shouldStop: () => guard.stopped || timeIsUp(),
    mayAct: () => guard.mayAct(timeIsUp),
    alreadyActedOn:
      state.totals.terminated +
      state.totals.wouldTerminate +
      state.totals.cancelRequested +
      state.totals.wouldCancel,
    ...(chunk.confirm === undefined ? {} : { confirm: chunk.confirm }),
    ...backstopAdmission(runtime, parsed, settings.dryRun),
    warn: (message, extra) => {
      logger.warn(message, extra);
    },
  };
  if (settings.action === 'cancelThenTerminate' && !settings.dryRun) {
    const target = parsed.request.target;
    const runs =
      target.kind === 'list' ? target.executions : target.kind === 'single' ? [target.execution] : [];
    const result = await runCancelThenTerminate(core, options, { runs, asked: state.asked ?? [] }, () =>
      runtime.now(),
    );
    return { done: result.done, remaining: result.runs, asked: result.asked };
  }
  await planRequest(core, options);
  const result: RunResult = await runRequest(core, options);
  return result;
}

/**
 * When the job's next chunk may start: for cancelThenTerminate with every run asked, when the next run it
 * asked has had its grace period (on a whole second: the Wait state reads whole seconds). None otherwise.
 */
function nextWake(
  chunk: ParsedChunk,
  outcome: { done: boolean; remaining?: readonly ExecutionRef[] },
  asked: readonly AskedRun[] | undefined,
): Date | undefined {
  if (outcome.done || asked === undefined || asked.length === 0) return undefined;
  if ((outcome.remaining?.length ?? 0) > asked.length) return undefined; // some are still to be asked
  const grace = chunk.settings.gracePeriodSeconds ?? 0;
  return wholeSecondAfter(new Date(Math.min(...asked.map((run) => dueAt(run, grace)))));
}

/**
 * A backstop sweep's job: each run passes its event policy's circuit breaker, as the sweep's inline runs do
 * (lambda/flows/policy.ts). Not an SWF event's cancelThenTerminate job: its one run passed the breaker before
 * the job started, and must still be terminated after its grace period, whatever the breaker says by then.
 */
function backstopAdmission(
  runtime: Runtime,
  parsed: ParsedEvent,
  dryRun: boolean,
): Pick<RunOptions, 'admit'> {
  const policy = parsed.policy;
  if (policy?.trigger !== 'backstop') return {};
  const breaker = breakerFor(runtime, policy.name, policy.trigger, dryRun);
  return breaker === undefined ? {} : { admit: admitThrough(breaker) };
}
