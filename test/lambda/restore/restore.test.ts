/**
 * Restore (lambda/restore/) against the local SWF server through the real SDK: the terminator terminates
 * runs (its provenance block in each termination), someone else terminates others, and restore restarts
 * exactly the terminator's, with what each was started with, once.
 */
import { StartWorkflowExecutionCommand, TerminateWorkflowExecutionCommand } from '@aws-sdk/client-swf';
import { JOB_EVENT_KEY } from '../../../lib/contract';
import { createSwf } from '../../../lambda/aws/swf';
import { RestoreTooLargeError } from '../../../lambda/errors';
import type { RestoreJobState } from '../../../lambda/restore/job';
import type { RestoreReport } from '../../../lambda/restore/report';
import type { RestoreDeps } from '../../../lambda/restore/runtime';
import { reportOf, restoreHandlerOn, startAttributesOf } from '../../support/restore-rig';
import { inMemoryJobs } from '../../support/handler-bulk';
import { makeHandler, testClient } from '../../support/handler-fixtures';
import { type FakeExecution, FakeSwfServer } from '../../support/fake-swf';

const DOMAIN = 'orders';
const LAMBDA_ROLE = 'arn:aws:iam::123456789012:role/workflow-lambdas';

let server: FakeSwfServer;
afterEach(async () => {
  await server.close();
});

/** A run started with every attribute SWF records, all different per run. */
function run(i: number, extra: Partial<FakeExecution> = {}): FakeExecution {
  return {
    domain: DOMAIN,
    workflowId: `wf-${i}`,
    runId: `run-${i}`,
    workflowType: { name: 'Order', version: `v${i % 3}` },
    startTimestamp: Date.now() / 1000 - 600 + i,
    tagList: [`customer-${i}`, 'batch'],
    input: JSON.stringify({ order: i, items: Array.from({ length: i % 5 }, (_, k) => k) }),
    taskList: { name: `tasks-${i % 2}` },
    taskPriority: String(i % 7),
    executionStartToCloseTimeout: String(3600 + i),
    taskStartToCloseTimeout: String(30 + i),
    childPolicy: i % 2 === 0 ? 'ABANDON' : 'REQUEST_CANCEL',
    ...extra,
  };
}

async function start(executions: FakeExecution[]): Promise<void> {
  server = await FakeSwfServer.start({ domains: [DOMAIN, 'billing'], executions });
}

/** The terminator terminates `ids` as console request `requestId` (its job id): provenance recorded. */
async function terminateByTerminator(ids: readonly string[], requestId: string): Promise<void> {
  const t = makeHandler({ swf: createSwf(testClient(server.endpoint)), now: () => new Date() });
  const report = await t.handler(
    { domain: DOMAIN, executions: ids.map((workflowId) => ({ workflowId })), reason: 'wrong tag' },
    { awsRequestId: requestId },
  );
  expect(report.terminated).toBe(ids.length);
}

/** Someone else (no provenance block) terminates `id`. */
async function terminateByOthers(id: string, runId: string): Promise<void> {
  await testClient(server.endpoint).send(
    new TerminateWorkflowExecutionCommand({
      domain: DOMAIN,
      workflowId: id,
      runId,
      reason: 'by hand',
      details: 'ops',
    }),
  );
}

const restoreHandler = (deps: Partial<RestoreDeps> = {}) => restoreHandlerOn(server, DOMAIN, deps);

async function restore(body: unknown, requestId = 'restore-req', deps: Partial<RestoreDeps> = {}) {
  return reportOf(await restoreHandler(deps)(body, { awsRequestId: requestId }));
}

const outcomes = (report: RestoreReport['restore']) =>
  Object.fromEntries(report.runs.map((r) => [r.workflowId, r.outcome]));

describe("restore { jobId }: the job's terminations, and only those", () => {
  test('GIVEN 6 runs terminated by a job and 2 by someone else WHEN the job is restored THEN each of the 6 runs again with exactly its start attributes, and the 2 are untouched', async () => {
    await start(Array.from({ length: 8 }, (_, i) => run(i)));
    await terminateByTerminator(['wf-0', 'wf-1', 'wf-2', 'wf-3', 'wf-4', 'wf-5'], 'job-A');
    await terminateByOthers('wf-6', 'run-6');
    await terminateByOthers('wf-7', 'run-7');

    const report = await restore({
      restore: { domain: DOMAIN, jobId: 'job-A', reason: 'undo the wrong tag' },
    });

    expect(report.totals).toMatchObject({ matched: 6, started: 6, failed: 0, notOurs: 2 });
    expect(server.starts.map((s) => s.workflowId).sort()).toEqual([
      'wf-0',
      'wf-1',
      'wf-2',
      'wf-3',
      'wf-4',
      'wf-5',
    ]);
    for (let i = 0; i < 6; i++) {
      const started = server.starts.find((s) => s.workflowId === `wf-${i}`);
      expect(started).toMatchObject(startAttributesOf(run(i)));
      const entry = report.runs.find((r) => r.workflowId === `wf-${i}`);
      expect(entry).toMatchObject({ outcome: 'started', runId: `run-${i}`, newRunId: started?.runId });
      expect(server.execution(DOMAIN, `wf-${i}`, started?.runId ?? '')?.open).toBe(true);
    }
    expect(server.starts.some((s) => s.workflowId === 'wf-6' || s.workflowId === 'wf-7')).toBe(false);
  });

  test('GIVEN a restored job WHEN the same restore arrives again (and again as a new request) THEN nothing starts twice', async () => {
    await start(Array.from({ length: 4 }, (_, i) => run(i)));
    await terminateByTerminator(['wf-0', 'wf-1', 'wf-2', 'wf-3'], 'job-A');
    const body = { restore: { domain: DOMAIN, jobId: 'job-A' } };
    await restore(body, 'first');

    const again = await restore(body, 'second');

    expect(server.starts).toHaveLength(4);
    expect(again.totals.started).toBe(0);
    expect(again.totals.skipped['open-again'] + again.totals.skipped['restarted-since']).toBe(4);
  });

  test('GIVEN a restored run that has closed since WHEN the restore is sent again THEN it is skipped as restarted-since, not started a third time', async () => {
    await start([run(0)]);
    await terminateByTerminator(['wf-0'], 'job-A');
    await restore({ restore: { domain: DOMAIN, jobId: 'job-A' } }, 'first');
    const restarted = server.starts[0];
    await terminateByOthers('wf-0', restarted?.runId ?? '');

    const again = await restore({ restore: { domain: DOMAIN, jobId: 'job-A' } }, 'second');

    expect(server.starts).toHaveLength(1);
    expect(outcomes(again)).toEqual({ 'wf-0': 'restarted-since' });
  });

  test('GIVEN a workflowId restarted by someone in between (still open) WHEN the job is restored THEN SWF refuses a second run and it is skipped as open-again', async () => {
    await start([run(0), run(1)]);
    await terminateByTerminator(['wf-0', 'wf-1'], 'job-A');
    await testClient(server.endpoint).send(
      new StartWorkflowExecutionCommand({
        domain: DOMAIN,
        workflowId: 'wf-1',
        workflowType: { name: 'Order', version: 'v1' },
        taskList: { name: 't' },
        executionStartToCloseTimeout: '60',
        taskStartToCloseTimeout: '10',
        childPolicy: 'TERMINATE',
      }),
    );

    const report = await restore({ restore: { domain: DOMAIN, jobId: 'job-A' } });

    expect(outcomes(report)).toEqual({ 'wf-0': 'started', 'wf-1': 'open-again' });
    expect(server.starts.filter((s) => s.workflowId === 'wf-1')).toHaveLength(1);
  });

  test('GIVEN a deprecated type and a run naming a Lambda role not allowed WHEN restored THEN each is skipped with why, the rest started', async () => {
    await start([run(0), run(1), run(2, { lambdaRole: 'arn:aws:iam::123456789012:role/other' })]);
    await terminateByTerminator(['wf-0', 'wf-1', 'wf-2'], 'job-A');
    server.deprecateType(DOMAIN, 'Order', 'v1');

    const report = await restore({ restore: { domain: DOMAIN, jobId: 'job-A' } });

    expect(outcomes(report)).toEqual({
      'wf-0': 'started',
      'wf-1': 'type-deprecated',
      'wf-2': 'lambda-role-not-allowed',
    });
  });

  test('GIVEN a run naming an allowed Lambda role WHEN restored THEN it starts with that role', async () => {
    await start([run(0, { lambdaRole: LAMBDA_ROLE })]);
    await terminateByTerminator(['wf-0'], 'job-A');

    await restore({ restore: { domain: DOMAIN, jobId: 'job-A' } }, 'r', {
      config: { domains: [DOMAIN], lambdaRoles: [LAMBDA_ROLE], maxExecutions: 10 },
    });

    expect(server.starts[0]?.lambdaRole).toBe(LAMBDA_ROLE);
  });

  test('GIVEN a dry run WHEN restored THEN it reports what would start (type, input size) and starts nothing', async () => {
    await start([run(3)]);
    await terminateByTerminator(['wf-3'], 'job-A');

    const report = await restore({ restore: { domain: DOMAIN, jobId: 'job-A', dryRun: true } });

    expect(server.starts).toHaveLength(0);
    expect(report.runs).toEqual([
      {
        workflowId: 'wf-3',
        runId: 'run-3',
        outcome: 'would-start',
        workflowType: { name: 'Order', version: 'v0' },
        inputBytes: Buffer.byteLength(run(3).input ?? ''),
      },
    ]);
  });

  test('GIVEN more runs than maxExecutions WHEN restored THEN the whole request is refused before any start', async () => {
    await start([run(0), run(1), run(2)]);
    await terminateByTerminator(['wf-0', 'wf-1', 'wf-2'], 'job-A');

    await expect(restore({ restore: { domain: DOMAIN, jobId: 'job-A', maxExecutions: 2 } })).rejects.toThrow(
      RestoreTooLargeError,
    );
    expect(server.starts).toHaveLength(0);
  });
});

describe("children: a run closed by its parent's termination", () => {
  const family = () => [
    run(0, { childPolicy: 'TERMINATE' }),
    run(1, { parent: { workflowId: 'wf-0', runId: 'run-0' } }),
  ];

  test('GIVEN a parent terminated by the job (child policy TERMINATE) WHEN restored THEN the parent starts and the child is reported as its child, not started', async () => {
    await start(family());
    await terminateByTerminator(['wf-0'], 'job-A');

    const report = await restore({ restore: { domain: DOMAIN, jobId: 'job-A' } });

    expect(outcomes(report)).toEqual({ 'wf-0': 'started', 'wf-1': 'child-of-restored-parent' });
    expect(report.runs.find((r) => r.workflowId === 'wf-1')?.parent).toEqual({
      workflowId: 'wf-0',
      runId: 'run-0',
    });
    expect(server.starts.map((s) => s.workflowId)).toEqual(['wf-0']);
  });

  test('GIVEN includeChildren WHEN restored THEN the child starts too', async () => {
    await start(family());
    await terminateByTerminator(['wf-0'], 'job-A');

    await restore({ restore: { domain: DOMAIN, jobId: 'job-A', includeChildren: true } });

    expect(server.starts.map((s) => s.workflowId).sort()).toEqual(['wf-0', 'wf-1']);
  });
});

describe('restore { runs } and { policy }', () => {
  test('GIVEN named runs, one terminated by someone else WHEN restored THEN that one is refused with why and never started', async () => {
    await start([run(0), run(1)]);
    await terminateByTerminator(['wf-0'], 'job-A');
    await terminateByOthers('wf-1', 'run-1');

    const report = await restore({
      restore: {
        domain: DOMAIN,
        runs: [
          { workflowId: 'wf-0', runId: 'run-0' },
          { workflowId: 'wf-1', runId: 'run-1' },
        ],
      },
    });

    expect(outcomes(report)).toEqual({ 'wf-0': 'started', 'wf-1': 'not-terminated-by-terminator' });
    expect(server.starts.map((s) => s.workflowId)).toEqual(['wf-0']);
  });

  test("GIVEN another job's terminations in the window WHEN one job is restored THEN the other job's runs are not touched", async () => {
    await start([run(0), run(1)]);
    await terminateByTerminator(['wf-0'], 'job-A');
    await terminateByTerminator(['wf-1'], 'job-B');

    const report = await restore({ restore: { domain: DOMAIN, jobId: 'job-B' } });

    expect(outcomes(report)).toEqual({ 'wf-1': 'started' });
    expect(report.totals.notOurs).toBe(1);
  });

  test('GIVEN a policy name without a window WHEN restored THEN it is refused naming closedAfter, before any SWF call', async () => {
    await start([]);
    await expect(restore({ restore: { domain: DOMAIN, policy: 'Stuck' } })).rejects.toThrow(
      /restore\.closedAfter: is required/,
    );
    expect(server.calls).toHaveLength(0);
  });
});

describe('refusals before any SWF call', () => {
  test.each([
    [{ restore: { domain: 'billing', jobId: 'j' } }, /domain: .*billing.* is not one of the allowed domains/],
    [{ restore: { domain: DOMAIN } }, /restore: must name exactly one of jobId, policy or runs/],
    [{ restore: { domain: DOMAIN, jobId: 'j', policy: 'p' } }, /exactly one/],
    [{ restore: { domain: DOMAIN, jobId: 'j', colour: 1 } }, /restore\.colour: is not a known field/],
    [{ restore: { domain: DOMAIN, jobId: 'has space' } }, /restore\.jobId: must be a job id/],
    [
      { restore: { domain: DOMAIN, jobId: 'j', closedAfter: 'yesterday' } },
      /restore\.closedAfter: must be an ISO 8601/,
    ],
    [
      { restore: { domain: DOMAIN, jobId: 'j', closedAfter: '2020-01-01T00:00:00Z' } },
      /within the last 90 days/,
    ],
    [{ restore: { domain: DOMAIN, jobId: 'j' }, extra: true }, /must be \{ "restore"/],
  ])('%j is refused: %s', async (body, message) => {
    await start([]);
    await expect(restore(body)).rejects.toThrow(message);
    expect(server.calls).toHaveLength(0);
  });
});

describe('a restore that outgrows one invocation continues as a job', () => {
  test('GIVEN no time left after the first run WHEN restored THEN the rest is a job whose chunks start each remaining run once', async () => {
    await start(Array.from({ length: 5 }, (_, i) => run(i)));
    await terminateByTerminator(['wf-0', 'wf-1', 'wf-2', 'wf-3', 'wf-4'], 'job-A');
    const jobs = inMemoryJobs();
    // The first invocation's time is up after its first look (the window check) and its first run.
    let looks = 0;
    const first = { awsRequestId: 'r1', getRemainingTimeInMillis: () => (looks++ < 2 ? 60_000 : 0) };
    const handler = restoreHandler({ jobs: jobs.jobs, endReserveMs: 1000 });

    const answer = (await handler({ restore: { domain: DOMAIN, jobId: 'job-A' } }, first)) as RestoreReport;
    expect(answer.restore.totals.started).toBe(1);
    expect(answer.restore.job).toMatchObject({ state: 'started' });
    const handedOn = jobs.started.at(-1) as unknown as RestoreJobState;
    let state = handedOn;
    expect(state).toMatchObject({ kind: 'restore', status: 'running', jobId: 'restore-r1' });

    for (let chunk = 0; chunk < 10 && state.status === 'running'; chunk++) {
      const event = JSON.parse(JSON.stringify({ [JOB_EVENT_KEY]: state, execution: 'arn' })) as unknown;
      state = (await handler(event, {
        awsRequestId: `c${chunk}`,
        getRemainingTimeInMillis: () => 60_000,
      })) as RestoreJobState;
    }

    expect(state.status).toBe('done');
    expect(state.totals).toMatchObject({ matched: 5, started: 5, failed: 0 });
    expect(server.starts.map((s) => s.workflowId).sort()).toEqual(['wf-0', 'wf-1', 'wf-2', 'wf-3', 'wf-4']);

    // WHEN Step Functions delivers the first chunk again (a retried task) THEN it starts nothing more
    const redelivered = (await handler(
      JSON.parse(JSON.stringify({ [JOB_EVENT_KEY]: handedOn, execution: 'arn' })) as unknown,
      { awsRequestId: 'again', getRemainingTimeInMillis: () => 60_000 },
    )) as RestoreJobState;
    expect(server.starts).toHaveLength(5);
    expect(redelivered.status).toBe('done');
    expect(redelivered.totals.started).toBe(1);
  });

  test('GIVEN a job of its id exists (an abort recorded, or a delivery handed it on) WHEN the request is delivered again THEN it acts on nothing', async () => {
    await start([run(0)]);
    await terminateByTerminator(['wf-0'], 'job-A');
    const jobs = inMemoryJobs();
    await jobs.jobs.start({ jobId: 'restore-again' });
    const callsBefore = server.calls.length;

    const report = await restore({ restore: { domain: DOMAIN, jobId: 'job-A' } }, 'again', {
      jobs: jobs.jobs,
    });

    expect(report.job).toMatchObject({ state: 'exists' });
    expect(server.starts).toHaveLength(0);
    expect(server.calls).toHaveLength(callsBefore);
  });
});

describe('an abort stops a restore within a poll: no new run starts after it', () => {
  /** 60 runs a job terminated, on a server answering each call after 40 ms (so a restore takes a while). */
  async function sixtySlowRuns(): Promise<void> {
    await start(Array.from({ length: 60 }, (_, i) => run(i)));
    await terminateByTerminator(
      Array.from({ length: 60 }, (_, i) => `wf-${i}`),
      'job-A',
    );
    server.latencyMs = 40;
  }

  test('GIVEN a restore starting 60 slow runs WHEN an abort is recorded for its id THEN it stops taking up runs, and hands nothing on', async () => {
    await sixtySlowRuns();
    const jobs = inMemoryJobs();
    const handler = restoreHandler({ jobs: jobs.jobs, abortPollMs: 5 });
    const running = handler({ restore: { domain: DOMAIN, jobId: 'job-A' } }, { awsRequestId: 'r' });
    // The control function's abort, before the request had a job: an execution of its id, recorded.
    while (server.starts.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await jobs.jobs.start({ jobId: 'restore-r' });

    const report = ((await running) as RestoreReport).restore;

    expect(server.starts.length).toBeLessThan(60);
    expect(report.totals.started).toBe(server.starts.length);
    expect(report.job).toBeUndefined();
    expect(jobs.started).toHaveLength(1);
  });

  test("GIVEN a restore job's chunk WHEN its execution is stopped THEN the chunk answers aborted and starts nothing more", async () => {
    await sixtySlowRuns();
    // A job's first state, as the request hands it on (its time is up after the window check and one run).
    const jobs = inMemoryJobs();
    let looks = 0;
    await restoreHandler({ jobs: jobs.jobs, endReserveMs: 1000 })(
      { restore: { domain: DOMAIN, jobId: 'job-A' } },
      { awsRequestId: 'q', getRemainingTimeInMillis: () => (looks++ < 2 ? 60_000 : 0) },
    );
    // The chunk's handler sees its execution running, until it is stopped.
    const stopped = { now: false };
    const handler = restoreHandler({
      jobs: {
        ...jobs.jobs,
        describe: (jobId) =>
          Promise.resolve({
            jobId,
            executionArn: 'arn',
            state: stopped.now ? ('ABORTED' as const) : ('RUNNING' as const),
          }),
      },
      abortPollMs: 5,
    });
    const state = jobs.started.at(-1) as unknown as RestoreJobState;
    expect(state).toMatchObject({ kind: 'restore', status: 'running' });
    const chunk = handler(
      JSON.parse(JSON.stringify({ [JOB_EVENT_KEY]: state, execution: 'arn' })) as unknown,
      {
        awsRequestId: 'c1',
        getRemainingTimeInMillis: () => 600_000,
      },
    );
    const before = server.starts.length;
    const deadline = Date.now() + 10_000;
    while (server.starts.length === before && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    stopped.now = true;

    const next = (await chunk) as RestoreJobState;

    expect(next.status).toBe('aborted');
    expect(server.starts.length).toBeLessThan(60);
  });
});
