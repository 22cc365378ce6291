import {
  makeHandler,
  context,
  envelope,
  info,
  captureEmf,
  DOMAIN,
  EVENT_TIME,
} from '../../support/handler-fixtures';
import {
  CountOpenWorkflowExecutionsCommand,
  ListOpenWorkflowExecutionsCommand,
  OperationNotPermittedFault,
  SWFClient,
  TerminateWorkflowExecutionCommand,
  UnknownResourceFault,
} from '@aws-sdk/client-swf';
import { mockClient } from 'aws-sdk-client-mock';
import { DEFAULT_REASON, LIMITS, METRIC } from '../../../lib/contract';
import {
  DomainNotAllowedError,
  ListingFailedError,
  TerminationFailedError,
  TooManyExecutionsError,
  InvalidRequestError,
} from '../../../lambda/errors';
import { PROVENANCE_MARKER } from '../../../lambda/job/provenance';
import { handler as moduleHandler } from '../../../lambda/handler';
import { listOf } from '../../support/job-rig';

const swf = mockClient(SWFClient);

beforeEach(() => {
  swf.reset();
});

const unknownExecution = () =>
  new UnknownResourceFault({
    message: 'Unknown execution: WorkflowExecution=[workflowId=wf-1, runId=run-1]',
    $metadata: {},
  });
const unknownDomain = () => new UnknownResourceFault({ message: 'Unknown domain: orders', $metadata: {} });
const notPermitted = () =>
  new OperationNotPermittedFault({ message: 'User is not authorized', $metadata: {} });

function terminateInputs() {
  return swf.commandCalls(TerminateWorkflowExecutionCommand).map((c) => c.args[0].input);
}

describe('outcomes', () => {
  test('GIVEN an open run WHEN terminated THEN the report says terminated', async () => {
    swf.on(TerminateWorkflowExecutionCommand).resolves({});
    const { handler } = makeHandler();

    const report = await handler({ domain: DOMAIN, workflowId: 'wf-1', runId: 'run-1' }, context);

    expect(report).toEqual({
      dryRun: false,
      matched: 1,
      terminated: 1,
      alreadyClosed: 0,
      noOpenRun: 0,
      noLongerMatches: 0,
      failed: 0,
      cancelRequested: 0,
      wouldCancel: 0,
      executions: [{ workflowId: 'wf-1', runId: 'run-1', outcome: 'terminated' }],
      // Every report names its job (here the console invocation's request id).
      jobId: 'console-req-1',
    });
    expect(terminateInputs()).toEqual([
      expect.objectContaining({ domain: DOMAIN, workflowId: 'wf-1', runId: 'run-1' }),
    ]);
  });

  test('UnknownResourceFault for the execution is already-closed, not an error', async () => {
    swf.on(TerminateWorkflowExecutionCommand).rejects(unknownExecution());
    const { handler } = makeHandler();

    const report = await handler({ domain: DOMAIN, workflowId: 'wf-1', runId: 'run-1' }, context);

    expect(report.alreadyClosed).toBe(1);
    expect(report.failed).toBe(0);
    expect(report.executions).toEqual([{ workflowId: 'wf-1', runId: 'run-1', outcome: 'already-closed' }]);
  });

  test('UnknownResourceFault for the domain fails and the invocation throws', async () => {
    swf.on(TerminateWorkflowExecutionCommand).rejects(unknownDomain());
    const { handler } = makeHandler();

    const run = handler({ domain: DOMAIN, workflowId: 'wf-1', runId: 'run-1' }, context);

    await expect(run).rejects.toThrow(TerminationFailedError);
    await expect(run).rejects.toThrow(
      /1 execution\(s\) failed.*wf-1\/run-1: UnknownResourceFault: Unknown domain/,
    );
  });

  test('OperationNotPermittedFault fails and the invocation throws', async () => {
    swf.on(TerminateWorkflowExecutionCommand).rejects(notPermitted());
    const { handler } = makeHandler();

    await expect(handler({ domain: DOMAIN, workflowId: 'wf-1', runId: 'run-1' }, context)).rejects.toThrow(
      /wf-1\/run-1: OperationNotPermittedFault: User is not authorized/,
    );
  });

  test('an error that outlived the retries fails and the invocation throws', async () => {
    swf.on(TerminateWorkflowExecutionCommand).rejects(new Error('socket hang up'));
    const { handler } = makeHandler();

    const error = (await handler({ domain: DOMAIN, workflowId: 'wf-1', runId: 'run-1' }, context).catch(
      (e: unknown) => e,
    )) as TerminationFailedError;

    expect(error).toBeInstanceOf(TerminationFailedError);
    expect(error.failedCount).toBe(1);
    expect(error.failures).toEqual([{ workflowId: 'wf-1', runId: 'run-1', error: 'Error: socket hang up' }]);
  });

  test('a mixed list: every execution is processed, then the invocation throws listing the failures', async () => {
    swf
      .on(TerminateWorkflowExecutionCommand)
      .resolves({})
      .on(TerminateWorkflowExecutionCommand, { workflowId: 'wf-2' })
      .rejects(notPermitted())
      .on(TerminateWorkflowExecutionCommand, { workflowId: 'wf-3' })
      .rejects(unknownExecution())
      .on(TerminateWorkflowExecutionCommand, { workflowId: 'wf-5' })
      .rejects(new Error('boom'));
    const { handler } = makeHandler();
    const executions = ['wf-1', 'wf-2', 'wf-3', 'wf-4', 'wf-5'].map((w) => ({
      workflowId: w,
      runId: `r-${w}`,
    }));

    const error = (await handler({ domain: DOMAIN, executions }, context).catch(
      (e: unknown) => e,
    )) as TerminationFailedError;

    expect(error).toBeInstanceOf(TerminationFailedError);
    expect(
      terminateInputs()
        .map((i) => i.workflowId)
        .sort(),
    ).toEqual(['wf-1', 'wf-2', 'wf-3', 'wf-4', 'wf-5']);
    expect(error.failures.map((f) => f.workflowId).sort()).toEqual(['wf-2', 'wf-5']);
    expect(error.message).toMatch(/^2 execution\(s\) failed to terminate: /);
    expect(error.message).toContain('wf-2/r-wf-2: OperationNotPermittedFault');
    expect(error.message).toContain('wf-5/r-wf-5: Error: boom');
  });
});

describe('dry run', () => {
  test('a dry-run request makes no terminate call', async () => {
    swf.on(TerminateWorkflowExecutionCommand).resolves({});
    const { handler } = makeHandler();

    const report = await handler(
      {
        domain: DOMAIN,
        executions: [
          { workflowId: 'a', runId: 'r1' },
          { workflowId: 'b', runId: 'r2' },
        ],
        dryRun: true,
      },
      context,
    );

    expect(swf.commandCalls(TerminateWorkflowExecutionCommand)).toHaveLength(0);
    expect(report.dryRun).toBe(true);
    expect(report.matched).toBe(2);
    expect(report.terminated).toBe(0);
    expect(report.executions.map((e) => e.outcome)).toEqual(['would-terminate', 'would-terminate']);
  });

  test('DRY_RUN=true forces preview even when the request says dryRun: false', async () => {
    swf.on(TerminateWorkflowExecutionCommand).resolves({});
    const { handler } = makeHandler({ env: { DRY_RUN: 'true' } });

    const report = await handler({ domain: DOMAIN, workflowId: 'a', runId: 'r1', dryRun: false }, context);

    expect(swf.commandCalls(TerminateWorkflowExecutionCommand)).toHaveLength(0);
    expect(report).toMatchObject({ dryRun: true, matched: 1, terminated: 0 });
  });

  test('a dry-run selector lists but never terminates, and reports each run as listed', async () => {
    swf
      .on(ListOpenWorkflowExecutionsCommand)
      .resolves({ executionInfos: [info('a', 'r1', { tags: ['batch-7'] })] });
    const { handler } = makeHandler();

    const report = await handler({ domain: DOMAIN, selector: { tag: 'batch-7' }, dryRun: true }, context);

    expect(swf.commandCalls(TerminateWorkflowExecutionCommand)).toHaveLength(0);
    expect(report.executions).toEqual([
      {
        workflowId: 'a',
        runId: 'r1',
        outcome: 'would-terminate',
        seen: {
          workflowType: { name: 'OrderFlow', version: '1' },
          startedAt: '2025-05-01T00:00:00.000Z',
          tags: ['batch-7'],
        },
      },
    ]);
  });
});

describe('what SWF records: reason, details, childPolicy', () => {
  beforeEach(() => {
    swf.on(TerminateWorkflowExecutionCommand).resolves({});
  });

  test('an EventBridge request records the event id, source, account and time before its own details', async () => {
    const { handler } = makeHandler();

    await handler(
      envelope({ domain: DOMAIN, workflowId: 'wf-1', runId: 'run-1', details: 'INC-42: stuck batch' }),
      { awsRequestId: 'lambda-req-9' },
    );

    const [input] = terminateInputs();
    const details = input?.details ?? '';
    expect(details.startsWith(`${PROVENANCE_MARKER}\n`)).toBe(true);
    expect(details.endsWith('\n\nINC-42: stuck batch')).toBe(true);
    const block = JSON.parse(details.split('\n')[1]!);
    expect(block).toEqual({
      requestedBy: {
        via: 'eventbridge',
        eventId: 'evt-1234',
        source: 'ops.incident',
        account: '123456789012',
        time: EVENT_TIME,
      },
      jobId: 'evt-1234',
      functionRequestId: 'lambda-req-9',
    });
  });

  test('a console request records the invocation request id', async () => {
    const { handler } = makeHandler();

    await handler({ domain: DOMAIN, workflowId: 'wf-1', runId: 'run-1' }, { awsRequestId: 'console-abc' });

    const details = terminateInputs()[0]?.details ?? '';
    expect(details.startsWith(PROVENANCE_MARKER)).toBe(true);
    expect(JSON.parse(details.slice(PROVENANCE_MARKER.length + 1))).toEqual({
      requestedBy: { via: 'console', requestId: 'console-abc' },
      jobId: 'console-abc',
      functionRequestId: 'console-abc',
    });
  });

  test('details at the maximum length plus provenance stay within SWF limit', async () => {
    const { handler } = makeHandler();
    const longSource = 'x'.repeat(256);

    await handler(
      envelope(
        { domain: DOMAIN, workflowId: 'wf-1', runId: 'run-1', details: 'd'.repeat(LIMITS.detailsMax - 1024) },
        { source: longSource, id: '"\\'.repeat(128) },
      ),
      context,
    );

    const details = terminateInputs()[0]?.details ?? '';
    expect(details.length).toBeLessThanOrEqual(LIMITS.detailsMax);
    expect(details.endsWith('d'.repeat(LIMITS.detailsMax - 1024))).toBe(true);
  });

  test('the default reason names the terminator; a request reason is used as given', async () => {
    const { handler } = makeHandler();

    await handler({ domain: DOMAIN, workflowId: 'wf-1', runId: 'run-1' }, context);
    await handler(
      { domain: DOMAIN, workflowId: 'wf-2', runId: 'run-2', reason: 'bad deploy 2025-06-01' },
      context,
    );

    expect(terminateInputs().map((i) => i.reason)).toEqual([DEFAULT_REASON, 'bad deploy 2025-06-01']);
    expect(DEFAULT_REASON).toMatch(/cdk-swf-terminator/);
  });

  test.each([
    { env: {}, request: {}, expected: undefined },
    { env: { DEFAULT_CHILD_POLICY: 'ABANDON' }, request: {}, expected: 'ABANDON' },
    {
      env: { DEFAULT_CHILD_POLICY: 'ABANDON' },
      request: { childPolicy: 'REQUEST_CANCEL' },
      expected: 'REQUEST_CANCEL',
    },
    { env: {}, request: { childPolicy: 'TERMINATE' }, expected: 'TERMINATE' },
  ])(
    'childPolicy: request > DEFAULT_CHILD_POLICY > omitted ($env, $request)',
    async ({ env, request, expected }) => {
      const { handler } = makeHandler({ env });

      await handler({ domain: DOMAIN, workflowId: 'wf-1', runId: 'run-1', ...request }, context);

      const [input] = terminateInputs();
      expect(input?.childPolicy).toBe(expected);
      expect(input !== undefined && 'childPolicy' in input).toBe(expected !== undefined);
    },
  );
});

describe('a workflowId without runId', () => {
  test('resolves the current open run (started before the request) and terminates exactly that run', async () => {
    swf.on(ListOpenWorkflowExecutionsCommand).resolves({ executionInfos: [info('wf-1', 'run-current')] });
    swf.on(TerminateWorkflowExecutionCommand).resolves({});
    const { handler } = makeHandler();

    const report = await handler(envelope({ domain: DOMAIN, workflowId: 'wf-1' }), context);

    const [list] = swf.commandCalls(ListOpenWorkflowExecutionsCommand).map((c) => c.args[0].input);
    expect(list).toEqual({
      domain: DOMAIN,
      executionFilter: { workflowId: 'wf-1' },
      // EVENT_TIME is stated to the second: the request time is that second's last millisecond.
      startTimeFilter: { oldestDate: new Date(0), latestDate: new Date(Date.parse(EVENT_TIME) + 999) },
      maximumPageSize: 1000,
    });
    expect(terminateInputs()).toEqual([
      expect.objectContaining({ workflowId: 'wf-1', runId: 'run-current' }),
    ]);
    expect(report.executions).toEqual([{ workflowId: 'wf-1', runId: 'run-current', outcome: 'terminated' }]);
  });

  test('no open run: no-open-run and no terminate call', async () => {
    swf.on(ListOpenWorkflowExecutionsCommand).resolves({ executionInfos: [] });
    const { handler } = makeHandler();

    const report = await handler({ domain: DOMAIN, workflowId: 'wf-1' }, context);

    expect(swf.commandCalls(TerminateWorkflowExecutionCommand)).toHaveLength(0);
    expect(report).toMatchObject({
      matched: 1,
      alreadyClosed: 0,
      noOpenRun: 1,
      executions: [{ workflowId: 'wf-1', outcome: 'no-open-run' }],
    });
  });

  test('a run started after the request (a re-delivered event) is never terminated', async () => {
    swf.on(ListOpenWorkflowExecutionsCommand).resolves({
      executionInfos: [info('wf-1', 'run-newer', { start: new Date('2025-06-01T11:59:30Z') })],
    });
    const { handler } = makeHandler();

    const report = await handler(envelope({ domain: DOMAIN, workflowId: 'wf-1' }), context);

    expect(swf.commandCalls(TerminateWorkflowExecutionCommand)).toHaveLength(0);
    expect(report.noOpenRun).toBe(1);
  });

  test('EventBridge time has one-second precision: a run started earlier within that second is terminated', async () => {
    // PutEvents at 10:00:00.700 yields time "10:00:00Z"; the current run started at 10:00:00.400.
    swf.on(ListOpenWorkflowExecutionsCommand).resolves({
      executionInfos: [
        info('wf-1', 'run-next-second', { start: new Date('2026-11-25T10:00:01.000Z') }),
        info('wf-1', 'run-same-second', { start: new Date('2026-11-25T10:00:00.400Z') }),
      ],
    });
    swf.on(TerminateWorkflowExecutionCommand).resolves({});
    const { handler } = makeHandler({ now: () => new Date('2026-11-25T10:00:05.000Z') });

    const report = await handler(
      envelope({ domain: DOMAIN, workflowId: 'wf-1' }, { time: '2026-11-25T10:00:00Z' }),
      context,
    );

    expect(report.executions).toEqual([
      { workflowId: 'wf-1', runId: 'run-same-second', outcome: 'terminated' },
    ]);
    expect(terminateInputs().map((i) => i.runId)).toEqual(['run-same-second']);
    const [list] = swf.commandCalls(ListOpenWorkflowExecutionsCommand).map((c) => c.args[0].input);
    expect(list?.startTimeFilter).toEqual({
      oldestDate: new Date(0),
      latestDate: new Date('2026-11-25T10:00:00.999Z'),
    });
  });

  test('the end of the stated second is capped at the invocation time', async () => {
    // A listing that returns a run started after the invocation began (impossible, or a faulty endpoint).
    swf.on(ListOpenWorkflowExecutionsCommand).resolves({
      executionInfos: [info('wf-1', 'run-later', { start: new Date('2026-11-25T10:00:00.400Z') })],
    });
    const { handler } = makeHandler({ now: () => new Date('2026-11-25T10:00:00.250Z') });

    const report = await handler(
      envelope({ domain: DOMAIN, workflowId: 'wf-1' }, { time: '2026-11-25T10:00:00Z' }),
      context,
    );

    expect(swf.commandCalls(TerminateWorkflowExecutionCommand)).toHaveLength(0);
    expect(report.executions).toEqual([{ workflowId: 'wf-1', outcome: 'no-open-run' }]);
    const [list] = swf.commandCalls(ListOpenWorkflowExecutionsCommand).map((c) => c.args[0].input);
    expect(list?.startTimeFilter?.latestDate).toEqual(new Date('2026-11-25T10:00:00.250Z'));
  });

  test('in a list, runless entries are resolved; an entry naming the same run is acted on once', async () => {
    swf
      .on(ListOpenWorkflowExecutionsCommand, { executionFilter: { workflowId: 'a' } })
      .resolves({ executionInfos: [info('a', 'ra')] })
      .on(ListOpenWorkflowExecutionsCommand, { executionFilter: { workflowId: 'b' } })
      .resolves({ executionInfos: [] });
    swf.on(TerminateWorkflowExecutionCommand).resolves({});
    const { handler } = makeHandler();

    const report = await handler(
      {
        domain: DOMAIN,
        executions: [{ workflowId: 'a' }, { workflowId: 'a', runId: 'ra' }, { workflowId: 'b' }],
      },
      context,
    );

    expect(terminateInputs().map((i) => [i.workflowId, i.runId])).toEqual([['a', 'ra']]);
    expect(report).toMatchObject({ terminated: 1, alreadyClosed: 0, noOpenRun: 1 });
  });

  test('resolution that fails is a failed execution and the invocation throws', async () => {
    swf.on(ListOpenWorkflowExecutionsCommand).rejects(unknownDomain());
    const { handler } = makeHandler();

    await expect(handler({ domain: DOMAIN, workflowId: 'wf-1' }, context)).rejects.toThrow(
      /wf-1\/\(current run\): resolving the current run failed: UnknownResourceFault: Unknown domain/,
    );
    expect(swf.commandCalls(TerminateWorkflowExecutionCommand)).toHaveLength(0);
  });
});

describe('too many executions: refused before acting', () => {
  test('an explicit list longer than maxExecutions: no SWF call at all', async () => {
    const { handler } = makeHandler();
    const executions = [1, 2, 3].map((i) => ({ workflowId: `wf-${i}`, runId: `r${i}` }));

    const error = (await handler({ domain: DOMAIN, executions, maxExecutions: 2 }, context).catch(
      (e: unknown) => e,
    )) as TooManyExecutionsError;

    expect(error).toBeInstanceOf(TooManyExecutionsError);
    expect(error).toMatchObject({ count: 3, limit: 2 });
    expect(swf.calls()).toHaveLength(0);
  });

  test('an explicit list longer than MAX_EXECUTIONS: no SWF call at all', async () => {
    const { handler } = makeHandler({ env: { MAX_EXECUTIONS: '2' } });
    const executions = [1, 2, 3].map((i) => ({ workflowId: `wf-${i}` }));

    await expect(handler({ domain: DOMAIN, executions }, context)).rejects.toThrow(TooManyExecutionsError);
    expect(swf.calls()).toHaveLength(0);
  });

  test('a selector matching more than maxExecutions: counted across pages, then nothing terminated', async () => {
    swf
      .on(ListOpenWorkflowExecutionsCommand)
      .resolvesOnce({
        executionInfos: [info('a', '1', { tags: ['t'] }), info('b', '2', { tags: ['t'] })],
        nextPageToken: 'p2',
      })
      .resolvesOnce({
        executionInfos: [info('c', '3', { tags: ['t'] }), info('d', '4', { tags: ['other'] })],
      });
    const { handler } = makeHandler();

    const error = (await handler({ domain: DOMAIN, selector: { tag: 't' }, maxExecutions: 2 }, context).catch(
      (e: unknown) => e,
    )) as TooManyExecutionsError;

    expect(error).toBeInstanceOf(TooManyExecutionsError);
    expect(error).toMatchObject({ count: 3, limit: 2 });
    expect(error.message).toMatch(/3 executions.*limit of 2.*nothing was terminated/);
    expect(swf.commandCalls(TerminateWorkflowExecutionCommand)).toHaveLength(0);
  });
});

describe('selector listing failures', () => {
  test('listing that fails refuses to act: ListingFailedError, no terminate call', async () => {
    swf.on(ListOpenWorkflowExecutionsCommand).rejects(unknownDomain());
    const { handler } = makeHandler();

    await expect(handler({ domain: DOMAIN, selector: { tag: 't' } }, context)).rejects.toThrow(
      ListingFailedError,
    );
    expect(swf.commandCalls(TerminateWorkflowExecutionCommand)).toHaveLength(0);
  });
});

describe('metrics (EMF on stdout)', () => {
  function values(docs: Record<string, unknown>[]): Record<string, unknown> {
    return Object.assign({}, ...docs) as Record<string, unknown>;
  }

  test('every invocation publishes Terminated, AlreadyClosed, Failed, WouldTerminate and Rejected', async () => {
    swf
      .on(TerminateWorkflowExecutionCommand)
      .resolves({})
      .on(TerminateWorkflowExecutionCommand, { workflowId: 'b' })
      .rejects(unknownExecution())
      .on(TerminateWorkflowExecutionCommand, { workflowId: 'c' })
      .rejects(notPermitted());
    const { handler } = makeHandler();

    const { docs, outcome } = await captureEmf(() =>
      handler(
        { domain: DOMAIN, executions: ['a', 'b', 'c'].map((w) => ({ workflowId: w, runId: `r-${w}` })) },
        context,
      ),
    );

    // c failed, so the invocation throws (after publishing the metrics), naming it.
    expect(outcome).toEqual({ rejected: expect.any(TerminationFailedError) });
    expect((outcome as { rejected: TerminationFailedError }).rejected.failures).toEqual([
      expect.objectContaining({ workflowId: 'c', runId: 'r-c' }),
    ]);
    expect(docs).toHaveLength(1);
    const doc = values(docs);
    expect(doc).toMatchObject({
      [METRIC.terminated]: 1,
      [METRIC.alreadyClosed]: 1,
      [METRIC.failed]: 1,
      [METRIC.wouldTerminate]: 0,
      [METRIC.rejected]: 0,
      service: 'swf-terminator-test',
    });
    const aws = doc._aws as { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string }[] }[] };
    expect(aws.CloudWatchMetrics[0]?.Namespace).toBe('SwfTerminator');
    expect(aws.CloudWatchMetrics[0]?.Metrics.map((m) => m.Name).sort()).toEqual(
      Object.values(METRIC).slice().sort(),
    );
  });

  test('a refused request publishes Rejected = 1', async () => {
    const { handler } = makeHandler();

    const { docs, outcome } = await captureEmf(() =>
      handler({ domain: 'not-allowed', workflowId: 'x' }, context),
    );

    expect(outcome).toEqual({ rejected: expect.any(DomainNotAllowedError) });
    expect(swf.calls()).toHaveLength(0);
    expect(values(docs)).toMatchObject({ [METRIC.rejected]: 1, [METRIC.terminated]: 0 });
  });

  test('a dry run publishes WouldTerminate', async () => {
    const { handler } = makeHandler();

    const { docs, outcome } = await captureEmf(() =>
      handler({ domain: DOMAIN, workflowId: 'a', runId: 'r', dryRun: true }, context),
    );

    expect(outcome).toEqual({
      resolved: expect.objectContaining({
        dryRun: true,
        matched: 1,
        terminated: 0,
        executions: [{ workflowId: 'a', runId: 'r', outcome: 'would-terminate' }],
      }),
    });
    expect(swf.calls()).toHaveLength(0);
    expect(values(docs)).toMatchObject({ [METRIC.wouldTerminate]: 1, [METRIC.terminated]: 0 });
  });
});

describe('report', () => {
  test('more than 1000 executions: the list is truncated and flagged, the counts stay exact', async () => {
    const infos = Array.from({ length: 1005 }, (_, i) => info(`wf-${i}`, `r-${i}`, { tags: ['t'] }));
    // A selector is counted first (CountOpenWorkflowExecutions), then listed while terminating.
    swf.on(CountOpenWorkflowExecutionsCommand).resolves({ count: 1005, truncated: false });
    swf
      .on(ListOpenWorkflowExecutionsCommand)
      .resolvesOnce({ executionInfos: infos.slice(0, 1000), nextPageToken: 'p2' })
      .resolvesOnce({ executionInfos: infos.slice(1000) });
    swf.on(TerminateWorkflowExecutionCommand).resolves({});
    // Terminations are paced (default 50/s); a fast rate keeps this test about the report.
    const { handler } = makeHandler({
      env: { MAX_EXECUTIONS: '5000', TERMINATE_RATE_PER_SECOND: '100000', TERMINATE_BURST: '100000' },
    });

    const report = await handler({ domain: DOMAIN, selector: { tag: 't' } }, context);

    expect(report.matched).toBe(1005);
    expect(report.terminated).toBe(1005);
    expect(report.executions).toHaveLength(1000);
    expect(report.truncated).toBe(true);
    expect(swf.commandCalls(TerminateWorkflowExecutionCommand)).toHaveLength(1005);
  });

  test('a small report has no truncated flag', async () => {
    swf.on(TerminateWorkflowExecutionCommand).resolves({});
    const { handler } = makeHandler();

    const report = await handler({ domain: DOMAIN, workflowId: 'a', runId: 'r' }, context);

    expect(Object.keys(report).sort()).toEqual([
      'alreadyClosed',
      'cancelRequested',
      'dryRun',
      'executions',
      'failed',
      'jobId',
      'matched',
      'noLongerMatches',
      'noOpenRun',
      'terminated',
      'wouldCancel',
    ]);
  });
});

describe('the module-scope handler', () => {
  test('is wired with the environment and refuses an invalid request before any SWF call', async () => {
    await expect(moduleHandler({ domain: 'orders' }, context)).rejects.toThrow(InvalidRequestError);
    expect(swf.calls()).toHaveLength(0);
  });

  test('terminates through the module-scope SWF client', async () => {
    swf.on(TerminateWorkflowExecutionCommand).resolves({});
    const report = await moduleHandler({ domain: 'billing', workflowId: 'a', runId: 'r' }, context);
    expect(report).toMatchObject({ terminated: 1 });
    // The one call went through the module's own SWF client (every SWFClient instance is mocked here),
    // with the request's identity and the module configuration's domain.
    expect(terminateInputs()).toEqual([
      expect.objectContaining({ domain: 'billing', workflowId: 'a', runId: 'r' }),
    ]);
  });
});

describe('a request the job could not carry is refused before any SWF call', () => {
  test('a console list over the hand-off limit: InvalidRequestError naming the limit, no SWF call', async () => {
    const { handler } = makeHandler({ env: { MAX_EXECUTIONS: '20000' } });
    const executions = listOf(20_000, 'order-with-a-longish-workflow-id-');
    const refusal = handler({ domain: DOMAIN, executions }, context);
    await expect(refusal).rejects.toThrow(InvalidRequestError);
    await expect(refusal).rejects.toThrow(/196608 bytes/);
    expect(swf.calls()).toHaveLength(0);
  });
});
