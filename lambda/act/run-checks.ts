/**
 * What a run is checked against just before it is acted on, each a call to SWF: a run-less entry's current
 * open run (a List call), whether cancelThenTerminate's follow-up may terminate it (SWF shows it asked to
 * cancel: a List call), and whether a stalled / idle match still holds (a Describe call). Each answers the
 * run to act on, or the outcome to record instead.
 */
import { listingErrorText, type SwfPort } from '../aws/swf';
import { isThrottlingError } from '../aws/swf-client';
import type { ActivityCriteria, ExecutionReport } from '../types';
import { activityMatches } from './activity';
import type { CoreDeps, RunOptions, RunRef } from './core';
import { listedExecution } from './selector';

/**
 * A check that could not finish, or finished too late to act: the invocation's end reserve came, or SWF still
 * throttled the call after its retries. The entry is put back (and handed on to the job when time runs out),
 * never recorded as failed for it.
 */
export const OUT_OF_TIME = Symbol('out of time');

/**
 * A run a stalled / idle selector matched, described again just before it is acted on (the match was read
 * when the selector was resolved, up to minutes before): `true` when it still meets the criteria, else what
 * to record: `no-longer-matches` (it resumed), `already-closed`, or `failed` when it could not be described.
 */
export async function stillMatches(
  swf: SwfPort,
  domain: string,
  run: RunRef,
  criteria: ActivityCriteria,
  requestTime: Date,
): Promise<true | ExecutionReport | typeof OUT_OF_TIME> {
  const ref = { workflowId: run.workflowId, runId: run.runId };
  let activity;
  try {
    activity = await swf.describe({ domain, ...run });
  } catch (error: unknown) {
    if (isThrottlingError(error)) return OUT_OF_TIME;
    return {
      ...ref,
      outcome: 'failed',
      error: `describing it again before acting failed: ${listingErrorText(error)}; not acted on`,
    };
  }
  if (activity === 'closed') return { ...ref, outcome: 'already-closed' };
  return activityMatches(activity, criteria, requestTime) ? true : { ...ref, outcome: 'no-longer-matches' };
}

/** Why the follow-up left a run open: SWF shows no cancel request on it. */
export const NOT_ASKED_ERROR =
  'not terminated: SWF shows no cancel request for this run (asking it failed or never happened), and ' +
  'cancelThenTerminate terminates only runs it asked to cancel';

/** A workflowId's open runs as SWF lists them now: runId → whether a cancel was requested. */
type OpenRuns = Map<string, { readonly cancelRequested: boolean }>;

/**
 * Lists the open runs of `workflowId` that started no later than `latest` (one List call, paced by the caller).
 * {@link OUT_OF_TIME} when `shouldStop()` turned true before the listing ended. Throws what the listing threw.
 */
async function openRunsOf(
  swf: SwfPort,
  domain: string,
  workflowId: string,
  latest: Date,
  shouldStop: () => boolean,
): Promise<OpenRuns | typeof OUT_OF_TIME> {
  const runs: OpenRuns = new Map();
  let pages = 0;
  for await (const page of swf.listOpen({
    domain,
    executionFilter: { workflowId },
    startTimeFilter: { oldestDate: new Date(0), latestDate: latest },
  })) {
    for (const info of page) {
      const listed = listedExecution(info);
      if (
        listed !== undefined &&
        listed.workflowId === workflowId &&
        listed.startTimestamp.getTime() <= latest.getTime() &&
        info.executionStatus !== 'CLOSED'
      ) {
        runs.set(listed.runId, { cancelRequested: info.cancelRequested === true });
      }
    }
    pages += 1;
    // One page is the rule (one open run at most); a listing that goes on must not outlive the invocation.
    if (pages > 1 && shouldStop()) return OUT_OF_TIME;
  }
  return runs;
}

/**
 * Finds the current open run of a workflowId that started no later than the request time.
 * A re-delivered event therefore never terminates a newer run started after the request was made.
 * No such run: `no-open-run` (closed, never started, or started so recently that SWF's eventually consistent
 * listing does not show it yet). Listing errors and an ambiguous answer: `failed`. {@link OUT_OF_TIME} when
 * `shouldStop()` turned true before the listing ended (the entry is handed on unresolved).
 */
export async function resolveCurrentRun(
  swf: SwfPort,
  domain: string,
  workflowId: string,
  requestTime: Date,
  shouldStop: () => boolean,
): Promise<RunRef | ExecutionReport | typeof OUT_OF_TIME> {
  let runs: OpenRuns | typeof OUT_OF_TIME;
  try {
    runs = await openRunsOf(swf, domain, workflowId, requestTime, shouldStop);
  } catch (error: unknown) {
    return {
      workflowId,
      outcome: 'failed',
      error: `resolving the current run failed: ${listingErrorText(error)}`,
    };
  }
  if (runs === OUT_OF_TIME) return OUT_OF_TIME;
  const [runId, ...others] = runs.keys();
  if (runId === undefined) {
    return { workflowId, outcome: 'no-open-run' };
  }
  if (others.length > 0) {
    // SWF allows one open run per workflowId: more means the listing cannot be trusted.
    return {
      workflowId,
      outcome: 'failed',
      error: `SWF listed ${runs.size} open runs for one workflowId (${[...runs.keys()].slice(0, 3).join(', ')}); none was terminated`,
    };
  }
  return { workflowId, runId };
}

/**
 * cancelThenTerminate's follow-up terminates a run only if SWF shows it was asked to cancel: a run whose
 * cancel request failed, or was never made (the asking failed or was aborted before it), is not terminated
 * but reported `failed` with that reason, so the follow-up ends failed and names it. `true` when the run is
 * open and was asked; `already-closed` when it is no longer listed open (it was open when asked).
 */
export async function askedToCancel(
  swf: SwfPort,
  domain: string,
  run: RunRef,
  requestTime: Date,
  shouldStop: () => boolean,
): Promise<true | ExecutionReport | typeof OUT_OF_TIME> {
  const ref = { workflowId: run.workflowId, runId: run.runId };
  let runs: OpenRuns | typeof OUT_OF_TIME;
  try {
    runs = await openRunsOf(swf, domain, run.workflowId, requestTime, shouldStop);
  } catch (error: unknown) {
    if (isThrottlingError(error)) return OUT_OF_TIME;
    return {
      ...ref,
      outcome: 'failed',
      error: `checking for its cancel request failed: ${listingErrorText(error)}; not terminated`,
    };
  }
  if (runs === OUT_OF_TIME) return OUT_OF_TIME;
  const listed = runs.get(run.runId);
  if (listed === undefined) return { ...ref, outcome: 'already-closed' };
  if (!listed.cancelRequested) {
    return { ...ref, outcome: 'failed', error: NOT_ASKED_ERROR };
  }
  return true;
}

/**
 * The checks a concrete run meets just before it is acted on, each paced by its call's bucket: a follow-up's
 * cancel request, then a stalled / idle match. `true` when it may be acted on; else what to record, or
 * {@link OUT_OF_TIME} (hand the run on).
 */
export async function checkBeforeActing(
  deps: CoreDeps,
  options: RunOptions,
  run: RunRef,
): Promise<true | ExecutionReport | typeof OUT_OF_TIME> {
  const { domain } = options.parsed.request;
  const { requestTime } = options.parsed;
  let called = false;
  if (options.askedToCancelOnly === true) {
    await deps.listBucket.take();
    const asked = await askedToCancel(deps.swf, domain, run, requestTime, options.shouldStop);
    if (asked !== true) return asked;
    called = true;
  }
  if (options.recheck !== undefined && !options.settings.dryRun) {
    await deps.describeBucket.take();
    const still = await stillMatches(deps.swf, domain, run, options.recheck, requestTime);
    if (still !== true) return still;
    called = true;
  }
  // A check waited for its bucket and SWF (throttling retries included): if the end reserve has come
  // meanwhile, hand the run on rather than start acting on it now.
  return called && options.shouldStop() ? OUT_OF_TIME : true;
}
