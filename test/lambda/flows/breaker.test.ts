/**
 * An event policy's circuit breaker, end to end: the real handler, SWF's events for an event policy, the HTTP
 * fake of SWF, and the breakers' table on a real DynamoDB implementation (dynalite, started here). An event
 * storm does not become a mass termination: at most the policy's maxExecutions are acted on per window, and
 * every event passed over is recorded with its execution.
 */
import '../../support/handler-env';
import { dynamoBreakerTable } from '../../../lambda/aws/breaker-table';
import type { BreakerTable } from '../../../lambda/aws/breaker';
import { FakeSwfServer, makeExecutions } from '../../support/fake-swf';
import { jobStateFixture, makeHandler, type TestHandler } from '../../support/handler-fixtures';
import { inMemoryJobs } from '../../support/handler-bulk';
import { JOB_EVENT_KEY, type RequestWire } from '../../../lib/contract';
import { NO_TOTALS } from '../../../lambda/job/write';
import type { JobState } from '../../../lambda/types';
import { type LocalDynamoDb, startLocalDynamoDb } from '../../support/local-dynamodb';
import {
  deployedDigest,
  fakeSwfPort,
  FUNCTION_ARN,
  INVOKED_AT,
  policyOf,
  policyRun,
  POLICY_NAME,
  SCHEDULED_TIME,
  secondsBefore,
  swfEvent,
} from '../../support/policy-events';

let dynamo: LocalDynamoDb;
let server: FakeSwfServer | undefined;
beforeEach(async () => {
  dynamo = await startLocalDynamoDb();
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await dynamo.close();
});

/** The event policy: terminate OrderFlow runs on their started event, at most `cap` an hour. */
const policy = (cap: number, extra: Record<string, unknown> = {}) =>
  policyOf(
    {
      domain: 'orders',
      selector: { workflowType: { name: 'OrderFlow' } },
      maxExecutions: cap,
      dryRun: false,
      ...extra,
    },
    { name: POLICY_NAME, trigger: 'event' },
  );

/** SWF's started event for `workflowId`'s run, with an id of its own. */
const started = (workflowId: string, delivery = 0) =>
  swfEvent('workflow-execution-started', {
    id: `evt-${workflowId}-${delivery}`,
    time: SCHEDULED_TIME,
    domain: 'orders',
    workflowId,
    runId: `run-${workflowId}`,
    workflowType: { name: 'OrderFlow', version: '1' },
  });

/** One function instance (its own runtime, as a Lambda container has), deployed with the policy. */
function instance(cap: number, table: BreakerTable): TestHandler {
  return makeHandler({
    env: {
      POLICY_DIGESTS: deployedDigest(policyRun(policy(cap), started('any'))),
      BREAKER_TABLE: dynamo.tableName,
      POLICY_BREAKERS: JSON.stringify({ [POLICY_NAME]: { cap, windowSeconds: 3600 } }),
    },
    swf: fakeSwfPort(server!),
    now: () => INVOKED_AT,
    deps: { breakers: table, endReserveMs: 1_000 },
  });
}

/** SWF with `count` open OrderFlow runs in orders, `<prefix>0`.., started an hour before the invocation. */
function openRuns(count: number, prefix: string, options: { recordCalls?: boolean } = {}) {
  return FakeSwfServer.start({
    domains: ['orders'],
    executions: makeExecutions(count, {
      domain: 'orders',
      prefix,
      workflowType: () => ({ name: 'OrderFlow', version: '1' }),
      startTimestamp: () => secondsBefore(3600),
    }),
    ...options,
  });
}

/** The breakers' table on the local DynamoDB, through a client of its own (one function instance's). */
const localTable = () => {
  const client = dynamo.client();
  return dynamoBreakerTable(dynamo.tableName, () => Promise.resolve(client));
};

const context = (id: string) => ({ awsRequestId: id, invokedFunctionArn: FUNCTION_ARN });

test('an event storm: 10,000 started events, 20 invocations at once, a cap of 50: exactly 50 terminated, every other event recorded passed over', async () => {
  // GIVEN 10,000 open OrderFlow runs, and 20 instances of the function, each with a client of its own
  server = await openRuns(10_000, 'storm-', { recordCalls: false });
  const instances = Array.from({ length: 20 }, () => {
    const client = dynamo.client();
    return instance(
      50,
      dynamoBreakerTable(dynamo.tableName, () => Promise.resolve(client)),
    );
  });
  // WHEN each run's started event is taken by the next free instance
  const outcomes = new Map<string, number>();
  let next = 0;
  await Promise.all(
    instances.map(async ({ handler }, i) => {
      while (next < 10_000) {
        const n = next++;
        const report = await handler(policyRun(policy(50), started(`storm-${n}`)), context(`req-${i}-${n}`));
        for (const { outcome } of report.executions) outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    }),
  );
  // THEN SWF saw exactly 50 terminations, and each of the other 9,950 events answered passed-over
  expect(server.terminations).toHaveLength(50);
  expect(Object.fromEntries(outcomes)).toEqual({ terminated: 50, 'passed-over': 9_950 });
  expect(server.openCount('orders')).toBe(9_950);
}, 180_000);

test('a tripped breaker acts on nothing more, not even a duplicate of an event it acted on', async () => {
  // GIVEN a cap of 1, and run a's event acted on
  server = await openRuns(3, 'dup-');
  const { handler } = instance(1, localTable());
  const first = await handler(policyRun(policy(1), started('dup-0')), context('r1'));
  expect(first.executions).toEqual([{ workflowId: 'dup-0', runId: 'run-dup-0', outcome: 'terminated' }]);
  // WHEN b's event trips the breaker, and a's event is delivered again
  const b = await handler(policyRun(policy(1), started('dup-1')), context('r2'));
  const tripped = Date.now();
  const again = await handler(policyRun(policy(1), started('dup-0', 1)), context('r3'));
  // THEN both are passed over, each recorded with its run, before any SWF call; a was terminated once
  expect(b.executions).toEqual([{ workflowId: 'dup-1', runId: 'run-dup-1', outcome: 'passed-over' }]);
  expect(again.executions).toEqual([{ workflowId: 'dup-0', runId: 'run-dup-0', outcome: 'passed-over' }]);
  expect(server.terminations.map((t) => t.workflowId)).toEqual(['dup-0']);
  expect(server.calls.filter((c) => c.at >= tripped)).toEqual([]);
});

test("an operator reads a policy's breaker, resets it with a reason (recorded with who asked), and the policy acts again", async () => {
  // GIVEN a cap of 1, tripped by b's event after a's was acted on
  server = await openRuns(3, 'op-');
  const { handler, raw } = instance(1, localTable());
  await handler(policyRun(policy(1), started('op-0')), context('r1'));
  await handler(policyRun(policy(1), started('op-1')), context('r2'));

  // WHEN an operator asks for the policy's status (the console)
  const status = await raw({ status: { policy: POLICY_NAME } }, { awsRequestId: 'ops-status' });
  // THEN it shows the window's count, the trip and what it passed over
  expect(status).toEqual({
    breaker: {
      policy: POLICY_NAME,
      cap: 1,
      windowSeconds: 3600,
      actedInWindow: 1,
      tripped: true,
      trippedSince: INVOKED_AT.toISOString(),
      trippedUntil: new Date(INVOKED_AT.getTime() + 3_600_000).toISOString(),
      passedOver: 1,
      passedOverTotal: 1,
    },
  });

  // WHEN the operator resets it, saying why
  const reset = await raw(
    { resetBreaker: { policy: POLICY_NAME, reason: 'bad deploy rolled back (INC-9)' } },
    { awsRequestId: 'ops-reset' },
  );
  // THEN the answer shows a fresh window and the reset, recorded with who asked
  expect(reset).toMatchObject({
    breaker: {
      policy: POLICY_NAME,
      reset: true,
      tripped: false,
      actedInWindow: 0,
      passedOver: 1,
      lastReset: { reason: 'bad deploy rolled back (INC-9)', at: INVOKED_AT.toISOString() },
    },
  });
  expect(JSON.parse((reset as { breaker: { lastReset: { by: string } } }).breaker.lastReset.by)).toEqual({
    via: 'console',
    requestId: 'ops-reset',
  });
  // AND the policy acts again: c's event terminates c
  const c = await handler(policyRun(policy(1), started('op-2')), context('r3'));
  expect(c.executions).toEqual([{ workflowId: 'op-2', runId: 'run-op-2', outcome: 'terminated' }]);
});

test('the same reset delivered again is not a second reset: the window the policy used since stays counted', async () => {
  // GIVEN a cap of 1: a's event acted on, b's tripped it, an operator's reset, then c's event acted on
  server = await openRuns(4, 'rr-');
  const { handler, raw } = instance(1, localTable());
  await handler(policyRun(policy(1), started('rr-0')), context('r1'));
  await handler(policyRun(policy(1), started('rr-1')), context('r2'));
  const reset = { resetBreaker: { policy: POLICY_NAME, reason: 'rolled back' } };
  await raw(reset, { awsRequestId: 'ops-reset' });
  await handler(policyRun(policy(1), started('rr-2')), context('r3'));
  // WHEN Lambda delivers the same reset request again (its retry keeps the request id)
  const again = await raw(reset, { awsRequestId: 'ops-reset' });
  // THEN the window still counts c, and d's event is passed over
  expect(again).toMatchObject({ breaker: { actedInWindow: 1, lastReset: { reason: 'rolled back' } } });
  const d = await handler(policyRun(policy(1), started('rr-3')), context('r4'));
  expect(d.executions).toEqual([{ workflowId: 'rr-3', runId: 'run-rr-3', outcome: 'passed-over' }]);
  expect(server.terminations.map((t) => t.workflowId)).toEqual(['rr-0', 'rr-2']);
});

test('a breaker control request naming no event policy of the function is refused, naming the field, before any call', async () => {
  server = await FakeSwfServer.start({ domains: ['orders'] });
  const { raw } = instance(1, localTable());
  await expect(raw({ status: { policy: 'NoSuchPolicy' } }, { awsRequestId: 'x' })).rejects.toMatchObject({
    name: 'InvalidRequestError',
    message: expect.stringMatching(/^status\.policy: must name an event policy deployed with this function/),
  });
  await expect(
    raw({ resetBreaker: { policy: 'bad name!', reason: 'r' } }, { awsRequestId: 'y' }),
  ).rejects.toMatchObject({
    name: 'InvalidRequestError',
    message: expect.stringMatching(/resetBreaker\.policy/),
  });
  await expect(raw({ resetBreaker: { policy: POLICY_NAME } }, { awsRequestId: 'z' })).rejects.toMatchObject({
    name: 'InvalidRequestError',
    message: expect.stringMatching(/resetBreaker\.reason/),
  });
});

test("a backstop sweep's job passes the same breaker: its chunk acts on the room the events left, and passes over the rest", async () => {
  // GIVEN a cap of 3 per hour, two runs' events acted on, and three more runs open
  server = await openRuns(5, 'bs-');
  const table = localTable();
  const { handler } = instance(3, table);
  await handler(policyRun(policy(3), started('bs-0')), context('e0'));
  await handler(policyRun(policy(3), started('bs-1')), context('e1'));
  // WHEN the policy's backstop sweep runs as a job, and its chunk is invoked
  const jobs = inMemoryJobs();
  const jobId = `${POLICY_NAME}-sched-1`;
  // (the request exactly as the construct writes it: the policy's own)
  const request = policy(3).request as unknown as RequestWire;
  const state = jobStateFixture({
    jobId,
    request,
    acceptedUnder: { dryRun: false, maxExecutions: 3 },
    requestTime: INVOKED_AT.toISOString(),
    provenance: {
      via: 'policy',
      policy: POLICY_NAME,
      trigger: 'backstop',
      eventId: 'sched-1',
      time: SCHEDULED_TIME,
    },
    policy: { name: POLICY_NAME, trigger: 'backstop', request },
    progress: { target: 'selector' },
    totals: NO_TOTALS,
  });
  await jobs.jobs.start(state);
  const { raw } = makeHandler({
    env: {
      POLICY_DIGESTS: deployedDigest(policyRun(policy(3), started('any'))),
      BREAKER_TABLE: dynamo.tableName,
      POLICY_BREAKERS: JSON.stringify({ [POLICY_NAME]: { cap: 3, windowSeconds: 3600 } }),
    },
    swf: fakeSwfPort(server),
    now: () => INVOKED_AT,
    deps: { breakers: table, jobs: jobs.jobs, endReserveMs: 1_000 },
  });
  const answer = (await raw(
    { [JOB_EVENT_KEY]: state, execution: jobs.jobs.executionArn(jobId) },
    { awsRequestId: 'chunk-1' },
  )) as JobState;
  // THEN one more run is terminated (3 in the window in all), the other two are passed over
  expect(server.terminations).toHaveLength(3);
  expect(answer.totals).toMatchObject({ matched: 3, terminated: 1, passedOver: 2 });
  expect(answer.summary).toMatch(/2 passed over \(circuit breaker tripped\)/);
});
