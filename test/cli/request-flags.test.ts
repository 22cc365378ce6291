/**
 * The command's flags as a request: every flag is one request field, the combinations the terminator would
 * refuse are refused here first (naming the flag and the rule), and the preview's window is pinned so the real
 * request cannot reach executions that started after the operator looked.
 */
import { pinWindow } from '../../cli/window';
import { formatDuration, parseDuration } from '../../cli/durations';
import { EXIT } from '../../cli/exit-codes';
import { wouldAct } from '../../cli/report-view';
import { executionsFrom, type RequestFlags, requestFromFlags } from '../../cli/request-flags';

const files: Record<string, string> = {};
const read = (path: string) => {
  const text = files[path];
  if (text === undefined) throw new Error(`no file ${path}`);
  return text;
};
const request = (flags: RequestFlags, action: 'terminate' | 'cancel' = 'terminate') =>
  requestFromFlags(flags, action, read);
const usage = (flags: RequestFlags, message: string, action: 'terminate' | 'cancel') => {
  let thrown: unknown;
  try {
    request(flags, action);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toMatchObject({ exitCode: EXIT.usage, message });
};

describe('each flag is one request field', () => {
  test.each<[string, RequestFlags, Record<string, unknown>]>([
    ['--workflow-id', { workflowId: 'order-1' }, { workflowId: 'order-1' }],
    ['--run-id', { workflowId: 'order-1', runId: 'r1' }, { workflowId: 'order-1', runId: 'r1' }],
    ['--tag', { tag: 'batch-7' }, { selector: { tag: 'batch-7' } }],
    ['--type NAME', { type: 'Import' }, { selector: { workflowType: { name: 'Import' } } }],
    [
      '--type NAME:VERSION',
      { type: 'Import:2.1' },
      { selector: { workflowType: { name: 'Import', version: '2.1' } } },
    ],
    ['--id-prefix', { idPrefix: 'ord-' }, { selector: { workflowIdPrefix: 'ord-' } }],
    [
      '--started-after',
      { startedAfter: '2026-01-01T00:00:00Z' },
      { selector: { startedAfter: '2026-01-01T00:00:00Z' } },
    ],
    [
      '--started-before',
      { startedBefore: '2026-01-02T00:00:00Z' },
      { selector: { startedBefore: '2026-01-02T00:00:00Z' } },
    ],
    ['--open-longer-than', { openLongerThan: '6h' }, { selector: { openLongerThanSeconds: 21_600 } }],
    ['--stalled', { tag: 't', stalled: true }, { selector: { tag: 't', stalled: true } }],
    ['--idle-longer-than', { idleLongerThan: '2h' }, { selector: { idleLongerThanSeconds: 7200 } }],
    ['--reason', { tag: 't', reason: 'INC-42' }, { selector: { tag: 't' }, reason: 'INC-42' }],
    ['--details', { tag: 't', details: 'see runbook' }, { selector: { tag: 't' }, details: 'see runbook' }],
    [
      '--child-policy',
      { tag: 't', childPolicy: 'abandon' },
      { selector: { tag: 't' }, childPolicy: 'ABANDON' },
    ],
  ])('%s', (_flag, flags, fields) => {
    expect(request({ domain: 'orders', ...flags })).toEqual({ domain: 'orders', ...fields });
  });

  test('cancel asks to cancel; --then-terminate-after is cancelThenTerminate with its grace period', () => {
    expect(request({ domain: 'orders', tag: 't' }, 'cancel')).toEqual({
      domain: 'orders',
      selector: { tag: 't' },
      action: 'requestCancel',
    });
    expect(request({ domain: 'orders', tag: 't', thenTerminateAfter: '10m' }, 'cancel')).toEqual({
      domain: 'orders',
      selector: { tag: 't' },
      action: 'cancelThenTerminate',
      gracePeriodSeconds: 600,
    });
  });

  test('--file: a JSON list or one "workflowId [runId]" per line; - is standard input', () => {
    files['ids.json'] = '["a", {"workflowId": "b", "runId": "r-b"}]';
    files['-'] = '# incident 42\na\n\nb r-b\n';
    const expected = {
      domain: 'orders',
      executions: [{ workflowId: 'a' }, { workflowId: 'b', runId: 'r-b' }],
    };
    expect(request({ domain: 'orders', file: 'ids.json' })).toEqual(expected);
    expect(request({ domain: 'orders', file: '-' })).toEqual(expected);
  });

  test('--request sends the file as it is', () => {
    files['req.json'] = '{"domain":"orders","selector":{"tag":"t"},"maxExecutions":5}';
    expect(request({ request: 'req.json' })).toEqual({
      domain: 'orders',
      selector: { tag: 't' },
      maxExecutions: 5,
    });
  });
});

describe('refused before anything is sent, naming the flag and the rule', () => {
  test.each<[string, RequestFlags, string, 'terminate' | 'cancel']>([
    ['no domain', { tag: 't' }, '--domain: is required (the SWF domain to act in)', 'terminate'],
    [
      'no target',
      { domain: 'orders' },
      'target: give one execution (--workflow-id), a list (--file, or - for standard input) or a selector (--tag, --type, --id-prefix, --started-before, --open-longer-than, ...)',
      'terminate',
    ],
    [
      'two targets',
      { domain: 'orders', workflowId: 'a', tag: 't' },
      'target: give only one of --workflow-id, a selector (--tag, --type, ...)',
      'terminate',
    ],
    [
      'a run without its workflow',
      { domain: 'orders', tag: 't', runId: 'r' },
      '--run-id: goes with --workflow-id',
      'terminate',
    ],
    [
      'a bad duration',
      { domain: 'orders', openLongerThan: 'six hours' },
      '--open-longer-than: must be a duration such as 90s, 10m, 6h, 2d or 1h30m (got "six hours")',
      'terminate',
    ],
    [
      'a grace period on terminate',
      { domain: 'orders', tag: 't', thenTerminateAfter: '10m' },
      '--then-terminate-after: goes with cancel (cancel, then terminate what is still open)',
      'terminate',
    ],
    [
      'a child policy on a plain cancel',
      { domain: 'orders', tag: 't', childPolicy: 'ABANDON' },
      '--child-policy: is a termination setting: cancel takes it only with --then-terminate-after',
      'cancel',
    ],
    [
      '--request with other flags',
      { request: 'req.json', tag: 't', reason: 'r' },
      '--request: sends the file as it is; drop --tag, --reason',
      'terminate',
    ],
  ])('%s', (_case, flags, message, action) => {
    usage(flags, message, action);
  });

  test('a list file that names nothing, or an entry that is not an execution', () => {
    expect(() => executionsFrom('ids.txt', '# nothing\n\n')).toThrow('--file: names no execution');
    expect(() => executionsFrom('ids.json', '[1]')).toThrow(
      '--file [0]: must be a workflowId or { "workflowId": ..., "runId"?: ... }',
    );
    expect(() => executionsFrom('-', 'a b c')).toThrow(
      'standard input line 1: must be "workflowId" or "workflowId runId"',
    );
  });
});

describe("the preview's window", () => {
  const now = new Date('2026-12-07T10:00:00.750Z');

  test("a selector narrow without an end gets the preview's time, to the whole second (SWF's precision)", () => {
    expect(pinWindow({ domain: 'orders', selector: { tag: 't' } }, now)).toEqual({
      domain: 'orders',
      selector: { tag: 't', startedBefore: '2026-12-07T10:00:00.000Z' },
    });
  });

  test('an end already given stays; a selector with no narrowing criterion is not made valid by an end', () => {
    const ended = { domain: 'orders', selector: { tag: 't', startedBefore: '2026-01-01T00:00:00Z' } };
    expect(pinWindow(ended, now)).toEqual(ended);
    const bare = { domain: 'orders', selector: { startedAfter: '2026-01-01T00:00:00Z' } };
    expect(pinWindow(bare, now)).toEqual(bare);
    const named = { domain: 'orders', workflowId: 'a' };
    expect(pinWindow(named, now)).toEqual(named);
  });
});

test('durations read and print alike', () => {
  expect(parseDuration('--x', '1h30m')).toBe(5400);
  expect(parseDuration('--x', '2d')).toBe(172_800);
  expect(formatDuration(5400)).toBe('1h30m');
  expect(formatDuration(59)).toBe('59s');
  expect(formatDuration(Number.NaN)).toBe('?');
});

test('a truncated preview counts what it would act on from its totals', () => {
  expect(wouldAct({ matched: 5000, alreadyClosed: 3, noOpenRun: 2, truncated: true, executions: [] })).toBe(
    4995,
  );
  expect(
    wouldAct({
      matched: 2,
      executions: [
        { workflowId: 'a', outcome: 'would-terminate' },
        { workflowId: 'b', outcome: 'no-open-run' },
      ],
    }),
  ).toBe(1);
});
