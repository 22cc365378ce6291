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
import { startFollowUp } from './follow-up';
import { addTotals, jobState } from './job-state';
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

  if (state.notBefore !== undefined && invocation.time.getTime() < Date.parse(state.notBefore)) {
    // Invoked before the grace period ended (the Wait state should prevent it): do nothing, wait again.
    logger.info('chunk waiting', { notBefore: state.notBefore });
    return state;
  }

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
      alreadyActedOn: state.totals.terminated + state.totals.wouldTerminate,
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

  // An abort stops the terminations that would follow the cancel requests too: terminating destroys work, and
  // the operator asked for nothing more to be done.
  const cancelled = watch.stopped ? [] : builder.cancelled();
  if (cancelled.length > 0) {
    await startFollowUp(runtime, invocation, {
      jobId,
      parsed,
      accepted: chunk.acceptedUnder,
      settings,
      runs: cancelled,
      part: number,
    });
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
  });
}
