/**
 * Jobs on Step Functions, end to end. The synthesized state machine runs on the fake Step
 * Functions server (aws-local-stepfunctions), its chunks on the real handler, which talks to both fakes
 * through the real SDK clients: a whole job, an abort mid-job, a failing chunk retried, a re-delivered
 * request, failed executions, status and listing.
 */
import {
  asReport,
  bulkHandler,
  jobRig,
  type JobRig,
  lastState,
  workingTime,
} from '../../support/handler-bulk';
import { captureEmf, DOMAIN, jobStateFixture } from '../../support/handler-fixtures';
import { FakeSwfServer, makeExecutions, type FakeExecution } from '../../support/fake-swf';
import { DescribeExecutionCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { ControlAnswer, JobStatusAnswer } from '../../../lambda/flows/control';
import { JobHandOffError, JobTooLongError } from '../../../lambda/errors';
import type { JobState } from '../../../lambda/types';
import { createJobs, createSfnClient } from '../../../lambda/aws/jobs';
import { JOB_EVENT_KEY, MAX_JOB_CHUNKS } from '../../../lib/contract';
import { readProvenance } from '../../../lambda/job/provenance';
import { NO_TOTALS } from '../../../lambda/job/write';

let swf: FakeSwfServer;
let rig: JobRig;

afterEach(async () => {
  await rig.close();
  await swf.close();
});

const started = Math.floor(Date.now() / 1000) - 3600;
const tagged = (n: number, tag = 'batch-7', prefix = 'b-'): FakeExecution[] =>
  makeExecutions(n, { domain: DOMAIN, prefix, startTimestamp: (i) => started - i, tagList: () => [tag] });

/** Slow enough that a job of a few hundred runs over several 0.5-second chunks. */
const PACED = {
  TERMINATE_RATE_PER_SECOND: '200',
  TERMINATE_BURST: '10',
  MAX_EXECUTIONS: '5000',
  JOB_CHUNK_SECONDS: '0.5',
};

function event(id: string, detail: unknown) {
  return {
    version: '0',
    id,
    'detail-type': 'SWF Termination Request',
    source: 'ops.incident',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail,
  };
}

/** Every termination exactly once: none missing, no duplicates. */
function expectExactlyOnce(ids: readonly string[]) {
  const done = swf.terminations.map((t) => t.workflowId);
  expect(new Set(done).size).toBe(done.length);
  expect([...done].sort()).toEqual([...ids].sort());
}

/**
 * A job of `matches` (400) runs at 50/s in 30 s chunks (about 8 s of work), started by event `jobId` and
 * working: at least `working` (40) terminated when this answers.
 */
async function workingJob(jobId: string, { matches = 400, working = 40 } = {}): Promise<void> {
  swf = await FakeSwfServer.start({ domains: [DOMAIN], executions: tagged(matches) });
  rig = await jobRig(swf, { ...PACED, TERMINATE_RATE_PER_SECOND: '50', JOB_CHUNK_SECONDS: '30' });
  asReport(
    await rig.handler(event(jobId, { domain: DOMAIN, selector: { tag: 'batch-7' } }), workingTime('r1', 500)),
  );
  while (swf.terminations.length < working) await new Promise((r) => setTimeout(r, 20));
}

async function status(jobId: string): Promise<JobStatusAnswer> {
  const answer = (await rig.handler({ status: { jobId } }, { awsRequestId: 'ops-status' })) as ControlAnswer;
  if (!('status' in answer)) throw new Error(`expected a status, got ${JSON.stringify(answer)}`);
  return answer.status;
}

describe('a request too large for one invocation runs as a job', () => {
  test('a selector: started as a job, run in chunks, every match terminated exactly once', async () => {
    const matches = tagged(300);
    swf = await FakeSwfServer.start({
      domains: [DOMAIN],
      executions: [...matches, ...tagged(20, 'keep', 'k-')],
    });
    rig = await jobRig(swf, PACED);

    // WHEN a request arrives that needs more time than the invocation has (1.5 s of 300 at 200/s)
    const report = asReport(
      await rig.handler(
        event('evt-job-1', { domain: DOMAIN, selector: { tag: 'batch-7' } }),
        workingTime('r1', 1_000),
      ),
    );

    // THEN it became a job, named by the event, with nothing terminated inline
    expect(report.job).toEqual({
      state: 'started',
      reason: 'too-large',
      executionArn: rig.sfn.executionArn('evt-job-1'),
    });
    expect(report.terminated).toBe(0);
    const execution = await rig.sfn.finished('evt-job-1');
    expect(execution.status).toBe('SUCCEEDED');
    expectExactlyOnce(matches.map((m) => m.workflowId));
    expect(swf.openCount(DOMAIN)).toBe(20);
    // in several chunks, each counting first
    const chunks = execution.chunks.filter((c) => c.outcome === 'answered');
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(lastState(rig.sfn, 'evt-job-1')).toMatchObject({
      status: 'done',
      chunks: chunks.length,
      totals: { terminated: 300, failed: 0 },
    });
    // every termination names the event that asked, whichever chunk made it
    for (const t of swf.terminations) {
      expect(readProvenance(t.details!)).toMatchObject({
        requestedBy: { eventId: 'evt-job-1' },
        jobId: 'evt-job-1',
      });
    }
    // and the status answers what happened, who asked and what was asked
    const answer = await status('evt-job-1');
    expect(answer).toMatchObject({
      state: 'SUCCEEDED',
      totals: { terminated: 300 },
      requestedBy: { via: 'eventbridge', eventId: 'evt-job-1', source: 'ops.incident' },
      request: { domain: DOMAIN, selector: { tag: 'batch-7' } },
      chunks: chunks.length,
    });
    expect(answer.lastProgressAt).toBeDefined();
  });

  test('an explicit list whose time runs out inline is handed to a job with what is left', async () => {
    const executions = tagged(150, 'x', 'l-');
    swf = await FakeSwfServer.start({ domains: [DOMAIN], executions });
    rig = await jobRig(swf, PACED);
    const list = executions.map((e, i) =>
      i % 3 === 0 ? { workflowId: e.workflowId } : { workflowId: e.workflowId, runId: e.runId },
    );
    // The estimate fits (plenty of time at the first look); the time then runs out after 30 terminations.
    let looks = 0;
    const context = {
      awsRequestId: 'console-req-7',
      getRemainingTimeInMillis: () => (looks++ === 0 || swf.terminations.length < 30 ? 600_000 : 0),
    };

    const report = asReport(await rig.handler({ domain: DOMAIN, executions: list }, context));

    expect(report.job).toMatchObject({ state: 'started', reason: 'out-of-time' });
    expect(report.terminated).toBeGreaterThanOrEqual(30);
    const execution = await rig.sfn.finished('console-req-7');
    expect(execution.status).toBe('SUCCEEDED');
    expectExactlyOnce(executions.map((e) => e.workflowId));
    // The job started with only what was left, and the totals so far.
    const first = JSON.parse(execution.input) as {
      request: { executions: unknown[] };
      totals: { terminated: number };
    };
    expect(first.request.executions).toHaveLength(150 - report.terminated);
    expect(first.totals.terminated).toBe(report.terminated);
    expect(lastState(rig.sfn, 'console-req-7')?.totals.terminated).toBe(150);
  });
});

describe('a job is never started twice for one request', () => {
  test('a re-delivered event finds the job it started: no second job, every match terminated once', async () => {
    const matches = tagged(200);
    swf = await FakeSwfServer.start({ domains: [DOMAIN], executions: matches });
    rig = await jobRig(swf, PACED);
    const request = event('evt-again', { domain: DOMAIN, selector: { tag: 'batch-7' } });

    const first = asReport(await rig.handler(request, workingTime('r1', 500)));
    const again = asReport(await rig.handler(request, workingTime('r2', 500)));

    expect(first.job?.state).toBe('started');
    expect(again.job).toMatchObject({ state: 'exists', executionArn: first.job?.executionArn });
    expect(rig.sfn.executions.size).toBe(1);
    expect((await rig.sfn.finished('evt-again')).status).toBe('SUCCEEDED');
    expectExactlyOnce(matches.map((m) => m.workflowId));
  });
});

describe('a job can be stopped', () => {
  test('an abort request stops it within 2 s: no termination starts after, the job ends aborted with the reason', async () => {
    await workingJob('evt-stop');

    const answer = (await rig.handler(
      { abort: { jobId: 'evt-stop', reason: 'wrong tag (INC-7)' } },
      { awsRequestId: 'ops-abort' },
    )) as ControlAnswer;
    const stoppedAt = Date.now();
    const terminatedAtAbort = swf.terminations.length;

    expect(answer).toEqual({
      abort: { jobId: 'evt-stop', outcome: 'stopped', state: 'ABORTED', reason: 'wrong tag (INC-7)' },
    });
    const execution = await rig.sfn.finished('evt-stop');
    expect(execution.status).toBe('ABORTED');
    // The running chunk notices within 2 s: at 50/s, at most 100 more terminations (calls in flight finish).
    await new Promise((r) => setTimeout(r, 2_500));
    const after = swf.terminations.filter((t) => t.at > stoppedAt + 2_000);
    expect(after).toEqual([]);
    expect(swf.terminations.length - terminatedAtAbort).toBeLessThanOrEqual(100);
    expect(swf.openCount(DOMAIN)).toBeGreaterThan(0);
    // The status says who stopped it and why.
    expect(await status('evt-stop')).toMatchObject({
      state: 'ABORTED',
      abort: { reason: 'wrong tag (INC-7)', requestedBy: { via: 'console', requestId: 'ops-abort' } },
      requestedBy: { via: 'eventbridge', eventId: 'evt-stop' },
    });
  });

  test('aws stepfunctions stop-execution stops it the same way', async () => {
    await workingJob('evt-cli-stop');
    const sfnClient = new SFNClient({
      endpoint: rig.sfn.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });

    await sfnClient.send(
      new StopExecutionCommand({ executionArn: rig.sfn.executionArn('evt-cli-stop'), cause: 'operator' }),
    );
    const stoppedAt = Date.now();

    await new Promise((r) => setTimeout(r, 2_500));
    expect(swf.terminations.filter((t) => t.at > stoppedAt + 2_000)).toEqual([]);
    const described = await sfnClient.send(
      new DescribeExecutionCommand({ executionArn: rig.sfn.executionArn('evt-cli-stop') }),
    );
    expect(described.status).toBe('ABORTED');
    expect(await status('evt-cli-stop')).toMatchObject({ state: 'ABORTED', abort: { cause: 'operator' } });
  });
});

describe('one job per request, on every path: an aborted request stays aborted', () => {
  /** A working job, aborted: answers when the abort was acknowledged. */
  async function abortedJob(jobId: string): Promise<number> {
    await workingJob(jobId);
    await rig.handler({ abort: { jobId, reason: 'wrong tag' } }, { awsRequestId: 'ops-abort' });
    const acknowledged = Date.now();
    await rig.sfn.finished(jobId);
    return acknowledged;
  }

  test('the same event delivered again after the abort, with what is left fitting one invocation, acts on nothing', async () => {
    const aborted = await abortedJob('evt-again-after-abort');
    await new Promise((r) => setTimeout(r, 2_100));
    const left = swf.openCount(DOMAIN);
    expect(left).toBeGreaterThan(100);

    // WHEN EventBridge delivers the event again, with ten minutes of working time (what is left fits inline)
    const again = asReport(
      await rig.handler(
        event('evt-again-after-abort', { domain: DOMAIN, selector: { tag: 'batch-7' } }),
        workingTime('r2', 600_000),
      ),
    );

    // THEN it reports the aborted job, matched and terminated nothing, and made no SWF call
    expect(again).toMatchObject({
      matched: 0,
      terminated: 0,
      job: {
        state: 'exists',
        status: 'ABORTED',
        executionArn: rig.sfn.executionArn('evt-again-after-abort'),
      },
    });
    expect(swf.openCount(DOMAIN)).toBe(left);
    expect(swf.terminations.filter((t) => t.at > aborted + 2_000)).toEqual([]);
  });

  test('a duplicate that arrives between two chunks of a running job acts on nothing beside it', async () => {
    const matches = tagged(300);
    swf = await FakeSwfServer.start({ domains: [DOMAIN], executions: matches });
    rig = await jobRig(swf, PACED);
    const request = event('evt-dup', { domain: DOMAIN, selector: { tag: 'batch-7' } });
    asReport(await rig.handler(request, workingTime('first', 500)));
    // the job has done a chunk (what is left now fits an invocation of a minute)
    const job = rig.sfn.executions.get('evt-dup')!;
    while (job.chunks.filter((c) => c.outcome === 'answered').length < 1) {
      await new Promise((r) => setTimeout(r, 10));
    }

    // WHEN the duplicate arrives
    const duplicate = asReport(await rig.handler(request, workingTime('duplicate', 60_000)));

    // THEN it reports the running job and terminated nothing itself; the job terminates each match once
    expect(duplicate).toMatchObject({ matched: 0, job: { state: 'exists', status: 'RUNNING' } });
    expect((await rig.sfn.finished('evt-dup')).status).toBe('SUCCEEDED');
    expectExactlyOnce(matches.map((m) => m.workflowId));
    const byDuplicate = swf.terminations.filter(
      (t) => readProvenance(t.details!)?.functionRequestId === 'duplicate',
    );
    expect(byDuplicate).toEqual([]);
  });

  test('an abort that comes while the request still runs inline stops it within 2 s, and it stays aborted', async () => {
    // GIVEN 400 matches at 50/s, acted on inline (eight seconds of a ten-minute invocation)
    swf = await FakeSwfServer.start({ domains: [DOMAIN], executions: tagged(400) });
    rig = await jobRig(swf, { ...PACED, TERMINATE_RATE_PER_SECOND: '50' });
    const request = event('evt-inline', { domain: DOMAIN, selector: { tag: 'batch-7' } });
    const inline = rig.handler(request, workingTime('inline', 600_000));
    while (swf.terminations.length < 40) await new Promise((r) => setTimeout(r, 20));

    // WHEN it is aborted: it has no job yet
    const answer = (await rig.handler(
      { abort: { jobId: 'evt-inline', reason: 'wrong tag' } },
      { awsRequestId: 'ops-abort' },
    )) as ControlAnswer;
    const acknowledged = Date.now();

    // THEN the abort is recorded as a stopped job of its id, and the inline run stops within 2 s, saying so
    expect(answer).toEqual({
      abort: { jobId: 'evt-inline', outcome: 'recorded', state: 'ABORTED', reason: 'wrong tag' },
    });
    const report = asReport(await inline);
    expect(report.job).toMatchObject({ state: 'exists', status: 'ABORTED' });
    expect(swf.terminations.filter((t) => t.at > acknowledged + 2_000)).toEqual([]);
    expect(swf.openCount(DOMAIN)).toBeGreaterThan(0);
    // AND a later delivery of it acts on nothing
    const left = swf.openCount(DOMAIN);
    const later = asReport(await rig.handler(request, workingTime('later', 600_000)));
    expect(later).toMatchObject({ matched: 0, job: { state: 'exists', status: 'ABORTED' } });
    expect(swf.openCount(DOMAIN)).toBe(left);
    // AND its status says what the inline run did before it stopped
    const answered = await status('evt-inline');
    expect(answered).toMatchObject({ state: 'ABORTED', abortedBeforeStart: true, final: true });
    expect(answered.totals?.terminated).toBe(swf.terminations.length);
  });

  test('a slow Step Functions (1.5 s a call) delays acting, never the abort: nothing is terminated 2 s after it', async () => {
    await workingJob('evt-slow-sfn');

    // WHEN Step Functions answers every call 1.5 s late, and the job is aborted
    rig.sfn.latencyMs = 1_500;
    await rig.handler({ abort: { jobId: 'evt-slow-sfn', reason: 'r' } }, { awsRequestId: 'ops-abort' });
    const acknowledged = Date.now();
    await new Promise((r) => setTimeout(r, 4_000));

    // THEN no termination came more than 2 s after the abort was acknowledged
    expect(swf.terminations.filter((t) => t.at > acknowledged + 2_000)).toEqual([]);
  }, 20_000);
});

describe("a job's status says what it has really done", () => {
  test('an aborted job: the totals of the chunk that saw the abort, final, equal to what SWF saw', async () => {
    await workingJob('evt-st', { working: 60 });
    await rig.handler({ abort: { jobId: 'evt-st', reason: 'r' } }, { awsRequestId: 'ops-abort' });
    const execution = await rig.sfn.finished('evt-st');
    // the chunk that was working notices, ends, and logs its final figures
    while (!execution.chunks.some((c) => c.outcome === 'answered'))
      await new Promise((r) => setTimeout(r, 20));

    const answer = await status('evt-st');

    // THEN (before: the last finished chunk's totals, here none: 0)
    expect(answer).toMatchObject({ state: 'ABORTED', final: true });
    expect(answer.totals?.terminated).toBe(swf.terminations.length);
    expect(answer.totals?.terminated).toBeGreaterThanOrEqual(60);
    expect(answer.note).toBeUndefined();
  });

  test('a running job: figures a few seconds old at most, and as of when', async () => {
    // one chunk, working for 20 s: its progress is logged every 5 s
    await workingJob('evt-run', { matches: 1_000, working: 1 });
    await new Promise((r) => setTimeout(r, 6_000));

    const answer = await status('evt-run');
    const seen = swf.terminations.length;

    expect(answer).toMatchObject({ state: 'RUNNING', final: false });
    expect(answer.chunks).toBe(0);
    // what it said is what SWF saw at most 5 s of work ago (50/s: 250 terminations)
    expect(answer.totals?.terminated).toBeGreaterThan(0);
    expect(seen - (answer.totals?.terminated ?? 0)).toBeLessThanOrEqual(300);
    expect(Date.now() - Date.parse(answer.asOf!)).toBeLessThan(6_000);
    await rig.handler({ abort: { jobId: 'evt-run', reason: 'done looking' } }, { awsRequestId: 'ops' });
  }, 20_000);
});

describe('nothing is lost', () => {
  test('a chunk that fails is retried by the state machine, and the job completes', async () => {
    const matches = tagged(120);
    swf = await FakeSwfServer.start({ domains: [DOMAIN], executions: matches });
    // Chunks long enough that the listing's failure, not the chunk's end, stops the first one.
    rig = await jobRig(swf, { ...PACED, JOB_CHUNK_SECONDS: '5' });
    // The first chunk's listing fails past the SDK's retries (five 500s): the chunk throws.
    let chunks = 0;
    const handler = rig.handler;
    rig.setChunkHandler(async (e, c) => {
      chunks += 1;
      if (chunks === 1) swf.failNext('ListOpenWorkflowExecutions', 'server-error', 5);
      return handler(e, c);
    });

    asReport(
      await rig.handler(
        event('evt-retry', { domain: DOMAIN, selector: { tag: 'batch-7' } }),
        workingTime('r', 100),
      ),
    );
    const execution = await rig.sfn.finished('evt-retry');

    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.chunks.map((c) => c.outcome)).toEqual(['threw', 'answered']);
    expectExactlyOnce(matches.map((m) => m.workflowId));
  });

  test('a job whose executions failed ends failed, naming them', async () => {
    const matches = tagged(60);
    swf = await FakeSwfServer.start({ domains: [DOMAIN], executions: matches });
    rig = await jobRig(swf, PACED);
    swf.failNext('TerminateWorkflowExecution', 'not-permitted', 2);

    asReport(
      await rig.handler(
        event('evt-fail', { domain: DOMAIN, selector: { tag: 'batch-7' } }),
        workingTime('r', 100),
      ),
    );
    const execution = await rig.sfn.finished('evt-fail');

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('ExecutionsFailed');
    expect(execution.cause).toMatch(/2 failed; failed: b-\d+\/run-b-\d+, b-\d+\/run-b-\d+/);
    expect(swf.terminations).toHaveLength(58);
  });

  test('a refused chunk is not retried: the job fails at once with the refusal', async () => {
    const matches = tagged(100);
    swf = await FakeSwfServer.start({ domains: [DOMAIN], executions: matches });
    rig = await jobRig(swf, PACED);
    // Redeployed between chunks without the job's domain.
    const narrowed = rig.redeployed({ ...PACED, ALLOWED_DOMAINS: 'billing' });
    rig.setChunkHandler(narrowed);

    asReport(
      await rig.handler(
        event('evt-refused', { domain: DOMAIN, selector: { tag: 'batch-7' } }),
        workingTime('r', 100),
      ),
    );
    const execution = await rig.sfn.finished('evt-refused');

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('DomainNotAllowedError');
    expect(execution.chunks).toHaveLength(1);
    expect(swf.terminations).toHaveLength(0);
  });
});

describe('jobs are listed', () => {
  test('{ "jobs": {} } lists recent jobs, newest first, with their state', async () => {
    swf = await FakeSwfServer.start({
      domains: [DOMAIN],
      executions: [...tagged(50, 'a', 'a-'), ...tagged(50, 'b', 'b-')],
    });
    rig = await jobRig(swf, PACED);
    asReport(
      await rig.handler(event('evt-a', { domain: DOMAIN, selector: { tag: 'a' } }), workingTime('r1', 50)),
    );
    await rig.sfn.finished('evt-a');
    await new Promise((r) => setTimeout(r, 5));
    asReport(
      await rig.handler(event('evt-b', { domain: DOMAIN, selector: { tag: 'b' } }), workingTime('r2', 50)),
    );
    await rig.sfn.finished('evt-b');

    const answer = (await rig.handler({ jobs: {} }, { awsRequestId: 'ops' })) as ControlAnswer;

    expect(answer).toMatchObject({
      jobs: [
        { jobId: 'evt-b', state: 'SUCCEEDED' },
        { jobId: 'evt-a', state: 'SUCCEEDED' },
      ],
    });
  });
});

describe('the rate is the terminator total: jobs running at once share it', () => {
  test('two jobs at once, two rate shares: their combined rate at the server stays within the configured rate', async () => {
    const rate = 100;
    const burst = 10;
    const a = tagged(150, 'a', 'a-');
    const b = tagged(150, 'b', 'b-');
    swf = await FakeSwfServer.start({ domains: [DOMAIN], executions: [...a, ...b] });
    // Two shares: the function's reserved concurrency (2), so each chunk paces itself at rate / 2.
    rig = await jobRig(
      swf,
      {
        TERMINATE_RATE_PER_SECOND: String(rate),
        TERMINATE_BURST: String(burst),
        TERMINATE_RATE_SHARES: '2',
        JOB_CHUNK_SECONDS: '0.5',
      },
      { concurrency: 2 },
    );

    await Promise.all([
      rig.handler(event('evt-a', { domain: DOMAIN, selector: { tag: 'a' } }), workingTime('r1', 50)),
      rig.handler(event('evt-b', { domain: DOMAIN, selector: { tag: 'b' } }), workingTime('r2', 50)),
    ]);
    const [ea, eb] = await Promise.all([rig.sfn.finished('evt-a'), rig.sfn.finished('evt-b')]);

    expect([ea.status, eb.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expectExactlyOnce([...a, ...b].map((e) => e.workflowId));
    expect(rig.sfn.peakConcurrency).toBe(2);
    // Both ran at the same time (their terminations interleave) ...
    const first = (prefix: string) => swf.terminations.findIndex((t) => t.workflowId.startsWith(prefix));
    const last = (prefix: string) =>
      swf.terminations.map((t) => t.workflowId.slice(0, 2)).lastIndexOf(prefix);
    expect(first('b-')).toBeLessThan(last('a-'));
    expect(first('a-')).toBeLessThan(last('b-'));
    // ... and together never faster than the configured rate: in any window of W ms, at most rate x W + burst
    // (generous tolerance for timer jitter).
    const at = swf.terminations.map((t) => t.at).sort((x, y) => x - y);
    for (const windowMs of [500, 1000]) {
      let most = 0;
      for (let i = 0, j = 0; i < at.length; i++) {
        while (at[i]! - at[j]! >= windowMs) j++;
        most = Math.max(most, i - j + 1);
      }
      expect(most).toBeLessThanOrEqual(Math.ceil(((rate * windowMs) / 1000 + burst) * 1.25) + 2);
    }
    const seconds = (at[at.length - 1]! - at[0]!) / 1000;
    expect(300 - burst).toBeLessThanOrEqual(rate * seconds * 1.25 + 2);
  });

  test('one rate share: a second job waits for the function (Lambda throttling, retried by the state machine)', async () => {
    swf = await FakeSwfServer.start({
      domains: [DOMAIN],
      executions: [...tagged(60, 'a', 'a-'), ...tagged(60, 'b', 'b-')],
    });
    rig = await jobRig(swf, PACED, { concurrency: 1 });

    await Promise.all([
      rig.handler(event('evt-1a', { domain: DOMAIN, selector: { tag: 'a' } }), workingTime('r1', 50)),
      rig.handler(event('evt-1b', { domain: DOMAIN, selector: { tag: 'b' } }), workingTime('r2', 50)),
    ]);
    const executions = await Promise.all([rig.sfn.finished('evt-1a'), rig.sfn.finished('evt-1b')]);

    expect(executions.map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(rig.sfn.peakConcurrency).toBe(1);
    expect(executions.flatMap((e) => e.chunks).some((c) => c.outcome === 'refused')).toBe(true);
    expect(swf.terminations).toHaveLength(120);
  });
});

describe('control requests', () => {
  test('the control function answers status and abort, and refuses a termination request', async () => {
    swf = await FakeSwfServer.start({ domains: [DOMAIN], executions: tagged(5) });
    rig = await jobRig(swf, PACED);
    const control = rig.redeployed({ ...PACED, CONTROL_ONLY: 'true' });

    await expect(
      control({ domain: DOMAIN, selector: { tag: 'batch-7' } }, { awsRequestId: 'x' }),
    ).rejects.toThrow(/must be an abort, status or jobs request: this is the terminator's control function/);
    // Through the bus: a control request is the event's detail.
    const answer = (await control(event('evt-ask', { status: { jobId: 'no-such-job' } }), {
      awsRequestId: 'y',
    })) as ControlAnswer;
    expect(answer).toEqual({ status: { jobId: 'no-such-job', state: 'NOT_FOUND' } });
    const abort = (await control(
      { abort: { jobId: 'no-such-job', reason: 'r' } },
      { awsRequestId: 'z' },
    )) as ControlAnswer;
    // No job of that id: the abort is recorded as a stopped job of it, which no chunk ever runs.
    expect(abort).toEqual({
      abort: { jobId: 'no-such-job', outcome: 'recorded', state: 'ABORTED', reason: 'r' },
    });
    const recorded = await rig.sfn.finished('no-such-job');
    expect(recorded.status).toBe('ABORTED');
    expect(recorded.chunks).toHaveLength(0);
    expect(swf.calls).toHaveLength(0);
  });

  test.each([
    [{ abort: { jobId: 'evt-1' } }, /^abort\.reason: is required/],
    [{ abort: { jobId: 'evt 1', reason: 'r' } }, /^abort\.jobId: must be a job id/],
    [{ status: { jobId: 'a'.repeat(81) } }, /^status\.jobId: must be a job id/],
    [
      { status: { jobId: 'evt-1' }, abort: { jobId: 'evt-1', reason: 'r' } },
      /exactly one of abort, status, jobs, resetBreaker is allowed/,
    ],
    [{ jobs: { limit: 1000 } }, /^jobs\.limit: must be at most 100/],
    [{ jobs: { state: 'PAUSED' } }, /^jobs\.state: must be one of RUNNING/],
    [{ jobs: {}, force: true }, /^force: is not a known field/],
  ])('a malformed control request %j is refused before any call', async (request, message) => {
    swf = await FakeSwfServer.start({ domains: [DOMAIN], executions: [] });
    rig = await jobRig(swf, PACED);
    await expect(rig.handler(request, { awsRequestId: 'x' })).rejects.toThrow(message);
    expect(rig.sfn.executions.size).toBe(0);
  });
});

describe('a chunk works only for its own job', () => {
  test('a chunk naming an execution of another state machine, or of another job, is refused', async () => {
    swf = await FakeSwfServer.start({ domains: [DOMAIN], executions: tagged(5) });
    rig = await jobRig(swf, PACED);
    const state = jobStateFixture({
      jobId: 'evt-1',
      request: { domain: DOMAIN, selector: { tag: 'batch-7' } },
    });
    for (const execution of [
      'arn:aws:states:us-east-1:123456789012:execution:another-machine:evt-1',
      rig.sfn.executionArn('evt-2'),
    ]) {
      await expect(rig.handler({ [JOB_EVENT_KEY]: state, execution }, { awsRequestId: 'x' })).rejects.toThrow(
        /^execution: must be the execution of job evt-1/,
      );
    }
    expect(swf.terminations).toHaveLength(0);
  });

  test('a chunk for an execution that is not running does nothing and says so', async () => {
    swf = await FakeSwfServer.start({ domains: [DOMAIN], executions: tagged(5) });
    rig = await jobRig(swf, PACED);
    const state = jobStateFixture({
      jobId: 'evt-none',
      request: { domain: DOMAIN, selector: { tag: 'batch-7' } },
    });

    const answer = (await rig.handler(
      { [JOB_EVENT_KEY]: state, execution: rig.sfn.executionArn('evt-none') },
      { awsRequestId: 'x' },
    )) as JobState;

    expect(answer.status).toBe('aborted');
    expect(swf.calls).toHaveLength(0);
  });

  test('a job at its last chunk with work left fails rather than run on', async () => {
    swf = await FakeSwfServer.start({ domains: [DOMAIN], executions: tagged(400) });
    rig = await jobRig(swf, { ...PACED, JOB_CHUNK_SECONDS: '0.2' });
    const state = jobStateFixture({
      jobId: 'evt-long',
      request: { domain: DOMAIN, selector: { tag: 'batch-7' } },
      requestTime: new Date().toISOString(),
      chunks: MAX_JOB_CHUNKS - 1,
      totals: NO_TOTALS,
    });
    rig.sfn.startExecution('evt-long', JSON.stringify(state));
    const execution = await rig.sfn.finished('evt-long');

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('JobChunkLimitError');
    expect(execution.chunks).toHaveLength(1);
    expect(swf.terminations.length).toBeGreaterThan(0);
    expect(swf.terminations.length).toBeLessThan(400);
  });
});

describe('requests that cannot become jobs', () => {
  test('a function without a state machine refuses a request it cannot finish, before any termination', async () => {
    swf = await FakeSwfServer.start({ domains: [DOMAIN], executions: tagged(300) });
    rig = await jobRig(swf, PACED);
    const { handler } = bulkHandler(swf, PACED);

    await expect(
      handler({ domain: DOMAIN, selector: { tag: 'batch-7' } }, workingTime('r', 500)),
    ).rejects.toThrow(/STATE_MACHINE_ARN is not set: this function runs no jobs/);
    expect(swf.terminations).toHaveLength(0);
  });

  test('a request that would take longer than a job may run is refused with the numbers', async () => {
    swf = await FakeSwfServer.start({ domains: [DOMAIN], executions: tagged(50) });
    rig = await jobRig(swf, { ...PACED, TERMINATE_RATE_PER_SECOND: '0.001', TERMINATE_BURST: '1' });

    await expect(
      rig.handler({ domain: DOMAIN, selector: { tag: 'batch-7' } }, workingTime('r', 500)),
    ).rejects.toThrow(JobTooLongError);
    expect(swf.terminations).toHaveLength(0);
    expect(rig.sfn.executions.size).toBe(0);
  });

  test('a preview of a selector always runs inline (it cannot be carried from chunk to chunk)', async () => {
    swf = await FakeSwfServer.start({ domains: [DOMAIN], executions: tagged(300) });
    rig = await jobRig(swf, PACED);

    const report = asReport(
      await rig.handler(
        { domain: DOMAIN, selector: { tag: 'batch-7' }, dryRun: true },
        workingTime('r', 500),
      ),
    );

    expect(report).toMatchObject({ dryRun: true, matched: 300 });
    expect(report.job).toBeUndefined();
    expect(rig.sfn.executions.size).toBe(0);
  });

  test('the state machine failing to start the job fails the invocation, so it is retried', async () => {
    swf = await FakeSwfServer.start({ domains: [DOMAIN], executions: tagged(300) });
    rig = await jobRig(swf, PACED);
    const { handler } = bulkHandler(
      swf,
      { ...PACED, STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:gone' },
      {
        jobs: createJobs(
          createSfnClient({
            endpoint: rig.sfn.endpoint,
            region: 'us-east-1',
            credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
          }),
          'arn:aws:states:us-east-1:123456789012:stateMachine:gone',
        ),
      },
    );

    await expect(
      handler({ domain: DOMAIN, selector: { tag: 'batch-7' } }, workingTime('r', 500)),
    ).rejects.toThrow(JobHandOffError);
    expect(swf.terminations).toHaveLength(0);
  });
});

describe('job metrics', () => {
  test('JobsStarted when a request starts a job; JobsAborted when a chunk sees its job stopped', async () => {
    swf = await FakeSwfServer.start({ domains: [DOMAIN], executions: tagged(400) });
    rig = await jobRig(swf, { ...PACED, TERMINATE_RATE_PER_SECOND: '50', JOB_CHUNK_SECONDS: '30' });
    const { docs } = await captureEmf(async () => {
      asReport(
        await rig.handler(
          event('evt-m', { domain: DOMAIN, selector: { tag: 'batch-7' } }),
          workingTime('r', 500),
        ),
      );
      while (swf.terminations.length < 10) await new Promise((r) => setTimeout(r, 20));
      await rig.handler({ abort: { jobId: 'evt-m', reason: 'test' } }, { awsRequestId: 'ops' });
      await rig.sfn.finished('evt-m');
      await new Promise((r) => setTimeout(r, 1_500));
    });
    const sum = (name: string) => docs.reduce((n, d) => n + (typeof d[name] === 'number' ? d[name] : 0), 0);
    expect(sum('JobsStarted')).toBe(1);
    expect(sum('JobsAborted')).toBe(1);
  });
});
