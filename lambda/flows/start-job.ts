/**
 * Starting a job: the state machine's execution named by the job id, or the one started already under that
 * name (a re-delivered request, a retried hand-off: jobs are started once).
 */
import { ENV } from '../../lib/contract';
import { describeError, JobHandOffError } from '../errors';
import { isValidJobId } from '../job/id';
import type { JobState } from '../types';
import type { Invocation, Runtime } from './runtime';

/** Starts the job with `state`, or finds it started already (a re-delivered request). */
export async function startJob(
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
