/**
 * The plan stage: before anything is acted on, count what a request (or what is left of a job) names or
 * matches, refuse it over its limit, and time it at the rate one invocation may use, to decide whether it is
 * answered inline or runs as a job. Every invocation plans, a job's chunk as much as a new request.
 */
import { MAX_JOB_CHUNKS } from '../../lib/contract';
import { allowanceOf, type RunOptions, type WorkDeps } from '../work';
import { RecentKeys } from '../match/recent-keys';
import { listingFailure, matchesOf, selectorInput } from '../match/selector';
import { LIST_PAGE_SIZE, type ListOpenInput } from '../aws/swf';
import type { Config } from '../config';
import { describeError, JobTooLongError, ListingFailedError, TooManyExecutionsError } from '../errors';
import type { JobSettings, Selector } from '../types';

/** What a request (or what is left of a job) amounts to, counted before anything is acted on. */
export interface Plan {
  /** Executions named, or matching now (a selector's count: an upper bound, the re-check may drop some). */
  readonly executions: number;
  /** List calls acting will take: a run resolution per run-less entry, a page per 1000 matches. */
  readonly listCalls: number;
}

function tooMany(options: RunOptions, count: number): TooManyExecutionsError {
  return new TooManyExecutionsError(count, allowanceOf(options), options.alreadyActedOn);
}

/**
 * Counts what the request names or matches and refuses it when that is more than the job's limit leaves
 * (TooManyExecutionsError, with nothing acted on). ListingFailedError when counting by listing fails.
 */
export async function planRequest(deps: WorkDeps, options: RunOptions): Promise<Plan> {
  const { request, requestTime } = options.parsed;
  const target = request.target;
  if (target.kind === 'selector') {
    const input = selectorInput(request.domain, target.selector, requestTime);
    if (input === undefined) return { executions: 0, listCalls: 0 };
    const executions = await countSelector(deps, options, target.selector, input);
    return { executions, listCalls: Math.ceil(executions / LIST_PAGE_SIZE) + 1 };
  }
  const named = target.kind === 'single' ? [target.execution] : target.executions;
  if (named.length > allowanceOf(options)) throw tooMany(options, named.length);
  return { executions: named.length, listCalls: named.filter((e) => e.runId === undefined).length };
}

/**
 * Counts the selector's matches without keeping them: CountOpenWorkflowExecutions first (an upper bound:
 * the client-side re-check can only remove entries), and only when that is over the allowance, truncated or
 * unavailable, a counting pass over the listing. A counting pass that does not end before the invocation's
 * end reserve fails the request.
 */
async function countSelector(
  deps: WorkDeps,
  options: RunOptions,
  selector: Selector,
  input: ListOpenInput,
): Promise<number> {
  const limit = allowanceOf(options);
  let upperBound: { count: number; truncated: boolean } | undefined;
  try {
    upperBound = await deps.swf.countOpen(input);
  } catch (error: unknown) {
    options.warn('counting open executions failed; counting by listing instead', {
      error: describeError(error),
    });
  }
  if (upperBound !== undefined && !upperBound.truncated && upperBound.count <= limit) return upperBound.count;

  const recent = new RecentKeys();
  let count = 0;
  let pageCount = 0;
  const pages = deps.swf.listOpen(input);
  try {
    for (;;) {
      if (pageCount > 0 && options.shouldStop()) {
        throw new ListingFailedError(
          input.domain,
          `counting the matches did not finish before the invocation's end reserve (${pageCount} pages, ` +
            `${count} matches so far)`,
        );
      }
      await deps.listBucket.take();
      const page = await pages.next();
      if (page.done === true) break;
      pageCount += 1;
      const skip = options.settings.action === 'requestCancel';
      count += Array.from(matchesOf(page.value, selector, options.parsed.requestTime, recent, skip)).length;
      recent.rotate();
    }
  } catch (error: unknown) {
    await pages.return(undefined);
    throw listingFailure(input.domain, error, 0);
  }
  if (count > limit) throw tooMany(options, count);
  return count;
}

/**
 * The share of an invocation's working time an inline request may be planned to take (the rest absorbs
 * latency and throttling the plan did not foresee; past it, the rest is handed to a job anyway).
 */
export const INLINE_SHARE = 0.8;

/** A rate and its burst. */
export interface Rate {
  readonly ratePerSecond: number;
  readonly burst: number;
}

/** The rates one invocation may use (the configured totals divided among the rate shares), per SWF API. */
export interface Rates {
  readonly terminate: Rate;
  readonly cancel: Rate;
  readonly list: Rate;
  readonly describe: Rate;
}

/**
 * Seconds acting on `plan` takes at `rates` (after their bursts): the action's calls (terminate, or cancel
 * requests; cancelThenTerminate's terminations come later, in their own job) and the List calls. A preview
 * makes no such call.
 */
export function estimateSeconds(plan: Plan, settings: JobSettings, rates: Rates): number {
  const calls = settings.action === 'terminate' ? rates.terminate : rates.cancel;
  const acting = settings.dryRun ? 0 : Math.max(0, plan.executions - calls.burst) / calls.ratePerSecond;
  return acting + Math.max(0, plan.listCalls - rates.list.burst) / rates.list.ratePerSecond;
}

/**
 * Inline or a job: inline when the estimate fits the share of the working time this invocation has left
 * (`workingSeconds`, Infinity without a deadline), or when it cannot be a job (a preview of a selector: listing
 * again in a later chunk would find the same executions). A request that would take longer than a job may run
 * is refused (JobTooLongError).
 */
export function decide(
  seconds: number,
  workingSeconds: number,
  settings: JobSettings,
  target: string,
  config: Config,
): 'inline' | 'job' {
  const maxJobSeconds = MAX_JOB_CHUNKS * config.jobChunkSeconds * INLINE_SHARE;
  if (seconds > maxJobSeconds) throw new JobTooLongError(seconds, maxJobSeconds);
  return seconds <= workingSeconds * INLINE_SHARE || (settings.dryRun && target === 'selector')
    ? 'inline'
    : 'job';
}
