/**
 * A termination request's flow: plan it (count, limit, time), then act on it inline when it fits the time
 * this invocation has, or start a job when it does not; an inline request whose time runs out after all
 * hands what is left to the same job. Report what was done.
 */
import type { RunOptions, RunResult } from '../act/core';
import { runRequest } from '../act/terminate';
import { isValidJobId } from '../parse/job-id';
import { decide, estimateSeconds, planRequest } from '../plan/plan';
import { acceptedUnder, jobSettings } from '../plan/settings';
import { describeError, JobHandOffError, TerminationFailedError } from '../errors';
import { ENV } from '../../lib/contract';
import { summaryOf } from '../report/log';
import type { JobState, ParsedEvent, Report } from '../types';
import { jobState } from './job-state';
import type { Invocation, Runtime } from './runtime';

/** The id a request's job has (whether or not it becomes one): the event's id, or the console request's. */
export function jobIdOf(parsed: ParsedEvent): string {
  return parsed.provenance.via === 'eventbridge' ? parsed.provenance.eventId : parsed.provenance.requestId;
}

export async function handleRequest(
  runtime: Runtime,
  invocation: Invocation,
  parsed: ParsedEvent,
): Promise<Report> {
  const { config, core, logger } = runtime;
  const jobId = jobIdOf(parsed);
  logger.appendKeys({ jobId, domain: parsed.request.domain });
  const accepted = acceptedUnder(config);
  const settings = jobSettings(parsed.request, accepted);
  const target = parsed.request.target.kind;
  logger.debug('request accepted', { provenance: parsed.provenance, target, settings });
  const { builder, record } = invocation.newReport(settings.dryRun);
  const options: RunOptions = {
    parsed,
    settings,
    invocation: { functionRequestId: invocation.context.awsRequestId, jobId },
    record,
    shouldStop: () => invocation.timeIsShort(),
    alreadyActedOn: 0,
    warn: (message, extra) => {
      logger.warn(message, extra);
    },
  };

  const plan = await planRequest(core, options);
  const seconds = estimateSeconds(plan, settings, runtime.rates);
  const inline = decide(seconds, invocation.workingSeconds(), settings, target, config) === 'inline';
  const outcome: RunResult = inline ? await runRequest(core, options) : { done: false };

  const own = builder.totals();
  const summary = summaryOf(parsed, settings.dryRun, own, core.pacer);
  if (!outcome.done) {
    const state = jobState({
      jobId,
      parsed,
      acceptedUnder: accepted,
      remaining: outcome.remaining,
      totals: own,
      failures: builder.listedFailures(),
      chunks: 0,
      status: 'running',
    });
    const started = await startJob(runtime, invocation, state);
    const reason = inline ? 'out-of-time' : 'too-large';
    logger.info(started.started ? 'job started' : 'job already started', {
      ...summary,
      reason,
      estimatedSeconds: Math.ceil(seconds),
      executionArn: started.executionArn,
    });
    return builder.build({
      jobId,
      job: {
        state: started.started ? 'started' : 'already-started',
        reason,
        executionArn: started.executionArn,
      },
    });
  }
  if (own.failed > 0) {
    logger.error('request done', summary);
    throw new TerminationFailedError(builder.listedFailures(), own.failed);
  }
  logger.info('request done', summary);
  return builder.build({ jobId });
}

/** Starts the job with `state`, or finds it started already (a re-delivered request). */
async function startJob(
  runtime: Runtime,
  invocation: Invocation,
  state: JobState,
): Promise<{ executionArn: string; started: boolean }> {
  const jobs = runtime.jobs();
  if (jobs === undefined) {
    throw new JobHandOffError(state.jobId, `${ENV.stateMachineArn} is not set: this function runs no jobs`);
  }
  if (!isValidJobId(state.jobId)) {
    throw new JobHandOffError(state.jobId, 'the job id cannot name a Step Functions execution');
  }
  try {
    const started = await jobs.start(state);
    if (started.started) invocation.jobStarted = true;
    return started;
  } catch (error: unknown) {
    throw new JobHandOffError(state.jobId, describeError(error));
  }
}
