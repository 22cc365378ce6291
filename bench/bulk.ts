/**
 * Bulk benchmark: one selector request that matches 10,000 open executions, against
 * a local SWF (test/support/fake-swf.ts) that enforces SWF's token buckets, time-scaled so the run stays
 * short, with a realistic per-call latency. Everything is reported as a ratio measured in the same run.
 *
 * Processes: this one orchestrates; the fake SWF runs in its own child (bench/bulk-server.ts) and the handler
 * in another (bench/bulk-child.ts), so the handler's memory and CPU are its own. Both children are bundled
 * with esbuild first (the handler as the construct deploys it: bundled SDK, the construct's target and
 * source-map setting) and run with plain `node`.
 *
 * Phases (each with a fresh server, so buckets start full and executions start open):
 *  1. default rate: TERMINATE_RATE_PER_SECOND = 50 x timeScale, TERMINATE_BURST = 100 (unscaled, as the
 *     fake's capacities are). Then, on the same server, a sequential SDK loop (what a script does) on a sample
 *     of executions in another domain, timed, to compare rates.
 *  2. full quota: rate = 60 x timeScale, burst 2000: SWF's own limit.
 *  3. memory, 10,000 and 100,000 matches: latency 0, a larger time scale and a rate to match (buckets stay
 *     consistent with the rate, so nothing should be throttled): peak rss / heapUsed of the handler process.
 *
 * Run alone: `npx tsx bench/bulk.ts`. Knobs (environment):
 *   BENCH_BULK_N (10000) executions for phases 1-2; BENCH_BULK_SCALE (10) time scale of phases 1-2;
 *   BENCH_BULK_LATENCY_MS (30); BENCH_BULK_LOOP (300) executions timed in the sequential loop;
 *   BENCH_BULK_MEM_SMALL (10000), BENCH_BULK_MEM_LARGE (100000), BENCH_BULK_MEM_SCALE (200);
 *   BENCH_BULK_PHASES (default "rate,full,memory"): a comma-separated subset;
 *   BENCH_BULK_LOG_LEVEL (INFO): the handler's POWERTOOLS_LOG_LEVEL (stdout goes to /dev/null either way);
 *   BENCH_BULK_LIVE_HEAP_MS (0): in the memory runs, force a full GC that often to read the live heap too
 *   (it lowers the measured peaks, so it is off by default).
 * A benchmark, not a test: a goal not met never fails it; a crash (a child dying, the handler throwing
 * anything but its per-execution TerminationFailedError) does.
 */
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { build } from 'esbuild';
import {
  DEFAULT_TERMINATE_BURST,
  DEFAULT_TERMINATE_RATE_PER_SECOND,
  ENV,
  SWF_TERMINATE_QUOTA,
} from '../lib/contract';
import { type BucketSpec, SWF_QUOTAS } from '../test/support/fake-swf';
import type { HandlerRun, LoopRun } from './bulk-child';
import type { ParentMessage, ServerConfig, ServerMessage, ServerStats } from './bulk-server';
import { stderrLines } from './child-result';
import { BUNDLE_OPTIONS } from '../scripts/bundle-handler';
import { fmt, table } from './stats';

const ROOT = path.resolve(__dirname, '..');
const DOMAIN = 'bench';
const LOOP_DOMAIN = 'bench-loop';
const LOOP_WARMUP = 5;
const CHILD_TIMEOUT_MS = 10 * 60_000;

export interface Knobs {
  n: number;
  scale: number;
  latencyMs: number;
  loop: number;
  memSmall: number;
  memLarge: number;
  memScale: number;
  phases: Set<string>;
  logLevel: string;
  /** Forced-GC period (ms) for reading the live heap in the memory runs; 0 (default) = never. */
  liveHeapMs: number;
}

function num(name: string, dflt: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number (got "${raw}")`);
  return v;
}

export function knobs(): Knobs {
  return {
    n: num('BENCH_BULK_N', 10_000),
    scale: num('BENCH_BULK_SCALE', 10),
    latencyMs: num('BENCH_BULK_LATENCY_MS', 30),
    loop: num('BENCH_BULK_LOOP', 300),
    memSmall: num('BENCH_BULK_MEM_SMALL', 10_000),
    memLarge: num('BENCH_BULK_MEM_LARGE', 100_000),
    memScale: num('BENCH_BULK_MEM_SCALE', 200),
    phases: new Set((process.env.BENCH_BULK_PHASES ?? 'rate,full,memory').split(',').map((s) => s.trim())),
    logLevel: process.env.BENCH_BULK_LOG_LEVEL ?? 'INFO',
    liveHeapMs: num('BENCH_BULK_LIVE_HEAP_MS', 0),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Children

export interface Bundles {
  child: string;
  server: string;
  /** NODE_OPTIONS of the handler child, as the construct sets it. */
  nodeOptions: string;
  describe: string;
}

export async function bundleChildren(dir: string): Promise<Bundles> {
  await build({
    ...BUNDLE_OPTIONS,
    entryPoints: {
      'bulk-child': path.join(__dirname, 'bulk-child.ts'),
      'bulk-server': path.join(__dirname, 'bulk-server.ts'),
    },
    logLevel: 'error',
    outdir: dir,
  });
  return {
    child: path.join(dir, 'bulk-child.js'),
    server: path.join(dir, 'bulk-server.js'),
    nodeOptions: '--enable-source-maps',
    describe:
      `handler child bundled with the package's esbuild options (scripts/bundle-handler.ts: target ` +
      `${BUNDLE_OPTIONS.target}, minified, every dependency inside, NODE_OPTIONS=--enable-source-maps as ` +
      `deployed), run with node ${process.version}`,
  };
}

function stderrSummary(name: string, stderr: string): string | undefined {
  const lines = stderrLines(stderr);
  return lines.length === 0
    ? undefined
    : `${name} stderr: ${lines.length} line(s), first: ${lines[0]!.slice(0, 300)}`;
}

/** A fake SWF in its own process. */
export class ServerProcess {
  private pending: ((m: ServerMessage) => void) | undefined;
  private stderr = '';

  private constructor(
    private readonly child: ReturnType<typeof fork>,
    readonly endpoint: string,
    readonly setupMs: number,
  ) {
    child.on('message', (m: ServerMessage) => {
      const p = this.pending;
      this.pending = undefined;
      p?.(m);
    });
    child.stderr?.on('data', (c: Buffer) => {
      if (this.stderr.length < 50_000) this.stderr += c.toString('utf8');
    });
  }

  static async start(file: string, config: ServerConfig): Promise<ServerProcess> {
    const child = fork(file, [], {
      execArgv: ['--max-old-space-size=4096'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { PATH: process.env.PATH, HOME: process.env.HOME, BENCH_SERVER_CONFIG: JSON.stringify(config) },
    });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      if (stderr.length < 50_000) stderr += c.toString('utf8');
    });
    const ready = await new Promise<ServerMessage>((resolve, reject) => {
      child.once('message', (m: ServerMessage) => {
        resolve(m);
      });
      child.once('error', reject);
      child.once('exit', (code) => {
        reject(new Error(`the fake SWF process exited with ${String(code)} before starting: ${stderr}`));
      });
    });
    child.removeAllListeners('exit');
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) process.stderr.write(`fake SWF process exited with ${code}\n`);
    });
    if (ready.type !== 'ready') {
      child.kill();
      throw new Error(
        `the fake SWF process failed to start: ${ready.type === 'error' ? ready.detail : ready.type}`,
      );
    }
    return new ServerProcess(child, ready.endpoint, ready.setupMs);
  }

  stats(domain: string, times = false): Promise<ServerStats> {
    return new Promise((resolve, reject) => {
      this.pending = (m) => {
        if (m.type === 'stats') resolve(m.stats);
        else reject(new Error(`unexpected answer from the fake SWF: ${JSON.stringify(m).slice(0, 500)}`));
      };
      const msg: ParentMessage = { type: 'stats', domain, times };
      this.child.send(msg);
    });
  }

  stderrNote(): string | undefined {
    return stderrSummary('fake SWF', this.stderr);
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => {
      this.child.once('exit', () => {
        resolve();
      });
    });
    const msg: ParentMessage = { type: 'close' };
    this.child.send(msg);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Runs a bench child to completion and returns the message it sent. Throws if it dies without one. */
export async function runChild(
  file: string,
  env: NodeJS.ProcessEnv,
  execArgv: string[],
): Promise<{ result: unknown; stderrNote?: string }> {
  let stderr = '';
  const result = await new Promise<unknown>((resolve, reject) => {
    const child = fork(file, [], { execArgv, env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let answer: unknown;
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.stderr?.on('data', (c: Buffer) => {
      if (stderr.length < 100_000) stderr += c.toString('utf8');
    });
    child.on('message', (m) => {
      answer = m;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (answer !== undefined) resolve(answer);
      else
        reject(
          new Error(
            `the bench child (${String(env.BENCH_MODE)}) exited with ${String(code ?? signal)}: ${stderr.slice(0, 3000)}`,
          ),
        );
    });
  });
  const note = stderrSummary(`${String(env.BENCH_MODE)} child`, stderr);
  return { result, ...(note === undefined ? {} : { stderrNote: note }) };
}

// ---------------------------------------------------------------------------------------------------------
// Phases

/** SWF's quotas as the fake enforces them (capacities as is; it scales the refill itself). */
const buckets = (): Record<string, BucketSpec> => ({ ...SWF_QUOTAS });

interface PhaseSpec {
  name: string;
  n: number;
  timeScale: number;
  latencyMs: number;
  /** The handler's TERMINATE_RATE_PER_SECOND (already multiplied by the time scale) and TERMINATE_BURST. */
  rate: number;
  burst: number;
  /** Sequential-loop sample in LOOP_DOMAIN on the same server (0: none). */
  loop: number;
  /** Ask the server for every termination time (rate phases). */
  times: boolean;
  /** Force a full GC this often (ms) in the handler process to sample the live heap (0: never). */
  gcSampleMs: number;
}

interface PhaseResult {
  spec: PhaseSpec;
  run: Extract<HandlerRun, { startedAt: number }>;
  stats: ServerStats;
  loop?: Extract<LoopRun, { status: 'ok' }>;
  loopThrottled?: number;
  serverSetupMs: number;
  wallMs: number;
  notes: string[];
}

function handlerEnv(spec: PhaseSpec, endpoint: string, k: Knobs, nodeOptions: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    BENCH_MODE: 'handler',
    BENCH_REQUEST: JSON.stringify({ domain: DOMAIN, selector: { startedBefore: new Date().toISOString() } }),
    BENCH_REMAINING_MS: '900000',
    BENCH_SAMPLE_MS: '20',
    BENCH_GC_SAMPLE_MS: String(spec.gcSampleMs),
    AWS_ENDPOINT_URL_SWF: endpoint,
    // Any other service (a continuation's Lambda Invoke or PutEvents, if one ever happened) reaches the fake
    // and fails fast: nothing here can reach real AWS.
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_LAMBDA_FUNCTION_NAME: 'swf-terminator-bench',
    [ENV.allowedDomains]: DOMAIN,
    [ENV.maxExecutions]: String(spec.n),
    [ENV.dryRun]: 'false',
    [ENV.terminateRatePerSecond]: String(spec.rate),
    [ENV.terminateBurst]: String(spec.burst),
    [ENV.rateShares]: '1',
    POWERTOOLS_SERVICE_NAME: 'swf-terminator',
    POWERTOOLS_METRICS_NAMESPACE: 'SwfTerminator',
    POWERTOOLS_LOG_LEVEL: k.logLevel,
    NODE_NO_WARNINGS: '1',
    ...(nodeOptions === '' ? {} : { NODE_OPTIONS: nodeOptions }),
  };
}

async function runPhase(spec: PhaseSpec, b: Bundles, k: Knobs): Promise<PhaseResult> {
  const t0 = performance.now();
  const notes: string[] = [];
  const server = await ServerProcess.start(b.server, {
    populations: [
      { domain: DOMAIN, count: spec.n, prefix: 'wf-' },
      ...(spec.loop > 0 ? [{ domain: LOOP_DOMAIN, count: spec.loop + LOOP_WARMUP, prefix: 'seq-' }] : []),
    ],
    latencyMs: spec.latencyMs,
    timeScale: spec.timeScale,
    buckets: buckets(),
  });
  try {
    const h = await runChild(b.child, handlerEnv(spec, server.endpoint, k, b.nodeOptions), ['--expose-gc']);
    if (h.stderrNote) notes.push(h.stderrNote);
    const run = h.result as HandlerRun;
    if (run.status === 'error') throw new Error(`[${spec.name}] the handler child failed: ${run.detail}`);
    const stats = await server.stats(DOMAIN, spec.times);

    let loop: PhaseResult['loop'];
    let loopThrottled: number | undefined;
    if (spec.loop > 0) {
      const before = (await server.stats(LOOP_DOMAIN)).throttled.TerminateWorkflowExecution ?? 0;
      const l = await runChild(
        b.child,
        {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          BENCH_MODE: 'loop',
          BENCH_LOOP_DOMAIN: LOOP_DOMAIN,
          BENCH_LOOP_PREFIX: 'seq-',
          BENCH_LOOP_WARMUP: String(LOOP_WARMUP),
          BENCH_LOOP_COUNT: String(spec.loop),
          AWS_ENDPOINT_URL_SWF: server.endpoint,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'bench',
          AWS_SECRET_ACCESS_KEY: 'bench',
          NODE_NO_WARNINGS: '1',
        },
        [],
      );
      if (l.stderrNote) notes.push(l.stderrNote);
      const lr = l.result as LoopRun;
      if (lr.status !== 'ok') throw new Error(`[${spec.name}] the sequential loop failed: ${lr.detail}`);
      loop = lr;
      loopThrottled = ((await server.stats(LOOP_DOMAIN)).throttled.TerminateWorkflowExecution ?? 0) - before;
    }
    const serverNote = server.stderrNote();
    if (serverNote) notes.push(serverNote);
    return {
      spec,
      run,
      stats,
      ...(loop ? { loop } : {}),
      ...(loopThrottled === undefined ? {} : { loopThrottled }),
      serverSetupMs: server.setupMs,
      wallMs: performance.now() - t0,
      notes,
    };
  } finally {
    await server.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Figures

/** Executions the handler reports failed (from its report, or from TerminationFailedError's count). */
function failedOf(r: PhaseResult): number | undefined {
  if (r.run.status === 'ok') {
    const f = r.run.report?.failed;
    return typeof f === 'number' ? f : undefined;
  }
  return r.run.error?.name === 'TerminationFailedError' ? r.run.error.failedCount : undefined;
}

/** A handler that threw anything but TerminationFailedError did not run the request: a crash. */
function crashOf(r: PhaseResult): string | undefined {
  if (r.run.status === 'threw' && r.run.error?.name !== 'TerminationFailedError') {
    return `[${r.spec.name}] the handler threw ${r.run.error?.name ?? '?'}: ${r.run.error?.message ?? ''}`;
  }
  return undefined;
}

interface RateFigures {
  n: number;
  /** Seconds from the handler's call to the first and to the last termination. */
  toFirst: number;
  toLast: number;
  /** Steady rate after the first `skip` terminations: (n - skip) / (t_last - t_skip), per real second. */
  steady: number;
  /** n / (t_last - call), per real second. */
  endToEnd: number;
  skip: number;
}

export function rateFigures(
  times: readonly number[],
  startedAt: number,
  skip: number,
): RateFigures | undefined {
  const n = times.length;
  if (n === 0) return undefined;
  const first = times[0]!;
  const last = times[n - 1]!;
  const at = skip > 0 && skip <= n ? times[skip - 1]! : first;
  const steadySpan = (last - at) / 1000;
  return {
    n,
    toFirst: (first - startedAt) / 1000,
    toLast: (last - startedAt) / 1000,
    steady: n > skip && steadySpan > 0 ? (n - skip) / steadySpan : NaN,
    endToEnd: last > startedAt ? n / ((last - startedAt) / 1000) : NaN,
    skip,
  };
}

/**
 * How far the terminations overshoot a (burst, rate) token bucket: the largest, over every interval
 * [t_i, t_j] of the server's termination times, of (terminations in it) - burst - rate x (t_j - t_i).
 * 0 means the run never exceeded the bucket; a few over 0 is latency jitter (times are completions).
 */
export function bucketExcess(times: readonly number[], burst: number, ratePerSec: number): number {
  let best = -Infinity;
  let runMax = -Infinity; // max over i <= j of (rate x t_i - i)
  times.forEach((t, j) => {
    runMax = Math.max(runMax, (ratePerSec * t) / 1000 - j);
    best = Math.max(best, j + 1 - burst - (ratePerSec * t) / 1000 + runMax);
  });
  return Math.max(0, best);
}

const excessText = (excess: number, ratePerSec: number) =>
  `${fmt(excess, 0)} (${fmt((excess / ratePerSec) * 1000, 0)} ms of rate)`;

export const MiB = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
type Row = [metric: string, value: string, goal: string, met: string];
const verdict = (ok: boolean | undefined) => (ok === undefined ? 'n/a' : ok ? 'yes' : 'NO');
const atLeast = (v: number, goal: number): [string, string] => [
  `>= ${goal}`,
  verdict(Number.isNaN(v) ? undefined : v >= goal),
];

export interface BulkResult {
  status: 'ok' | 'error';
  headline: string[][];
  phases: string[][];
  notes: string[];
  wallMs: number;
}

/** The command that produced this run, knobs included. */
export function commandLine(): string {
  const knobsSet = Object.keys(process.env)
    .filter((key) => key.startsWith('BENCH_'))
    .sort()
    .map((key) => `${key}=${process.env[key] ?? ''}`);
  const script = path.relative(ROOT, process.argv[1] ?? '');
  const cmd = process.env.npm_lifecycle_event === 'bench' ? 'npm run bench' : `npx tsx ${script}`;
  return [...knobsSet, cmd].join(' ');
}

export async function runBulk(
  k: Knobs = knobs(),
  log: (line: string) => void = console.log,
): Promise<BulkResult> {
  const started = performance.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swf-terminator-bulk-'));
  const notes: string[] = [];
  const crashes: string[] = [];
  try {
    const b = await bundleChildren(dir);
    notes.push(b.describe);
    const rateDefault = DEFAULT_TERMINATE_RATE_PER_SECOND;
    const quota = SWF_TERMINATE_QUOTA;
    log(
      `time scale ${k.scale}x for the rate phases: the fake's buckets refill ${k.scale}x faster (Terminate: burst ` +
        `${quota.burst}, ${quota.refillPerSecond * k.scale}/s real = ${quota.refillPerSecond}/s simulated); ` +
        `latency ${k.latencyMs} ms per call (not scaled); ${k.n} open executions; handler's ` +
        `${ENV.terminateRatePerSecond} = configured rate x ${k.scale}, ${ENV.terminateBurst} unscaled`,
    );

    const results: Record<string, PhaseResult> = {};
    const phase = async (spec: PhaseSpec) => {
      log(
        `  phase ${spec.name}: ${spec.n} executions, ${ENV.terminateRatePerSecond}=${spec.rate} ` +
          `${ENV.terminateBurst}=${spec.burst}, timeScale ${spec.timeScale}, latency ${spec.latencyMs} ms ...`,
      );
      const r = await runPhase(spec, b, k);
      results[spec.name] = r;
      const crash = crashOf(r);
      if (crash) crashes.push(crash);
      log(`    done in ${s(r.wallMs)}`);
      return r;
    };

    if (k.phases.has('rate')) {
      await phase({
        name: 'default rate',
        n: k.n,
        timeScale: k.scale,
        latencyMs: k.latencyMs,
        rate: rateDefault * k.scale,
        burst: DEFAULT_TERMINATE_BURST,
        loop: k.loop,
        times: true,
        gcSampleMs: 0,
      });
    }
    if (k.phases.has('full')) {
      await phase({
        name: 'full quota',
        n: k.n,
        timeScale: k.scale,
        latencyMs: k.latencyMs,
        rate: quota.refillPerSecond * k.scale,
        burst: quota.burst,
        loop: 0,
        times: true,
        gcSampleMs: 0,
      });
    }
    if (k.phases.has('memory')) {
      for (const n of [k.memSmall, k.memLarge]) {
        await phase({
          name: `memory ${n}`,
          n,
          timeScale: k.memScale,
          latencyMs: 0,
          rate: rateDefault * k.memScale,
          burst: DEFAULT_TERMINATE_BURST,
          loop: 0,
          times: false,
          gcSampleMs: k.liveHeapMs,
        });
      }
    }

    // ---- headline table
    const rows: Row[] = [];
    const d = results['default rate'];
    const f = results['full quota'];
    const mS = results[`memory ${k.memSmall}`];
    const mL = results[`memory ${k.memLarge}`];
    const terminateThrottles = (r: PhaseResult) => r.stats.throttled.TerminateWorkflowExecution ?? 0;

    let dFig: RateFigures | undefined;
    if (d) {
      dFig = rateFigures(d.stats.times ?? [], d.run.startedAt, d.spec.burst);
      const achieved = dFig ? dFig.steady / d.spec.rate : NaN;
      rows.push([
        `(a) achieved / configured rate, default ${rateDefault}/s (steady, after the ${d.spec.burst} burst)`,
        fmt(achieved),
        ...atLeast(achieved, 0.95),
      ]);
      const ideal = Math.max(0, d.stats.terminations - d.spec.burst) / d.spec.rate;
      const e2e = dFig ? ideal / dFig.toLast : NaN;
      rows.push([
        '    same, end to end (ideal time incl. burst / time from call to last termination)',
        fmt(e2e),
        'info',
        '',
      ]);
      rows.push([
        `    overshoot: most terminations beyond a (${d.spec.burst}, ${rateDefault}/s) bucket in any interval`,
        excessText(bucketExcess(d.stats.times ?? [], d.spec.burst, d.spec.rate), d.spec.rate),
        'info (~0)',
        '',
      ]);
    }
    let fFig: RateFigures | undefined;
    if (f) {
      fFig = rateFigures(f.stats.times ?? [], f.run.startedAt, 0);
      const refill = quota.refillPerSecond * f.spec.timeScale;
      const n = f.stats.terminations;
      const times = f.stats.times ?? [];
      const span = times.length > 1 ? (times[times.length - 1]! - times[0]!) / 1000 : NaN;
      const minTime = Math.max(0, n - quota.burst) / refill;
      const achieved = n > quota.burst ? minTime / span : NaN;
      rows.push([
        `(b) achieved / SWF's limit, rate ${quota.refillPerSecond}/s burst ${quota.burst} (bucket's min time / first-to-last termination)`,
        fmt(achieved),
        ...atLeast(achieved, 0.95),
      ]);
      const e2e = fFig ? minTime / fFig.toLast : NaN;
      rows.push([
        '    same, end to end (min time / time from call to last termination)',
        fmt(e2e),
        'info',
        '',
      ]);
      rows.push([
        `    overshoot: most terminations beyond SWF's (${quota.burst}, ${quota.refillPerSecond}/s) bucket in any interval`,
        excessText(bucketExcess(times, quota.burst, refill), refill),
        'info (~0)',
        '',
      ]);
    }
    if (d) {
      const t = terminateThrottles(d);
      rows.push([
        `(c) throttling errors returned to the handler, default rate`,
        String(t),
        '0',
        verdict(t === 0),
      ]);
    }
    if (f) {
      const t = terminateThrottles(f);
      rows.push([
        `    throttling errors returned to the handler, full quota`,
        String(t),
        'info (0 ideal)',
        '',
      ]);
    }
    for (const r of [d, f, mS, mL]) {
      if (!r) continue;
      const failed = failedOf(r);
      rows.push([
        `(c) executions failed, ${r.spec.name}`,
        failed === undefined ? 'n/a (no report)' : String(failed),
        '0',
        verdict(failed === undefined ? undefined : failed === 0),
      ]);
      rows.push([
        `    executions left open (missed), ${r.spec.name}`,
        String(r.stats.openLeft),
        '0',
        verdict(r.stats.openLeft === 0),
      ]);
    }
    if (d?.loop && dFig) {
      const loopRate = d.loop.count / (d.loop.ms / 1000);
      const speedup = dFig.endToEnd / loopRate;
      rows.push([
        `(d) speedup over a sequential SDK loop (handler end-to-end rate / loop rate, same server)`,
        `${fmt(speedup, 1)}x`,
        'none set (> 1)',
        verdict(speedup > 1),
      ]);
      const at1x = rateDefault / loopRate;
      rows.push([
        `    projected at time scale 1 (handler capped at ${rateDefault}/s / loop rate, latency-bound)`,
        `${fmt(at1x, 1)}x`,
        'info',
        '',
      ]);
      notes.push(
        `(d) loop: ${d.loop.count} sequential awaited TerminateWorkflowExecution calls (new SWFClient({}), domain, ` +
          `workflowId, runId) after ${LOOP_WARMUP} untimed, on the default-rate phase's server after the handler ` +
          `finished: ${fmt(d.loop.ms / 1000)} s = ${fmt(loopRate, 1)} calls/s real (${d.loop.errors} errors, ` +
          `${String(d.loopThrottled ?? 0)} throttled). Handler end to end: ${dFig.n} terminations in ` +
          `${fmt(dFig.toLast)} s from the call (listing included) = ${fmt(dFig.endToEnd, 1)}/s real. Rates, not ` +
          `times, are compared (the loop ran on a sample). The loop is latency-bound (one call in flight) and ` +
          `never near the bucket, so its rate is the same at any time scale; the handler's is bound by its pacer ` +
          `and SWF's bucket, which are ${k.scale}x faster here: at scale 1 with ${k.latencyMs} ms latency the ` +
          `speedup is about ${rateDefault}/s / ${fmt(loopRate, 1)}/s (more with higher latency, the full quota, ` +
          `or the loop's own listing, which it was not charged for).`,
      );
    }
    if (mS && mL) {
      const rss = mL.run.memory.peakRss / mS.run.memory.peakRss;
      const heap = mL.run.memory.peakHeapUsed / mS.run.memory.peakHeapUsed;
      const growS = mS.run.memory.peakRss - mS.run.memory.baselineRss;
      const growL = mL.run.memory.peakRss - mL.run.memory.baselineRss;
      rows.push([
        `(e) peak RSS of the handler process, ${k.memSmall} matches`,
        MiB(mS.run.memory.peakRss),
        '',
        '',
      ]);
      rows.push([
        `(e) peak RSS of the handler process, ${k.memLarge} matches`,
        MiB(mL.run.memory.peakRss),
        '',
        '',
      ]);
      rows.push([
        `(e) peak RSS ${k.memLarge} / ${k.memSmall}`,
        `${fmt(rss)}x`,
        '<= 1.5x',
        verdict(rss <= 1.5),
      ]);
      rows.push([
        `(e) peak heapUsed ${k.memLarge} / ${k.memSmall} (${MiB(mL.run.memory.peakHeapUsed)} / ${MiB(mS.run.memory.peakHeapUsed)})`,
        `${fmt(heap)}x`,
        '<= 1.5x',
        verdict(heap <= 1.5),
      ]);
      const liveS = mS.run.memory.peakLiveHeap;
      const liveL = mL.run.memory.peakLiveHeap;
      if (liveS !== undefined && liveL !== undefined) {
        rows.push([
          `    peak live heap (after a forced GC, every ${k.liveHeapMs} ms) ${k.memLarge} / ${k.memSmall} (${MiB(liveL)} / ${MiB(liveS)})`,
          `${fmt(liveL / liveS)}x`,
          'info',
          '',
        ]);
      }
      rows.push([
        `    RSS growth over the loaded-handler baseline (${MiB(growL)} / ${MiB(growS)})`,
        `${fmt(growS > 0 ? growL / growS : NaN)}x`,
        'info',
        '',
      ]);
    }

    // ---- per-phase table
    const phaseRows: string[][] = [
      [
        'phase',
        'matches',
        'rate/s, burst',
        'scale',
        'latency',
        'wall',
        'handler',
        'to 1st term.',
        'terminated',
        'throttled T/L/C',
        'calls T/L/C',
        'failed',
        'peak rss / heap',
        'base rss / heap',
      ],
    ];
    for (const r of Object.values(results)) {
      const times = r.stats.times;
      const toFirst = times && times.length > 0 ? (times[0]! - r.run.startedAt) / 1000 : NaN;
      const t = r.stats.throttled;
      const c = r.stats.calls;
      phaseRows.push([
        r.spec.name,
        String(r.spec.n),
        `${r.spec.rate}, ${r.spec.burst}`,
        `${r.spec.timeScale}x`,
        `${r.spec.latencyMs} ms`,
        s(r.wallMs),
        s(r.run.endedAt - r.run.startedAt),
        Number.isNaN(toFirst) ? 'n/a' : `${fmt(toFirst)} s`,
        String(r.stats.terminations),
        `${t.TerminateWorkflowExecution ?? 0}/${t.ListOpenWorkflowExecutions ?? 0}/${t.CountOpenWorkflowExecutions ?? 0}`,
        `${c.TerminateWorkflowExecution ?? 0}/${c.ListOpenWorkflowExecutions ?? 0}/${c.CountOpenWorkflowExecutions ?? 0}`,
        String(failedOf(r) ?? 'n/a'),
        `${MiB(r.run.memory.peakRss)} / ${MiB(r.run.memory.peakHeapUsed)}`,
        `${MiB(r.run.memory.baselineRss)} / ${MiB(r.run.memory.baselineHeapUsed)}`,
      ]);
    }

    // ---- notes
    if (dFig && d) {
      notes.push(
        `(a) achieved = (N - B) / (t_last - t_B) over the server's termination times, N = ${dFig.n} terminations, ` +
          `B = ${d.spec.burst} = TERMINATE_BURST, t_B = time of the B-th termination (burst spent), divided by the ` +
          `configured ${d.spec.rate}/s real (= ${rateDefault}/s x ${d.spec.timeScale}): steady ${fmt(dFig.steady, 1)}/s. ` +
          `End to end: (N - B) / rate, the least time the configured bucket allows, over the time from the ` +
          `handler's call to the last termination (${fmt(dFig.toLast)} s, of which ${fmt(dFig.toFirst)} s before ` +
          `the first termination: counting/listing).`,
      );
    }
    if (fFig && f) {
      const refill = quota.refillPerSecond * f.spec.timeScale;
      notes.push(
        `(b) SWF's limit: the fake's Terminate bucket (${quota.burst} burst, starts full, ${refill}/s real = ` +
          `${quota.refillPerSecond}/s x ${f.spec.timeScale}) lets N = ${fFig.n} terminations finish no sooner ` +
          `than (N - ${quota.burst}) / ${refill} = ${fmt(Math.max(0, fFig.n - quota.burst) / refill)} s after ` +
          `the first; achieved = that / (t_last - t_first); mean rate first to last termination ${fmt(fFig.steady, 1)}/s real ` +
          `(burst included).`,
      );
    }
    if (mS || mL) {
      notes.push(
        `(e) memory runs: latency 0, time scale ${k.memScale}x (SWF's buckets, refill x ${k.memScale}: Terminate ` +
          `${quota.refillPerSecond * k.memScale}/s, List ${SWF_QUOTAS.ListOpenWorkflowExecutions.refillPerSecond * k.memScale}/s, ` +
          `Count ${SWF_QUOTAS.CountOpenWorkflowExecutions.refillPerSecond * k.memScale}/s), handler rate ` +
          `${rateDefault * k.memScale}/s (${rateDefault} x ${k.memScale}) burst ${DEFAULT_TERMINATE_BURST}; ` +
          `process.memoryUsage() sampled every 20 ms in the handler process from before the call to after it ` +
          `(baseline: after module load and a forced GC); the fake SWF's memory is in another process. Peak ` +
          `heapUsed includes garbage V8 had not collected yet: ` +
          (k.liveHeapMs > 0
            ? `a forced full GC every ${k.liveHeapMs} ms read the live heap (BENCH_BULK_LIVE_HEAP_MS; it also ` +
              `lowers the peaks above, so quote the peaks from a run without it).`
            : `BENCH_BULK_LIVE_HEAP_MS=1000 adds a forced full GC every second to read the live heap (it also ` +
              `lowers the peaks, so it is off by default).`),
      );
    }
    const anyRun = Object.values(results)[0];
    if (anyRun) {
      const remaining = Object.values(results)
        .map((r) => `${r.spec.name} ${r.run.remainingCalls} calls, min ${s(r.run.remainingMin)}`)
        .join('; ');
      notes.push(
        `handler child: one console request {domain, selector: {startedBefore: <now>}}, MAX_EXECUTIONS = matches, ` +
          `context.getRemainingTimeInMillis() counts down from 900,000 ms (Lambda's maximum), so no continuation ` +
          `is due (${remaining}); POWERTOOLS_LOG_LEVEL=${k.logLevel}, stdout to /dev/null; ` +
          `report keys: ${Object.keys(anyRun.run.report ?? {}).join(', ') || '(threw)'}.`,
      );
    }
    for (const r of Object.values(results)) {
      if (r.run.status === 'threw') {
        notes.push(
          `[${r.spec.name}] handler threw ${r.run.error?.name ?? '?'}: ${(r.run.error?.message ?? '').slice(0, 300)}`,
        );
      }
      if (r.stats.terminations !== r.spec.n) {
        notes.push(`[${r.spec.name}] server recorded ${r.stats.terminations} terminations of ${r.spec.n}`);
      }
      for (const n of r.notes) notes.push(`[${r.spec.name}] ${n}`);
    }

    return {
      status: crashes.length > 0 ? 'error' : 'ok',
      headline: [['metric', 'value', 'goal', 'met?'], ...rows],
      phases: phaseRows,
      notes: [...crashes.map((c) => `CRASH ${c}`), ...notes],
      wallMs: performance.now() - started,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Prints a result the same way alone and from bench/run.ts. */
export function printBulk(r: BulkResult, log: (line: string) => void = console.log): void {
  log(table(r.headline));
  log('');
  log(table(r.phases));
  for (const n of r.notes) log(`- ${n}`);
  log(`bulk total ${s(r.wallMs)}`);
}

if (require.main === module) {
  console.log(`== Bulk: 10,000 executions through one selector request, local SWF with token buckets ==`);
  console.log(`command: ${commandLine()}`);
  runBulk()
    .then((r) => {
      printBulk(r);
      if (r.status !== 'ok') process.exitCode = 1;
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
