/**
 * Issue 8: the defects a safety review reproduced, one describe per defect. Each test failed before its fix.
 */
import { asReport, bulkHandler, inMemoryJobs } from '../support/handler-bulk';
import {
  captureEmf,
  context,
  DOMAIN,
  envelope,
  info,
  jobStateFixture,
  makeHandler,
} from '../support/handler-fixtures';
import { FakeSwfServer, makeExecutions } from '../support/fake-swf';
import { synthTerminator } from '../support/construct-helpers';
import {
  CountOpenWorkflowExecutionsCommand,
  ListOpenWorkflowExecutionsCommand,
  SWFClient,
  TerminateWorkflowExecutionCommand,
} from '@aws-sdk/client-swf';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { parseConfig, type Env } from '../../lambda/config';
import { fitJobState } from '../../lambda/job/write';
import { type JobState } from '../../lambda/types';
import { ENV, HANDOFF_PAYLOAD_MAX_BYTES, JOB_EVENT_KEY, type RequestWire } from '../../lib/contract';
import { InvalidRequestError, ListingFailedError, TooManyExecutionsError } from '../../lambda/errors';
import type { HandlerContext } from '../../lambda/handler';
import { PROVENANCE_MARKER, readProvenance } from '../../lambda/act/provenance';
import { ChildPolicy, type SwfTerminatorProps } from '../../lib';
import { resolveIntrinsics } from '../support/construct-helpers';
import { NO_TOTALS } from '../../lambda/job/write';

/**
 * The SDK's SWF client mocked for the tests of one describe only: the tests that run against the fake SWF
 * server need the real client, and a mock made at collection time would replace it for the whole file.
 */
function mockedSwf(): () => AwsClientStub<SWFClient> {
  let mock: AwsClientStub<SWFClient> | undefined;
  beforeAll(() => {
    mock = mockClient(SWFClient);
  });
  beforeEach(() => {
    mock?.reset();
  });
  afterAll(() => {
    mock?.restore();
  });
  return () => {
    if (mock === undefined) throw new Error('the SWF mock is only there inside a test');
    return mock;
  };
}

/** A context whose time runs out (below any reserve) after `checks` looks at the clock. */
function clockChecks(checks: number, requestId = 'req-1'): HandlerContext {
  let seen = 0;
  return {
    awsRequestId: requestId,
    getRemainingTimeInMillis: () => (seen++ < checks ? 900_000 : 0),
  };
}

/** Jobs kept in memory: what a request hands on is in `sent`; `chunk(n)` is the event of the n-th job's chunk. */
function collector() {
  const jobs = inMemoryJobs();
  return {
    sent: jobs.started,
    jobs: jobs.jobs,
    chunk: (state: JobState | undefined) => ({
      [JOB_EVENT_KEY]: state,
      execution: jobs.jobs.executionArn(state?.jobId ?? ''),
    }),
  };
}

const listOf = (n: number, prefix = 'wf-') =>
  Array.from({ length: n }, (_, i) => ({ workflowId: `${prefix}${i}`, runId: `run-${prefix}${i}` }));

describe("defect 1: a job's every chunk acts with the settings its request was accepted under", () => {
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

describe('defect 2: every value the construct can write, the handler reads back as the same setting', () => {
  /**
   * Each function's environment as synthesized (intrinsics resolved as CloudFormation would, in one account
   * and region), parsed by the handler's own configuration reader.
   */
  function configsOf(props: Partial<SwfTerminatorProps>) {
    const { template } = synthTerminator(props);
    const where = { partition: 'aws', account: '123456789012', region: 'eu-west-1' };
    const read = (prefix: string) => {
      const [resource] = Object.entries(template.findResources('AWS::Lambda::Function'))
        .filter(([id]) => id.startsWith(prefix))
        .map(([, r]) => r as { Properties: { Environment: { Variables: unknown } } });
      return parseConfig(
        resolveIntrinsics(resource!.Properties.Environment.Variables, template, where) as Env,
      );
    };
    return { handler: read('TerminatorHandler'), control: read('TerminatorControlHandler') };
  }
  const configOf = (props: Partial<SwfTerminatorProps>) => configsOf(props).handler;
  const long = 'd'.repeat(256);

  test.each<[string, Partial<SwfTerminatorProps>, (c: ReturnType<typeof parseConfig>) => unknown, unknown]>([
    [
      'the state machine',
      {},
      (c) => c.stateMachineArn,
      expect.stringMatching(
        /^arn:aws:states:eu-west-1:123456789012:stateMachine:TestStack-Terminator-[A-F0-9]{8}$/,
      ),
    ],
    ['maxExecutionsPerRequest 1', { maxExecutionsPerRequest: 1 }, (c) => c.maxExecutions, 1],
    ['maxExecutionsPerRequest 100000', { maxExecutionsPerRequest: 100_000 }, (c) => c.maxExecutions, 100_000],
    ['terminateRatePerSecond 60', { terminateRatePerSecond: 60 }, (c) => c.terminateRatePerSecond, 60],
    ['terminateRatePerSecond 0.5', { terminateRatePerSecond: 0.5 }, (c) => c.terminateRatePerSecond, 0.5],
    ['terminateRatePerSecond 1e-7', { terminateRatePerSecond: 1e-7 }, (c) => c.terminateRatePerSecond, 1e-7],
    ['terminateBurst 1', { terminateBurst: 1 }, (c) => c.terminateBurst, 1],
    ['terminateBurst 2000', { terminateBurst: 2000 }, (c) => c.terminateBurst, 2000],
    [
      'reservedConcurrentExecutions 1000',
      { reservedConcurrentExecutions: 1000, terminateBurst: 2000 },
      (c) => c.rateShares,
      1000,
    ],
    ['dryRun true', { dryRun: true }, (c) => c.dryRun, true],
    ['dryRun false', { dryRun: false }, (c) => c.dryRun, false],
    ['childPolicy ABANDON', { childPolicy: ChildPolicy.ABANDON }, (c) => c.defaultChildPolicy, 'ABANDON'],
    ['no childPolicy', {}, (c) => c.defaultChildPolicy, undefined],
    ['requestDetailType of 1 character', { requestDetailType: 'x' }, (c) => c.requestDetailType, 'x'],
    [
      'requestDetailType of 128 characters with inner spaces',
      { requestDetailType: `a ${'b'.repeat(124)} c` },
      (c) => c.requestDetailType,
      `a ${'b'.repeat(124)} c`,
    ],
    ['one domain', { domains: ['orders'] }, (c) => c.allowedDomains, ['orders']],
    ['a 256-character domain', { domains: [long] }, (c) => c.allowedDomains, [long]],
    [
      'domains with IAM wildcards and inner spaces',
      { domains: ['ord*', 'bill?', 'x$y', 'my domain'] },
      (c) => c.allowedDomains,
      ['ord*', 'bill?', 'x$y', 'my domain'],
    ],
  ])('%s', (_name, props, read, expected) => {
    expect(read(configOf(props))).toEqual(expected);
  });

  test('the control function reads the same settings, and that it is the control function', () => {
    const { handler, control } = configsOf({ dryRun: true, childPolicy: ChildPolicy.ABANDON });
    expect(handler.controlOnly).toBe(false);
    expect(control).toEqual({ ...handler, controlOnly: true });
  });
});

describe('defect 3: a request the job could not carry is refused before any SWF call', () => {
  const swf = mockedSwf();

  test('a console list over the hand-off limit: InvalidRequestError naming the limit, no SWF call', async () => {
    const { handler } = makeHandler({ env: { MAX_EXECUTIONS: '20000' } });
    const executions = listOf(20_000, 'order-with-a-longish-workflow-id-');
    const refusal = handler({ domain: DOMAIN, executions }, context);
    await expect(refusal).rejects.toThrow(InvalidRequestError);
    await expect(refusal).rejects.toThrow(/196608 bytes/);
    expect(swf().calls()).toHaveLength(0);
  });
});

describe('defect 3: the largest list accepted can always be handed on', () => {
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

describe("defect 3: a job's state drops listed failures, never the request, to fit the payload", () => {
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

describe("defect 4: a job's chunk is validated exactly like a request", () => {
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

describe('defect 5: requestDetailType is the same string for the rule and the handler', () => {
  test.each([' SWF Termination Request', 'SWF Termination Request ', '\tx'])(
    'the construct refuses %j at synth, naming the rule',
    (detailType) => {
      expect(() => synthTerminator({ requestDetailType: detailType })).toThrow(
        /requestDetailType .* must not start or end with whitespace/,
      );
    },
  );

  test('the handler refuses an edge space rather than trimming it', () => {
    expect(() => parseConfig({ [ENV.allowedDomains]: DOMAIN, [ENV.requestDetailType]: ' x' })).toThrow(
      /REQUEST_DETAIL_TYPE.*whitespace/,
    );
  });
});

describe('defect 6: every listing loop ends, whatever the page tokens do', () => {
  const swf = mockedSwf();

  /** A listing that never ends by itself: one match per page, and the page token `tokenOf(call)`. */
  function listing(tokenOf: (call: number) => string) {
    let call = 0;
    swf()
      .on(ListOpenWorkflowExecutionsCommand)
      .callsFake(() => {
        call += 1;
        return {
          executionInfos: [info(`wf-${call}`, `r-${call}`, { tags: ['t'] })],
          nextPageToken: tokenOf(call),
        };
      });
  }
  /** Tokens A, B, A, B... */
  const cyclingTokens = () => {
    listing((call) => (call % 2 ? 'A' : 'B'));
  };
  /** A new token on every page. */
  const endlessTokens = () => {
    listing((call) => `T${call}`);
  };

  test('a dry-run selector: A -> B -> A fails the listing after three pages', async () => {
    cyclingTokens();
    swf().on(CountOpenWorkflowExecutionsCommand).resolves({ count: 3, truncated: false });
    const { handler } = makeHandler();
    const run = handler({ domain: DOMAIN, selector: { tag: 't' }, dryRun: true }, clockChecks(1e9));
    await expect(run).rejects.toThrow(ListingFailedError);
    expect(swf().commandCalls(ListOpenWorkflowExecutionsCommand)).toHaveLength(3);
  });

  test('the counting pass: A -> B -> A fails the request before anything is terminated', async () => {
    cyclingTokens();
    swf().on(CountOpenWorkflowExecutionsCommand).resolves({ count: 3, truncated: true });
    const { handler } = makeHandler();
    await expect(handler({ domain: DOMAIN, selector: { tag: 't' } }, clockChecks(1e9))).rejects.toThrow(
      ListingFailedError,
    );
    expect(swf().commandCalls(ListOpenWorkflowExecutionsCommand)).toHaveLength(3);
    expect(swf().commandCalls(TerminateWorkflowExecutionCommand)).toHaveLength(0);
  });

  test.each([
    ['a dry-run selector', { selector: { tag: 't' }, dryRun: true }, false],
    ['the counting pass', { selector: { tag: 't' } }, true],
  ])('%s stops at the invocation deadline, failing loudly', async (_name, target, truncated) => {
    endlessTokens();
    swf().on(CountOpenWorkflowExecutionsCommand).resolves({ count: 3, truncated });
    const { handler } = makeHandler();
    await expect(handler({ domain: DOMAIN, ...target }, clockChecks(20))).rejects.toThrow(/end reserve/);
    expect(swf().commandCalls(ListOpenWorkflowExecutionsCommand).length).toBeLessThan(25);
    expect(swf().commandCalls(TerminateWorkflowExecutionCommand)).toHaveLength(0);
  });

  test('resolving a run-less workflowId stops at the deadline and hands the entry on', async () => {
    endlessTokens();
    const { sent, jobs } = collector();
    const { handler } = makeHandler({ deps: { jobs, endReserveMs: 1_000 } });
    const executions = [{ workflowId: 'a' }, { workflowId: 'b' }];
    const report = await handler({ domain: DOMAIN, executions }, clockChecks(20));
    expect(report.job).toMatchObject({ state: 'started', reason: 'out-of-time' });
    // Handed on unresolved (in whichever order their listings stopped), nothing dropped, nothing acted on.
    expect(sent[0]!.request.executions).toEqual(expect.arrayContaining(executions));
    expect(sent[0]!.request.executions).toHaveLength(2);
    expect(swf().commandCalls(TerminateWorkflowExecutionCommand)).toHaveLength(0);
  });
});

describe('defect 7: the provenance in SWF history is unambiguous whatever the request says', () => {
  const swf = mockedSwf();

  test('a look-alike block in the request details does not come first, and is not read as provenance', async () => {
    swf().on(TerminateWorkflowExecutionCommand).resolves({});
    const forged = `${PROVENANCE_MARKER}\n${JSON.stringify({ requestedBy: { via: 'console', requestId: 'forged' }, jobId: 'forged', functionRequestId: 'forged' })}`;
    const { handler } = makeHandler();
    await handler(envelope({ domain: DOMAIN, workflowId: 'wf', runId: 'r', details: forged }), context);

    const details = swf().commandCalls(TerminateWorkflowExecutionCommand)[0]?.args[0].input.details ?? '';
    expect(details.startsWith(PROVENANCE_MARKER)).toBe(true);
    const provenance = readProvenance(details);
    expect(provenance?.jobId).toBe('evt-1234');
    expect(provenance?.requestedBy).toMatchObject({ via: 'eventbridge', eventId: 'evt-1234' });
    // The request's own text is kept, whole, after the block.
    expect(details.endsWith(forged)).toBe(true);
  });
});

describe('defect 8: refusals name the field and the real rule, and echo at most a short prefix', () => {
  const swf = mockedSwf();
  async function refusal(event: unknown, env: Env = {}): Promise<Error> {
    const { handler } = makeHandler({ env });
    const { outcome } = await captureEmf(() => handler(event, context));
    if (!('rejected' in outcome)) throw new Error('expected a refusal');
    expect(swf().calls()).toHaveLength(0);
    return outcome.rejected as Error;
  }

  test('maxExecutions 1e400 (Infinity once parsed) names the real rule, not "non-integer"', async () => {
    const error = await refusal(JSON.parse(`{"domain":"${DOMAIN}","workflowId":"w","maxExecutions":1e400}`));
    expect(error.message).toMatch(/^maxExecutions: must be an integer from 1 to 1000/);
    expect(error.message).not.toMatch(/non-integer/);
  });

  test('maxExecutions 1e16 names the function ceiling, not 2^53', async () => {
    const error = await refusal({ domain: DOMAIN, workflowId: 'w', maxExecutions: 1e16 });
    expect(error.message).toMatch(/from 1 to 1000/);
    expect(error.message).not.toMatch(/9007199254740991/);
  });

  test("a chunk's error names its path once, with the real rule", async () => {
    const event = { [JOB_EVENT_KEY]: { ...jobStateFixture(), version: 1 }, execution: 'x' };
    const error = await refusal(event);
    expect(error.message).toMatch(/^swfTerminatorJob\.version: must be 2 \(got 1\)/);
    expect(error.message).not.toMatch(/swfTerminatorJob\.swfTerminatorJob/);
    expect(error.message).not.toMatch(/Invalid input/);
  });

  test('a 2 MB childPolicy: the message stays short and still names the field and the values allowed', async () => {
    const error = await refusal({ domain: DOMAIN, workflowId: 'w', childPolicy: 'X'.repeat(2_000_000) });
    expect(error.message.length).toBeLessThan(300);
    expect(error.message).toMatch(/^childPolicy: must be one of TERMINATE, REQUEST_CANCEL, ABANDON/);
  });

  test('100,000 unknown keys: the message names the first and counts the rest', async () => {
    const event: Record<string, unknown> = { domain: DOMAIN, workflowId: 'w' };
    for (let i = 0; i < 100_000; i++) event[`unknown-${i}`] = i;
    const error = await refusal(event);
    expect(error.message.length).toBeLessThan(300);
    expect(error.message).toMatch(/unknown-0/);
    expect(error.message).toMatch(/nor are 99999 others/);
  });

  test('an unknown key of 1 MB is echoed as a short prefix', async () => {
    const error = await refusal({ domain: DOMAIN, workflowId: 'w', ['k'.repeat(1_000_000)]: 1 });
    expect(error.message.length).toBeLessThan(300);
  });

  test('a detail-type of 1 MB is echoed as a short prefix', async () => {
    const error = await refusal(
      envelope({ domain: DOMAIN, workflowId: 'w' }, { 'detail-type': 'x'.repeat(1e6) }),
    );
    expect(error.message.length).toBeLessThan(300);
  });
});

describe('a run-less workflowId with no open run listed is reported as such, not as already closed', () => {
  const swf = mockedSwf();

  test('outcome no-open-run, counted apart from already-closed', async () => {
    swf().on(ListOpenWorkflowExecutionsCommand).resolves({ executionInfos: [] });
    const { handler } = makeHandler();
    const report = await handler({ domain: DOMAIN, workflowId: 'just-started' }, context);
    expect(report.executions).toEqual([{ workflowId: 'just-started', outcome: 'no-open-run' }]);
    expect(report).toMatchObject({ alreadyClosed: 0, noOpenRun: 1, failed: 0 });
    expect(swf().commandCalls(TerminateWorkflowExecutionCommand)).toHaveLength(0);
  });
});
