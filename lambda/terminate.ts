/**
 * The core: plan (resolve the request to concrete runs, count them, refuse if too many), then act
 * (terminate each run, or preview it). SWF is reached only through {@link SwfPort}, and every termination
 * goes through one {@link Dispatcher}, so pacing can change without touching this logic.
 */
import type { Config } from './config';
import { DEFAULT_REASON } from './contract';
import type { Dispatcher } from './dispatch';
import { ListingFailedError, TooManyExecutionsError } from './errors';
import { type ActingInvocation, terminationDetails } from './provenance';
import type { ExecutionReport } from './report';
import type { ParsedEvent, Selector } from './request';
import { isEmptyWindow, listedExecution, listFilterFor, matchesSelector, startWindow } from './selector';
import { classifySwfError, type SwfPort } from './swf';

/** A concrete run to terminate. */
export interface RunRef {
  readonly workflowId: string;
  readonly runId: string;
}

/** The result of planning: runs to act on, and outcomes already decided while resolving. */
export interface Plan {
  readonly actions: readonly RunRef[];
  /** Named executions with no open run (already-closed) or whose run could not be resolved (failed). */
  readonly decided: readonly ExecutionReport[];
}

export interface CoreDeps {
  readonly swf: SwfPort;
  readonly dispatcher: Dispatcher;
}

/** The effective limit on how many executions one request may reach. */
export function executionLimit(parsed: ParsedEvent, config: Config): number {
  return Math.min(parsed.request.maxExecutions ?? config.maxExecutions, config.maxExecutions);
}

/**
 * Finds the current open run of a workflowId that started no later than the request time.
 * A re-delivered event therefore never terminates a newer run started after the request was made.
 * No such run: `already-closed`. Listing errors and an ambiguous answer: `failed`.
 */
export async function resolveCurrentRun(
  swf: SwfPort,
  domain: string,
  workflowId: string,
  requestTime: Date,
): Promise<RunRef | ExecutionReport> {
  const runIds = new Set<string>();
  try {
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
    }
  } catch (error: unknown) {
    const classified = classifySwfError(error);
    const reason = classified.kind === 'failed' ? classified.error : 'unexpected UnknownResourceFault';
    return { workflowId, outcome: 'failed', error: `resolving the current run failed: ${reason}` };
  }
  const [runId, ...others] = runIds;
  if (runId === undefined) {
    return { workflowId, outcome: 'already-closed' };
  }
  if (others.length > 0) {
    // SWF allows one open run per workflowId: more means the listing cannot be trusted.
    return {
      workflowId,
      outcome: 'failed',
      error: `SWF listed ${runIds.size} open runs for one workflowId (${[...runIds].join(', ')}); none was terminated`,
    };
  }
  return { workflowId, runId };
}

function isRunRef(value: RunRef | ExecutionReport): value is RunRef {
  return !('outcome' in value);
}

/** Lists the selector's matches, re-checking each; refuses the request if more than `limit` match. */
async function planSelector(
  swf: SwfPort,
  domain: string,
  selector: Selector,
  requestTime: Date,
  limit: number,
): Promise<RunRef[]> {
  if (isEmptyWindow(startWindow(selector, requestTime))) {
    return [];
  }
  const seen = new Set<string>();
  const actions: RunRef[] = [];
  let count = 0;
  try {
    for await (const page of swf.listOpen({ domain, ...listFilterFor(selector, requestTime) })) {
      for (const info of page) {
        if (!matchesSelector(info, selector, requestTime)) continue;
        const listed = listedExecution(info);
        if (listed === undefined) continue;
        const key = JSON.stringify([listed.workflowId, listed.runId]);
        if (seen.has(key)) continue; // an eventually consistent listing may repeat an entry across pages
        seen.add(key);
        count += 1;
        // Keep counting past the limit (for the error's count) without keeping the runs.
        if (count <= limit) actions.push({ workflowId: listed.workflowId, runId: listed.runId });
      }
    }
  } catch (error: unknown) {
    const classified = classifySwfError(error);
    throw new ListingFailedError(
      domain,
      classified.kind === 'failed' ? classified.error : 'unexpected UnknownResourceFault',
    );
  }
  if (count > limit) {
    throw new TooManyExecutionsError(count, limit);
  }
  return actions;
}

/**
 * Resolves the request to concrete runs. Explicit runIds are used as given; a workflowId without runId is
 * resolved to its current open run (started no later than the request time); a selector is listed and
 * every entry re-checked. Throws TooManyExecutionsError (nothing acted on) when more than the limit match.
 */
export async function plan(parsed: ParsedEvent, config: Config, deps: CoreDeps): Promise<Plan> {
  const { request, requestTime } = parsed;
  const limit = executionLimit(parsed, config);
  const target = request.target;

  if (target.kind === 'selector') {
    return {
      actions: await planSelector(deps.swf, request.domain, target.selector, requestTime, limit),
      decided: [],
    };
  }

  const named = target.kind === 'single' ? [target.execution] : target.executions;
  if (named.length > limit) {
    throw new TooManyExecutionsError(named.length, limit);
  }
  const resolved: (RunRef | ExecutionReport | undefined)[] = named.map((e) =>
    e.runId === undefined ? undefined : { workflowId: e.workflowId, runId: e.runId },
  );
  const toResolve = named.flatMap((e, index) =>
    e.runId === undefined ? [{ index, workflowId: e.workflowId }] : [],
  );
  await deps.dispatcher.forEach(toResolve, async ({ index, workflowId }) => {
    resolved[index] = await resolveCurrentRun(deps.swf, request.domain, workflowId, requestTime);
  });

  const actions: RunRef[] = [];
  const decided: ExecutionReport[] = [];
  const seen = new Set<string>();
  for (const entry of resolved) {
    if (entry === undefined) continue; // unreachable: every runless entry was resolved above
    if (!isRunRef(entry)) {
      decided.push(entry);
      continue;
    }
    // { workflowId } and { workflowId, runId } may resolve to the same run: act on it once.
    const key = JSON.stringify([entry.workflowId, entry.runId]);
    if (seen.has(key)) continue;
    seen.add(key);
    actions.push(entry);
  }
  return { actions, decided };
}

/** Everything `act` needs besides the plan. */
export interface ActOptions {
  readonly parsed: ParsedEvent;
  readonly config: Config;
  readonly invocation: ActingInvocation;
  /** Called once per execution, as soon as its outcome is known (report + log line). */
  readonly record: (entry: ExecutionReport) => void;
}

/** True when this request must only preview: the request asks for it, or the function forces it. */
export function isDryRun(parsed: ParsedEvent, config: Config): boolean {
  return config.dryRun || parsed.request.dryRun === true;
}

/**
 * Terminates (or previews) every planned run through the dispatcher. Never throws for one execution's
 * failure: each outcome goes to `record`, and the caller decides what a failure means for the invocation.
 */
export async function act(planned: Plan, deps: CoreDeps, options: ActOptions): Promise<void> {
  const { parsed, config, invocation, record } = options;
  const { request } = parsed;
  for (const entry of planned.decided) record(entry);

  if (isDryRun(parsed, config)) {
    for (const run of planned.actions) record({ ...run, outcome: 'would-terminate' });
    return;
  }

  const reason = request.reason ?? DEFAULT_REASON;
  const details = terminationDetails(request.details, parsed.provenance, invocation);
  const childPolicy = request.childPolicy ?? config.defaultChildPolicy;
  await deps.dispatcher.forEach(planned.actions, async (run) => {
    const result = await deps.swf.terminate({
      domain: request.domain,
      workflowId: run.workflowId,
      runId: run.runId,
      reason,
      details,
      ...(childPolicy === undefined ? {} : { childPolicy }),
    });
    record(
      result.kind === 'failed'
        ? { ...run, outcome: 'failed', error: result.error }
        : { ...run, outcome: result.kind },
    );
  });
}
