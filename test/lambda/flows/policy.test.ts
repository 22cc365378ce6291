/**
 * A policy's run, end to end: the real handler on the real SDK against the HTTP fake SWF. A sweep (schedule,
 * backstop, preview) acts only on what matches every criterion of the policy's match, within its cap, recording
 * who asked; an SWF event names one run, which is acted on only if SWF (one List, or a Describe where the
 * match reads activity) shows it open and matching now, whatever the event's detail says. The policy's
 * metrics carry its name.
 */
import {
  captureEmf,
  captureOutput,
  context,
  jobStateFixture,
  makeHandler,
  resolvedOf,
  type TestHandler,
} from '../../support/handler-fixtures';
import { FakeSwfServer, type FakeExecution, type WorkflowOpenCounts } from '../../support/fake-swf';
import {
  deployedDigest,
  fakeSwfPort,
  FUNCTION_ARN,
  infoLogger,
  INVOKED_AT,
  openCounts,
  policyMetrics,
  policyOf,
  policyRun,
  POLICY_NAME,
  previewRun,
  REQUEST_TIME,
  SCHEDULE_EVENT_ID,
  SCHEDULED_TIME,
  scheduledEvent,
  secondsBefore,
  SWF_EVENT_ID,
  swfEvent,
} from '../../support/policy-events';
import { readProvenance } from '../../../lambda/job/provenance';
import type { JobState } from '../../../lambda/types';
import { JOB_EVENT_KEY } from '../../../lib/contract';
import { inMemoryJobs } from '../../support/handler-bulk';
import type { Env } from '../../../lambda/config';
import type { Logger } from '@aws-lambda-powertools/logger';

let server: FakeSwfServer;

afterEach(async () => {
  await server.close();
});

const HOUR = 3600;
const JOB_ID = `${POLICY_NAME}-${SCHEDULE_EVENT_ID}`;

/** An open execution in the fake; by default in `orders`, an OrderFlow v1 tagged nightly, started 2 h before. */
function exec(
  workflowId: string,
  o: {
    domain?: string;
    type?: [string, string];
    tags?: string[];
    startedSecondsBefore?: number;
    openCounts?: WorkflowOpenCounts;
    latestActivitySecondsBefore?: number;
  } = {},
): FakeExecution {
  const [name, version] = o.type ?? ['OrderFlow', '1'];
  return {
    domain: o.domain ?? 'orders',
    workflowId,
    runId: `run-${workflowId}`,
    workflowType: { name, version },
    startTimestamp: secondsBefore(o.startedSecondsBefore ?? 2 * HOUR),
    tagList: o.tags ?? ['nightly'],
    // Busy unless said otherwise: a decision task open.
    openCounts: o.openCounts ?? openCounts({ openDecisionTasks: 1 }),
    ...(o.latestActivitySecondsBefore === undefined
      ? {}
      : { latestActivityTaskTimestamp: secondsBefore(o.latestActivitySecondsBefore) }),
  };
}

async function start(executions: FakeExecution[]): Promise<void> {
  server = await FakeSwfServer.start({ domains: ['orders', 'billing'], executions });
}

/**
 * The handler, on the fake, invoked at `now` (default: a few seconds after the scheduled time), deployed with
 * the policy each run carries (its digest in POLICY_DIGESTS, as the construct would write it).
 */
function policyHandler(env: Env = {}, o: { now?: Date; logger?: Logger } = {}): Pick<TestHandler, 'handler'> {
  const deployedWith = (event: unknown) =>
    makeHandler({
      env: { POLICY_DIGESTS: deployedDigest(event), ...env },
      swf: fakeSwfPort(server),
      now: () => o.now ?? INVOKED_AT,
      ...(o.logger === undefined ? {} : { logger: o.logger }),
      deps: { endReserveMs: 1_000 },
    });
  return { handler: (event, ctx) => deployedWith(event).handler(event, ctx) };
}

/** A scheduled run of a policy sweeping `orders` with `match`. */
function scheduledRun(match: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return policyRun(
    policyOf({ domain: 'orders', selector: match, maxExecutions: 50, dryRun: false, ...extra }),
    scheduledEvent(),
  );
}

const key = (e: { domain: string; workflowId: string }) => `${e.domain}/${e.workflowId}`;
const terminated = () => server.terminations.map(key).sort();
const isOpen = (e: FakeExecution) => server.execution(e.domain, e.workflowId, e.runId)?.open === true;

describe('a scheduled sweep acts only on what matches every criterion', () => {
  interface Case {
    readonly criterion: string;
    readonly match: Record<string, unknown>;
    readonly matching: FakeExecution[];
    readonly others: FakeExecution[];
    readonly env?: Env;
    readonly now?: Date;
  }
  const cases: Case[] = [
    {
      criterion: 'workflowType name',
      match: { tag: 'nightly', workflowType: { name: 'OrderFlow' } },
      matching: [exec('order-1'), exec('order-2', { type: ['OrderFlow', '7'] })],
      others: [exec('pay-1', { type: ['PaymentFlow', '1'] }), exec('order-weekly', { tags: ['weekly'] })],
    },
    {
      criterion: 'workflowType version',
      match: { tag: 'nightly', workflowType: { name: 'OrderFlow', version: '2' } },
      matching: [exec('order-v2', { type: ['OrderFlow', '2'] })],
      others: [
        exec('order-v1', { type: ['OrderFlow', '1'] }),
        exec('order-v20', { type: ['OrderFlow', '20'] }),
        exec('pay-v2', { type: ['PaymentFlow', '2'] }),
      ],
    },
    {
      criterion: 'tag',
      match: { workflowIdPrefix: 'order-', tag: 'nightly' },
      matching: [exec('order-1'), exec('order-2', { tags: ['eu', 'nightly'] })],
      others: [
        exec('order-weekly', { tags: ['weekly'] }),
        exec('order-untagged', { tags: [] }),
        exec('order-nightly2', { tags: ['nightly-2'] }),
        exec('invoice-1'),
      ],
    },
    {
      criterion: 'workflowIdPrefix',
      match: { tag: 'nightly', workflowIdPrefix: 'order-' },
      matching: [exec('order-1'), exec('order-')],
      others: [
        exec('invoice-1'),
        exec('xorder-1'),
        exec('Order-2'),
        exec('order'),
        exec('order-weekly', { tags: ['weekly'] }),
      ],
    },
    {
      criterion: 'openLongerThanSeconds, relative to the scheduled time',
      match: { tag: 'nightly', openLongerThanSeconds: HOUR },
      // Invoked 45 minutes late: measured from the invocation, a run started 30 minutes before the scheduled
      // time would be open 75 minutes, and one started 10 minutes after it would be open 35.
      now: new Date(REQUEST_TIME.getTime() + 45 * 60_000),
      matching: [exec('order-old'), exec('order-hour', { startedSecondsBefore: HOUR + 1 })],
      others: [
        exec('order-30m', { startedSecondsBefore: 30 * 60 }),
        exec('order-later', { startedSecondsBefore: -10 * 60 }),
        exec('order-old-weekly', { tags: ['weekly'] }),
      ],
    },
    {
      criterion: 'stalled (Describe: nothing open)',
      env: { DESCRIBE_DOMAINS: 'orders' },
      match: { tag: 'nightly', stalled: true },
      matching: [exec('order-stalled', { openCounts: openCounts() })],
      others: [
        exec('order-deciding', { openCounts: openCounts({ openDecisionTasks: 1 }) }),
        exec('order-working', { openCounts: openCounts({ openActivityTasks: 2 }) }),
        exec('order-timer', { openCounts: openCounts({ openTimers: 1 }) }),
        exec('order-parent', { openCounts: openCounts({ openChildWorkflowExecutions: 1 }) }),
        exec('order-lambda', { openCounts: openCounts({ openLambdaFunctions: 1 }) }),
        exec('weekly-stalled', { tags: ['weekly'], openCounts: openCounts() }),
      ],
    },
    {
      criterion: 'idleLongerThanSeconds, by the latest activity task',
      env: { DESCRIBE_DOMAINS: 'orders' },
      match: { tag: 'nightly', idleLongerThanSeconds: HOUR },
      matching: [
        exec('order-idle', { startedSecondsBefore: 5 * HOUR, latestActivitySecondsBefore: 2 * HOUR }),
      ],
      others: [
        // Started long ago, but an activity task was scheduled 10 minutes before.
        exec('order-active', { startedSecondsBefore: 5 * HOUR, latestActivitySecondsBefore: 10 * 60 }),
        exec('weekly-idle', {
          tags: ['weekly'],
          startedSecondsBefore: 5 * HOUR,
          latestActivitySecondsBefore: 2 * HOUR,
        }),
      ],
    },
    {
      criterion: 'idleLongerThanSeconds, by the start time when no activity task was ever scheduled',
      env: { DESCRIBE_DOMAINS: 'orders' },
      match: { tag: 'nightly', idleLongerThanSeconds: HOUR },
      matching: [exec('order-never', { startedSecondsBefore: 3 * HOUR })],
      others: [
        exec('order-young', { startedSecondsBefore: 30 * 60 }),
        exec('weekly-never', { tags: ['weekly'], startedSecondsBefore: 3 * HOUR }),
      ],
    },
  ];

  test.each(cases)(
    'GIVEN a policy matching on $criterion WHEN its schedule fires THEN only the matching runs of its domain are terminated',
    async ({ match, matching, others, env, now }) => {
      // GIVEN: matching and non-matching runs in orders, and a copy of a matching run in billing
      const elsewhere = matching.map((e) => ({ ...e, domain: 'billing' }));
      await start([...matching, ...others, ...elsewhere]);
      const { handler } = policyHandler(env, now === undefined ? {} : { now });

      // WHEN
      const report = await handler(scheduledRun(match), context);

      // THEN
      expect(report).toMatchObject({ dryRun: false, matched: matching.length, terminated: matching.length });
      expect(terminated()).toEqual(matching.map(key).sort());
      expect(others.filter((e) => !isOpen(e)).map(key)).toEqual([]);
      expect(elsewhere.filter((e) => !isOpen(e)).map(key)).toEqual([]);
    },
  );
});

describe('what a scheduled sweep records and reports', () => {
  test("GIVEN two matches WHEN the schedule fires THEN each termination's details start with the policy's provenance", async () => {
    // GIVEN
    await start([exec('order-1'), exec('order-2')]);
    const { handler } = policyHandler();

    // WHEN
    const report = await handler(
      scheduledRun({ tag: 'nightly' }, { reason: 'nightly batch stuck', details: 'see runbook 7' }),
      { awsRequestId: 'lambda-req-sweep' },
    );

    // THEN
    expect(report.jobId).toBe(JOB_ID);
    expect(server.terminations).toHaveLength(2);
    for (const t of server.terminations) {
      expect(t.reason).toBe('nightly batch stuck');
      expect(t.details?.endsWith('\n\nsee runbook 7')).toBe(true);
      expect(readProvenance(t.details ?? '')).toEqual({
        requestedBy: {
          via: 'policy',
          policy: POLICY_NAME,
          trigger: 'schedule',
          eventId: SCHEDULE_EVENT_ID,
          time: SCHEDULED_TIME,
        },
        jobId: JOB_ID,
        functionRequestId: 'lambda-req-sweep',
      });
    }
  });

  test('GIVEN an event policy WHEN its backstop sweep fires THEN it sweeps like a schedule, recorded as the backstop', async () => {
    // GIVEN
    await start([exec('order-1'), exec('order-weekly', { tags: ['weekly'] })]);
    const { handler } = policyHandler();
    const event = policyRun(
      policyOf({ domain: 'orders', selector: { tag: 'nightly' }, maxExecutions: 5 }, { trigger: 'backstop' }),
      scheduledEvent(),
    );

    // WHEN
    const report = await handler(event, context);

    // THEN
    expect(report.terminated).toBe(1);
    expect(terminated()).toEqual(['orders/order-1']);
    expect(readProvenance(server.terminations[0]?.details ?? '')?.requestedBy).toMatchObject({
      trigger: 'backstop',
      eventId: SCHEDULE_EVENT_ID,
    });
  });

  test('GIVEN two matches WHEN the sweep terminates them THEN the policy metrics carry its name: matched and terminated 2', async () => {
    // GIVEN
    await start([exec('order-1'), exec('order-2'), exec('order-weekly', { tags: ['weekly'] })]);
    const { handler } = policyHandler();

    // WHEN
    const { docs, outcome } = await captureEmf(() => handler(scheduledRun({ tag: 'nightly' }), context));

    // THEN
    expect(resolvedOf(outcome).terminated).toBe(2);
    expect(policyMetrics(docs, POLICY_NAME)).toEqual({
      PolicyMatched: 2,
      PolicyTerminated: 2,
      PolicyCancelRequested: 0,
      PolicyWouldAct: 0,
      PolicyFailed: 0,
      PolicyCapExceeded: 0,
      PolicyPassedOver: 0,
    });
    const policyDocs = docs.filter((d) => d.policy === POLICY_NAME);
    expect(policyDocs.length).toBeGreaterThan(0);
    for (const doc of policyDocs) expect(doc.service).toBe('swf-terminator-test');
  });
});

describe("the policy's cap", () => {
  test('GIVEN more matches than maxExecutions WHEN the schedule fires THEN the run is refused whole: nothing terminated, a warning, PolicyCapExceeded 1', async () => {
    // GIVEN: 5 matches, a cap of 3
    await start(['a', 'b', 'c', 'd', 'e'].map((s) => exec(`order-${s}`)));
    const { handler } = policyHandler({}, { logger: infoLogger() });

    // WHEN
    const captured = await captureOutput(() =>
      handler(scheduledRun({ tag: 'nightly' }, { maxExecutions: 3 }), context),
    );

    // THEN
    const report = resolvedOf(captured.outcome);
    expect(report.refused).toMatch(/5 executions, more than its limit of 3/);
    expect(report).toMatchObject({ matched: 0, terminated: 0 });
    expect(server.terminations).toHaveLength(0);
    expect(server.callCount('TerminateWorkflowExecution')).toBe(0);
    const lines = captured.logs;
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'WARN',
        message: 'policy run refused: more executions matched than its maxExecutions',
        policy: POLICY_NAME,
        trigger: 'schedule',
        count: 5,
        maxExecutions: 3,
      }),
    );
    expect(policyMetrics(captured.docs, POLICY_NAME)).toMatchObject({
      PolicyCapExceeded: 1,
      PolicyMatched: 0,
      PolicyTerminated: 0,
    });
  });

  test('GIVEN exactly maxExecutions matches WHEN the schedule fires THEN all are terminated', async () => {
    // GIVEN
    await start(['a', 'b', 'c'].map((s) => exec(`order-${s}`)));
    const { handler } = policyHandler();

    // WHEN
    const report = await handler(scheduledRun({ tag: 'nightly' }, { maxExecutions: 3 }), context);

    // THEN
    expect(report.refused).toBeUndefined();
    expect(report.terminated).toBe(3);
  });
});

describe('dry runs and cancel requests', () => {
  test.each([
    ['terminate', 'would-terminate', {}],
    ['requestCancel', 'would-cancel', {}],
    ['cancelThenTerminate', 'would-cancel', { gracePeriodSeconds: 600 }],
  ] as const)(
    'GIVEN a dry-run policy with action %s WHEN its schedule fires THEN it reports %s and makes no Terminate or RequestCancel call',
    async (action, outcome, extra) => {
      // GIVEN: no CANCEL_DOMAINS: a dry run asks nothing to cancel
      await start([exec('order-1'), exec('order-2')]);
      const { handler } = policyHandler();

      // WHEN
      const report = await handler(
        scheduledRun({ tag: 'nightly' }, { action, dryRun: true, ...extra }),
        context,
      );

      // THEN
      expect(report.dryRun).toBe(true);
      expect(report.executions.map((e) => e.outcome)).toEqual([outcome, outcome]);
      expect(server.callCount('TerminateWorkflowExecution')).toBe(0);
      expect(server.callCount('RequestCancelWorkflowExecution')).toBe(0);
      expect(server.openCount('orders')).toBe(2);
    },
  );

  test('GIVEN a requestCancel policy on a CANCEL_DOMAINS domain WHEN its schedule fires THEN the matches are asked to cancel and stay open', async () => {
    // GIVEN
    const runs = [exec('order-1'), exec('order-2')];
    await start([...runs, exec('order-weekly', { tags: ['weekly'] })]);
    const { handler } = policyHandler({ CANCEL_DOMAINS: 'orders' });

    // WHEN
    const { docs, outcome } = await captureEmf(() =>
      handler(scheduledRun({ tag: 'nightly' }, { action: 'requestCancel' }), context),
    );

    // THEN
    const report = resolvedOf(outcome);
    expect(report).toMatchObject({ cancelRequested: 2, terminated: 0 });
    expect(report.executions.map((e) => e.outcome)).toEqual(['cancel-requested', 'cancel-requested']);
    expect(
      server
        .cancellations()
        .map((c) => c.workflowId)
        .sort(),
    ).toEqual(['order-1', 'order-2']);
    expect(server.callCount('TerminateWorkflowExecution')).toBe(0);
    for (const run of runs) {
      expect(server.execution('orders', run.workflowId, run.runId)).toEqual({
        open: true,
        cancelRequested: true,
      });
    }
    expect(policyMetrics(docs, POLICY_NAME)).toMatchObject({ PolicyCancelRequested: 2, PolicyTerminated: 0 });
  });
});

describe('Describe calls: only for the stalled and idle criteria', () => {
  test('GIVEN a stalled policy WHEN it sweeps THEN every listed candidate is described once, and each match once more just before acting', async () => {
    // GIVEN: three candidates (nightly), one stalled; a weekly run is not a candidate
    await start([
      exec('order-1', { openCounts: openCounts() }),
      exec('order-2'),
      exec('order-3'),
      exec('order-weekly', { tags: ['weekly'], openCounts: openCounts() }),
    ]);
    const { handler } = policyHandler({ DESCRIBE_DOMAINS: 'orders' });

    // WHEN
    const report = await handler(scheduledRun({ tag: 'nightly', stalled: true }), context);

    // THEN
    expect(report.terminated).toBe(1);
    expect(server.callCount('DescribeWorkflowExecution')).toBe(3 + 1);
  });

  test('GIVEN a policy without stalled or idle criteria WHEN it sweeps THEN no Describe call is made', async () => {
    // GIVEN: DESCRIBE_DOMAINS granted, but not needed
    await start([exec('order-1'), exec('order-2')]);
    const { handler } = policyHandler({ DESCRIBE_DOMAINS: 'orders' });

    // WHEN
    const report = await handler(scheduledRun({ tag: 'nightly', openLongerThanSeconds: 60 }), context);

    // THEN
    expect(report.terminated).toBe(2);
    expect(server.callCount('DescribeWorkflowExecution')).toBe(0);
  });
});

describe("an SWF event's policy: the event names a run, SWF says what it is", () => {
  const STARTED_AT = secondsBefore(HOUR);
  const run42 = (o: Parameters<typeof exec>[1] = {}) =>
    exec('order-42', { startedSecondsBefore: HOUR, ...o });
  /** The function's invocation context: Lambda names the function, so its account and region are known. */
  const eventContext = { awsRequestId: 'lambda-req-event', invokedFunctionArn: FUNCTION_ARN };
  /** SWF's published started event, about order-42 in orders (what it says of the run is never read). */
  const started = (changes: Parameters<typeof swfEvent>[1] = {}) =>
    swfEvent('workflow-execution-started', {
      id: SWF_EVENT_ID,
      time: SCHEDULED_TIME,
      domain: 'orders',
      workflowId: 'order-42',
      runId: 'run-order-42',
      workflowType: { name: 'OrderFlow', version: '1' },
      startTimestamp: STARTED_AT * 1000,
      tagList: ['nightly'],
      ...changes,
    });
  const eventPolicy = (match: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    policyOf({ domain: 'orders', selector: match, maxExecutions: 10, ...extra }, { trigger: 'event' });

  test('GIVEN a started event about a run SWF shows matching WHEN the policy runs THEN that run is terminated, after one List call for its facts', async () => {
    // GIVEN
    await start([run42(), exec('order-43')]);
    const { handler } = policyHandler({ DESCRIBE_DOMAINS: 'orders' });

    // WHEN
    const report = await handler(
      policyRun(eventPolicy({ workflowType: { name: 'OrderFlow' }, tag: 'nightly' }), started()),
      eventContext,
    );

    // THEN
    expect(report.executions).toEqual([
      { workflowId: 'order-42', runId: 'run-order-42', outcome: 'terminated' },
    ]);
    expect(terminated()).toEqual(['orders/order-42']);
    // One List call, of that workflowId only: the run's type, tags and start come from SWF, not the event.
    const lists = server.calls.filter((c) => c.operation === 'ListOpenWorkflowExecutions');
    expect(lists).toHaveLength(1);
    expect(lists[0]?.body).toMatchObject({ executionFilter: { workflowId: 'order-42' } });
    expect(server.callCount('CountOpenWorkflowExecutions')).toBe(0);
    expect(server.callCount('DescribeWorkflowExecution')).toBe(0);
    expect(readProvenance(server.terminations[0]?.details ?? '')).toEqual({
      requestedBy: {
        via: 'policy',
        policy: POLICY_NAME,
        trigger: 'event',
        eventId: SWF_EVENT_ID,
        time: SCHEDULED_TIME,
        eventType: 'WorkflowExecutionStarted',
      },
      jobId: `${POLICY_NAME}-${SWF_EVENT_ID}`,
      functionRequestId: 'lambda-req-event',
    });
  });

  test('GIVEN a stalled policy and a run SWF describes with nothing open WHEN its event arrives THEN the run is terminated, after one Describe call', async () => {
    // GIVEN: the event says a decision task is open; SWF says nothing is (SWF is the one believed)
    await start([run42({ openCounts: openCounts() })]);
    const { handler } = policyHandler({ DESCRIBE_DOMAINS: 'orders' });

    // WHEN
    const report = await handler(
      policyRun(
        eventPolicy({ workflowType: { name: 'OrderFlow' }, stalled: true }),
        started({ openCounts: openCounts({ openDecisionTasks: 1 }) }),
      ),
      eventContext,
    );

    // THEN
    expect(report.terminated).toBe(1);
    expect(server.callCount('DescribeWorkflowExecution')).toBe(1);
    expect(server.callCount('ListOpenWorkflowExecutions')).toBe(0);
  });

  test.each([
    [
      'SWF shows another workflow type',
      { workflowType: { name: 'OrderFlow' } },
      { type: ['PaymentFlow', '1'] },
    ],
    [
      'SWF shows it without the tag',
      { workflowType: { name: 'OrderFlow' }, tag: 'nightly' },
      { tags: ['weekly'] },
    ],
    [
      'SWF shows a decision task open',
      { workflowType: { name: 'OrderFlow' }, stalled: true },
      { openCounts: openCounts({ openDecisionTasks: 1 }) },
    ],
    [
      'SWF shows it started after the event',
      { workflowType: { name: 'OrderFlow' } },
      { startedSecondsBefore: -60 },
    ],
  ] as const)(
    'GIVEN an event whose detail claims a match, and %s WHEN the policy runs THEN the run is left alone: no-longer-matches',
    async (_, match, facts) => {
      // GIVEN: the detail says OrderFlow v1, tagged nightly, nothing open, started an hour ago (a forged or
      // replayed detail); SWF knows the run otherwise
      await start([run42(facts as Parameters<typeof exec>[1])]);
      const { handler } = policyHandler({ DESCRIBE_DOMAINS: 'orders' });

      // WHEN
      const report = await handler(
        policyRun(eventPolicy(match), started({ openCounts: openCounts() })),
        eventContext,
      );

      // THEN
      expect(report).toMatchObject({ matched: 1, terminated: 0, noLongerMatches: 1 });
      expect(report.executions).toEqual([
        { workflowId: 'order-42', runId: 'run-order-42', outcome: 'no-longer-matches' },
      ]);
      expect(server.callCount('TerminateWorkflowExecution')).toBe(0);
      expect(isOpen(run42())).toBe(true);
    },
  );

  test('GIVEN the deployed cancelling policy and a forged detail calling an unrelated run a match WHEN replayed THEN that run is not asked to cancel', async () => {
    // GIVEN: "retire Checkout v1" may cancel in orders (where requests may not); an unrelated run, PaymentFlow,
    // is named by an event whose detail calls it Checkout v1
    await start([exec('payment-9', { type: ['PaymentFlow', '3'], tags: ['payments'] })]);
    const { handler } = policyHandler({ CANCEL_DOMAINS: 'orders' });
    const policy = eventPolicy(
      { workflowType: { name: 'Checkout', version: '1' } },
      { action: 'requestCancel', dryRun: false },
    );
    const forged = started({
      workflowId: 'payment-9',
      runId: 'run-payment-9',
      workflowType: { name: 'Checkout', version: '1' },
    });

    // WHEN
    const report = await handler(policyRun(policy, forged), eventContext);

    // THEN
    expect(report).toMatchObject({ cancelRequested: 0, noLongerMatches: 1 });
    expect(server.callCount('RequestCancelWorkflowExecution')).toBe(0);
    expect(server.execution('orders', 'payment-9', 'run-payment-9')?.cancelRequested).toBe(false);
  });

  test('GIVEN a run SWF shows asked to cancel already WHEN a cancel policy runs on its event THEN it is not asked again', async () => {
    // GIVEN: SWF's own record has the cancel request (the event's detail does not say so)
    await start([run42()]);
    const { handler } = policyHandler({ CANCEL_DOMAINS: 'orders' });
    const policy = eventPolicy({ workflowType: { name: 'OrderFlow' } }, { action: 'requestCancel' });
    await handler(policyRun(policy, started()), eventContext);
    expect(server.callCount('RequestCancelWorkflowExecution')).toBe(1);

    // WHEN the same kind of event comes again for the run (a new event id)
    const report = await handler(policyRun(policy, started({ id: 'swf-again' })), eventContext);

    // THEN
    expect(report).toMatchObject({ cancelRequested: 0, noLongerMatches: 1 });
    expect(server.callCount('RequestCancelWorkflowExecution')).toBe(1);
  });

  test('GIVEN an event about a run SWF shows closed WHEN the policy runs THEN nothing is done: already-closed', async () => {
    // GIVEN: a first delivery terminated the run (the event, a started one, still says open)
    await start([run42()]);
    const { handler } = policyHandler();
    await handler(policyRun(eventPolicy({ tag: 'nightly' }), started()), eventContext);
    expect(server.callCount('TerminateWorkflowExecution')).toBe(1);

    // WHEN it is delivered again (EventBridge delivers at least once)
    const again = await handler(
      policyRun(eventPolicy({ tag: 'nightly' }), started({ id: 'swf-dup' })),
      eventContext,
    );

    // THEN
    expect(again).toMatchObject({ matched: 1, terminated: 0, alreadyClosed: 1 });
    expect(server.callCount('TerminateWorkflowExecution')).toBe(1);
  });

  test("GIVEN an event replayed from an archive days later WHEN the run has resumed since THEN it is left alone: the facts are SWF's now", async () => {
    // GIVEN: a stalled policy; the archived event (four days old) says nothing was open; today the run is busy
    const fourDaysAgo = new Date(REQUEST_TIME.getTime() - 4 * 24 * 3600_000)
      .toISOString()
      .replace(/\.\d+Z$/, 'Z');
    await start([run42({ openCounts: openCounts({ openActivityTasks: 2 }) })]);
    const { handler } = policyHandler({ DESCRIBE_DOMAINS: 'orders' });
    const replayed = {
      ...started({ time: fourDaysAgo, openCounts: openCounts() }),
      'replay-name': 'incident-replay',
    };

    // WHEN
    const report = await handler(
      policyRun(eventPolicy({ workflowType: { name: 'OrderFlow' }, stalled: true }), replayed),
      eventContext,
    );

    // THEN
    expect(report).toMatchObject({ terminated: 0, noLongerMatches: 1 });
    expect(server.callCount('TerminateWorkflowExecution')).toBe(0);
  });

  test('GIVEN an SWF event WHEN the Lambda context does not name the function THEN it is refused before any SWF call', async () => {
    await start([run42()]);
    const { handler } = policyHandler();

    await expect(
      handler(policyRun(eventPolicy({ tag: 'nightly' }), started()), { awsRequestId: 'no-arn' }),
    ).rejects.toThrow(/^event\.account: cannot be checked/);
    expect(server.callCount()).toBe(0);
  });
});

describe('a preview', () => {
  test('GIVEN a policy that does not ask for a dry run WHEN previewed THEN it is a dry run: nothing acted on, trigger preview in the logs', async () => {
    // GIVEN
    await start([exec('order-1'), exec('order-2'), exec('order-weekly', { tags: ['weekly'] })]);
    const { handler } = policyHandler({ CANCEL_DOMAINS: 'orders' }, { logger: infoLogger() });
    const policy = policyOf({
      domain: 'orders',
      selector: { tag: 'nightly' },
      maxExecutions: 10,
      dryRun: false,
    });

    // WHEN
    const { logs, docs, outcome } = await captureOutput(() =>
      handler(previewRun(policy), { awsRequestId: 'ops-preview' }),
    );

    // THEN
    const report = resolvedOf(outcome);
    expect(report.dryRun).toBe(true);
    expect(report.executions.map((e) => e.outcome).sort()).toEqual(['would-terminate', 'would-terminate']);
    expect(report.jobId).toBe(`${POLICY_NAME}-ops-preview`);
    expect(server.callCount('TerminateWorkflowExecution')).toBe(0);
    expect(server.openCount('orders')).toBe(3);
    const summary = logs.find((l) => l.message === 'request done');
    expect(summary).toMatchObject({
      policy: POLICY_NAME,
      trigger: 'preview',
      provenance: { via: 'policy', trigger: 'preview', eventId: 'ops-preview' },
    });
    expect(logs.filter((l) => l.policy === POLICY_NAME).every((l) => l.trigger === 'preview')).toBe(true);
    expect(policyMetrics(docs, POLICY_NAME)).toMatchObject({ PolicyWouldAct: 2, PolicyTerminated: 0 });
  });

  test('GIVEN a requestCancel policy WHEN previewed THEN nothing is asked to cancel', async () => {
    // GIVEN
    await start([exec('order-1')]);
    const { handler } = policyHandler({ CANCEL_DOMAINS: 'orders' });
    const policy = policyOf({ domain: 'orders', selector: { tag: 'nightly' }, action: 'requestCancel' });

    // WHEN
    const report = await handler(previewRun(policy), context);

    // THEN
    expect(report.executions).toEqual([
      {
        workflowId: 'order-1',
        runId: 'run-order-1',
        outcome: 'would-cancel',
        seen: expect.objectContaining({
          workflowType: { name: 'OrderFlow', version: '1' },
          tags: ['nightly'],
        }),
      },
    ]);
    expect(server.callCount('RequestCancelWorkflowExecution')).toBe(0);
  });
});

describe("a policy's job: its policy checked, each of its runs confirmed against the policy's match", () => {
  /** The deployed policy: cancels Checkout v1 runs in orders (requests may not cancel there). */
  const POLICY = policyOf(
    {
      domain: 'orders',
      selector: { workflowType: { name: 'Checkout', version: '1' } },
      action: 'requestCancel',
      maxExecutions: 10,
      dryRun: false,
    },
    { trigger: 'schedule' },
  );

  test("GIVEN a chunk of the policy's job whose list holds a run the policy does not match WHEN it runs THEN only the matching run is asked", async () => {
    // GIVEN a Checkout v1 run and an unrelated PaymentFlow run, both named in the job's list (a forged chunk,
    // or a list that went stale)
    await start([
      exec('checkout-1', { type: ['Checkout', '1'] }),
      exec('payment-1', { type: ['PaymentFlow', '3'] }),
    ]);
    const jobs = inMemoryJobs();
    const state = jobStateFixture({
      jobId: `${POLICY_NAME}-evt-9`,
      request: {
        domain: 'orders',
        executions: [
          { workflowId: 'checkout-1', runId: 'run-checkout-1' },
          { workflowId: 'payment-1', runId: 'run-payment-1' },
        ],
        action: 'requestCancel',
        maxExecutions: 10,
        dryRun: false,
      },
      progress: { target: 'list', remaining: 2 },
      provenance: {
        via: 'policy',
        policy: POLICY_NAME,
        trigger: 'schedule',
        eventId: 'evt-9',
        time: SCHEDULED_TIME,
      },
      policy: POLICY,
    });
    await jobs.jobs.start(state);
    const { raw } = makeHandler({
      env: { POLICY_DIGESTS: deployedDigest(policyRun(POLICY, scheduledEvent())), CANCEL_DOMAINS: 'orders' },
      swf: fakeSwfPort(server),
      now: () => INVOKED_AT,
      deps: { jobs: jobs.jobs, endReserveMs: 1_000 },
    });

    // WHEN
    const answer = (await raw(
      { [JOB_EVENT_KEY]: state, execution: jobs.jobs.executionArn(state.jobId) },
      { awsRequestId: 'chunk-1' },
    )) as JobState;

    // THEN the Checkout run was asked; the PaymentFlow run was left alone, its facts read from SWF
    expect(server.cancellations().map((c) => c.workflowId)).toEqual(['checkout-1']);
    const before = state.totals;
    expect(answer.totals).toMatchObject({
      matched: before.matched + 2,
      cancelRequested: before.cancelRequested + 1,
      noLongerMatches: before.noLongerMatches + 1,
    });
  });
});
