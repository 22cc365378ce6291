/**
 * The end-of-invocation reserve reached in the middle of work that is not a termination:
 * - a workflowId without a runId is resolved first (a List call); if the reserve comes meanwhile, its
 *   termination is handed on, pinned to the resolved run, instead of started;
 * - a selector's next page is slow to come; the invocation stops waiting, stops the listing (no further
 *   List call) and hands on to a job; the selector lists again in the job's chunk.
 */
import '../../support/handler-env';
import { STOP_POLL_MS } from '../../../lambda/act/pipeline';
import { inMemoryJobs } from '../../support/handler-bulk';
import { DOMAIN, makeHandler } from '../../support/handler-fixtures';
import { MemorySwf } from '../../support/memory-swf';

/** A handler over `swf` with a 1 s end reserve, whose jobs are kept in `sent` instead of started. */
function handlerOver(swf: MemorySwf) {
  const jobs = inMemoryJobs();
  const { handler } = makeHandler({
    env: { TERMINATE_RATE_PER_SECOND: '1000', TERMINATE_BURST: '100' },
    swf,
    now: () => new Date(),
    deps: { endReserveMs: 1_000, jobs: jobs.jobs },
  });
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
    const swf = new MemorySwf([
      { workflowId: 'e1', runId: 'run-e1' },
      { workflowId: 'e2', runId: 'run-e2' },
    ]);
    const { handler, sent } = handlerOver(swf);
    // The reserve comes as soon as the first run has been resolved (its List call answered).
    const context = {
      awsRequestId: 'req-1',
      getRemainingTimeInMillis: () => (swf.listCalls > 0 ? 0 : 900_000),
    };

    const report = await handler(request, context);

    expect(swf.terminateCalls).toEqual([]);
    expect(report.job).toMatchObject({ state: 'started', reason: 'out-of-time' });
    const handedOn = sent[0]?.request.executions as { workflowId: string; runId?: string }[] | undefined;
    // The resolved run goes on pinned to its runId; every named execution goes on, none is dropped.
    expect(handedOn?.find((e) => e.workflowId === 'e1')).toEqual({ workflowId: 'e1', runId: 'run-e1' });
    expect(handedOn?.map((e) => e.workflowId).sort()).toEqual(
      'executions' in request ? ['e1', 'e2'] : ['e1'],
    );
  });
});

describe('the reserve reached while a selector waits for a slow page', () => {
  test('the listing stops (no further page asked for), nothing is lost, and the job is handed on', async () => {
    let stopAt = Number.POSITIVE_INFINITY;
    // Pages of two: [e0 e1] [e2 e3] [e4]. The second page comes long after the reserve (and after the stop is
    // noticed), and matches nothing (SWF filtered on the tag alone would not send these; an endpoint may),
    // which would make an unstopped listing go straight on to the next page.
    const swf = new MemorySwf(
      [
        { workflowId: 'e0', runId: 'r0' },
        { workflowId: 'e1', runId: 'r1' },
        { workflowId: 'e2', runId: 'r2', tag: 'y' },
        { workflowId: 'e3', runId: 'r3', tag: 'y' },
        { workflowId: 'e4', runId: 'r4' },
      ],
      {
        pageSize: 2,
        ignoreTagFilter: true,
        beforePage: (index) =>
          index === 1 ? new Promise((r) => setTimeout(r, 4 * STOP_POLL_MS)) : undefined,
      },
    );
    const terminated = () => swf.terminateCalls.map((call) => call.workflowId);
    // The reserve comes just after the first page's two runs are terminated.
    const reserveAfterTwo = swf.terminate.bind(swf);
    swf.terminate = async (input) => {
      const result = await reserveAfterTwo(input);
      if (terminated().length === 2) stopAt = Date.now() + 50;
      return result;
    };
    const { handler, sent } = handlerOver(swf);
    // The reserve comes just after the first page's two runs are terminated, while the pipeline waits for
    // the second page.
    const context = {
      awsRequestId: 'req-1',
      getRemainingTimeInMillis: () => (Date.now() >= stopAt ? 0 : 900_000),
    };

    const report = await handler({ domain: DOMAIN, selector: { tag: 'x' } }, context);

    expect(terminated()).toEqual(['e0', 'e1']);
    expect(report.job).toMatchObject({ state: 'started', reason: 'out-of-time' });
    expect(sent[0]?.progress).toEqual({ target: 'selector' });
    // The late page is dropped and the listing is closed: the third page is never asked for.
    await new Promise((r) => setTimeout(r, 6 * STOP_POLL_MS));
    expect(swf.pagesAsked).toBe(2);
  });
});
