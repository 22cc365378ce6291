import { makeHandler, context, envelope, info, DOMAIN, EVENT_TIME } from '../../support/handler-fixtures';
import {
  CountOpenWorkflowExecutionsCommand,
  ListOpenWorkflowExecutionsCommand,
  SWFClient,
  TerminateWorkflowExecutionCommand,
  type WorkflowExecutionInfo,
} from '@aws-sdk/client-swf';
import { mockClient } from 'aws-sdk-client-mock';
import { listFilterFor, matchesSelector, startWindow } from '../../../lambda/match/selector';

const swf = mockClient(SWFClient);

beforeEach(() => {
  swf.reset();
  swf.on(TerminateWorkflowExecutionCommand).resolves({});
  // A selector is counted first; a count within the limit goes straight to listing + terminating.
  swf.on(CountOpenWorkflowExecutionsCommand).resolves({ count: 10, truncated: false });
});

// EVENT_TIME is stated to the second (as EventBridge states it): the request time is that second's end.
const REQUEST_TIME = new Date(Date.parse(EVENT_TIME) + 999);
const type1 = { name: 'OrderFlow', version: '1' };

function terminatedIds(): string[] {
  return swf
    .commandCalls(TerminateWorkflowExecutionCommand)
    .map((c) => c.args[0].input.workflowId ?? '')
    .sort();
}

describe('the client-side re-check: a listed execution failing any criterion is never terminated', () => {
  test('tag + workflowType + window: only the full match is terminated', async () => {
    const selector = {
      tag: 'batch-7',
      workflowType: type1,
      startedAfter: '2025-05-01T00:00:00Z',
      startedBefore: '2025-05-31T00:00:00Z',
    };
    const inWindow = new Date('2025-05-15T00:00:00Z');
    // A faulty or eventually consistent endpoint returns everything, whatever the filter said.
    swf.on(ListOpenWorkflowExecutionsCommand).resolves({
      executionInfos: [
        info('match', 'r1', { tags: ['x', 'batch-7'], type: type1, start: inWindow }),
        info('wrong-tag', 'r2', { tags: ['batch-8'], type: type1, start: inWindow }),
        info('no-tags', 'r3', { type: type1, start: inWindow }),
        info('wrong-type-name', 'r4', {
          tags: ['batch-7'],
          type: { name: 'Other', version: '1' },
          start: inWindow,
        }),
        info('wrong-version', 'r5', {
          tags: ['batch-7'],
          type: { name: 'OrderFlow', version: '2' },
          start: inWindow,
        }),
        info('too-old', 'r6', { tags: ['batch-7'], type: type1, start: new Date('2025-04-30T23:59:59Z') }),
        info('too-new', 'r7', { tags: ['batch-7'], type: type1, start: new Date('2025-05-31T00:00:01Z') }),
        info('closed', 'r8', { tags: ['batch-7'], type: type1, start: inWindow, status: 'CLOSED' }),
        // Incomplete entries (as a faulty endpoint might send them) never match.
        {
          execution: { workflowId: 'no-run-id' },
          startTimestamp: inWindow,
          tagList: ['batch-7'],
          workflowType: type1,
        } as unknown as WorkflowExecutionInfo,
        {
          execution: { workflowId: 'no-start', runId: 'r9' },
          tagList: ['batch-7'],
          workflowType: type1,
        } as unknown as WorkflowExecutionInfo,
      ],
    });
    const { handler } = makeHandler();

    const report = await handler({ domain: DOMAIN, selector }, context);

    expect(terminatedIds()).toEqual(['match']);
    expect(report).toMatchObject({ matched: 1, terminated: 1 });
    // The one service-side filter sent is the tag; everything else was applied client-side.
    const input = swf.commandCalls(ListOpenWorkflowExecutionsCommand)[0]!.args[0].input;
    expect(input).toEqual({
      domain: DOMAIN,
      tagFilter: { tag: 'batch-7' },
      startTimeFilter: {
        oldestDate: new Date(selector.startedAfter),
        latestDate: new Date(selector.startedBefore),
      },
      maximumPageSize: 1000,
    });
  });

  test('an execution started after the request time is never terminated (re-delivered event)', async () => {
    swf.on(ListOpenWorkflowExecutionsCommand).resolves({
      executionInfos: [
        info('before', 'r1', { start: new Date('2025-06-01T11:58:59Z') }),
        // Within the event's stated second (11:59:00Z): possibly before the request, so reached.
        info('same-second', 'r2', { start: new Date('2025-06-01T11:59:00.400Z') }),
        info('at', 'r3', { start: REQUEST_TIME }),
        info('after', 'r4', { start: new Date('2025-06-01T11:59:01.000Z') }),
      ],
    });
    const { handler } = makeHandler();

    // startedBefore far in the future: the request time still caps the selector.
    await handler(envelope({ domain: DOMAIN, selector: { startedBefore: '2030-01-01T00:00:00Z' } }), context);

    expect(terminatedIds()).toEqual(['at', 'before', 'same-second']);
    const input = swf.commandCalls(ListOpenWorkflowExecutionsCommand)[0]!.args[0].input;
    expect(input.startTimeFilter).toEqual({ oldestDate: new Date(0), latestDate: REQUEST_TIME });
    expect(input.tagFilter).toBeUndefined();
    expect(input.typeFilter).toBeUndefined();
  });

  test('a workflowType selector sends typeFilter (with version when given)', async () => {
    swf.on(ListOpenWorkflowExecutionsCommand).resolves({ executionInfos: [] });
    const { handler } = makeHandler();

    await handler({ domain: DOMAIN, selector: { workflowType: { name: 'OrderFlow' } } }, context);
    await handler({ domain: DOMAIN, selector: { workflowType: type1 } }, context);

    const inputs = swf.commandCalls(ListOpenWorkflowExecutionsCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.typeFilter)).toEqual([{ name: 'OrderFlow' }, type1]);
    expect(inputs.every((i) => i.tagFilter === undefined)).toBe(true);
  });

  test('startedAfter later than the request time: nothing can match, no SWF call', async () => {
    const { handler } = makeHandler();

    const report = await handler(
      envelope({ domain: DOMAIN, selector: { tag: 't', startedAfter: '2025-06-02T00:00:00Z' } }),
      context,
    );

    expect(swf.calls()).toHaveLength(0);
    expect(report.matched).toBe(0);
  });
});

describe('sub-millisecond dates: the window narrows, never widens', () => {
  test('startedAfter rounds up and startedBefore rounds down to the millisecond', async () => {
    swf.on(ListOpenWorkflowExecutionsCommand).resolves({
      executionInfos: [
        // Started at .000: before startedAfter (.0009), so outside the window.
        info('too-early', 'r1', { tags: ['t'], start: new Date('2025-05-01T00:00:00.000Z') }),
        info('first', 'r2', { tags: ['t'], start: new Date('2025-05-01T00:00:00.001Z') }),
        info('last', 'r3', { tags: ['t'], start: new Date('2025-05-02T00:00:00.000Z') }),
        // Started at .001: after startedBefore (.0009), so outside the window.
        info('too-late', 'r4', { tags: ['t'], start: new Date('2025-05-02T00:00:00.001Z') }),
      ],
    });
    const { handler } = makeHandler();

    await handler(
      {
        domain: DOMAIN,
        selector: {
          tag: 't',
          startedAfter: '2025-05-01T00:00:00.0009Z',
          startedBefore: '2025-05-02T00:00:00.0009Z',
        },
      },
      context,
    );

    expect(terminatedIds()).toEqual(['first', 'last']);
    const input = swf.commandCalls(ListOpenWorkflowExecutionsCommand)[0]!.args[0].input;
    expect(input.startTimeFilter).toEqual({
      oldestDate: new Date('2025-05-01T00:00:00.001Z'),
      latestDate: new Date('2025-05-02T00:00:00.000Z'),
    });
  });

  test('a window inside one millisecond is empty after rounding: nothing listed or terminated', async () => {
    const { handler } = makeHandler();

    const report = await handler(
      {
        domain: DOMAIN,
        selector: { startedAfter: '2025-05-01T00:00:00.0001Z', startedBefore: '2025-05-01T00:00:00.0009Z' },
      },
      context,
    );

    expect(swf.calls()).toHaveLength(0);
    expect(report.matched).toBe(0);
  });
});

describe('paging', () => {
  test('follows nextPageToken across pages with every other argument unchanged, de-duplicating repeats', async () => {
    const pages = [
      {
        executionInfos: [info('a', '1', { tags: ['t'] }), info('b', '2', { tags: ['t'] })],
        nextPageToken: 'tok-2',
      },
      {
        executionInfos: [info('c', '3', { tags: ['t'] }), info('b', '2', { tags: ['t'] })],
        nextPageToken: 'tok-3',
      },
      { executionInfos: [info('d', '4', { tags: ['nope'] })], nextPageToken: 'tok-4' },
      { executionInfos: [info('e', '5', { tags: ['t'] })] },
    ];
    const list = swf.on(ListOpenWorkflowExecutionsCommand);
    for (const page of pages) list.resolvesOnce(page);
    const { handler } = makeHandler();

    const report = await handler(
      { domain: DOMAIN, selector: { tag: 't', startedBefore: '2025-06-01T00:00:00Z' } },
      context,
    );

    const inputs = swf.commandCalls(ListOpenWorkflowExecutionsCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.nextPageToken)).toEqual([undefined, 'tok-2', 'tok-3', 'tok-4']);
    const withoutToken = (input: object) =>
      Object.fromEntries(Object.entries(input).filter(([key]) => key !== 'nextPageToken'));
    const firstArgs = withoutToken(inputs[0]!);
    for (const input of inputs) {
      expect(withoutToken(input)).toEqual(firstArgs);
    }
    expect(firstArgs.maximumPageSize).toBe(1000);
    expect(terminatedIds()).toEqual(['a', 'b', 'c', 'e']);
    expect(report.matched).toBe(4);
  });
});

describe('selector functions (pure)', () => {
  const t = new Date('2025-06-01T00:00:00Z');

  test('the window runs from startedAfter (else the epoch) to min(startedBefore, request time)', () => {
    expect(startWindow({ tag: 'x' }, t)).toEqual({ oldest: new Date(0), latest: t });
    const before = new Date('2025-01-01T00:00:00Z');
    const after = new Date('2024-01-01T00:00:00Z');
    expect(startWindow({ startedBefore: before, startedAfter: after }, t)).toEqual({
      oldest: after,
      latest: before,
    });
    expect(startWindow({ startedBefore: new Date('2026-01-01T00:00:00Z') }, t).latest).toEqual(t);
  });

  test('the service-side filter is the tag, else the type, else none', () => {
    const type = { name: 'n', version: 'v' };
    expect(listFilterFor({ tag: 'x', workflowType: type }, t).tagFilter).toEqual({ tag: 'x' });
    expect(listFilterFor({ tag: 'x', workflowType: type }, t).typeFilter).toBeUndefined();
    expect(listFilterFor({ workflowType: type }, t).typeFilter).toEqual(type);
    expect(listFilterFor({ startedBefore: t }, t)).toEqual({
      startTimeFilter: { oldestDate: new Date(0), latestDate: t },
    });
  });

  test('matchesSelector checks every criterion whatever filter was sent', () => {
    const base = info('w', 'r', {
      tags: ['a'],
      type: { name: 'n', version: '1' },
      start: new Date('2025-03-01T00:00:00Z'),
    });
    expect(matchesSelector(base, { tag: 'a' }, t)).toBe(true);
    expect(matchesSelector(base, { tag: 'b' }, t)).toBe(false);
    expect(matchesSelector(base, { tag: 'a', workflowType: { name: 'n' } }, t)).toBe(true);
    expect(matchesSelector(base, { tag: 'a', workflowType: { name: 'n', version: '2' } }, t)).toBe(false);
    expect(matchesSelector(base, { tag: 'a', startedBefore: new Date('2025-02-01T00:00:00Z') }, t)).toBe(
      false,
    );
    expect(matchesSelector(base, { tag: 'a', startedAfter: new Date('2025-04-01T00:00:00Z') }, t)).toBe(
      false,
    );
    expect(matchesSelector(base, { tag: 'a' }, new Date('2025-02-01T00:00:00Z'))).toBe(false);
  });
});
