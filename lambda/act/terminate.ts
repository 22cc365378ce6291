/**
 * The act stage's entry: one request's (or one chunk's) terminations or cancel requests, through the pacing
 * pipeline. An
 * explicit list is walked in order (lambda/act/list.ts); a selector is listed page by page while earlier
 * pages are terminated (lambda/act/selector-run.ts). When `shouldStop()` says so, no new work starts and what
 * is left is returned, for the caller to hand to a job.
 */
import type { WorkDeps, RunOptions, RunResult } from '../work';
import { runList } from './list';
import { runSelector } from './selector-run';

/** Runs the request, after the plan stage (lambda/plan/plan.ts) approved it. */
export async function runRequest(deps: WorkDeps, options: RunOptions): Promise<RunResult> {
  const target = options.parsed.request.target;
  if (target.kind === 'selector') return runSelector(deps, options, target.selector);
  return runList(deps, options, target.kind === 'single' ? [target.execution] : target.executions);
}
