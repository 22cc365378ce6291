/**
 * cancelThenTerminate end to end: the synthesized state machine on the fake Step Functions server, the real
 * handler on the fake SWF server over HTTP. The request resolves its selector into the runs it matches and
 * starts ONE job with them; the job asks each run to cancel, recording when SWF answered, waits in the
 * GracePeriod Wait state until the next run asked has had its grace period, and terminates each run still
 * open no earlier than ITS OWN ask time plus the grace period. Only the runs its own asking recorded are
 * ever terminated. The wait is shortened (FakeSfnOptions.waitMs), and the handler's time, the Step Functions
 * fake's dates and the SWF fake's `clockAt` are one clock the test sets, so the test decides when a grace
 * period is over.
 */
import { SFNClient, StopExecutionCommand, RedriveExecutionCommand } from '@aws-sdk/client-sfn';
import { readProvenance } from '../../../lambda/job/provenance';
import type { ControlAnswer } from '../../../lambda/flows/control';
import type { Handler } from '../../../lambda/handler';
import type { JobState } from '../../../lambda/types';
import { JOB_CHUNK_STATE, JOB_EVENT_KEY, JOB_WAIT_STATE } from '../../../lib/contract';
import type { FakeSfnServer, FakeExecution as SfnExecution } from '../../support/fake-sfn';
import { type FakeExecution, FakeSwfServer } from '../../support/fake-swf';
import { asReport, jobRig, type JobRig, lastState, workingTime } from '../../support/handler-bulk';
import { DOMAIN } from '../../support/handler-fixtures';

let swf: FakeSwfServer | undefined;
let rig: JobRig | undefined;

afterEach(async () => {
  await rig?.close();
  await swf?.close();
  rig = undefined;
  swf = undefined;
});

/** Requests may cancel, in every allowed domain (orders, billing). */
const CANCELS = { CANCEL_REQUESTS: 'true', CANCEL_DOMAINS: 'orders,billing' };
/** How long each pass through the GracePeriod Wait state takes here (instead of until `notBefore`). */
const WAIT_MS = 20;
const GRACE_MS = 60_000;

/** The request time: ten minutes ago, on a whole second. */
const T0 = Math.floor(Date.now() / 1000) * 1000 - 600_000;
const T0_SECONDS = T0 / 1000;

const iso = (ms: number) => new Date(ms).toISOString();
/** The first whole second at or after `ms` (a job's `notBefore` is rounded up to one). */
const wholeSecond = (ms: number) => Math.ceil(ms / 1000) * 1000;

/** The handler's invocation time, the Step Functions fake's dates and SWF's `clockAt`, as the test sets them. */
function testClock(start: number) {
  let t = start;
  return {
    now: () => new Date(t),
    ms: () => t,
    set(ms: number) {
      t = ms;
    },
  };
}

/** An open run in `orders`: tag `ct` unless given, started an hour before T0 unless given. */
function run(
  workflowId: string,
  options: { honoursCancel?: boolean; tag?: string; start?: number; runId?: string } = {},
): FakeExecution {
  return {
    domain: DOMAIN,
    workflowId,
    runId: options.runId ?? `run-${workflowId}`,
    workflowType: { name: 'OrderFlow', version: '1' },
    startTimestamp: options.start ?? T0_SECONDS - 3600,
    tagList: [options.tag ?? 'ct'],
    honoursCancel: options.honoursCancel ?? false,
  };
}

/** Waits until `condition` holds (polling), failing with `what` after `timeoutMs`. */
async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The chunks of an execution that the handler answered. */
const answered = (e: SfnExecution | undefined) => e?.chunks.filter((c) => c.outcome === 'answered') ?? [];

/** The job state a chunk was given. */
const stateOf = (event: unknown) => (event as Record<string, JobState>)[JOB_EVENT_KEY]!;

/** Every chunk's output in the execution's history, oldest first. */
function chunkOutputs(execution: SfnExecution): JobState[] {
  return execution.events
    .filter((e) => e.type === 'TaskStateExited')
    .map((e) => JSON.parse((e.stateExitedEventDetails as { output: string }).output) as JobState);
}

/**
 * How many asks the job `jobId` has recorded in its state so far. The handler stamps `askedAt` once SWF has
 * answered, so a test that moves the clock must wait for this, not for SWF's own record of the ask.
 */
function recordedAsks(jobId: string): number {
  const outputs = chunkOutputs(rig!.sfn.executions.get(jobId)!);
  return outputs.at(-1)?.asked?.length ?? 0;
}

function stateOfRun(workflowId: string, runId = `run-${workflowId}`) {
  return swf!.execution(DOMAIN, workflowId, runId);
}

/** When (the test clock) SWF recorded `workflowId`'s cancel requests, oldest first. */
const askedAt = (workflowId: string) =>
  swf!
    .cancellations()
    .filter((c) => c.workflowId === workflowId)
    .map((c) => c.clockAt);

/** SWF's client for the fake Step Functions (an operator's `aws stepfunctions ...`). */
function sfnClient(sfn: FakeSfnServer): SFNClient {
  return new SFNClient({
    endpoint: sfn.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
}

/** A rig on `executions`, its handler, Step Functions and SWF on one clock at T0. */
async function rigOn(executions: FakeExecution[], env: Record<string, string> = {}) {
  const clock = testClock(T0);
  swf = await FakeSwfServer.start({ domains: [DOMAIN], executions, now: clock.ms });
  rig = await jobRig(
    swf,
    { ...CANCELS, ...env },
    { waitMs: WAIT_MS, extra: { now: clock.now }, sfnNow: clock.ms },
  );
  return { clock, sfn: rig.sfn, server: swf };
}

/** A console cancelThenTerminate request for `target`, with a 60 s grace period. */
const cancelThenTerminate = (target: Record<string, unknown>, grace = 60) => ({
  domain: DOMAIN,
  ...target,
  action: 'cancelThenTerminate',
  gracePeriodSeconds: grace,
});

const IGNORING = ['ignore-1', 'ignore-2', 'ignore-3'];
const HONOURING = ['honour-1', 'honour-2'];

describe('cancelThenTerminate is one job: ask, then terminate each run still open after its grace period', () => {
  /**
   * GIVEN five `ct` runs (three whose deciders ignore a cancel request, two that close when asked), one other
   * tag, and one `ct` run started after the request time, on one clock at T0
   * WHEN the console asks to cancelThenTerminate the `ct` runs with a 60 s grace period
   */
  async function requestIt() {
    const world = await rigOn([
      ...IGNORING.map((id) => run(id)),
      ...HONOURING.map((id) => run(id, { honoursCancel: true })),
      run('other-1', { tag: 'keep' }),
      run('late-1', { start: T0_SECONDS + 30 }),
    ]);
    const report = asReport(
      await rig!.handler(cancelThenTerminate({ selector: { tag: 'ct' } }), workingTime('ct-1', 10_000)),
    );
    return { ...world, report };
  }

  test('the job asks each run, waits in GracePeriod until its ask + grace, then terminates exactly the runs still open', async () => {
    const { clock, report, sfn, server } = await requestIt();

    // THEN the request is a job of its own id, started with the five matching runs, none asked by the request
    expect(report.job).toEqual({
      state: 'started',
      reason: 'grace-period',
      executionArn: sfn.executionArn('ct-1'),
    });
    expect(report).toMatchObject({ cancelRequested: 0, terminated: 0 });
    const input = JSON.parse(sfn.executions.get('ct-1')!.input) as JobState;
    expect((input.request.executions as { workflowId: string }[]).map((e) => e.workflowId).sort()).toEqual(
      [...HONOURING, ...IGNORING].sort(),
    );
    expect(input).toMatchObject({ asked: [], request: { action: 'cancelThenTerminate' } });

    // AND its first chunk asks each of them, once, recording when; the honouring runs close, the others wait
    await until(() => chunkOutputs(sfn.executions.get('ct-1')!).length >= 1, 'the first chunk');
    const first = chunkOutputs(sfn.executions.get('ct-1')!)[0]!;
    expect(
      server
        .cancellations()
        .map((c) => c.workflowId)
        .sort(),
    ).toEqual([...HONOURING, ...IGNORING].sort());
    expect(first.asked?.map((a) => [a.workflowId, a.askedAt]).sort()).toEqual(
      [...HONOURING, ...IGNORING].sort().map((id) => [id, iso(T0)]),
    );
    expect(first).toMatchObject({
      status: 'running',
      notBefore: iso(wholeSecond(T0 + GRACE_MS)),
      totals: { matched: 5, cancelRequested: 5, terminated: 0 },
    });
    for (const id of HONOURING)
      expect(stateOfRun(id)).toMatchObject({ open: false, closeStatus: 'CANCELED' });
    for (const id of IGNORING) expect(stateOfRun(id)).toEqual({ open: true, cancelRequested: true });
    // a new run of a workflowId that closed when asked starts during the grace period
    server.addExecutions([run('honour-1', { runId: 'run-honour-1-again', start: T0_SECONDS + 5 })]);

    // AND it waits: chunks invoked before its notBefore terminate nothing
    await until(() => answered(sfn.executions.get('ct-1')).length >= 3, 'three chunks');
    expect(server.callCount('TerminateWorkflowExecution')).toBe(0);

    // WHEN the grace period is over
    clock.set(T0 + GRACE_MS + 1_000);
    const execution = await sfn.finished('ct-1');

    // THEN the job succeeded, terminating the three runs still open, by runId, each after its own ask + grace
    expect(execution.status).toBe('SUCCEEDED');
    expect(server.terminations.map((t) => [t.workflowId, t.runId]).sort()).toEqual(
      IGNORING.map((id) => [id, `run-${id}`]),
    );
    for (const t of server.terminations) {
      expect(t.clockAt).toBeGreaterThanOrEqual(askedAt(t.workflowId)[0]! + GRACE_MS);
      expect(readProvenance(t.details!)).toMatchObject({
        requestedBy: { via: 'console', requestId: 'ct-1' },
        jobId: 'ct-1',
      });
    }
    // counted once each: matched when asked; terminated, or found closed by its decider, after the grace period
    expect(lastState(sfn, 'ct-1')).toMatchObject({
      status: 'done',
      asked: [],
      totals: { matched: 5, cancelRequested: 5, terminated: 3, alreadyClosed: 2, failed: 0 },
    });
    // runs never asked are untouched: another tag, started after the request, a new run
    for (const [id, runId] of [
      ['other-1', 'run-other-1'],
      ['late-1', 'run-late-1'],
      ['honour-1', 'run-honour-1-again'],
    ] as const) {
      expect(stateOfRun(id, runId)).toEqual({ open: true, cancelRequested: false });
    }
    expect([...sfn.executions.keys()]).toEqual(['ct-1']);
  });

  test('a chunk invoked before notBefore answers its state unchanged, and the job waits again', async () => {
    const { sfn, server } = await requestIt();
    await until(() => chunkOutputs(sfn.executions.get('ct-1')!).length >= 1, 'the first chunk');
    const callsAfterAsking = server.callCount();

    // WHEN the job's next chunks run while the handler's `now` (T0) is before notBefore
    await until(() => answered(sfn.executions.get('ct-1')).length >= 3, 'three chunks');
    const job = sfn.executions.get('ct-1')!;

    // THEN each was given the state the asking chunk answered, and answered it unchanged
    const [asking, ...waiting] = chunkOutputs(job);
    for (const output of waiting) expect(output).toEqual(asking);
    for (const chunk of answered(job).slice(1)) expect(stateOf(chunk.event)).toEqual(asking);
    // and the state machine went back to GracePeriod after each, rather than on to the end
    const names = job.transitions.filter((t) => t.type.endsWith('Entered')).map((t) => t.name);
    const afterFirstChunk = names.slice(names.indexOf(JOB_CHUNK_STATE) + 1);
    expect(afterFirstChunk.slice(0, 4)).toEqual(['NextStep', 'WaitFirst', JOB_WAIT_STATE, JOB_CHUNK_STATE]);
    // nothing more was called on SWF
    expect(server.callCount()).toBe(callsAfterAsking);
  });

  test.each([
    ['an abort control request', 'abort'],
    ['StopExecution on the state machine', 'stop'],
  ] as const)(
    '%s during the grace period: the job ends ABORTED (not failed), nothing terminated',
    async (_, how) => {
      const { clock, sfn, server } = await requestIt();
      await until(() => chunkOutputs(sfn.executions.get('ct-1')!).length >= 1, 'the asking chunk');

      // WHEN the job is stopped while it waits
      if (how === 'abort') {
        const answer = (await rig!.handler(
          { abort: { jobId: 'ct-1', reason: 'let the deciders finish (INC-9)' } },
          { awsRequestId: 'ops-abort' },
        )) as ControlAnswer;
        expect(answer).toMatchObject({ abort: { jobId: 'ct-1', outcome: 'stopped' } });
      } else {
        await sfnClient(sfn).send(
          new StopExecutionCommand({ executionArn: sfn.executionArn('ct-1'), cause: 'ops' }),
        );
      }
      const execution = await sfn.finished('ct-1');
      await sleep(50);
      const chunksWhenStopped = execution.chunks.length;
      // AND the grace period then ends
      clock.set(T0 + GRACE_MS + 1_000);
      await sleep(300);

      // THEN the job is aborted (not failed), ran no chunk since, terminated nothing
      expect(execution.status).toBe('ABORTED');
      expect(execution.chunks.length).toBe(chunksWhenStopped);
      expect(server.callCount('TerminateWorkflowExecution')).toBe(0);
      for (const id of IGNORING) expect(stateOfRun(id)).toEqual({ open: true, cancelRequested: true });
    },
  );

  test('the job cannot be started: nothing is asked to cancel', async () => {
    await rigOn(IGNORING.map((id) => run(id)));
    rig!.sfn.startExecution = () => {
      throw new Error('the job could not be started');
    };

    const error = await rig!
      .handler(cancelThenTerminate({ selector: { tag: 'ct' } }), workingTime('nf-1', 10_000))
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'JobHandOffError', message: expect.stringMatching(/^job nf-1: /) });
    expect(swf!.callCount('RequestCancelWorkflowExecution')).toBe(0);
  });
});

describe('only the runs its own asking recorded are terminated, each after its own ask', () => {
  test('a run whose cancel SWF refused is never terminated by that job, even once another request asked it', async () => {
    // GIVEN A and B, whose deciders ignore cancel requests; SWF refuses to cancel B (once)
    const { clock, sfn, server } = await rigOn([run('a'), run('b')]);
    const lift = server.failWhen(
      'RequestCancelWorkflowExecution',
      (b) => b.workflowId === 'b',
      'not-permitted',
    );
    // WHEN R1 asks A and B with 600 s of grace
    const exact = (ids: string[]) => ids.map((id) => ({ workflowId: id, runId: `run-${id}` }));
    await rig!.handler(
      cancelThenTerminate({ executions: exact(['a', 'b']) }, 600),
      workingTime('r1', 10_000),
    );
    await until(() => chunkOutputs(sfn.executions.get('r1')!).length >= 1, "R1's asking");
    lift();
    expect(askedAt('a')).toEqual([T0]);
    expect(askedAt('b')).toEqual([]);
    // AND, as the README advises, R2 asks B again 14 minutes later
    clock.set(T0 + 14 * 60_000);
    await rig!.handler(cancelThenTerminate({ executions: exact(['b']) }, 600), workingTime('r2', 10_000));
    // (the job stamps its ask after SWF answers: wait for the job's record, not SWF's, before the clock moves)
    await until(() => recordedAsks('r2') === 1, "R2's asking");
    // AND R1's grace period (from A's ask) ends, a minute later
    clock.set(T0 + 15 * 60_000);
    const r1 = await sfn.finished('r1');

    // THEN R1 terminated A only; B, which it did not ask, it reported failed and left open
    expect(server.terminations.map((t) => t.workflowId)).toEqual(['a']);
    expect(stateOfRun('b')).toEqual({ open: true, cancelRequested: true });
    expect(r1.status).toBe('FAILED');
    expect(r1.error).toBe('ExecutionsFailed');
    expect(lastState(sfn, 'r1')).toMatchObject({
      status: 'failed',
      totals: { matched: 2, cancelRequested: 1, terminated: 1, failed: 1 },
      failures: [{ workflowId: 'b', runId: 'run-b', error: expect.stringMatching(/OperationNotPermitted/) }],
    });

    // WHEN R2's own grace period for B ends (14 + 10 minutes)
    clock.set(T0 + 24 * 60_000 + 1_000);
    const r2 = await sfn.finished('r2');

    // THEN R2 terminated B, no earlier than its own ask + 600 s
    expect(r2.status).toBe('SUCCEEDED');
    const b = server.terminations.find((t) => t.workflowId === 'b')!;
    expect(readProvenance(b.details!)?.jobId).toBe('r2');
    expect(b.clockAt - askedAt('b')[0]!).toBeGreaterThanOrEqual(600_000);
  });

  test('runs asked in a later chunk wait their own grace period, not the first run’s', async () => {
    // GIVEN 10 runs, asked slowly (a burst of 1 at 5 a second in 5 shares: one chunk cannot ask them all)
    const ids = Array.from({ length: 10 }, (_, i) => `slow-${i}`);
    const { clock, sfn, server } = await rigOn(
      ids.map((id) => run(id)),
      { TERMINATE_RATE_SHARES: '5', TERMINATE_BURST: '5', JOB_CHUNK_SECONDS: '0.5' },
    );
    // the job's second chunk waits until the test lets it go
    let release: () => void = () => undefined;
    const released = new Promise<void>((r) => {
      release = r;
    });
    let chunks = 0;
    const held: Handler = async (event, context) => {
      chunks += 1;
      if (chunks === 2) await released;
      return rig!.handler(event, context);
    };
    rig!.setChunkHandler(held);
    await rig!.handler(cancelThenTerminate({ selector: { tag: 'ct' } }), workingTime('slow', 10_000));
    await until(() => chunks === 2, 'the second chunk');
    const early = server.cancellations().map((c) => c.workflowId);
    expect(early.length).toBeGreaterThan(0);
    expect(early.length).toBeLessThan(10);

    // WHEN the second chunk asks the rest 50 s later
    clock.set(T0 + 50_000);
    release();
    await until(() => recordedAsks('slow') === 10, 'every run asked');
    // AND the first runs' grace period ends (not yet the others')
    clock.set(T0 + GRACE_MS + 1_000);
    await until(() => server.terminations.length >= early.length, "the first runs' terminations");
    await sleep(300);

    // THEN only the runs asked first are terminated
    expect(server.terminations.map((t) => t.workflowId).sort()).toEqual([...early].sort());

    // WHEN the later ones' grace period ends
    clock.set(T0 + 50_000 + GRACE_MS + 1_000);
    const job = await sfn.finished('slow');

    // THEN every run is terminated, each no earlier than its own ask + grace
    expect(job.status).toBe('SUCCEEDED');
    expect(server.terminations).toHaveLength(10);
    for (const t of server.terminations) {
      expect(t.clockAt - askedAt(t.workflowId)[0]!).toBeGreaterThanOrEqual(GRACE_MS);
    }
  });

  test('a chunk that fails after asking is retried: it asks again, and the wait runs from the later ask', async () => {
    // GIVEN a job whose first chunk asks, then fails (Step Functions retries it with the state before)
    const { clock, sfn, server } = await rigOn(IGNORING.map((id) => run(id)));
    let failed = false;
    rig!.setChunkHandler(async (event, context) => {
      const answer = await rig!.handler(event, context);
      if (!failed && server.cancellations().length === 3) {
        failed = true;
        // the retry comes 20 s later, on the test clock
        clock.set(T0 + 20_000);
        throw Object.assign(new Error('lost the answer'), { name: 'Error' });
      }
      return answer;
    });

    // WHEN the request arrives, and the grace period from the FIRST asks passes (not from the retry's)
    await rig!.handler(cancelThenTerminate({ selector: { tag: 'ct' } }), workingTime('retried', 10_000));
    await until(() => server.cancellations().length === 6, 'the retry to ask again');
    // (and to record its asks, at the test clock's T0 + 20 s, before the clock moves on)
    await until(() => chunkOutputs(sfn.executions.get('retried')!).length >= 1, "the retry's answer");
    expect(chunkOutputs(sfn.executions.get('retried')!)[0]?.asked?.map((a) => a.askedAt)).toEqual(
      IGNORING.map(() => iso(T0 + 20_000)),
    );
    clock.set(T0 + GRACE_MS + 1_000);
    await sleep(300);

    // THEN nothing is terminated yet: the record holds the retry's ask times
    expect(server.callCount('TerminateWorkflowExecution')).toBe(0);

    // WHEN the retry's asks have had their grace period
    clock.set(T0 + 20_000 + GRACE_MS + 1_000);
    const job = await sfn.finished('retried');

    // THEN all three are terminated, each a full grace period after its last ask
    expect(job.status).toBe('SUCCEEDED');
    for (const t of server.terminations) {
      expect(t.clockAt - askedAt(t.workflowId).at(-1)!).toBeGreaterThanOrEqual(GRACE_MS);
    }
  });
});

describe('an aborted job stays aborted', () => {
  test('aborted while it asks: ABORTED, nothing terminated after the grace period; a redrive is refused', async () => {
    // GIVEN a slow job (5 cancel requests a second in 5 shares, one long chunk) over 40 runs
    const ids = Array.from({ length: 40 }, (_, i) => `big-${String(i).padStart(2, '0')}`);
    const { clock, sfn, server } = await rigOn(
      ids.map((id) => run(id, { tag: 'big' })),
      { TERMINATE_RATE_SHARES: '5', TERMINATE_BURST: '5', JOB_CHUNK_SECONDS: '30' },
    );
    await rig!.handler(cancelThenTerminate({ selector: { tag: 'big' } }), workingTime('ab-1', 10_000));
    await until(() => server.cancellations().length >= 5, 'five runs asked');

    // WHEN it is aborted while it asks
    const answer = (await rig!.handler(
      { abort: { jobId: 'ab-1', reason: 'wrong tag (INC-11)' } },
      { awsRequestId: 'ops-abort' },
    )) as ControlAnswer;
    expect(answer).toMatchObject({ abort: { jobId: 'ab-1', outcome: 'stopped' } });
    const job = await sfn.finished('ab-1');
    await until(() => job.chunks.length >= 1, 'the chunk to notice and end');
    const asked = server.cancellations().length;
    expect(asked).toBeLessThan(40);
    // AND the grace period of what it asked ends
    clock.set(T0 + GRACE_MS + 1_000);
    await sleep(300);

    // THEN it is ABORTED (an abort is not a failure), asked no more, terminated nothing
    expect(job.status).toBe('ABORTED');
    expect(server.cancellations()).toHaveLength(asked);
    expect(server.callCount('TerminateWorkflowExecution')).toBe(0);

    // WHEN an operator redrives it (Step Functions' RedriveExecution)
    await sfnClient(sfn).send(new RedriveExecutionCommand({ executionArn: sfn.executionArn('ab-1') }));
    const redriven = await sfn.finished('ab-1');

    // THEN its chunk refuses to resume: the job fails naming the redrive, and nothing more is asked or terminated
    expect(redriven.status).toBe('FAILED');
    expect(redriven.error).toBe('JobRedriveError');
    expect(redriven.cause).toMatch(/never resumed after it stopped or failed/);
    expect(server.cancellations()).toHaveLength(asked);
    expect(server.callCount('TerminateWorkflowExecution')).toBe(0);
  });
});
