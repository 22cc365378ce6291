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
  const runIds = new Set<string>();
  try {
    let pages = 0;
    for await (const page of swf.listOpen({
      domain,
      executionFilter: { workflowId },
      startTimeFilter: { oldestDate: new Date(0), latestDate: requestTime },
    })) {
      for (const info of page) {
        const listed = listedExecution(info);
        if (
          listed !== undefined &&
          listed.workflowId === workflowId &&
          listed.startTimestamp.getTime() <= requestTime.getTime() &&
          info.executionStatus !== 'CLOSED'
        ) {
          runIds.add(listed.runId);
        }
      }
      pages += 1;
      // One page is the rule (one open run at most); a listing that goes on must not outlive the invocation.
      if (pages > 1 && shouldStop()) return OUT_OF_TIME;
    }
  } catch (error: unknown) {
    const classified = classifySwfError(error);
    const reason = classified.kind === 'failed' ? classified.error : 'unexpected UnknownResourceFault';
    return { workflowId, outcome: 'failed', error: `resolving the current run failed: ${reason}` };
  }
  const [runId, ...others] = runIds;
  if (runId === undefined) {
    return { workflowId, outcome: 'no-open-run' };
  }
  if (others.length > 0) {
    // SWF allows one open run per workflowId: more means the listing cannot be trusted.
    return {
      workflowId,
      outcome: 'failed',
      error: `SWF listed ${runIds.size} open runs for one workflowId (${[...runIds].slice(0, 3).join(', ')}); none was terminated`,
    };
  }
  return { workflowId, runId };
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
