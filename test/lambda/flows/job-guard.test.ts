/**
 * The guard that keeps one job per request (lambda/flows/job-guard.ts), against a Step Functions whose
 * answers the test times: a chunk stops when its execution stops, an inline run when a job of its id
 * appears, and nothing may act once the last look that said "carry on" was sent more than 1.5 s ago, so an
 * abort is honoured within its bound however slow the looks are.
 */
import type { JobDescription, JobsPort } from '../../../lambda/aws/jobs';
import { FRESH_MS, guardJob } from '../../../lambda/flows/job-guard';
import { inMemoryJobs } from '../../support/handler-bulk';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Step Functions whose DescribeExecution reads the state when asked and answers `latencyMs` later. */
function timedJobs(initial: JobDescription['state'] | 'none') {
  const control = { state: initial, latencyMs: 0, failing: false, looks: 0, redriveCount: 0 };
  const jobs: JobsPort = {
    ...inMemoryJobs().jobs,
    async describe(jobId) {
      control.looks += 1;
      const state = control.state;
      const failing = control.failing;
      await sleep(control.latencyMs);
      if (failing) throw new Error('ThrottlingException');
      const redriveCount = control.redriveCount;
      return state === 'none' ? undefined : { jobId, executionArn: `arn:${jobId}`, state, redriveCount };
    },
  };
  return { jobs, control };
}

/**
 * Acts in a loop, as the pipeline does (asking `mayAct` before each action), until the guard stops it;
 * answers when (Date.now()) each permitted action started.
 */
async function actUntilStopped(guard: ReturnType<typeof guardJob>, untilMs: number): Promise<number[]> {
  const started: number[] = [];
  const deadline = Date.now() + untilMs;
  while (Date.now() < deadline) {
    if (!(await guard.mayAct(() => Date.now() >= deadline))) break;
    started.push(Date.now());
    await sleep(10);
  }
  return started;
}

describe("a chunk's guard", () => {
  test('GIVEN a running job WHEN it is stopped THEN the guard stops, and nothing acts more than 1.5 s after', async () => {
    const { jobs, control } = timedJobs('RUNNING');
    const guard = guardJob(jobs, 'evt-1', 'chunk', { intervalMs: 200 });
    await guard.ready;
    let stoppedAt = Infinity;
    setTimeout(() => {
      control.state = 'ABORTED';
      stoppedAt = Date.now();
    }, 300);

    const started = await actUntilStopped(guard, 3_000);
    guard.close();

    expect(guard.stopped).toBe(true);
    expect(guard.stoppedBy?.state).toBe('ABORTED');
    expect(started.length).toBeGreaterThan(0);
    expect(started.filter((t) => t > stoppedAt + FRESH_MS)).toEqual([]);
  });

  test('GIVEN looks that take 1.4 s to answer WHEN the job is stopped THEN no action starts more than FRESH_MS after', async () => {
    // GIVEN a Step Functions that answers every look 1.4 s late (what it says is as of when it was asked)
    const { jobs, control } = timedJobs('RUNNING');
    const guard = guardJob(jobs, 'evt-1', 'chunk', { intervalMs: 1_000 });
    await guard.ready;
    control.latencyMs = 1_400;
    await sleep(1_000);

    // WHEN the job is stopped while actions go on
    let stoppedAt = 0;
    setTimeout(() => {
      control.state = 'ABORTED';
      stoppedAt = Date.now();
    }, 500);
    const started = await actUntilStopped(guard, 6_000);
    guard.close();

    // THEN actions went on before the stop, the guard stopped, and none started later than FRESH_MS after it
    expect(started.filter((t) => t <= stoppedAt).length).toBeGreaterThan(0);
    expect(guard.stopped).toBe(true);
    const late = started.filter((t) => t > stoppedAt + FRESH_MS + 50);
    expect(late).toEqual([]);
  }, 15_000);

  test('GIVEN looks that take longer than FRESH_MS WHEN the job runs on THEN nothing acts (acting pauses)', async () => {
    const { jobs, control } = timedJobs('RUNNING');
    const guard = guardJob(jobs, 'evt-1', 'chunk', { intervalMs: 200 });
    await guard.ready;
    control.latencyMs = 2_000;
    await sleep(FRESH_MS + 100);

    const started = await actUntilStopped(guard, 1_000);
    guard.close();

    expect(started).toEqual([]);
    expect(guard.stopped).toBe(false);
  }, 10_000);

  test('GIVEN looks that fail at once WHEN an action waits THEN the guard asks at most four times a second more', async () => {
    const { jobs, control } = timedJobs('RUNNING');
    control.failing = true;
    const guard = guardJob(jobs, 'evt-1', 'chunk', { intervalMs: 1_000 });
    await guard.ready;

    await actUntilStopped(guard, 1_000);
    guard.close();

    // the first look, one at the interval, and on demand at most every 250 ms
    expect(control.looks).toBeLessThanOrEqual(7);
  });

  test('GIVEN looks that fail WHEN actions are asked THEN they wait for an answer, and go on once there is one', async () => {
    const { jobs, control } = timedJobs('RUNNING');
    control.failing = true;
    const guard = guardJob(jobs, 'evt-1', 'chunk', { intervalMs: 100 });
    await guard.ready;

    const whileFailing = await actUntilStopped(guard, 500);
    control.failing = false;
    const after = await actUntilStopped(guard, 500);
    guard.close();

    expect(whileFailing).toEqual([]);
    expect(after.length).toBeGreaterThan(0);
    expect(guard.stopped).toBe(false);
  });

  test('GIVEN the job does not exist WHEN the guard first looks THEN it is stopped before anything acts', async () => {
    const { jobs } = timedJobs('none');
    const guard = guardJob(jobs, 'evt-1', 'chunk');
    await guard.ready;

    expect(guard.stopped).toBe(true);
    expect(await guard.mayAct()).toBe(false);
    guard.close();
  });
});

describe("a redriven job's guard", () => {
  test('GIVEN a job running again after a redrive WHEN a look sees it (not only the first) THEN the guard stops, naming the redrive', async () => {
    // GIVEN the first look fails (so it cannot be what catches the redrive)
    const { jobs, control } = timedJobs('RUNNING');
    control.failing = true;
    control.redriveCount = 1;
    const guard = guardJob(jobs, 'evt-1', 'chunk', { intervalMs: 100 });
    await guard.ready;
    expect(guard.stopped).toBe(false);

    // WHEN a later look answers
    control.failing = false;
    const started = await actUntilStopped(guard, 1_000);
    guard.close();

    // THEN nothing acted, and the guard stopped on the redrive
    expect(started).toEqual([]);
    expect(guard.stopped).toBe(true);
    expect(guard.stoppedBy).toMatchObject({ state: 'RUNNING', redriveCount: 1 });
  });
});

describe("an inline run's guard", () => {
  test('GIVEN no job of its id WHEN one appears (an abort recorded, a duplicate handed on) THEN it stops', async () => {
    const { jobs, control } = timedJobs('none');
    const guard = guardJob(jobs, 'evt-1', 'inline', { intervalMs: 100 });
    await guard.ready;
    expect(await guard.mayAct()).toBe(true);
    control.state = 'ABORTED';

    const started = await actUntilStopped(guard, 2_000);
    guard.close();

    expect(guard.stopped).toBe(true);
    expect(guard.stoppedBy).toMatchObject({ jobId: 'evt-1', state: 'ABORTED' });
    expect(started.length).toBeLessThan(200);
  });

  test('GIVEN a job of its id exists already WHEN the guard first looks THEN it is stopped, naming the job', async () => {
    const { jobs } = timedJobs('SUCCEEDED');
    const guard = guardJob(jobs, 'evt-1', 'inline');
    await guard.ready;

    expect(guard.stopped).toBe(true);
    expect(guard.first?.state).toBe('SUCCEEDED');
    guard.close();
  });
});
