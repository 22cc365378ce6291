/**
 * A stalled / idle match is read twice: when the selector is resolved (every candidate described), and again
 * for each match just before it is acted on, inline or in a job's chunk. A run that resumed in between (a
 * signal woke its decider, an activity was scheduled) is left alone and reported `no-longer-matches`.
 */
import type { SwfPort } from '../../../lambda/aws/swf';
import { JOB_EVENT_KEY } from '../../../lib/contract';
import type { JobState } from '../../../lambda/types';
import { InvalidRequestError } from '../../../lambda/errors';
import { NO_TOTALS } from '../../../lambda/job/write';
import { FakeSwfServer, type FakeExecution } from '../../support/fake-swf';
import { inMemoryJobs } from '../../support/handler-bulk';
import { captureEmf, jobStateFixture, makeHandler, NOW, resolvedOf } from '../../support/handler-fixtures';
import { fakeSwfPort, openCounts } from '../../support/policy-events';

let server: FakeSwfServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

const ctx = { awsRequestId: 'req-recheck' };
const NOW_S = Math.floor(NOW.getTime() / 1000);
const DESCRIBES = { DESCRIBE_DOMAINS: 'orders' };

/** A `nightly` run of orders, open two hours: stalled (nothing open), and idle since its start, by default. */
function stalledRun(workflowId: string, o: { activity?: boolean } = {}): FakeExecution {
  return {
    domain: 'orders',
    workflowId,
    runId: `run-${workflowId}`,
    workflowType: { name: 'OrderFlow', version: '1' },
    startTimestamp: NOW_S - 7200,
    tagList: ['nightly'],
    openCounts: o.activity === true ? openCounts({ openActivityTasks: 1 }) : openCounts(),
  };
}

/**
 * The fake's SWF port, where `resumed` runs resume once they have been described: from their second
 * description on, a decision task is open and an activity task was scheduled at NOW.
 */
function resumingAfterFirstLook(fake: FakeSwfServer, resumed: readonly string[]): SwfPort {
  const port = fakeSwfPort(fake);
  const looks = new Map<string, number>();
  return {
    ...port,
    async describe(input) {
      const activity = await port.describe(input);
      const seen = (looks.get(input.workflowId) ?? 0) + 1;
      looks.set(input.workflowId, seen);
      if (activity === 'closed' || seen < 2 || !resumed.includes(input.workflowId)) return activity;
      return {
        ...activity,
        openCounts: { ...activity.openCounts, openDecisionTasks: 1 },
        latestActivityTaskTimestamp: NOW,
      };
    },
  };
}

describe('inline: each match is described again just before it is acted on', () => {
  test.each([
    ['stalled', { stalled: true }],
    ['idleLongerThanSeconds', { idleLongerThanSeconds: 3600 }],
  ])(
    'GIVEN a %s selector and a match that resumes after it was described WHEN acting THEN that run is left open, no-longer-matches',
    async (_criterion, criteria) => {
      // GIVEN three stalled, idle runs; order-2 resumes once the selector has been resolved
      server = await FakeSwfServer.start({
        domains: ['orders'],
        executions: [stalledRun('order-1'), stalledRun('order-2'), stalledRun('order-3')],
      });
      const { handler } = makeHandler({
        env: DESCRIBES,
        swf: resumingAfterFirstLook(server, ['order-2']),
        deps: { endReserveMs: 1_000 },
      });

      // WHEN
      const { docs, outcome } = await captureEmf(() =>
        handler({ domain: 'orders', selector: { tag: 'nightly', ...criteria } }, ctx),
      );
      const report = resolvedOf(outcome);

      // THEN the other two are terminated; order-2 is open, reported as no longer matching
      expect(server.terminations.map((t) => t.workflowId).sort()).toEqual(['order-1', 'order-3']);
      expect(server.execution('orders', 'order-2', 'run-order-2')).toMatchObject({ open: true });
      expect(report).toMatchObject({ matched: 3, terminated: 2, noLongerMatches: 1, failed: 0 });
      expect(report.executions).toContainEqual({
        workflowId: 'order-2',
        runId: 'run-order-2',
        outcome: 'no-longer-matches',
      });
      // three descriptions to resolve, three more just before acting
      expect(server.callCount('DescribeWorkflowExecution')).toBe(6);
      // and the metric counts it
      expect(docs.find((d) => 'NoLongerMatches' in d)).toMatchObject({ NoLongerMatches: 1, Terminated: 2 });
    },
  );

  test('GIVEN a preview of a stalled selector WHEN it runs THEN the matches are not described again (nothing is acted on)', async () => {
    server = await FakeSwfServer.start({
      domains: ['orders'],
      executions: [stalledRun('order-1'), stalledRun('order-2')],
    });
    const { handler } = makeHandler({
      env: DESCRIBES,
      swf: fakeSwfPort(server),
      deps: { endReserveMs: 1_000 },
    });

    const report = await handler(
      { domain: 'orders', selector: { tag: 'nightly', stalled: true }, dryRun: true },
      ctx,
    );

    expect(report).toMatchObject({ dryRun: true, matched: 2, terminated: 0 });
    expect(server.callCount('DescribeWorkflowExecution')).toBe(2);
  });
});

describe('when the second look cannot be used', () => {
  test('GIVEN the end reserve comes while a match is described again WHEN the description answers THEN that run is handed to the job, not acted on', async () => {
    // GIVEN two stalled runs; the invocation's time runs short during the first re-description
    server = await FakeSwfServer.start({
      domains: ['orders'],
      executions: [stalledRun('order-1'), stalledRun('order-2')],
    });
    const port = fakeSwfPort(server);
    let remainingMs = 60_000;
    let looks = 0;
    const slow: SwfPort = {
      ...port,
      async describe(input) {
        looks += 1;
        // two looks to resolve; the third is the first re-description
        if (looks === 3) remainingMs = 500;
        return port.describe(input);
      },
    };
    const jobs = inMemoryJobs();
    const { handler } = makeHandler({
      env: DESCRIBES,
      swf: slow,
      deps: { jobs: jobs.jobs, endReserveMs: 1_000 },
    });

    // WHEN
    const report = await handler(
      { domain: 'orders', selector: { tag: 'nightly', stalled: true } },
      { awsRequestId: 'req-late', getRemainingTimeInMillis: () => remainingMs },
    );

    // THEN nothing was terminated here: both runs went to the job, with the criteria
    expect(server.callCount('TerminateWorkflowExecution')).toBe(0);
    expect(report.job).toMatchObject({ state: 'started', reason: 'out-of-time' });
    expect(jobs.started[0]).toMatchObject({
      progress: { target: 'list', remaining: 2 },
      recheck: { stalled: true },
    });
  });

  test('GIVEN SWF still throttles a re-description after its retries WHEN acting THEN the run is tried again later, not failed', async () => {
    server = await FakeSwfServer.start({ domains: ['orders'], executions: [stalledRun('order-1')] });
    const port = fakeSwfPort(server);
    let looks = 0;
    const throttling: SwfPort = {
      ...port,
      async describe(input) {
        looks += 1;
        if (looks === 2) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
        return port.describe(input);
      },
    };
    const { handler } = makeHandler({ env: DESCRIBES, swf: throttling, deps: { endReserveMs: 1_000 } });

    const report = await handler({ domain: 'orders', selector: { tag: 'nightly', stalled: true } }, ctx);

    expect(report).toMatchObject({ terminated: 1, failed: 0 });
    expect(looks).toBe(3);
  });
});

test('GIVEN cancelThenTerminate with a stalled selector WHEN a match resumes after it was described THEN its job leaves it alone: described again before it is asked', async () => {
  server = await FakeSwfServer.start({
    domains: ['orders'],
    executions: [stalledRun('order-1'), stalledRun('order-2')],
  });
  const jobs = inMemoryJobs();
  const { handler, raw } = makeHandler({
    env: { ...DESCRIBES, CANCEL_REQUESTS: 'true', CANCEL_DOMAINS: 'orders,billing' },
    swf: resumingAfterFirstLook(server, ['order-2']),
    deps: { jobs: jobs.jobs, endReserveMs: 1_000 },
  });

  const report = await handler(
    {
      domain: 'orders',
      selector: { tag: 'nightly', stalled: true },
      action: 'cancelThenTerminate',
      gracePeriodSeconds: 60,
    },
    { awsRequestId: 'req-ctt', getRemainingTimeInMillis: () => 60_000 },
  );
  const job = jobs.started[0]!;
  await raw(
    JSON.parse(JSON.stringify({ [JOB_EVENT_KEY]: job, execution: jobs.jobs.executionArn(job.jobId) })),
    { awsRequestId: 'chunk-1' },
  );

  // THEN the job was started with both runs and the criteria to re-check; its chunk described each again and
  // asked only the one still stalled (the other had resumed: no-longer-matches)
  expect(report.job).toMatchObject({ state: 'started', reason: 'grace-period' });
  expect(job.recheck).toEqual({ stalled: true });
  expect(server.cancellations().map((c) => c.workflowId)).toEqual(['order-1']);
  expect(server.callCount('DescribeWorkflowExecution')).toBe(4);
});

test('GIVEN a stalled selector whose matches take longer than the invocation has WHEN it becomes a job THEN the job carries the criteria to re-check', async () => {
  // GIVEN three stalled runs, one termination a second, and 2 s left in the invocation
  server = await FakeSwfServer.start({
    domains: ['orders'],
    executions: [stalledRun('order-1'), stalledRun('order-2'), stalledRun('order-3')],
  });
  const jobs = inMemoryJobs();
  const { handler } = makeHandler({
    env: { ...DESCRIBES, TERMINATE_RATE_PER_SECOND: '1', TERMINATE_BURST: '1' },
    swf: fakeSwfPort(server),
    deps: { jobs: jobs.jobs, endReserveMs: 1_000 },
  });

  // WHEN
  const report = await handler(
    { domain: 'orders', selector: { tag: 'nightly', stalled: true } },
    { awsRequestId: 'req-job', getRemainingTimeInMillis: () => 2_000 },
  );

  // THEN the job has the resolved runs, and the criteria they matched
  expect(report.job).toMatchObject({ state: 'started', reason: 'too-large' });
  expect(jobs.started).toHaveLength(1);
  expect(jobs.started[0]).toMatchObject({
    progress: { target: 'list', remaining: 3 },
    recheck: { stalled: true },
  });
});

describe("a job's chunk re-checks its runs against the criteria its state carries", () => {
  /** A job with order-1 and order-2 to act on, resolved by `stalled`. */
  const state = (overrides: Partial<JobState> = {}): JobState =>
    jobStateFixture({
      jobId: 'recheck-job',
      request: {
        domain: 'orders',
        executions: [
          { workflowId: 'order-1', runId: 'run-order-1' },
          { workflowId: 'order-2', runId: 'run-order-2' },
        ],
      },
      progress: { target: 'list', remaining: 2 },
      totals: NO_TOTALS,
      recheck: { stalled: true },
      ...overrides,
    });

  async function chunk(env: Record<string, string>, jobState: JobState) {
    const jobs = inMemoryJobs();
    await jobs.jobs.start(jobState);
    const { raw } = makeHandler({
      env,
      swf: fakeSwfPort(server!),
      deps: { jobs: jobs.jobs, endReserveMs: 1_000 },
    });
    const event = JSON.parse(
      JSON.stringify({ [JOB_EVENT_KEY]: jobState, execution: jobs.jobs.executionArn(jobState.jobId) }),
    ) as unknown;
    return raw(event, { awsRequestId: 'chunk-1' });
  }

  test('GIVEN one run stalled and one that resumed WHEN the chunk acts THEN only the stalled one is terminated', async () => {
    server = await FakeSwfServer.start({
      domains: ['orders'],
      executions: [stalledRun('order-1'), stalledRun('order-2', { activity: true })],
    });

    const answer = (await chunk(DESCRIBES, state())) as JobState;

    expect(server.terminations.map((t) => t.workflowId)).toEqual(['order-1']);
    expect(answer).toMatchObject({
      status: 'done',
      recheck: { stalled: true },
      totals: { matched: 2, terminated: 1, noLongerMatches: 1, failed: 0 },
    });
  });

  test('GIVEN a redeploy that no longer lets the function describe the domain WHEN the chunk arrives THEN it is refused, naming recheck, before any SWF call', async () => {
    server = await FakeSwfServer.start({ domains: ['orders'], executions: [stalledRun('order-1')] });

    const error = await chunk({}, state()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).field).toBe(`${JOB_EVENT_KEY}.recheck`);
    expect(server.callCount()).toBe(0);
  });
});
