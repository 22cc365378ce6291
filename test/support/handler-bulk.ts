/**
 * Helpers for bulk and job tests: a handler on the real SDK against the fake SWF server, and a rig that runs
 * the synthesized state machine on the fake Step Functions server with that handler as its chunk's function.
 */
import './handler-env';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Env } from '../../lambda/config';
import { type Handler, type HandlerContext, type HandlerDeps } from '../../lambda/handler';
import type { JobState } from '../../lambda/types';
import type { ProgressLog, ProgressRecord } from '../../lambda/aws/job-logs';
import { createJobs, createSfnClient, type JobsPort } from '../../lambda/aws/jobs';
import { JOB_EVENT_KEY } from '../../lib/contract';
import type { Report } from '../../lambda/types';
import { createSwf } from '../../lambda/aws/swf';
import { createSwfClient } from '../../lambda/aws/swf-client';
import { definitionFromTemplate, FakeSfnServer } from './fake-sfn';
import type { FakeSwfServer } from './fake-swf';
import { synthTerminator } from './construct-helpers';
import { makeHandler } from './handler-fixtures';

const CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };

/** The state machine the rig's handler is configured with, and the fake serves. */
export const STATE_MACHINE_ARN =
  'arn:aws:states:us-east-1:123456789012:stateMachine:swf-terminator-test-jobs';

/**
 * A handler on the real SDK (the handler's own client settings) against `server`, with a 1 s end reserve
 * and the wall clock.
 */
export function bulkHandler(
  server: FakeSwfServer,
  env: Env,
  extra: Partial<HandlerDeps> = {},
): { handler: Handler; logger: Logger; metrics: Metrics } {
  const swf = createSwf(
    createSwfClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: CREDENTIALS }),
  );
  const { raw, logger, metrics } = makeHandler({
    env,
    swf,
    now: () => new Date(),
    deps: { endReserveMs: 1_000, ...extra },
  });
  return { handler: raw, logger, metrics };
}

/** A context with `ms` of working time left before the end reserve (of 1 s) at every look. */
export function workingTime(requestId: string, ms: number): HandlerContext {
  return { awsRequestId: requestId, getRemainingTimeInMillis: () => ms + 1_000 };
}

/** A handler's answer as a report (a termination request's), failing the test if it is anything else. */
export function asReport(result: unknown): Report {
  if (typeof result !== 'object' || result === null || !('executions' in result)) {
    throw new Error(`expected a report, got ${JSON.stringify(result)}`);
  }
  return result as Report;
}

export interface JobRig {
  readonly sfn: FakeSfnServer;
  /** The handler requests are sent to; chunks go to `chunkHandler` (the same one unless replaced). */
  readonly handler: Handler;
  /** Replaces the function the state machine runs chunks on (a redeployment between chunks). */
  setChunkHandler(handler: Handler): void;
  /** Builds another handler wired to the same servers (another configuration: a redeployment). */
  redeployed(env: Env, extra?: Partial<HandlerDeps>): Handler;
  close(): Promise<void>;
}

/** Options of {@link jobRig}. */
export interface JobRigOptions {
  /** Chunks that may run at once (the function's reserved concurrency). Default: unlimited. */
  readonly concurrency?: number;
  /**
   * The handlers' other collaborators, over the rig's own: e.g. `now`, an invocation time the test controls
   * (what a chunk compares with its job's `notBefore`; the pacing clock stays real).
   */
  readonly extra?: Partial<HandlerDeps>;
  /**
   * Shortens the state machine's wait state (a job's grace period) to this many ms each time it is entered
   * (FakeSfnOptions.waitMs). Default: it waits until the job's `notBefore`.
   */
  readonly waitMs?: number;
  /**
   * The clock the Step Functions fake dates executions by (their start and stop dates, FakeSfnOptions.now):
   * give the handler's `now` too, so that a follow-up compares its job's stop date with its own time.
   * Default: the wall clock.
   */
  readonly sfnNow?: () => number;
}

/**
 * Progress records kept in memory, shared by the handlers of one test (the terminating function's chunks
 * write them, the control function's status reads them), as the functions' log group is in a deployment
 * (the log-group reader itself: test/lambda/aws/job-logs.test.ts).
 */
export function memoryProgressLog(): ProgressLog & { readonly records: ProgressRecord[] } {
  const records: ProgressRecord[] = [];
  return {
    records,
    record(record) {
      records.push(JSON.parse(JSON.stringify(record)) as ProgressRecord);
    },
    read(jobId, query) {
      const selected = records.filter(
        (r) =>
          r.jobId === jobId &&
          Date.parse(r.at) >= query.since.getTime() &&
          (query.finalOnly !== true || r.final),
      );
      return Promise.resolve({ records: selected, complete: true });
    },
  };
}

/**
 * The synthesized state machine, run by the fake Step Functions server, its chunks on a handler against
 * `swf`; the handler starts, watches and stops jobs through the real SFN client over the wire.
 */
export async function jobRig(swf: FakeSwfServer, env: Env, options: JobRigOptions = {}): Promise<JobRig> {
  const { template } = synthTerminator({ domains: ['orders', 'billing'] });
  const definition = definitionFromTemplate(
    template,
    'arn:aws:lambda:us-east-1:123456789012:function:terminator',
  );
  let chunkHandler: Handler | undefined;
  const sfn = await FakeSfnServer.start({
    definition,
    stateMachineArn: STATE_MACHINE_ARN,
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.waitMs === undefined ? {} : { waitMs: options.waitMs }),
    ...(options.sfnNow === undefined ? {} : { now: options.sfnNow }),
    invoke: (event, context) => {
      if (chunkHandler === undefined) throw new Error('no chunk handler');
      return chunkHandler(event, context);
    },
  });
  const progress = memoryProgressLog();
  const redeployed = (handlerEnv: Env, extra: Partial<HandlerDeps> = {}) =>
    bulkHandler(
      swf,
      { STATE_MACHINE_ARN, ...handlerEnv },
      {
        jobs: createJobs(
          createSfnClient({ endpoint: sfn.endpoint, region: 'us-east-1', credentials: CREDENTIALS }),
          STATE_MACHINE_ARN,
        ),
        abortPollMs: 100,
        progress,
        ...options.extra,
        ...extra,
      },
    ).handler;
  const handler = redeployed(env);
  chunkHandler = handler;
  return {
    sfn,
    handler,
    setChunkHandler(h) {
      chunkHandler = h;
    },
    redeployed,
    close: () => sfn.close(),
  };
}

/** The final state a job's execution ended with (the output of its last chunk). */
export function lastState(sfn: FakeSfnServer, jobId: string): JobState | undefined {
  const execution = sfn.executions.get(jobId);
  const exits = execution?.events.filter((e) => e.type === 'TaskStateExited') ?? [];
  const last = exits.at(-1)?.stateExitedEventDetails as { output?: string } | undefined;
  return last?.output === undefined ? undefined : (JSON.parse(last.output) as JobState);
}

/** A fake clock for pacing tests: sleeping advances time at once. */
export function fakeClock(start = 0) {
  const state = { t: start, slept: 0 };
  return {
    state,
    now: () => state.t,
    sleep: (ms: number) => {
      state.t += ms;
      state.slept += ms;
      return Promise.resolve();
    },
  };
}

/** An in-memory {@link JobsPort}: records the jobs started; every job it knows is running. */
export function inMemoryJobs(stateMachineArn = STATE_MACHINE_ARN) {
  const prefix = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:`;
  const started: JobState[] = [];
  const jobs: JobsPort = {
    executionArn: (jobId) => `${prefix}${jobId}`,
    jobIdOf: (arn) => (arn.startsWith(prefix) ? arn.slice(prefix.length) : undefined),
    start: (state) => {
      const again = started.some((s) => s.jobId === state.jobId);
      if (!again) started.push(JSON.parse(JSON.stringify(state)) as JobState);
      return Promise.resolve({ executionArn: `${prefix}${state.jobId}`, started: !again });
    },
    describe: (jobId) =>
      Promise.resolve(
        started.some((s) => s.jobId === jobId)
          ? { jobId, executionArn: `${prefix}${jobId}`, state: 'RUNNING' as const }
          : undefined,
      ),
    stop: () => Promise.resolve(undefined),
    recordAbort: () => Promise.resolve('recorded' as const),
    lastChunk: () => Promise.resolve({ inFlight: false }),
    list: () => Promise.resolve([]),
  };
  return { jobs, started };
}

/**
 * Drives a job in this process as the state machine would: the request first, then, if it started a job,
 * chunk after chunk (each with a fresh context from `contextFor`) until the job's status is no longer
 * `running`. Answers the request's report and every chunk's state; an error a chunk throws is thrown.
 */
export async function driveJob(
  handler: Handler,
  jobs: ReturnType<typeof inMemoryJobs>,
  request: unknown,
  contextFor: (invocation: number) => HandlerContext,
  maxChunks = 50,
): Promise<{ report: Report; states: JobState[] }> {
  const report = asReport(await handler(request, contextFor(0)));
  const states: JobState[] = [];
  const first = jobs.started.at(-1);
  if (report.job === undefined || first === undefined) return { report, states };
  let state = first;
  for (let i = 1; i <= maxChunks; i++) {
    const event = JSON.parse(
      JSON.stringify({ [JOB_EVENT_KEY]: state, execution: jobs.jobs.executionArn(state.jobId) }),
    ) as unknown;
    state = (await handler(event, contextFor(i))) as JobState;
    states.push(state);
    if (state.status !== 'running') return { report, states };
  }
  throw new Error('the job did not end');
}
