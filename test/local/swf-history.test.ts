/**
 * The local SWF's operations that restarting terminated runs needs (local/swf-history.ts), through the real
 * @aws-sdk/client-swf: StartWorkflowExecution and its faults, GetWorkflowExecutionHistory of terminated runs
 * (and of children their parent's child policy terminated), and ListClosedWorkflowExecutions' filters, order
 * and paging.
 */
import {
  DefaultUndefinedFault,
  DescribeWorkflowExecutionCommand,
  GetWorkflowExecutionHistoryCommand,
  type HistoryEvent,
  ListClosedWorkflowExecutionsCommand,
  type ListClosedWorkflowExecutionsCommandInput,
  ListOpenWorkflowExecutionsCommand,
  RequestCancelWorkflowExecutionCommand,
  StartWorkflowExecutionCommand,
  type StartWorkflowExecutionCommandInput,
  SWFClient,
  TerminateWorkflowExecutionCommand,
  TypeDeprecatedFault,
  UnknownResourceFault,
  type WorkflowExecutionInfo,
  WorkflowExecutionAlreadyStartedFault,
} from '@aws-sdk/client-swf';
import {
  type FakeExecution,
  FakeSwfServer,
  type FakeSwfOptions,
  makeExecutions,
  STARTED_DEFAULTS,
} from '../../local/swf';

const DOMAIN = 'orders';
const EPOCH = new Date(0);
/** The server's clock in the tests that set one (ms). */
const T0 = 1_800_000_000_000;

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

function clientFor(server: FakeSwfServer): SWFClient {
  const client = new SWFClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  clients.push(client);
  return client;
}

type SdkError = Error & { $metadata: { httpStatusCode?: number } };

async function rejection(p: Promise<unknown>): Promise<SdkError> {
  try {
    await p;
  } catch (err) {
    return err as SdkError;
  }
  throw new Error('expected a rejection');
}

/** A start with every attribute the fake needs (it registers no type defaults). */
const startInput = (
  workflowId: string,
  extra: Partial<StartWorkflowExecutionCommandInput> = {},
): StartWorkflowExecutionCommandInput => ({
  domain: DOMAIN,
  workflowId,
  workflowType: { name: 'Order', version: '2' },
  taskList: { name: 'orders-tl' },
  executionStartToCloseTimeout: '7200',
  taskStartToCloseTimeout: '30',
  childPolicy: 'TERMINATE',
  ...extra,
});

async function historyOf(
  client: SWFClient,
  workflowId: string,
  runId: string,
  extra: { reverseOrder?: boolean; maximumPageSize?: number } = {},
): Promise<{ events: HistoryEvent[]; pages: number }> {
  const events: HistoryEvent[] = [];
  let pages = 0;
  let nextPageToken: string | undefined;
  do {
    const out = await client.send(
      new GetWorkflowExecutionHistoryCommand({
        domain: DOMAIN,
        execution: { workflowId, runId },
        ...extra,
        ...(nextPageToken ? { nextPageToken } : {}),
      }),
    );
    events.push(...(out.events ?? []));
    nextPageToken = out.nextPageToken;
    pages++;
  } while (nextPageToken);
  return { events, pages };
}

async function listClosedAll(
  client: SWFClient,
  input: Omit<ListClosedWorkflowExecutionsCommandInput, 'domain'>,
): Promise<{ infos: WorkflowExecutionInfo[]; pages: number }> {
  const infos: WorkflowExecutionInfo[] = [];
  let pages = 0;
  let nextPageToken: string | undefined;
  do {
    const out = await client.send(
      new ListClosedWorkflowExecutionsCommand({
        domain: DOMAIN,
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

describe('StartWorkflowExecution', () => {
  it('starts an ordinary open run: listed, described, terminable, recorded in starts', async () => {
    let clock = T0;
    const server = await start({ now: () => clock });
    const client = clientFor(server);

    const out = await client.send(
      new StartWorkflowExecutionCommand(
        startInput('order-1', { input: '{"n":1}', tagList: ['a', 'b'], taskPriority: '5' }),
      ),
    );
    const runId = out.runId ?? '';
    expect(runId).toMatch(/^[A-Za-z0-9+/=]{44}$/);
    expect(server.starts).toEqual([
      {
        ...startInput('order-1', { input: '{"n":1}', tagList: ['a', 'b'], taskPriority: '5' }),
        runId,
        at: expect.any(Number),
        clockAt: T0,
      },
    ]);

    const listed = await client.send(
      new ListOpenWorkflowExecutionsCommand({ domain: DOMAIN, startTimeFilter: { oldestDate: EPOCH } }),
    );
    expect(listed.executionInfos).toEqual([
      expect.objectContaining({
        execution: { workflowId: 'order-1', runId },
        workflowType: { name: 'Order', version: '2' },
        startTimestamp: new Date(T0),
        executionStatus: 'OPEN',
        tagList: ['a', 'b'],
      }),
    ]);
    const described = await client.send(
      new DescribeWorkflowExecutionCommand({ domain: DOMAIN, execution: { workflowId: 'order-1', runId } }),
    );
    expect(described.executionInfo?.executionStatus).toBe('OPEN');
    expect(described.executionConfiguration).toMatchObject({
      taskList: { name: 'orders-tl' },
      taskPriority: '5',
      executionStartToCloseTimeout: '7200',
      taskStartToCloseTimeout: '30',
      childPolicy: 'TERMINATE',
    });

    clock = T0 + 5000;
    await client.send(
      new TerminateWorkflowExecutionCommand({ domain: DOMAIN, workflowId: 'order-1', runId }),
    );
    expect(server.execution(DOMAIN, 'order-1', runId)).toEqual({
      open: false,
      cancelRequested: false,
      closeStatus: 'TERMINATED',
    });
    expect(server.closeDetails(DOMAIN, 'order-1', runId)).toEqual({
      closeStatus: 'TERMINATED',
      closeTimestamp: (T0 + 5000) / 1000,
      cancelRequested: false,
      termination: { childPolicy: 'TERMINATE', cause: 'OPERATOR_INITIATED' },
    });
  });

  it('a workflowId with an open run fails WorkflowExecutionAlreadyStartedFault; once closed it starts a new run', async () => {
    const server = await start({ executions: makeExecutions(1, { domain: DOMAIN }) });
    const client = clientFor(server);

    const err = await rejection(client.send(new StartWorkflowExecutionCommand(startInput('wf-0'))));
    expect(err).toBeInstanceOf(WorkflowExecutionAlreadyStartedFault);
    expect(err.$metadata.httpStatusCode).toBe(400);
    const raw = await fetch(server.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'SimpleWorkflowService.StartWorkflowExecution',
      },
      body: JSON.stringify(startInput('wf-0')),
    });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toMatchObject({
      __type: 'com.amazonaws.swf.base.model#WorkflowExecutionAlreadyStartedFault',
    });
    expect(server.starts).toHaveLength(0);

    await client.send(new TerminateWorkflowExecutionCommand({ domain: DOMAIN, workflowId: 'wf-0' }));
    const out = await client.send(new StartWorkflowExecutionCommand(startInput('wf-0')));
    expect(out.runId).not.toBe('run-wf-0');
    expect(server.openExecutions(DOMAIN).map((e) => e.runId)).toEqual([out.runId]);
  });

  it('a deprecated workflow type fails TypeDeprecatedFault', async () => {
    const server = await start();
    const client = clientFor(server);
    server.deprecateType(DOMAIN, 'Order', '2');
    const err = await rejection(client.send(new StartWorkflowExecutionCommand(startInput('order-1'))));
    expect(err).toBeInstanceOf(TypeDeprecatedFault);
    // Another version of the type is not deprecated.
    await client.send(
      new StartWorkflowExecutionCommand(
        startInput('order-1', { workflowType: { name: 'Order', version: '3' } }),
      ),
    );
    expect(() => {
      server.deprecateType('elsewhere', 'Order', '2');
    }).toThrow(/unknown domain/);
  });

  it('a missing taskList (or timeout, or child policy) fails DefaultUndefinedFault; bad arguments are refused', async () => {
    const server = await start();
    const client = clientFor(server);
    const { taskList: _t, ...noTaskList } = startInput('order-1');
    const err = await rejection(client.send(new StartWorkflowExecutionCommand(noTaskList)));
    expect(err).toBeInstanceOf(DefaultUndefinedFault);
    expect(err.message).toContain('taskList');
    for (const field of ['executionStartToCloseTimeout', 'taskStartToCloseTimeout', 'childPolicy'] as const) {
      const { [field]: _left, ...rest } = startInput('order-1');
      expect(await rejection(client.send(new StartWorkflowExecutionCommand(rest)))).toBeInstanceOf(
        DefaultUndefinedFault,
      );
    }

    const tags = await rejection(
      client.send(
        new StartWorkflowExecutionCommand(startInput('order-1', { tagList: ['1', '2', '3', '4', '5', '6'] })),
      ),
    );
    expect(tags.name).toBe('ValidationException');
    const domain = await rejection(
      client.send(new StartWorkflowExecutionCommand({ ...startInput('order-1'), domain: 'elsewhere' })),
    );
    expect(domain).toBeInstanceOf(UnknownResourceFault);
    expect(domain.message).toBe('Unknown domain: elsewhere');
    expect(server.starts).toHaveLength(0);
    expect(server.openCount()).toBe(0);
  });
});

describe('GetWorkflowExecutionHistory', () => {
  it("a terminated run's history: the start with every attribute, the termination last", async () => {
    let clock = T0;
    const server = await start({ now: () => clock });
    const client = clientFor(server);
    const given = startInput('order-1', {
      input: 'payload',
      tagList: ['t1'],
      taskPriority: '-3',
      childPolicy: 'ABANDON',
      lambdaRole: 'arn:aws:iam::123456789012:role/l',
    });
    const { runId = '' } = await client.send(new StartWorkflowExecutionCommand(given));
    clock = T0 + 90_000;
    await client.send(
      new TerminateWorkflowExecutionCommand({
        domain: DOMAIN,
        workflowId: 'order-1',
        runId,
        reason: 'stuck',
        details: 'by the terminator',
        childPolicy: 'REQUEST_CANCEL',
      }),
    );

    const { events, pages } = await historyOf(client, 'order-1', runId, { maximumPageSize: 1 });
    expect(pages).toBe(3);
    expect(events.map((e) => [e.eventId, e.eventType])).toEqual([
      [1, 'WorkflowExecutionStarted'],
      [2, 'DecisionTaskScheduled'],
      [3, 'WorkflowExecutionTerminated'],
    ]);
    expect(events[0]).toEqual({
      eventId: 1,
      eventType: 'WorkflowExecutionStarted',
      eventTimestamp: new Date(T0),
      workflowExecutionStartedEventAttributes: {
        input: 'payload',
        executionStartToCloseTimeout: '7200',
        taskStartToCloseTimeout: '30',
        childPolicy: 'ABANDON',
        taskList: { name: 'orders-tl' },
        taskPriority: '-3',
        workflowType: { name: 'Order', version: '2' },
        tagList: ['t1'],
        parentInitiatedEventId: 0,
        lambdaRole: 'arn:aws:iam::123456789012:role/l',
      },
    });

    const last = await client.send(
      new GetWorkflowExecutionHistoryCommand({
        domain: DOMAIN,
        execution: { workflowId: 'order-1', runId },
        reverseOrder: true,
        maximumPageSize: 1,
      }),
    );
    expect(last.nextPageToken).toEqual(expect.any(String));
    expect(last.events).toEqual([
      {
        eventId: 3,
        eventType: 'WorkflowExecutionTerminated',
        eventTimestamp: new Date(T0 + 90_000),
        workflowExecutionTerminatedEventAttributes: {
          reason: 'stuck',
          details: 'by the terminator',
          childPolicy: 'REQUEST_CANCEL',
          cause: 'OPERATOR_INITIATED',
        },
      },
    ]);
    const reversed = await historyOf(client, 'order-1', runId, { reverseOrder: true, maximumPageSize: 2 });
    expect(reversed.events.map((e) => e.eventId)).toEqual([3, 2, 1]);
  });

  it('a run given without start attributes reports the documented defaults; an unknown run is UnknownResourceFault', async () => {
    const server = await start({ executions: makeExecutions(1, { domain: DOMAIN }) });
    const client = clientFor(server);
    const { events } = await historyOf(client, 'wf-0', 'run-wf-0');
    expect(events.map((e) => e.eventType)).toEqual(['WorkflowExecutionStarted', 'DecisionTaskScheduled']);
    expect(events[0]?.workflowExecutionStartedEventAttributes).toEqual({
      executionStartToCloseTimeout: STARTED_DEFAULTS.executionStartToCloseTimeout,
      taskStartToCloseTimeout: STARTED_DEFAULTS.taskStartToCloseTimeout,
      childPolicy: 'TERMINATE',
      taskList: { name: 'default' },
      workflowType: { name: 'Type', version: '1' },
      parentInitiatedEventId: 0,
    });
    expect(events[1]?.decisionTaskScheduledEventAttributes).toEqual({
      taskList: { name: 'default' },
      startToCloseTimeout: '60',
    });

    const err = await rejection(historyOf(client, 'wf-0', 'nope'));
    expect(err).toBeInstanceOf(UnknownResourceFault);
    expect(err.message).toBe('Unknown execution: WorkflowExecution=[workflowId=wf-0, runId=nope]');
  });

  it('a run whose decider honoured a cancel request ends WorkflowExecutionCanceled', async () => {
    const server = await start({
      executions: [{ ...makeExecutions(1, { domain: DOMAIN })[0]!, honoursCancel: true }],
    });
    const client = clientFor(server);
    await client.send(
      new RequestCancelWorkflowExecutionCommand({ domain: DOMAIN, workflowId: 'wf-0', runId: 'run-wf-0' }),
    );
    const { events } = await historyOf(client, 'wf-0', 'run-wf-0');
    expect(events.map((e) => e.eventType)).toEqual([
      'WorkflowExecutionStarted',
      'DecisionTaskScheduled',
      'WorkflowExecutionCancelRequested',
      'DecisionTaskStarted',
      'DecisionTaskCompleted',
      'WorkflowExecutionCanceled',
    ]);
    expect(events[5]?.workflowExecutionCanceledEventAttributes).toEqual({ decisionTaskCompletedEventId: 5 });
  });
});

describe('child policy on termination', () => {
  const family = (): FakeExecution[] => {
    const [parent, child, grandchild, other] = makeExecutions(4, { domain: DOMAIN });
    return [
      parent!,
      { ...child!, parent: { workflowId: 'wf-0', runId: 'run-wf-0' } },
      { ...grandchild!, parent: { workflowId: 'wf-1', runId: 'run-wf-1' }, childPolicy: 'ABANDON' },
      other!,
    ];
  };

  it('a parent terminated with TERMINATE closes its open children with cause CHILD_POLICY_APPLIED', async () => {
    const server = await start({ executions: family() });
    const client = clientFor(server);
    await client.send(
      new TerminateWorkflowExecutionCommand({
        domain: DOMAIN,
        workflowId: 'wf-0',
        runId: 'run-wf-0',
        reason: 'r',
        details: 'd',
      }),
    );
    // The operator's termination only: the children were closed by SWF, not by a call.
    expect(server.terminations.map((t) => t.workflowId)).toEqual(['wf-0']);
    expect(server.openExecutions(DOMAIN).map((e) => e.workflowId)).toEqual(['wf-3']);
    expect(server.closeDetails(DOMAIN, 'wf-0', 'run-wf-0')?.termination).toEqual({
      reason: 'r',
      details: 'd',
      childPolicy: 'TERMINATE',
      cause: 'OPERATOR_INITIATED',
    });
    expect(server.closeDetails(DOMAIN, 'wf-1', 'run-wf-1')?.termination).toEqual({
      childPolicy: 'TERMINATE',
      cause: 'CHILD_POLICY_APPLIED',
    });
    const { events } = await historyOf(client, 'wf-1', 'run-wf-1');
    expect(events[0]?.workflowExecutionStartedEventAttributes?.parentWorkflowExecution).toEqual({
      workflowId: 'wf-0',
      runId: 'run-wf-0',
    });
    expect(events[events.length - 1]?.workflowExecutionTerminatedEventAttributes).toEqual({
      childPolicy: 'TERMINATE',
      cause: 'CHILD_POLICY_APPLIED',
    });
    // The grandchild, terminated in turn, applied its own ABANDON policy.
    expect(server.closeDetails(DOMAIN, 'wf-2', 'run-wf-2')?.termination).toEqual({
      childPolicy: 'ABANDON',
      cause: 'CHILD_POLICY_APPLIED',
    });
    const closed = await listClosedAll(client, { startTimeFilter: { oldestDate: EPOCH } });
    expect(closed.infos.find((i) => i.execution?.workflowId === 'wf-1')?.parent).toEqual({
      workflowId: 'wf-0',
      runId: 'run-wf-0',
    });
  });

  it('ABANDON leaves the children open; REQUEST_CANCEL asks them to cancel', async () => {
    const server = await start({ executions: family() });
    const client = clientFor(server);
    await client.send(
      new TerminateWorkflowExecutionCommand({ domain: DOMAIN, workflowId: 'wf-0', childPolicy: 'ABANDON' }),
    );
    expect(server.execution(DOMAIN, 'wf-1', 'run-wf-1')).toEqual({ open: true, cancelRequested: false });

    const again = await start({ executions: family() });
    const client2 = clientFor(again);
    await client2.send(
      new TerminateWorkflowExecutionCommand({
        domain: DOMAIN,
        workflowId: 'wf-0',
        childPolicy: 'REQUEST_CANCEL',
      }),
    );
    expect(again.execution(DOMAIN, 'wf-1', 'run-wf-1')).toEqual({ open: true, cancelRequested: true });
    expect(again.cancellations()).toEqual([]);
    const { events } = await historyOf(client2, 'wf-1', 'run-wf-1');
    expect(events[2]).toMatchObject({
      eventType: 'WorkflowExecutionCancelRequested',
      workflowExecutionCancelRequestedEventAttributes: { cause: 'CHILD_POLICY_APPLIED' },
    });
  });
});

describe('ListClosedWorkflowExecutions', () => {
  /**
   * Eight runs: two terminated before the window, five terminated one second apart in it (wf-2 .. wf-6,
   * wf-2 first), one cancelled in it, and one terminated after it. Returns the window in ms.
   */
  async function closedWorld(): Promise<{
    server: FakeSwfServer;
    client: SWFClient;
    from: number;
    to: number;
  }> {
    let clock = T0;
    const server = await start({
      now: () => clock,
      executions: makeExecutions(9, { domain: DOMAIN, startTimestamp: (i) => T0 / 1000 - 1000 + i }).map(
        (e) => (e.workflowId === 'wf-7' ? { ...e, honoursCancel: true } : e),
      ),
    });
    const client = clientFor(server);
    const terminate = (workflowId: string) =>
      client.send(new TerminateWorkflowExecutionCommand({ domain: DOMAIN, workflowId, reason: 'why' }));
    await terminate('wf-0');
    await terminate('wf-1');
    const from = T0 + 10_000;
    for (let i = 2; i <= 6; i++) {
      clock = from + (i - 2) * 1000;
      await terminate(`wf-${i}`);
    }
    clock = from + 500;
    await client.send(new RequestCancelWorkflowExecutionCommand({ domain: DOMAIN, workflowId: 'wf-7' }));
    const to = from + 4000;
    clock = to + 1;
    await terminate('wf-8');
    return { server, client, from, to };
  }

  it('closeTimeFilter + closeStatusFilter TERMINATED: exactly the runs terminated in the window, paged, newest first', async () => {
    const { client, from, to } = await closedWorld();
    const window = { oldestDate: new Date(from), latestDate: new Date(to) };
    const all = await listClosedAll(client, {
      closeTimeFilter: window,
      closeStatusFilter: { status: 'TERMINATED' },
      maximumPageSize: 2,
    });
    expect(all.pages).toBe(3);
    expect(ids(all.infos)).toEqual(['wf-6', 'wf-5', 'wf-4', 'wf-3', 'wf-2']);
    expect(all.infos[0]).toEqual({
      execution: { workflowId: 'wf-6', runId: 'run-wf-6' },
      workflowType: { name: 'Type', version: '1' },
      startTimestamp: new Date(T0 - 1_000_000 + 6000),
      closeTimestamp: new Date(from + 4000),
      executionStatus: 'CLOSED',
      closeStatus: 'TERMINATED',
      cancelRequested: false,
    });

    const ascending = await listClosedAll(client, {
      closeTimeFilter: window,
      closeStatusFilter: { status: 'TERMINATED' },
      maximumPageSize: 2,
      reverseOrder: true,
    });
    expect(ids(ascending.infos)).toEqual(['wf-2', 'wf-3', 'wf-4', 'wf-5', 'wf-6']);

    // Without the status filter the cancelled run (closed inside the window) is there too.
    const any = await listClosedAll(client, { closeTimeFilter: window });
    expect(ids(any.infos)).toEqual(['wf-6', 'wf-5', 'wf-4', 'wf-3', 'wf-7', 'wf-2']);
    expect(any.infos.find((i) => i.execution?.workflowId === 'wf-7')).toMatchObject({
      closeStatus: 'CANCELED',
      cancelRequested: true,
    });
  });

  it('refuses two filters, both time filters, and no time filter', async () => {
    const { client } = await closedWorld();
    const refused = async (input: Omit<ListClosedWorkflowExecutionsCommandInput, 'domain'>) =>
      (await rejection(client.send(new ListClosedWorkflowExecutionsCommand({ domain: DOMAIN, ...input }))))
        .name;
    expect(
      await refused({
        closeTimeFilter: { oldestDate: EPOCH },
        closeStatusFilter: { status: 'TERMINATED' },
        executionFilter: { workflowId: 'wf-1' },
      }),
    ).toBe('ValidationException');
    expect(
      await refused({ closeTimeFilter: { oldestDate: EPOCH }, startTimeFilter: { oldestDate: EPOCH } }),
    ).toBe('ValidationException');
    expect(await refused({})).toBe('ValidationException');
    expect(
      await refused({
        closeTimeFilter: { oldestDate: EPOCH },
        closeStatusFilter: { status: 'NOPE' as 'FAILED' },
      }),
    ).toBe('ValidationException');
  });

  it('executionFilter + startTimeFilter finds a later run of a workflowId', async () => {
    let clock = T0;
    const server = await start({
      now: () => clock,
      executions: makeExecutions(1, { domain: DOMAIN, startTimestamp: () => T0 / 1000 - 3600 }),
    });
    const client = clientFor(server);
    await client.send(new TerminateWorkflowExecutionCommand({ domain: DOMAIN, workflowId: 'wf-0' }));
    clock = T0 + 60_000;
    const { runId } = await client.send(new StartWorkflowExecutionCommand(startInput('wf-0')));
    clock = T0 + 120_000;
    await client.send(new TerminateWorkflowExecutionCommand({ domain: DOMAIN, workflowId: 'wf-0' }));

    const later = await listClosedAll(client, {
      startTimeFilter: { oldestDate: new Date(T0) },
      executionFilter: { workflowId: 'wf-0' },
    });
    expect(later.infos.map((i) => i.execution)).toEqual([{ workflowId: 'wf-0', runId }]);
    expect(later.infos[0]?.startTimestamp).toEqual(new Date(T0 + 60_000));

    const both = await listClosedAll(client, {
      startTimeFilter: { oldestDate: EPOCH },
      executionFilter: { workflowId: 'wf-0' },
    });
    expect(both.infos.map((i) => i.execution?.runId)).toEqual([runId, 'run-wf-0']);
  });

  it('pages keep their place while more runs close between pages', async () => {
    let clock = T0;
    const server = await start({ now: () => clock, executions: makeExecutions(6, { domain: DOMAIN }) });
    const client = clientFor(server);
    for (let i = 0; i < 4; i++) {
      clock = T0 + i * 1000;
      await client.send(new TerminateWorkflowExecutionCommand({ domain: DOMAIN, workflowId: `wf-${i}` }));
    }
    const input = {
      closeTimeFilter: { oldestDate: EPOCH, latestDate: new Date(T0 + 3000) },
      maximumPageSize: 2,
    };
    const first = await client.send(new ListClosedWorkflowExecutionsCommand({ domain: DOMAIN, ...input }));
    expect(ids(first.executionInfos ?? [])).toEqual(['wf-3', 'wf-2']);
    // A run closing inside the window at an earlier clock reading joins the order in its place.
    clock = T0 + 500;
    await client.send(new TerminateWorkflowExecutionCommand({ domain: DOMAIN, workflowId: 'wf-4' }));
    const second = await client.send(
      new ListClosedWorkflowExecutionsCommand({
        domain: DOMAIN,
        ...input,
        nextPageToken: first.nextPageToken,
      }),
    );
    expect(ids(second.executionInfos ?? [])).toEqual(['wf-1', 'wf-4']);
    const third = await client.send(
      new ListClosedWorkflowExecutionsCommand({
        domain: DOMAIN,
        ...input,
        nextPageToken: second.nextPageToken,
      }),
    );
    expect(ids(third.executionInfos ?? [])).toEqual(['wf-0']);
    expect(third.nextPageToken).toBeUndefined();
  });
});
