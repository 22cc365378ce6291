/**
 * Selector logic, pure: which filter SWF applies server-side, and the client-side re-check that every listed
 * execution must pass before it may be terminated.
 *
 * SWF's ListOpenWorkflowExecutions takes at most one of tagFilter / typeFilter / executionFilter per call.
 * The handler sends the most selective one it has (tag, else workflow type) plus the start-time window, then
 * re-checks EVERY criterion on every returned execution: a service-side filter that returns too much
 * (eventual consistency, a faulty SWF-compatible endpoint) never costs a workflow the selector does not match.
 */
import type { WorkflowExecutionInfo } from '@aws-sdk/client-swf';
import { type ListOpenInput, listingErrorText } from '../aws/swf';
import { ListingFailedError } from '../errors';
import type { ExecutionSeen, Selector } from '../types';
import type { RunRef } from '../work';
import { type RecentKeys, runKey } from './recent-keys';

/** The filter arguments of ListOpenWorkflowExecutions for a selector (everything but domain and paging). */
export interface SelectorListFilter {
  readonly startTimeFilter: { readonly oldestDate: Date; readonly latestDate: Date };
  readonly tagFilter?: { readonly tag: string };
  readonly typeFilter?: { readonly name: string; readonly version?: string };
}

/** The inclusive start-time window a selector covers, capped at the request time. */
export interface StartWindow {
  readonly oldest: Date;
  readonly latest: Date;
}

/**
 * The start-time window: from `startedAfter` (else the epoch) to the earliest of `startedBefore`, the request
 * time less `openLongerThanSeconds`, the request time less `idleLongerThanSeconds` (an execution idle that
 * long has been open at least that long: its latest activity is no earlier than its start), and the request
 * time. Capping at the request time is a safety decision: a re-delivered or retried event never matches
 * executions started after the request was made.
 */
export function startWindow(selector: Selector, requestTime: Date): StartWindow {
  const oldest = selector.startedAfter ?? new Date(0);
  let latest = requestTime.getTime();
  if (selector.startedBefore !== undefined) latest = Math.min(latest, selector.startedBefore.getTime());
  for (const seconds of [selector.openLongerThanSeconds, selector.idleLongerThanSeconds]) {
    if (seconds !== undefined) latest = Math.min(latest, requestTime.getTime() - seconds * 1000);
  }
  return { oldest, latest: new Date(latest) };
}

/** True when the window is empty (startedAfter is later than the request time): nothing can match. */
export function isEmptyWindow(window: StartWindow): boolean {
  return window.oldest > window.latest;
}

/** The one service-side filter to send: tag, else workflow type, else none; always the start-time window. */
export function listFilterFor(selector: Selector, requestTime: Date): SelectorListFilter {
  const { oldest, latest } = startWindow(selector, requestTime);
  const startTimeFilter = { oldestDate: oldest, latestDate: latest };
  if (selector.tag !== undefined) {
    return { startTimeFilter, tagFilter: { tag: selector.tag } };
  }
  if (selector.workflowType !== undefined) {
    const { name, version } = selector.workflowType;
    return { startTimeFilter, typeFilter: version === undefined ? { name } : { name, version } };
  }
  return { startTimeFilter };
}

/** An execution listed by SWF that has the identity and start time needed to act on it. */
export interface ListedExecution {
  readonly workflowId: string;
  readonly runId: string;
  readonly startTimestamp: Date;
}

/** Extracts the identity of a listed execution; undefined when SWF returned an incomplete entry. */
export function listedExecution(info: WorkflowExecutionInfo): ListedExecution | undefined {
  const workflowId = info.execution?.workflowId;
  const runId = info.execution?.runId;
  const startTimestamp = info.startTimestamp;
  if (
    workflowId === undefined ||
    workflowId === '' ||
    runId === undefined ||
    runId === '' ||
    !(startTimestamp instanceof Date) ||
    Number.isNaN(startTimestamp.getTime())
  ) {
    return undefined;
  }
  return { workflowId, runId, startTimestamp };
}

/**
 * Re-checks a listed execution against EVERY criterion of the selector that the listing shows, whatever
 * filter the list call used: tag in its tagList, workflow type name (and version if given), workflowId prefix,
 * start time inside the window (inclusive), started no later than the request time, and not reported closed.
 * Incomplete entries never match. (`stalled` and `idleLongerThanSeconds` need more than the listing shows:
 * lambda/match/activity.ts.)
 */
export function matchesSelector(info: WorkflowExecutionInfo, selector: Selector, requestTime: Date): boolean {
  const listed = listedExecution(info);
  if (listed === undefined) return false;
  if (info.executionStatus === 'CLOSED') return false;

  if (selector.tag !== undefined && !(info.tagList ?? []).includes(selector.tag)) return false;

  if (selector.workflowIdPrefix !== undefined && !listed.workflowId.startsWith(selector.workflowIdPrefix)) {
    return false;
  }

  if (selector.workflowType !== undefined) {
    const { name, version } = selector.workflowType;
    if (info.workflowType?.name !== name) return false;
    if (version !== undefined && info.workflowType.version !== version) return false;
  }

  const { oldest, latest } = startWindow(selector, requestTime);
  const started = listed.startTimestamp.getTime();
  return started >= oldest.getTime() && started <= latest.getTime();
}

/** The selector's List input for `domain`; undefined when the window is empty (nothing can match). */
export function selectorInput(
  domain: string,
  selector: Selector,
  requestTime: Date,
): ListOpenInput | undefined {
  if (isEmptyWindow(startWindow(selector, requestTime))) return undefined;
  return { domain, ...listFilterFor(selector, requestTime) };
}

/**
 * Matching runs of one listed page, re-checked against every criterion and de-duplicated against the
 * previous page (an eventually consistent listing may repeat an entry). With `skipCancelRequested`
 * (requestCancel), a run already asked to cancel is left out: asking again changes nothing, and a job that
 * lists again in its next chunk would otherwise ask the same runs again. (cancelThenTerminate never lists
 * while it acts: its runs are resolved first, lambda/plan/resolve.ts.)
 */
export function* matchesOf(
  page: Iterable<WorkflowExecutionInfo>,
  selector: Selector,
  requestTime: Date,
  recent: RecentKeys,
  skipCancelRequested = false,
): Generator<RunRef> {
  for (const info of page) {
    if (skipCancelRequested && info.cancelRequested === true) continue;
    if (!matchesSelector(info, selector, requestTime)) continue;
    const listed = listedExecution(info);
    if (listed === undefined) continue;
    const key = runKey(listed.workflowId, listed.runId);
    if (recent.has(key)) continue;
    recent.add(key);
    yield { workflowId: listed.workflowId, runId: listed.runId, seen: seenOf(info) };
  }
}

/** A listed run's type, start and tags: what a preview shows of it. */
function seenOf(info: WorkflowExecutionInfo): ExecutionSeen {
  const type = info.workflowType;
  return {
    ...(type?.name === undefined || type.version === undefined
      ? {}
      : { workflowType: { name: type.name, version: type.version } }),
    ...(info.startTimestamp === undefined ? {} : { startedAt: info.startTimestamp.toISOString() }),
    ...(info.tagList === undefined || info.tagList.length === 0 ? {} : { tags: info.tagList }),
  };
}

/** A listing's failure as the request's error, naming the domain and what was acted on before it. */
export function listingFailure(domain: string, error: unknown, actedOn: number): ListingFailedError {
  if (error instanceof ListingFailedError) return error;
  return new ListingFailedError(domain, listingErrorText(error), actedOn);
}
