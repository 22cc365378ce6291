/**
 * The SWF contract both doubles keep: the in-memory port (test/support/memory-swf.ts), which the flow and act
 * tests use, and the HTTP fake (test/support/fake-swf.ts) reached through the handler's own SWF adapter and
 * the real SDK, which the wire, package and benchmark tests use. The same cases run against each, so a test
 * written against either double relies on what SWF does, not on what one double happens to do. What only the
 * wire has (page tokens, faults, throttling, the SDK's retries) is test/support/fake-swf.test.ts's.
 */
import type { WorkflowExecutionInfo } from '@aws-sdk/client-swf';
import { createSwf, type ListOpenInput, type SwfPort } from '../../lambda/aws/swf';
import { createSwfClient } from '../../lambda/aws/swf-client';
import { FakeSwfServer } from './fake-swf';
import { MemorySwf } from './memory-swf';

const DOMAIN = 'orders';
/** Every test's runs start at whole seconds from here (both doubles keep SWF's second precision). */
const NOW_S = Math.floor(Date.now() / 1000);

/** A run as both doubles take it. */
interface Run {
  readonly workflowId: string;
  readonly runId: string;
  readonly tag: string;
  /** Seconds before NOW_S it started. */
  readonly age: number;
  readonly openActivityTasks?: number;
  /** Seconds before NOW_S its latest activity task was scheduled; unset: never. */
  readonly activityAge?: number;
}

/** A double holding `runs`, and how to put it away. */
interface Double {
  readonly swf: SwfPort;
  close(): Promise<void>;
}

const DOUBLES: readonly (readonly [string, (runs: readonly Run[]) => Promise<Double>])[] = [
  [
    'the in-memory SWF',
    (runs) => {
      const swf = new MemorySwf(
        runs.map((run) => ({
          workflowId: run.workflowId,
          runId: run.runId,
          tag: run.tag,
          startTimestamp: new Date((NOW_S - run.age) * 1000),
          activity: {
            openCounts: {
              openActivityTasks: run.openActivityTasks ?? 0,
              openDecisionTasks: 0,
              openTimers: 0,
              openChildWorkflowExecutions: 0,
              openLambdaFunctions: 0,
            },
            ...(run.activityAge === undefined
              ? {}
              : { latestActivityTaskTimestamp: new Date((NOW_S - run.activityAge) * 1000) }),
          },
        })),
      );
      return Promise.resolve({ swf, close: () => Promise.resolve() });
    },
  ],
  [
    'the HTTP fake, through the handler’s SWF adapter and the SDK',
    async (runs) => {
      const server = await FakeSwfServer.start({
        domains: [DOMAIN],
        executions: runs.map((run) => ({
          domain: DOMAIN,
          workflowId: run.workflowId,
          runId: run.runId,
          workflowType: { name: 't', version: '1' },
          startTimestamp: NOW_S - run.age,
          tagList: [run.tag],
          ...(run.openActivityTasks === undefined
            ? {}
            : {
                openCounts: {
                  openActivityTasks: run.openActivityTasks,
                  openDecisionTasks: 0,
                  openTimers: 0,
                  openChildWorkflowExecutions: 0,
                  openLambdaFunctions: 0,
                },
              }),
          ...(run.activityAge === undefined ? {} : { latestActivityTaskTimestamp: NOW_S - run.activityAge }),
        })),
      });
      const client = createSwfClient({
        endpoint: server.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      });
      return {
        swf: createSwf(client),
        close: async () => {
          client.destroy();
          await server.close();
        },
      };
    },
  ],
];

/** Five runs: a..e, tags x (a, b, c) and y (d, e), started 50, 40, 30, 20 and 10 minutes ago. */
const FIVE: readonly Run[] = ['a', 'b', 'c', 'd', 'e'].map((id, i) => ({
  workflowId: id,
  runId: `run-${id}`,
  tag: i < 3 ? 'x' : 'y',
  age: (5 - i) * 600,
}));

/** Everything `swf` lists for `input`, in the order it lists it. */
async function listed(swf: SwfPort, input: Partial<ListOpenInput> = {}): Promise<string[]> {
  const ids: string[] = [];
  const infos: WorkflowExecutionInfo[] = [];
  for await (const page of swf.listOpen({
    domain: DOMAIN,
    startTimeFilter: { oldestDate: new Date(0) },
    ...input,
  }))
    infos.push(...page);
  for (const info of infos) ids.push(info.execution!.workflowId!);
  return ids.sort();
}

/** TerminateWorkflowExecution of `workflowId`'s run `run-<workflowId>`. */
const stop = (workflowId: string) => ({
  domain: DOMAIN,
  workflowId,
  runId: `run-${workflowId}`,
  reason: 'contract',
  details: 'contract',
});

const ago = (seconds: number) => new Date((NOW_S - seconds) * 1000);

describe.each(DOUBLES)('%s', (_name, make) => {
  let double: Double | undefined;
  afterEach(async () => {
    await double?.close();
    double = undefined;
  });
  const holding = async (runs: readonly Run[] = FIVE) => {
    double = await make(runs);
    return double.swf;
  };

  test('lists every open run once, over as many pages as it takes', async () => {
    // GIVEN more runs than one page of either double holds (100 in memory, SWF's 1,000 on the wire)
    const many = Array.from({ length: 2_345 }, (_, i) => ({
      workflowId: `w${String(i).padStart(4, '0')}`,
      runId: `r${i}`,
      tag: 'x',
      age: i,
    }));
    const swf = await holding(many);

    await expect(listed(swf)).resolves.toEqual(many.map((run) => run.workflowId));
  });

  test('a tag, a workflowId or a start window narrows a listing', async () => {
    const swf = await holding();

    await expect(listed(swf)).resolves.toEqual(['a', 'b', 'c', 'd', 'e']);
    await expect(listed(swf, { tagFilter: { tag: 'y' } })).resolves.toEqual(['d', 'e']);
    await expect(listed(swf, { executionFilter: { workflowId: 'c' } })).resolves.toEqual(['c']);
    // (both bounds inclusive)
    await expect(
      listed(swf, { startTimeFilter: { oldestDate: ago(2400), latestDate: ago(1200) } }),
    ).resolves.toEqual(['b', 'c', 'd']);
  });

  test('counts the open runs a listing with the same filters would show', async () => {
    const swf = await holding();
    const base = { domain: DOMAIN, startTimeFilter: { oldestDate: new Date(0) } };

    await expect(swf.countOpen(base)).resolves.toMatchObject({ count: 5, truncated: false });
    await expect(swf.countOpen({ ...base, tagFilter: { tag: 'x' } })).resolves.toMatchObject({ count: 3 });
    await swf.terminate(stop('a'));
    await expect(swf.countOpen({ ...base, tagFilter: { tag: 'x' } })).resolves.toMatchObject({ count: 2 });
  });

  test('terminates an open run once: it is no longer listed, and a second terminate finds it closed', async () => {
    const swf = await holding();

    await expect(swf.terminate(stop('b'))).resolves.toEqual({
      kind: 'terminated',
    });
    await expect(listed(swf)).resolves.toEqual(['a', 'c', 'd', 'e']);
    await expect(swf.terminate(stop('b'))).resolves.toEqual({
      kind: 'already-closed',
    });
  });

  test('a run that never existed is closed to terminate, cancel and describe alike', async () => {
    const swf = await holding();
    const ghost = { domain: DOMAIN, workflowId: 'ghost', runId: 'run-ghost' };

    await expect(swf.terminate({ ...ghost, reason: 'contract', details: 'contract' })).resolves.toEqual({
      kind: 'already-closed',
    });
    await expect(swf.requestCancel(ghost)).resolves.toEqual({ kind: 'already-closed' });
    await expect(swf.describe(ghost)).resolves.toBe('closed');
  });

  test('a cancel request leaves the run open and listed, marked cancel-requested; a closed run cannot be asked', async () => {
    const swf = await holding();

    await expect(swf.requestCancel({ domain: DOMAIN, workflowId: 'c', runId: 'run-c' })).resolves.toEqual({
      kind: 'cancel-requested',
    });
    const infos: WorkflowExecutionInfo[] = [];
    for await (const page of swf.listOpen({
      domain: DOMAIN,
      startTimeFilter: { oldestDate: new Date(0) },
      executionFilter: { workflowId: 'c' },
    }))
      infos.push(...page);
    expect(infos).toMatchObject([{ execution: { workflowId: 'c' }, cancelRequested: true }]);
    await swf.terminate(stop('d'));
    await expect(swf.requestCancel({ domain: DOMAIN, workflowId: 'd', runId: 'run-d' })).resolves.toEqual({
      kind: 'already-closed',
    });
  });

  test('describes an open run: its open counts, start, and latest activity task when it had one', async () => {
    const swf = await holding([
      { workflowId: 'busy', runId: 'run-busy', tag: 'x', age: 600, openActivityTasks: 2, activityAge: 60 },
      { workflowId: 'quiet', runId: 'run-quiet', tag: 'x', age: 300 },
    ]);

    const busy = await swf.describe({ domain: DOMAIN, workflowId: 'busy', runId: 'run-busy' });
    expect(busy).toMatchObject({
      openCounts: { openActivityTasks: 2, openDecisionTasks: 0, openTimers: 0 },
      latestActivityTaskTimestamp: ago(60),
      startTimestamp: ago(600),
      info: { execution: { workflowId: 'busy', runId: 'run-busy' } },
    });
    const quiet = await swf.describe({ domain: DOMAIN, workflowId: 'quiet', runId: 'run-quiet' });
    expect(quiet).not.toBe('closed');
    expect(quiet).not.toHaveProperty('latestActivityTaskTimestamp');
    await swf.terminate(stop('quiet'));
    await expect(swf.describe({ domain: DOMAIN, workflowId: 'quiet', runId: 'run-quiet' })).resolves.toBe(
      'closed',
    );
  });
});
