/**
 * A job's chunk (lambda/flows/chunk.ts): it acts with the settings its request was accepted under, and reads
 * its event as strictly as a request.
 */
import { asReport, bulkHandler } from '../../support/handler-bulk';
import { context, DOMAIN, info, jobStateFixture, makeHandler } from '../../support/handler-fixtures';
import { FakeSwfServer, makeExecutions } from '../../support/fake-swf';
import {
  CountOpenWorkflowExecutionsCommand,
  ListOpenWorkflowExecutionsCommand,
  TerminateWorkflowExecutionCommand,
} from '@aws-sdk/client-swf';
import { type Env } from '../../../lambda/config';
import { type JobState } from '../../../lambda/types';
import { type RequestWire } from '../../../lib/contract';
import { InvalidRequestError, TooManyExecutionsError } from '../../../lambda/errors';
import { NO_TOTALS } from '../../../lambda/job/write';
import { clockChecks, collector, listOf, mockedSwf } from '../../support/job-rig';

describe("a job's every chunk acts with the settings its request was accepted under", () => {
  let server: FakeSwfServer;
  afterEach(async () => {
    await server.close();
  });
  const executions = () => makeExecutions(6, { domain: DOMAIN });
  const slow = { TERMINATE_RATE_PER_SECOND: '300', TERMINATE_BURST: '1', MAX_EXECUTIONS: '100' };

  test('a preview stays a preview after the function is redeployed with DRY_RUN=false', async () => {
    server = await FakeSwfServer.start({ domains: [DOMAIN], executions: executions() });
    const { sent, jobs, chunk } = collector();
    const preview = bulkHandler(server, { ...slow, DRY_RUN: 'true' }, { jobs });
    const first = asReport(await preview.handler({ domain: DOMAIN, executions: listOf(6) }, clockChecks(3)));
    expect(first.job).toBeDefined();
    expect(first.dryRun).toBe(true);

    // The usual next step: the function is redeployed for real, and the job's next chunk runs there.
    const real = bulkHandler(server, { ...slow, DRY_RUN: 'false' }, { jobs });
    const second = (await real.handler(chunk(sent[0]), { awsRequestId: 'req-2' })) as JobState;

    expect(server.terminations).toHaveLength(0);
    expect(second).toMatchObject({
      status: 'done',
      totals: { terminated: 0, wouldTerminate: 6, matched: 6 },
    });
  });

  test('a job accepted to terminate stops, terminating nothing more, on a function now in preview mode', async () => {
    server = await FakeSwfServer.start({ domains: [DOMAIN], executions: executions() });
    const { sent, jobs, chunk } = collector();
    const real = bulkHandler(server, slow, { jobs });
    const first = asReport(await real.handler({ domain: DOMAIN, executions: listOf(6) }, clockChecks(3)));
    const done = server.terminations.length;
    expect(first.job).toBeDefined();

    const preview = bulkHandler(server, { ...slow, DRY_RUN: 'true' }, { jobs });
    await expect(preview.handler(chunk(sent[0]), { awsRequestId: 'req-2' })).rejects.toThrow(/DRY_RUN/);
    expect(server.terminations).toHaveLength(done);
  });

  test.each([
    ['ABANDON', 'TERMINATE', 'ABANDON'],
    [undefined, 'TERMINATE', undefined],
  ])(
    'accepted under DEFAULT_CHILD_POLICY=%s, its chunk run under %s: every call sends %s',
    async (acceptedUnder, continuedUnder, expected) => {
      server = await FakeSwfServer.start({ domains: [DOMAIN], executions: executions() });
      const { sent, jobs, chunk } = collector();
      const env = (policy: string | undefined): Env =>
        policy === undefined ? slow : { ...slow, DEFAULT_CHILD_POLICY: policy };
      const first = bulkHandler(server, env(acceptedUnder), { jobs });
      await first.handler({ domain: DOMAIN, executions: listOf(6) }, clockChecks(3));
      expect(sent).toHaveLength(1);

      const later = bulkHandler(server, env(continuedUnder), { jobs });
      await later.handler(chunk(sent[0]), { awsRequestId: 'req-2' });

      expect(server.terminations).toHaveLength(6);
      expect(server.terminations.map((t) => t.childPolicy)).toEqual(Array(6).fill(expected));
    },
  );

  test('the job keeps the limit it was accepted under (a lowered ceiling stops it, refusing)', async () => {
    server = await FakeSwfServer.start({ domains: [DOMAIN], executions: executions() });
    const { sent, jobs, chunk } = collector();
    const first = bulkHandler(server, slow, { jobs });
    await first.handler({ domain: DOMAIN, executions: listOf(6) }, clockChecks(3));
    const done = server.terminations.length;

    const lowered = bulkHandler(server, { ...slow, MAX_EXECUTIONS: '5' }, { jobs });
    await expect(lowered.handler(chunk(sent[0]), { awsRequestId: 'req-2' })).rejects.toThrow(
      /MAX_EXECUTIONS/,
    );
    expect(server.terminations).toHaveLength(done);
  });
});

describe("a job's chunk is validated exactly like a request", () => {
  const swf = mockedSwf();
  // Requests a chunk must refuse: not RequestWire, by design.
  const body = (request: Record<string, unknown>) =>
    jobStateFixture({
      request: request as unknown as RequestWire,
      acceptedUnder: { dryRun: false, maxExecutions: 2 },
      totals: NO_TOTALS,
      chunks: 0,
    });
  /** A handler whose jobs port knows the job `evt-1` (running), and the event of its chunk. */
  async function chunkRig(state: JobState) {
    const { jobs, chunk } = collector();
    await jobs.start(state);
    const { raw } = makeHandler({ env: { MAX_EXECUTIONS: '2' }, deps: { jobs } });
    return { handler: raw, event: chunk(state) };
  }

  test('a selector chunk over the ceiling is refused before anything is terminated', async () => {
    const matches = [1, 2, 3, 4, 5].map((i) => info(`wf-${i}`, `r-${i}`, { tags: ['t'] }));
    swf().on(CountOpenWorkflowExecutionsCommand).resolves({ count: 5, truncated: false });
    swf().on(ListOpenWorkflowExecutionsCommand).resolves({ executionInfos: matches });
    swf().on(TerminateWorkflowExecutionCommand).resolves({});
    const { handler, event } = await chunkRig(body({ domain: DOMAIN, selector: { tag: 't' } }));

    await expect(handler(event, context)).rejects.toThrow(TooManyExecutionsError);
    expect(swf().commandCalls(TerminateWorkflowExecutionCommand)).toHaveLength(0);
  });

  test('an unknown key inside the carried request, __proto__ included, is refused', async () => {
    const rig = await chunkRig(body({ domain: DOMAIN, selector: { tag: 't' } }));
    const raw = JSON.stringify(rig.event).replace('"selector":', '"__proto__":{"dryRun":true},"selector":');
    const event = JSON.parse(raw) as unknown;
    const handler = rig.handler;

    const refusal = handler(event, context);
    await expect(refusal).rejects.toThrow(InvalidRequestError);
    await expect(refusal).rejects.toThrow(/__proto__/);
    expect(swf().calls()).toHaveLength(0);
  });
});
