/**
 * cancelThenTerminate end to end: the synthesized state machine on the fake Step Functions server, the real
 * handler on the fake SWF server over HTTP. The request resolves its selector into the runs it matches, starts
 * ONE follow-up job with all of them (`<job id>-grace-<digest of its runs>`) BEFORE it asks any to cancel, then
 * asks them (inline, or in a job of its own when that takes too long). The follow-up waits in the GracePeriod
 * Wait state until each run has had the grace period since the asking ended (an asking job still running makes
 * it wait longer; an aborted one stops it), then terminates exactly the runs still open. The wait is shortened
 * (FakeSfnOptions.waitMs), and the handler's invocation time and the Step Functions fake's dates are one clock
 * the test sets (`now`), so the test decides when a grace period is over.
 */
import { createHash } from 'node:crypto';
import { SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { readProvenance } from '../../../lambda/act/provenance';
import type { ControlAnswer } from '../../../lambda/flows/control';
import { FOLLOW_UP_REASON } from '../../../lambda/flows/follow-up';
import { NOT_ASKED_ERROR } from '../../../lambda/act/run-checks';
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

/**
 * The follow-up's `notBefore` for a request at T0 with `ms` of working time (`workingTime`: the context says
 * `ms` + 1 s remain): the asking invocation's end at the latest, plus the grace period, on a whole second.
 */
const notBeforeOf = (ms: number) => wholeSecond(T0 + ms + 1_000 + GRACE_MS);

/** The handler's invocation time and the Step Functions fake's dates, as the test sets them. */
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
  return execution.events.map(
    (e) => JSON.parse((e.stateExitedEventDetails as { output: string }).output) as JobState,
  );
}

/** The runs a job's request names, in its order. */
function runsOf(state: JobState): { workflowId: string; runId: string }[] {
  return (state.request.executions as { workflowId: string; runId: string }[]).map((e) => ({
    workflowId: e.workflowId,
    runId: e.runId,
  }));
}

/** The follow-up's job id, as the design names it: the request's, `-grace-`, 12 hex digits of its runs. */
function followUpIdOf(jobId: string, runs: readonly { workflowId: string; runId: string }[]): string {
  const digest = createHash('sha256')
    .update(JSON.stringify(runs.map((r) => [r.workflowId, r.runId])))
    .digest('hex')
    .slice(0, 12);
  return `${jobId}-grace-${digest}`;
}

function stateOfRun(workflowId: string, runId = `run-${workflowId}`) {
  return swf!.execution(DOMAIN, workflowId, runId);
}

/**
 * Records each execution the Step Functions fake starts, in order, with how many RequestCancelWorkflowExecution
 * calls the SWF fake had received by then.
 */
function recordStarts(sfn: FakeSfnServer, server: FakeSwfServer): { name: string; cancelsBefore: number }[] {
  const starts: { name: string; cancelsBefore: number }[] = [];
  const start = sfn.startExecution.bind(sfn);
  sfn.startExecution = (name, input) => {
    starts.push({ name, cancelsBefore: server.callCount('RequestCancelWorkflowExecution') });
    return start(name, input);
  };
  return starts;
}

/** The first execution state in `execution`'s history entered after WaitFirst (the Choice every job starts on). */
const firstStep = (execution: SfnExecution) =>
  execution.transitions.find((t) => t.type.endsWith('StateEntered') && t.name !== 'WaitFirst');

const IGNORING = ['ignore-1', 'ignore-2', 'ignore-3'];
const HONOURING = ['honour-1', 'honour-2'];
/** The inline request's follow-up: the end of its 10 s of working time (11 s remaining) plus 60 s. */
const NOT_BEFORE = notBeforeOf(10_000);

/**
 * GIVEN five `ct` runs (three whose deciders ignore a cancel request, two that close when asked), one other
 * tag, and one `ct` run started after the request time; a rig whose handler's `now` is T0
 * WHEN the console asks to cancelThenTerminate the `ct` runs with a 60 s grace period, with 10 s of working time
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
  rig = await jobRig(swf, CANCELS, { waitMs: WAIT_MS, extra: { now: clock.now }, sfnNow: clock.ms });
  const starts = recordStarts(rig.sfn, swf);
  const report = asReport(
    await rig.handler(
      { domain: DOMAIN, selector: { tag: 'ct' }, action: 'cancelThenTerminate', gracePeriodSeconds: 60 },
      workingTime('ct-1', 10_000),
    ),
  );
  const followUp = report.followUp?.jobId ?? '';
  return { clock, report, sfn: rig.sfn, swf, rig, starts, followUp };
}

describe('cancelThenTerminate: cancel now, terminate what is still open after the grace period', () => {
  test('the follow-up job is started before any cancel, waits in GracePeriod, then terminates exactly the runs still open', async () => {
    const { clock, report, sfn, starts, followUp: FOLLOW_UP } = await requestCancelThenTerminate();

    // THEN the request asked the five matching runs to cancel, inline, and started one follow-up job
    expect(report).toMatchObject({ cancelRequested: 5, terminated: 0, matched: 5, failed: 0 });
    expect(report.job).toBeUndefined();
    expect(report.followUp).toEqual({
      jobId: FOLLOW_UP,
      executionArn: sfn.executionArn(FOLLOW_UP),
      notBefore: iso(NOT_BEFORE),
    });
    // ... with all five runs, named by the request's id and a digest of them, and the request as its parent
    const input = JSON.parse(sfn.executions.get(FOLLOW_UP)!.input) as JobState;
    const handed = runsOf(input);
    expect(handed.map((r) => [r.workflowId, r.runId]).sort()).toEqual(
      [...HONOURING, ...IGNORING].sort().map((id) => [id, `run-${id}`]),
    );
    expect(FOLLOW_UP).toMatch(/^ct-1-grace-[0-9a-f]{12}$/);
    expect(FOLLOW_UP).toBe(followUpIdOf('ct-1', handed));
    expect(input).toMatchObject({
      jobId: FOLLOW_UP,
      notBefore: iso(NOT_BEFORE),
      parent: { jobId: 'ct-1', graceSeconds: 60 },
      request: { action: 'terminate' },
    });
    // ... BEFORE any run was asked to cancel: it was the only execution started, with no cancel request made yet
    expect(starts).toEqual([{ name: FOLLOW_UP, cancelsBefore: 0 }]);
    expect(swf!.callCount('RequestCancelWorkflowExecution')).toBe(5);
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

    // AND the follow-up waits: it entered GracePeriod first, its chunks (before notBefore) terminated nothing
    await until(() => answered(sfn.executions.get(FOLLOW_UP)).length >= 3, 'three chunks of the follow-up');
    const followUp = sfn.executions.get(FOLLOW_UP)!;
    expect(followUp.status).toBe('RUNNING');
    expect(firstStep(followUp)).toEqual(
      expect.objectContaining({ type: 'WaitStateEntered', name: JOB_WAIT_STATE }),
    );
    expect(swf!.terminations).toEqual([]);
    expect(swf!.callCount('TerminateWorkflowExecution')).toBe(0);

    // WHEN the grace period is over (the request asked inline: no job of its id to wait for)
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
    // one follow-up, and no other job
    expect([...sfn.executions.keys()]).toEqual([FOLLOW_UP]);
  });

  test('a chunk invoked before notBefore answers its state unchanged, and the job waits again', async () => {
    const { sfn, followUp: FOLLOW_UP } = await requestCancelThenTerminate();
    const callsAfterRequest = swf!.callCount();

    // WHEN the follow-up's chunks run while the handler's `now` (T0) is before notBefore
    await until(() => answered(sfn.executions.get(FOLLOW_UP)).length >= 2, 'two chunks of the follow-up');
    const followUp = sfn.executions.get(FOLLOW_UP)!;

    // THEN each chunk was given the job's first state and answered it unchanged
    const input = JSON.parse(followUp.input) as JobState;
    expect(input).toMatchObject({
      jobId: FOLLOW_UP,
      notBefore: iso(NOT_BEFORE),
      parent: { jobId: 'ct-1', graceSeconds: 60 },
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
    const { clock, sfn, followUp: FOLLOW_UP } = await requestCancelThenTerminate();
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
  /** The follow-up's first `notBefore`: the request's 0.2 s of working time (1.2 s remaining), plus 60 s. */
  const BIG_NOT_BEFORE = notBeforeOf(200);

  /**
   * GIVEN 40 `big` runs, every other one honouring a cancel request (a few more with another tag), on one
   * clock the test sets (T0); a rig with `env`
   * WHEN the request `jobId` arrives with 0.2 s of working time, too little to ask them all
   * THEN it becomes a job (too large), and the follow-up is started too, first
   */
  async function requestCancelJob(jobId: string, env: Record<string, string>, hold?: Handler) {
    swf = await FakeSwfServer.start({
      domains: [DOMAIN],
      executions: [
        ...BIG.map((id, i) =>
          run(id, { tag: 'big', honoursCancel: honours(i), start: T0_SECONDS - 3600 - i }),
        ),
        run('keep-1', { tag: 'keep' }),
      ],
    });
    const clock = testClock(T0);
    rig = await jobRig(
      swf,
      { ...CANCELS, ...env },
      { waitMs: WAIT_MS, extra: { now: clock.now }, sfnNow: clock.ms },
    );
    if (hold !== undefined) rig.setChunkHandler(hold);
    const starts = recordStarts(rig.sfn, swf);
    const report = asReport(
      await rig.handler(
        { domain: DOMAIN, selector: { tag: 'big' }, action: 'cancelThenTerminate', gracePeriodSeconds: 60 },
        workingTime(jobId, 200),
      ),
    );
    expect(report.job).toMatchObject({ state: 'started', reason: 'too-large' });
    expect(report).toMatchObject({ cancelRequested: 0, terminated: 0 });
    const followUp = report.followUp!.jobId;
    expect(starts).toEqual([
      { name: followUp, cancelsBefore: 0 },
      { name: jobId, cancelsBefore: 0 },
    ]);
    return { clock, report, followUp, sfn: rig.sfn, swf };
  }

  test('one follow-up for all runs; it waits while the asking job runs, and terminates after it stopped + grace', async () => {
    // GIVEN the asking job's chunks (25 cancel requests a second, a burst of 5, 0.4 s chunks) held before its
    // second chunk until the test lets it go
    let askingChunks = 0;
    let holding = false;
    let release: () => void = () => undefined;
    const released = new Promise<void>((r) => {
      release = r;
    });
    const hold: Handler = async (event, context) => {
      if ((event as { execution?: string }).execution === rig!.sfn.executionArn('big-1')) {
        askingChunks += 1;
        if (askingChunks === 2) {
          holding = true;
          await released;
        }
      }
      return rig!.handler(event, context);
    };
    const {
      clock,
      report,
      followUp: FOLLOW_UP,
      sfn,
      swf: server,
    } = await requestCancelJob('big-1', { TERMINATE_BURST: '5', JOB_CHUNK_SECONDS: '0.4' }, hold);

    // THEN one follow-up was started, by the request, with all 40 runs, before the job asked any to cancel
    expect(report.followUp).toEqual({
      jobId: FOLLOW_UP,
      executionArn: sfn.executionArn(FOLLOW_UP),
      notBefore: iso(BIG_NOT_BEFORE),
    });
    const input = JSON.parse(sfn.executions.get(FOLLOW_UP)!.input) as JobState;
    const handed = runsOf(input);
    expect(handed.map((r) => r.workflowId).sort()).toEqual(BIG);
    expect(FOLLOW_UP).toBe(followUpIdOf('big-1', handed));
    expect(input).toMatchObject({
      notBefore: iso(BIG_NOT_BEFORE),
      parent: { jobId: 'big-1', graceSeconds: 60 },
    });
    // the asking job asked some in its first chunk, and is held before its second
    await until(() => holding, 'the second chunk of the asking job');
    const askedInFirstChunk = server.cancellations().length;
    expect(askedInFirstChunk).toBeGreaterThan(0);
    expect(askedInFirstChunk).toBeLessThan(40);

    // WHEN the follow-up's notBefore passes while the asking job runs
    clock.set(BIG_NOT_BEFORE + 1_000);
    const pushed = wholeSecond(BIG_NOT_BEFORE + 1_000 + GRACE_MS);
    const followUp = sfn.executions.get(FOLLOW_UP)!;
    await until(
      () => chunkOutputs(followUp).some((s) => s.notBefore === iso(pushed)),
      'the follow-up to push its notBefore',
    );

    // THEN it waits a grace period more, terminating nothing
    expect(sfn.executions.get('big-1')!.status).toBe('RUNNING');
    expect(followUp.status).toBe('RUNNING');
    expect(server.callCount('TerminateWorkflowExecution')).toBe(0);

    // WHEN the asking job, let go, asks the rest and stops (at the clock's time then: S)
    clock.set(BIG_NOT_BEFORE + 30_000);
    release();
    const main = await sfn.finished('big-1');
    const stoppedAt = main.stopDate!;
    expect(stoppedAt).toBe(BIG_NOT_BEFORE + 30_000);
    // AND the pushed notBefore passes, less than a grace period after S
    clock.set(pushed);
    await until(
      () => chunkOutputs(followUp).some((s) => s.notBefore === iso(wholeSecond(stoppedAt + GRACE_MS))),
      'the follow-up to wait until S + grace',
    );

    // THEN it waits until S + grace, still terminating nothing
    expect(followUp.status).toBe('RUNNING');
    expect(server.callCount('TerminateWorkflowExecution')).toBe(0);

    // WHEN S + grace passes
    const graceOverAt = Date.now();
    clock.set(stoppedAt + GRACE_MS);
    const execution = await sfn.finished(FOLLOW_UP);

    // THEN the asking job succeeded in several chunks, asking each run to cancel exactly once
    expect(main.status).toBe('SUCCEEDED');
    const outputs = chunkOutputs(main);
    expect(outputs.length).toBeGreaterThanOrEqual(2);
    expect(lastState(sfn, 'big-1')?.totals).toMatchObject({ matched: 40, cancelRequested: 40, failed: 0 });
    const asked = server.cancellations().map((c) => c.workflowId);
    expect([...asked].sort()).toEqual(BIG);
    expect(server.callCount('RequestCancelWorkflowExecution')).toBe(40);
    // and no chunk started a follow-up: the one the request started is the only other job
    expect([...sfn.executions.keys()].sort()).toEqual(['big-1', FOLLOW_UP].sort());
    // the follow-up succeeded only after S + grace: the runs whose deciders ignored the request terminated
    // (once), the others already closed; the totals add up
    expect(execution.status).toBe('SUCCEEDED');
    const final = lastState(sfn, FOLLOW_UP)!;
    expect(final).toMatchObject({
      status: 'done',
      totals: { matched: 40, terminated: 20, alreadyClosed: 20, noOpenRun: 0, failed: 0 },
    });
    expect(Date.parse(final.lastProgressAt!)).toBeGreaterThanOrEqual(stoppedAt + GRACE_MS);
    const terminated = server.terminations.map((t) => t.workflowId);
    expect([...terminated].sort()).toEqual(BIG.filter((_, i) => !honours(i)));
    for (const t of server.terminations) {
      expect(t.at).toBeGreaterThanOrEqual(graceOverAt);
      expect(readProvenance(t.details!)?.jobId).toBe(FOLLOW_UP);
    }
    // every run asked ends terminated or closed by its decider; the other tag is untouched
    BIG.forEach((id, i) => {
      expect(stateOfRun(id)).toMatchObject({
        open: false,
        closeStatus: honours(i) ? 'CANCELED' : 'TERMINATED',
      });
    });
    expect(stateOfRun('keep-1')).toEqual({ open: true, cancelRequested: false });
  });

  test('the asking job fails to start: nothing is asked, and the follow-up terminates nothing', async () => {
    // GIVEN a state machine that starts the follow-up but refuses the asking job
    swf = await FakeSwfServer.start({
      domains: [DOMAIN],
      executions: BIG.map((id, i) => run(id, { tag: 'big', start: T0_SECONDS - 3600 - i })),
    });
    const clock = testClock(T0);
    // (a burst of 5 cancel requests: the 40 could not all be asked in 0.2 s, so the asking is a job)
    rig = await jobRig(
      swf,
      { ...CANCELS, TERMINATE_BURST: '5' },
      { waitMs: WAIT_MS, extra: { now: clock.now }, sfnNow: clock.ms },
    );
    const start = rig.sfn.startExecution.bind(rig.sfn);
    rig.sfn.startExecution = (name, input) => {
      if (name === 'nf-1') throw new Error('the asking job could not be started');
      return start(name, input);
    };

    // WHEN the request, too large for one invocation, arrives
    const error = await rig
      .handler(
        { domain: DOMAIN, selector: { tag: 'big' }, action: 'cancelThenTerminate', gracePeriodSeconds: 60 },
        workingTime('nf-1', 200),
      )
      .catch((e: unknown) => e);

    // THEN it fails (kept for a retry, then the dead-letter queue), having asked nothing
    expect(error).toMatchObject({ name: 'JobHandOffError', message: expect.stringMatching(/^job nf-1: /) });
    expect(swf.callCount('RequestCancelWorkflowExecution')).toBe(0);
    const [followUpId] = [...rig.sfn.executions.keys()];
    expect(followUpId).toMatch(/^nf-1-grace-[0-9a-f]{12}$/);

    // WHEN the follow-up's grace period ends (there is no asking job to wait for)
    clock.set(BIG_NOT_BEFORE + 1_000);
    const followUp = await rig.sfn.finished(followUpId!);

    // THEN it terminated nothing: SWF shows none of the runs was asked to cancel; it ended failed, naming them
    expect(swf.terminations).toEqual([]);
    expect(swf.callCount('TerminateWorkflowExecution')).toBe(0);
    expect(followUp.status).toBe('FAILED');
    const final = lastState(rig.sfn, followUpId!)!;
    expect(final).toMatchObject({ status: 'failed', totals: { matched: 40, terminated: 0, failed: 40 } });
    expect(final.failures[0]?.error).toBe(NOT_ASKED_ERROR);
    for (const id of BIG) expect(stateOfRun(id)).toEqual({ open: true, cancelRequested: false });
  });

  test('aborting the asking job stops the follow-up before it terminates anything', async () => {
    // GIVEN a slow asking job: the cancel rate in 5 shares (5 a second, a burst of 1), one long chunk
    const {
      clock,
      followUp: FOLLOW_UP,
      sfn,
      swf: server,
    } = await requestCancelJob('ab-1', {
      TERMINATE_RATE_SHARES: '5',
      TERMINATE_BURST: '5',
      JOB_CHUNK_SECONDS: '30',
    });
    await until(() => server.cancellations().length >= 5, 'the asking job to ask five runs');

    // WHEN the asking job is aborted while it asks
    const answer = (await rig!.handler(
      { abort: { jobId: 'ab-1', reason: 'wrong tag (INC-11)' } },
      { awsRequestId: 'ops-abort' },
    )) as ControlAnswer;
    expect(answer).toMatchObject({ abort: { jobId: 'ab-1', outcome: 'stopped' } });
    const asking = await sfn.finished('ab-1');
    expect(asking.status).toBe('ABORTED');
    // (its chunk notices the abort, and ends, within a poll)
    await until(() => asking.chunks.length >= 1, "the asking job's chunk to end");
    const asked = server.cancellations().map((c) => c.workflowId);
    expect(asked.length).toBeLessThan(40);
    expect(sfn.executions.get(FOLLOW_UP)!.status).toBe('RUNNING');
    // AND the follow-up's grace period ends
    clock.set(BIG_NOT_BEFORE + 1_000);
    const followUp = await sfn.finished(FOLLOW_UP);

    // THEN the follow-up ended aborted, naming the asking job, and terminated nothing
    expect(followUp.status).toBe('FAILED');
    expect(followUp.error).toBe('JobAborted');
    const final = lastState(sfn, FOLLOW_UP)!;
    expect(final).toMatchObject({ status: 'aborted', chunks: 0, totals: { matched: 0, terminated: 0 } });
    expect(final.summary).toMatch(/job ab-1 was aborted/);
    expect(server.terminations).toEqual([]);
    expect(server.callCount('TerminateWorkflowExecution')).toBe(0);
    // the runs asked stay as their deciders left them, the others open, never asked
    BIG.forEach((id, i) => {
      const state = stateOfRun(id);
      if (!asked.includes(id)) expect(state).toEqual({ open: true, cancelRequested: false });
      else if (honours(i)) expect(state).toMatchObject({ open: false, closeStatus: 'CANCELED' });
      else expect(state).toEqual({ open: true, cancelRequested: true });
    });
  });
});
