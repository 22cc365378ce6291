/**
 * A selector job's limit across chunks, against an in-memory SWF port whose listing can lag (show
 * terminated runs again) and whose count can be low: the limit is spent only on terminations, and matches
 * beyond what was counted fail the request loudly instead of being skipped under a success report.
 */
import './support/handler-env';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { WorkflowExecutionInfo } from '@aws-sdk/client-swf';
import { ListingFailedError } from '../lambda/errors';
import { createHandler } from '../lambda/handler';
import type { SwfPort } from '../lambda/swf';
import { driveJob, inMemoryJobs } from './support/handler-bulk';
import { config, DOMAIN } from './support/handler-fixtures';

interface FakeOptions {
  /** The listing still shows terminated runs (SWF's listing is eventually consistent). */
  readonly stale?: boolean;
  /** Terminating these workflowIds always fails. */
  readonly failing?: ReadonlySet<string>;
  /** What CountOpenWorkflowExecutions answers, if not the true number of open runs. */
  readonly count?: number;
}

function fakeSwf(n: number, options: FakeOptions = {}) {
  const started = new Date(Date.now() - 3_600_000);
  const runs = Array.from({ length: n }, (_, i) => ({ workflowId: `e${i}`, runId: `r${i}`, open: true }));
  const swf: SwfPort = {
    // eslint-disable-next-line @typescript-eslint/require-await -- an async generator is the port's shape
    async *listOpen() {
      const infos: WorkflowExecutionInfo[] = runs
        .filter((run) => options.stale === true || run.open)
        .map((run) => ({
          execution: { workflowId: run.workflowId, runId: run.runId },
          workflowType: { name: 't', version: '1' },
          startTimestamp: started,
          executionStatus: 'OPEN',
          tagList: ['x'],
        }));
      yield infos;
    },
    async terminate(input) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (options.failing?.has(input.workflowId) === true) {
        return { kind: 'failed', failure: 'not-permitted', error: 'not permitted' };
      }
      const run = runs.find((r) => r.workflowId === input.workflowId && r.runId === input.runId);
      if (run === undefined || !run.open) return { kind: 'already-closed' };
      run.open = false;
      return { kind: 'terminated' };
    },
    countOpen() {
      return Promise.resolve({ count: options.count ?? runs.filter((r) => r.open).length, truncated: false });
    },
  };
  const open = () => runs.filter((r) => r.open).map((r) => r.workflowId);
  const terminatedCount = () => runs.filter((r) => !r.open).length;
  return { swf, open, terminatedCount };
}

/** Runs the request and every chunk of its job; each invocation may terminate `budget` runs. */
async function runJob(fake: ReturnType<typeof fakeSwf>, request: unknown, budget: number) {
  const jobs = inMemoryJobs();
  const handler = createHandler({
    config: config({ TERMINATE_RATE_PER_SECOND: '1000', TERMINATE_BURST: '100' }),
    swf: fake.swf,
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'SwfTerminator', serviceName: 'limit-test' }),
    jobs: jobs.jobs,
    endReserveMs: 1_000,
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
    const fake = fakeSwf(30, { stale: true });
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
    const fake = fakeSwf(30, { failing });
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
    const fake = fakeSwf(8, { count: 5 });
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
