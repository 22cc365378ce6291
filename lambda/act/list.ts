/**
 * An explicit list (or one execution), walked in order through the pacing pipeline. Just before a run is
 * acted on it meets the checks of lambda/act/run-checks.ts: a run-less entry is resolved to its current open
 * run (so a re-delivered request never reaches a run started after the request was made), and the run is
 * read from SWF where what matched it must still hold (a policy's match, a stalled / idle match) or, for
 * cancelThenTerminate's second step, where SWF must show it asked to cancel.
 */
import type { ExecutionRef, ExecutionReport } from '../types';
import type { WorkDeps, RunOptions, RunRef, RunResult } from '../work';
import { runKey } from '../match/recent-keys';
import { type ItemResult, runPipeline } from './pipeline';
import { checkBeforeActing, OUT_OF_TIME, resolveCurrentRun } from './run-checks';
import { actor, paced } from './actor';

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
  deps: WorkDeps,
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
    const checked = await checkBeforeActing(deps, options, run);
    if (checked === OUT_OF_TIME) return { retryAs: { ...run, retry: true } };
    if (checked !== true) {
      record(checked);
      return 'done';
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
