/**
 * The parts of the local SWF stand-in (local/swf.ts) that restarting terminated runs needs:
 * StartWorkflowExecution's arguments and faults, each run's synthesized history
 * (GetWorkflowExecutionHistory), and the closed-run index behind ListClosedWorkflowExecutions; plus the wire
 * helpers (fault answers, argument checks) both files share. local/swf.ts holds the server and imports from
 * here; this file imports only types from it, so there is no load-time cycle.
 *
 * Shapes and fault names follow `@aws-sdk/client-swf` (dist-types/models/models_0.d.ts): an attribute that is
 * not set is left out of the answer, as SWF leaves it out.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ChildPolicy, CloseStatus, FakeExecution } from './swf-execution';

// ---------------------------------------------------------------------------------------------------------
// Wire helpers shared with local/swf.ts
// ---------------------------------------------------------------------------------------------------------

export type Json = Record<string, unknown>;

export const SWF_NS = 'com.amazonaws.swf.base.model#';
export const MAX_PAGE_SIZE = 1000;
export const CHILD_POLICIES: readonly string[] = ['TERMINATE', 'REQUEST_CANCEL', 'ABANDON'];
/** SWF's CloseStatus values (what closeStatusFilter accepts; the fake itself only produces two of them). */
const CLOSE_STATUSES: readonly string[] = [
  'COMPLETED',
  'FAILED',
  'CANCELED',
  'TERMINATED',
  'CONTINUED_AS_NEW',
  'TIMED_OUT',
];

/** A fault answer: HTTP status, `__type` and message. */
export class SwfError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export const validation = (message: string) =>
  new SwfError(400, 'com.amazon.coral.validate#ValidationException', message);
export const unknownDomain = (domain: string) =>
  new SwfError(400, `${SWF_NS}UnknownResourceFault`, `Unknown domain: ${domain}`);
export const unknownExecution = (workflowId: string, runId?: string) =>
  new SwfError(
    400,
    `${SWF_NS}UnknownResourceFault`,
    `Unknown execution: WorkflowExecution=[workflowId=${workflowId}, runId=${runId ?? ''}]`,
  );
export const defaultUndefined = (message: string) =>
  new SwfError(400, `${SWF_NS}DefaultUndefinedFault`, message);

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function requireName(body: Json, field: string, max = 256): string {
  const v = body[field];
  if (typeof v !== 'string' || v.length < 1 || v.length > max) {
    throw validation(
      `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must have length between 1 and ${max}`,
    );
  }
  return v;
}

export function optionalString(body: Json, field: string, max: number): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > max) {
    throw validation(
      `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    );
  }
  return v;
}

export function optionalNumber(obj: Json, field: string): number | undefined {
  const v = obj[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw validation(`Value at '${field}' must be a timestamp in epoch seconds`);
  }
  return v;
}

function optionalChildPolicy(body: Json): ChildPolicy | undefined {
  const childPolicy = optionalString(body, 'childPolicy', 64);
  if (childPolicy !== undefined && !CHILD_POLICIES.includes(childPolicy)) {
    throw validation(
      `1 validation error detected: Value '${childPolicy}' at 'childPolicy' failed to satisfy constraint: Member must satisfy enum value set: [TERMINATE, REQUEST_CANCEL, ABANDON]`,
    );
  }
  return childPolicy as ChildPolicy | undefined;
}

/** `maximumPageSize` (0 or absent: the maximum) and `reverseOrder`, checked as SWF checks them. */
export function pagingArgs(body: Json): { pageSize: number; reverse: boolean } {
  let pageSize = MAX_PAGE_SIZE;
  const mps = body.maximumPageSize;
  if (mps !== undefined && mps !== null) {
    if (typeof mps !== 'number' || !Number.isInteger(mps) || mps < 0 || mps > MAX_PAGE_SIZE) {
      throw validation(
        `1 validation error detected: Value at 'maximumPageSize' failed to satisfy constraint: Member must have value between 0 and ${MAX_PAGE_SIZE}`,
      );
    }
    if (mps > 0) pageSize = mps;
  }
  if (
    body.reverseOrder !== undefined &&
    body.reverseOrder !== null &&
    typeof body.reverseOrder !== 'boolean'
  ) {
    throw validation("Value at 'reverseOrder' must be a boolean");
  }
  return { pageSize, reverse: body.reverseOrder === true };
}

const fingerprintOf = (parts: unknown[]) =>
  createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);

/** A page token: the request's fingerprint and a cursor (what the last page ended on). Opaque to clients. */
export function encodeCursor(fingerprint: string, cursor: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify({ f: fingerprint, c: cursor })).toString('base64url');
}

/** The cursor of `raw` (absent: undefined), checked against the request's fingerprint and the cursor's types. */
export function decodeCursor(
  raw: unknown,
  fingerprint: string,
  types: readonly ('string' | 'number')[],
): unknown[] | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string' || raw.length > 2048) throw validation('Invalid nextPageToken');
  let token: unknown;
  try {
    token = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw validation('Invalid nextPageToken');
  }
  if (
    !isObject(token) ||
    typeof token.f !== 'string' ||
    !Array.isArray(token.c) ||
    token.c.length !== types.length ||
    !types.every((t, i) => typeof (token.c as unknown[])[i] === t)
  ) {
    throw validation('Invalid nextPageToken');
  }
  if (token.f !== fingerprint) {
    throw validation(
      'nextPageToken does not match the request: keep every other argument unchanged when paging',
    );
  }
  return token.c as unknown[];
}

// ---------------------------------------------------------------------------------------------------------
// What the server keeps per run
// ---------------------------------------------------------------------------------------------------------

/** Why a run was terminated, as its WorkflowExecutionTerminated event says. */
export type TerminatedCause = 'OPERATOR_INITIATED' | 'CHILD_POLICY_APPLIED';

/** What a termination left on the run: the WorkflowExecutionTerminated event's attributes. */
export interface TerminationDetails {
  reason?: string;
  details?: string;
  /** The child policy that was applied: the call's, else the run's, else its type's default, else TERMINATE. */
  childPolicy: ChildPolicy;
  cause: TerminatedCause;
}

/** One run as the server holds it. */
export interface Entry {
  exec: FakeExecution;
  open: boolean;
  /** Set by RequestCancelWorkflowExecution; stays set after the execution closes, whatever closed it. */
  cancelRequested: boolean;
  /** When the (first) cancel was requested, ms on the server's clock. */
  cancelRequestedAt?: number;
  /** Set when the cancel request came from the parent's REQUEST_CANCEL child policy, not from a call. */
  cancelCause?: 'CHILD_POLICY_APPLIED';
  /** When the run closed, ms since the epoch on the server's clock (`FakeSwfOptions.now`, else Date.now). */
  closedAt?: number;
  closeStatus?: CloseStatus;
  /** Set when the run was terminated. */
  termination?: TerminationDetails;
}

export const runKey = (workflowId: string, runId: string) => `${workflowId}\u0000${runId}`;

/** The child policy a run applies when terminated without one named: its own, else its type's, else TERMINATE. */
export const ownChildPolicy = (exec: FakeExecution): ChildPolicy =>
  exec.childPolicy ?? exec.defaultChildPolicy ?? 'TERMINATE';

/**
 * What a run's WorkflowExecutionStarted event says when its {@link FakeExecution} leaves a start attribute
 * out (the fake registers no workflow type defaults; these are the values such a run is taken to have been
 * started with). `input`, `taskPriority`, `lambdaRole` and `tagList` are left out of the event when absent.
 */
export const STARTED_DEFAULTS: Readonly<{
  taskList: { readonly name: string };
  executionStartToCloseTimeout: string;
  taskStartToCloseTimeout: string;
  childPolicy: ChildPolicy;
}> = {
  taskList: { name: 'default' },
  executionStartToCloseTimeout: '3600',
  taskStartToCloseTimeout: '60',
  childPolicy: 'TERMINATE',
};

/** What a closed run's close looked like (see `FakeSwfServer.closeDetails`). */
export interface CloseDetails {
  closeStatus: CloseStatus;
  /** Epoch seconds on the server's clock. */
  closeTimestamp: number;
  cancelRequested: boolean;
  /** Set for a terminated run: the WorkflowExecutionTerminated event's attributes. */
  termination?: TerminationDetails;
}

export function closeDetailsOf(entry: Entry): CloseDetails | undefined {
  if (entry.open || entry.closeStatus === undefined) return undefined;
  return {
    closeStatus: entry.closeStatus,
    closeTimestamp: (entry.closedAt ?? 0) / 1000,
    cancelRequested: entry.cancelRequested,
    ...(entry.termination ? { termination: { ...entry.termination } } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------
// StartWorkflowExecution
// ---------------------------------------------------------------------------------------------------------

/** One successful StartWorkflowExecution: every parameter given, the new run, and when. */
export interface RecordedStart {
  domain: string;
  workflowId: string;
  workflowType: { name: string; version: string };
  taskList?: { name: string };
  taskPriority?: string;
  input?: string;
  executionStartToCloseTimeout?: string;
  tagList?: string[];
  taskStartToCloseTimeout?: string;
  childPolicy?: ChildPolicy;
  lambdaRole?: string;
  /** The run SWF started (a fresh, unique runId). */
  runId: string;
  /** `Date.now()` when the run started. */
  at: number;
  /** The same instant on the server's clock: the run's startTimestamp times 1000. */
  clockAt: number;
}

/** A StartWorkflowExecution request, checked (names, lengths, enums) but not yet against the server's state. */
export type StartRequest = Omit<RecordedStart, 'runId' | 'at' | 'clockAt'>;

const MAX_EXECUTION_TIMEOUT = 31_536_000; // a year, SWF's limit

function optionalDuration(body: Json, field: string, allowNone: boolean): string | undefined {
  const v = optionalString(body, field, 8);
  if (v === undefined) return undefined;
  if (allowNone && v === 'NONE') return v;
  if (!/^\d+$/.test(v) || (field === 'executionStartToCloseTimeout' && Number(v) > MAX_EXECUTION_TIMEOUT)) {
    throw validation(`Invalid value for ${field}: ${v}`);
  }
  return v;
}

export function parseStart(body: Json): StartRequest {
  const domain = requireName(body, 'domain');
  const workflowId = requireName(body, 'workflowId');
  const type = body.workflowType;
  if (!isObject(type)) throw validation("Value at 'workflowType' must not be null");
  const workflowType = { name: requireName(type, 'name'), version: requireName(type, 'version', 64) };

  let taskList: { name: string } | undefined;
  if (body.taskList !== undefined && body.taskList !== null) {
    if (!isObject(body.taskList)) throw validation("Value at 'taskList' must be a structure");
    taskList = { name: requireName(body.taskList, 'name') };
  }
  const taskPriority = optionalString(body, 'taskPriority', 11);
  if (taskPriority !== undefined) {
    const n = Number(taskPriority);
    if (!/^-?\d+$/.test(taskPriority) || n < -2147483648 || n > 2147483647) {
      throw validation(`Invalid value for taskPriority: ${taskPriority}`);
    }
  }
  const input = optionalString(body, 'input', 32768);
  const executionStartToCloseTimeout = optionalDuration(body, 'executionStartToCloseTimeout', false);
  const taskStartToCloseTimeout = optionalDuration(body, 'taskStartToCloseTimeout', true);
  const childPolicy = optionalChildPolicy(body);
  const lambdaRole = optionalString(body, 'lambdaRole', 1224);

  let tagList: string[] | undefined;
  if (body.tagList !== undefined && body.tagList !== null) {
    const tags: unknown = body.tagList;
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string' || t.length > 256)) {
      throw validation("Value at 'tagList' must be a list of strings of at most 256 characters");
    }
    if (tags.length > 5) {
      throw validation(
        "1 validation error detected: Value at 'tagList' failed to satisfy constraint: Member must have length less than or equal to 5",
      );
    }
    tagList = [...(tags as string[])];
  }

  return {
    domain,
    workflowId,
    workflowType,
    ...(taskList === undefined ? {} : { taskList }),
    ...(taskPriority === undefined ? {} : { taskPriority }),
    ...(input === undefined ? {} : { input }),
    ...(executionStartToCloseTimeout === undefined ? {} : { executionStartToCloseTimeout }),
    ...(tagList === undefined ? {} : { tagList }),
    ...(taskStartToCloseTimeout === undefined ? {} : { taskStartToCloseTimeout }),
    ...(childPolicy === undefined ? {} : { childPolicy }),
    ...(lambdaRole === undefined ? {} : { lambdaRole }),
  };
}

/**
 * The DefaultUndefinedFault a start without a default gets: the fake registers no type defaults, so the
 * task list, both timeouts and the child policy must all be given.
 */
export function checkStartDefaults(req: StartRequest): void {
  const missing: string[] = [];
  if (req.taskList === undefined) missing.push('taskList');
  if (req.executionStartToCloseTimeout === undefined) missing.push('executionStartToCloseTimeout');
  if (req.taskStartToCloseTimeout === undefined) missing.push('taskStartToCloseTimeout');
  if (req.childPolicy === undefined) missing.push('childPolicy');
  if (missing.length > 0) {
    throw defaultUndefined(
      `No value was given for ${missing.join(', ')} and the workflow type registers no default for ${missing.length === 1 ? 'it' : 'them'}`,
    );
  }
}

export const alreadyStarted = (workflowId: string) =>
  new SwfError(
    400,
    `${SWF_NS}WorkflowExecutionAlreadyStartedFault`,
    `Workflow execution already started: workflowId=${workflowId}`,
  );

export const typeDeprecated = (name: string, version: string) =>
  new SwfError(
    400,
    `${SWF_NS}TypeDeprecatedFault`,
    `WorkflowType=[name=${name}, version=${version}] is deprecated`,
  );

/** A fresh runId shaped like SWF's (44 characters of base64). */
export const newRunId = () => randomBytes(32).toString('base64');

/** The run a successful start creates. */
export function startedExecution(req: StartRequest, runId: string, startTimestamp: number): FakeExecution {
  return {
    ...req,
    runId,
    startTimestamp,
    workflowType: { ...req.workflowType },
    ...(req.taskList ? { taskList: { ...req.taskList } } : {}),
    ...(req.tagList ? { tagList: [...req.tagList] } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------
// GetWorkflowExecutionHistory
// ---------------------------------------------------------------------------------------------------------

/**
 * A run's history as SWF would have recorded it: WorkflowExecutionStarted, DecisionTaskScheduled, then
 * WorkflowExecutionCancelRequested if a cancel was requested, then the close: WorkflowExecutionTerminated, or
 * for a run its decider cancelled the decision task that did it (DecisionTaskStarted, DecisionTaskCompleted)
 * and WorkflowExecutionCanceled.
 */
export function historyOf(entry: Entry): Json[] {
  const e = entry.exec;
  const taskList = e.taskList ?? STARTED_DEFAULTS.taskList;
  const taskStartToCloseTimeout = e.taskStartToCloseTimeout ?? STARTED_DEFAULTS.taskStartToCloseTimeout;
  const events: Json[] = [];
  const add = (eventTimestamp: number, eventType: string, attributes: Json) => {
    const key = `${eventType.charAt(0).toLowerCase()}${eventType.slice(1)}EventAttributes`;
    events.push({ eventTimestamp, eventType, eventId: events.length + 1, [key]: attributes });
    return events.length;
  };

  add(e.startTimestamp, 'WorkflowExecutionStarted', {
    ...(e.input === undefined ? {} : { input: e.input }),
    executionStartToCloseTimeout:
      e.executionStartToCloseTimeout ?? STARTED_DEFAULTS.executionStartToCloseTimeout,
    taskStartToCloseTimeout,
    childPolicy: e.childPolicy ?? STARTED_DEFAULTS.childPolicy,
    taskList: { name: taskList.name },
    ...(e.taskPriority === undefined ? {} : { taskPriority: e.taskPriority }),
    workflowType: { name: e.workflowType.name, version: e.workflowType.version },
    ...(e.tagList && e.tagList.length > 0 ? { tagList: [...e.tagList] } : {}),
    ...(e.parent
      ? { parentWorkflowExecution: { workflowId: e.parent.workflowId, runId: e.parent.runId } }
      : {}),
    // SWF always sends it (a number; 0 without a parent, and the fake has no parent history to point into).
    parentInitiatedEventId: 0,
    ...(e.lambdaRole === undefined ? {} : { lambdaRole: e.lambdaRole }),
  });
  const scheduled = add(e.startTimestamp, 'DecisionTaskScheduled', {
    taskList: { name: taskList.name },
    ...(e.taskPriority === undefined ? {} : { taskPriority: e.taskPriority }),
    startToCloseTimeout: taskStartToCloseTimeout,
  });
  if (entry.cancelRequested) {
    add((entry.cancelRequestedAt ?? 0) / 1000, 'WorkflowExecutionCancelRequested', {
      ...(entry.cancelCause ? { cause: entry.cancelCause } : {}),
    });
  }
  if (entry.open) return events;
  const closedAt = (entry.closedAt ?? 0) / 1000;
  if (entry.closeStatus === 'CANCELED') {
    const started = add(closedAt, 'DecisionTaskStarted', { scheduledEventId: scheduled });
    const completed = add(closedAt, 'DecisionTaskCompleted', {
      scheduledEventId: scheduled,
      startedEventId: started,
    });
    add(closedAt, 'WorkflowExecutionCanceled', { decisionTaskCompletedEventId: completed });
  } else {
    const t = entry.termination ?? { childPolicy: ownChildPolicy(e), cause: 'OPERATOR_INITIATED' };
    add(closedAt, 'WorkflowExecutionTerminated', {
      ...(t.reason === undefined ? {} : { reason: t.reason }),
      ...(t.details === undefined ? {} : { details: t.details }),
      childPolicy: t.childPolicy,
      cause: t.cause,
    });
  }
  return events;
}

/** The `execution` argument of GetWorkflowExecutionHistory (and Describe). */
export function executionArg(body: Json): { workflowId: string; runId: string } {
  const execution = body.execution;
  if (!isObject(execution)) throw validation("Value at 'execution' must not be null");
  return { workflowId: requireName(execution, 'workflowId'), runId: requireName(execution, 'runId', 64) };
}

/** One page of `entry`'s history for a GetWorkflowExecutionHistory request. */
export function historyPage(body: Json, domain: string, entry: Entry): Json {
  const { pageSize, reverse } = pagingArgs(body);
  const events = historyOf(entry);
  if (reverse) events.reverse();
  const fingerprint = fingerprintOf([
    'history',
    domain,
    entry.exec.workflowId,
    entry.exec.runId,
    reverse,
    pageSize,
  ]);
  const cursor = decodeCursor(body.nextPageToken, fingerprint, ['number']);
  // The cursor is the eventId the last page ended on; events never change order, so the next one follows it.
  let from = 0;
  if (cursor) {
    const lastId = cursor[0] as number;
    from = events.findIndex((ev) => ev.eventId === lastId) + 1;
    if (from === 0) throw validation('Invalid nextPageToken');
  }
  const page = events.slice(from, from + pageSize);
  const last = page[page.length - 1];
  const more = from + pageSize < events.length;
  return {
    events: page,
    ...(more && last ? { nextPageToken: encodeCursor(fingerprint, [last.eventId as number]) } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------
// ListClosedWorkflowExecutions
// ---------------------------------------------------------------------------------------------------------

type ClosedFilter =
  | { kind: 'execution'; workflowId: string }
  | { kind: 'status'; status: string }
  | { kind: 'type'; name: string; version?: string }
  | { kind: 'tag'; tag: string };

/** The parsed arguments of a ListClosedWorkflowExecutions call. */
export interface ClosedListArgs {
  domain: string;
  /** Which time the filter (and the order) is on. */
  by: 'start' | 'close';
  oldest: number;
  latest?: number;
  filter?: ClosedFilter;
  reverse: boolean;
  pageSize: number;
  fingerprint: string;
}

function timeFilter(body: Json, field: string): { oldest: number; latest?: number } | undefined {
  const f = body[field];
  if (f === undefined || f === null) return undefined;
  if (!isObject(f)) throw validation(`Value at '${field}' must be a structure`);
  const oldest = optionalNumber(f, 'oldestDate');
  if (oldest === undefined) throw validation(`Value at '${field}.oldestDate' must not be null`);
  const latest = optionalNumber(f, 'latestDate');
  return { oldest, ...(latest === undefined ? {} : { latest }) };
}

export function parseClosedListArgs(body: Json): ClosedListArgs {
  const domain = requireName(body, 'domain');
  const start = timeFilter(body, 'startTimeFilter');
  const close = timeFilter(body, 'closeTimeFilter');
  if ((start === undefined) === (close === undefined)) {
    throw validation('Either startTimeFilter or closeTimeFilter must be specified, but not both');
  }
  const time = (start ?? close) as { oldest: number; latest?: number };

  const present = (field: string) => body[field] !== undefined && body[field] !== null;
  const structure = (field: string): Json => {
    const f = body[field];
    if (!isObject(f)) throw validation(`Value at '${field}' must be a structure`);
    return f;
  };
  const filters: ClosedFilter[] = [];
  if (present('executionFilter')) {
    filters.push({ kind: 'execution', workflowId: requireName(structure('executionFilter'), 'workflowId') });
  }
  if (present('closeStatusFilter')) {
    const status = requireName(structure('closeStatusFilter'), 'status', 64);
    if (!CLOSE_STATUSES.includes(status)) {
      throw validation(
        `1 validation error detected: Value '${status}' at 'closeStatusFilter.status' failed to satisfy constraint: Member must satisfy enum value set: [${CLOSE_STATUSES.join(', ')}]`,
      );
    }
    filters.push({ kind: 'status', status });
  }
  if (present('typeFilter')) {
    const f = structure('typeFilter');
    const version = optionalString(f, 'version', 64);
    filters.push({
      kind: 'type',
      name: requireName(f, 'name'),
      ...(version === undefined ? {} : { version }),
    });
  }
  if (present('tagFilter')) {
    filters.push({ kind: 'tag', tag: requireName(structure('tagFilter'), 'tag') });
  }
  if (filters.length > 1) {
    throw validation(
      'closeStatusFilter, executionFilter, typeFilter and tagFilter are mutually exclusive: specify at most one',
    );
  }
  const { pageSize, reverse } = pagingArgs(body);
  const filter = filters[0];
  const by = start ? 'start' : 'close';
  return {
    domain,
    by,
    oldest: time.oldest,
    ...(time.latest === undefined ? {} : { latest: time.latest }),
    ...(filter === undefined ? {} : { filter }),
    reverse,
    pageSize,
    fingerprint: fingerprintOf([
      'closed',
      domain,
      by,
      time.oldest,
      time.latest ?? null,
      filter ?? null,
      reverse,
      pageSize,
    ]),
  };
}

function matchesClosed(entry: Entry, filter: ClosedFilter | undefined): boolean {
  if (!filter) return true;
  const e = entry.exec;
  switch (filter.kind) {
    case 'execution':
      return e.workflowId === filter.workflowId;
    case 'status':
      return entry.closeStatus === filter.status;
    case 'type':
      return (
        e.workflowType.name === filter.name &&
        (filter.version === undefined || e.workflowType.version === filter.version)
      );
    case 'tag':
      return (e.tagList ?? []).includes(filter.tag);
  }
}

type TimeOf = (e: Entry) => number;
const startTime: TimeOf = (e) => e.exec.startTimestamp;
const closeTime: TimeOf = (e) => (e.closedAt ?? 0) / 1000;

/** List order on `time`: newest first, ties by workflowId then runId (so the order, and cursors, are total). */
function comparator(time: TimeOf): (a: Entry, b: Entry) => number {
  return (a, b) => {
    const ta = time(a);
    const tb = time(b);
    if (ta !== tb) return tb - ta;
    if (a.exec.workflowId !== b.exec.workflowId) return a.exec.workflowId < b.exec.workflowId ? -1 : 1;
    if (a.exec.runId !== b.exec.runId) return a.exec.runId < b.exec.runId ? -1 : 1;
    return 0;
  };
}

/** Where a cursor [time, workflowId, runId] falls in the same order, as a comparison with an entry. */
function cursorCompare(time: TimeOf, c: readonly [number, string, string], e: Entry): number {
  const t = time(e);
  if (c[0] !== t) return t - c[0];
  if (c[1] !== e.exec.workflowId) return c[1] < e.exec.workflowId ? -1 : 1;
  if (c[2] !== e.exec.runId) return c[2] < e.exec.runId ? -1 : 1;
  return 0;
}

/** First index of `items` whose element does not satisfy `pred` (true on a prefix of `items`): a binary search. */
export function partitionPoint(items: readonly Entry[], pred: (e: Entry) => boolean): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const item = items[mid];
    if (item !== undefined && pred(item)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Entries kept sorted by one comparator, taking additions in any order: an addition that sorts after the
 * last is appended, any other waits in `pending` until the next read, which sorts the pending ones and merges
 * them in: O(n + k log k) for k additions, so a list page never costs more than the closed runs it could see.
 */
class SortedEntries {
  private items: Entry[] = [];
  private pending: Entry[] = [];
  constructor(private readonly compare: (a: Entry, b: Entry) => number) {}

  add(entry: Entry): void {
    const last = this.items[this.items.length - 1];
    if (this.pending.length === 0 && (last === undefined || this.compare(last, entry) <= 0))
      this.items.push(entry);
    else this.pending.push(entry);
  }

  get(): readonly Entry[] {
    if (this.pending.length > 0) {
      const added = this.pending.sort(this.compare);
      const merged: Entry[] = new Array<Entry>(this.items.length + added.length);
      let i = 0;
      let j = 0;
      let k = 0;
      while (i < this.items.length || j < added.length) {
        const a = this.items[i];
        const b = added[j];
        if (b === undefined || (a !== undefined && this.compare(a, b) <= 0)) {
          merged[k++] = a as Entry;
          i++;
        } else {
          merged[k++] = b;
          j++;
        }
      }
      this.items = merged;
      this.pending = [];
    }
    return this.items;
  }
}

/** A domain's closed runs, in start-time and in close-time order, for ListClosedWorkflowExecutions. */
export class ClosedIndex {
  private readonly byStart = new SortedEntries(comparator(startTime));
  private readonly byClose = new SortedEntries(comparator(closeTime));

  /** Takes a run that just closed (each run once). */
  add(entry: Entry): void {
    this.byStart.add(entry);
    this.byClose.add(entry);
  }

  /** One page: the matching closed runs after the request's cursor, and a token if more follow. */
  page(args: ClosedListArgs, rawToken: unknown): { entries: Entry[]; nextPageToken?: string } {
    const raw = decodeCursor(rawToken, args.fingerprint, ['number', 'string', 'string']);
    const cursor = raw as [number, string, string] | undefined;
    const time = args.by === 'start' ? startTime : closeTime;
    const items = (args.by === 'start' ? this.byStart : this.byClose).get();
    const { oldest, latest, filter } = args;
    function* walk(): Generator<Entry> {
      if (!args.reverse) {
        // Newest first: from the first run at or before `latest` (and after the cursor) down to `oldest`.
        let i = latest === undefined ? 0 : partitionPoint(items, (e) => time(e) > latest);
        if (cursor)
          i = Math.max(
            i,
            partitionPoint(items, (e) => cursorCompare(time, cursor, e) >= 0),
          );
        for (; i < items.length; i++) {
          const e = items[i] as Entry;
          if (time(e) < oldest) return;
          if (matchesClosed(e, filter)) yield e;
        }
      } else {
        let i = partitionPoint(items, (e) => time(e) >= oldest) - 1;
        if (cursor) i = Math.min(i, partitionPoint(items, (e) => cursorCompare(time, cursor, e) > 0) - 1);
        for (; i >= 0; i--) {
          const e = items[i] as Entry;
          if (latest !== undefined && time(e) > latest) return;
          if (matchesClosed(e, filter)) yield e;
        }
      }
    }
    const out: Entry[] = [];
    let more = false;
    for (const e of walk()) {
      if (out.length === args.pageSize) {
        more = true;
        break;
      }
      out.push(e);
    }
    const last = out[out.length - 1];
    return {
      entries: out,
      ...(more && last
        ? {
            nextPageToken: encodeCursor(args.fingerprint, [
              time(last),
              last.exec.workflowId,
              last.exec.runId,
            ]),
          }
        : {}),
    };
  }
}
