/**
 * A selector job's limit across chunks, against the in-memory SWF whose listing can lag (show
 * terminated runs again) and whose count can be low: the limit is spent only on terminations, and matches
 * beyond what was counted fail the request loudly instead of being skipped under a success report.
 */
import '../../support/handler-env';
import { ListingFailedError } from '../../../lambda/errors';
import { driveJob, inMemoryJobs } from '../../support/handler-bulk';
import { DOMAIN, makeHandler } from '../../support/handler-fixtures';
import { MemorySwf } from '../../support/memory-swf';

/** Runs the request and every chunk of its job; each invocation may terminate `budget` runs. */
async function runJob(fake: MemorySwf, request: unknown, budget: number) {
  const jobs = inMemoryJobs();
  const { raw: handler } = makeHandler({
    env: { TERMINATE_RATE_PER_SECOND: '1000', TERMINATE_BURST: '100' },
    swf: fake,
    now: () => new Date(),
    deps: { jobs: jobs.jobs, endReserveMs: 1_000 },
  });
  let base = 0;
  return driveJob(handler, jobs, request, (i) => {
    base = fake.terminatedCount();
    const start = base;
    // The first look (planning) sees plenty of time; then the budget decides.
    let looks = 0;
    return {
      awsRequestId: `req-${i}`,
      getRemainingTimeInMillis: () => (looks++ > 0 && fake.terminatedCount() - start >= budget ? 0 : 900_000),
    };
  });
}

const selectorRequest = { domain: DOMAIN, selector: { tag: 'x' }, maxExecutions: 30 };

describe('a selector job at exactly its limit, across chunks', () => {
  test('a lagging listing that shows terminated runs again: every match is terminated, none beyond the limit', async () => {
    // GIVEN 30 matching runs, a limit of 30, and a listing that keeps showing terminated runs as open
    const fake = MemorySwf.withRuns(30, { stale: true });
    // WHEN the job runs 10 terminations per invocation
    const outcome = await runJob(fake, selectorRequest, 10).catch((error: unknown) => error);
    // THEN every run was terminated (the limit counts terminations, so stale entries did not use it up) ...
    expect(fake.open()).toEqual([]);
    expect(fake.terminatedCount()).toBe(30);
    // ... and the chunk that still saw 30 "open" matches with the limit spent failed loudly rather than
    // guess they were stale: conservative, and kept in the job's failure path with its reason.
    expect(outcome).toBeInstanceOf(ListingFailedError);
    expect((outcome as Error).message).toMatch(/30 acted on by earlier invocations/);
  });

  test('runs that keep failing do not use up the limit: every other match is still terminated', async () => {
    // GIVEN 30 matching runs of which 3 can never be terminated
    const failing = new Set(['e0', 'e1', 'e2']);
    const fake = MemorySwf.withRuns(30, { failing });
    // WHEN the job runs 10 terminations per invocation
    const outcome = await runJob(fake, selectorRequest, 10).catch((error: unknown) => error);
    // THEN the job fails, naming the failures, and only the failing runs are left open
    const last = (outcome as Awaited<ReturnType<typeof runJob>>).states.at(-1);
    expect(last?.status).toBe('failed');
    expect(last?.summary).toMatch(/e0\/r0/);
    expect(fake.open().sort()).toEqual(['e0', 'e1', 'e2']);
  });
});

describe('more matches than were counted', () => {
  test('fails loudly at the limit instead of reporting success with matches left running', async () => {
    // GIVEN 8 matching runs, a count that says 5, and a limit of 5
    const fake = MemorySwf.withRuns(8, { count: 5 });
    // WHEN the request runs
    const outcome = await runJob(fake, { ...selectorRequest, maxExecutions: 5 }, 100).catch(
      (error: unknown) => error,
    );
    // THEN no more than the limit were terminated, and the request failed with the reason
    expect(outcome).toBeInstanceOf(ListingFailedError);
    expect((outcome as Error).message).toMatch(/more executions matched than the 5 that were counted/);
    expect(fake.terminatedCount()).toBe(5);
    expect(fake.open()).toHaveLength(3);
  });
});
