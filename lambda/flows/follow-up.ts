/**
 * cancelThenTerminate's second step. The runs an invocation asked to cancel are handed to a job of their own
 * that first waits out the grace period (the state machine's Wait state: nobody waits in a Lambda), then
 * terminates those of them still open: exactly those runs, by runId, so nothing another request or policy
 * asked to cancel, and nothing started since, is touched. A run its decider closed meanwhile answers
 * `already-closed`.
 */
import { DEFAULT_REASON } from '../../lib/contract';
import { isValidJobId } from '../parse/job-id';
import type { AcceptedUnder, JobSettings, ParsedEvent, Report, TerminationRequest } from '../types';
import { jobState, NO_TOTALS } from './job-state';
import { startJob } from './start-job';
import type { Invocation, Runtime } from './runtime';

/** The reason recorded when a cancelThenTerminate request gives none. */
export const FOLLOW_UP_REASON = `${DEFAULT_REASON}: still open after the grace period that followed a cancel request`;

/**
 * Starts the follow-up job for `runs` (a re-delivered request finds it started already: jobs are named by
 * their request and part).
 *
 * @param part 0 for the invocation that accepted the request, else the job chunk's number
 */
export async function startFollowUp(
  runtime: Runtime,
  invocation: Invocation,
  fields: {
    jobId: string;
    parsed: ParsedEvent;
    accepted: AcceptedUnder;
    settings: JobSettings;
    runs: readonly { workflowId: string; runId: string }[];
    part: number;
  },
): Promise<NonNullable<Report['followUp']>> {
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
  const notBefore = new Date(runtime.now().getTime() + (settings.gracePeriodSeconds ?? 0) * 1000);
  const jobId = followUpId(fields.jobId, fields.part);
  const state = jobState({
    jobId,
    parsed: { ...parsed, request },
    acceptedUnder: fields.accepted,
    remaining: undefined,
    totals: NO_TOTALS,
    failures: [],
    chunks: 0,
    status: 'running',
    notBefore,
  });
  const started = await startJob(runtime, invocation, state);
  runtime.logger.info(started.started ? 'follow-up job started' : 'follow-up job already started', {
    followUp: jobId,
    runs: fields.runs.length,
    notBefore: notBefore.toISOString(),
    executionArn: started.executionArn,
  });
  return { jobId, executionArn: started.executionArn, notBefore: notBefore.toISOString() };
}

/** The follow-up's job id: the request's, marked, within Step Functions' 80 characters. */
function followUpId(jobId: string, part: number): string {
  const suffix = part === 0 ? '-grace' : `-grace-${part}`;
  const id = `${jobId.slice(0, 80 - suffix.length)}${suffix}`;
  return isValidJobId(id) ? id : `job${suffix}`;
}
