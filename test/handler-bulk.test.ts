/**
 * Issue 4, end to end: the real SDK against the fake SWF server. Continuations across a short time budget,
 * the continuation ceiling, throttling storms, concurrent invocations sharing the rate, the pipeline and
 * counting first.
 */
import { bulkHandler, runChain } from './support/handler-bulk';
import { context, DOMAIN } from './support/handler-fixtures';
import { FakeSwfServer, makeExecutions, type FakeExecution } from './support/fake-swf';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type { ContinuationEvent } from '../lambda/continuation';
import { CONTINUATION_EVENT_KEY, METRIC_CONTINUATION_LIMIT } from '../lib/contract';
import { ContinuationFailedError, ContinuationLimitError, TooManyExecutionsError } from '../lambda/errors';
import { readProvenance } from '../lambda/provenance';

const lambda = mockClient(LambdaClient);
let server: FakeSwfServer;
let sent: ContinuationEvent[];

beforeEach(() => {
  lambda.reset();
  sent = [];
  lambda.on(InvokeCommand).callsFake((input: { Payload?: Uint8Array }) => {
    sent.push(
      JSON.parse(Buffer.from(input.Payload ?? new Uint8Array()).toString('utf8')) as ContinuationEvent,
    );
    return { StatusCode: 202 };
  });
});

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

describe('continuations: a request larger than one invocation completes across invocations', () => {
  test('a selector: every execution terminated exactly once, the job id and provenance carried', async () => {
    const executions = tagged(230);
    server = await FakeSwfServer.start({
      domains: [DOMAIN],
      executions: [...executions, ...tagged(20, 'keep', 'k-')],
    });
    const { handler } = bulkHandler(server, FAST);
    const event = {
      version: '0',
      id: 'evt-bulk-1',
      'detail-type': 'SWF Termination Request',
      source: 'ops.incident',
      account: '123456789012',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: [],
      detail: { domain: DOMAIN, selector: { tag: 'batch-7' } },
    };

    const reports = await runChain(handler, event, server, 50, () => sent);

    expectExactlyOnce(executions.map((e) => e.workflowId));
    // At least one hand-off. Not more: calls in flight when the budget runs out still finish, and how many
    // are in flight follows the observed latency (a loaded machine runs more per invocation).
    expect(reports.length).toBeGreaterThanOrEqual(2);
    expect(server.openCount(DOMAIN)).toBe(20);
    expect(sent.map((s) => s[CONTINUATION_EVENT_KEY].sequence)).toEqual(
      reports.slice(0, -1).map((_, i) => i + 1),
    );
    expect(reports.every((r) => r.jobId === 'evt-bulk-1')).toBe(true);
    const last = reports[reports.length - 1]!;
    expect(last.job).toMatchObject({ terminated: 230, failed: 0, invocations: reports.length });
    // Counted by every invocation before it acts (issue 8: a continuation is checked like a request).
    expect(server.callCount('CountOpenWorkflowExecutions')).toBe(reports.length);
    // Every termination, whichever invocation made it, names the original event.
    for (const t of server.terminations) {
      const block = readProvenance(t.details!);
      expect(block).toMatchObject({
        requestedBy: { via: 'eventbridge', eventId: 'evt-bulk-1' },
        jobId: 'evt-bulk-1',
      });
    }
    expect(lambda.commandCalls(InvokeCommand)[0]!.args[0].input).toMatchObject({
      FunctionName: 'swf-terminator-test',
      InvocationType: 'Event',
    });
  });

  test('an explicit list: every execution terminated exactly once, runless entries resolved', async () => {
    const executions = tagged(120, 'x', 'l-');
    server = await FakeSwfServer.start({ domains: [DOMAIN], executions });
    const { handler } = bulkHandler(server, PACED);
    const list = executions.map((e, i) =>
      i % 3 === 0 ? { workflowId: e.workflowId } : { workflowId: e.workflowId, runId: e.runId },
    );

    const reports = await runChain(handler, { domain: DOMAIN, executions: list }, server, 35, () => sent);

    expectExactlyOnce(executions.map((e) => e.workflowId));
    // At least one hand-off. Not more: calls in flight when the budget runs out still finish, and how many
    // are in flight follows the observed latency (a loaded machine runs more per invocation).
    expect(reports.length).toBeGreaterThanOrEqual(2);
    const remaining = sent.map((s) => s[CONTINUATION_EVENT_KEY].progress);
    expect(remaining.every((p) => p.target === 'list')).toBe(true);
    expect(reports[reports.length - 1]!.job).toMatchObject({
      matched: 120,
      terminated: 120,
      alreadyClosed: 0,
    });
    // Carried lists shrink: a continuation carries only what is left.
    const sizes = sent.map((s) => (s[CONTINUATION_EVENT_KEY].request.executions as unknown[]).length);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    expect(sizes[0]).toBeLessThan(120);
  });

  test('a chain that hits MAX_CONTINUATIONS stops: ContinuationLimitError, logged, metric emitted', async () => {
    server = await FakeSwfServer.start({ domains: [DOMAIN], executions: tagged(200) });
    const { handler, logger, metrics } = bulkHandler(server, { ...PACED, MAX_CONTINUATIONS: '2' });
    const errors = jest.spyOn(logger, 'error');
    const added = jest.spyOn(metrics, 'addMetric');

    const run = runChain(handler, { domain: DOMAIN, selector: { tag: 'batch-7' } }, server, 20, () => sent);

    await expect(run).rejects.toThrow(ContinuationLimitError);
    await expect(run).rejects.toThrow(/continuation 3 would exceed MAX_CONTINUATIONS \(2\)/);
    expect(sent).toHaveLength(2);
    const done = server.terminations.length;
    expect(done).toBeGreaterThanOrEqual(60);
    expect(done).toBeLessThan(200);
    expect(errors).toHaveBeenCalledWith(
      expect.stringMatching(/continuation limit reached/),
      expect.objectContaining({ job: expect.objectContaining({ terminated: done }) }),
    );
    expect(added).toHaveBeenCalledWith(METRIC_CONTINUATION_LIMIT, 'Count', 1);
  });

  test('a continuation event past the ceiling is refused before any SWF call', async () => {
    server = await FakeSwfServer.start({ domains: [DOMAIN], executions: tagged(3) });
    const { handler } = bulkHandler(server, { MAX_CONTINUATIONS: '2' });
    const event = {
      [CONTINUATION_EVENT_KEY]: {
        version: 1,
        jobId: 'j',
        sequence: 3,
        request: { domain: DOMAIN, selector: { tag: 'batch-7' } },
        acceptedUnder: { dryRun: false, maxExecutions: 1000 },
        requestTime: new Date().toISOString(),
        provenance: { via: 'console', requestId: 'r' },
        progress: { target: 'selector' },
        totals: { matched: 0, terminated: 0, alreadyClosed: 0, noOpenRun: 0, failed: 0, wouldTerminate: 0 },
        failures: [],
      },
    };

    await expect(handler(event, context)).rejects.toThrow(ContinuationLimitError);
    expect(server.callCount()).toBe(0);
  });

  test('failing to send the continuation fails the invocation (Lambda retries it)', async () => {
    server = await FakeSwfServer.start({ domains: [DOMAIN], executions: tagged(80) });
    lambda.on(InvokeCommand).rejects(new Error('AccessDeniedException'));
    const { handler } = bulkHandler(server, PACED);

    await expect(
      runChain(handler, { domain: DOMAIN, selector: { tag: 'batch-7' } }, server, 10, () => sent),
    ).rejects.toThrow(ContinuationFailedError);
    expect(server.terminations.length).toBeGreaterThanOrEqual(10);
    expect(server.terminations.length).toBeLessThan(80);
  });
});

describe('throttling slows the pace and never fails an execution', () => {
  test('a storm of injected throttles: all terminated, none failed', async () => {
    const executions = tagged(40, 'x', 't-');
    server = await FakeSwfServer.start({ domains: [DOMAIN], executions });
    server.failNext('TerminateWorkflowExecution', 'throttle', 60);
    const { handler } = bulkHandler(server, FAST);

    const report = await handler(
      { domain: DOMAIN, executions: executions.map((e) => ({ workflowId: e.workflowId, runId: e.runId })) },
      context,
    );

    expect(report).toMatchObject({ matched: 40, terminated: 40, failed: 0 });
    expect(server.throttledCount('TerminateWorkflowExecution')).toBe(60);
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

    const report = await handler({ domain: DOMAIN, selector: { tag: 'x' } }, context);

    expect(report).toMatchObject({ matched: 80, terminated: 80, failed: 0 });
    expect(server.throttledCount('TerminateWorkflowExecution')).toBeGreaterThan(0);
    expectExactlyOnce(executions.map((e) => e.workflowId));
  });

  test('throttled executions left when time runs out go into the continuation', async () => {
    const executions = tagged(12, 'x', 'c-');
    server = await FakeSwfServer.start({ domains: [DOMAIN], executions });
    server.failNext('TerminateWorkflowExecution', 'throttle', 5);
    const { handler } = bulkHandler(server, PACED);
    const list = executions.map((e) => ({ workflowId: e.workflowId, runId: e.runId }));

    const reports = await runChain(handler, { domain: DOMAIN, executions: list }, server, 4, () => sent);

    expectExactlyOnce(executions.map((e) => e.workflowId));
    expect(reports.reduce((n, r) => n + r.failed, 0)).toBe(0);
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
        h(
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

    const report = await handler({ domain: DOMAIN, selector: { tag: 'batch-7' } }, context);

    expect(report).toMatchObject({ matched: 2600, terminated: 2600, failed: 0 });
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

    const report = await handler(
      { domain: DOMAIN, selector: { tag: 'batch-7' }, maxExecutions: 40 },
      context,
    );

    expect(report).toMatchObject({ matched: 30, terminated: 30 });
    // Count (80, over 40) + a counting pass + the pipeline's listing.
    expect(server.callCount('CountOpenWorkflowExecutions')).toBe(1);
    expect(server.callCount('ListOpenWorkflowExecutions')).toBe(2);
    expect(server.terminations.every((t) => t.workflowId.startsWith('b-'))).toBe(true);
  });
});
