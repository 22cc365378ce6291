/**
 * A job's status (lambda/flows/control.ts) from what Step Functions and the log group say, with both faked:
 * the newest figures, as of when, and whether they are final, above all for a job stopped while a chunk
 * worked (Step Functions drops that chunk's answer; its final figures are in the log group).
 */
import type { ProgressLog, ProgressRecord } from '../../../lambda/aws/job-logs';
import type { JobsPort, LastChunk } from '../../../lambda/aws/jobs';
import { NO_TOTALS } from '../../../lambda/flows/job-state';
import { runControl, type JobStatusAnswer } from '../../../lambda/flows/control';
import { inMemoryJobs } from '../../support/handler-bulk';
import { jobStateFixture } from '../../support/handler-fixtures';

const STARTED = new Date('2025-06-01T11:00:00Z');
/** What the job's last finished chunk (its second) handed back: 40 terminated. */
const HANDED_BACK = jobStateFixture({
  chunks: 2,
  totals: { ...NO_TOTALS, matched: 40, terminated: 40 },
  lastProgressAt: '2025-06-01T11:02:00.000Z',
});

function jobsWith(state: 'RUNNING' | 'ABORTED' | 'SUCCEEDED', last: LastChunk): JobsPort {
  return {
    ...inMemoryJobs().jobs,
    describe: (jobId) =>
      Promise.resolve({
        jobId,
        executionArn: `arn:${jobId}`,
        state,
        startedAt: STARTED,
        input: JSON.stringify(jobStateFixture({ chunks: 0, totals: NO_TOTALS })),
        ...(state === 'RUNNING' ? {} : { stoppedAt: new Date('2025-06-01T11:03:00Z') }),
      }),
    lastChunk: () => Promise.resolve(last),
  };
}

const logged = (records: ProgressRecord[]): ProgressLog => ({
  record: () => undefined,
  latest: () => Promise.resolve(records.at(-1)),
});

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

const record = (fields: Partial<ProgressRecord>): ProgressRecord => ({
  jobId: 'evt-1',
  chunk: 3,
  at: '2025-06-01T11:02:40.000Z',
  totals: { ...NO_TOTALS, matched: 55, terminated: 55 },
  final: false,
  status: 'running',
  ...fields,
});

describe("an aborted job's status", () => {
  test('GIVEN the chunk that saw the abort logged its final figures WHEN asked THEN they are the totals, final', async () => {
    const jobs = jobsWith('ABORTED', { state: HANDED_BACK, inFlight: true });
    const final = record({
      at: '2025-06-01T11:03:00.500Z',
      final: true,
      status: 'aborted',
      totals: { ...NO_TOTALS, matched: 61, terminated: 61 },
    });

    const status = await statusOf(jobs, logged([record({}), final]));

    expect(status).toMatchObject({ state: 'ABORTED', final: true, asOf: final.at, chunks: 2 });
    expect(status.totals?.terminated).toBe(61);
    expect(status.note).toBeUndefined();
  });

  test('GIVEN its final figures are not in the log group yet WHEN asked THEN the newest figures, as of when, not final, with a note', async () => {
    const jobs = jobsWith('ABORTED', { state: HANDED_BACK, inFlight: true });

    const status = await statusOf(jobs, logged([record({})]));

    expect(status).toMatchObject({ state: 'ABORTED', final: false, asOf: '2025-06-01T11:02:40.000Z' });
    expect(status.totals?.terminated).toBe(55);
    expect(status.note).toMatch(/has not logged its final figures yet.*ask again/);
  });

  test('GIVEN it was stopped between chunks WHEN asked THEN the last chunk handed back the final figures', async () => {
    const jobs = jobsWith('ABORTED', { state: HANDED_BACK, inFlight: false });

    const status = await statusOf(jobs, logged([]));

    expect(status).toMatchObject({ final: true, asOf: HANDED_BACK.lastProgressAt });
    expect(status.totals?.terminated).toBe(40);
  });
});

describe("a running job's status", () => {
  test('GIVEN a chunk working since the last one handed back WHEN asked THEN its logged figures, newer, as of when', async () => {
    const jobs = jobsWith('RUNNING', { state: HANDED_BACK, inFlight: true });

    const status = await statusOf(jobs, logged([record({})]));

    expect(status).toMatchObject({ state: 'RUNNING', final: false, asOf: '2025-06-01T11:02:40.000Z' });
    expect(status.totals?.terminated).toBe(55);
  });

  test("GIVEN the log group cannot be read WHEN asked THEN the last chunk's figures, with a note saying why", async () => {
    const jobs = jobsWith('RUNNING', { state: HANDED_BACK, inFlight: true });
    const failing: ProgressLog = {
      record: () => undefined,
      latest: () => Promise.reject(new Error('AccessDeniedException')),
    };

    const status = await statusOf(jobs, failing);

    expect(status.totals?.terminated).toBe(40);
    expect(status.note).toMatch(/could not be read \(Error: AccessDeniedException\)/);
  });
});
