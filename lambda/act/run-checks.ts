/**
 * What a run is checked against just before it is acted on, each a call to SWF: a run-less entry's current
 * open run (a List call), and the run's facts against what matched it (a List or a Describe call: a policy's
 * match, a stalled / idle match). Each answers the run to act on, or the outcome to record instead.
 */
import type { WorkflowExecutionInfo } from '@aws-sdk/client-swf';
import { listingErrorText, type RunActivity, type SwfPort } from '../aws/swf';
import { isThrottlingError } from '../aws/swf-client';
import type { ExecutionReport, Selector } from '../types';
import { activityMatches, needsActivity } from '../match/activity';
import type { WorkDeps, RunOptions, RunRef } from '../work';
import { listedExecution, matchesSelector } from '../match/selector';

/**
 * A check that could not finish, or finished too late to act: the invocation's end reserve came, or SWF still
 * throttled the call after its retries. The entry is put back (and handed on to the job when time runs out),
 * never recorded as failed for it.
 */
export const OUT_OF_TIME = Symbol('out of time');

/**
 * A run confirmed against what it was matched by, from SWF's own facts just before it is acted on: a policy's
 * run (an SWF event names it, or a job carries it) against the policy's whole match, and a stalled / idle
 * match against those criteria (it may have resumed since it was described). One call: a Describe when the
 * match reads the run's activity, else a List of its workflowId. `true` when it still matches; else what to
 * record: `already-closed` (not open, or another run is), `no-longer-matches` (it does not match now, or,
 * for requestCancel, it was asked to cancel already), or `failed` when SWF could not be asked.
 */
export async function confirmRun(
  deps: WorkDeps,
  options: RunOptions,
  run: RunRef,
  selector: Selector,
): Promise<true | ExecutionReport | typeof OUT_OF_TIME> {
  const { domain } = options.parsed.request;
  const { requestTime } = options.parsed;
  const ref = { workflowId: run.workflowId, runId: run.runId };
  let info: WorkflowExecutionInfo | undefined;
  let activity: RunActivity | undefined;
  try {
    if (needsActivity(selector)) {
      await deps.describeBucket.take();
      const described = await deps.swf.describe({ domain, ...run });
      if (described !== 'closed') {
        info = described.info;
        activity = described;
      }
    } else {
      await deps.listBucket.take();
      // Every open run of the workflowId, whenever it started: the match's own window judges its start.
      const runs = await openRunsOf(deps.swf, domain, run.workflowId, undefined, options.shouldStop);
      if (runs === OUT_OF_TIME) return OUT_OF_TIME;
      info = runs.get(run.runId);
    }
  } catch (error: unknown) {
    if (isThrottlingError(error)) return OUT_OF_TIME;
    return {
      ...ref,
      outcome: 'failed',
      error: `reading it from SWF before acting failed: ${listingErrorText(error)}; not acted on`,
    };
  }
  if (info === undefined || info.executionStatus === 'CLOSED') return { ...ref, outcome: 'already-closed' };
  const asksAgain = options.settings.action === 'requestCancel' && info.cancelRequested === true;
  const matches =
    matchesSelector(info, selector, requestTime) &&
    (activity === undefined || activityMatches(activity, selector, requestTime));
  return matches && !asksAgain ? true : { ...ref, outcome: 'no-longer-matches' };
}

/** A workflowId's open runs as SWF lists them now, by runId. */
type OpenRuns = Map<string, WorkflowExecutionInfo>;

/**
 * Lists the open runs of `workflowId` that started no later than `latest` (any, without it): one List call,
 * paced by the caller.
 * {@link OUT_OF_TIME} when `shouldStop()` turned true before the listing ended. Throws what the listing threw.
 */
async function openRunsOf(
  swf: SwfPort,
  domain: string,
  workflowId: string,
  latest: Date | undefined,
  shouldStop: () => boolean,
): Promise<OpenRuns | typeof OUT_OF_TIME> {
  const runs: OpenRuns = new Map();
  let pages = 0;
  for await (const page of swf.listOpen({
    domain,
    executionFilter: { workflowId },
    startTimeFilter: { oldestDate: new Date(0), ...(latest === undefined ? {} : { latestDate: latest }) },
  })) {
    for (const info of page) {
      const listed = listedExecution(info);
      if (
        listed !== undefined &&
        listed.workflowId === workflowId &&
        (latest === undefined || listed.startTimestamp.getTime() <= latest.getTime()) &&
        info.executionStatus !== 'CLOSED'
      ) {
        runs.set(listed.runId, info);
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

/** Why cancelThenTerminate left a run open: SWF shows no cancel request on it. */
export const NOT_ASKED_ERROR =
  'not terminated: SWF shows no cancel request on this run, and cancelThenTerminate terminates only runs it ' +
  'asked to cancel';

/**
 * cancelThenTerminate's second step: a run the job's record says it asked is terminated only if SWF shows it
 * open AND asked to cancel (one List call). The record travels in the job's state, which anyone who may
 * invoke the function could write: SWF's word is the check. `already-closed` when it is no longer open;
 * `failed` (with {@link NOT_ASKED_ERROR}) when SWF shows no cancel request.
 */
async function askedToCancel(
  deps: WorkDeps,
  options: RunOptions,
  run: RunRef,
): Promise<true | ExecutionReport | typeof OUT_OF_TIME> {
  const ref = { workflowId: run.workflowId, runId: run.runId };
  let runs: OpenRuns | typeof OUT_OF_TIME;
  try {
    await deps.listBucket.take();
    runs = await openRunsOf(
      deps.swf,
      options.parsed.request.domain,
      run.workflowId,
      undefined,
      options.shouldStop,
    );
  } catch (error: unknown) {
    if (isThrottlingError(error)) return OUT_OF_TIME;
    return {
      ...ref,
      outcome: 'failed',
      error: `checking its cancel request failed: ${listingErrorText(error)}; not terminated`,
    };
  }
  if (runs === OUT_OF_TIME) return OUT_OF_TIME;
  const info = runs.get(run.runId);
  if (info === undefined) return { ...ref, outcome: 'already-closed' };
  return info.cancelRequested === true ? true : { ...ref, outcome: 'failed', error: NOT_ASKED_ERROR };
}

/**
 * What a concrete run meets just before it is first acted on, each paced by its call's bucket: the
 * confirmation against what matched it (`options.confirm`), and for cancelThenTerminate's second step SWF's
 * record of its cancel request (`options.askedOnly`). `true` when it may be acted on; else what to record,
 * or {@link OUT_OF_TIME} (hand the run on).
 */
export async function checkBeforeActing(
  deps: WorkDeps,
  options: RunOptions,
  run: RunRef,
): Promise<true | ExecutionReport | typeof OUT_OF_TIME> {
  const { confirm } = options;
  if (options.askedOnly !== true && confirm === undefined) return true;
  const confirmed =
    confirm === undefined || options.askedOnly === true
      ? await askedToCancel(deps, options, run)
      : await confirmRun(deps, options, run, confirm);
  if (confirmed !== true) return confirmed;
  // The check waited for its bucket and SWF (throttling retries included): if the end reserve has come
  // meanwhile, hand the run on rather than start acting on it now.
  return options.shouldStop() ? OUT_OF_TIME : true;
}
