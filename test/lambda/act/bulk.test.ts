/**
 * Bulk requests end to end: the real SDK against the fake SWF server. Throttling storms, concurrent
 * invocations sharing the rate, the pipeline and counting first, and the hand-off of what is left (throttled
 * executions included) to a job. Jobs themselves: test/jobs.test.ts.
 */
import { asReport, bulkHandler, driveJob, inMemoryJobs } from '../../support/handler-bulk';
import { captureEmf, context, DOMAIN, resolvedOf } from '../../support/handler-fixtures';
import { FakeSwfServer, makeExecutions, type FakeExecution } from '../../support/fake-swf';
import { TooManyExecutionsError } from '../../../lambda/errors';

let server: FakeSwfServer;

afterEach(async () => {
  await server.close();
});

const started = Math.floor(Date.now() / 1000) - 3600;
const tagged = (n: number, tag = 'batch-7', prefix = 'b-'): FakeExecution[] =>
  makeExecutions(n, { domain: DOMAIN, prefix, startTimestamp: (i) => started - i, tagList: () => [tag] });

/** Every termination exactly once: none missing, no duplicates. */
function expectExactlyOnce(ids: readonly string[]) {
  const done = server.terminations.map((t) => t.workflowId);
  expect(new Set(done).size).toBe(done.length);
  expect([...done].sort()).toEqual([...ids].sort());
}

const FAST = { TERMINATE_RATE_PER_SECOND: '2000', TERMINATE_BURST: '200', MAX_EXECUTIONS: '5000' };
/**
 * For time-budget tests: slow enough that few calls are in flight when the budget runs out (the ones in
 * flight still finish, so an invocation overshoots its budget by at most the in-flight limit).
 */
const PACED = { TERMINATE_RATE_PER_SECOND: '300', TERMINATE_BURST: '10', MAX_EXECUTIONS: '5000' };

/** The handler's answer to a termination request. */
const run = async (handler: ReturnType<typeof bulkHandler>['handler'], event: unknown, ctx = context) =>
  asReport(await handler(event, ctx));

describe('throttling slows the pace and never fails an execution', () => {
  test('a storm of injected throttles: all terminated, none failed', async () => {
    const executions = tagged(40, 'x', 't-');
    server = await FakeSwfServer.start({ domains: [DOMAIN], executions });
    server.failNext('TerminateWorkflowExecution', 'throttle', 60);
    const { handler } = bulkHandler(server, FAST);

    const { docs, outcome } = await captureEmf(() =>
      run(handler, {
        domain: DOMAIN,
        executions: executions.map((e) => ({ workflowId: e.workflowId, runId: e.runId })),
      }),
    );

    expect(resolvedOf(outcome)).toMatchObject({ matched: 40, terminated: 40, failed: 0 });
    expect(server.throttledCount('TerminateWorkflowExecution')).toBe(60);
    // Every throttle the invocation absorbed is counted in its Throttled metric.
    expect(docs.map((d) => d.Throttled).filter((v) => v !== undefined)).toEqual([60]);
    expectExactlyOnce(executions.map((e) => e.workflowId));
  });

  test("a tight server bucket (SWF's own quota, scaled down): the pacer adapts, nothing fails", async () => {
    const executions = tagged(80, 'x', 'q-');
    server = await FakeSwfServer.start({
      domains: [DOMAIN],
      executions,
      buckets: { TerminateWorkflowExecution: { capacity: 10, refillPerSecond: 100 } },
    });
    // Configured far above what the server allows: throttling must arrive, and be absorbed.
    const { handler } = bulkHandler(server, { TERMINATE_RATE_PER_SECOND: '1000', TERMINATE_BURST: '100' });

    const report = await run(handler, { domain: DOMAIN, selector: { tag: 'x' } });

    expect(report).toMatchObject({ matched: 80, terminated: 80, failed: 0 });
    expect(server.throttledCount('TerminateWorkflowExecution')).toBeGreaterThan(0);
    expectExactlyOnce(executions.map((e) => e.workflowId));
  });

  test('throttled executions left when time runs out go to the job with the rest, and none fails', async () => {
    const executions = tagged(12, 'x', 'c-');
    server = await FakeSwfServer.start({ domains: [DOMAIN], executions });
    server.failNext('TerminateWorkflowExecution', 'throttle', 5);
    const jobs = inMemoryJobs();
    const { handler } = bulkHandler(server, PACED, { jobs: jobs.jobs });
    const list = executions.map((e) => ({ workflowId: e.workflowId, runId: e.runId }));
    // Every invocation may terminate 4 (its time then runs out); its first look, planning, sees plenty.
    const budget = (i: number) => {
      const base = server.terminations.length;
      let looks = 0;
      return {
        awsRequestId: `req-${i}`,
        getRemainingTimeInMillis: () => (looks++ > 0 && server.terminations.length - base >= 4 ? 0 : 900_000),
      };
    };

    const { report, states } = await driveJob(handler, jobs, { domain: DOMAIN, executions: list }, budget);

    expect(report.job).toMatchObject({ state: 'started', reason: 'out-of-time' });
    expectExactlyOnce(executions.map((e) => e.workflowId));
    expect(states.at(-1)).toMatchObject({ status: 'done', totals: { terminated: 12, failed: 0 } });
  });
});

describe('the rate is the terminator total: concurrent invocations share it', () => {
  test('3 invocations at once, each its own pacer: combined rate within the configured rate (+ burst)', async () => {
    const shares = 3;
    const rate = 60;
    const burst = 6;
    const all = tagged(90, 'x', 'p-');
    server = await FakeSwfServer.start({ domains: [DOMAIN], executions: all });
    const env = {
      TERMINATE_RATE_PER_SECOND: String(rate),
      TERMINATE_BURST: String(burst),
      TERMINATE_RATE_SHARES: String(shares),
    };
    // Three containers: three module-scope pacers, each with its share.
    const handlers = Array.from({ length: shares }, () => bulkHandler(server, env).handler);

    const reports = await Promise.all(
      handlers.map((h, k) =>
        run(
          h,
          {
            domain: DOMAIN,
            executions: all
              .slice(k * 30, k * 30 + 30)
              .map((e) => ({ workflowId: e.workflowId, runId: e.runId })),
          },
          { awsRequestId: `c-${k}` },
        ),
      ),
    );

    expect(reports.map((r) => r.terminated)).toEqual([30, 30, 30]);
    const at = server.terminations.map((t) => t.at).sort((a, b) => a - b);
    // In any window of W ms, at most rate x W + burst terminations (generous tolerance for timer jitter).
    for (const windowMs of [250, 500, 1000]) {
      let maxInWindow = 0;
      for (let i = 0, j = 0; i < at.length; i++) {
        while (at[i]! - at[j]! >= windowMs) j++;
        maxInWindow = Math.max(maxInWindow, i - j + 1);
      }
      expect(maxInWindow).toBeLessThanOrEqual(Math.ceil(((rate * windowMs) / 1000 + burst) * 1.25) + 2);
    }
    const seconds = (at[at.length - 1]! - at[0]!) / 1000;
    expect(90 - burst).toBeLessThanOrEqual(rate * seconds * 1.25 + 2);
  });
});

describe('pipeline and counting first', () => {
  test('terminations start before listing finishes; Count is used once', async () => {
    const executions = tagged(2600);
    server = await FakeSwfServer.start({ domains: [DOMAIN], executions });
    const { handler } = bulkHandler(server, {
      TERMINATE_RATE_PER_SECOND: '5000',
      TERMINATE_BURST: '500',
      MAX_EXECUTIONS: '5000',
    });

    const report = await run(handler, { domain: DOMAIN, selector: { tag: 'batch-7' } });

    // Each of the 2,600 terminated exactly once at SWF. At this rate, on a loaded machine, an answer can take
    // longer than the client waits: the retried call then finds the run closed by its own first attempt and
    // reports already-closed (README, outcomes), so the report's two counts add up to 2,600 between them.
    expect(report).toMatchObject({ matched: 2600, failed: 0 });
    expect(report.terminated + report.alreadyClosed).toBe(2600);
    expectExactlyOnce(executions.map((e) => e.workflowId));
    expect(server.callCount('CountOpenWorkflowExecutions')).toBe(1);
    const lists = server.calls.filter((c) => c.operation === 'ListOpenWorkflowExecutions').map((c) => c.at);
    expect(lists.length).toBeGreaterThanOrEqual(3);
    const firstTermination = Math.min(...server.terminations.map((t) => t.at));
    expect(firstTermination).toBeLessThan(Math.max(...lists));
    // Every List call pages with the maximum page size.
    for (const c of server.calls.filter((x) => x.operation === 'ListOpenWorkflowExecutions')) {
      expect((c.body as { maximumPageSize: number }).maximumPageSize).toBe(1000);
    }
  });

  test('over the limit: refused with the exact count, zero terminations', async () => {
    server = await FakeSwfServer.start({ domains: [DOMAIN], executions: tagged(30) });
    const { handler } = bulkHandler(server, FAST);

    const error = (await handler(
      { domain: DOMAIN, selector: { tag: 'batch-7' }, maxExecutions: 20 },
      context,
    ).catch((e: unknown) => e)) as TooManyExecutionsError;

    expect(error).toBeInstanceOf(TooManyExecutionsError);
    expect(error).toMatchObject({ count: 30, limit: 20 });
    expect(server.callCount('CountOpenWorkflowExecutions')).toBe(1);
    expect(server.terminations).toHaveLength(0);
  });

  test('a Count over the limit that the re-check brings under it: counted by listing, then acted on', async () => {
    server = await FakeSwfServer.start({
      domains: [DOMAIN],
      executions: [...tagged(30), ...tagged(50, 'other', 'o-')],
      ignoreFilters: true,
    });
    const { handler } = bulkHandler(server, FAST);

    const report = await run(handler, { domain: DOMAIN, selector: { tag: 'batch-7' }, maxExecutions: 40 });

    expect(report).toMatchObject({ matched: 30, terminated: 30 });
    // Count (80, over 40) + a counting pass + the pipeline's listing.
    expect(server.callCount('CountOpenWorkflowExecutions')).toBe(1);
    expect(server.callCount('ListOpenWorkflowExecutions')).toBe(2);
    expect(server.terminations.every((t) => t.workflowId.startsWith('b-'))).toBe(true);
  });
});
