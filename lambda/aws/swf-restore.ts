/**
 * The SWF calls restore makes, and only those: closed and open executions listed (ListClosed/ListOpen
 * WorkflowExecutions), one event read from either end of a run's history (GetWorkflowExecutionHistory), and
 * a run started (StartWorkflowExecution). The restore function's role allows exactly these three actions
 * (lib/restore.ts); the terminating function never calls them.
 */
import {
  GetWorkflowExecutionHistoryCommand,
  type HistoryEvent,
  ListClosedWorkflowExecutionsCommand,
  ListOpenWorkflowExecutionsCommand,
  StartWorkflowExecutionCommand,
  type SWFClient,
  type WorkflowExecutionInfo,
} from '@aws-sdk/client-swf';
import { clip, describeError, EXECUTION_ERROR_MAX_CHARS } from '../errors';
import { LIST_PAGE_SIZE, RepeatedPageTokenError } from './swf';
import { isThrottlingError, retryThrottled } from './swf-client';

/** A time window for a listing (SWF takes exactly one: start time, or close time). */
export interface TimeWindow {
  readonly oldestDate: Date;
  readonly latestDate?: Date;
}

/** ListClosedWorkflowExecutions' arguments other than paging: one time filter, at most one other filter. */
export type ListClosedInput = { readonly domain: string } & (
  | { readonly closeTimeFilter: TimeWindow; readonly closeStatus: 'TERMINATED' }
  | { readonly startTimeFilter: TimeWindow }
);

/** What a run was started with: everything StartWorkflowExecution takes but the domain and workflowId. */
export interface StartAttributes {
  readonly workflowType: { readonly name: string; readonly version: string };
  readonly taskList?: { readonly name: string };
  readonly taskPriority?: string;
  readonly input?: string;
  readonly executionStartToCloseTimeout?: string;
  readonly taskStartToCloseTimeout?: string;
  readonly tagList?: readonly string[];
  readonly childPolicy?: string;
  readonly lambdaRole?: string;
}

/** How a run's history ends: its WorkflowExecutionTerminated event, or another event. */
export type LastEvent =
  | {
      readonly kind: 'terminated';
      /** When it was terminated (the event's time). */
      readonly at?: Date;
      readonly details?: string;
      readonly reason?: string;
      /** `CHILD_POLICY_APPLIED` when its parent's termination closed it; absent or `OPERATOR_INITIATED` else. */
      readonly cause?: string;
    }
  | { readonly kind: 'other'; readonly eventType: string };

/** The outcome of one StartWorkflowExecution. */
export type StartResult =
  | { readonly kind: 'started'; readonly runId: string }
  /** A run of that workflowId is open: SWF never starts a second (WorkflowExecutionAlreadyStartedFault). */
  | { readonly kind: 'open-again' }
  | { readonly kind: 'type-deprecated' }
  | { readonly kind: 'failed'; readonly error: string };

/** Restore's view of SWF. */
export interface RestoreSwfPort {
  /** Pages of closed executions (newest first unless `oldestFirst`), every argument unchanged but the token. */
  listClosed(input: ListClosedInput, oldestFirst?: boolean): AsyncGenerator<readonly WorkflowExecutionInfo[]>;
  /** Pages of open executions started in `startTimeFilter`. */
  listOpen(domain: string, startTimeFilter: TimeWindow): AsyncGenerator<readonly WorkflowExecutionInfo[]>;
  /** The last event of a run's history (one event read, newest first). */
  lastEvent(domain: string, workflowId: string, runId: string): Promise<LastEvent>;
  /** What the run was started with: its first event, WorkflowExecutionStarted; undefined if it is not that. */
  startAttributes(domain: string, workflowId: string, runId: string): Promise<StartAttributes | undefined>;
  /** Starts a run of `workflowId`; never throws (throttling is retried with backoff), the answer is classified. */
  start(domain: string, workflowId: string, attributes: StartAttributes): Promise<StartResult>;
}

/** Pages a List call, stopping at a repeated token (a cycle would list the same pages forever). */
async function* pages<T>(
  operation: string,
  call: (token: string | undefined) => Promise<{ items?: readonly T[]; nextPageToken?: string } | undefined>,
): AsyncGenerator<readonly T[]> {
  const seen = new Set<string>();
  let token: string | undefined;
  do {
    const page = await call(token);
    token = page?.nextPageToken === '' ? undefined : page?.nextPageToken;
    if (token !== undefined) {
      if (seen.has(token)) throw new RepeatedPageTokenError(operation, seen.size + 1);
      seen.add(token);
    }
    yield page?.items ?? [];
  } while (token !== undefined);
}

/** A List answer as a page (a stubbed or faulty endpoint may answer nothing: an empty last page). */
function pageOf(
  page:
    { executionInfos?: WorkflowExecutionInfo[] | undefined; nextPageToken?: string | undefined } | undefined,
): { items?: readonly WorkflowExecutionInfo[]; nextPageToken?: string } | undefined {
  return page === undefined
    ? undefined
    : {
        ...(page.executionInfos === undefined ? {} : { items: page.executionInfos }),
        ...(page.nextPageToken === undefined ? {} : { nextPageToken: page.nextPageToken }),
      };
}

/** One event of a run's history, from its start (`newestFirst` false) or its end. */
async function edgeEvent(
  client: SWFClient,
  domain: string,
  workflowId: string,
  runId: string,
  newestFirst: boolean,
): Promise<HistoryEvent | undefined> {
  const answer = await retryThrottled(() =>
    client.send(
      new GetWorkflowExecutionHistoryCommand({
        domain,
        execution: { workflowId, runId },
        maximumPageSize: 1,
        reverseOrder: newestFirst,
      }),
    ),
  );
  return (answer as typeof answer | undefined)?.events?.[0];
}

/** Wraps an SDK client as restore's port. */
export function createRestoreSwf(client: SWFClient): RestoreSwfPort {
  return {
    listClosed(input, oldestFirst = false) {
      const filters =
        'closeTimeFilter' in input
          ? {
              closeTimeFilter: { ...input.closeTimeFilter },
              closeStatusFilter: { status: input.closeStatus },
            }
          : { startTimeFilter: { ...input.startTimeFilter } };
      return pages('ListClosedWorkflowExecutions', async (token) => {
        const page = await retryThrottled(() =>
          client.send(
            new ListClosedWorkflowExecutionsCommand({
              domain: input.domain,
              ...filters,
              maximumPageSize: LIST_PAGE_SIZE,
              reverseOrder: oldestFirst,
              ...(token === undefined ? {} : { nextPageToken: token }),
            }),
          ),
        );
        return pageOf(page);
      });
    },

    listOpen(domain, startTimeFilter) {
      return pages('ListOpenWorkflowExecutions', async (token) => {
        const page = await retryThrottled(() =>
          client.send(
            new ListOpenWorkflowExecutionsCommand({
              domain,
              startTimeFilter: { ...startTimeFilter },
              maximumPageSize: LIST_PAGE_SIZE,
              ...(token === undefined ? {} : { nextPageToken: token }),
            }),
          ),
        );
        return pageOf(page);
      });
    },

    async lastEvent(domain, workflowId, runId) {
      const event = await edgeEvent(client, domain, workflowId, runId, true);
      const attributes = event?.workflowExecutionTerminatedEventAttributes;
      if (event?.eventType !== 'WorkflowExecutionTerminated' || attributes === undefined) {
        return { kind: 'other', eventType: event?.eventType ?? 'none' };
      }
      return {
        kind: 'terminated',
        ...(event.eventTimestamp instanceof Date ? { at: event.eventTimestamp } : {}),
        ...(attributes.details === undefined ? {} : { details: attributes.details }),
        ...(attributes.reason === undefined ? {} : { reason: attributes.reason }),
        ...(attributes.cause === undefined ? {} : { cause: attributes.cause }),
      };
    },

    async startAttributes(domain, workflowId, runId) {
      const event = await edgeEvent(client, domain, workflowId, runId, false);
      const a = event?.workflowExecutionStartedEventAttributes;
      if (event?.eventType !== 'WorkflowExecutionStarted' || a?.workflowType === undefined) return undefined;
      const { name, version } = a.workflowType;
      if (name === undefined || version === undefined) return undefined;
      return {
        workflowType: { name, version },
        ...(a.taskList?.name === undefined ? {} : { taskList: { name: a.taskList.name } }),
        ...(a.taskPriority === undefined ? {} : { taskPriority: a.taskPriority }),
        ...(a.input === undefined ? {} : { input: a.input }),
        ...(a.executionStartToCloseTimeout === undefined
          ? {}
          : { executionStartToCloseTimeout: a.executionStartToCloseTimeout }),
        ...(a.taskStartToCloseTimeout === undefined
          ? {}
          : { taskStartToCloseTimeout: a.taskStartToCloseTimeout }),
        ...(a.tagList === undefined || a.tagList.length === 0 ? {} : { tagList: [...a.tagList] }),
        ...(a.childPolicy === undefined ? {} : { childPolicy: a.childPolicy }),
        ...(a.lambdaRole === undefined ? {} : { lambdaRole: a.lambdaRole }),
      };
    },

    async start(domain, workflowId, attributes) {
      try {
        const answer = await retryThrottled(() =>
          client.send(
            new StartWorkflowExecutionCommand({
              domain,
              workflowId,
              workflowType: { ...attributes.workflowType },
              ...(attributes.taskList === undefined ? {} : { taskList: { ...attributes.taskList } }),
              ...(attributes.taskPriority === undefined ? {} : { taskPriority: attributes.taskPriority }),
              ...(attributes.input === undefined ? {} : { input: attributes.input }),
              ...(attributes.executionStartToCloseTimeout === undefined
                ? {}
                : { executionStartToCloseTimeout: attributes.executionStartToCloseTimeout }),
              ...(attributes.taskStartToCloseTimeout === undefined
                ? {}
                : { taskStartToCloseTimeout: attributes.taskStartToCloseTimeout }),
              ...(attributes.tagList === undefined ? {} : { tagList: [...attributes.tagList] }),
              ...(attributes.childPolicy === undefined
                ? {}
                : { childPolicy: attributes.childPolicy as 'TERMINATE' }),
              ...(attributes.lambdaRole === undefined ? {} : { lambdaRole: attributes.lambdaRole }),
            }),
          ),
        );
        const runId = (answer as typeof answer | undefined)?.runId;
        if (runId === undefined) return { kind: 'failed', error: 'StartWorkflowExecution answered no runId' };
        return { kind: 'started', runId };
      } catch (error: unknown) {
        const name = (error as { name?: unknown } | null)?.name;
        if (name === 'WorkflowExecutionAlreadyStartedFault') return { kind: 'open-again' };
        if (name === 'TypeDeprecatedFault') return { kind: 'type-deprecated' };
        const text = clip(describeError(error), EXECUTION_ERROR_MAX_CHARS);
        return { kind: 'failed', error: isThrottlingError(error) ? `still throttled: ${text}` : text };
      }
    },
  };
}
