/**
 * Per-request benchmark: one termination through the handler against the raw SDK call, in the same run,
 * against the same local zero-latency SWF (test/support/fake-swf.ts, in this process).
 *
 * What is measured is what the construct deploys: bench/per-request-child.ts is bundled with esbuild with the
 * construct's settings (lib/handler-bundling.ts, as bench/cold-start.ts and bench/bulk.ts do), the SDK inside
 * it, and run with plain `node` and the construct's NODE_OPTIONS. One process per kind of call, so each holds
 * one SDK and runs one path, as a function does:
 *  - handler: a console request `{ domain, workflowId, runId }` through the handler's entry point;
 *  - raw SDK, bare: `new SWFClient({})` (the SDK's defaults), domain / workflowId / runId: issue 3's baseline,
 *    the headline;
 *  - raw SDK, handler's payload: plus the reason, details and childPolicy the handler sent (read off the
 *    fake server's record of the handler's first call), so same-payload / bare is the payload's cost;
 *  - raw SDK, handler's payload and client settings (`createSwfClient()`: its retry strategy, timeouts and
 *    cached middleware stack), so handler / this is the handler's own overhead alone.
 * The processes take turns (blocks of 50 calls each, rotating, after a warm-up), so only one client runs at a
 * time and drift (GC, the server's state, the machine) hits every kind alike. Every process gets the
 * environment variables Lambda sets that change per-call work (a function name and an X-Ray trace id); the
 * handler's Lambda context is built outside the timed region, as the runtime builds it. Figures are ratios
 * of per-call medians.
 *
 * The handler's pacing is set far above the call rate (TERMINATE_RATE_PER_SECOND / TERMINATE_BURST, printed):
 * this measures the handler's per-request cost; pacing is bench/bulk.ts's subject, and with the default
 * 50/s back-to-back requests would each wait ~20 ms for a token.
 *
 * Run alone: `npx tsx bench/per-request.ts` (BENCH_CALLS=N, default 2000 of each kind; BENCH_TERMINATE_RATE /
 * BENCH_TERMINATE_BURST to change the handler's pacing).
 */
import { type ChildProcess, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { FakeSwfServer, makeExecutions } from '../test/support/fake-swf';
import { stderrLines } from './child-result';
import { BUNDLE_OPTIONS } from '../scripts/bundle-handler';
import type { ChildMessage, Kind, ParentMessage, TerminatePayload } from './per-request-child';
import { fmt, median, quantile, ratio, table } from './stats';

const DOMAIN = 'bench';

/**
 * The handler's pacing for this benchmark: high enough never to wait. It measures the handler's own cost
 * per request, not pacing (that is bench/bulk.ts): with the default 50/s, back-to-back requests would wait
 * ~20 ms each for a token. BENCH_TERMINATE_RATE / BENCH_TERMINATE_BURST override it.
 */
const PACING = {
  rate: process.env.BENCH_TERMINATE_RATE ?? '1000000',
  burst: process.env.BENCH_TERMINATE_BURST ?? '1000000',
};

const KINDS: readonly { kind: Kind; label: string; prefix: string }[] = [
  { kind: 'handler', label: 'handler (console request)', prefix: 'h-' },
  { kind: 'raw-bare', label: 'raw SDK send(), bare', prefix: 'r-' },
  { kind: 'raw-payload', label: "raw SDK send(), handler's payload", prefix: 'p-' },
  {
    kind: 'raw-payload-config',
    label: "raw SDK send(), handler's payload + client settings",
    prefix: 'c-',
  },
];

export interface PerRequestResult {
  status: 'ok' | 'not-implemented' | 'error';
  rows: string[][];
  notes: string[];
}

class ChildFailure extends Error {}

/** How long a child may take to answer one message (a warm-up or a block) before the run is abandoned. */
const ANSWER_TIMEOUT_MS = 120_000;

/** One measuring process: answers one message per request, in order. */
class Child {
  stderr = '';
  /** The question waiting for its answer: settled once, by the answer or by whichever failure comes first. */
  private waiting?: { settle: (outcome: { answer: ChildMessage } | { failure: Error }) => void };
  private exited = false;

  constructor(
    readonly kind: Kind,
    private readonly proc: ChildProcess,
  ) {
    proc.stderr?.on('data', (chunk: Buffer) => {
      if (this.stderr.length < 100_000) this.stderr += chunk.toString('utf8');
    });
    proc.on('message', (answer: ChildMessage) => {
      this.waiting?.settle({ answer });
    });
    proc.on('error', (err) => {
      this.fail(`the ${kind} child failed: ${err.message}`);
    });
    proc.on('exit', (code) => {
      this.exited = true;
      this.fail(`the ${kind} child exited with ${String(code)}: ${this.stderr.slice(0, 2000)}`);
    });
  }

  private fail(message: string): void {
    this.waiting?.settle({ failure: new ChildFailure(message) });
  }

  ask(m: ParentMessage): Promise<ChildMessage> {
    if (this.exited) return Promise.reject(new ChildFailure(`the ${this.kind} child has exited`));
    return new Promise<ChildMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(`the ${this.kind} child did not answer ${m.type} within ${ANSWER_TIMEOUT_MS / 1000} s`);
      }, ANSWER_TIMEOUT_MS);
      this.waiting = {
        settle: (outcome) => {
          this.waiting = undefined;
          clearTimeout(timer);
          if ('answer' in outcome) resolve(outcome.answer);
          else reject(outcome.failure);
        },
      };
      this.proc.send(m, (err) => {
        if (err) this.fail(`sending ${m.type} to the ${this.kind} child failed: ${err.message}`);
      });
    });
  }

  stop(): void {
    if (!this.exited) this.proc.kill();
  }
}

function problem(m: ChildMessage, kind: Kind): PerRequestResult | undefined {
  if ('status' in m) return { status: 'error', rows: [], notes: [`the ${kind} child failed: ${m.detail}`] };
  if (m.type === 'not-implemented') {
    return { status: 'not-implemented', rows: [], notes: [`handler not implemented (${m.detail})`] };
  }
  return undefined;
}

export async function runPerRequest(
  calls = Number(process.env.BENCH_CALLS ?? 2000),
): Promise<PerRequestResult> {
  const warmup = 200;
  const block = 50;
  const total = calls + warmup + block;
  const server = await FakeSwfServer.start({
    domains: [DOMAIN],
    executions: KINDS.flatMap((k) => makeExecutions(total, { domain: DOMAIN, prefix: k.prefix })),
    latencyMs: 0,
    recordCalls: false,
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swf-terminator-per-request-'));
  const children: Child[] = [];
  try {
    const file = path.join(dir, 'per-request-child.js');
    await build({
      ...BUNDLE_OPTIONS,
      entryPoints: [path.join(__dirname, 'per-request-child.ts')],
      logLevel: 'error',
      outfile: file,
    });
    const spawn = (kind: Kind): Child => {
      const child = new Child(
        kind,
        fork(file, [], {
          stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            NODE_OPTIONS: '--enable-source-maps',
            AWS_ENDPOINT_URL_SWF: server.endpoint,
            AWS_REGION: 'us-east-1',
            AWS_ACCESS_KEY_ID: 'x',
            AWS_SECRET_ACCESS_KEY: 'x',
            ALLOWED_DOMAINS: DOMAIN,
            POWERTOOLS_SERVICE_NAME: 'swf-terminator',
            POWERTOOLS_METRICS_NAMESPACE: 'SwfTerminator',
            TERMINATE_RATE_PER_SECOND: PACING.rate,
            TERMINATE_BURST: PACING.burst,
            // What Lambda sets for every invocation: Powertools logs the trace id, and the SDK's
            // recursion-detection middleware sends it as a header, in the handler and the raw calls alike.
            AWS_LAMBDA_FUNCTION_NAME: 'swf-terminator-bench',
            _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
            BENCH_KIND: kind,
            BENCH_DOMAIN: DOMAIN,
            BENCH_WARMUP: String(warmup),
          },
        }),
      );
      children.push(child);
      return child;
    };

    // The handler first: its first termination is the payload the raw "payload" kinds copy.
    const handlerChild = spawn('handler');
    const handlerReady = await handlerChild.ask({ type: 'start' });
    const handlerProblem = problem(handlerReady, 'handler');
    if (handlerProblem) return handlerProblem;
    const t = server.terminations.find((x) => x.workflowId === 'h-0');
    if (t === undefined) {
      return {
        status: 'error',
        rows: [],
        notes: ["the fake server recorded no termination for the handler's first call"],
      };
    }
    const payload: TerminatePayload = {
      ...(t.reason === undefined ? {} : { reason: t.reason }),
      ...(t.details === undefined ? {} : { details: t.details }),
      ...(t.childPolicy === undefined
        ? {}
        : { childPolicy: t.childPolicy as NonNullable<TerminatePayload['childPolicy']> }),
    };
    for (const k of KINDS.slice(1)) {
      const m = await spawn(k.kind).ask({ type: 'start', payload });
      const p = problem(m, k.kind);
      if (p) return p;
    }

    // Measured: the processes take turns, a block each, until every kind has `calls` samples.
    // Each round's block medians too, for ratios paired within a round (drift between rounds cancels out).
    const ms = new Map<Kind, number[]>(KINDS.map((k) => [k.kind, []]));
    const rounds: Map<Kind, number>[] = [];
    while ([...ms.values()].some((v) => v.length < calls)) {
      const round = new Map<Kind, number>();
      for (const child of children) {
        const got = ms.get(child.kind)!;
        if (got.length >= calls) continue;
        const m = await child.ask({ type: 'block', calls: Math.min(block, calls - got.length) });
        if (!('type' in m) || m.type !== 'block-done')
          return problem(m, child.kind) ?? unexpected(child.kind);
        got.push(...m.ms);
        round.set(child.kind, median(m.ms));
      }
      rounds.push(round);
    }
    const paired = (a: Kind, b: Kind): number =>
      median(
        rounds.flatMap((round) => {
          const x = round.get(a);
          const y = round.get(b);
          return x === undefined || y === undefined ? [] : [x / y];
        }),
      );
    for (const child of children) await child.ask({ type: 'exit' });

    const said = children.flatMap((c) => stderrLines(c.stderr).map((l) => `${c.kind}: ${l}`));
    const stderrNote =
      said.length === 0
        ? 'children stderr: empty'
        : `children stderr: ${said.length} line(s), first: ${said[0]!.slice(0, 200)}`;

    const h = ms.get('handler')!;
    const r = ms.get('raw-bare')!;
    const p = ms.get('raw-payload')!;
    const c = ms.get('raw-payload-config')!;
    const payloadDesc =
      `reason ${payload.reason?.length ?? 0} chars, details ${payload.details?.length ?? 0} chars, ` +
      `childPolicy ${payload.childPolicy ?? '(none)'}`;
    const expected = KINDS.length * (calls + warmup);
    return {
      status: 'ok',
      rows: [
        ['path', 'calls', 'median ms', 'p90 ms', 'p99 ms'],
        ...KINDS.map((k) => {
          const v = ms.get(k.kind)!;
          return [
            k.label,
            String(v.length),
            fmt(median(v), 3),
            fmt(quantile(v, 0.9), 3),
            fmt(quantile(v, 0.99), 3),
          ];
        }),
      ],
      notes: [
        `headline (issue 3): handler / raw SDK bare, per-call median = ${ratio(median(h) / median(r), 1.2)}; ` +
          `median of per-round paired ratios ${ratio(paired('handler', 'raw-bare'))} (${rounds.length} rounds)`,
        `handler / raw SDK with the handler's payload = ${ratio(median(h) / median(p))}; payload's own cost: ` +
          `same-payload / bare = ${ratio(median(p) / median(r))} (payload as recorded by the fake server: ` +
          `${payloadDesc})`,
        `handler's own overhead alone: handler / raw SDK with the handler's payload and client settings = ` +
          `${ratio(median(h) / median(c))} (paired: ${ratio(paired('handler', 'raw-payload-config'))}); ` +
          `those settings' own effect: with / without = ` +
          `${ratio(median(c) / median(p))} (mostly cacheMiddleware: the SDK resolves its middleware stack ` +
          `once per command class instead of on every send)`,
        `p90 ratios: vs bare ${ratio(quantile(h, 0.9) / quantile(r, 0.9))}, vs same payload and settings ` +
          `${ratio(quantile(h, 0.9) / quantile(c, 0.9))}; handler overhead per call (median difference) vs ` +
          `bare ${fmt(median(h) - median(r), 3)} ms, vs same payload and settings ${fmt(median(h) - median(c), 3)} ms`,
        `server saw ${server.terminations.length} terminations (expected ${expected}), ` +
          `${server.throttledCount()} throttled; zero latency, sequential calls, one process per kind ` +
          `(scripts/bundle-handler.ts: target ${BUNDLE_OPTIONS.target}, minified, SDK bundled, ` +
          `NODE_OPTIONS=--enable-source-maps, node ${process.version}), ` +
          `${warmup} warm-up calls each, turns of ${block} calls; handler logs + EMF written to /dev/null`,
        `handler pacing: TERMINATE_RATE_PER_SECOND=${PACING.rate}, TERMINATE_BURST=${PACING.burst} (set high: ` +
          `this measures per-request overhead, not pacing; BENCH_TERMINATE_RATE / BENCH_TERMINATE_BURST override)`,
        stderrNote,
      ],
    };
  } catch (err) {
    if (err instanceof ChildFailure) return { status: 'error', rows: [], notes: [err.message] };
    throw err;
  } finally {
    for (const child of children) child.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    await server.close();
  }
}

function unexpected(kind: Kind): PerRequestResult {
  return { status: 'error', rows: [], notes: [`the ${kind} child answered out of turn`] };
}

if (require.main === module) {
  runPerRequest()
    .then((r) => {
      if (r.rows.length > 0) console.log(table(r.rows));
      for (const n of r.notes) console.log(`- ${n}`);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
