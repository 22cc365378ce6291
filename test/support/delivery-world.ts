/**
 * A world for the at-least-once property test (test/lambda/flows/deliveries.test.ts) and its soak script
 * (scripts/soak-deliveries.ts): the real handler over the real SDK clients, the fake SWF server, and the
 * synthesized state machine on the fake Step Functions server, driven through random interleavings of
 * deliveries (first ones and duplicates, inline or as jobs), aborts, chunk failures, slow answers, cancel
 * requests SWF refuses, re-sends under a new id, redeployments that allow less, and time passing.
 *
 * Two clocks: the wall clock (abort latency: what a chunk's watch sees) and a test clock that runs with it
 * and jumps when the world advances time (grace periods: the handler's `now`, Step Functions' dates, SWF's
 * `clockAt`). What the world observes is what SWF saw (its terminations and cancel requests, with the
 * provenance block every termination carries) and what the terminator answered; the invariants are checked
 * against those, never against the handler's internals.
 */
import fc from 'fast-check';
import type { Env } from '../../lambda/config';
import type { Handler, HandlerContext } from '../../lambda/handler';
import { readProvenance } from '../../lambda/job/provenance';
import { createJobs, createSfnClient } from '../../lambda/aws/jobs';
import { definitionFromTemplate, FakeSfnServer } from './fake-sfn';
import { type FakeExecution, FakeSwfServer } from './fake-swf';
import { synthTerminator } from './construct-helpers';
import { bulkHandler, memoryProgressLog, STATE_MACHINE_ARN } from './handler-bulk';
import { DOMAIN } from './handler-fixtures';

const CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:terminator';

/** The terminator's settings in this world: jobs in short chunks, requests may cancel. */
const ENV: Env = {
  STATE_MACHINE_ARN,
  // Slow enough that a job of the sweep's 40 runs works for about four seconds: long enough to be aborted,
  // to meet its duplicates and retries, and to notice a slow Step Functions.
  TERMINATE_RATE_PER_SECOND: '10',
  TERMINATE_BURST: '1',
  MAX_EXECUTIONS: '5000',
  JOB_CHUNK_SECONDS: '0.3',
  CANCEL_REQUESTS: 'true',
  CANCEL_DOMAINS: 'orders,billing',
};

/** The promise the terminator makes about an abort: nothing terminated later than this after it (ms). */
export const ABORT_BOUND_MS = 2_000;
const GRACE_SECONDS = 60;

const hourAgo = Math.floor(Date.now() / 1000) - 3600;
const run = (workflowId: string, tag: string, honoursCancel = false): FakeExecution => ({
  domain: DOMAIN,
  workflowId,
  runId: `run-${workflowId}`,
  workflowType: { name: 'OrderFlow', version: '1' },
  startTimestamp: hourAgo,
  tagList: [tag],
  honoursCancel,
});
const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

const SWEPT = ids('s-', 40);
const LISTED = ids('l-', 4);
const ASKED = ids('c-', 3);
const BYSTANDERS = ids('keep-', 4);

/** A request the world can deliver, and what it names or matches. */
interface RequestSpec {
  readonly id: string;
  readonly detail: Record<string, unknown>;
  readonly runs: readonly string[];
  /** cancelThenTerminate's grace period (s); absent for the other actions. */
  readonly grace?: number;
}

const exactly = (workflowIds: readonly string[]) =>
  workflowIds.map((workflowId) => ({ workflowId, runId: `run-${workflowId}` }));

/** The catalogue: a selector, a list, a cancelThenTerminate, and its re-send (a new id) for one run. */
export const REQUESTS: readonly RequestSpec[] = [
  { id: 'evt-sweep', detail: { domain: DOMAIN, selector: { tag: 'sweep' } }, runs: SWEPT },
  { id: 'evt-list', detail: { domain: DOMAIN, executions: exactly(LISTED) }, runs: LISTED },
  {
    id: 'evt-ct',
    detail: {
      domain: DOMAIN,
      executions: exactly(ASKED),
      action: 'cancelThenTerminate',
      gracePeriodSeconds: GRACE_SECONDS,
    },
    runs: ASKED,
    grace: GRACE_SECONDS,
  },
  // The README's advice when SWF refuses a cancel request: send the request again, under a new id, for the
  // run it refused (the first one asked is the one the world makes SWF refuse).
  {
    id: 'evt-ct-again',
    detail: {
      domain: DOMAIN,
      executions: exactly(['c-1']),
      action: 'cancelThenTerminate',
      gracePeriodSeconds: GRACE_SECONDS,
    },
    runs: ['c-1'],
    grace: GRACE_SECONDS,
  },
];

let definition: object | undefined;

/** The synthesized state machine definition (synthesized once per process). */
function jobDefinition(): object {
  definition ??= definitionFromTemplate(
    synthTerminator({ domains: ['orders', 'billing'] }).template,
    FUNCTION_ARN,
  );
  return definition;
}

/**
 * Promises a soak run may set aside (`SOAK_IGNORE=status,grace`), to look for counterexamples of the others
 * once one is known: `abort`, `grace`, `status`. `npm test` never sets it.
 */
const IGNORED = new Set((process.env.SOAK_IGNORE ?? '').split(',').filter((x) => x !== ''));

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What one delivery of a request answered. */
interface Delivery {
  readonly spec: RequestSpec;
  readonly requestId: string;
  readonly settled: Promise<void>;
  outcome?: { readonly answer: unknown } | { readonly error: unknown };
}

/** The test clock: the wall clock plus a lead that grows when the world advances time. */
class TestClock {
  lead = 0;
  readonly now = (): number => Date.now() + this.lead;
}

export class DeliveryWorld {
  private readonly sent = new Map<string, { event: Record<string, unknown> }>();
  private readonly deliveries: Delivery[] = [];
  /** Wall-clock time each request's abort was acknowledged (the first acknowledgement). */
  readonly abortedAt = new Map<string, number>();
  /** The invocations (by request id) the redeployment in preview mode served: they terminate nothing. */
  private readonly servedInPreview = new Set<string>();
  private preview = false;
  private failNextChunk: 'before' | 'after' | undefined;
  private deliveriesMade = 0;
  private handler!: Handler;
  private control!: Handler;
  /** The functions' log group, as far as job progress goes (chunks write it, a status reads it). */
  private readonly progress = memoryProgressLog();
  /** What the world did, for a failure's message. */
  readonly log: string[] = [];

  private constructor(
    readonly swf: FakeSwfServer,
    readonly sfn: FakeSfnServer,
    private readonly clock: TestClock,
  ) {}

  static async create(): Promise<DeliveryWorld> {
    const clock = new TestClock();
    const now = clock.now;
    const swf = await FakeSwfServer.start({
      domains: [DOMAIN],
      executions: [
        ...SWEPT.map((id) => run(id, 'sweep')),
        ...LISTED.map((id) => run(id, 'list')),
        ...ASKED.map((id) => run(id, 'ct')),
        ...BYSTANDERS.map((id) => run(id, 'keep')),
      ],
      now,
    });
    const box: { world?: DeliveryWorld } = {};
    const sfn = await FakeSfnServer.start({
      definition: jobDefinition(),
      stateMachineArn: STATE_MACHINE_ARN,
      waitMs: 20,
      now,
      invoke: (event, context) => {
        const world = box.world;
        if (world === undefined) throw new Error('no world');
        const failing = world.failNextChunk;
        world.failNextChunk = undefined;
        if (failing === 'before') {
          throw Object.assign(new Error('the chunk failed (injected)'), { name: 'Error' });
        }
        if (world.preview) world.servedInPreview.add(context.awsRequestId);
        const answer = world.handler(event, context);
        if (failing !== 'after') return answer;
        // It acted, and then its answer was lost: Step Functions retries it with the state before it.
        return answer.then(() => {
          throw Object.assign(new Error('the answer was lost (injected)'), { name: 'Error' });
        });
      },
    });
    const world = new DeliveryWorld(swf, sfn, clock);
    box.world = world;
    world.handler = world.build(ENV);
    world.control = world.build({ STATE_MACHINE_ARN, CONTROL_ONLY: 'true' });
    return world;
  }

  /** A handler of the terminator deployed with `env`, on the world's servers and test clock. */
  private build(env: Env): Handler {
    return bulkHandler(this.swf, env, {
      jobs: createJobs(
        createSfnClient({ endpoint: this.sfn.endpoint, region: 'us-east-1', credentials: CREDENTIALS }),
        STATE_MACHINE_ARN,
      ),
      now: () => new Date(this.now()),
      progress: this.progress,
    }).handler;
  }

  /** The test clock (ms since the epoch). */
  now(): number {
    return this.clock.now();
  }

  private context(requestId: string, workingMs: number): HandlerContext {
    return {
      awsRequestId: requestId,
      getRemainingTimeInMillis: () => workingMs + 1_000,
    };
  }

  // -------------------------------------------------------------------------------------------------------
  // What the world can do

  /**
   * Delivers request `index` (its first delivery, or a duplicate: the same event again), with enough working
   * time to act inline or too little (a job). Waits a little for the answer; the invocation runs on.
   */
  async deliver(index: number, inline: boolean): Promise<void> {
    const spec = REQUESTS[index]!;
    let sent = this.sent.get(spec.id);
    if (sent === undefined) {
      sent = {
        event: {
          version: '0',
          id: spec.id,
          'detail-type': 'SWF Termination Request',
          source: 'ops.incident',
          account: '123456789012',
          time: new Date(this.now()).toISOString(),
          region: 'us-east-1',
          resources: [],
          detail: spec.detail,
        },
      };
      this.sent.set(spec.id, sent);
    }
    this.deliveriesMade += 1;
    const requestId = `delivery-${this.deliveriesMade}`;
    if (this.preview) this.servedInPreview.add(requestId);
    const event = JSON.parse(JSON.stringify(sent.event)) as unknown;
    const delivery: Delivery = {
      spec,
      requestId,
      settled: Promise.resolve(),
    };
    (delivery as { settled: Promise<void> }).settled = this.handler(
      event,
      this.context(requestId, inline ? 120_000 : 50),
    ).then(
      (answer) => {
        delivery.outcome = { answer };
      },
      (error: unknown) => {
        delivery.outcome = { error };
      },
    );
    this.deliveries.push(delivery);
    await Promise.race([delivery.settled, sleep(300)]);
  }

  /** Asks the control function to abort request `index`'s job; an acknowledged abort starts the clock. */
  async abort(index: number): Promise<void> {
    const spec = REQUESTS[index]!;
    const answer = (await this.control(
      { abort: { jobId: spec.id, reason: 'property test' } },
      this.context(`abort-${spec.id}-${Date.now()}`, 10_000),
    )) as { abort?: { outcome?: string } };
    const outcome = answer.abort?.outcome;
    this.log.push(`  abort ${spec.id}: ${outcome ?? JSON.stringify(answer)}`);
    if (outcome !== undefined && outcome !== 'not-found' && !this.abortedAt.has(spec.id)) {
      this.abortedAt.set(spec.id, Date.now());
    }
  }

  /** Moves the test clock on (grace periods pass; the wall clock does not). */
  advance(seconds: number): void {
    this.clock.lead += seconds * 1000;
  }

  /** Lets `ms` of wall-clock time pass (jobs work meanwhile). */
  async settle(ms: number): Promise<void> {
    await sleep(ms);
  }

  /**
   * The next chunk the state machine runs fails (Step Functions retries it): before the handler sees it, or
   * after it acted (its answer lost).
   */
  failChunk(when: 'before' | 'after' = 'before'): void {
    this.failNextChunk = when;
  }

  /** SWF answers every call this much later, from now on. */
  slowSwf(ms: number): void {
    this.swf.latencyMs = ms;
  }

  /** Step Functions answers every call this much later, from now on (a chunk's watch sees abort late). */
  slowSfn(ms: number): void {
    this.sfn.latencyMs = ms;
  }

  /** SWF refuses the next RequestCancelWorkflowExecution (the run is not asked). */
  refuseNextCancel(): void {
    this.swf.failNext('RequestCancelWorkflowExecution', 'not-permitted');
  }

  /**
   * Redeploys the terminating function in preview mode: every invocation from now on terminates nothing (a
   * job's next chunk stops it; an invocation already running finishes as it was accepted, as Lambda's do).
   */
  redeployPreview(): void {
    this.preview = true;
    this.handler = this.build({ ...ENV, DRY_RUN: 'true' });
  }

  // -------------------------------------------------------------------------------------------------------
  // Invariants

  /** Checks what must hold at every moment; throws naming the broken promise. */
  checkAlways(): void {
    const byId = new Map(REQUESTS.map((r) => [r.id, r]));
    const named = new Set(REQUESTS.filter((r) => this.sent.has(r.id)).flatMap((r) => r.runs));
    for (const t of this.swf.terminations) {
      const provenance = readProvenance(t.details ?? '');
      const requestId = provenance?.requestedBy.eventId;
      const spec = requestId === undefined ? undefined : byId.get(requestId);
      // Nothing acted on outside what the request that asked named or matched.
      if (spec === undefined || !this.sent.has(spec.id) || !spec.runs.includes(t.workflowId)) {
        this.fail(`${t.workflowId} was terminated, and no request sent named or matched it`);
      }
      // Nothing terminated more than ABORT_BOUND_MS after its request's abort was acknowledged.
      const aborted = this.abortedAt.get(spec.id);
      if (aborted !== undefined && t.at > aborted + ABORT_BOUND_MS && !IGNORED.has('abort')) {
        this.fail(
          `${t.workflowId} was terminated ${t.at - aborted} ms after the abort of ${spec.id} was acknowledged`,
        );
      }
      if (provenance !== undefined && this.servedInPreview.has(provenance.functionRequestId)) {
        this.fail(`${t.workflowId} was terminated by an invocation of the redeployment in preview mode`);
      }
      // No run terminated before its own grace period: SWF shows a cancel request on it at least the grace
      // period before (a cancelThenTerminate terminates only runs it asked, after their grace period).
      if (spec.grace !== undefined && !IGNORED.has('grace')) {
        const asked = this.swf
          .cancellations()
          .filter((c) => c.workflowId === t.workflowId && c.clockAt + spec.grace! * 1000 <= t.clockAt);
        if (asked.length === 0) {
          const last = this.swf
            .cancellations()
            .filter((c) => c.workflowId === t.workflowId)
            .map((c) => `${Math.round((t.clockAt - c.clockAt) / 1000)} s`);
          this.fail(
            `${t.workflowId} was terminated by ${spec.id} before its grace period of ${spec.grace} s ` +
              `(cancel requests on it: ${last.length === 0 ? 'none' : `${last.join(', ')} before`})`,
          );
        }
      }
    }
    for (const c of this.swf.cancellations()) {
      if (!named.has(c.workflowId)) this.fail(`${c.workflowId} was asked to cancel, and no request named it`);
      // A cancel request carries no provenance: one on a run only one request named is that request's.
      const askers = REQUESTS.filter((r) => this.sent.has(r.id) && r.runs.includes(c.workflowId));
      const aborted = askers.length === 1 ? this.abortedAt.get(askers[0]!.id) : undefined;
      if (aborted !== undefined && c.at > aborted + ABORT_BOUND_MS && !IGNORED.has('abort')) {
        this.fail(
          `${c.workflowId} was asked to cancel ${c.at - aborted} ms after the abort of ${askers[0]!.id} was acknowledged`,
        );
      }
    }
  }

  /**
   * Lets everything finish: deliveries answer, every job ends (the test clock jumps past every grace period).
   * Then checks what must hold at the end: every accepted request ended (done, aborted, or failed with its
   * record), and each job's status totals equal what SWF saw of it.
   */
  async quiesce(): Promise<void> {
    this.slowSwf(0);
    this.slowSfn(0);
    for (let round = 0; ; round++) {
      await Promise.all(this.deliveries.map((d) => d.settled));
      const running = [...this.sfn.executions.values()].filter((e) => e.status === 'RUNNING');
      if (running.length === 0) break;
      if (round >= 200) this.fail(`jobs never ended: ${running.map((e) => e.name).join(', ')}`);
      this.advance(GRACE_SECONDS * 2);
      await sleep(50);
    }
    this.checkAlways();
    for (const d of this.deliveries) {
      if (d.outcome === undefined) this.fail(`delivery ${d.requestId} of ${d.spec.id} never answered`);
    }
    for (const execution of this.sfn.executions.values()) {
      if (!['SUCCEEDED', 'FAILED', 'ABORTED'].includes(execution.status)) {
        this.fail(`job ${execution.name} ended ${execution.status}`);
      }
      if (execution.status === 'FAILED' && (execution.cause ?? '') === '') {
        this.fail(`job ${execution.name} failed without a cause`);
      }
      await this.checkStatus(execution.name);
    }
  }

  /**
   * The job's status totals equal every termination SWF saw for it (each termination's provenance names
   * its job): its chunks', the delivery that started it, a duplicate's that acted beside it, an inline run
   * an abort stopped.
   */
  private async checkStatus(jobId: string): Promise<void> {
    if (IGNORED.has('status')) return;
    // An invocation stopped with its job says its last word within the abort bound: until then the status
    // says its figures are not final (and is not held to them).
    let answer: { status?: { totals?: { terminated?: number }; final?: boolean } } = {};
    for (let look = 0; look < 60; look++) {
      answer = (await this.control(
        { status: { jobId } },
        this.context(`status-${jobId}`, 10_000),
      )) as typeof answer;
      if (answer.status?.final === true) break;
      await sleep(100);
    }
    if (answer.status?.final !== true)
      this.fail(`the status of job ${jobId} never said its figures were final`);
    const seen = this.swf.terminations.filter((t) => readProvenance(t.details ?? '')?.jobId === jobId).length;
    const said = answer.status.totals?.terminated ?? 0;
    if (said !== seen) {
      this.fail(`the status of job ${jobId} says ${said} terminated; SWF saw ${seen} terminations by it`);
    }
  }

  private fail(message: string): never {
    throw new Error(`${message}\nwhat happened:\n${this.log.join('\n')}`);
  }

  async close(): Promise<void> {
    await Promise.all(this.deliveries.map((d) => d.settled));
    await this.sfn.close();
    await this.swf.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Commands (fast-check's model-based testing): each does one thing to the world, then checks it.

type Cmd = fc.AsyncCommand<object, DeliveryWorld>;

function command(label: string, act: (w: DeliveryWorld) => Promise<void> | void): Cmd {
  return {
    check: () => true,
    async run(_model, world) {
      world.log.push(label);
      await act(world);
      world.checkAlways();
    },
    toString: () => label,
  };
}

/**
 * The world's steps as commands, by name: what the property test draws from, and what a counterexample it
 * found is written with (test/lambda/flows/deliveries.test.ts keeps each as an example).
 */
export const step = {
  deliver: (i: number, inline: boolean) =>
    command(`deliver ${REQUESTS[i]!.id} ${inline ? 'inline' : 'as a job'}`, (w) => w.deliver(i, inline)),
  abort: (i: number) => command(`abort ${REQUESTS[i]!.id}`, (w) => w.abort(i)),
  advance: (seconds: number) =>
    command(`advance the clock ${seconds} s`, (w) => {
      w.advance(seconds);
    }),
  wait: (ms: number) => command(`wait ${ms} ms`, (w) => w.settle(ms)),
  failChunk: (when: 'before' | 'after' = 'before') =>
    command(`fail the next chunk ${when === 'before' ? 'before it acts' : 'after it acted'}`, (w) => {
      w.failChunk(when);
    }),
  slowSwf: (ms: number) =>
    command(`SWF answers after ${ms} ms`, (w) => {
      w.slowSwf(ms);
    }),
  slowSfn: (ms: number) =>
    command(`Step Functions answers after ${ms} ms`, (w) => {
      w.slowSfn(ms);
    }),
  refuseNextCancel: () =>
    command('SWF refuses the next cancel request', (w) => {
      w.refuseNextCancel();
    }),
  redeployPreview: () =>
    command('redeploy in preview mode', (w) => {
      w.redeployPreview();
    }),
};

/** The catalogue's index of a request id. */
export const requestIndex = (id: string): number => REQUESTS.findIndex((r) => r.id === id);

const request = fc.integer({ min: 0, max: REQUESTS.length - 1 });
const deliver = fc.tuple(request, fc.boolean()).map(([i, inline]) => step.deliver(i, inline));
const abort = request.map((i) => step.abort(i));
const advance = fc
  .oneof(fc.integer({ min: 5, max: 120 }), fc.integer({ min: 120, max: 900 }))
  .map(step.advance);

/**
 * The commands. Deliveries (first ones and duplicates), aborts and the clock come up more often than the
 * faults, so that a short sequence is likely to interleave them.
 */
export const commands = fc.commands(
  [
    deliver,
    deliver,
    deliver,
    abort,
    abort,
    advance,
    advance,
    // Mostly short waits; now and then one past the abort bound, so a late duplicate meets a stopped job.
    fc
      .oneof(
        { weight: 3, arbitrary: fc.integer({ min: 20, max: 600 }) },
        { weight: 1, arbitrary: fc.integer({ min: 1500, max: 3000 }) },
      )
      .map(step.wait),
    fc.constantFrom('before' as const, 'after' as const).map(step.failChunk),
    fc.constantFrom(0, 300, 1500).map(step.slowSwf),
    fc.constantFrom(0, 700, 1500).map(step.slowSfn),
    fc.constant(null).map(step.refuseNextCancel),
    fc.constant(null).map(step.redeployPreview),
  ],
  { maxCommands: 14 },
);

/** Runs one sequence of commands in a fresh world, then lets it finish and checks the end state. */
export async function runSequence(cmds: Iterable<Cmd>): Promise<void> {
  const world = await DeliveryWorld.create();
  try {
    await fc.asyncModelRun(() => ({ model: {}, real: world }), cmds);
    world.log.push('quiesce');
    await world.quiesce();
  } finally {
    await world.close();
  }
}
