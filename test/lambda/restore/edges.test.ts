/**
 * Restore at its edges, against the local SWF server: a policy's terminations, a window too large for one
 * invocation, SWF failing a read or a start, named runs continued as a job, and the refusals of the window.
 */
import { TerminateWorkflowExecutionCommand } from '@aws-sdk/client-swf';
import { JOB_EVENT_KEY } from '../../../lib/contract';
import { provenanceBlock } from '../../../lambda/job/provenance';
import type { RestoreJobState } from '../../../lambda/restore/job';
import { describeRestoreTotals, NO_RESTORE_TOTALS } from '../../../lambda/restore/report';
import type { RestoreDeps } from '../../../lambda/restore/runtime';
import { reportOf, restoreHandlerOn, UNPACED } from '../../support/restore-rig';
import type { Provenance } from '../../../lambda/types';
import { inMemoryJobs } from '../../support/handler-bulk';
import { testClient } from '../../support/handler-fixtures';
import { type FakeExecution, FakeSwfServer } from '../../support/fake-swf';

const DOMAIN = 'orders';

let server: FakeSwfServer;
afterEach(async () => {
  await server.close();
});

const run = (i: number): FakeExecution => ({
  domain: DOMAIN,
  workflowId: `wf-${i}`,
  runId: `run-${i}`,
  workflowType: { name: 'Order', version: '1' },
  startTimestamp: Date.now() / 1000 - 600 + i,
  taskList: { name: 'q' },
  input: `{"i":${i}}`,
});

/** Terminates run `i` with a provenance block of `provenance` (as the terminator writes it) for job `jobId`. */
async function terminateAs(i: number, provenance: Provenance, jobId: string): Promise<void> {
  await testClient(server.endpoint).send(
    new TerminateWorkflowExecutionCommand({
      domain: DOMAIN,
      workflowId: `wf-${i}`,
      runId: `run-${i}`,
      reason: 'r',
      details: provenanceBlock(provenance, { jobId, functionRequestId: 'fn-1' }),
    }),
  );
}

const POLICY: Provenance = {
  via: 'policy',
  policy: 'Stuck',
  trigger: 'schedule',
  eventId: 'evt-1',
  time: '2026-12-01T00:00:00Z',
};
const CONSOLE: Provenance = { via: 'console', requestId: 'ops' };

const handler = (deps: Partial<RestoreDeps> = {}) => restoreHandlerOn(server, DOMAIN, deps);

async function restore(body: unknown, deps: Partial<RestoreDeps> = {}) {
  return reportOf(await handler(deps)(body, { awsRequestId: 'r' }));
}

const windowNow = () => ({
  closedAfter: new Date(Date.now() - 3_600_000).toISOString(),
  closedBefore: new Date(Date.now() + 60_000).toISOString(),
});

test("GIVEN a policy's terminations and a job's in one window WHEN the policy is restored THEN only the policy's runs start", async () => {
  server = await FakeSwfServer.start({ domains: [DOMAIN], executions: [run(0), run(1), run(2)] });
  await terminateAs(0, POLICY, 'Stuck-evt-1');
  await terminateAs(1, { ...POLICY, policy: 'Other' }, 'Other-evt-1');
  await terminateAs(2, CONSOLE, 'job-A');

  const report = await restore({ restore: { domain: DOMAIN, policy: 'Stuck', ...windowNow() } });

  expect(report.runs.map((r) => [r.workflowId, r.outcome])).toEqual([['wf-0', 'started']]);
  expect(report.totals).toMatchObject({ matched: 1, notOurs: 2 });
});

test('GIVEN a window holding more terminations than one invocation can confirm WHEN restored THEN it is refused naming closedAfter, and nothing starts', async () => {
  server = await FakeSwfServer.start({ domains: [DOMAIN], executions: [run(0), run(1), run(2)] });
  for (const i of [0, 1, 2]) await terminateAs(i, CONSOLE, 'job-A');
  const slow = { ...UNPACED, history: { ratePerSecond: 2, burst: 2 } };

  await expect(
    handler({ rates: slow, endReserveMs: 40_000 })(
      { restore: { domain: DOMAIN, jobId: 'job-A' } },
      { awsRequestId: 'r', getRemainingTimeInMillis: () => 41_000 },
    ),
  ).rejects.toThrow(
    /restore\.closedAfter: the window holds 3 terminations, more than one invocation can confirm/,
  );
  expect(server.starts).toHaveLength(0);
});

test("GIVEN SWF failing a run's start WHEN restored THEN that run is failed with SWF's error, the others start, and a job would end failed", async () => {
  server = await FakeSwfServer.start({ domains: [DOMAIN], executions: [run(0), run(1)] });
  for (const i of [0, 1]) await terminateAs(i, CONSOLE, 'job-A');
  server.failWhen('StartWorkflowExecution', (body) => body.workflowId === 'wf-1', 'not-permitted');

  const report = await restore({ restore: { domain: DOMAIN, jobId: 'job-A' } });

  expect(report.totals).toMatchObject({ started: 1, failed: 1 });
  expect(report.runs.find((r) => r.workflowId === 'wf-1')).toMatchObject({
    outcome: 'failed',
    error: expect.stringContaining('OperationNotPermittedFault') as unknown,
  });
});

test("GIVEN SWF failing the read of a run's start WHEN restored THEN that run is failed saying its start could not be read", async () => {
  server = await FakeSwfServer.start({ domains: [DOMAIN], executions: [run(0)] });
  await terminateAs(0, CONSOLE, 'job-A');
  // The last event reads newest first; the start is read oldest first.
  server.failWhen('GetWorkflowExecutionHistory', (body) => body.reverseOrder !== true, 'not-permitted');

  const report = await restore({ restore: { domain: DOMAIN, jobId: 'job-A' } });

  expect(report.runs[0]).toMatchObject({
    outcome: 'failed',
    error: expect.stringMatching(/^its start could not be read/) as unknown,
  });
});

test('GIVEN SWF failing the confirming read WHEN restored THEN the restore fails before any start', async () => {
  server = await FakeSwfServer.start({ domains: [DOMAIN], executions: [run(0), run(1)] });
  for (const i of [0, 1]) await terminateAs(i, CONSOLE, 'job-A');
  server.failWhen('GetWorkflowExecutionHistory', (body) => body.reverseOrder === true, 'not-permitted');

  await expect(restore({ restore: { domain: DOMAIN, jobId: 'job-A' } })).rejects.toThrow(
    /OperationNotPermittedFault|not permitted/i,
  );
  expect(server.starts).toHaveLength(0);
});

test('GIVEN named runs that outgrow one invocation WHEN restored THEN the job continues them from its cursor, each started once', async () => {
  server = await FakeSwfServer.start({ domains: [DOMAIN], executions: [0, 1, 2, 3].map(run) });
  for (const i of [0, 1, 2, 3]) await terminateAs(i, CONSOLE, 'job-A');
  const jobs = inMemoryJobs();
  const h = handler({ jobs: jobs.jobs, endReserveMs: 1000 });
  let looks = 0;
  const runs = [0, 1, 2, 3].map((i) => ({ workflowId: `wf-${i}`, runId: `run-${i}` }));

  await h(
    { restore: { domain: DOMAIN, runs } },
    { awsRequestId: 'r', getRemainingTimeInMillis: () => (looks++ < 1 ? 60_000 : 0) },
  );
  let state = jobs.started.at(-1) as unknown as RestoreJobState;
  expect(state).toMatchObject({ kind: 'restore', status: 'running' });
  for (let i = 0; i < 10 && state.status === 'running'; i++) {
    state = (await h(JSON.parse(JSON.stringify({ [JOB_EVENT_KEY]: state })) as unknown, {
      awsRequestId: `c${i}`,
      getRemainingTimeInMillis: () => 60_000,
    })) as RestoreJobState;
  }

  expect(state.status).toBe('done');
  expect(server.starts.map((s) => s.workflowId).sort()).toEqual(['wf-0', 'wf-1', 'wf-2', 'wf-3']);
  expect(state.summary).toContain('restore done');
});

test.each([
  [
    { closedAfter: '2026-12-02T00:00:00Z', closedBefore: '2026-12-01T00:00:00Z' },
    /restore\.closedBefore: must not be before closedAfter/,
  ],
  [{ closedBefore: 'tomorrow' }, /restore\.closedBefore: must be an ISO 8601/],
  [{ maxExecutions: 0 }, /restore\.maxExecutions/],
  [{ runs: [] }, /restore\.runs/],
])(
  'GIVEN %j WHEN a restore is asked THEN it is refused naming the field, before any SWF call',
  async (extra, message) => {
    server = await FakeSwfServer.start({ domains: [DOMAIN] });
    const body = { restore: { domain: DOMAIN, ...('runs' in extra ? {} : { jobId: 'job-A' }), ...extra } };
    await expect(restore(body)).rejects.toThrow(message);
    expect(server.calls).toHaveLength(0);
  },
);

test('the one-line summary names every non-zero skip', () => {
  const line = describeRestoreTotals({
    ...NO_RESTORE_TOTALS,
    matched: 3,
    started: 1,
    skipped: { ...NO_RESTORE_TOTALS.skipped, 'open-again': 1, 'type-deprecated': 1 },
  });
  expect(line).toBe(
    '3 terminated by the terminator: 1 started, 0 would start, 0 failed, skipped: 1 open-again, 1 type-deprecated; 0 terminated by others left alone',
  );
});
