/**
 * The act stage's entry: one request's (or one chunk's) terminations, through the pacing pipeline. An
 * explicit list is walked in order (lambda/act/list.ts); a selector is listed page by page while earlier
 * pages are terminated (lambda/act/selector-run.ts). When `shouldStop()` says so, no new work starts and what
 * is left is returned, for the caller to hand to a job.
 */
import { terminationDetails } from './provenance';
import type { CoreDeps, RunOptions, RunRef, RunResult } from './core';
import { runList } from './list';
import { runSelector } from './selector-run';

/** Runs the request, after the plan stage (lambda/plan/plan.ts) approved it. */
export async function runRequest(deps: CoreDeps, options: RunOptions): Promise<RunResult> {
  const target = options.parsed.request.target;
  if (target.kind === 'selector') return runSelector(deps, options, target.selector);
  return runList(deps, options, target.kind === 'single' ? [target.execution] : target.executions);
}

/**
 * The terminate call for one run, recorded; 'retry' when SWF throttled it (it goes back in the queue, and
 * the pacer slows down). In a preview, no call: the run is recorded as one that would be terminated.
 */
export function terminator(deps: CoreDeps, options: RunOptions): (run: RunRef) => Promise<'done' | 'retry'> {
  const { parsed, settings, invocation, record } = options;
  if (settings.dryRun) {
    return (run) => {
      record({ workflowId: run.workflowId, runId: run.runId, outcome: 'would-terminate' });
      return Promise.resolve('done');
    };
  }
  const { reason, childPolicy } = settings;
  const details = terminationDetails(settings.details, parsed.provenance, invocation);
  const { swf, pacer } = deps;
  return async (run) => {
    const started = performance.now();
    const result = await swf.terminate({
      domain: parsed.request.domain,
      workflowId: run.workflowId,
      runId: run.runId,
      reason,
      details,
      ...(childPolicy === undefined ? {} : { childPolicy }),
    });
    if (result.kind === 'throttled') {
      pacer.throttled();
      return 'retry';
    }
    pacer.observe(performance.now() - started);
    record(
      result.kind === 'failed'
        ? { workflowId: run.workflowId, runId: run.runId, outcome: 'failed', error: result.error }
        : { workflowId: run.workflowId, runId: run.runId, outcome: result.kind },
    );
    return 'done';
  };
}

/** Calls at once in a preview: no terminate call to pace (List calls have their own bucket). */
const PREVIEW_CONCURRENCY = 10;

/** How the pipeline paces this request: by the terminate pacer, or (a preview) not at all. */
export function paced(deps: CoreDeps, options: RunOptions) {
  return options.settings.dryRun
    ? { inFlightLimit: () => PREVIEW_CONCURRENCY }
    : { acquire: () => deps.pacer.acquire(), inFlightLimit: () => deps.pacer.inFlightLimit() };
}
