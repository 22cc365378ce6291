/**
 * A job's next state (lambda/job/write.ts): the largest list accepted always fits the hand-off, and listed
 * failures are dropped before anything else.
 */
import { bulkHandler } from '../../support/handler-bulk';
import { DOMAIN, jobStateFixture } from '../../support/handler-fixtures';
import { FakeSwfServer } from '../../support/fake-swf';
import { fitJobState } from '../../../lambda/job/write';
import { HANDOFF_PAYLOAD_MAX_BYTES } from '../../../lib/contract';
import { clockChecks, collector } from '../../support/job-rig';

describe('the largest list accepted can always be handed on', () => {
  test("a list just under the limit still fits a job's state with the failures it carries", async () => {
    // GIVEN a list just under the limit whose entries all fail with a long error, and time for a few only
    const server = await FakeSwfServer.start({ domains: [DOMAIN], executions: [] });
    try {
      const { sent, jobs } = collector();
      const { handler } = bulkHandler(
        server,
        { MAX_EXECUTIONS: '5000', TERMINATE_RATE_PER_SECOND: '2000' },
        { jobs },
      );
      const entry = (i: number) => ({ workflowId: `${'€'.repeat(200)}-${i}`, runId: 'r'.repeat(64) });
      const executions = [entry(0)];
      while (
        Buffer.byteLength(JSON.stringify({ domain: DOMAIN, executions: [...executions, entry(0)] })) < 196_000
      ) {
        executions.push(entry(executions.length));
      }
      server.failNext('TerminateWorkflowExecution', 'not-permitted', 100);

      // WHEN it runs out of time after some failures
      await handler({ domain: DOMAIN, executions }, clockChecks(60));

      // THEN the job was started with a state within Step Functions' limit, carrying the failures
      expect(sent).toHaveLength(1);
      expect(Buffer.byteLength(JSON.stringify(sent[0]))).toBeLessThanOrEqual(256 * 1024);
      expect(sent[0]!.totals.failed).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });
});

describe("a job's state drops listed failures, never the request, to fit the payload", () => {
  test('50 long failures beside a request at the limit: fits, with fewer failures listed and the count exact', () => {
    const entry = (i: number) => ({ workflowId: `${'€'.repeat(200)}-${i}`, runId: 'r'.repeat(64) });
    const executions = [entry(0)];
    while (
      Buffer.byteLength(JSON.stringify({ domain: DOMAIN, executions: [...executions, entry(0)] })) < 196_000
    ) {
      executions.push(entry(executions.length));
    }
    const failures = Array.from({ length: 50 }, (_, i) => ({
      workflowId: `${'€'.repeat(250)}-${i}`,
      runId: 'r'.repeat(64),
      error: `OperationNotPermittedFault: ${'€'.repeat(250)}`,
    }));
    const totals = { ...jobStateFixture().totals, failed: 75 };

    const carried = fitJobState(
      jobStateFixture({ request: { domain: DOMAIN, executions }, totals, failures }),
    );

    expect(Buffer.byteLength(JSON.stringify(carried))).toBeLessThanOrEqual(HANDOFF_PAYLOAD_MAX_BYTES);
    expect(carried.failures.length).toBeGreaterThan(0);
    expect(carried.failures.length).toBeLessThan(50);
    expect(carried.failures).toEqual(failures.slice(0, carried.failures.length));
    expect(carried.request.executions).toEqual(executions);
    expect(carried.totals.failed).toBe(75);
  });
});
