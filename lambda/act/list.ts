/**
 * An explicit list (or one execution), walked in order through the pacing pipeline. A run-less entry is
 * resolved to its current open run (a List call, paced by its own bucket) just before it is terminated, so a
 * re-delivered request never reaches a run started after the request was made.
 */
import { classifySwfError, type SwfPort } from '../aws/swf';
import type { ExecutionRef, ExecutionReport } from '../types';
import type { CoreDeps, RunOptions, RunRef, RunResult } from './core';
import { type ItemResult, runKey, runPipeline } from './pipeline';
import { listedExecution } from './selector';
import { actor, paced } from './terminate';

export const OUT_OF_TIME = Symbol('out of time');

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

/** The reason a listing failed, as a run's failure says it. */
function listingError(error: unknown): string {
  const classified = classifySwfError(error);
  return classified.kind === 'failed' ? classified.error : 'unexpected UnknownResourceFault';
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
      error: `resolving the current run failed: ${listingError(error)}`,
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
    return {
      ...ref,
      outcome: 'failed',
      error: `checking for its cancel request failed: ${listingError(error)}; not terminated`,
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

function isRunRef(value: RunRef | ExecutionReport): value is RunRef {
  return !('outcome' in value);
}

/** An entry of an explicit list in the pipeline; `retry` marks a re-queued one (already de-duplicated). */
interface ListItem {
  readonly workflowId: string;
  readonly runId?: string;
  readonly retry?: true;
}

/** Runs the list; what is left when `shouldStop()` turned true comes back, re-queued entries first. */
export async function runList(
  deps: CoreDeps,
  options: RunOptions,
  named: readonly ExecutionRef[],
): Promise<RunResult> {
  const { parsed, record } = options;
  const terminate = actor(deps, options);
  // { workflowId } and { workflowId, runId } may resolve to the same run: act on it once. Bounded by the
  // list, which is in memory anyway.
  const acted = new Set<string>();
  const act = async (item: ListItem): Promise<ItemResult<ListItem>> => {
    let run: RunRef;
    if (item.runId === undefined) {
      await deps.listBucket.take();
      const resolved = await resolveCurrentRun(
        deps.swf,
        parsed.request.domain,
        item.workflowId,
        parsed.requestTime,
        options.shouldStop,
      );
      if (resolved === OUT_OF_TIME) return { retryAs: item };
      if (!isRunRef(resolved)) {
        record(resolved);
        return 'done';
      }
      // Resolving took a List call (retried when throttled): if the invocation's end reserve has come
      // meanwhile, hand the resolved run on rather than start its termination now.
      if (options.shouldStop()) {
        return { retryAs: { workflowId: resolved.workflowId, runId: resolved.runId, retry: true } };
      }
      run = resolved;
    } else {
      run = { workflowId: item.workflowId, runId: item.runId };
    }
    if (item.retry === undefined) {
      const key = runKey(run.workflowId, run.runId);
      if (acted.has(key)) return 'done';
      acted.add(key);
    }
    if (options.askedToCancelOnly === true) {
      await deps.listBucket.take();
      const asked = await askedToCancel(
        deps.swf,
        parsed.request.domain,
        run,
        parsed.requestTime,
        options.shouldStop,
      );
      if (asked === OUT_OF_TIME) return { retryAs: { ...run, retry: true } };
      if (asked !== true) {
        record(asked);
        return 'done';
      }
    }
    const result = await terminate(run);
    // Re-queued with its resolved run, so it is neither resolved nor de-duplicated again.
    return result === 'retry'
      ? { retryAs: { workflowId: run.workflowId, runId: run.runId, retry: true } }
      : result;
  };

  let offset = 0;
  const result = await runPipeline<ListItem>({
    source: { next: () => Promise.resolve(named[offset++]) },
    act,
    ...paced(deps, options),
    shouldStop: options.shouldStop,
  });
  if (!result.stopped && result.requeued.length === 0) return { done: true };

  const remaining: ExecutionRef[] = [];
  const seen = new Set<string>();
  const keep = (e: ExecutionRef) => {
    const key = runKey(e.workflowId, e.runId ?? '');
    if (seen.has(key)) return;
    seen.add(key);
    remaining.push(
      e.runId === undefined ? { workflowId: e.workflowId } : { workflowId: e.workflowId, runId: e.runId },
    );
  };
  for (const item of result.requeued) keep(item);
  for (const entry of named.slice(Math.min(offset, named.length))) keep(entry);
  return remaining.length === 0 ? { done: true } : { done: false, remaining };
}
