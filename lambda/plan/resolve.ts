/**
 * A selector resolved into the runs it matches before anything is acted on, when acting needs the full list
 * first: criteria the listing cannot answer (`stalled`, `idleLongerThanSeconds`: each candidate is described,
 * paced by the Describe bucket, as SWF allows 6 such calls per second per account), and cancelThenTerminate
 * (its job is started with the runs, and records each one it asks). The runs are kept up to the request's
 * allowance; more refuse the request, as for any selector. The runs kept become an explicit list, acted on (and handed to a job) like one.
 * Resolving runs in one invocation: with Describe calls, it is refused up front when the candidates could not
 * all be described in the time it has.
 */
import { activityMatches, needsActivity } from '../match/activity';
import { allowanceOf, type RunOptions, type RunRef, type WorkDeps } from '../work';
import { RecentKeys } from '../match/recent-keys';
import { listingFailure, matchesOf, selectorInput } from '../match/selector';
import { HANDOFF_REQUEST_MAX_BYTES } from '../../lib/contract';
import {
  ActivityCheckTooLongError,
  InvalidRequestError,
  ListingFailedError,
  TooManyExecutionsError,
} from '../errors';
import { wireBytes } from '../job/wire';
import type { ParsedEvent, Selector } from '../types';
import { INLINE_SHARE, type Rate } from './plan';

/** What resolving found: the runs to act on, and how many candidates were described. */
export interface Resolved {
  readonly parsed: ParsedEvent;
  readonly candidates: number;
}

/**
 * Resolves the selector of `options.parsed` into the runs to act on, and answers the request with that
 * explicit list as its target (everything else unchanged).
 *
 * @param workingSeconds the time this invocation has before its end reserve
 * @throws ActivityCheckTooLongError before any Describe call when the candidates (as SWF counts them) could
 *   not all be described in that time; TooManyExecutionsError when more runs match than the allowance;
 *   ListingFailedError when listing or describing fails.
 */
export async function resolveSelector(
  deps: WorkDeps,
  options: RunOptions,
  selector: Selector,
  describe: Rate,
  workingSeconds: number,
): Promise<Resolved> {
  const { parsed } = options;
  const domain = parsed.request.domain;
  const input = selectorInput(domain, selector, parsed.requestTime);
  if (input === undefined) return { parsed: withRuns(parsed, []), candidates: 0 };
  const describes = needsActivity(selector);

  const counted = describes ? await deps.swf.countOpen(input).catch(() => undefined) : undefined;
  if (counted !== undefined && !counted.truncated) {
    const seconds = Math.max(0, counted.count - describe.burst) / describe.ratePerSecond;
    if (seconds > workingSeconds * INLINE_SHARE) {
      throw new ActivityCheckTooLongError(counted.count, seconds, workingSeconds);
    }
  }

  const allowance = allowanceOf(options);
  const runs: RunRef[] = [];
  const recent = new RecentKeys();
  let candidates = 0;
  const pages = deps.swf.listOpen(input);
  try {
    for (;;) {
      await deps.listBucket.take();
      const page = await pages.next();
      if (page.done === true) break;
      const skip = options.settings.action === 'requestCancel';
      for (const run of matchesOf(page.value, selector, parsed.requestTime, recent, skip)) {
        if (options.shouldStop()) {
          throw new ListingFailedError(
            domain,
            `describing the candidates did not finish before the invocation's end reserve (${candidates} described)`,
          );
        }
        candidates += 1;
        if (describes) {
          await deps.describeBucket.take();
          const activity = await deps.swf.describe({ domain, ...run });
          if (activity === 'closed' || !activityMatches(activity, selector, parsed.requestTime)) continue;
        }
        runs.push(run);
        if (runs.length > allowance) {
          throw new TooManyExecutionsError(runs.length, allowance, options.alreadyActedOn, true);
        }
      }
      recent.rotate();
    }
  } catch (error: unknown) {
    await pages.return(undefined);
    if (error instanceof TooManyExecutionsError) throw error;
    throw listingFailure(domain, error, 0);
  }
  const resolved = withRuns(parsed, runs);
  // The runs may have to be handed to a job (time running out): a list a job could not carry is refused now.
  const bytes = wireBytes(resolved.request);
  if (bytes > HANDOFF_REQUEST_MAX_BYTES) {
    throw new InvalidRequestError(
      'selector',
      `matched ${runs.length} runs, ${bytes} bytes as a list, over the ${HANDOFF_REQUEST_MAX_BYTES} bytes a job ` +
        'carries; nothing was done (narrow the selector, or lower maxExecutions)',
    );
  }
  return { parsed: resolved, candidates };
}

/** The request with `runs` as its target, in place of the selector. */
function withRuns(parsed: ParsedEvent, runs: readonly RunRef[]): ParsedEvent {
  return {
    ...parsed,
    request: {
      ...parsed.request,
      target: {
        kind: 'list',
        executions: runs.map((run) => ({ workflowId: run.workflowId, runId: run.runId })),
      },
    },
  };
}
