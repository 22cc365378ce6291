/**
 * The core: run one request (or the part of it this invocation can do) through the pacing pipeline.
 *
 * - An explicit list (or one execution) is walked in order; runless entries are resolved to their current
 *   open run (a List call, paced by its own small bucket) just before they are terminated.
 * - A selector is counted first (CountOpenWorkflowExecutions, then a counting pass when the count is not
 *   conclusive) so that a request over its limit is refused with nothing terminated; then it is listed page
 *   by page while terminations proceed (a pipeline, at most ~2 pages buffered). A job's chunk counts too,
 *   against what the job's limit leaves after the executions earlier invocations acted on.
 * - Every terminate call waits for a pacing token; a throttled one is re-queued, never failed.
 * - When `shouldStop()` says the invocation's time is running out, no new work starts; what is left is
 *   returned so the caller can hand it to a job. Every listing loop checks it too, so none outlives
 *   the invocation (a preview of a selector, which cannot be continued, then fails instead).
 *
 * SWF is reached only through {@link SwfPort}; memory is flat in the number of matches (the report list is
 * capped, de-duplication remembers two pages of keys).
 */
import { describeError, ListingFailedError, TooManyExecutionsError } from './errors';
import { monotonicMs, type Pacer, type TokenBucket } from './pacer';
import { type ItemResult, RecentKeys, runKey, runPipeline } from './pipeline';
import { type ActingInvocation, terminationDetails } from './provenance';
import type { ExecutionReport } from './report';
import type { ExecutionRef, ParsedEvent, Selector } from './request';
import type { JobSettings } from './settings';
import { isEmptyWindow, listedExecution, listFilterFor, matchesSelector, startWindow } from './selector';
import { classifySwfError, LIST_PAGE_SIZE, type ListOpenInput, type SwfPort } from './swf';

/** A concrete run to terminate. */
export interface RunRef {
  readonly workflowId: string;
  readonly runId: string;
}

export interface CoreDeps {
  readonly swf: SwfPort;
  /** Paces TerminateWorkflowExecution (module scope: shared by warm invocations of one container). */
  readonly pacer: Pacer;
  /** Paces List calls (selector pages, run resolution): ListOpenWorkflowExecutions has its own quota. */
  readonly listBucket: TokenBucket;
}

/** What {@link resolveCurrentRun} answers when the invocation's time ran out before the listing ended. */
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

/** Everything {@link runRequest} needs besides the core's collaborators. */
export interface RunOptions {
  readonly parsed: ParsedEvent;
  /** What the job acts with, fixed when its request was accepted. */
  readonly settings: JobSettings;
  readonly invocation: ActingInvocation;
  /** Called once per execution, as soon as its outcome is known (report + log line). */
  readonly record: (entry: ExecutionReport) => void;
  /** True when no new work may start (the invocation's time is running out). */
  readonly shouldStop: () => boolean;
  /**
   * Executions earlier invocations of the job terminated (or, in a preview, would have). The rest of the job
   * may act on at most the limit less these. Not "matched": failed runs stay open and a lagging listing can
   * show terminated ones again, so counting those would use up the allowance and stop the job early.
   */
  readonly alreadyActedOn: number;
  /** Something worth a warning log line. */
  readonly warn: (message: string, extra: Record<string, unknown>) => void;
}

/** How far this invocation got. */
export type RunResult =
  | { readonly done: true }
  /** Time ran out. `remaining` is the explicit list still to do (absent for a selector: it re-lists). */
  | { readonly done: false; readonly remaining?: readonly ExecutionRef[] };

/** An entry of an explicit list in the pipeline; `retry` marks a re-queued one (already de-duplicated). */
interface ListItem {
  readonly workflowId: string;
  readonly runId?: string;
  readonly retry?: true;
}

/** What a request (or what is left of a job) amounts to, counted before anything is acted on. */
export interface Plan {
  /** Executions named, or matching now (a selector's count: an upper bound, the re-check may drop some). */
  readonly executions: number;
  /** List calls acting will take: a run resolution per run-less entry, a page per 1000 matches. */
  readonly listCalls: number;
}

/**
 * Counts what the request (or what is left of a job) names or matches, and refuses it when that is more than
 * the job's limit leaves: TooManyExecutionsError, with nothing acted on. Every invocation plans before it
 * acts, a job's chunk as much as a new request. ListingFailedError when counting by listing fails.
 */
export async function planRequest(deps: CoreDeps, options: RunOptions): Promise<Plan> {
  const target = options.parsed.request.target;
  if (target.kind === 'selector') {
    const input = selectorInput(options, target.selector);
    if (input === undefined) return { executions: 0, listCalls: 0 };
    const executions = await countSelector(deps, options, target.selector, input);
    return { executions, listCalls: Math.ceil(executions / LIST_PAGE_SIZE) + 1 };
  }
  const named = target.kind === 'single' ? [target.execution] : target.executions;
  if (named.length > allowanceOf(options)) throw tooMany(options, named.length);
  return { executions: named.length, listCalls: named.filter((e) => e.runId === undefined).length };
}

/**
 * Runs the request (or this invocation's share of it), after {@link planRequest} approved it. Throws
 * ListingFailedError when listing fails (or shows more matches than were approved).
 */
export async function runRequest(deps: CoreDeps, options: RunOptions): Promise<RunResult> {
  const target = options.parsed.request.target;
  if (target.kind === 'selector') {
    return runSelector(deps, options, target.selector);
  }
  return runList(deps, options, target.kind === 'single' ? [target.execution] : target.executions);
}

/** How many executions this invocation may still act on: the job's limit less what earlier ones did. */
function allowanceOf(options: RunOptions): number {
  return Math.max(0, options.settings.limit - options.alreadyActedOn);
}

/** The job's limit for an error message: less what earlier invocations acted on, when they did. */
function tooMany(options: RunOptions, count: number): TooManyExecutionsError {
  return new TooManyExecutionsError(count, allowanceOf(options), options.alreadyActedOn);
}

/** The terminate call for one run, recorded; 'retry' when throttled. */
function terminator(deps: CoreDeps, options: RunOptions): (run: RunRef) => Promise<'done' | 'retry'> {
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
    const started = monotonicMs();
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
    pacer.observe(monotonicMs() - started);
    record(
      result.kind === 'failed'
        ? { workflowId: run.workflowId, runId: run.runId, outcome: 'failed', error: result.error }
        : { workflowId: run.workflowId, runId: run.runId, outcome: result.kind },
    );
    return 'done';
  };
}

function paced(deps: CoreDeps, options: RunOptions) {
  return options.settings.dryRun
    ? { inFlightLimit: () => DRY_RUN_CONCURRENCY }
    : { acquire: () => deps.pacer.acquire(), inFlightLimit: () => deps.pacer.inFlightLimit() };
}

/** Resolutions in flight at once in a dry run (no terminate calls to pace; List calls have their bucket). */
const DRY_RUN_CONCURRENCY = 10;

async function runList(
  deps: CoreDeps,
  options: RunOptions,
  named: readonly ExecutionRef[],
): Promise<RunResult> {
  const { parsed, record } = options;
  const terminate = terminator(deps, options);
  // { workflowId } and { workflowId, runId } may resolve to the same run: act on it once. Bounded by the
  // list, which is in memory anyway.
  const acted = named.length > 1 ? new Set<string>() : undefined;
  const act = async (item: ListItem): Promise<ItemResult<ListItem>> => {
    let run: RunRef;
    if (item.runId === undefined) {
      const wait = deps.listBucket.take();
      if (wait !== undefined) await wait;
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
    if (acted !== undefined && item.retry === undefined) {
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

  const first = named[0];
  if (named.length === 1 && first !== undefined) {
    return runOne(first, act, options.settings.dryRun ? undefined : deps.pacer, options.shouldStop);
  }
  let offset = 0;
  const source = {
    next: (): ListItem | undefined => named[offset++],
  };

  const result = await runPipeline<ListItem>({
    source,
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
    remaining.push(asRef(e));
  };
  for (const item of result.requeued) keep(item);
  for (let i = Math.min(offset, named.length); i < named.length; i++) {
    const entry = named[i];
    if (entry !== undefined) keep(entry);
  }
  return remaining.length === 0 ? { done: true } : { done: false, remaining };
}

/**
 * One execution (the common request): what the pipeline does for a one-item source, without its
 * machinery (in-flight accounting, wake-up promises, a re-queue list). Stops before starting when time is
 * short, waits for a pacing token when one is not there, and tries a throttled call again (never failed).
 */
async function runOne(
  item: ListItem,
  act: (item: ListItem) => Promise<ItemResult<ListItem>>,
  pacer: Pacer | undefined,
  shouldStop: () => boolean,
): Promise<RunResult> {
  let current = item;
  for (;;) {
    if (shouldStop()) return { done: false, remaining: [asRef(current)] };
    const wait = pacer?.acquire();
    if (wait !== undefined) {
      await wait;
      if (shouldStop()) return { done: false, remaining: [asRef(current)] };
    }
    const result = await act(current);
    if (result === 'done') return { done: true };
    if (result !== 'retry') current = result.retryAs;
  }
}

function asRef(item: ExecutionRef): ExecutionRef {
  return item.runId === undefined
    ? { workflowId: item.workflowId }
    : { workflowId: item.workflowId, runId: item.runId };
}

/** Resolves the selector's List input; undefined when the window is empty (nothing can match). */
function selectorInput(options: RunOptions, selector: Selector): ListOpenInput | undefined {
  const { requestTime, request } = options.parsed;
  if (isEmptyWindow(startWindow(selector, requestTime))) return undefined;
  return { domain: request.domain, ...listFilterFor(selector, requestTime) };
}

/**
 * Matching runs of one listed page, re-checked against every criterion and de-duplicated against the
 * previous page.
 */
function* matchesOf(
  page: Iterable<Parameters<typeof matchesSelector>[0]>,
  selector: Selector,
  requestTime: Date,
  recent: RecentKeys,
): Generator<RunRef> {
  for (const info of page) {
    if (!matchesSelector(info, selector, requestTime)) continue;
    const listed = listedExecution(info);
    if (listed === undefined) continue;
    const key = runKey(listed.workflowId, listed.runId);
    if (recent.has(key)) continue; // an eventually consistent listing may repeat an entry
    recent.add(key);
    yield { workflowId: listed.workflowId, runId: listed.runId };
  }
}

function listingFailed(domain: string, error: unknown, actedOn: number): ListingFailedError {
  if (error instanceof ListingFailedError) return error;
  const classified = classifySwfError(error);
  return new ListingFailedError(
    domain,
    classified.kind === 'failed' ? classified.error : 'unexpected UnknownResourceFault',
    actedOn,
  );
}

/**
 * Counts the selector's matches without keeping them: CountOpenWorkflowExecutions first (an upper bound:
 * the client-side re-check can only remove entries), and only when that is over the allowance, truncated or
 * unavailable, a counting pass over the listing. More than the allowance: TooManyExecutionsError, with
 * nothing acted on. A counting pass that does not end before the invocation's end reserve fails the request.
 */
async function countSelector(
  deps: CoreDeps,
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
      const wait = deps.listBucket.take();
      if (wait !== undefined) await wait;
      const page = await pages.next();
      if (page.done === true) break;
      pageCount += 1;
      const matches = matchesOf(page.value, selector, options.parsed.requestTime, recent);
      while (matches.next().done !== true) count += 1;
      recent.rotate();
    }
  } catch (error: unknown) {
    await pages.return(undefined);
    throw listingFailed(input.domain, error, 0);
  }
  if (count > limit) throw tooMany(options, count);
  return count;
}

/** What {@link SelectorSource} takes when no run is buffered and a page is on its way. */
const AWAIT_PAGE = Symbol('await page');

/**
 * The selector's matches, page by page: the next page is fetched (paced by the List bucket) while fewer
 * than a page of matches is buffered, so listing overlaps terminating and at most ~2 pages are held.
 * Yields at most `allowance` runs; `overflow` tells whether more matched.
 */
class SelectorSource {
  private buffer: RunRef[] = [];
  private head = 0;
  private fetching: Promise<void> | undefined;
  private exhausted = false;
  private failure: { error: unknown } | undefined;
  private readonly recent = new RecentKeys();
  private readonly pages: AsyncGenerator<Parameters<typeof matchesSelector>[0][]>;
  private yielded = 0;
  /** Set by {@link cancel}: no more pages are fetched, and a page that arrives late is dropped. */
  private closed = false;
  overflow = false;

  constructor(
    private readonly deps: CoreDeps,
    input: ListOpenInput,
    private readonly selector: Selector,
    private readonly requestTime: Date,
    private readonly allowance: number,
  ) {
    this.pages = deps.swf.listOpen(input) as AsyncGenerator<Parameters<typeof matchesSelector>[0][]>;
  }

  private buffered(): number {
    return this.buffer.length - this.head;
  }

  /** Stops the listing: the pipeline stopped while waiting for a page (the job's next chunk lists again). */
  cancel(): void {
    this.closed = true;
    this.exhausted = true;
  }

  /** Read through a call: `cancel()` may come while a fetch is awaiting its page. */
  private isClosed(): boolean {
    return this.closed;
  }

  private async fetchPage(): Promise<void> {
    const wait = this.deps.listBucket.take();
    if (wait !== undefined) await wait;
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
    if (this.head > 0) {
      this.buffer = this.buffer.slice(this.head);
      this.head = 0;
    }
    for (const run of matchesOf(page.value, this.selector, this.requestTime, this.recent)) {
      if (this.yielded + this.buffered() >= this.allowance) {
        this.overflow = true;
        this.exhausted = true;
        break;
      }
      this.buffer.push(run);
    }
    this.recent.rotate();
  }

  /**
   * The next matching run: at once when one is buffered (the common case: no promise, so the pipeline has
   * nothing to wait for), else a promise settled once a page has come.
   */
  next(): RunRef | undefined | Promise<RunRef | undefined> {
    const run = this.take();
    return run === AWAIT_PAGE ? this.waitForRun() : run;
  }

  /** A buffered run; undefined when the listing is over; AWAIT_PAGE while a page is being fetched. */
  private take(): RunRef | undefined | typeof AWAIT_PAGE {
    if (this.closed) return undefined;
    if (this.failure !== undefined) throw this.failure.error;
    if (!this.exhausted && this.fetching === undefined && this.buffered() < LIST_PAGE_SIZE) {
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
    const run = this.buffer[this.head];
    if (run !== undefined) {
      this.head += 1;
      this.yielded += 1;
      return run;
    }
    return this.fetching === undefined ? undefined : AWAIT_PAGE;
  }

  private async waitForRun(): Promise<RunRef | undefined> {
    for (;;) {
      await this.fetching;
      const run = this.take();
      if (run !== AWAIT_PAGE) return run;
    }
  }
}

async function runSelector(deps: CoreDeps, options: RunOptions, selector: Selector): Promise<RunResult> {
  const input = selectorInput(options, selector);
  if (input === undefined) return { done: true };
  const allowance = allowanceOf(options);
  const source = new SelectorSource(deps, input, selector, options.parsed.requestTime, allowance);
  const terminate = terminator(deps, options);
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
    throw listingFailed(input.domain, error, actedOn);
  }
  if (source.overflow) {
    // The listing showed more matches than the count approved (SWF's listing is eventually consistent).
    // Stopping quietly would leave matched executions running under a report of success: fail loudly,
    // after the work in flight, so the request ends in the failure destination with this reason. A retry
    // of a first invocation counts again and refuses the request if the count is now over the limit.
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
