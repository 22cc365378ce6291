/**
 * A job's status (lambda/flows/control.ts) from what Step Functions and the log group say, both faked: every
 * invocation that worked for the job logs its own figures, and the status adds up each one's newest, says as
 * of when, and whether they are the last word, above all for a job stopped while a chunk worked (Step
 * Functions drops that chunk's answer; its figures are in the log group), an abort recorded before the job,
 * and a duplicate that acted beside the job before it existed.
 */
import type { ProgressLog, ProgressRecord } from '../../../lambda/aws/job-logs';
import type { JobsPort, LastChunk } from '../../../lambda/aws/jobs';
import { ABORTED_BEFORE_START_KEY } from '../../../lambda/aws/jobs';
import { NO_TOTALS } from '../../../lambda/job/write';
import { runControl, type JobStatusAnswer } from '../../../lambda/flows/control';
import { inMemoryJobs, memoryProgressLog } from '../../support/handler-bulk';
import { jobStateFixture } from '../../support/handler-fixtures';

// Ten minutes ago: a job stopped minutes ago may still hear from an invocation that was working.
const STARTED = new Date(Math.floor(Date.now() / 1000) * 1000 - 10 * 60_000);
const at = (seconds: number) => new Date(STARTED.getTime() + seconds * 1000).toISOString();
const terminated = (n: number) => ({ ...NO_TOTALS, matched: n, terminated: n });

/** What the job's last finished chunk (its second) handed back: 40 terminated in all. */
const HANDED_BACK = jobStateFixture({ chunks: 2, totals: terminated(40), lastProgressAt: at(120) });

function jobsWith(
  state: 'RUNNING' | 'ABORTED' | 'SUCCEEDED',
  last: LastChunk,
  input: unknown = jobStateFixture({ chunks: 0, totals: NO_TOTALS }),
  stoppedAt = new Date(STARTED.getTime() + 180_000),
): JobsPort {
  return {
    ...inMemoryJobs().jobs,
    describe: (jobId) =>
      Promise.resolve({
        jobId,
        executionArn: `arn:${jobId}`,
        state,
        startedAt: STARTED,
        input: JSON.stringify(input),
        ...(state === 'RUNNING' ? {} : { stoppedAt }),
      }),
    lastChunk: () => Promise.resolve(last),
  };
}

/** A record of `invocation` (chunk `chunk`), of its own figures. */
const record = (
  invocation: string,
  chunk: number,
  seconds: number,
  own: number,
  final = false,
): ProgressRecord => ({
  jobId: 'evt-1',
  invocation,
  chunk,
  at: at(seconds),
  own: terminated(own),
  final,
  status: final ? 'done' : 'running',
});

function logged(records: ProgressRecord[]): ProgressLog {
  const log = memoryProgressLog();
  for (const r of records) log.record(r);
  return log;
}

async function statusOf(jobs: JobsPort, progress: ProgressLog): Promise<JobStatusAnswer> {
  const answer = await runControl(
    { kind: 'status', jobId: 'evt-1' },
    jobs,
    { via: 'console', requestId: 'r' },
    progress,
  );
  if (!('status' in answer)) throw new Error('expected a status');
  return answer.status;
}

/** Two finished chunks of 20 each: what HANDED_BACK adds up to. */
const FINISHED = [record('c1', 1, 60, 20, true), record('c2', 2, 120, 20, true)];

describe("an aborted job's status", () => {
  test("GIVEN the chunk that saw the abort logged its last figures WHEN asked THEN every chunk's figures add up, final", async () => {
    const jobs = jobsWith('ABORTED', { state: HANDED_BACK, inFlight: true });
    const progress = logged([...FINISHED, record('c3', 3, 160, 15), record('c3', 3, 181, 21, true)]);

    const status = await statusOf(jobs, progress);

    expect(status).toMatchObject({ state: 'ABORTED', final: true, asOf: at(181), chunks: 2 });
    expect(status.totals?.terminated).toBe(61);
    expect(status.note).toBeUndefined();
  });

  test('GIVEN its last figures are not in the log group yet WHEN asked THEN the newest, as of when, not final, with a note', async () => {
    const jobs = jobsWith('ABORTED', { state: HANDED_BACK, inFlight: true });

    const status = await statusOf(jobs, logged([...FINISHED, record('c3', 3, 160, 15)]));

    expect(status).toMatchObject({ state: 'ABORTED', final: false, asOf: at(160) });
    expect(status.totals?.terminated).toBe(55);
    expect(status.note).toMatch(/has not logged its final figures yet.*ask again/);
  });

  test('GIVEN the chunk working when it stopped never logged (it timed out) WHEN asked half an hour later THEN final, saying so', async () => {
    const jobs = jobsWith(
      'ABORTED',
      { state: HANDED_BACK, inFlight: true },
      undefined,
      new Date(Date.now() - 31 * 60_000),
    );

    const status = await statusOf(jobs, logged(FINISHED));

    expect(status).toMatchObject({ final: true });
    expect(status.totals?.terminated).toBe(40);
    expect(status.note).toMatch(/never logged its last figures/);
  });

  test("GIVEN it was stopped between chunks WHEN asked THEN the finished chunks' figures, final", async () => {
    const jobs = jobsWith('ABORTED', { state: HANDED_BACK, inFlight: false });

    const status = await statusOf(jobs, logged(FINISHED));

    expect(status).toMatchObject({ final: true, asOf: at(120) });
    expect(status.totals?.terminated).toBe(40);
  });

  test('GIVEN a chunk attempt that failed after acting (Step Functions retried it) WHEN asked THEN what it did counts too', async () => {
    // (the retry started from the state before it: the job's own totals never saw the failed attempt's work)
    const jobs = jobsWith('SUCCEEDED', { state: HANDED_BACK, inFlight: false });
    const failedAttempt = { ...record('c2-first-try', 2, 90, 7, true), status: 'failed' as const };

    const status = await statusOf(jobs, logged([...FINISHED, failedAttempt]));

    expect(status.totals?.terminated).toBe(47);
    expect(status.final).toBe(true);
  });
});

describe('an abort recorded before the job existed', () => {
  const TOMBSTONE = { status: 'aborted', [ABORTED_BEFORE_START_KEY]: { jobId: 'evt-1', cause: '{}' } };

  test('GIVEN two deliveries that acted inline before they saw it WHEN asked THEN both add up, final once both said their last', async () => {
    const jobs = jobsWith('ABORTED', { inFlight: false }, TOMBSTONE);

    const early = await statusOf(jobs, logged([record('d1', 0, 1, 7, true), record('d2', 0, 2, 3)]));
    const later = await statusOf(
      jobs,
      logged([record('d1', 0, 1, 7, true), record('d2', 0, 2, 3), record('d2', 0, 3, 4, true)]),
    );

    expect(early).toMatchObject({ abortedBeforeStart: true, final: false });
    expect(early.totals?.terminated).toBe(10);
    expect(later).toMatchObject({ abortedBeforeStart: true, final: true });
    expect(later.totals?.terminated).toBe(11);
  });

  test('GIVEN nothing acted before it WHEN asked THEN nothing, final', async () => {
    const jobs = jobsWith('ABORTED', { inFlight: false }, TOMBSTONE);

    const status = await statusOf(jobs, logged([]));

    expect(status).toMatchObject({ final: true, totals: NO_TOTALS });
  });
});

describe("a running job's status", () => {
  test('GIVEN a chunk working since the last one handed back WHEN asked THEN its logged figures count, as of when', async () => {
    const jobs = jobsWith('RUNNING', { state: HANDED_BACK, inFlight: true });

    const status = await statusOf(jobs, logged([...FINISHED, record('c3', 3, 160, 15)]));

    expect(status).toMatchObject({ state: 'RUNNING', final: false, asOf: at(160) });
    expect(status.totals?.terminated).toBe(55);
  });

  test('GIVEN a duplicate that acted inline beside the job before it existed WHEN asked THEN its work counts too', async () => {
    const jobs = jobsWith('SUCCEEDED', { state: HANDED_BACK, inFlight: false });

    const status = await statusOf(jobs, logged([...FINISHED, record('duplicate', 0, -30, 2, true)]));

    expect(status.totals?.terminated).toBe(42);
  });

  test("GIVEN the log group lags behind the job's state WHEN asked THEN never less than the state says", async () => {
    const jobs = jobsWith('RUNNING', { state: HANDED_BACK, inFlight: true });

    const status = await statusOf(jobs, logged([record('c1', 1, 60, 20, true)]));

    expect(status.totals?.terminated).toBe(40);
  });

  test("GIVEN the log group cannot be read WHEN asked THEN the last chunk's figures, with a note saying why", async () => {
    const jobs = jobsWith('RUNNING', { state: HANDED_BACK, inFlight: true });
    const failing: ProgressLog = {
      record: () => undefined,
      read: () => Promise.reject(new Error('AccessDeniedException')),
    };

    const status = await statusOf(jobs, failing);

    expect(status.totals?.terminated).toBe(40);
    expect(status.note).toMatch(/could not be read \(Error: AccessDeniedException\)/);
  });
});

describe("a restore job's status", () => {
  const restoreState = (status: string) => ({
    kind: 'restore',
    version: 1,
    jobId: 'evt-1',
    status,
    chunks: 3,
    summary: 'restore running: 30 started',
    lastProgressAt: at(90),
    provenance: { via: 'console', requestId: 'ops' },
    totals: { matched: 50, started: 30, wouldStart: 0, failed: 0, notOurs: 2, skipped: { 'open-again': 1 } },
  });

  test("GIVEN a running restore job WHEN its status is asked THEN it answers restore's own counts, no termination totals", async () => {
    const jobs = jobsWith('RUNNING', { state: restoreState('running') as never, inFlight: true });
    const status = await statusOf(jobs, logged([]));
    expect(status).toMatchObject({
      jobId: 'evt-1',
      state: 'RUNNING',
      final: false,
      chunks: 3,
      summary: 'restore running: 30 started',
      requestedBy: { via: 'console', requestId: 'ops' },
      restore: { matched: 50, started: 30, notOurs: 2 },
    });
    expect(status.totals).toBeUndefined();
  });

  test('GIVEN an aborted restore job WHEN its status is asked THEN it says who stopped it and why', async () => {
    const cause = JSON.stringify({ reason: 'enough', requestedBy: { via: 'console', requestId: 'ops' } });
    const jobs: JobsPort = {
      ...jobsWith('ABORTED', { inFlight: false }, restoreState('running')),
      describe: (jobId) =>
        Promise.resolve({
          jobId,
          executionArn: `arn:${jobId}`,
          state: 'ABORTED' as const,
          startedAt: STARTED,
          stoppedAt: new Date(STARTED.getTime() + 60_000),
          input: JSON.stringify(restoreState('running')),
          cause,
        }),
    };
    const status = await statusOf(jobs, logged([]));
    expect(status).toMatchObject({ state: 'ABORTED', final: true, abort: { reason: 'enough' } });
  });
});
