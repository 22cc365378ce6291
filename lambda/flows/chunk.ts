/**
 * A job's chunk: the state machine's task. Plan and act on what is left of the job for a bounded time,
 * watching the job's own execution so that an abort stops it, and answer the job's next state.
 */
import { MAX_JOB_CHUNKS } from '../../lib/contract';
import type { RunOptions, RunResult } from '../act/core';
import { runRequest } from '../act/terminate';
import { watchJob } from '../aws/jobs';
import { InvalidRequestError, JobChunkLimitError } from '../errors';
import { parseChunkEvent } from '../parse/job-state';
import { planRequest } from '../plan/plan';
import { summaryOf } from '../report/log';
import type { JobState, JobStatus } from '../types';
import { addTotals, jobState, wholeSecondAfter } from './job-state';
import type { Invocation, Runtime } from './runtime';

export async function handleChunk(
  runtime: Runtime,
  invocation: Invocation,
  event: unknown,
): Promise<JobState> {
  const { config, core, logger, clock } = runtime;
  const chunk = parseChunkEvent(event, config, invocation.time);
  const { parsed, settings, state } = chunk;
  const jobId = state.jobId;
  const number = state.chunks + 1;
  logger.appendKeys({ jobId, domain: parsed.request.domain, chunk: number });
  const jobs = runtime.jobs();
  if (jobs?.jobIdOf(chunk.execution) !== jobId) {
    throw new InvalidRequestError(
      'execution',
      `must be the execution of job ${jobId} on this function's state machine (STATE_MACHINE_ARN)`,
    );
  }

  const waiting = await waitFor(runtime, invocation, state);
  if (waiting !== undefined) return waiting;

  const watch = watchJob(jobs, jobId, runtime.abortPollMs);
  const { builder, record } = invocation.newReport(settings);
  let outcome: RunResult = { done: false };
  try {
    await watch.ready;
    const started = clock.now();
    const chunkMs = config.jobChunkSeconds * 1000;
    const options: RunOptions = {
      parsed,
      settings,
      invocation: { functionRequestId: invocation.context.awsRequestId, jobId },
      record,
      shouldStop: () => watch.stopped || clock.now() - started >= chunkMs || invocation.timeIsShort(),
      alreadyActedOn:
        state.totals.terminated +
        state.totals.wouldTerminate +
        state.totals.cancelRequested +
        state.totals.wouldCancel,
      // A follow-up terminates only what was in fact asked to cancel (lambda/act/run-checks.ts, askedToCancel).
      ...(state.parent === undefined ? {} : { askedToCancelOnly: true }),
      ...(state.recheck === undefined ? {} : { recheck: state.recheck }),
      warn: (message, extra) => {
        logger.warn(message, extra);
      },
    };
    if (!watch.stopped) {
      await planRequest(core, options);
      outcome = await runRequest(core, options);
    }
  } finally {
    watch.close();
  }

  const totals = addTotals(state.totals, builder.totals());
  const status: JobStatus = watch.stopped
    ? 'aborted'
    : !outcome.done
      ? 'running'
      : totals.failed > 0
        ? 'failed'
        : 'done';
  const summary = { ...summaryOf(parsed, settings.dryRun, builder.totals(), core.pacer), job: totals };
  if (status === 'aborted') {
    // The execution is stopped already: Step Functions drops what this chunk answers, so the logs and the
    // metric are where its totals and the reason end up.
    invocation.jobAborted = true;
    logger.warn('job aborted', { ...summary, cause: watch.cause });
  } else if (status === 'running' && number >= MAX_JOB_CHUNKS) {
    throw new JobChunkLimitError(jobId, MAX_JOB_CHUNKS, totals);
  } else {
    logger.info(status === 'running' ? 'chunk done' : `job ${status}`, summary);
  }
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
    // What the job's runs are checked against is the job's, in every chunk.
    ...(state.parent === undefined ? {} : { parent: state.parent }),
    ...(state.recheck === undefined ? {} : { recheck: state.recheck }),
  });
}

/**
 * The state to answer instead of working, when the job must wait: before its `notBefore` (the Wait state
 * ends at it; a chunk invoked earlier waits again), and for a cancelThenTerminate follow-up until its runs
 * have had the grace period since their asking job stopped (still running: wait a grace period more), or
 * never (the asking job was aborted: stop, terminating nothing). Undefined when the chunk may work.
 */
async function waitFor(
  runtime: Runtime,
  invocation: Invocation,
  state: JobState,
): Promise<JobState | undefined> {
  const now = invocation.time.getTime();
  if (state.notBefore !== undefined && now < Date.parse(state.notBefore)) {
    runtime.logger.info('chunk waiting', { notBefore: state.notBefore });
    return state;
  }
  const parent = state.parent;
  if (parent === undefined) return undefined;
  const asking = await runtime.jobs()?.describe(parent.jobId);
  if (asking === undefined) return undefined; // asked inline: notBefore already counted its end
  const grace = parent.graceSeconds * 1000;
  if (asking.state === 'ABORTED') {
    runtime.logger.warn('follow-up stopped: its job was aborted', { parent: parent.jobId });
    invocation.jobAborted = true;
    return {
      ...state,
      status: 'aborted',
      summary: `aborted: job ${parent.jobId} was aborted, so nothing it asked to cancel is terminated`,
    };
  }
  const stopped = asking.stoppedAt?.getTime();
  if (asking.state === 'RUNNING' || stopped === undefined || now < stopped + grace) {
    const until = asking.state === 'RUNNING' || stopped === undefined ? now + grace : stopped + grace;
    const notBefore = wholeSecondAfter(new Date(until)).toISOString();
    runtime.logger.info('follow-up waiting for its job', {
      parent: parent.jobId,
      state: asking.state,
      notBefore,
    });
    return { ...state, notBefore };
  }
  return undefined;
}
