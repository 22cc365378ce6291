/**
 * Requests (not policies) that do more than terminate: requestCancel, and cancelThenTerminate, a job that
 * asks each run to cancel and terminates those still open after their grace period; what they may ask
 * (CANCEL_REQUESTS, the grace period's rules, the 500-run ceiling), refused before any SWF call. And the
 * selector criteria an ordinary request may use: workflowIdPrefix, openLongerThanSeconds, stalled (only where
 * DESCRIBE_DOMAINS allows Describe calls). (The job on the state machine: cancel-then-terminate.test.ts.)
 */
import { makeHandler, NOW, type TestHandler } from '../../support/handler-fixtures';
import { inMemoryJobs } from '../../support/handler-bulk';
import { FakeSwfServer, type FakeExecution } from '../../support/fake-swf';
import { MemorySwf } from '../../support/memory-swf';
import { fakeSwfPort, openCounts } from '../../support/policy-events';
import {
  CANCEL_THEN_TERMINATE_MAX_EXECUTIONS,
  GRACE_PERIOD_SECONDS,
  JOB_EVENT_KEY,
} from '../../../lib/contract';
import { readProvenance } from '../../../lambda/job/provenance';
import { InvalidRequestError, JobHandOffError, TooManyExecutionsError } from '../../../lambda/errors';
import type { Env } from '../../../lambda/config';
import type { HandlerDeps } from '../../../lambda/handler';
import type { JobState } from '../../../lambda/types';

let server: FakeSwfServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Requests may cancel: CANCEL_REQUESTS, with every allowed domain in CANCEL_DOMAINS. */
const CANCELS: Env = { CANCEL_REQUESTS: 'true', CANCEL_DOMAINS: 'orders,billing' };
const HOUR = 3600;
const ctx = { awsRequestId: 'req-ctt' };
/** The time the invocation that accepts the request has left. */
const ASKING_MS = 300_000;
const askingCtx = { awsRequestId: 'req-ctt', getRemainingTimeInMillis: () => ASKING_MS };

/** An open execution in `orders` tagged nightly, started `startedSecondsBefore` (default 2 h) before NOW. */
function exec(
  workflowId: string,
  o: { tags?: string[]; startedSecondsBefore?: number; honoursCancel?: boolean; stalled?: boolean } = {},
): FakeExecution {
  return {
    domain: 'orders',
    workflowId,
    runId: `run-${workflowId}`,
    workflowType: { name: 'OrderFlow', version: '1' },
    startTimestamp: Math.floor(NOW.getTime() / 1000) - (o.startedSecondsBefore ?? 2 * HOUR),
    tagList: o.tags ?? ['nightly'],
    openCounts: o.stalled === true ? openCounts() : openCounts({ openActivityTasks: 1 }),
    ...(o.honoursCancel === undefined ? {} : { honoursCancel: o.honoursCancel }),
  };
}

async function start(executions: FakeExecution[]): Promise<FakeSwfServer> {
  server = await FakeSwfServer.start({ domains: ['orders', 'billing'], executions });
  return server;
}

/** The handler on the HTTP fake, invoked at `now()` (default NOW). */
function onFake(fake: FakeSwfServer, env: Env = {}, deps: Partial<HandlerDeps> = {}): TestHandler {
  return makeHandler({ env, swf: fakeSwfPort(fake), deps: { endReserveMs: 1_000, ...deps } });
}

const ref = (e: FakeExecution) => ({ workflowId: e.workflowId, runId: e.runId });

/** The refusal a request meets, failing the test when it is accepted. */
async function refusalOf(handler: TestHandler, request: unknown): Promise<unknown> {
  const outcome = await handler.handler(request, ctx).then(
    (report) => ({ report }),
    (error: unknown) => ({ error }),
  );
  if ('report' in outcome) throw new Error(`expected a refusal, got ${JSON.stringify(outcome.report)}`);
  return outcome.error;
}

async function invalidField(handler: TestHandler, request: unknown): Promise<string> {
  const error = await refusalOf(handler, request);
  expect(error).toBeInstanceOf(InvalidRequestError);
  return (error as InvalidRequestError).field;
}

describe('requestCancel', () => {
  test.each([
    ['no CANCEL_REQUESTS', {}],
    ["only a policy's CANCEL_DOMAINS", { CANCEL_DOMAINS: 'orders' }],
    ['CANCEL_REQUESTS=false', { CANCEL_REQUESTS: 'false', CANCEL_DOMAINS: 'orders' }],
  ])(
    'GIVEN %s WHEN a request asks to cancel THEN it is refused naming action, before any SWF call',
    async (_, env) => {
      // GIVEN
      const fake = await start([exec('order-1')]);
      const handler = onFake(fake, env);

      // WHEN
      const field = await invalidField(handler, {
        domain: 'orders',
        executions: [ref(exec('order-1'))],
        action: 'requestCancel',
      });

      // THEN
      expect(field).toBe('action');
      expect(fake.callCount()).toBe(0);
    },
  );

  test('GIVEN no CANCEL_REQUESTS WHEN a request asks for cancelThenTerminate THEN it is refused naming action, before any SWF call', async () => {
    // GIVEN
    const fake = await start([exec('order-1')]);
    const handler = onFake(fake);

    // WHEN
    const field = await invalidField(handler, {
      domain: 'orders',
      selector: { tag: 'nightly' },
      action: 'cancelThenTerminate',
      gracePeriodSeconds: 600,
    });

    // THEN
    expect(field).toBe('action');
    expect(fake.callCount()).toBe(0);
  });

  test('GIVEN CANCEL_REQUESTS WHEN a request asks to cancel two runs THEN both are asked, stay open, and the report counts them', async () => {
    // GIVEN
    const runs = [exec('order-1'), exec('order-2')];
    const fake = await start([...runs, exec('order-3')]);
    const { handler } = onFake(fake, CANCELS);

    // WHEN
    const report = await handler(
      { domain: 'orders', executions: runs.map(ref), action: 'requestCancel' },
      ctx,
    );

    // THEN
    expect(report).toMatchObject({ dryRun: false, matched: 2, cancelRequested: 2, terminated: 0 });
    expect(report.executions.map((e) => [e.workflowId, e.outcome]).sort()).toEqual([
      ['order-1', 'cancel-requested'],
      ['order-2', 'cancel-requested'],
    ]);
    expect(fake.callCount('RequestCancelWorkflowExecution')).toBe(2);
    expect(fake.callCount('TerminateWorkflowExecution')).toBe(0);
    for (const run of runs) {
      expect(fake.execution('orders', run.workflowId, run.runId)).toEqual({
        open: true,
        cancelRequested: true,
      });
    }
    expect(fake.execution('orders', 'order-3', 'run-order-3')).toEqual({
      open: true,
      cancelRequested: false,
    });
    expect(report.job).toBeUndefined();
  });

  test.each([
    ['childPolicy', { childPolicy: 'TERMINATE' }],
    ['details', { details: 'INC-42' }],
  ])(
    'GIVEN CANCEL_REQUESTS WHEN requestCancel comes with %s THEN it is refused naming it',
    async (name, extra) => {
      // GIVEN
      const fake = await start([exec('order-1')]);
      const handler = onFake(fake, CANCELS);

      // WHEN
      const field = await invalidField(handler, {
        domain: 'orders',
        workflowId: 'order-1',
        action: 'requestCancel',
        ...extra,
      });

      // THEN
      expect(field).toBe(name);
      expect(fake.callCount()).toBe(0);
    },
  );

  test('GIVEN no CANCEL_REQUESTS WHEN a preview of requestCancel comes THEN it is allowed, reports would-cancel, and makes no call', async () => {
    // GIVEN
    const runs = [exec('order-1'), exec('order-2')];
    const fake = await start(runs);
    const { handler } = onFake(fake);

    // WHEN
    const report = await handler(
      { domain: 'orders', executions: runs.map(ref), action: 'requestCancel', dryRun: true },
      ctx,
    );

    // THEN
    expect(report).toMatchObject({ dryRun: true, wouldCancel: 2, cancelRequested: 0 });
    expect(report.executions.map((e) => e.outcome)).toEqual(['would-cancel', 'would-cancel']);
    expect(fake.callCount()).toBe(0);
  });
});

describe('a run already asked to cancel', () => {
  test('GIVEN a sweep asked runs to cancel WHEN the same requestCancel sweep runs again THEN it asks none of them again', async () => {
    // GIVEN two runs the first sweep asks to cancel (their deciders ignore it: they stay open)
    const swf = new MemorySwf(
      ['e0', 'e1'].map((id) => ({
        workflowId: id,
        runId: `r-${id}`,
        startTimestamp: new Date(NOW.getTime() - HOUR * 1000),
      })),
    );
    const { handler } = makeHandler({ env: CANCELS, swf });
    const request = { domain: 'orders', selector: { tag: 'x' }, action: 'requestCancel' };
    const first = await handler(request, ctx);
    expect(first.cancelRequested).toBe(2);

    // WHEN
    const second = await handler(request, { awsRequestId: 'req-again' });

    // THEN the listing shows them asked already: nothing matches, nothing is asked again
    expect(second).toMatchObject({ matched: 0, cancelRequested: 0 });
    expect(swf.cancelCalls).toHaveLength(2);
    expect(swf.cancelRequested().sort()).toEqual(['e0', 'e1']);
  });
});

describe('cancelThenTerminate: what it may ask', () => {
  const base = { domain: 'orders', selector: { tag: 'nightly' } };

  test.each([
    ['cancelThenTerminate without gracePeriodSeconds', { action: 'cancelThenTerminate' }],
    [
      'a grace period under the minimum',
      { action: 'cancelThenTerminate', gracePeriodSeconds: GRACE_PERIOD_SECONDS.min - 1 },
    ],
    [
      'a grace period over the maximum',
      { action: 'cancelThenTerminate', gracePeriodSeconds: GRACE_PERIOD_SECONDS.max + 1 },
    ],
    ['a fractional grace period', { action: 'cancelThenTerminate', gracePeriodSeconds: 90.5 }],
    ['a grace period as a string', { action: 'cancelThenTerminate', gracePeriodSeconds: '600' }],
    ['gracePeriodSeconds with terminate', { action: 'terminate', gracePeriodSeconds: 600 }],
    ['gracePeriodSeconds with no action (terminate)', { gracePeriodSeconds: 600 }],
    ['gracePeriodSeconds with requestCancel', { action: 'requestCancel', gracePeriodSeconds: 600 }],
  ])('%s is refused naming gracePeriodSeconds, before any SWF call', async (_, extra) => {
    // GIVEN
    const fake = await start([exec('order-1')]);
    const handler = onFake(fake, CANCELS, { jobs: inMemoryJobs().jobs });

    // WHEN
    const field = await invalidField(handler, { ...base, ...extra });

    // THEN
    expect(field).toBe('gracePeriodSeconds');
    expect(fake.callCount()).toBe(0);
  });

  test.each([GRACE_PERIOD_SECONDS.min, GRACE_PERIOD_SECONDS.max])(
    'a grace period of %i seconds (a bound) is accepted',
    async (gracePeriodSeconds) => {
      // GIVEN
      const fake = await start([exec('order-1')]);
      const jobs = inMemoryJobs();
      const { handler } = onFake(fake, CANCELS, { jobs: jobs.jobs });

      // WHEN
      const report = await handler({ ...base, action: 'cancelThenTerminate', gracePeriodSeconds }, askingCtx);

      // THEN: a job, with the grace period, asked nothing yet
      expect(report.job).toMatchObject({ state: 'started', reason: 'grace-period' });
      expect(report.cancelRequested).toBe(0);
      expect(jobs.started[0]?.request).toMatchObject({ gracePeriodSeconds });
    },
  );

  test(`an explicit list over ${CANCEL_THEN_TERMINATE_MAX_EXECUTIONS} runs is refused, before any SWF call`, async () => {
    // GIVEN: the function's ceiling is higher
    const fake = await start([exec('order-1')]);
    const handler = onFake(fake, { ...CANCELS, MAX_EXECUTIONS: '5000' }, { jobs: inMemoryJobs().jobs });
    const executions = Array.from({ length: CANCEL_THEN_TERMINATE_MAX_EXECUTIONS + 1 }, (_, i) => ({
      workflowId: `order-${i}`,
      runId: `run-${i}`,
    }));

    // WHEN
    const error = await refusalOf(handler, {
      domain: 'orders',
      executions,
      action: 'cancelThenTerminate',
      gracePeriodSeconds: 600,
    });

    // THEN
    expect(error).toBeInstanceOf(TooManyExecutionsError);
    expect(error).toMatchObject({ count: 501, limit: 500 });
    expect(fake.callCount()).toBe(0);
  });

  // cancelThenTerminate has a ceiling of its own (the follow-up job carries its runs as a list).
  test(`a selector with maxExecutions over ${CANCEL_THEN_TERMINATE_MAX_EXECUTIONS} is refused naming maxExecutions, before any SWF call`, async () => {
    // GIVEN
    const fake = await start([exec('order-1'), exec('order-2')]);
    const jobs = inMemoryJobs();
    const handler = onFake(fake, CANCELS, { jobs: jobs.jobs });

    // WHEN
    const field = await invalidField(handler, {
      ...base,
      action: 'cancelThenTerminate',
      gracePeriodSeconds: 600,
      maxExecutions: CANCEL_THEN_TERMINATE_MAX_EXECUTIONS + 1,
    });

    // THEN
    expect(field).toBe('maxExecutions');
    expect(fake.callCount()).toBe(0);
    expect(jobs.started).toHaveLength(0);
  });

  test(`a selector without maxExecutions that matches ${CANCEL_THEN_TERMINATE_MAX_EXECUTIONS + 1} runs is refused, nothing cancelled`, async () => {
    // GIVEN: 501 matches, a burst large enough to ask them all at once if the request were accepted
    const started = new Date(NOW.getTime() - HOUR * 1000);
    const swf = new MemorySwf(
      Array.from({ length: CANCEL_THEN_TERMINATE_MAX_EXECUTIONS + 1 }, (_, i) => ({
        workflowId: `e${i}`,
        runId: `r${i}`,
        startTimestamp: started,
      })),
    );
    const jobs = inMemoryJobs();
    const { handler } = makeHandler({
      env: { ...CANCELS, TERMINATE_BURST: '600' },
      swf,
      deps: { jobs: jobs.jobs },
    });

    // WHEN
    const error = await handler(
      { domain: 'orders', selector: { tag: 'x' }, action: 'cancelThenTerminate', gracePeriodSeconds: 600 },
      ctx,
    ).catch((e: unknown) => e);

    // THEN
    expect(error).toBeInstanceOf(TooManyExecutionsError);
    expect(error).toMatchObject({ limit: CANCEL_THEN_TERMINATE_MAX_EXECUTIONS });
    expect(swf.cancelCalls).toHaveLength(0);
    expect(jobs.started).toHaveLength(0);
  });
});

describe("cancelThenTerminate: one job asks, then terminates what is still open after each run's grace period", () => {
  const GRACE = 600;

  /**
   * Three matches, one of whose decider honours the cancel request (it closes as CANCELED at once), and a run
   * that does not match. The request is accepted at NOW; `clock.now` moves for the job's chunks.
   */
  async function accepted() {
    const runs = [exec('order-1'), exec('order-2', { honoursCancel: true }), exec('order-3')];
    const fake = await start([...runs, exec('order-weekly', { tags: ['weekly'] })]);
    const jobs = inMemoryJobs();
    const clock = { now: NOW };
    const handler = makeHandler({
      env: CANCELS,
      swf: fakeSwfPort(fake),
      now: () => clock.now,
      deps: { jobs: jobs.jobs, endReserveMs: 1_000 },
    });
    const report = await handler.handler(
      {
        domain: 'orders',
        selector: { tag: 'nightly' },
        action: 'cancelThenTerminate',
        gracePeriodSeconds: GRACE,
      },
      askingCtx,
    );
    return { runs, fake, jobs, clock, handler, report };
  }

  /** The chunk event the state machine sends for a job's state. */
  function chunkEvent(jobs: ReturnType<typeof inMemoryJobs>, state: JobState): unknown {
    return JSON.parse(
      JSON.stringify({ [JOB_EVENT_KEY]: state, execution: jobs.jobs.executionArn(state.jobId) }),
    );
  }

  test('GIVEN three matches WHEN cancelThenTerminate is accepted THEN one job of its id is started with exactly them, nothing asked yet', async () => {
    // GIVEN / WHEN
    const { runs, fake, jobs, report } = await accepted();

    // THEN
    expect(report).toMatchObject({ cancelRequested: 0, terminated: 0, jobId: 'req-ctt' });
    expect(report.job).toEqual({
      state: 'started',
      reason: 'grace-period',
      executionArn: jobs.jobs.executionArn('req-ctt'),
    });
    expect(fake.callCount('RequestCancelWorkflowExecution')).toBe(0);
    expect(jobs.started).toHaveLength(1);
    const state = jobs.started[0]!;
    expect(state).toMatchObject({
      jobId: 'req-ctt',
      status: 'running',
      chunks: 0,
      asked: [],
      provenance: { via: 'console', requestId: 'req-ctt' },
      request: { action: 'cancelThenTerminate', gracePeriodSeconds: GRACE },
    });
    const executions = state.request.executions ?? [];
    expect([...executions].sort((a, b) => a.workflowId.localeCompare(b.workflowId))).toEqual(runs.map(ref));
  });

  test('GIVEN its first chunk WHEN it runs THEN each run is asked once and recorded with when; the job waits until then + grace', async () => {
    // GIVEN
    const { fake, jobs, handler } = await accepted();

    // WHEN
    const answer = (await handler.raw(chunkEvent(jobs, jobs.started[0]!), {
      awsRequestId: 'c1',
    })) as JobState;

    // THEN
    expect(fake.callCount('RequestCancelWorkflowExecution')).toBe(3);
    expect(fake.callCount('TerminateWorkflowExecution')).toBe(0);
    expect(answer).toMatchObject({
      status: 'running',
      chunks: 1,
      notBefore: new Date(NOW.getTime() + GRACE * 1000).toISOString(),
      totals: { matched: 3, cancelRequested: 3, terminated: 0 },
    });
    expect(answer.asked?.map((a) => [a.workflowId, a.askedAt]).sort()).toEqual(
      ['order-1', 'order-2', 'order-3'].map((id) => [id, NOW.toISOString()]),
    );
  });

  test('GIVEN the runs asked WHEN a chunk runs a second before their grace period ends THEN it answers its state unchanged', async () => {
    // GIVEN
    const { fake, jobs, clock, handler } = await accepted();
    const asking = (await handler.raw(chunkEvent(jobs, jobs.started[0]!), {
      awsRequestId: 'c1',
    })) as JobState;

    // WHEN
    clock.now = new Date(NOW.getTime() + GRACE * 1000 - 1_000);
    const answer = await handler.raw(chunkEvent(jobs, asking), { awsRequestId: 'c2' });

    // THEN
    expect(answer).toEqual(asking);
    expect(fake.callCount('TerminateWorkflowExecution')).toBe(0);
  });

  test('GIVEN the runs asked WHEN their grace period is over THEN those still open are terminated, the one its decider closed is already-closed', async () => {
    // GIVEN
    const { runs, fake, jobs, clock, handler } = await accepted();
    const asking = (await handler.raw(chunkEvent(jobs, jobs.started[0]!), {
      awsRequestId: 'c1',
    })) as JobState;

    // WHEN
    clock.now = new Date(NOW.getTime() + GRACE * 1000);
    const answer = (await handler.raw(chunkEvent(jobs, asking), { awsRequestId: 'c2' })) as JobState;

    // THEN: each counted once in matched, when it was asked
    expect(answer).toMatchObject({
      status: 'done',
      chunks: 2,
      asked: [],
      totals: { matched: 3, cancelRequested: 3, terminated: 2, alreadyClosed: 1, failed: 0 },
    });
    expect(fake.terminations.map((t) => t.workflowId).sort()).toEqual(['order-1', 'order-3']);
    expect(fake.execution('orders', 'order-weekly', 'run-order-weekly')).toEqual({
      open: true,
      cancelRequested: false,
    });
    for (const t of fake.terminations) {
      expect(t.runId).toBe(runs.find((r) => r.workflowId === t.workflowId)?.runId);
      expect(readProvenance(t.details ?? '')).toMatchObject({
        requestedBy: { via: 'console', requestId: 'req-ctt' },
        jobId: 'req-ctt',
        functionRequestId: 'c2',
      });
    }
  });

  test('GIVEN a cancelThenTerminate preview WHEN it runs THEN it reports would-cancel, asks nothing and starts no job', async () => {
    // GIVEN: requests may not cancel: a preview needs no permission
    const fake = await start([exec('order-1'), exec('order-2')]);
    const jobs = inMemoryJobs();
    const { handler } = onFake(fake, {}, { jobs: jobs.jobs });

    // WHEN
    const report = await handler(
      {
        domain: 'orders',
        selector: { tag: 'nightly' },
        action: 'cancelThenTerminate',
        gracePeriodSeconds: GRACE,
        dryRun: true,
      },
      ctx,
    );

    // THEN
    expect(report).toMatchObject({ dryRun: true, wouldCancel: 2, cancelRequested: 0 });
    expect(report.job).toBeUndefined();
    expect(jobs.started).toHaveLength(0);
    expect(fake.callCount('RequestCancelWorkflowExecution')).toBe(0);
    expect(fake.callCount('TerminateWorkflowExecution')).toBe(0);
  });
});

describe('selector criteria on ordinary requests', () => {
  test('GIVEN runs with and without the prefix WHEN a request selects by workflowIdPrefix THEN only the prefixed runs are terminated', async () => {
    // GIVEN
    const fake = await start([exec('order-1'), exec('order-2'), exec('invoice-1'), exec('xorder-3')]);
    const { handler } = onFake(fake);

    // WHEN
    const report = await handler({ domain: 'orders', selector: { workflowIdPrefix: 'order-' } }, ctx);

    // THEN
    expect(report).toMatchObject({ matched: 2, terminated: 2 });
    expect(fake.terminations.map((t) => t.workflowId).sort()).toEqual(['order-1', 'order-2']);
  });

  test('GIVEN runs of different ages WHEN a request selects openLongerThanSeconds THEN only those open that long at the request time are terminated', async () => {
    // GIVEN
    const fake = await start([
      exec('order-old', { startedSecondsBefore: 2 * HOUR }),
      exec('order-hour', { startedSecondsBefore: HOUR }),
      exec('order-young', { startedSecondsBefore: HOUR - 1 }),
    ]);
    const { handler } = onFake(fake);

    // WHEN
    const report = await handler(
      { domain: 'orders', selector: { tag: 'nightly', openLongerThanSeconds: HOUR } },
      ctx,
    );

    // THEN
    expect(report.terminated).toBe(2);
    expect(fake.terminations.map((t) => t.workflowId).sort()).toEqual(['order-hour', 'order-old']);
  });

  test.each([
    ['DESCRIBE_DOMAINS unset', {}],
    ['DESCRIBE_DOMAINS naming another domain', { DESCRIBE_DOMAINS: 'billing' }],
  ])(
    'GIVEN %s WHEN a request selects stalled runs THEN it is refused naming selector.stalled, before any SWF call',
    async (_, env) => {
      // GIVEN
      const fake = await start([exec('order-1', { stalled: true })]);
      const handler = onFake(fake, env);

      // WHEN
      const field = await invalidField(handler, {
        domain: 'orders',
        selector: { tag: 'nightly', stalled: true },
      });

      // THEN
      expect(field).toBe('selector.stalled');
      expect(fake.callCount()).toBe(0);
    },
  );

  test('GIVEN DESCRIBE_DOMAINS has the domain WHEN a request selects stalled runs THEN each candidate is described, each match again before acting, and only the stalled ones terminated', async () => {
    // GIVEN
    const fake = await start([
      exec('order-1', { stalled: true }),
      exec('order-2'),
      exec('order-3', { stalled: true }),
    ]);
    const { handler } = onFake(fake, { DESCRIBE_DOMAINS: 'orders' });

    // WHEN
    const report = await handler({ domain: 'orders', selector: { tag: 'nightly', stalled: true } }, ctx);

    // THEN
    expect(report.terminated).toBe(2);
    expect(fake.terminations.map((t) => t.workflowId).sort()).toEqual(['order-1', 'order-3']);
    expect(fake.callCount('DescribeWorkflowExecution')).toBe(3 + 2);
  });
});

describe('cancelThenTerminate: no run is asked to cancel outside its job', () => {
  const GRACE = 600;
  const request = {
    domain: 'orders',
    selector: { tag: 'nightly' },
    action: 'cancelThenTerminate',
    gracePeriodSeconds: GRACE,
  };

  test('GIVEN the job cannot be started WHEN the request runs THEN nothing is asked to cancel', async () => {
    // GIVEN a state machine that refuses to start anything
    const fake = await start([exec('order-1')]);
    const jobs = inMemoryJobs();
    const refusing = { ...jobs.jobs, start: () => Promise.reject(new Error('states unavailable')) };
    const { handler } = onFake(fake, CANCELS, { jobs: refusing });

    // WHEN
    const error = await handler(request, askingCtx).catch((e: unknown) => e);

    // THEN the request fails whole: a retry starts from nothing asked
    expect(error).toBeInstanceOf(JobHandOffError);
    expect(fake.callCount('RequestCancelWorkflowExecution')).toBe(0);
  });

  test('GIVEN the same request again (a re-delivery) WHEN its job exists THEN it acts no more and reports the job', async () => {
    // GIVEN the request's job started (and asked its runs)
    const fake = await start([exec('order-1'), exec('order-2')]);
    const jobs = inMemoryJobs();
    const { handler } = onFake(fake, CANCELS, { jobs: jobs.jobs });
    await handler(request, askingCtx);
    const callsBefore = fake.callCount();

    // WHEN the same request arrives again
    const again = await handler(request, askingCtx);

    // THEN nothing is listed, asked or started: the job answers for it
    expect(again.job).toEqual({
      state: 'exists',
      executionArn: jobs.jobs.executionArn('req-ctt'),
      status: 'RUNNING',
    });
    expect(again.matched).toBe(0);
    expect(fake.callCount()).toBe(callsBefore);
    expect(jobs.started).toHaveLength(1);
  });

  test('GIVEN a named execution without its runId WHEN cancelThenTerminate is asked THEN it is refused naming runId, before any SWF call', async () => {
    const fake = await start([exec('order-1')]);
    const handler = onFake(fake, CANCELS);

    const field = await invalidField(handler, {
      domain: 'orders',
      executions: [{ workflowId: 'order-1', runId: 'run-order-1' }, { workflowId: 'order-2' }],
      action: 'cancelThenTerminate',
      gracePeriodSeconds: GRACE,
    });

    expect(field).toBe('executions[1].runId');
    expect(fake.callCount()).toBe(0);
  });
});
