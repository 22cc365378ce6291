/**
 * The real SDK (with the handler's retry configuration) over HTTP against a local server speaking SWF's
 * JSON protocol: retries, faults and paging as they arrive on the wire.
 */
import { makeHandler, context, DOMAIN } from '../../support/handler-fixtures';
import { FakeSwfServer, makeExecutions, type FakeExecution } from '../../support/fake-swf';
import { TerminationFailedError } from '../../../lambda/errors';
import { JOBS_CALL_MAX_MS } from '../../../lambda/aws/jobs';
import { MIN_END_RESERVE_MS } from '../../../lib/contract';
import { createSwf } from '../../../lambda/aws/swf';
import {
  createSwfClient,
  REQUEST_TIMEOUT_MS,
  SWF_CALL_MAX_MS,
  SWF_CLIENT_CONFIG,
  TRANSIENT_MAX_ATTEMPTS,
} from '../../../lambda/aws/swf-client';

let server: FakeSwfServer;

async function startServer(executions: FakeExecution[], extra: { ignoreFilters?: boolean } = {}) {
  server = await FakeSwfServer.start({ domains: [DOMAIN], executions, ...extra });
}

afterEach(async () => {
  await server.close();
});

/** The handler over HTTP; `requestTimeoutMs` shortens the production request and socket timeouts. */
function httpHandler(env: Record<string, string> = {}, requestTimeoutMs?: number) {
  const swf = createSwf(
    createSwfClient({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
      ...(requestTimeoutMs === undefined
        ? {}
        : {
            // Only the timeouts production sets are shortened: a test must fail if one is dropped there.
            requestHandler: Object.fromEntries(
              Object.entries(SWF_CLIENT_CONFIG.requestHandler).map(([k, v]) => [
                k,
                k === 'requestTimeout' || k === 'socketTimeout' ? requestTimeoutMs : v,
              ]),
            ),
          }),
    }),
  );
  return makeHandler({ swf, env, now: () => new Date() }).handler;
}

const started = Math.floor(Date.now() / 1000) - 3600;
const one = (workflowId = 'wf-1', runId = 'run-1', tagList?: string[]): FakeExecution => ({
  domain: DOMAIN,
  workflowId,
  runId,
  workflowType: { name: 'OrderFlow', version: '1' },
  startTimestamp: started,
  ...(tagList === undefined ? {} : { tagList }),
});

describe('retries: transient trouble never fails an execution that a retry terminates', () => {
  test.each([
    ['throttling (twice)', 'throttle', 2],
    ['HTTP 500', 'server-error', 1],
    ['a dropped connection', 'drop-connection', 1],
  ] as const)('%s, then success: terminated once', async (_name, fault, times) => {
    await startServer([one()]);
    server.failNext('TerminateWorkflowExecution', fault, times);
    const handler = httpHandler();

    const report = await handler({ domain: DOMAIN, workflowId: 'wf-1', runId: 'run-1' }, context);

    expect(report).toMatchObject({ terminated: 1, failed: 0 });
    expect(server.terminations).toHaveLength(1);
    expect(server.callCount('TerminateWorkflowExecution')).toBe(times + 1);
  });
});

describe("the gate: a call that acts on a run asks it before every attempt, the SDK's retries included", () => {
  const port = () =>
    createSwf(
      createSwfClient({
        endpoint: server.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
      }),
    );
  const input = {
    domain: DOMAIN,
    workflowId: 'wf-1',
    runId: 'run-1',
    reason: 'r',
    details: 'd',
  };

  test.each([
    ['TerminateWorkflowExecution', 'terminate'],
    ['RequestCancelWorkflowExecution', 'requestCancel'],
  ] as const)(
    'GIVEN a first attempt that fails (HTTP 500) WHEN the gate closes before the retry THEN %s is not sent again: not-sent',
    async (operation, call) => {
      // GIVEN
      await startServer([one()]);
      server.failNext(operation, 'server-error');
      let asked = 0;
      // open for the first attempt, closed after (the job was stopped meanwhile)
      const gate = () => Promise.resolve(++asked === 1);

      // WHEN
      const result = await (call === 'terminate'
        ? port().terminate(input, gate)
        : port().requestCancel({ domain: DOMAIN, workflowId: 'wf-1', runId: 'run-1' }, gate));

      // THEN one attempt reached SWF; the retry was not sent
      expect(result).toEqual({ kind: 'not-sent' });
      expect(asked).toBe(2);
      expect(server.callCount(operation)).toBe(1);
      expect(server.execution(DOMAIN, 'wf-1', 'run-1')).toMatchObject({ open: true, cancelRequested: false });
    },
  );

  test('GIVEN a gate that stays open WHEN the first attempt fails THEN the retry is sent and terminates', async () => {
    await startServer([one()]);
    server.failNext('TerminateWorkflowExecution', 'server-error');
    let asked = 0;

    const result = await port().terminate(input, () => Promise.resolve(++asked > 0));

    expect(result).toEqual({ kind: 'terminated' });
    expect(asked).toBe(2);
    expect(server.terminations).toHaveLength(1);
  });
});

describe("sockets: no call waits for one (it would reach SWF later than the job's guard allowed)", () => {
  test('GIVEN SWF answering after 2 s WHEN 130 terminations are in flight at once THEN every one reaches SWF before any answer leaves it', async () => {
    // GIVEN (130: the terminate and cancel pacers' in-flight limits together; the SDK's default is 50 sockets)
    await startServer(makeExecutions(130, { domain: DOMAIN }));
    const latencyMs = 2_000;
    server.latencyMs = latencyMs;
    const swf = createSwf(
      createSwfClient({
        endpoint: server.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
      }),
    );

    // WHEN
    await Promise.all(
      Array.from({ length: 130 }, (_, i) =>
        swf.terminate({
          domain: DOMAIN,
          workflowId: `wf-${i}`,
          runId: `run-wf-${i}`,
          reason: 'r',
          details: 'd',
        }),
      ),
    );

    // THEN all 130 were at SWF at once: the last arrived before the first answer could leave (the server holds
    // every answer latencyMs after its arrival). A call waiting for a socket is sent only after an answer comes
    // back, so it would arrive at least latencyMs after the first. Structural, not a stopwatch: load on the
    // machine delays arrivals a little, never by a whole answer's time.
    const arrivals = server.calls.map((c) => c.at);
    expect(arrivals).toHaveLength(130);
    expect(Math.max(...arrivals) - Math.min(...arrivals)).toBeLessThan(latencyMs);
  });
});

describe('a request SWF never answers: the request timeout makes it an error, retried', () => {
  test('an answer whose body stalls once, then success: terminated, on the second attempt', async () => {
    await startServer([one()]);
    server.failNext('TerminateWorkflowExecution', 'stall-body', 1);
    const handler = httpHandler({}, 250);

    const report = await handler({ domain: DOMAIN, workflowId: 'wf-1', runId: 'run-1' }, context);

    expect(report).toMatchObject({ terminated: 1, failed: 0 });
    expect(server.callCount('TerminateWorkflowExecution')).toBe(2);
  });

  test('unanswered once, then success: terminated, on the second attempt', async () => {
    await startServer([one()]);
    server.failNext('TerminateWorkflowExecution', 'hang', 1);
    const handler = httpHandler({}, 250);

    const report = await handler({ domain: DOMAIN, workflowId: 'wf-1', runId: 'run-1' }, context);

    expect(report).toMatchObject({ terminated: 1, failed: 0 });
    expect(server.callCount('TerminateWorkflowExecution')).toBe(2);
  });

  test('never answered: failed with the timeout as its error after every attempt, and the invocation throws', async () => {
    await startServer([one()]);
    server.failNext('TerminateWorkflowExecution', 'hang', TRANSIENT_MAX_ATTEMPTS);
    const handler = httpHandler({}, 100);
    const started = Date.now();

    const error = await handler({ domain: DOMAIN, workflowId: 'wf-1', runId: 'run-1' }, context).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(TerminationFailedError);
    expect((error as TerminationFailedError).failures).toEqual([
      expect.objectContaining({
        workflowId: 'wf-1',
        error: expect.stringMatching(/requestTimeout|timed? ?out/i),
      }),
    ]);
    expect(server.callCount('TerminateWorkflowExecution')).toBe(TRANSIENT_MAX_ATTEMPTS);
    expect(server.terminations).toHaveLength(0);
    // Bounded by the timeouts and the backoff (at most 100 + 200 + 400 + 800 ms), not by the test's timeout.
    expect(Date.now() - started).toBeLessThan(4000);
  });

  test("the longest call, every attempt timing out, then starting a job, end inside the invocation's end reserve", () => {
    expect(SWF_CLIENT_CONFIG.requestHandler.requestTimeout).toBe(REQUEST_TIMEOUT_MS);
    expect(SWF_CALL_MAX_MS).toBe(TRANSIENT_MAX_ATTEMPTS * REQUEST_TIMEOUT_MS + 100 + 200 + 400 + 800);
    expect(SWF_CLIENT_CONFIG.requestHandler.socketTimeout).toBe(REQUEST_TIMEOUT_MS);
    // Starting a job takes two Step Functions calls (DescribeExecution, StartExecution).
    expect(SWF_CALL_MAX_MS + 2 * JOBS_CALL_MAX_MS).toBeLessThanOrEqual(MIN_END_RESERVE_MS);
  });
});

describe('faults', () => {
  test('UnknownResourceFault for the execution (already closed): already-closed, no error', async () => {
    await startServer([one()]);
    const handler = httpHandler();

    const first = await handler({ domain: DOMAIN, workflowId: 'wf-1', runId: 'run-1' }, context);
    const again = await handler({ domain: DOMAIN, workflowId: 'wf-1', runId: 'run-1' }, context);

    expect(first.terminated).toBe(1);
    expect(again).toMatchObject({ terminated: 0, alreadyClosed: 1, failed: 0 });
    expect(server.terminations).toHaveLength(1);
  });

  test('UnknownResourceFault for the domain: failed, and the invocation throws', async () => {
    await startServer([one()]);
    const handler = httpHandler();

    // "billing" is allowed by the function but unknown to SWF: a configuration error.
    await expect(handler({ domain: 'billing', workflowId: 'wf-1', runId: 'run-1' }, context)).rejects.toThrow(
      /wf-1\/run-1: UnknownResourceFault: Unknown domain: billing/,
    );
  });

  test('OperationNotPermittedFault: failed, the rest still processed, then the invocation throws', async () => {
    await startServer([one('a', 'ra'), one('b', 'rb')]);
    server.failNext('TerminateWorkflowExecution', 'not-permitted');
    const handler = httpHandler();

    const error = (await handler(
      {
        domain: DOMAIN,
        executions: [
          { workflowId: 'a', runId: 'ra' },
          { workflowId: 'b', runId: 'rb' },
        ],
      },
      context,
    ).catch((e: unknown) => e)) as TerminationFailedError;

    expect(error).toBeInstanceOf(TerminationFailedError);
    expect(error.failedCount).toBe(1);
    expect(error.message).toMatch(/OperationNotPermittedFault/);
    expect(server.terminations).toHaveLength(1);
  });
});

describe('run resolution and selectors over the wire', () => {
  test('a workflowId without runId terminates its current open run', async () => {
    await startServer([one('wf-1', 'run-current')]);
    const handler = httpHandler();

    const report = await handler({ domain: DOMAIN, workflowId: 'wf-1' }, context);

    expect(report.executions).toEqual([{ workflowId: 'wf-1', runId: 'run-current', outcome: 'terminated' }]);
    expect(server.terminations.map((t) => t.runId)).toEqual(['run-current']);
  });

  test('a selector across three pages terminates every match exactly once', async () => {
    const matching = makeExecutions(2500, {
      domain: DOMAIN,
      prefix: 'batch-',
      startTimestamp: (i) => started - i,
      tagList: () => ['batch-7'],
    });
    const others = makeExecutions(300, {
      domain: DOMAIN,
      prefix: 'other-',
      startTimestamp: () => started,
      tagList: () => ['batch-8'],
    });
    await startServer([...matching, ...others]);
    // Terminations are paced (default 50/s); a fast rate keeps this test about paging, not pacing.
    const handler = httpHandler({
      MAX_EXECUTIONS: '5000',
      TERMINATE_RATE_PER_SECOND: '5000',
      TERMINATE_BURST: '5000',
    });

    const report = await handler({ domain: DOMAIN, selector: { tag: 'batch-7' } }, context);

    expect(server.callCount('ListOpenWorkflowExecutions')).toBeGreaterThanOrEqual(3);
    expect(report).toMatchObject({ matched: 2500, failed: 0, truncated: true });
    // (a terminate whose answer was lost to a timeout is retried and finds its run closed: the report can only
    // say already-closed for it; SWF's own record below is what proves each match terminated exactly once)
    expect(report.terminated + report.alreadyClosed).toBe(2500);
    const terminated = server.terminations.map((t) => t.workflowId);
    expect(new Set(terminated).size).toBe(2500);
    expect(terminated.every((w) => w.startsWith('batch-'))).toBe(true);
    expect(server.openCount(DOMAIN)).toBe(300);
  });

  test('an endpoint that ignores filters: the client-side re-check still spares non-matching executions', async () => {
    const executions = [
      ...makeExecutions(1500, {
        domain: DOMAIN,
        prefix: 'keep-',
        startTimestamp: () => started,
        tagList: () => ['other'],
      }),
      ...makeExecutions(50, {
        domain: DOMAIN,
        prefix: 'kill-',
        startTimestamp: () => started,
        tagList: () => ['batch-7'],
      }),
    ];
    await startServer(executions, { ignoreFilters: true });
    const handler = httpHandler();

    const report = await handler({ domain: DOMAIN, selector: { tag: 'batch-7' } }, context);

    expect(report).toMatchObject({ matched: 50, terminated: 50 });
    expect(server.terminations.every((t) => t.workflowId.startsWith('kill-'))).toBe(true);
    expect(server.openCount(DOMAIN)).toBe(1500);
  });
});

describe('concurrent calls on one client', () => {
  test('each sends its own input', async () => {
    const executions = makeExecutions(24, { domain: DOMAIN, prefix: 'c-' });
    await startServer(executions);
    const client = createSwfClient({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
    });
    {
      const swf = createSwf(client);
      // A List call first, so the cache holds a handler for another command class too.
      const listed: string[] = [];
      for await (const page of swf.listOpen({
        domain: DOMAIN,
        startTimeFilter: { oldestDate: new Date(0) },
      })) {
        for (const info of page) listed.push(info.execution?.workflowId ?? '');
      }
      expect(listed).toHaveLength(24);

      const results = await Promise.all(
        executions.map((e, i) =>
          swf.terminate({
            domain: DOMAIN,
            workflowId: e.workflowId,
            runId: e.runId,
            reason: `reason ${i}`,
            details: `details for ${e.workflowId}`,
            ...(i % 2 === 0 ? { childPolicy: 'ABANDON' as const } : {}),
          }),
        ),
      );

      expect(results.every((r) => r.kind === 'terminated')).toBe(true);
      const recorded = [...server.terminations].sort((a, b) => a.workflowId.localeCompare(b.workflowId));
      const expected = executions
        .map((e, i) => ({
          workflowId: e.workflowId,
          runId: e.runId,
          reason: `reason ${i}`,
          details: `details for ${e.workflowId}`,
          childPolicy: i % 2 === 0 ? 'ABANDON' : undefined,
        }))
        .sort((a, b) => a.workflowId.localeCompare(b.workflowId));
      expect(
        recorded.map((t) => ({
          workflowId: t.workflowId,
          runId: t.runId,
          reason: t.reason,
          details: t.details,
          childPolicy: t.childPolicy,
        })),
      ).toEqual(expected);
    }
    client.destroy();
  });
});
