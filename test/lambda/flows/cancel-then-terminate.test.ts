/**
 * cancelThenTerminate end to end: the synthesized state machine on the fake Step Functions server, the real
 * handler on the fake SWF server over HTTP. The request asks the runs it matches to cancel and hands them to
 * a follow-up job (`<job id>-grace`) that waits in the GracePeriod Wait state, then terminates exactly the runs
 * still open. The wait is shortened (FakeSfnOptions.waitMs) and the handler's invocation time (`now`) is the
 * test's, so the test decides when the grace period is over.
 */
import { SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { readProvenance } from '../../../lambda/act/provenance';
import type { ControlAnswer } from '../../../lambda/flows/control';
import { FOLLOW_UP_REASON } from '../../../lambda/flows/follow-up';
import type { JobState } from '../../../lambda/types';
import { JOB_CHUNK_STATE, JOB_EVENT_KEY, JOB_WAIT_STATE } from '../../../lib/contract';
import type { FakeExecution as SfnExecution } from '../../support/fake-sfn';
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

/** The request time: ten minutes ago, on a whole second. */
const T0 = Math.floor(Date.now() / 1000) * 1000 - 600_000;
const T0_SECONDS = T0 / 1000;
const NOT_BEFORE = T0 + 60_000;

/** The handler's invocation time, as the test sets it (the pacing clock stays real). */
function testClock(start: number) {
  let t = start;
  return {
    now: () => new Date(t),
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
  return execution.events.map(
    (e) => JSON.parse((e.stateExitedEventDetails as { output: string }).output) as JobState,
  );
}

function stateOfRun(workflowId: string, runId = `run-${workflowId}`) {
  return swf!.execution(DOMAIN, workflowId, runId);
}

const IGNORING = ['ignore-1', 'ignore-2', 'ignore-3'];
const HONOURING = ['honour-1', 'honour-2'];
const FOLLOW_UP = 'ct-1-grace';

/**
 * GIVEN five `ct` runs (three whose deciders ignore a cancel request, two that close when asked), one other
 * tag, and one `ct` run started after the request time; a rig whose handler's `now` is T0
 * WHEN the console asks to cancelThenTerminate the `ct` runs with a 60 s grace period
 * (the follow-up job is then waiting: the clock stays at T0)
 */
async function requestCancelThenTerminate() {
  swf = await FakeSwfServer.start({
    domains: [DOMAIN],
    executions: [
      ...IGNORING.map((id) => run(id)),
      ...HONOURING.map((id) => run(id, { honoursCancel: true })),
      run('other-1', { tag: 'keep' }),
      run('late-1', { start: T0_SECONDS + 30 }),
    ],
  });
  const clock = testClock(T0);
  rig = await jobRig(swf, CANCELS, { waitMs: WAIT_MS, extra: { now: clock.now } });
  const report = asReport(
    await rig.handler(
      { domain: DOMAIN, selector: { tag: 'ct' }, action: 'cancelThenTerminate', gracePeriodSeconds: 60 },
      workingTime('ct-1', 10_000),
    ),
  );
  return { clock, report, sfn: rig.sfn, swf, rig };
}

describe('cancelThenTerminate: cancel now, terminate what is still open after the grace period', () => {
  test('the follow-up job waits in GracePeriod, then terminates exactly the runs still open', async () => {
    const { clock, report, sfn } = await requestCancelThenTerminate();

    // THEN the request asked the five matching runs to cancel, inline, and started the follow-up job
    expect(report).toMatchObject({ cancelRequested: 5, terminated: 0, matched: 5, failed: 0 });
    expect(report.job).toBeUndefined();
    expect(report.followUp).toEqual({
      jobId: FOLLOW_UP,
      executionArn: sfn.executionArn(FOLLOW_UP),
      notBefore: new Date(NOT_BEFORE).toISOString(),
    });
    expect(
      swf!
        .cancellations()
        .map((c) => c.workflowId)
        .sort(),
    ).toEqual([...HONOURING, ...IGNORING].sort());
    // the honouring runs were closed by their deciders, the others are open with the cancel request
    for (const id of HONOURING)
      expect(stateOfRun(id)).toMatchObject({ open: false, closeStatus: 'CANCELED' });
    for (const id of IGNORING) expect(stateOfRun(id)).toEqual({ open: true, cancelRequested: true });
    // a new run of a workflowId that closed when asked starts during the grace period
    swf!.addExecutions([run('honour-1', { runId: 'run-honour-1-again', start: T0_SECONDS + 5 })]);

    // AND the follow-up waits: it entered GracePeriod, its chunks (before notBefore) terminated nothing
    await until(() => answered(sfn.executions.get(FOLLOW_UP)).length >= 3, 'three chunks of the follow-up');
    const followUp = sfn.executions.get(FOLLOW_UP)!;
    expect(followUp.status).toBe('RUNNING');
    const firstWait = followUp.transitions.findIndex(
      (t) => t.type === 'WaitStateEntered' && t.name === JOB_WAIT_STATE,
    );
    const firstChunk = followUp.transitions.findIndex(
      (t) => t.type === 'TaskStateEntered' && t.name === JOB_CHUNK_STATE,
    );
    expect(firstWait).toBeGreaterThanOrEqual(0);
    expect(firstWait).toBeLessThan(firstChunk);
    expect(swf!.terminations).toEqual([]);
    expect(swf!.callCount('TerminateWorkflowExecution')).toBe(0);

    // WHEN the grace period is over
    clock.set(NOT_BEFORE + 1_000);
    const execution = await sfn.finished(FOLLOW_UP);

    // THEN the follow-up succeeded, terminating the three runs still open, by runId, with the default reason
    expect(execution.status).toBe('SUCCEEDED');
    expect(swf!.terminations.map((t) => [t.workflowId, t.runId, t.reason]).sort()).toEqual(
      IGNORING.map((id) => [id, `run-${id}`, FOLLOW_UP_REASON]),
    );
    for (const t of swf!.terminations) {
      expect(readProvenance(t.details!)).toMatchObject({
        requestedBy: { via: 'console', requestId: 'ct-1' },
        jobId: FOLLOW_UP,
      });
    }
    // and none before the wait ended: every termination came after the last pass through GracePeriod
    const waitsEnded = execution.transitions.filter(
      (t) => t.type === 'WaitStateExited' && t.name === JOB_WAIT_STATE,
    );
    expect(waitsEnded.length).toBeGreaterThanOrEqual(3);
    for (const t of swf!.terminations) expect(t.at).toBeGreaterThanOrEqual(waitsEnded.at(-1)!.at);
    // the runs closed by their deciders are reported already closed; the totals add up
    const final = lastState(sfn, FOLLOW_UP)!;
    expect(final).toMatchObject({
      status: 'done',
      chunks: 1,
      totals: { matched: 5, terminated: 3, alreadyClosed: 2, noOpenRun: 0, failed: 0, wouldTerminate: 0 },
    });
    const t = final.totals;
    expect(t.terminated + t.alreadyClosed + t.noOpenRun + t.failed).toBe(t.matched);
    for (const id of HONOURING) expect(stateOfRun(id)?.closeStatus).toBe('CANCELED');
    // runs never asked to cancel are untouched: another tag, started after the request, a new run
    for (const [id, runId] of [
      ['other-1', 'run-other-1'],
      ['late-1', 'run-late-1'],
      ['honour-1', 'run-honour-1-again'],
    ] as const) {
      expect(stateOfRun(id, runId)).toEqual({ open: true, cancelRequested: false });
    }
  });

  test('a chunk invoked before notBefore answers its state unchanged, and the job waits again', async () => {
    const { sfn } = await requestCancelThenTerminate();
    const callsAfterRequest = swf!.callCount();

    // WHEN the follow-up's chunks run while the handler's `now` (T0) is before notBefore
    await until(() => answered(sfn.executions.get(FOLLOW_UP)).length >= 2, 'two chunks of the follow-up');
    const followUp = sfn.executions.get(FOLLOW_UP)!;

    // THEN each chunk was given the job's first state and answered it unchanged
    const input = JSON.parse(followUp.input) as JobState;
    expect(input).toMatchObject({
      jobId: FOLLOW_UP,
      notBefore: new Date(NOT_BEFORE).toISOString(),
      status: 'running',
      chunks: 0,
    });
    for (const chunk of answered(followUp)) expect(stateOf(chunk.event)).toEqual(input);
    for (const output of chunkOutputs(followUp)) expect(output).toEqual(input);
    // and the state machine went back to GracePeriod after the chunk, rather than on to the end
    const names = followUp.transitions.filter((t) => t.type.endsWith('Entered')).map((t) => t.name);
    const afterFirstChunk = names.slice(names.indexOf(JOB_CHUNK_STATE) + 1);
    expect(afterFirstChunk.slice(0, 4)).toEqual(['NextStep', 'WaitFirst', JOB_WAIT_STATE, JOB_CHUNK_STATE]);
    expect(followUp.status).toBe('RUNNING');
    // nothing was called on SWF: nothing listed, nothing terminated
    expect(swf!.callCount()).toBe(callsAfterRequest);
    expect(swf!.terminations).toEqual([]);
  });

  test.each([
    ['an abort control request', 'abort'],
    ['StopExecution on the state machine', 'stop'],
  ] as const)('%s during the grace period: nothing is terminated', async (_name, how) => {
    const { clock, sfn } = await requestCancelThenTerminate();
    await until(() => answered(sfn.executions.get(FOLLOW_UP)).length >= 1, 'a chunk of the follow-up');

    // WHEN the follow-up job is stopped while it waits
    if (how === 'abort') {
      const answer = (await rig!.handler(
        { abort: { jobId: FOLLOW_UP, reason: 'let the deciders finish (INC-9)' } },
        { awsRequestId: 'ops-abort' },
      )) as ControlAnswer;
      expect(answer).toMatchObject({ abort: { jobId: FOLLOW_UP, outcome: 'stopped' } });
    } else {
      const client = new SFNClient({
        endpoint: sfn.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      });
      await client.send(
        new StopExecutionCommand({ executionArn: sfn.executionArn(FOLLOW_UP), cause: 'ops' }),
      );
    }
    const execution = await sfn.finished(FOLLOW_UP);
    // (a chunk in flight when it stopped ends on its own: Step Functions does not interrupt a task)
    await sleep(50);
    const chunksWhenStopped = execution.chunks.length;
    // AND the grace period then ends
    clock.set(NOT_BEFORE + 1_000);
    await sleep(300);

    // THEN the job is aborted, ran no chunk since, and terminated nothing: the runs stay open, asked to cancel
    expect(execution.status).toBe('ABORTED');
    expect(execution.chunks.length).toBe(chunksWhenStopped);
    expect(swf!.terminations).toEqual([]);
    expect(swf!.callCount('TerminateWorkflowExecution')).toBe(0);
    for (const id of IGNORING) expect(stateOfRun(id)).toEqual({ open: true, cancelRequested: true });
  });
});

describe('cancelThenTerminate too large for one invocation: its cancel phase is a job', () => {
  const BIG = Array.from({ length: 40 }, (_, i) => `big-${String(i).padStart(2, '0')}`);
  /** Every other run's decider honours a cancel request (even indexes). */
  const honours = (i: number) => i % 2 === 0;

  /**
   * GIVEN 40 `big` runs, every other one honouring a cancel request; a cancel rate that needs a job (25/s, a
   * burst of 5, 0.4 s chunks) and a handler time running 100 times faster than the wall clock (a 60 s grace
   * period passes in 0.6 s)
   * WHEN the request arrives with 0.2 s of working time (40 cancel requests take 1.4 s)
   * THEN it becomes a job; the job and every follow-up it started end
   */
  async function runCancelJob() {
    swf = await FakeSwfServer.start({
      domains: [DOMAIN],
      executions: BIG.map((id, i) =>
        run(id, { tag: 'big', honoursCancel: honours(i), start: T0_SECONDS - 3600 - i }),
      ),
    });
    const started = Date.now();
    const now = () => new Date(T0 + (Date.now() - started) * 100);
    rig = await jobRig(
      swf,
      { ...CANCELS, TERMINATE_BURST: '5', JOB_CHUNK_SECONDS: '0.4' },
      { waitMs: WAIT_MS, extra: { now } },
    );
    const report = asReport(
      await rig.handler(
        { domain: DOMAIN, selector: { tag: 'big' }, action: 'cancelThenTerminate', gracePeriodSeconds: 60 },
        workingTime('big-1', 200),
      ),
    );
    expect(report.job).toMatchObject({ state: 'started', reason: 'too-large' });
    expect(report.followUp).toBeUndefined();
    const sfn = rig.sfn;
    const main = await sfn.finished('big-1');
    await until(() => [...sfn.executions.values()].every((e) => e.status !== 'RUNNING'), 'every follow-up');
    const followUps = [...sfn.executions.keys()].filter((name) => name !== 'big-1').sort();
    return { main, followUps, sfn, swf };
  }

  test('each chunk that cancelled starts its own follow-up, and every cancelled run ends terminated or closed', async () => {
    const { main, followUps, sfn, swf: server } = await runCancelJob();

    // THEN the job succeeded in several chunks
    expect(main.status).toBe('SUCCEEDED');
    const outputs = chunkOutputs(main);
    expect(outputs.length).toBeGreaterThanOrEqual(2);
    // each chunk that asked runs to cancel started a follow-up named by its number, and no other did
    const cancelling = outputs
      .filter((s, i) => s.totals.cancelRequested > (outputs[i - 1]?.totals.cancelRequested ?? 0))
      .map((s) => `big-1-grace-${s.chunks}`);
    expect(cancelling.length).toBeGreaterThanOrEqual(2);
    expect(followUps).toEqual([...cancelling].sort());
    // every follow-up waited in GracePeriod first, then succeeded with totals that add up
    for (const name of followUps) {
      const execution = sfn.executions.get(name)!;
      expect(execution.status).toBe('SUCCEEDED');
      expect(
        execution.transitions.find((t) => t.type.endsWith('StateEntered') && t.name !== 'WaitFirst'),
      ).toEqual(expect.objectContaining({ type: 'WaitStateEntered', name: JOB_WAIT_STATE }));
      const totals = lastState(sfn, name)!.totals;
      expect(totals.failed).toBe(0);
      expect(totals.terminated + totals.alreadyClosed + totals.noOpenRun).toBe(totals.matched);
    }
    // every run was asked to cancel; those that ignored it are terminated (once), the others closed themselves
    expect(new Set(server.cancellations().map((c) => c.workflowId))).toEqual(new Set(BIG));
    BIG.forEach((id, i) => {
      expect(stateOfRun(id)).toMatchObject({
        open: false,
        closeStatus: honours(i) ? 'CANCELED' : 'TERMINATED',
      });
    });
    const terminated = server.terminations.map((t) => t.workflowId);
    expect([...terminated].sort()).toEqual(BIG.filter((_, i) => !honours(i)));
    for (const t of server.terminations) {
      expect(readProvenance(t.details!)?.jobId).toMatch(/^big-1-grace-\d+$/);
    }
  });

  // A job lists its selector again in every chunk: a run it asked to cancel that ignores the request is still
  // listed (cancelRequested: true), and must not be asked, counted or handed to a follow-up again.
  test('each run is asked to cancel once and handed to exactly one follow-up; the totals add up', async () => {
    const { followUps, sfn, swf: server } = await runCancelJob();

    // THEN every run was asked to cancel exactly once, and the job counted each once
    const asked = server.cancellations().map((c) => c.workflowId);
    expect([...asked].sort()).toEqual(BIG);
    expect(lastState(sfn, 'big-1')?.totals).toMatchObject({ matched: 40, cancelRequested: 40, failed: 0 });
    // every run was handed to exactly one follow-up
    const handed = followUps.flatMap((name) => {
      const input = JSON.parse(sfn.executions.get(name)!.input) as JobState;
      return (input.request.executions as { workflowId: string }[]).map((e) => e.workflowId);
    });
    expect([...handed].sort()).toEqual(BIG);
    // and the follow-ups' totals add up to the runs: 20 terminated, 20 closed by their deciders
    const sum = followUps
      .map((name) => lastState(sfn, name)!.totals)
      .reduce(
        (a, t) => ({
          terminated: a.terminated + t.terminated,
          alreadyClosed: a.alreadyClosed + t.alreadyClosed,
        }),
        {
          terminated: 0,
          alreadyClosed: 0,
        },
      );
    expect(sum).toEqual({ terminated: 20, alreadyClosed: 20 });
  });
});
