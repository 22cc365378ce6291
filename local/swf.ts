/**
 * A local stand-in for Amazon SWF that the real `@aws-sdk/client-swf` can talk to.
 *
 * It speaks SWF's AWS JSON 1.0 protocol (see docs/facts.md, "Wire protocol"): every call is
 * `POST /` with `X-Amz-Target: SimpleWorkflowService.<Operation>` and a JSON body; success is HTTP 200
 * with a JSON body, modelled faults are HTTP 400 with `__type` naming the fault, throttling is HTTP 400
 * with `__type` ending in `#ThrottlingException`, and server errors are HTTP 500.
 *
 * Operations: TerminateWorkflowExecution, RequestCancelWorkflowExecution, ListOpenWorkflowExecutions,
 * CountOpenWorkflowExecutions, DescribeWorkflowExecution, StartWorkflowExecution, GetWorkflowExecutionHistory,
 * ListClosedWorkflowExecutions. Anything else answers `UnknownOperationException`. The last three (what
 * restarting terminated runs needs) live in local/swf-history.ts: the fake synthesizes each run's history from
 * what it was started with ({@link FakeExecution}'s start attributes, {@link STARTED_DEFAULTS} for those left
 * out) and how it closed. Terminating a run applies its child policy to its open children (runs whose
 * `parent` it is), as SWF does: TERMINATE closes them (cause CHILD_POLICY_APPLIED), REQUEST_CANCEL asks them
 * to cancel.
 *
 * Clock: start times of runs started through the API, close times and cancel-request times are on the
 * server's clock (`now`, default `Date.now`), so closeTimestamp and history events agree with `clockAt`.
 *
 * Cancelling only asks: in SWF the execution's decider sees the request and decides whether (and when) to
 * close the execution. The fake has no decider, so an execution says up front what its decider would do
 * (`honoursCancel`): close at once as CANCELED, or carry on open with `cancelRequested` set.
 *
 * Built for volume: a domain can hold 100,000 open executions. Listing is O(log n + page) per call
 * (a sorted array, binary search to the page's start, and a cursor rather than an offset in the page
 * token, so terminations between pages never shift a page); terminating and cancelling are O(1) amortised
 * (a Map plus lazy deletion from the sorted array, compacted once closed entries outnumber open ones).
 *
 * Point a client at it with `new SWFClient({ endpoint: server.endpoint, region: 'us-east-1',
 * credentials: { accessKeyId: 'x', secretAccessKey: 'x' } })`, or set `AWS_ENDPOINT_URL_SWF` to
 * `server.endpoint` for code that builds its own client.
 */
import { createHash, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { SWF_QUOTAS as SWF_API_QUOTAS } from '../lib/contract';
import type { ChildPolicy, CloseStatus, FakeExecution, WorkflowOpenCounts } from './swf-execution';

export type { ChildPolicy, CloseStatus, FakeExecution, WorkflowOpenCounts } from './swf-execution';
import {
  alreadyStarted,
  CHILD_POLICIES,
  checkStartDefaults,
  ClosedIndex,
  closeDetailsOf,
  decodeCursor,
  encodeCursor,
  executionArg,
  historyPage,
  isObject,
  MAX_PAGE_SIZE,
  newRunId,
  optionalNumber,
  optionalString,
  ownChildPolicy,
  parseClosedListArgs,
  partitionPoint,
  parseStart,
  requireName,
  runKey,
  startedExecution,
  SWF_NS,
  SwfError,
  typeDeprecated,
  unknownDomain,
  unknownExecution,
  validation,
  type CloseDetails,
  type Entry,
  type Json,
  type RecordedStart,
  type TerminationDetails,
} from './swf-history';

export {
  STARTED_DEFAULTS,
  type CloseDetails,
  type RecordedStart,
  type StartRequest,
  type TerminatedCause,
  type TerminationDetails,
} from './swf-history';

/** One execution's state as the fake holds it (see {@link FakeSwfServer.execution}). */
export interface ExecutionState {
  open: boolean;
  cancelRequested: boolean;
  /** Set once the execution is closed. */
  closeStatus?: CloseStatus;
}

/**
 * A fault to inject into a coming call (see {@link FakeSwfServer.failNext}):
 * - `throttle`: HTTP 400 `ThrottlingException` (the SDK classifies it as throttling and retries it);
 * - `server-error`: HTTP 500 `InternalFailure` (retried by the SDK as transient);
 * - `drop-connection`: the socket is destroyed without a response (the SDK sees ECONNRESET / "socket hang
 *   up" and retries it as transient);
 * - `hang`: the request is read and never answered; the connection stays open until the client gives up
 *   (the SDK's request timeout, retried as transient) or the server closes;
 * - `stall-body`: the answer starts (status and headers, then part of the body) and stops there; the client
 *   gives up when the socket stays idle (the SDK's socket timeout, retried as transient);
 * - `not-permitted`: HTTP 400 `OperationNotPermittedFault` (not retried);
 * - `unknown-domain`: HTTP 400 `UnknownResourceFault` "Unknown domain: NAME" (not retried).
 */
export type Fault =
  | 'throttle'
  | 'server-error'
  | 'drop-connection'
  | 'hang'
  | 'stall-body'
  | 'not-permitted'
  | 'unknown-domain';

/** An SWF-style token bucket: `capacity` requests of burst, refilled at `refillPerSecond`. */
export interface BucketSpec {
  capacity: number;
  refillPerSecond: number;
}

/** SWF's per-account quotas (lib/contract.ts, from docs/facts.md), ready to pass as `buckets`. */
export const SWF_QUOTAS: Readonly<Record<keyof typeof SWF_API_QUOTAS, BucketSpec>> = {
  TerminateWorkflowExecution: bucketOf(SWF_API_QUOTAS.TerminateWorkflowExecution),
  RequestCancelWorkflowExecution: bucketOf(SWF_API_QUOTAS.RequestCancelWorkflowExecution),
  ListOpenWorkflowExecutions: bucketOf(SWF_API_QUOTAS.ListOpenWorkflowExecutions),
  CountOpenWorkflowExecutions: bucketOf(SWF_API_QUOTAS.CountOpenWorkflowExecutions),
  DescribeWorkflowExecution: bucketOf(SWF_API_QUOTAS.DescribeWorkflowExecution),
  StartWorkflowExecution: bucketOf(SWF_API_QUOTAS.StartWorkflowExecution),
  GetWorkflowExecutionHistory: bucketOf(SWF_API_QUOTAS.GetWorkflowExecutionHistory),
  ListClosedWorkflowExecutions: bucketOf(SWF_API_QUOTAS.ListClosedWorkflowExecutions),
};

function bucketOf(quota: { burst: number; refillPerSecond: number }): BucketSpec {
  return { capacity: quota.burst, refillPerSecond: quota.refillPerSecond };
}

export interface FakeSwfOptions {
  /** Known domains; any other domain answers `UnknownResourceFault` "Unknown domain: NAME". */
  domains: string[];
  /** Executions to start with (all open). Their domains must be in `domains`. */
  executions?: FakeExecution[];
  /** Milliseconds added before every response (faults and dropped connections included). Default 0. */
  latencyMs?: number;
  /**
   * Token buckets per operation name (e.g. `SWF_QUOTAS`, or `{ TerminateWorkflowExecution: {...} }`).
   * A call that finds its bucket empty answers `ThrottlingException` and consumes nothing. Buckets
   * start full. Operations without a bucket are never throttled (except by `failNext`).
   */
  buckets?: Partial<Record<string, BucketSpec>>;
  /**
   * Simulated seconds per real second for the buckets (default 1). With `timeScale: 10` every bucket
   * refills ten times faster in real time; capacities (a number of requests, not a rate) are unchanged.
   * So SWF's Terminate quota at timeScale 10 allows a 2000 burst and then 600 calls per real second,
   * and a client pacing itself at R per simulated second must be configured with R x timeScale.
   */
  timeScale?: number;
  /**
   * List and Count ignore every filter (executionFilter, typeFilter, tagFilter and startTimeFilter) and
   * return every open execution of the domain: a faulty or eventually-consistent endpoint, for testing
   * that a client re-checks what it is given. Arguments are still validated.
   */
  ignoreFilters?: boolean;
  /** A terminate naming no childPolicy fails (`DefaultUndefinedFault`) unless the execution has a default. */
  requireChildPolicy?: boolean;
  /** Keep every call in `calls` (default true). Turn off for very long benchmark runs. */
  recordCalls?: boolean;
  /**
   * The clock terminations and cancel requests are dated by in `clockAt` (ms since the epoch), e.g. the clock
   * a test gives the handler, so that a grace period is measured on one clock. Default `Date.now`.
   */
  now?: () => number;
}

/** One call the server received (after the body was parsed), whatever its outcome. */
export interface RecordedCall {
  operation: string;
  body: unknown;
  /** `Date.now()` when the request was received. */
  at: number;
}

/** One successful TerminateWorkflowExecution. */
export interface RecordedTermination {
  domain: string;
  workflowId: string;
  runId: string;
  reason?: string;
  details?: string;
  childPolicy?: string;
  /** `Date.now()` when the execution was closed. */
  at: number;
  /** The same instant on the server's clock ({@link FakeSwfOptions.now}). */
  clockAt: number;
}

/**
 * One successful RequestCancelWorkflowExecution (SWF's request carries no reason or details). Whether the
 * execution then closed depends on its `honoursCancel`; see {@link FakeSwfServer.execution}.
 */
export interface RecordedCancellation {
  domain: string;
  workflowId: string;
  /** The run the request acted on (resolved from the workflowId's open run when the call named none). */
  runId: string;
  /** `Date.now()` when the cancel was requested. */
  at: number;
  /** The same instant on the server's clock ({@link FakeSwfOptions.now}). */
  clockAt: number;
}

const TARGET_PREFIX = 'SimpleWorkflowService.';
const CONTENT_TYPE = 'application/x-amz-json-1.0';
const OPERATIONS = new Set([
  'TerminateWorkflowExecution',
  'RequestCancelWorkflowExecution',
  'ListOpenWorkflowExecutions',
  'CountOpenWorkflowExecutions',
  'DescribeWorkflowExecution',
  'StartWorkflowExecution',
  'GetWorkflowExecutionHistory',
  'ListClosedWorkflowExecutions',
]);

/** DescribeWorkflowExecution's `openCounts` for an execution that gave none. */
const NO_OPEN_COUNTS: Readonly<WorkflowOpenCounts> = {
  openActivityTasks: 0,
  openDecisionTasks: 0,
  openTimers: 0,
  openChildWorkflowExecutions: 0,
  openLambdaFunctions: 0,
};

/** Sort order: newest first; ties by workflowId then runId, so the order (and cursors) are total. */
function before(a: Entry, b: Entry): boolean {
  const x = a.exec;
  const y = b.exec;
  if (x.startTimestamp !== y.startTimestamp) return x.startTimestamp > y.startTimestamp;
  if (x.workflowId !== y.workflowId) return x.workflowId < y.workflowId;
  return x.runId < y.runId;
}

function compareEntries(a: Entry, b: Entry): number {
  if (before(a, b)) return -1;
  if (before(b, a)) return 1;
  return 0;
}

/**
 * The open run a Terminate or RequestCancel names: the given run, or without runId the workflowId's current
 * open run. A closed or unknown run is SWF's UnknownResourceFault "Unknown execution".
 */
function openEntry(state: DomainState, workflowId: string, runId: string | undefined): Entry {
  const entry =
    runId === undefined || runId === ''
      ? state.openRun.get(workflowId)
      : state.byRun.get(runKey(workflowId, runId));
  if (!entry?.open) throw unknownExecution(workflowId, runId);
  return entry;
}

/**
 * Marks an open run cancel-requested (by a call, or by its parent's REQUEST_CANCEL child policy when `cause`
 * says so), and closes it as CANCELED at once if its decider honours cancels.
 */
function requestCancelOf(
  state: DomainState,
  entry: Entry,
  clockAt: number,
  cause: 'CHILD_POLICY_APPLIED' | undefined,
): void {
  if (!entry.cancelRequested) {
    entry.cancelRequested = true;
    entry.cancelRequestedAt = clockAt;
    if (cause) entry.cancelCause = cause;
  }
  if (entry.exec.honoursCancel === true) state.close(entry, clockAt, 'CANCELED');
}

/** The executions of one domain and the indexes over them. */
class DomainState {
  /** Every execution, open or closed, by workflowId + runId. */
  readonly byRun = new Map<string, Entry>();
  /** The open run of each workflowId (SWF allows at most one). */
  readonly openRun = new Map<string, Entry>();
  /** Every open execution and some closed ones (lazy deletion), sorted by `before` unless `dirty`. */
  private sorted: Entry[] = [];
  private dirty = false;
  private closedInSorted = 0;
  /** Filtered views of `sorted` (same order), built on first use, dropped when `sorted` changes. */
  private readonly views = new Map<string, Entry[]>();
  /** Every closed execution, for ListClosedWorkflowExecutions. */
  readonly closed = new ClosedIndex();
  /** The runs that name each run (by workflowId + runId) as their parent, open or since closed. */
  readonly children = new Map<string, Entry[]>();

  add(exec: FakeExecution): Entry {
    const key = runKey(exec.workflowId, exec.runId);
    if (this.byRun.has(key)) {
      throw new Error(`fake-swf: execution ${exec.workflowId}/${exec.runId} already exists`);
    }
    if (this.openRun.has(exec.workflowId)) {
      throw new Error(`fake-swf: workflowId ${exec.workflowId} already has an open run`);
    }
    // Copy the nested objects too: the caller's object must not change what Describe or a history reports later.
    const copy: FakeExecution = {
      ...exec,
      workflowType: { ...exec.workflowType },
      ...(exec.openCounts ? { openCounts: { ...exec.openCounts } } : {}),
      ...(exec.tagList ? { tagList: [...exec.tagList] } : {}),
      ...(exec.taskList ? { taskList: { ...exec.taskList } } : {}),
      ...(exec.parent ? { parent: { ...exec.parent } } : {}),
    };
    const entry: Entry = { exec: copy, open: true, cancelRequested: false };
    this.byRun.set(key, entry);
    this.openRun.set(exec.workflowId, entry);
    this.sorted.push(entry);
    this.dirty = true;
    this.views.clear();
    if (copy.parent) {
      const parentKey = runKey(copy.parent.workflowId, copy.parent.runId);
      const siblings = this.children.get(parentKey);
      if (siblings) siblings.push(entry);
      else this.children.set(parentKey, [entry]);
    }
    return entry;
  }

  /** Closes an open run; `at` is its close time, ms on the server's clock. */
  close(entry: Entry, at: number, status: CloseStatus): void {
    entry.open = false;
    entry.closedAt = at;
    entry.closeStatus = status;
    this.openRun.delete(entry.exec.workflowId);
    this.closed.add(entry);
    this.closedInSorted++;
    if (this.closedInSorted > 1024 && this.closedInSorted * 2 > this.sorted.length) {
      this.sorted = this.sorted.filter((e) => e.open);
      this.closedInSorted = 0;
      this.views.clear();
    }
  }

  /** The sorted entries (possibly including closed ones) a filtered list has to walk. */
  view(filter: ListFilter | undefined): Entry[] {
    if (this.dirty) {
      this.sorted.sort(compareEntries);
      this.dirty = false;
    }
    if (!filter) return this.sorted;
    if (filter.kind === 'execution') {
      // At most one open run per workflowId: no need to build (and cache) a view.
      const entry = this.openRun.get(filter.workflowId);
      return entry ? [entry] : [];
    }
    const key = JSON.stringify(filter);
    let view = this.views.get(key);
    if (!view) {
      view = this.sorted.filter((e) => e.open && matchesFilter(e.exec, filter));
      if (this.views.size >= 32) this.views.clear();
      this.views.set(key, view);
    }
    return view;
  }
}

type ListFilter =
  | { kind: 'execution'; workflowId: string }
  | { kind: 'type'; name: string; version?: string }
  | { kind: 'tag'; tag: string };

function matchesFilter(exec: FakeExecution, filter: ListFilter): boolean {
  switch (filter.kind) {
    case 'execution':
      return exec.workflowId === filter.workflowId;
    case 'type':
      return (
        exec.workflowType.name === filter.name &&
        (filter.version === undefined || exec.workflowType.version === filter.version)
      );
    case 'tag':
      return (exec.tagList ?? []).includes(filter.tag);
  }
}

class Bucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly spec: BucketSpec,
    private readonly timeScale: number,
  ) {
    this.tokens = spec.capacity;
    this.last = performance.now();
  }
  take(): boolean {
    const now = performance.now();
    const refill = ((now - this.last) / 1000) * this.spec.refillPerSecond * this.timeScale;
    this.tokens = Math.min(this.spec.capacity, this.tokens + refill);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}

/** The parsed arguments of a List/Count call. */
interface ListArgs {
  domain: string;
  oldest: number;
  latest?: number;
  filter?: ListFilter;
  reverse: boolean;
  pageSize: number;
  /** What a page token binds: every argument but the token itself. */
  fingerprint: string;
}

function parseListArgs(body: Json, paged: boolean): ListArgs {
  const domain = requireName(body, 'domain');
  const stf = body.startTimeFilter;
  if (!isObject(stf)) throw validation("Value at 'startTimeFilter' must not be null");
  const oldest = optionalNumber(stf, 'oldestDate');
  if (oldest === undefined) throw validation("Value at 'startTimeFilter.oldestDate' must not be null");
  const latest = optionalNumber(stf, 'latestDate');
  if (body.closeStatusFilter !== undefined || body.closeTimeFilter !== undefined) {
    throw validation('closeStatusFilter and closeTimeFilter apply to closed executions only');
  }

  const filters: ListFilter[] = [];
  if (body.executionFilter !== undefined) {
    const f = body.executionFilter;
    if (!isObject(f)) throw validation("Value at 'executionFilter' must be a structure");
    filters.push({ kind: 'execution', workflowId: requireName(f, 'workflowId') });
  }
  if (body.typeFilter !== undefined) {
    const f = body.typeFilter;
    if (!isObject(f)) throw validation("Value at 'typeFilter' must be a structure");
    const version = optionalString(f, 'version', 64);
    filters.push({
      kind: 'type',
      name: requireName(f, 'name'),
      ...(version === undefined ? {} : { version }),
    });
  }
  if (body.tagFilter !== undefined) {
    const f = body.tagFilter;
    if (!isObject(f)) throw validation("Value at 'tagFilter' must be a structure");
    filters.push({ kind: 'tag', tag: requireName(f, 'tag') });
  }
  if (filters.length > 1) {
    throw validation('executionFilter, typeFilter and tagFilter are mutually exclusive: specify at most one');
  }

  let pageSize = MAX_PAGE_SIZE;
  let reverse = false;
  if (paged) {
    const mps = body.maximumPageSize;
    if (mps !== undefined && mps !== null) {
      if (typeof mps !== 'number' || !Number.isInteger(mps) || mps < 0 || mps > MAX_PAGE_SIZE) {
        throw validation(
          `1 validation error detected: Value at 'maximumPageSize' failed to satisfy constraint: Member must have value between 0 and ${MAX_PAGE_SIZE}`,
        );
      }
      if (mps > 0) pageSize = mps;
    }
    if (body.reverseOrder !== undefined && typeof body.reverseOrder !== 'boolean') {
      throw validation("Value at 'reverseOrder' must be a boolean");
    }
    reverse = body.reverseOrder === true;
  }
  const filter = filters[0];
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([domain, oldest, latest ?? null, filter ?? null, reverse, pageSize]))
    .digest('base64url')
    .slice(0, 22);
  return {
    domain,
    oldest,
    ...(latest === undefined ? {} : { latest }),
    ...(filter === undefined ? {} : { filter }),
    reverse,
    pageSize,
    fingerprint,
  };
}

/** A ListOpen page token's cursor: the last execution returned (startTimestamp, workflowId, runId). */
type ListCursor = [number, string, string];

function executionInfo(entry: Entry): Json {
  const e = entry.exec;
  return {
    execution: { workflowId: e.workflowId, runId: e.runId },
    workflowType: { name: e.workflowType.name, version: e.workflowType.version },
    startTimestamp: e.startTimestamp,
    executionStatus: entry.open ? 'OPEN' : 'CLOSED',
    ...(entry.open
      ? {}
      : { closeStatus: entry.closeStatus ?? 'TERMINATED', closeTimestamp: (entry.closedAt ?? 0) / 1000 }),
    ...(e.tagList && e.tagList.length > 0 ? { tagList: [...e.tagList] } : {}),
    ...(e.parent ? { parent: { workflowId: e.parent.workflowId, runId: e.parent.runId } } : {}),
    // Always present: SWF's WorkflowExecutionInfo sends the boolean, false until a cancel is requested.
    cancelRequested: entry.cancelRequested,
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A running fake SWF endpoint. Create it with {@link FakeSwfServer.start}; `close()` it when done. */
export class FakeSwfServer {
  /** `http://127.0.0.1:PORT`: the client's `endpoint`, or the value for `AWS_ENDPOINT_URL_SWF`. */
  readonly endpoint: string;

  private readonly domains = new Map<string, DomainState>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly faults = new Map<string, Fault[]>();
  private readonly rules: {
    operation: string;
    when: (body: Record<string, unknown>) => boolean;
    fault: Fault;
  }[] = [];
  private readonly callLog: RecordedCall[] = [];
  private readonly terminationLog: RecordedTermination[] = [];
  private readonly cancellationLog: RecordedCancellation[] = [];
  private readonly startLog: RecordedStart[] = [];
  /** Deprecated workflow types, by domain, name and version (see {@link deprecateType}). */
  private readonly deprecated = new Set<string>();
  private readonly throttled = new Map<string, number>();
  private readonly callCounts = new Map<string, number>();
  private readonly opts: FakeSwfOptions;

  private constructor(
    private readonly server: http.Server,
    opts: FakeSwfOptions,
  ) {
    this.opts = opts;
    this.latencyMs = opts.latencyMs ?? 0;
    const { port } = server.address() as AddressInfo;
    this.endpoint = `http://127.0.0.1:${port}`;
    for (const d of opts.domains) this.domains.set(d, new DomainState());
    const timeScale = opts.timeScale ?? 1;
    if (!(timeScale > 0)) throw new Error('fake-swf: timeScale must be > 0');
    for (const [op, spec] of Object.entries(opts.buckets ?? {})) {
      if (spec) this.buckets.set(op, new Bucket(spec, timeScale));
    }
    this.addExecutions(opts.executions ?? []);
  }

  /** Starts a server on 127.0.0.1 with an ephemeral port. */
  static async start(opts: FakeSwfOptions): Promise<FakeSwfServer> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    let fake: FakeSwfServer;
    try {
      fake = new FakeSwfServer(server, opts);
    } catch (err) {
      server.close();
      throw err;
    }
    server.on('request', (req, res) => {
      fake.onRequest(req, res).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          send(res, 500, { __type: 'com.amazon.coral.service#InternalFailure', message: String(err) });
        }
      });
    });
    return fake;
  }

  /**
   * Queues `fault` for the next `times` calls (default 1) of `operation` (e.g.
   * `'TerminateWorkflowExecution'`). Queued faults are consumed first-in first-out, one per call, before
   * buckets and before the operation runs; a faulted call consumes no bucket token and changes nothing.
   */
  failNext(operation: string, fault: Fault, times = 1): void {
    const queue = this.faults.get(operation) ?? [];
    for (let i = 0; i < times; i++) queue.push(fault);
    this.faults.set(operation, queue);
  }

  /** Milliseconds added before every response from now on (see {@link FakeSwfOptions.latencyMs}). */
  latencyMs: number;

  /**
   * Answers every call of `operation` whose body `when` accepts with `fault`, from now on (after any fault
   * queued by {@link failNext}): e.g. SWF refusing to cancel one run. Returns a function that lifts it.
   */
  failWhen(operation: string, when: (body: Record<string, unknown>) => boolean, fault: Fault): () => void {
    const rule = { operation, when, fault };
    this.rules.push(rule);
    return () => {
      const index = this.rules.indexOf(rule);
      if (index !== -1) this.rules.splice(index, 1);
    };
  }

  /** Every call received (parsed body), in arrival order. Empty if `recordCalls` is false. */
  get calls(): readonly RecordedCall[] {
    return this.callLog;
  }

  /** Every successful termination, in order. */
  get terminations(): readonly RecordedTermination[] {
    return this.terminationLog;
  }

  /** Every successful RequestCancelWorkflowExecution, in order (a copy). */
  cancellations(): RecordedCancellation[] {
    return [...this.cancellationLog];
  }

  /** Every successful StartWorkflowExecution, in order: its arguments, the new runId, and when. */
  get starts(): readonly RecordedStart[] {
    return this.startLog;
  }

  /**
   * Marks a workflow type deprecated (as SWF's DeprecateWorkflowType): StartWorkflowExecution of it then
   * fails with `TypeDeprecatedFault`. Runs of it already open carry on. Throws for an unknown domain.
   */
  deprecateType(domain: string, name: string, version: string): void {
    if (!this.domains.has(domain)) throw new Error(`fake-swf: unknown domain ${domain}`);
    this.deprecated.add(JSON.stringify([domain, name, version]));
  }

  /**
   * How a closed run closed (a copy): status, close time on the server's clock, and for a terminated run the
   * termination's reason, details, applied child policy and cause (OPERATOR_INITIATED for a
   * TerminateWorkflowExecution, CHILD_POLICY_APPLIED for a child its parent's termination closed, which
   * `terminations` does not list). Undefined for an open or unknown run.
   */
  closeDetails(domain: string, workflowId: string, runId: string): CloseDetails | undefined {
    const entry = this.domains.get(domain)?.byRun.get(runKey(workflowId, runId));
    return entry && closeDetailsOf(entry);
  }

  /**
   * One execution's state (a copy), open or closed, or undefined if the domain or the run is unknown.
   * O(1): for assertions about a single execution without listing the domain.
   */
  execution(domain: string, workflowId: string, runId: string): ExecutionState | undefined {
    const entry = this.domains.get(domain)?.byRun.get(runKey(workflowId, runId));
    if (!entry) return undefined;
    return {
      open: entry.open,
      cancelRequested: entry.cancelRequested,
      ...(entry.closeStatus === undefined ? {} : { closeStatus: entry.closeStatus }),
    };
  }

  /** Open executions (copies), newest first; of one domain, or of all. O(n): for assertions. */
  openExecutions(domain?: string): FakeExecution[] {
    const out: FakeExecution[] = [];
    for (const [name, state] of this.domains) {
      if (domain !== undefined && name !== domain) continue;
      for (const e of state.view(undefined)) if (e.open) out.push({ ...e.exec });
    }
    return out;
  }

  /** How many executions are open, in one domain or in all. O(domains). */
  openCount(domain?: string): number {
    let n = 0;
    for (const [name, state] of this.domains) {
      if (domain === undefined || name === domain) n += state.openRun.size;
    }
    return n;
  }

  /** Starts more executions (all open). Throws for an unknown domain or a workflowId already open. */
  addExecutions(execs: readonly FakeExecution[]): void {
    for (const exec of execs) {
      const state = this.domains.get(exec.domain);
      if (!state)
        throw new Error(`fake-swf: execution ${exec.workflowId} names unknown domain ${exec.domain}`);
      state.add(exec);
    }
  }

  /** Throttling answers sent (bucket or injected), for one operation or in total. */
  throttledCount(operation?: string): number {
    if (operation !== undefined) return this.throttled.get(operation) ?? 0;
    let n = 0;
    for (const v of this.throttled.values()) n += v;
    return n;
  }

  /** Calls received (whatever their outcome), for one operation or in total; counted even without `recordCalls`. */
  callCount(operation?: string): number {
    if (operation !== undefined) return this.callCounts.get(operation) ?? 0;
    let n = 0;
    for (const v of this.callCounts.values()) n += v;
    return n;
  }

  /**
   * Forgets recorded calls, call and throttle counts, terminations, cancellations and starts (executions,
   * their state and buckets are kept).
   */
  resetStats(): void {
    this.callCounts.clear();
    this.callLog.length = 0;
    this.terminationLog.length = 0;
    this.cancellationLog.length = 0;
    this.startLog.length = 0;
    this.throttled.clear();
  }

  /** Stops listening and closes every connection, idle keep-alive ones included. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
    this.server.closeAllConnections();
    await closed;
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const latency = this.latencyMs;

    const answer = async (status: number, body: Json) => {
      if (latency > 0) await sleep(latency);
      if (!res.destroyed) send(res, status, body);
    };

    const target = req.headers['x-amz-target'];
    const operation =
      typeof target === 'string' && target.startsWith(TARGET_PREFIX)
        ? target.slice(TARGET_PREFIX.length)
        : '';
    if (req.method !== 'POST' || !OPERATIONS.has(operation)) {
      await answer(400, {
        __type: 'com.amazon.coral.service#UnknownOperationException',
        message: `Unknown operation ${String(target)}`,
      });
      return;
    }
    let body: unknown;
    try {
      body = raw.length === 0 ? {} : JSON.parse(raw);
    } catch {
      await answer(400, {
        __type: 'com.amazon.coral.service#SerializationException',
        message: 'Invalid JSON',
      });
      return;
    }
    this.callCounts.set(operation, (this.callCounts.get(operation) ?? 0) + 1);
    if (this.opts.recordCalls !== false) this.callLog.push({ operation, body, at: Date.now() });

    const fault =
      this.faults.get(operation)?.shift() ??
      this.rules.find((r) => r.operation === operation && isObject(body) && r.when(body))?.fault;
    if (fault !== undefined) {
      if (fault === 'drop-connection') {
        if (latency > 0) await sleep(latency);
        req.socket.destroy();
        return;
      }
      if (fault === 'hang') return; // no answer: close() ends the connection if the client has not
      if (fault === 'stall-body') {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.write('{"executionInfos":[');
        return; // the rest never comes
      }
      if (fault === 'throttle') this.countThrottle(operation);
      const domain = isObject(body) && typeof body.domain === 'string' ? body.domain : '';
      const err = faultError(fault, domain);
      await answer(err.status, { __type: err.type, message: err.message });
      return;
    }

    const bucket = this.buckets.get(operation);
    if (bucket && !bucket.take()) {
      this.countThrottle(operation);
      await answer(400, {
        __type: 'com.amazon.coral.availability#ThrottlingException',
        message: 'Rate exceeded',
      });
      return;
    }

    let result: Json;
    try {
      if (!isObject(body)) throw validation('The request body must be a JSON object');
      result = this.dispatch(operation, body);
    } catch (err) {
      if (err instanceof SwfError) {
        await answer(err.status, { __type: err.type, message: err.message });
        return;
      }
      throw err;
    }
    await answer(200, result);
  }

  private countThrottle(operation: string): void {
    this.throttled.set(operation, (this.throttled.get(operation) ?? 0) + 1);
  }

  private domainState(domain: string): DomainState {
    const state = this.domains.get(domain);
    if (!state) throw unknownDomain(domain);
    return state;
  }

  private dispatch(operation: string, body: Json): Json {
    switch (operation) {
      case 'TerminateWorkflowExecution':
        return this.terminate(body);
      case 'RequestCancelWorkflowExecution':
        return this.requestCancel(body);
      case 'ListOpenWorkflowExecutions':
        return this.list(body);
      case 'CountOpenWorkflowExecutions':
        return this.count(body);
      case 'DescribeWorkflowExecution':
        return this.describe(body);
      case 'StartWorkflowExecution':
        return this.startExecution(body);
      case 'GetWorkflowExecutionHistory':
        return this.history(body);
      case 'ListClosedWorkflowExecutions':
        return this.listClosed(body);
      default:
        throw new SwfError(400, 'com.amazon.coral.service#UnknownOperationException', operation);
    }
  }

  private terminate(body: Json): Json {
    const domain = requireName(body, 'domain');
    const workflowId = requireName(body, 'workflowId');
    const runId = optionalString(body, 'runId', 64);
    const reason = optionalString(body, 'reason', 256);
    const details = optionalString(body, 'details', 32768);
    const childPolicy = optionalString(body, 'childPolicy', 64);
    if (childPolicy !== undefined && !CHILD_POLICIES.includes(childPolicy)) {
      throw validation(
        `1 validation error detected: Value '${childPolicy}' at 'childPolicy' failed to satisfy constraint: Member must satisfy enum value set: [TERMINATE, REQUEST_CANCEL, ABANDON]`,
      );
    }
    const state = this.domainState(domain);
    const entry = openEntry(state, workflowId, runId);
    if (
      this.opts.requireChildPolicy &&
      childPolicy === undefined &&
      !entry.exec.defaultChildPolicy &&
      !entry.exec.childPolicy
    ) {
      throw new SwfError(
        400,
        `${SWF_NS}DefaultUndefinedFault`,
        'No childPolicy was given and the workflow type has no default child policy',
      );
    }
    const at = Date.now();
    const clockAt = this.opts.now?.() ?? at;
    const applied = (childPolicy as ChildPolicy | undefined) ?? ownChildPolicy(entry.exec);
    this.terminateEntry(state, entry, clockAt, {
      ...(reason === undefined ? {} : { reason }),
      ...(details === undefined ? {} : { details }),
      childPolicy: applied,
      cause: 'OPERATOR_INITIATED',
    });
    this.terminationLog.push({
      domain,
      workflowId,
      runId: entry.exec.runId,
      ...(reason === undefined ? {} : { reason }),
      ...(details === undefined ? {} : { details }),
      ...(childPolicy === undefined ? {} : { childPolicy }),
      at,
      clockAt,
    });
    return {};
  }

  /**
   * RequestCancelWorkflowExecution: marks the run cancel-requested, and closes it as CANCELED at once if its
   * decider honours cancels. A repeated request for a still-open run succeeds again and is logged again: the
   * fake models no fault for it, so a test can count how often a client asked.
   */
  private requestCancel(body: Json): Json {
    const domain = requireName(body, 'domain');
    const workflowId = requireName(body, 'workflowId');
    const runId = optionalString(body, 'runId', 64);
    const state = this.domainState(domain);
    const entry = openEntry(state, workflowId, runId);
    const at = Date.now();
    const clockAt = this.opts.now?.() ?? at;
    requestCancelOf(state, entry, clockAt, undefined);
    this.cancellationLog.push({
      domain,
      workflowId,
      runId: entry.exec.runId,
      at,
      clockAt,
    });
    return {};
  }

  /**
   * Closes `entry` as TERMINATED with `termination`, then applies the child policy it names to the run's open
   * children, as SWF does: TERMINATE terminates them (cause CHILD_POLICY_APPLIED, each applying its own child
   * policy to its children in turn), REQUEST_CANCEL asks them to cancel, ABANDON leaves them be.
   */
  private terminateEntry(
    state: DomainState,
    entry: Entry,
    clockAt: number,
    termination: TerminationDetails,
  ): void {
    const work: [Entry, TerminationDetails][] = [[entry, termination]];
    for (let item = work.pop(); item !== undefined; item = work.pop()) {
      const [run, t] = item;
      if (!run.open) continue;
      run.termination = t;
      state.close(run, clockAt, 'TERMINATED');
      if (t.childPolicy === 'ABANDON') continue;
      for (const child of state.children.get(runKey(run.exec.workflowId, run.exec.runId)) ?? []) {
        if (!child.open) continue;
        if (t.childPolicy === 'REQUEST_CANCEL')
          requestCancelOf(state, child, clockAt, 'CHILD_POLICY_APPLIED');
        else work.push([child, { childPolicy: ownChildPolicy(child.exec), cause: 'CHILD_POLICY_APPLIED' }]);
      }
    }
  }

  /**
   * StartWorkflowExecution: a new open run of the workflowId, with a fresh runId and every argument kept.
   * Faults as SWF's, in this order: validation, unknown domain, deprecated type, an open run of the
   * workflowId, then a start attribute with neither a value nor a default (the fake registers none).
   */
  private startExecution(body: Json): Json {
    const req = parseStart(body);
    const state = this.domainState(req.domain);
    if (this.deprecated.has(JSON.stringify([req.domain, req.workflowType.name, req.workflowType.version]))) {
      throw typeDeprecated(req.workflowType.name, req.workflowType.version);
    }
    if (state.openRun.has(req.workflowId)) throw alreadyStarted(req.workflowId);
    checkStartDefaults(req);
    let runId = newRunId();
    while (state.byRun.has(runKey(req.workflowId, runId))) runId = newRunId();
    const at = Date.now();
    const clockAt = this.opts.now?.() ?? at;
    state.add(startedExecution(req, runId, clockAt / 1000));
    this.startLog.push({
      ...req,
      workflowType: { ...req.workflowType },
      ...(req.taskList ? { taskList: { ...req.taskList } } : {}),
      ...(req.tagList ? { tagList: [...req.tagList] } : {}),
      runId,
      at,
      clockAt,
    });
    return { runId };
  }

  /** GetWorkflowExecutionHistory: the run's synthesized history (see local/swf-history.ts), paged. */
  private history(body: Json): Json {
    const domain = requireName(body, 'domain');
    const { workflowId, runId } = executionArg(body);
    const entry = this.domainState(domain).byRun.get(runKey(workflowId, runId));
    if (!entry) throw unknownExecution(workflowId, runId);
    return historyPage(body, domain, entry);
  }

  /** ListClosedWorkflowExecutions: the domain's closed runs in the time window, newest first by default. */
  private listClosed(body: Json): Json {
    const args = parseClosedListArgs(body);
    const state = this.domainState(args.domain);
    const { entries, nextPageToken } = state.closed.page(args, body.nextPageToken);
    return {
      executionInfos: entries.map(executionInfo),
      ...(nextPageToken === undefined ? {} : { nextPageToken }),
    };
  }

  /** Walks the matching open executions in list order from the page token's cursor. */
  private *walk(args: ListArgs, cursor: ListCursor | undefined): Generator<Entry> {
    const state = this.domainState(args.domain);
    const ignore = this.opts.ignoreFilters === true;
    const items = state.view(ignore ? undefined : args.filter);
    const oldest = ignore ? -Infinity : args.oldest;
    const latest = ignore ? undefined : args.latest;
    const key: Entry | undefined = cursor && {
      exec: {
        domain: args.domain,
        startTimestamp: cursor[0],
        workflowId: cursor[1],
        runId: cursor[2],
        workflowType: { name: '', version: '' },
      },
      open: false,
      cancelRequested: false,
    };
    if (!args.reverse) {
      let i = latest === undefined ? 0 : partitionPoint(items, (e) => e.exec.startTimestamp > latest);
      if (key)
        i = Math.max(
          i,
          partitionPoint(items, (e) => !before(key, e)),
        );
      for (; i < items.length; i++) {
        const e = items[i];
        if (e === undefined) return;
        if (e.exec.startTimestamp < oldest) return;
        if (e.open) yield e;
      }
    } else {
      let i = partitionPoint(items, (e) => e.exec.startTimestamp >= oldest) - 1;
      if (key) i = Math.min(i, partitionPoint(items, (e) => before(e, key)) - 1);
      for (; i >= 0; i--) {
        const e = items[i];
        if (e === undefined) return;
        if (latest !== undefined && e.exec.startTimestamp > latest) return;
        if (e.open) yield e;
      }
    }
  }

  private list(body: Json): Json {
    const args = parseListArgs(body, true);
    this.domainState(args.domain);
    const cursor = decodeCursor(body.nextPageToken, args.fingerprint, ['number', 'string', 'string']) as
      ListCursor | undefined;
    const page: Entry[] = [];
    let more = false;
    for (const e of this.walk(args, cursor)) {
      if (page.length === args.pageSize) {
        more = true;
        break;
      }
      page.push(e);
    }
    const last = page[page.length - 1];
    return {
      executionInfos: page.map(executionInfo),
      ...(more && last
        ? {
            nextPageToken: encodeCursor(args.fingerprint, [
              last.exec.startTimestamp,
              last.exec.workflowId,
              last.exec.runId,
            ]),
          }
        : {}),
    };
  }

  private count(body: Json): Json {
    const args = parseListArgs(body, false);
    let count = 0;
    const walk = this.walk(args, undefined);
    while (!walk.next().done) count++;
    return { count, truncated: false };
  }

  private describe(body: Json): Json {
    const domain = requireName(body, 'domain');
    const execution = body.execution;
    if (!isObject(execution)) throw validation("Value at 'execution' must not be null");
    const workflowId = requireName(execution, 'workflowId');
    const runId = requireName(execution, 'runId', 64);
    const entry = this.domainState(domain).byRun.get(runKey(workflowId, runId));
    if (!entry) throw unknownExecution(workflowId, runId);
    return {
      executionInfo: executionInfo(entry),
      // The run's start attributes; for those it leaves out, what Describe has always answered.
      executionConfiguration: {
        taskStartToCloseTimeout: entry.exec.taskStartToCloseTimeout ?? '10',
        executionStartToCloseTimeout: entry.exec.executionStartToCloseTimeout ?? '86400',
        taskList: { name: entry.exec.taskList?.name ?? 'default' },
        ...(entry.exec.taskPriority === undefined ? {} : { taskPriority: entry.exec.taskPriority }),
        childPolicy: ownChildPolicy(entry.exec),
        ...(entry.exec.lambdaRole === undefined ? {} : { lambdaRole: entry.exec.lambdaRole }),
      },
      openCounts: { ...(entry.exec.openCounts ?? NO_OPEN_COUNTS) },
      ...(entry.exec.latestActivityTaskTimestamp === undefined
        ? {}
        : { latestActivityTaskTimestamp: entry.exec.latestActivityTaskTimestamp }),
    };
  }
}

function faultError(
  fault: Exclude<Fault, 'drop-connection' | 'hang' | 'stall-body'>,
  domain: string,
): SwfError {
  switch (fault) {
    case 'throttle':
      return new SwfError(400, 'com.amazon.coral.availability#ThrottlingException', 'Rate exceeded');
    case 'server-error':
      return new SwfError(500, 'com.amazon.coral.service#InternalFailure', 'Internal failure (injected)');
    case 'not-permitted':
      return new SwfError(400, `${SWF_NS}OperationNotPermittedFault`, 'Operation not permitted (injected)');
    case 'unknown-domain':
      return unknownDomain(domain);
  }
}

function send(res: http.ServerResponse, status: number, body: Json): void {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(data),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(data);
}

/** Options for {@link makeExecutions}. */
export interface MakeExecutionsOptions {
  domain: string;
  /** workflowId prefix (default `wf-`); ids are `${prefix}${i}`, runIds `run-${prefix}${i}`. */
  prefix?: string;
  /** Start time of execution i, epoch seconds (default: one second apart, ending now, i = 0 oldest). */
  startTimestamp?: (i: number) => number;
  /** Workflow type of execution i (default `{ name: 'Type', version: '1' }`). */
  workflowType?: (i: number) => { name: string; version: string };
  /** Tags of execution i (default none). */
  tagList?: (i: number) => string[] | undefined;
}

/** Generates `count` distinct open executions for a test or benchmark. */
export function makeExecutions(count: number, opts: MakeExecutionsOptions): FakeExecution[] {
  const prefix = opts.prefix ?? 'wf-';
  const now = Math.floor(Date.now() / 1000);
  const out: FakeExecution[] = [];
  for (let i = 0; i < count; i++) {
    const tags = opts.tagList?.(i);
    out.push({
      domain: opts.domain,
      workflowId: `${prefix}${i}`,
      runId: `run-${prefix}${i}`,
      workflowType: opts.workflowType?.(i) ?? { name: 'Type', version: '1' },
      startTimestamp: opts.startTimestamp?.(i) ?? now - count + i,
      ...(tags === undefined ? {} : { tagList: tags }),
    });
  }
  return out;
}
