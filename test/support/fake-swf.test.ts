/**
 * Proves that test/support/fake-swf.ts speaks SWF's JSON protocol well enough for the real
 * @aws-sdk/client-swf: results, modelled faults, paging, filters, cancel requests, and the SDK's own retries of
 * throttling, server errors and dropped connections. What SWF does that both doubles must do alike (listing,
 * counting, terminating, cancelling, describing) is the shared contract's, test/support/swf-contract.test.ts.
 */
import {
  CountOpenWorkflowExecutionsCommand,
  DescribeWorkflowExecutionCommand,
  ListOpenWorkflowExecutionsCommand,
  type ListOpenWorkflowExecutionsCommandInput,
  OperationNotPermittedFault,
  RequestCancelWorkflowExecutionCommand,
  SWFClient,
  TerminateWorkflowExecutionCommand,
  UnknownResourceFault,
  type WorkflowExecutionInfo,
} from '@aws-sdk/client-swf';
import { FakeSwfServer, type FakeSwfOptions, makeExecutions, SWF_QUOTAS } from './fake-swf';

const DOMAIN = 'orders';
const EPOCH = new Date(0);

const servers: FakeSwfServer[] = [];
const clients: SWFClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(opts: Partial<FakeSwfOptions> = {}): Promise<FakeSwfServer> {
  const server = await FakeSwfServer.start({ domains: [DOMAIN], ...opts });
  servers.push(server);
  return server;
}

function clientFor(server: FakeSwfServer, maxAttempts = 3): SWFClient {
  const client = new SWFClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts,
  });
  clients.push(client);
  return client;
}

/** What the SDK rejects with: an Error carrying the SDK's metadata. */
type SdkError = Error & {
  $metadata: { httpStatusCode?: number; attempts?: number };
  $fault?: string;
  code?: string;
};

/** Resolves to the rejection of `p` (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<SdkError> {
  try {
    await p;
  } catch (err) {
    return err as SdkError;
  }
  throw new Error('expected a rejection');
}

const terminate = (workflowId: string, runId?: string) =>
  new TerminateWorkflowExecutionCommand({ domain: DOMAIN, workflowId, ...(runId ? { runId } : {}) });

const requestCancel = (workflowId: string, runId?: string) =>
  new RequestCancelWorkflowExecutionCommand({ domain: DOMAIN, workflowId, ...(runId ? { runId } : {}) });

const describeCommand = (workflowId: string, runId: string) =>
  new DescribeWorkflowExecutionCommand({ domain: DOMAIN, execution: { workflowId, runId } });

async function listAll(
  client: SWFClient,
  input: Omit<ListOpenWorkflowExecutionsCommandInput, 'domain' | 'startTimeFilter'> & {
    startTimeFilter?: ListOpenWorkflowExecutionsCommandInput['startTimeFilter'];
  },
): Promise<{ infos: WorkflowExecutionInfo[]; pages: number }> {
  const infos: WorkflowExecutionInfo[] = [];
  let pages = 0;
  let nextPageToken: string | undefined;
  do {
    const out = await client.send(
      new ListOpenWorkflowExecutionsCommand({
        domain: DOMAIN,
        startTimeFilter: { oldestDate: EPOCH },
        ...input,
        ...(nextPageToken ? { nextPageToken } : {}),
      }),
    );
    infos.push(...(out.executionInfos ?? []));
    nextPageToken = out.nextPageToken;
    pages++;
  } while (nextPageToken);
  return { infos, pages };
}

const ids = (infos: WorkflowExecutionInfo[]) => infos.map((i) => i.execution?.workflowId);

describe('TerminateWorkflowExecution', () => {
  it('closes the named run and records the termination; a second terminate is UnknownResourceFault', async () => {
    const server = await start({ executions: makeExecutions(2, { domain: DOMAIN }) });
    const client = clientFor(server);

    const out = await client.send(
      new TerminateWorkflowExecutionCommand({
        domain: DOMAIN,
        workflowId: 'wf-0',
        runId: 'run-wf-0',
        reason: 'because',
        details: 'who asked',
        childPolicy: 'ABANDON',
      }),
    );
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(server.terminations).toEqual([
      {
        domain: DOMAIN,
        workflowId: 'wf-0',
        runId: 'run-wf-0',
        reason: 'because',
        details: 'who asked',
        childPolicy: 'ABANDON',
        at: expect.any(Number),
        clockAt: expect.any(Number),
      },
    ]);
    expect(server.openExecutions(DOMAIN).map((e) => e.workflowId)).toEqual(['wf-1']);

    const err = await rejection(client.send(terminate('wf-0', 'run-wf-0')));
    expect(err).toBeInstanceOf(UnknownResourceFault);
    expect(err.name).toBe('UnknownResourceFault');
    expect(err.message).toMatch(/^Unknown execution: /);
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(err.$metadata.attempts).toBe(1); // modelled faults are not retried
    expect(server.terminations).toHaveLength(1);
  });

  it('dates terminations and cancel requests by its own clock in clockAt, beside the wall clock in at', async () => {
    const testClock = 1_900_000_000_000;
    const server = await start({ executions: makeExecutions(2, { domain: DOMAIN }), now: () => testClock });
    const client = clientFor(server);

    await client.send(terminate('wf-0', 'run-wf-0'));
    await client.send(
      new RequestCancelWorkflowExecutionCommand({ domain: DOMAIN, workflowId: 'wf-1', runId: 'run-wf-1' }),
    );

    expect(server.terminations[0]?.clockAt).toBe(testClock);
    expect(server.cancellations()[0]?.clockAt).toBe(testClock);
    expect(Math.abs((server.terminations[0]?.at ?? 0) - Date.now())).toBeLessThan(10_000);
  });

  it('without runId terminates the open run of the workflowId', async () => {
    const server = await start({ executions: makeExecutions(1, { domain: DOMAIN }) });
    const client = clientFor(server);
    await client.send(terminate('wf-0'));
    expect(server.terminations[0]).toMatchObject({ workflowId: 'wf-0', runId: 'run-wf-0' });
    expect(await rejection(client.send(terminate('wf-0')))).toBeInstanceOf(UnknownResourceFault);
    // A new run of the same workflowId can start once the old one is closed.
    server.addExecutions([{ ...makeExecutions(1, { domain: DOMAIN })[0]!, runId: 'second' }]);
    await client.send(terminate('wf-0'));
    expect(server.terminations[1]).toMatchObject({ workflowId: 'wf-0', runId: 'second' });
  });

  it('an execution that never existed is UnknownResourceFault "Unknown execution"', async () => {
    const server = await start();
    const err = await rejection(clientFor(server).send(terminate('ghost', 'r1')));
    expect(err).toBeInstanceOf(UnknownResourceFault);
    expect(err.message).toContain('Unknown execution');
  });

  it('an unknown domain is UnknownResourceFault "Unknown domain: NAME"', async () => {
    const server = await start();
    const client = clientFor(server);
    const err = await rejection(
      client.send(new TerminateWorkflowExecutionCommand({ domain: 'elsewhere', workflowId: 'w' })),
    );
    expect(err).toBeInstanceOf(UnknownResourceFault);
    expect(err.message).toBe('Unknown domain: elsewhere');
    const listErr = await rejection(
      client.send(
        new ListOpenWorkflowExecutionsCommand({
          domain: 'elsewhere',
          startTimeFilter: { oldestDate: EPOCH },
        }),
      ),
    );
    expect(listErr.message).toBe('Unknown domain: elsewhere');
  });

  it('validates childPolicy, and enforces a child policy when asked to', async () => {
    const server = await start({
      executions: [
        ...makeExecutions(1, { domain: DOMAIN }),
        { ...makeExecutions(1, { domain: DOMAIN, prefix: 'd-' })[0]!, defaultChildPolicy: 'TERMINATE' },
      ],
      requireChildPolicy: true,
    });
    const client = clientFor(server);
    const bad = await rejection(
      client.send(
        new TerminateWorkflowExecutionCommand({
          domain: DOMAIN,
          workflowId: 'wf-0',
          childPolicy: 'NOPE' as 'ABANDON',
        }),
      ),
    );
    expect(bad.name).toBe('ValidationException');
    expect((await rejection(client.send(terminate('wf-0')))).name).toBe('DefaultUndefinedFault');
    await client.send(terminate('d-0')); // the type's default applies
    expect(server.terminations.map((t) => t.workflowId)).toEqual(['d-0']);
  });
});

describe('ListOpenWorkflowExecutions', () => {
  it('pages newest-first across several pages with unchanged arguments', async () => {
    const server = await start({ executions: makeExecutions(2500, { domain: DOMAIN }) });
    const client = clientFor(server);

    const { infos, pages } = await listAll(client, {});
    expect(pages).toBe(3);
    expect(infos).toHaveLength(2500);
    expect(new Set(ids(infos)).size).toBe(2500);
    expect(infos[0]).toEqual({
      execution: { workflowId: 'wf-2499', runId: 'run-wf-2499' },
      workflowType: { name: 'Type', version: '1' },
      startTimestamp: expect.any(Date),
      executionStatus: 'OPEN',
      cancelRequested: false,
    });
    const times = infos.map((i) => i.startTimestamp!.getTime());
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    const small = await listAll(client, { maximumPageSize: 400 });
    expect(small.pages).toBe(7);
    expect(ids(small.infos)).toEqual(ids(infos));

    const reversed = await listAll(client, { maximumPageSize: 700, reverseOrder: true });
    expect(reversed.pages).toBe(4);
    expect(ids(reversed.infos)).toEqual(ids(infos).reverse());
  });

  it('keeps its place when executions are terminated between pages (compaction included)', async () => {
    // 2600 executions, pages of 400: the fake compacts its sorted array once more than 1024 closed
    // entries outnumber the open ones, which happens mid-way.
    const server = await start({ executions: makeExecutions(2600, { domain: DOMAIN }) });
    const client = clientFor(server);
    const seen: string[] = [];
    let nextPageToken: string | undefined;
    do {
      const out = await client.send(
        new ListOpenWorkflowExecutionsCommand({
          domain: DOMAIN,
          startTimeFilter: { oldestDate: EPOCH },
          maximumPageSize: 400,
          ...(nextPageToken ? { nextPageToken } : {}),
        }),
      );
      const infos = out.executionInfos ?? [];
      seen.push(...ids(infos).map(String));
      await Promise.all(
        infos.map((i) => client.send(terminate(i.execution!.workflowId!, i.execution!.runId))),
      );
      nextPageToken = out.nextPageToken;
    } while (nextPageToken);
    expect(seen).toHaveLength(2600);
    expect(new Set(seen).size).toBe(2600);
    expect(server.openCount(DOMAIN)).toBe(0);
  });

  it('refuses a page token whose other arguments changed, and a malformed token', async () => {
    const server = await start({ executions: makeExecutions(5, { domain: DOMAIN }) });
    const client = clientFor(server);
    const first = await client.send(
      new ListOpenWorkflowExecutionsCommand({
        domain: DOMAIN,
        startTimeFilter: { oldestDate: EPOCH },
        maximumPageSize: 2,
      }),
    );
    expect(first.nextPageToken).toEqual(expect.any(String));
    const changed = await rejection(
      client.send(
        new ListOpenWorkflowExecutionsCommand({
          domain: DOMAIN,
          startTimeFilter: { oldestDate: EPOCH },
          maximumPageSize: 2,
          tagFilter: { tag: 'x' },
          nextPageToken: first.nextPageToken!,
        }),
      ),
    );
    expect(changed.name).toBe('ValidationException');
    expect(changed.message).toMatch(/unchanged/);
    const garbage = await rejection(
      client.send(
        new ListOpenWorkflowExecutionsCommand({
          domain: DOMAIN,
          startTimeFilter: { oldestDate: EPOCH },
          maximumPageSize: 2,
          nextPageToken: 'not-a-token',
        }),
      ),
    );
    expect(garbage.name).toBe('ValidationException');
  });

  describe('filters', () => {
    const t0 = 1_700_000_000;
    const execs = makeExecutions(300, {
      domain: DOMAIN,
      startTimestamp: (i) => t0 + i,
      workflowType: (i) => ({
        name: i % 3 === 0 ? 'Billing' : 'Shipping',
        version: i % 2 === 0 ? 'v1' : 'v2',
      }),
      tagList: (i) => (i % 5 === 0 ? ['batch-42', `n-${i}`] : undefined),
    });
    const expected = (pred: (i: number) => boolean) =>
      execs
        .filter((_, i) => pred(i))
        .map((e) => e.workflowId)
        .reverse();

    let server: FakeSwfServer;
    let client: SWFClient;
    beforeEach(async () => {
      server = await start({ executions: execs });
      client = clientFor(server);
    });

    it('typeFilter by name, and by name and version', async () => {
      const byName = await listAll(client, { typeFilter: { name: 'Billing' }, maximumPageSize: 30 });
      expect(ids(byName.infos)).toEqual(expected((i) => i % 3 === 0));
      expect(byName.pages).toBe(4);
      const byVersion = await listAll(client, { typeFilter: { name: 'Billing', version: 'v2' } });
      expect(ids(byVersion.infos)).toEqual(expected((i) => i % 3 === 0 && i % 2 === 1));
    });

    it('startTimeFilter oldestDate and latestDate (inclusive), both directions', async () => {
      const startTimeFilter = {
        oldestDate: new Date((t0 + 100) * 1000),
        latestDate: new Date((t0 + 149) * 1000),
      };
      const fwd = await listAll(client, { startTimeFilter, maximumPageSize: 20 });
      expect(ids(fwd.infos)).toEqual(expected((i) => i >= 100 && i <= 149));
      expect(fwd.pages).toBe(3);
      const rev = await listAll(client, { startTimeFilter, maximumPageSize: 20, reverseOrder: true });
      expect(ids(rev.infos)).toEqual(expected((i) => i >= 100 && i <= 149).reverse());
      const combined = await listAll(client, { startTimeFilter, tagFilter: { tag: 'batch-42' } });
      expect(ids(combined.infos)).toEqual(expected((i) => i >= 100 && i <= 149 && i % 5 === 0));
    });

    it('refuses more than one of executionFilter / typeFilter / tagFilter', async () => {
      const err = await rejection(
        client.send(
          new ListOpenWorkflowExecutionsCommand({
            domain: DOMAIN,
            startTimeFilter: { oldestDate: EPOCH },
            typeFilter: { name: 'Billing' },
            tagFilter: { tag: 'batch-42' },
          }),
        ),
      );
      expect(err.name).toBe('ValidationException');
      expect(err.$metadata.httpStatusCode).toBe(400);
    });

    it('CountOpenWorkflowExecutions applies the same filters', async () => {
      const count = async (input: Record<string, unknown>) =>
        client.send(
          new CountOpenWorkflowExecutionsCommand({
            domain: DOMAIN,
            startTimeFilter: { oldestDate: EPOCH },
            ...input,
          }),
        );
      expect(await count({})).toMatchObject({ count: 300, truncated: false });
      expect((await count({ tagFilter: { tag: 'batch-42' } })).count).toBe(60);
      expect((await count({ typeFilter: { name: 'Shipping' } })).count).toBe(200);
      expect((await count({ startTimeFilter: { oldestDate: new Date((t0 + 290) * 1000) } })).count).toBe(10);
      await client.send(terminate('wf-0'));
      expect((await count({ tagFilter: { tag: 'batch-42' } })).count).toBe(59);
    });
  });

  it('ignoreFilters returns every open execution whatever the filter', async () => {
    const server = await start({
      executions: makeExecutions(40, { domain: DOMAIN, tagList: (i) => (i === 3 ? ['only-me'] : undefined) }),
      ignoreFilters: true,
    });
    const { infos } = await listAll(clientFor(server), {
      tagFilter: { tag: 'only-me' },
      startTimeFilter: { oldestDate: new Date() },
      maximumPageSize: 15,
    });
    expect(infos).toHaveLength(40);
  });
});

describe('RequestCancelWorkflowExecution', () => {
  it('marks the run cancel-requested (in List and Describe), records it, and leaves it open', async () => {
    const server = await start({ executions: makeExecutions(2, { domain: DOMAIN }) });
    const client = clientFor(server);

    const out = await client.send(requestCancel('wf-0', 'run-wf-0'));
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(server.cancellations()).toEqual([
      {
        domain: DOMAIN,
        workflowId: 'wf-0',
        runId: 'run-wf-0',
        at: expect.any(Number),
        clockAt: expect.any(Number),
      },
    ]);
    expect(server.callCount('RequestCancelWorkflowExecution')).toBe(1);
    expect(server.execution(DOMAIN, 'wf-0', 'run-wf-0')).toEqual({ open: true, cancelRequested: true });
    expect(server.execution(DOMAIN, 'wf-1', 'run-wf-1')).toEqual({ open: true, cancelRequested: false });
    expect(server.terminations).toHaveLength(0);

    const { infos } = await listAll(client, {});
    expect(infos.map((i) => [i.execution?.workflowId, i.executionStatus, i.cancelRequested])).toEqual([
      ['wf-1', 'OPEN', false],
      ['wf-0', 'OPEN', true],
    ]);
    const described = await client.send(describeCommand('wf-0', 'run-wf-0'));
    expect(described.executionInfo).toMatchObject({ executionStatus: 'OPEN', cancelRequested: true });
    expect(described.executionInfo?.closeStatus).toBeUndefined();
    expect(server.openCount(DOMAIN)).toBe(2);

    // Still open, so it can still be terminated; the request stays visible on the closed execution.
    await client.send(terminate('wf-0', 'run-wf-0'));
    expect((await client.send(describeCommand('wf-0', 'run-wf-0'))).executionInfo).toMatchObject({
      executionStatus: 'CLOSED',
      closeStatus: 'TERMINATED',
      cancelRequested: true,
    });

    server.resetStats();
    expect(server.cancellations()).toEqual([]);
    expect(server.callCount('RequestCancelWorkflowExecution')).toBe(0);
  });

  it('honoursCancel closes the run as CANCELED: not listed, not a termination, no longer terminable', async () => {
    const [honours, other] = makeExecutions(2, { domain: DOMAIN });
    const server = await start({ executions: [{ ...honours!, honoursCancel: true }, other!] });
    const client = clientFor(server);

    await client.send(requestCancel('wf-0', 'run-wf-0'));
    expect(server.execution(DOMAIN, 'wf-0', 'run-wf-0')).toEqual({
      open: false,
      cancelRequested: true,
      closeStatus: 'CANCELED',
    });
    expect(server.cancellations()).toHaveLength(1);
    expect(server.terminations).toHaveLength(0);

    const described = await client.send(describeCommand('wf-0', 'run-wf-0'));
    expect(described.executionInfo).toMatchObject({
      executionStatus: 'CLOSED',
      closeStatus: 'CANCELED',
      closeTimestamp: expect.any(Date),
      cancelRequested: true,
    });
    expect(ids((await listAll(client, {})).infos)).toEqual(['wf-1']);
    const count = await client.send(
      new CountOpenWorkflowExecutionsCommand({ domain: DOMAIN, startTimeFilter: { oldestDate: EPOCH } }),
    );
    expect(count.count).toBe(1);
    expect(server.openCount(DOMAIN)).toBe(1);

    const err = await rejection(client.send(terminate('wf-0', 'run-wf-0')));
    expect(err).toBeInstanceOf(UnknownResourceFault);
    expect(err.message).toMatch(/^Unknown execution: /);
    expect(server.terminations).toHaveLength(0);
  });

  it('an unknown or closed execution is UnknownResourceFault "Unknown execution", like terminate', async () => {
    const server = await start({ executions: makeExecutions(1, { domain: DOMAIN }) });
    const client = clientFor(server);

    const ghost = await rejection(client.send(requestCancel('ghost', 'r1')));
    expect(ghost).toBeInstanceOf(UnknownResourceFault);
    expect(ghost.message).toBe('Unknown execution: WorkflowExecution=[workflowId=ghost, runId=r1]');
    expect(ghost.$metadata).toMatchObject({ httpStatusCode: 400, attempts: 1 });

    await client.send(terminate('wf-0', 'run-wf-0'));
    const closed = await rejection(client.send(requestCancel('wf-0', 'run-wf-0')));
    expect(closed).toBeInstanceOf(UnknownResourceFault);
    expect(closed.message).toBe('Unknown execution: WorkflowExecution=[workflowId=wf-0, runId=run-wf-0]');
    const noRun = await rejection(client.send(requestCancel('wf-0')));
    expect(noRun).toBeInstanceOf(UnknownResourceFault);
    expect(noRun.message).toBe('Unknown execution: WorkflowExecution=[workflowId=wf-0, runId=]');

    expect(server.cancellations()).toEqual([]);
    expect(server.execution(DOMAIN, 'wf-0', 'run-wf-0')).toEqual({
      open: false,
      cancelRequested: false,
      closeStatus: 'TERMINATED',
    });
    expect(server.execution(DOMAIN, 'ghost', 'r1')).toBeUndefined();
    expect(server.execution('elsewhere', 'wf-0', 'run-wf-0')).toBeUndefined();
    const domainErr = await rejection(
      client.send(new RequestCancelWorkflowExecutionCommand({ domain: 'elsewhere', workflowId: 'wf-0' })),
    );
    expect(domainErr.message).toBe('Unknown domain: elsewhere');
  });

  it('without runId acts on the current open run of the workflowId', async () => {
    const [first] = makeExecutions(1, { domain: DOMAIN });
    const server = await start({ executions: [first!] });
    const client = clientFor(server);
    await client.send(terminate('wf-0'));
    server.addExecutions([{ ...first!, runId: 'second' }]);

    await client.send(requestCancel('wf-0'));
    expect(server.cancellations()).toEqual([
      {
        domain: DOMAIN,
        workflowId: 'wf-0',
        runId: 'second',
        at: expect.any(Number),
        clockAt: expect.any(Number),
      },
    ]);
    expect(server.execution(DOMAIN, 'wf-0', 'second')).toEqual({ open: true, cancelRequested: true });
    expect(server.execution(DOMAIN, 'wf-0', 'run-wf-0')).toMatchObject({ cancelRequested: false });
    expect(server.calls.map((c) => c.body)).toContainEqual({ domain: DOMAIN, workflowId: 'wf-0' });
  });

  it('validates names and runId like terminate', async () => {
    const server = await start({ executions: makeExecutions(1, { domain: DOMAIN }) });
    const client = clientFor(server);
    const longRun = await rejection(client.send(requestCancel('wf-0', 'r'.repeat(65))));
    expect(longRun.name).toBe('ValidationException');
    const longId = await rejection(client.send(requestCancel('w'.repeat(257))));
    expect(longId.name).toBe('ValidationException');
    expect(server.execution(DOMAIN, 'wf-0', 'run-wf-0')).toEqual({ open: true, cancelRequested: false });
  });

  it('is throttled by its own bucket (SWF_QUOTAS has one) and by failNext', async () => {
    const server = await start({
      executions: makeExecutions(4, { domain: DOMAIN }),
      buckets: { RequestCancelWorkflowExecution: { capacity: 2, refillPerSecond: 0.001 } },
    });
    const client = clientFor(server, 1);
    await client.send(requestCancel('wf-0'));
    await client.send(requestCancel('wf-1'));
    const err = await rejection(client.send(requestCancel('wf-2')));
    expect(err.name).toBe('ThrottlingException');
    expect(server.throttledCount('RequestCancelWorkflowExecution')).toBe(1);
    expect(server.callCount('RequestCancelWorkflowExecution')).toBe(3);
    expect(server.cancellations().map((c) => c.workflowId)).toEqual(['wf-0', 'wf-1']);
    expect(server.execution(DOMAIN, 'wf-2', 'run-wf-2')).toEqual({ open: true, cancelRequested: false });
    // Terminate has no bucket here: unaffected.
    await client.send(terminate('wf-3'));

    const quotas = await start({
      executions: makeExecutions(1, { domain: DOMAIN }),
      buckets: { ...SWF_QUOTAS },
    });
    quotas.failNext('RequestCancelWorkflowExecution', 'throttle');
    const out = await clientFor(quotas, 2).send(requestCancel('wf-0'));
    expect(out.$metadata.attempts).toBe(2);
    expect(quotas.throttledCount('RequestCancelWorkflowExecution')).toBe(1);
    expect(quotas.cancellations()).toHaveLength(1);
  });
});

describe('DescribeWorkflowExecution', () => {
  it("returns the execution's openCounts and latestActivityTaskTimestamp, omitting an unset timestamp", async () => {
    const openCounts = {
      openActivityTasks: 3,
      openDecisionTasks: 1,
      openTimers: 2,
      openChildWorkflowExecutions: 4,
      openLambdaFunctions: 5,
    };
    const [busy, idle] = makeExecutions(2, { domain: DOMAIN });
    const server = await start({
      executions: [{ ...busy!, openCounts, latestActivityTaskTimestamp: 1_700_000_123.5 }, idle!],
    });
    openCounts.openTimers = 99; // the fake keeps its own copy
    const client = clientFor(server);

    const described = await client.send(describeCommand('wf-0', 'run-wf-0'));
    expect(described.openCounts).toEqual({ ...openCounts, openTimers: 2 });
    expect(described.latestActivityTaskTimestamp).toEqual(new Date(1_700_000_123_500));

    const plain = await client.send(describeCommand('wf-1', 'run-wf-1'));
    expect(plain.openCounts).toEqual({
      openActivityTasks: 0,
      openDecisionTasks: 0,
      openTimers: 0,
      openChildWorkflowExecutions: 0,
      openLambdaFunctions: 0,
    });
    expect(plain.latestActivityTaskTimestamp).toBeUndefined();
    expect(plain.executionInfo?.cancelRequested).toBe(false);
  });

  it('describes open and closed executions', async () => {
    const server = await start({ executions: makeExecutions(1, { domain: DOMAIN, tagList: () => ['a'] }) });
    const client = clientFor(server);
    const describe = () =>
      client.send(
        new DescribeWorkflowExecutionCommand({
          domain: DOMAIN,
          execution: { workflowId: 'wf-0', runId: 'run-wf-0' },
        }),
      );
    expect((await describe()).executionInfo).toMatchObject({ executionStatus: 'OPEN', tagList: ['a'] });
    await client.send(terminate('wf-0'));
    expect((await describe()).executionInfo).toMatchObject({
      executionStatus: 'CLOSED',
      closeStatus: 'TERMINATED',
      closeTimestamp: expect.any(Date),
    });
  });
});

describe('faults and the SDK retry strategy', () => {
  it('throttling is classified as throttling and retried by the SDK until it succeeds', async () => {
    const server = await start({ executions: makeExecutions(1, { domain: DOMAIN }) });
    server.failNext('TerminateWorkflowExecution', 'throttle', 2);
    const out = await clientFor(server, 3).send(terminate('wf-0'));
    expect(out.$metadata.attempts).toBe(3);
    expect(server.throttledCount('TerminateWorkflowExecution')).toBe(2);
    expect(server.calls.map((c) => c.operation)).toEqual(Array(3).fill('TerminateWorkflowExecution'));
    expect(server.terminations).toHaveLength(1);
  });

  it('throttling that outlasts maxAttempts surfaces as ThrottlingException', async () => {
    const server = await start({ executions: makeExecutions(1, { domain: DOMAIN }) });
    server.failNext('TerminateWorkflowExecution', 'throttle', 2);
    const err = await rejection(clientFor(server, 2).send(terminate('wf-0')));
    expect(err.name).toBe('ThrottlingException');
    expect(err.$metadata).toMatchObject({ httpStatusCode: 400, attempts: 2 });
    expect(server.terminations).toHaveLength(0);
  });

  it('an HTTP 500 is retried by the SDK', async () => {
    const server = await start({ executions: makeExecutions(1, { domain: DOMAIN }) });
    server.failNext('TerminateWorkflowExecution', 'server-error');
    const out = await clientFor(server, 3).send(terminate('wf-0'));
    expect(out.$metadata.attempts).toBe(2);
    expect(server.terminations).toHaveLength(1);

    server.failNext('ListOpenWorkflowExecutions', 'server-error', 2);
    const err = await rejection(
      clientFor(server, 2).send(
        new ListOpenWorkflowExecutionsCommand({ domain: DOMAIN, startTimeFilter: { oldestDate: EPOCH } }),
      ),
    );
    expect(err.$metadata).toMatchObject({ httpStatusCode: 500, attempts: 2 });
    expect(err.$fault).toBe('server');
  });

  it('a dropped connection is retried by the SDK', async () => {
    const server = await start({ executions: makeExecutions(2, { domain: DOMAIN }) });
    server.failNext('TerminateWorkflowExecution', 'drop-connection');
    const out = await clientFor(server, 3).send(terminate('wf-0'));
    expect(out.$metadata.attempts).toBe(2);
    expect(server.terminations).toHaveLength(1);

    server.failNext('TerminateWorkflowExecution', 'drop-connection');
    const err = await rejection(clientFor(server, 1).send(terminate('wf-1')));
    // Outside Jest this is the socket error itself (name TimeoutError, code ECONNRESET). Inside Jest, Node's
    // errors come from another realm (not `instanceof Error` in the sandbox), so the SDK wraps them:
    // "AWS SDK error wrapper for TimeoutError: socket hang up", with no `code`. Accept both.
    expect(err.code === 'ECONNRESET' || /socket hang up/.test(err.message)).toBe(true);
    expect(err.$metadata.attempts).toBe(1);
    expect(server.openCount(DOMAIN)).toBe(1);
  });

  it('OperationNotPermittedFault and an injected unknown domain are not retried', async () => {
    const server = await start({ executions: makeExecutions(1, { domain: DOMAIN }) });
    const client = clientFor(server, 3);
    server.failNext('TerminateWorkflowExecution', 'not-permitted');
    const denied = await rejection(client.send(terminate('wf-0')));
    expect(denied).toBeInstanceOf(OperationNotPermittedFault);
    expect(denied.$metadata.attempts).toBe(1);

    server.failNext('TerminateWorkflowExecution', 'unknown-domain');
    const gone = await rejection(client.send(terminate('wf-0')));
    expect(gone).toBeInstanceOf(UnknownResourceFault);
    expect(gone.message).toBe(`Unknown domain: ${DOMAIN}`);
    expect(server.calls).toHaveLength(2);
    expect(server.openCount(DOMAIN)).toBe(1);
  });

  it('faults queue first-in first-out per operation', async () => {
    const server = await start({ executions: makeExecutions(1, { domain: DOMAIN }) });
    server.failNext('TerminateWorkflowExecution', 'server-error');
    server.failNext('TerminateWorkflowExecution', 'not-permitted');
    server.failNext('ListOpenWorkflowExecutions', 'throttle', 5);
    const err = await rejection(clientFor(server, 3).send(terminate('wf-0')));
    expect(err).toBeInstanceOf(OperationNotPermittedFault);
    expect(err.$metadata.attempts).toBe(2);
    expect(server.throttledCount('TerminateWorkflowExecution')).toBe(0);
  });

  it('a token bucket throttles calls beyond its capacity and refills with (scaled) time', async () => {
    const server = await start({
      executions: makeExecutions(10, { domain: DOMAIN }),
      buckets: { TerminateWorkflowExecution: { capacity: 3, refillPerSecond: 1 } },
      timeScale: 20,
    });
    const client = clientFor(server, 1);
    for (let i = 0; i < 3; i++) await client.send(terminate(`wf-${i}`));
    const err = await rejection(client.send(terminate('wf-3')));
    expect(err.name).toBe('ThrottlingException');
    expect(server.throttledCount('TerminateWorkflowExecution')).toBe(1);
    expect(server.throttledCount()).toBe(1);
    // One simulated second is 50 ms at timeScale 20.
    await new Promise((r) => setTimeout(r, 120));
    await client.send(terminate('wf-3'));
    // Other operations have no bucket.
    for (let i = 0; i < 5; i++) {
      await client.send(
        new CountOpenWorkflowExecutionsCommand({ domain: DOMAIN, startTimeFilter: { oldestDate: EPOCH } }),
      );
    }
    expect(server.throttledCount()).toBe(1);
  });

  it('the SDK retries bucket throttling until the bucket refills', async () => {
    const server = await start({
      executions: makeExecutions(3, { domain: DOMAIN }),
      buckets: { TerminateWorkflowExecution: { capacity: 1, refillPerSecond: 10 } },
    });
    const client = clientFor(server, 10);
    for (let i = 0; i < 3; i++) await client.send(terminate(`wf-${i}`));
    expect(server.terminations).toHaveLength(3);
  });

  it('latencyMs delays every response', async () => {
    const server = await start({ executions: makeExecutions(1, { domain: DOMAIN }), latencyMs: 80 });
    const t = Date.now();
    await clientFor(server).send(terminate('wf-0'));
    expect(Date.now() - t).toBeGreaterThanOrEqual(75);
  });

  it('answers UnknownOperationException for operations it does not implement', async () => {
    const server = await start();
    const res = await fetch(server.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'SimpleWorkflowService.SignalWorkflowExecution',
      },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ __type: expect.stringMatching(/#UnknownOperationException$/) });
  });
});
