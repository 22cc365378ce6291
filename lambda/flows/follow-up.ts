/**
 * cancelThenTerminate's second step, a job of its own. It is started, with every run the request matched,
 * BEFORE any of them is asked to cancel: whatever happens to the asking (a failure, a hand-off to a job), no
 * run asked to cancel is left without the job that terminates it. The job waits in the state machine (nobody
 * waits in a Lambda) until each run has had the grace period since its job stopped asking, then terminates
 * those still open that SWF shows were asked to cancel: these runs only, by runId, so nothing started since
 * is touched, and a run whose asking failed or never happened is reported failed, not terminated. A run its
 * decider closed meanwhile answers `already-closed`. An abort of the asking job stops it too. A retry of the
 * request that finds its follow-up started asks nothing (FollowUpExistsError): the wait was fixed by the
 * attempt that started it.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_REASON, HANDOFF_REQUEST_MAX_BYTES } from '../../lib/contract';
import { FollowUpExistsError, InvalidRequestError } from '../errors';
import { isValidJobId } from '../parse/job-id';
import { wireBytes } from '../parse/wire';
import type { AcceptedUnder, JobSettings, JobState, ParsedEvent, Report, TerminationRequest } from '../types';
import { jobState, NO_TOTALS } from './job-state';
import type { Invocation, Runtime } from './runtime';
import { startJob } from './start-job';

/** The reason recorded when a cancelThenTerminate request gives none. */
export const FOLLOW_UP_REASON = `${DEFAULT_REASON}: still open after the grace period that followed a cancel request`;

/** The follow-up of a request, ready to start: its state, checked to fit a job. */
export interface FollowUp {
  readonly state: JobState;
}

/**
 * The follow-up job for `runs`, not yet started. Refuses (before any run is asked to cancel) a follow-up a job
 * could not carry.
 *
 * @param askingEndsBy the latest the asking can end without a job of its own (the end of this invocation)
 */
export function followUpFor(fields: {
  jobId: string;
  parsed: ParsedEvent;
  accepted: AcceptedUnder;
  settings: JobSettings;
  runs: readonly { workflowId: string; runId: string }[];
  askingEndsBy: Date;
}): FollowUp {
  const { parsed, settings } = fields;
  const request: TerminationRequest = {
    domain: parsed.request.domain,
    target: {
      kind: 'list',
      executions: fields.runs.map((r) => ({ workflowId: r.workflowId, runId: r.runId })),
    },
    action: 'terminate',
    reason: parsed.request.reason ?? FOLLOW_UP_REASON,
    ...(settings.details === undefined ? {} : { details: settings.details }),
    ...(settings.childPolicy === undefined ? {} : { childPolicy: settings.childPolicy }),
  };
  const bytes = wireBytes(request);
  if (bytes > HANDOFF_REQUEST_MAX_BYTES) {
    throw new InvalidRequestError(
      'details',
      `makes the terminations that follow the cancel requests ${bytes} bytes as a job's request, over the ` +
        `${HANDOFF_REQUEST_MAX_BYTES} a job carries; nothing was asked to cancel (shorten details, or lower maxExecutions)`,
    );
  }
  const graceSeconds = settings.gracePeriodSeconds ?? 0;
  return {
    state: jobState({
      jobId: followUpId(fields.jobId, fields.runs),
      parsed: { ...parsed, request },
      acceptedUnder: fields.accepted,
      remaining: undefined,
      totals: NO_TOTALS,
      failures: [],
      chunks: 0,
      status: 'running',
      notBefore: new Date(fields.askingEndsBy.getTime() + graceSeconds * 1000),
      parent: { jobId: fields.jobId, graceSeconds },
    }),
  };
}

/**
 * Starts the follow-up job. A retry with the same runs finds it started already (its name says which) and
 * refuses to ask anything: FollowUpExistsError.
 */
export async function startFollowUp(
  runtime: Runtime,
  invocation: Invocation,
  followUp: FollowUp,
): Promise<NonNullable<Report['followUp']>> {
  const { state } = followUp;
  const started = await startJob(runtime, invocation, state);
  if (!started.started) throw new FollowUpExistsError(state.jobId);
  const runs = state.progress.target === 'list' ? state.progress.remaining : 0;
  runtime.logger.info('follow-up job started', {
    followUp: state.jobId,
    runs,
    notBefore: state.notBefore,
    executionArn: started.executionArn,
  });
  return { jobId: state.jobId, executionArn: started.executionArn, notBefore: state.notBefore ?? '' };
}

/**
 * The follow-up's job id: the request's, marked, and a digest of its runs (a retry that matched other runs
 * starts a follow-up of its own), within Step Functions' 80 characters.
 */
function followUpId(jobId: string, runs: readonly { workflowId: string; runId: string }[]): string {
  const digest = createHash('sha256')
    .update(JSON.stringify(runs.map((r) => [r.workflowId, r.runId])))
    .digest('hex')
    .slice(0, 12);
  const suffix = `-grace-${digest}`;
  const id = `${jobId.slice(0, 80 - suffix.length)}${suffix}`;
  return isValidJobId(id) ? id : `job${suffix}`;
}
