/**
 * A selector's terminations: the open executions it matches, listed page by page (1000 at a time, paced by
 * the List bucket) while the runs of earlier pages are already being terminated. At most about two pages are
 * held, so memory stays flat however many match; every listed run is re-checked against every criterion.
 */
import type { WorkflowExecutionInfo } from '@aws-sdk/client-swf';
import { LIST_PAGE_SIZE, type ListOpenInput } from '../aws/swf';
import { ListingFailedError } from '../errors';
import type { Selector } from '../types';
import { allowanceOf, type RunOptions, type RunRef, type RunResult, type WorkDeps } from '../work';
import { RecentKeys } from '../match/recent-keys';
import { type PipelineSource, runPipeline } from './pipeline';
import { listingFailure, matchesOf, selectorInput } from '../match/selector';
import { actor, paced } from './actor';

/**
 * The selector's matches, as the pipeline's source: the next page is fetched while fewer than a page of
 * matches is buffered. Yields at most `allowance` runs; `overflow` tells whether more matched.
 */
class SelectorSource implements PipelineSource<RunRef> {
  private buffer: RunRef[] = [];
  private head = 0;
  private fetching: Promise<void> | undefined;
  private exhausted = false;
  private failure: { error: unknown } | undefined;
  private readonly recent = new RecentKeys();
  private readonly pages: AsyncGenerator<readonly WorkflowExecutionInfo[]>;
  private yielded = 0;
  /** Set by {@link cancel}: no more pages are fetched, and a page that arrives late is dropped. */
  private closed = false;
  overflow = false;

  constructor(
    private readonly deps: WorkDeps,
    input: ListOpenInput,
    private readonly selector: Selector,
    private readonly requestTime: Date,
    private readonly allowance: number,
    /** requestCancel: runs already asked to cancel are left out (asking again changes nothing). */
    private readonly cancels: boolean,
  ) {
    this.pages = deps.swf.listOpen(input);
  }

  /** Stops the listing: the pipeline stopped while waiting for a page (the job's next chunk lists again). */
  cancel(): void {
    this.closed = true;
    this.exhausted = true;
  }

  async next(): Promise<RunRef | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      if (this.failure !== undefined) throw this.failure.error;
      this.prefetch();
      const run = this.buffer[this.head];
      if (run !== undefined) {
        this.head += 1;
        this.yielded += 1;
        return run;
      }
      if (this.fetching === undefined) return undefined;
      await this.fetching;
    }
  }

  /** Starts fetching the next page when fewer than a page of matches is buffered. */
  private prefetch(): void {
    if (this.exhausted || this.fetching !== undefined || this.buffer.length - this.head >= LIST_PAGE_SIZE)
      return;
    this.fetching = this.fetchPage().then(
      () => {
        this.fetching = undefined;
      },
      (error: unknown) => {
        this.fetching = undefined;
        this.exhausted = true;
        this.failure = { error };
      },
    );
  }

  /** Read through a call: `cancel()` may come while a fetch is awaiting its page. */
  private isClosed(): boolean {
    return this.closed;
  }

  private async fetchPage(): Promise<void> {
    await this.deps.listBucket.take();
    if (this.isClosed()) return;
    const page = await this.pages.next();
    if (this.isClosed()) {
      await this.pages.return(undefined);
      return;
    }
    if (page.done === true) {
      this.exhausted = true;
      return;
    }
    this.buffer = this.buffer.slice(this.head);
    this.head = 0;
    for (const run of matchesOf(page.value, this.selector, this.requestTime, this.recent, this.cancels)) {
      if (this.yielded + this.buffer.length >= this.allowance) {
        this.overflow = true;
        this.exhausted = true;
        break;
      }
      this.buffer.push(run);
    }
    this.recent.rotate();
  }
}

/** Runs the selector, after the plan stage counted it (lambda/plan/plan.ts). */
export async function runSelector(
  deps: WorkDeps,
  options: RunOptions,
  selector: Selector,
): Promise<RunResult> {
  const input = selectorInput(options.parsed.request.domain, selector, options.parsed.requestTime);
  if (input === undefined) return { done: true };
  const source = new SelectorSource(
    deps,
    input,
    selector,
    options.parsed.requestTime,
    allowanceOf(options),
    options.settings.action === 'requestCancel',
  );
  const terminate = actor(deps, options);
  let actedOn = 0;
  let result;
  try {
    result = await runPipeline<RunRef>({
      source,
      act: (run) => {
        actedOn += 1;
        return terminate(run);
      },
      ...paced(deps, options),
      shouldStop: options.shouldStop,
    });
  } catch (error: unknown) {
    throw listingFailure(input.domain, error, actedOn);
  }
  if (source.overflow) {
    // The listing showed more matches than the count approved (SWF's listing is eventually consistent).
    // Stopping quietly would leave matched executions running under a report of success: fail loudly,
    // after the work in flight, so the request ends in the failure destination with this reason. A retry
    // counts again and refuses the request if the count is now over the limit.
    throw new ListingFailedError(
      input.domain,
      `more executions matched than the ${options.settings.limit} that were counted and approved ` +
        `(${options.alreadyActedOn} acted on by earlier invocations); stopped at the limit and left the rest open`,
      actedOn,
    );
  }
  const finished = !result.stopped && result.requeued.length === 0;
  if (!finished && options.settings.dryRun) {
    // A preview terminates nothing, so listing again in a later chunk would find the same executions: it
    // is never handed on. It fails instead, loudly, with what it reported so far in the logs.
    throw new ListingFailedError(
      input.domain,
      "the preview did not list every match before the invocation's end reserve; a preview is not continued " +
        '(narrow the selector, or give the function a longer timeout)',
      actedOn,
    );
  }
  return finished ? { done: true } : { done: false };
}
