/**
 * Requests (not policies) that do more than terminate: requestCancel, and cancelThenTerminate with its
 * follow-up job that waits out the grace period and terminates exactly the runs still open; what they may
 * ask (CANCEL_REQUESTS, the grace period's rules, the 500-run ceiling), refused before any SWF call. And the
 * selector criteria an ordinary request may use: workflowIdPrefix, openLongerThanSeconds, stalled (only where
 * DESCRIBE_DOMAINS allows Describe calls).
 */
import { jobStateFixture, makeHandler, NOW, type TestHandler } from '../../support/handler-fixtures';
import { inMemoryJobs } from '../../support/handler-bulk';
import { FakeSwfServer, type FakeExecution } from '../../support/fake-swf';
import { MemorySwf } from '../../support/memory-swf';
import { fakeSwfPort, openCounts } from '../../support/policy-events';
import {
  CANCEL_THEN_TERMINATE_MAX_EXECUTIONS,
  GRACE_PERIOD_SECONDS,
  JOB_EVENT_KEY,
} from '../../../lib/contract';
import { FOLLOW_UP_REASON } from '../../../lambda/flows/follow-up';
import { NO_TOTALS } from '../../../lambda/flows/job-state';
import { NOT_ASKED_ERROR } from '../../../lambda/act/run-checks';
import { readProvenance } from '../../../lambda/act/provenance';
import {
  FollowUpExistsError,
  InvalidRequestError,
  JobHandOffError,
  TerminationFailedError,
  TooManyExecutionsError,
} from '../../../lambda/errors';
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
/** The time the invocation that asks has left: a follow-up waits for its end, then the grace period. */
const ASKING_MS = 300_000;
const askingCtx = { awsRequestId: 'req-ctt', getRemainingTimeInMillis: () => ASKING_MS };
/** A follow-up's job id: the request's, marked, with a digest of its runs. */
const FOLLOW_UP_ID = /^req-ctt-grace-[0-9a-f]{12}$/;

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
    expect(report.followUp).toBeUndefined();
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

      // THEN: after the asking invocation's end at the latest, and the grace period
      expect(report.cancelRequested).toBe(1);
      expect(report.followUp?.notBefore).toBe(
        new Date(NOW.getTime() + ASKING_MS + gracePeriodSeconds * 1000).toISOString(),
      );
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

describe('cancelThenTerminate: cancel now, terminate what is still open after the grace period', () => {
  const GRACE = 600;
  const notBefore = new Date(NOW.getTime() + ASKING_MS + GRACE * 1000);

  /**
   * Three matches, one of whose decider honours the cancel request (it closes as CANCELED at once), and a run
   * that does not match. The request is accepted at NOW; `clock.now` moves for the follow-up chunk.
   */
  async function cancelled() {
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

  test('GIVEN three matches WHEN cancelThenTerminate runs inline THEN they are asked to cancel and ONE follow-up job is started for exactly them', async () => {
    // GIVEN / WHEN
    const { runs, fake, jobs, report } = await cancelled();

    // THEN: asked to cancel, nothing terminated yet
    expect(report).toMatchObject({ matched: 3, cancelRequested: 3, terminated: 0, jobId: 'req-ctt' });
    expect(report.executions.every((e) => e.outcome === 'cancel-requested')).toBe(true);
    expect(fake.callCount('RequestCancelWorkflowExecution')).toBe(3);
    expect(fake.callCount('TerminateWorkflowExecution')).toBe(0);
    // THEN: one follow-up, waiting until the grace period ends, to terminate exactly those runs by runId
    expect(jobs.started).toHaveLength(1);
    const state = jobs.started[0]!;
    expect(state).toMatchObject({
      jobId: expect.stringMatching(FOLLOW_UP_ID),
      notBefore: notBefore.toISOString(),
      status: 'running',
      chunks: 0,
      provenance: { via: 'console', requestId: 'req-ctt' },
      parent: { jobId: 'req-ctt', graceSeconds: GRACE },
    });
    const request = state.request as { executions: { workflowId: string; runId: string }[] };
    expect({
      ...request,
      executions: [...request.executions].sort((a, b) => a.workflowId.localeCompare(b.workflowId)),
    }).toEqual({
      domain: 'orders',
      executions: runs.map(ref),
      action: 'terminate',
      reason: FOLLOW_UP_REASON,
    });
    expect(report.followUp).toEqual({
      jobId: state.jobId,
      executionArn: jobs.jobs.executionArn(state.jobId),
      notBefore: notBefore.toISOString(),
    });
  });

  test('GIVEN the follow-up job WHEN its chunk is invoked before notBefore THEN it answers its state unchanged and terminates nothing', async () => {
    // GIVEN
    const { fake, jobs, clock, handler } = await cancelled();
    const state = jobs.started[0]!;

    // WHEN: a second early
    clock.now = new Date(notBefore.getTime() - 1_000);
    const answer = await handler.raw(chunkEvent(jobs, state), { awsRequestId: 'chunk-early' });

    // THEN
    expect(answer).toEqual(state);
    expect(fake.callCount('TerminateWorkflowExecution')).toBe(0);
    expect(fake.openCount('orders')).toBe(3);
  });

  test('GIVEN the follow-up job WHEN its chunk runs after notBefore THEN the runs still open are terminated and the one its decider closed is already-closed', async () => {
    // GIVEN
    const { runs, fake, jobs, clock, handler } = await cancelled();
    const state = jobs.started[0]!;

    // WHEN
    clock.now = new Date(notBefore.getTime() + 1_000);
    const answer = (await handler.raw(chunkEvent(jobs, state), { awsRequestId: 'chunk-1' })) as JobState;

    // THEN
    expect(answer).toMatchObject({
      jobId: state.jobId,
      status: 'done',
      chunks: 1,
      totals: { matched: 3, terminated: 2, alreadyClosed: 1, failed: 0, cancelRequested: 0 },
    });
    expect(fake.terminations.map((t) => t.workflowId).sort()).toEqual(['order-1', 'order-3']);
    expect(fake.execution('orders', 'order-2', 'run-order-2')).toMatchObject({
      open: false,
      closeStatus: 'CANCELED',
    });
    expect(fake.execution('orders', 'order-weekly', 'run-order-weekly')).toEqual({
      open: true,
      cancelRequested: false,
    });
    for (const t of fake.terminations) {
      expect(t.runId).toBe(runs.find((r) => r.workflowId === t.workflowId)?.runId);
      expect(t.reason).toBe(FOLLOW_UP_REASON);
      expect(readProvenance(t.details ?? '')).toMatchObject({
        requestedBy: { via: 'console', requestId: 'req-ctt' },
        jobId: state.jobId,
        functionRequestId: 'chunk-1',
      });
    }
    // THEN: no second follow-up: the chunk terminated, it asked nothing to cancel
    expect(jobs.started).toHaveLength(1);
  });

  test('GIVEN a cancelThenTerminate preview WHEN it runs THEN it reports would-cancel, asks nothing and starts no follow-up', async () => {
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
    expect(report.followUp).toBeUndefined();
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

describe('cancelThenTerminate: no run asked to cancel is ever left without its follow-up', () => {
  const GRACE = 600;
  const request = {
    domain: 'orders',
    selector: { tag: 'nightly' },
    action: 'cancelThenTerminate',
    gracePeriodSeconds: GRACE,
  };

  test('GIVEN a cancel request SWF refuses WHEN the request ends failed THEN the follow-up was started before any cancel, with every run', async () => {
    // GIVEN two matches, the first cancel refused
    const fake = await start([exec('order-1'), exec('order-2')]);
    fake.failNext('RequestCancelWorkflowExecution', 'not-permitted');
    const jobs = inMemoryJobs();
    const { handler } = onFake(fake, CANCELS, { jobs: jobs.jobs });

    // WHEN
    const error = await handler(request, askingCtx).catch((e: unknown) => e);

    // THEN the request failed (it is retried, then kept in the dead-letter queue) ...
    expect(error).toBeInstanceOf(TerminationFailedError);
    // ... and the follow-up holds both runs, the one asked and the one whose asking failed
    expect(jobs.started).toHaveLength(1);
    const runs = (jobs.started[0]!.request as { executions: { workflowId: string }[] }).executions;
    expect(runs.map((r) => r.workflowId).sort()).toEqual(['order-1', 'order-2']);
  });

  test('GIVEN the follow-up cannot be started WHEN the request runs THEN nothing is asked to cancel', async () => {
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

  test('GIVEN the same request again (a retry) WHEN it matches the same runs THEN it finds its follow-up started and asks nothing', async () => {
    // GIVEN runs whose deciders ignore the cancel request (they stay open, cancelRequested), asked once
    const fake = await start([exec('order-1'), exec('order-2')]);
    const jobs = inMemoryJobs();
    const { handler } = onFake(fake, CANCELS, { jobs: jobs.jobs });
    const first = await handler(request, askingCtx);
    expect(fake.callCount('RequestCancelWorkflowExecution')).toBe(2);

    // WHEN the same request arrives again
    const error = await handler(request, askingCtx).catch((e: unknown) => e);

    // THEN it is refused naming the follow-up (its wait was fixed by the first attempt: a run asked now could
    // get less than the grace period), nothing more is asked, and no second follow-up is started
    expect(error).toBeInstanceOf(FollowUpExistsError);
    expect((error as FollowUpExistsError).followUpJobId).toBe(first.followUp?.jobId);
    expect(fake.callCount('RequestCancelWorkflowExecution')).toBe(2);
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

describe('a follow-up waits for its asking job, and stops with it', () => {
  const GRACE = 600;
  const PARENT = 'asking-job';
  const AT = new Date('2025-06-01T13:00:00.000Z');

  /** A follow-up's state for order-1 and order-2, past its notBefore, whose asking job is `PARENT`. */
  function followUpState(): JobState {
    return jobStateFixture({
      jobId: `${PARENT}-grace-000000000000`,
      request: {
        domain: 'orders',
        executions: [ref(exec('order-1')), ref(exec('order-2'))],
        action: 'terminate',
      },
      progress: { target: 'list', remaining: 2 },
      totals: NO_TOTALS,
      chunks: 0,
      notBefore: new Date(AT.getTime() - 1_000).toISOString(),
      parent: { jobId: PARENT, graceSeconds: GRACE },
    });
  }

  /**
   * The follow-up's chunk, with the asking job described as `asking`; the runs in `asked` (default both) were
   * asked to cancel, and their deciders ignored it.
   */
  async function chunkWith(
    asking: { state: 'RUNNING' | 'SUCCEEDED' | 'ABORTED'; stoppedAt?: Date } | undefined,
    asked: readonly string[] = ['order-1', 'order-2'],
  ) {
    const fake = await start([exec('order-1'), exec('order-2')]);
    for (const workflowId of asked) {
      await fakeSwfPort(fake).requestCancel({ domain: 'orders', workflowId, runId: `run-${workflowId}` });
    }
    const jobs = inMemoryJobs();
    const state = followUpState();
    await jobs.jobs.start(state);
    const describe = (jobId: string) =>
      jobId === PARENT
        ? Promise.resolve(
            asking === undefined
              ? undefined
              : { jobId, executionArn: jobs.jobs.executionArn(jobId), ...asking },
          )
        : jobs.jobs.describe(jobId);
    const { raw } = makeHandler({
      env: CANCELS,
      swf: fakeSwfPort(fake),
      now: () => AT,
      deps: { jobs: { ...jobs.jobs, describe }, endReserveMs: 1_000 },
    });
    const event = JSON.parse(
      JSON.stringify({ [JOB_EVENT_KEY]: state, execution: jobs.jobs.executionArn(state.jobId) }),
    ) as unknown;
    const answer = (await raw(event, { awsRequestId: 'follow-up-chunk' })) as JobState;
    return { fake, answer };
  }

  test('GIVEN its asking job still running WHEN the follow-up is due THEN it waits a grace period more, terminating nothing', async () => {
    const { fake, answer } = await chunkWith({ state: 'RUNNING' });

    expect(answer).toMatchObject({
      status: 'running',
      notBefore: new Date(AT.getTime() + GRACE * 1000).toISOString(),
    });
    expect(fake.callCount('TerminateWorkflowExecution')).toBe(0);
  });

  test('GIVEN its asking job stopped less than the grace period ago WHEN the follow-up is due THEN it waits until then', async () => {
    const stoppedAt = new Date(AT.getTime() - 60_000);

    const { fake, answer } = await chunkWith({ state: 'SUCCEEDED', stoppedAt });

    expect(answer.notBefore).toBe(new Date(stoppedAt.getTime() + GRACE * 1000).toISOString());
    expect(fake.callCount('TerminateWorkflowExecution')).toBe(0);
  });

  test('GIVEN its asking job was aborted WHEN the follow-up is due THEN it stops, terminating nothing', async () => {
    const { fake, answer } = await chunkWith({
      state: 'ABORTED',
      stoppedAt: new Date(AT.getTime() - 3_600_000),
    });

    expect(answer).toMatchObject({ status: 'aborted' });
    expect(answer.summary).toMatch(/asking-job was aborted/);
    expect(fake.callCount('TerminateWorkflowExecution')).toBe(0);
  });

  test('GIVEN its asking job stopped a grace period ago WHEN the follow-up is due THEN it terminates the runs still open', async () => {
    const { fake, answer } = await chunkWith({
      state: 'SUCCEEDED',
      stoppedAt: new Date(AT.getTime() - GRACE * 1000),
    });

    expect(answer).toMatchObject({ status: 'done', totals: { terminated: 2 } });
    expect(fake.terminations.map((t) => t.workflowId).sort()).toEqual(['order-1', 'order-2']);
  });

  test('GIVEN a run SWF shows was never asked to cancel WHEN the follow-up is due THEN it is not terminated but reported failed, and the job ends failed', async () => {
    // GIVEN order-2's asking failed (or never happened: the asking job failed to start, or failed first)
    const { fake, answer } = await chunkWith(
      { state: 'SUCCEEDED', stoppedAt: new Date(AT.getTime() - GRACE * 1000) },
      ['order-1'],
    );

    // THEN only order-1 is terminated; order-2 stays open, named with the reason
    expect(fake.terminations.map((t) => t.workflowId)).toEqual(['order-1']);
    expect(fake.execution('orders', 'order-2', 'run-order-2')).toEqual({
      open: true,
      cancelRequested: false,
    });
    expect(answer).toMatchObject({ status: 'failed', totals: { terminated: 1, failed: 1 } });
    expect(answer.failures).toEqual([
      { workflowId: 'order-2', runId: 'run-order-2', error: NOT_ASKED_ERROR },
    ]);
  });

  test('GIVEN no asking job (the asking was inline, or its job never started) and no run asked WHEN the follow-up is due THEN nothing is terminated', async () => {
    const { fake, answer } = await chunkWith(undefined, []);

    expect(fake.callCount('TerminateWorkflowExecution')).toBe(0);
    expect(answer).toMatchObject({ status: 'failed', totals: { terminated: 0, failed: 2 } });
  });
});
