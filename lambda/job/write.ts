/**
 * A job's state as a chunk (or the request that starts the job) hands it to the state machine.
 */
import { HANDOFF_PAYLOAD_MAX_BYTES } from '../../lib/contract';
import { clip } from '../errors';
import { JOB_FAILURES_LISTED_MAX, JOB_STATE_VERSION, JOB_SUMMARY_MAX } from './format';
import { wireRequest } from './wire';
import type {
  AcceptedUnder,
  ExecutionRef,
  FailedExecution,
  JobState,
  JobStatus,
  JobTotals,
  ParsedEvent,
} from '../types';

/** The cancel counts, when there are any (most jobs only terminate). */
function cancels(totals: JobTotals): string {
  if (totals.cancelRequested + totals.wouldCancel === 0) return '';
  return `${totals.cancelRequested} asked to cancel, ${totals.wouldCancel} would be asked to cancel (preview), `;
}

/** The totals as one line: what the job did so far. */
export function describeTotals(totals: JobTotals): string {
  return (
    `${totals.matched} matched: ${totals.terminated} terminated, ${totals.wouldTerminate} would be terminated ` +
    `(preview), ${cancels(totals)}${totals.alreadyClosed} already closed, ${totals.noOpenRun} with no open run, ` +
    (totals.noLongerMatches > 0 ? `${totals.noLongerMatches} no longer matching, ` : '') +
    `${totals.failed} failed` +
    (totals.passedOver === undefined ? '' : `, ${totals.passedOver} passed over (circuit breaker tripped)`)
  );
}

/**
 * A job state that fits Step Functions' 256 KB: the failures listed by name are dropped from the end until it
 * does (their count in `totals` stays exact). The request itself always fits: a larger one was refused when it
 * arrived (HANDOFF_REQUEST_MAX_BYTES); cancelThenTerminate's `asked` holds at most its 500 runs, which move out
 * of the request as they are asked (about 40 bytes more each).
 */
export function fitJobState(state: JobState): JobState {
  let failures = state.failures.slice(0, JOB_FAILURES_LISTED_MAX);
  for (;;) {
    const fitted = { ...state, failures };
    if (failures.length === 0 || Buffer.byteLength(JSON.stringify(fitted)) <= HANDOFF_PAYLOAD_MAX_BYTES) {
      return fitted;
    }
    failures = failures.slice(0, Math.floor(failures.length / 2));
  }
}

/** A job's state as the state machine gets it, from what is known when it is started or a chunk ends. */
export function jobState(fields: {
  jobId: string;
  parsed: ParsedEvent;
  acceptedUnder: AcceptedUnder;
  remaining: readonly ExecutionRef[] | undefined;
  totals: JobTotals;
  failures: readonly FailedExecution[];
  chunks: number;
  status: JobStatus;
  lastProgressAt?: Date;
  notBefore?: Date;
  asked?: JobState['asked'];
  recheck?: JobState['recheck'];
}): JobState {
  const { parsed, totals, status } = fields;
  const target = parsed.request.target;
  const left = fields.remaining ?? (target.kind === 'list' ? target.executions : undefined);
  const failed =
    status === 'failed'
      ? `; failed: ${fields.failures.map((f) => `${f.workflowId}/${f.runId ?? '(current run)'}`).join(', ')}` +
        (totals.failed > fields.failures.length ? ` and ${totals.failed - fields.failures.length} more` : '')
      : '';
  return fitJobState({
    version: JOB_STATE_VERSION,
    jobId: fields.jobId,
    request: wireRequest(parsed.request, fields.remaining),
    ...(parsed.policy === undefined ? {} : { policy: parsed.policy }),
    acceptedUnder: fields.acceptedUnder,
    requestTime: parsed.requestTime.toISOString(),
    provenance: parsed.provenance,
    progress:
      target.kind === 'selector' ? { target: 'selector' } : { target: 'list', remaining: left?.length ?? 1 },
    totals,
    failures: fields.failures, // fitJobState keeps the first JOB_FAILURES_LISTED_MAX
    chunks: fields.chunks,
    status,
    ...(fields.lastProgressAt === undefined ? {} : { lastProgressAt: fields.lastProgressAt.toISOString() }),
    ...(fields.notBefore === undefined
      ? {}
      : { notBefore: wholeSecondAfter(fields.notBefore).toISOString() }),
    ...(fields.asked === undefined ? {} : { asked: fields.asked }),
    ...(fields.recheck === undefined ? {} : { recheck: fields.recheck }),
    // A failed job's summary is its Fail state's cause: kept well inside Step Functions' 32,768 characters.
    summary: clip(`${status}: ${describeTotals(totals)}${failed}`, JOB_SUMMARY_MAX - 32),
  });
}

/**
 * The first whole second at or after `time`: Step Functions' Wait reads only whole seconds of a timestamp, so a
 * fraction would end the wait up to a second early.
 */
export function wholeSecondAfter(time: Date): Date {
  return new Date(Math.ceil(time.getTime() / 1000) * 1000);
}

/** A job's totals before anything was done. */
export const NO_TOTALS: JobTotals = {
  matched: 0,
  terminated: 0,
  alreadyClosed: 0,
  noOpenRun: 0,
  noLongerMatches: 0,
  failed: 0,
  wouldTerminate: 0,
  cancelRequested: 0,
  wouldCancel: 0,
};

/** Two job totals added up (a chunk's own to the job's so far). */
export function addTotals(a: JobTotals, b: JobTotals): JobTotals {
  return {
    matched: a.matched + b.matched,
    terminated: a.terminated + b.terminated,
    alreadyClosed: a.alreadyClosed + b.alreadyClosed,
    noOpenRun: a.noOpenRun + b.noOpenRun,
    noLongerMatches: a.noLongerMatches + b.noLongerMatches,
    failed: a.failed + b.failed,
    wouldTerminate: a.wouldTerminate + b.wouldTerminate,
    cancelRequested: a.cancelRequested + b.cancelRequested,
    wouldCancel: a.wouldCancel + b.wouldCancel,
    ...(a.passedOver === undefined && b.passedOver === undefined
      ? {}
      : { passedOver: (a.passedOver ?? 0) + (b.passedOver ?? 0) }),
  };
}
