/**
 * The end-of-invocation reserve reached in the middle of work that is not a termination:
 * - a workflowId without a runId is resolved first (a List call); if the reserve comes meanwhile, its
 *   termination is handed on, pinned to the resolved run, instead of started;
 * - a selector's next page is slow to come; the invocation stops waiting, stops the listing (no further
 *   List call) and hands on to a job; the selector lists again in the job's chunk.
 */
import './support/handler-env';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { WorkflowExecutionInfo } from '@aws-sdk/client-swf';
import { createHandler } from '../lambda/handler';
import { STOP_POLL_MS } from '../lambda/pipeline';
import type { SwfPort, TerminateInput } from '../lambda/swf';
import { asReport, inMemoryJobs } from './support/handler-bulk';
import { config, DOMAIN } from './support/handler-fixtures';

/** A handler over `swf` with a 1 s end reserve, whose jobs are kept in `sent` instead of started. */
function handlerOver(swf: SwfPort) {
  const jobs = inMemoryJobs();
  const raw = createHandler({
    config: config({ TERMINATE_RATE_PER_SECOND: '1000', TERMINATE_BURST: '100' }),
    swf,
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'SwfTerminator', serviceName: 'stop-test' }),
    endReserveMs: 1_000,
    jobs: jobs.jobs,
  });
  const handler = async (event: unknown, context: Parameters<typeof raw>[1]) =>
    asReport(await raw(event, context));
  return { handler, sent: jobs.started };
}

describe('the reserve reached while a run is being resolved', () => {
  test.each([
    ['a single runless workflowId', { domain: DOMAIN, workflowId: 'e1' }],
    [
      'a list with a runless entry',
      { domain: DOMAIN, executions: [{ workflowId: 'e1' }, { workflowId: 'e2' }] },
    ],
  ])('%s: its resolved run is handed on, not terminated', async (_name, request) => {
    let listed = 0;
    const terminated: TerminateInput[] = [];
    const swf: SwfPort = {
      // eslint-disable-next-line @typescript-eslint/require-await -- an async generator is the port's shape
      async *listOpen(input) {
        listed += 1;
        const workflowId = input.executionFilter?.workflowId ?? '?';
        const info: WorkflowExecutionInfo = {
          execution: { workflowId, runId: `run-${workflowId}` },
          workflowType: { name: 't', version: '1' },
          startTimestamp: new Date(Date.now() - 3_600_000),
          executionStatus: 'OPEN',
        };
        yield [info];
      },
      terminate(input) {
        terminated.push(input);
        return Promise.resolve({ kind: 'terminated' });
      },
      countOpen: () => Promise.resolve({ count: 0, truncated: false }),
    };
    const { handler, sent } = handlerOver(swf);
    // The reserve comes as soon as the first run has been resolved (its List call answered).
    const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => (listed > 0 ? 0 : 900_000) };

    const report = await handler(request, context);

    expect(terminated).toEqual([]);
    expect(report.job).toMatchObject({ state: 'started', reason: 'out-of-time' });
    const handedOn = sent[0]?.request.executions as { workflowId: string; runId?: string }[] | undefined;
    // The resolved run goes on pinned to its runId; every named execution goes on, none is dropped.
    expect(handedOn?.[0]).toEqual({ workflowId: 'e1', runId: 'run-e1' });
    expect(handedOn?.map((e) => e.workflowId).sort()).toEqual(
      'executions' in request ? ['e1', 'e2'] : ['e1'],
    );
  });
});

describe('the reserve reached while a selector waits for a slow page', () => {
  test('the listing stops (no further page asked for), nothing is lost, and the job is handed on', async () => {
    const info = (i: number, tag = 'x'): WorkflowExecutionInfo => ({
      execution: { workflowId: `e${i}`, runId: `r${i}` },
      workflowType: { name: 't', version: '1' },
      startTimestamp: new Date(Date.now() - 3_600_000),
      executionStatus: 'OPEN',
      tagList: [tag],
    });
    let pagesAsked = 0;
    let stopAt = Number.POSITIVE_INFINITY;
    const terminated: string[] = [];
    const swf: SwfPort = {
      async *listOpen() {
        pagesAsked += 1;
        yield [info(0), info(1)];
        pagesAsked += 1;
        // The second page comes long after the reserve (and after the stop is noticed), and matches nothing
        // (SWF filtered on the tag alone would not send these; an endpoint may), which would make an
        // unstopped listing go straight on to the next page.
        await new Promise((r) => setTimeout(r, 4 * STOP_POLL_MS));
        yield [info(2, 'y'), info(3, 'y')];
        pagesAsked += 1;
        yield [info(4)];
      },
      terminate(input) {
        terminated.push(input.workflowId);
        if (terminated.length === 2) stopAt = Date.now() + 50;
        return Promise.resolve({ kind: 'terminated' });
      },
      countOpen: () => Promise.resolve({ count: 5, truncated: false }),
    };
    const { handler, sent } = handlerOver(swf);
    // The reserve comes just after the first page's two runs are terminated, while the pipeline waits for
    // the second page.
    const context = {
      awsRequestId: 'req-1',
      getRemainingTimeInMillis: () => (Date.now() >= stopAt ? 0 : 900_000),
    };

    const report = await handler({ domain: DOMAIN, selector: { tag: 'x' } }, context);

    expect(terminated).toEqual(['e0', 'e1']);
    expect(report.job).toMatchObject({ state: 'started', reason: 'out-of-time' });
    expect(sent[0]?.progress).toEqual({ target: 'selector' });
    // The late page is dropped and the listing is closed: the third page is never asked for.
    await new Promise((r) => setTimeout(r, 6 * STOP_POLL_MS));
    expect(pagesAsked).toBe(2);
  });
});
