/**
 * Restore benchmark, "restore 10,000": BENCH_RESTORE_N (10,000) runs terminated by one job, then a real
 * restore of that job (lambda/restore/, its own process, bundled like the deployed function) against the local
 * SWF (local/swf.ts, in this process) enforcing SWF's token buckets, time-scaled. Measured in the same run:
 *
 * - the restore: its time in simulated seconds (real x time scale) and starts per simulated second, as ratios
 *   to the least time SWF's StartWorkflowExecution quota allows for N starts, to the least time the binding
 *   quota allows for every call restore made (2 history reads per run: GetWorkflowExecutionHistory binds),
 *   and to what restore's own pace (RESTORE_RATES) predicts; ThrottlingExceptions answered to it (goal 0: it
 *   paces itself); every workflowId started exactly once (a failure is printed loudly and exits non-zero);
 * - the baseline: a naive sequential restore loop (bench/restore-child.ts, mode loop: list, then per run read
 *   the first event and start it, `new SWFClient({})` with the SDK's default retry, no pacing) over the same N
 *   on a fresh server with the same buckets and time scale: its time, its throttling answers, and restore's
 *   time as a ratio of it (plus the loop projected at time scale 1, see below).
 *
 * Setup (untimed, before each phase): N open runs with start attributes; each terminated by a
 * TerminateWorkflowExecution straight to the server whose details start with the provenance block of one job
 * id, as the terminating function writes it (lambda/job/provenance.ts). The server's buckets are SWF_QUOTAS but
 * TerminateWorkflowExecution's, so the setup does not wait on it (neither restore nor the loop calls Terminate;
 * every bucket they use starts full). Then the server's counts are reset and its latency set.
 *
 * Time scale: the fake's buckets refill BENCH_RESTORE_SCALE (20) times faster, restore's rates are multiplied
 * by the same factor (bursts as they are, like the fake's capacities), and so are its time budget (Lambda's
 * 15 minutes) and end reserve divided by it. Latency: BENCH_RESTORE_LATENCY_MS (30) simulated ms per call,
 * so the server waits 30 / scale real ms: a sequential loop is bound by latency, so latency is scaled like
 * everything else. What cannot be scaled is the client's and the local server's own time per call (CPU,
 * loopback): it counts scale times over in the loop's simulated time, so the loop is also projected at time
 * scale 1 from its measured per-call time (restore is bound by its pace, not by that time).
 *
 * Run alone: `npx tsx bench/restore.ts`. Knobs: BENCH_RESTORE_N (10000), BENCH_RESTORE_SCALE (20),
 * BENCH_RESTORE_LATENCY_MS (30, simulated), BENCH_RESTORE_BASELINE (1; 0 skips the loop). A goal not met
 * never fails it; a crash or a run not started exactly once does.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { build } from 'esbuild';
import { MIN_END_RESERVE_MS, RESTORE_RATES, SWF_QUOTAS as QUOTAS } from '../lib/contract';
import { terminationDetails } from '../lambda/job/provenance';
import { type FakeExecution, FakeSwfServer, type RecordedStart, SWF_QUOTAS } from '../local/swf';
import { BUNDLE_OPTIONS } from '../scripts/bundle-handler';
import { commandLine, runChild } from './bulk';
import type { LoopRun, RestoreRun } from './restore-child';
import { fmt, ratio, table } from './stats';

const DOMAIN = 'bench-restore';
const JOB_ID = 'bench-restore-job';
/** The restore function's timeout (lib/restore.ts): one invocation's time, real scale. */
const FUNCTION_TIMEOUT_MS = 15 * 60_000;
const SETUP_IN_FLIGHT = 32;
/** The SWF calls restore and the loop make, with the quota of each (lib/contract.ts). */
const OPS = [
  'StartWorkflowExecution',
  'GetWorkflowExecutionHistory',
  'ListClosedWorkflowExecutions',
  'ListOpenWorkflowExecutions',
] as const;
type Op = (typeof OPS)[number];
const SHORT: Record<Op, string> = {
  StartWorkflowExecution: 'Start',
  GetWorkflowExecutionHistory: 'History',
  ListClosedWorkflowExecutions: 'ListClosed',
  ListOpenWorkflowExecutions: 'ListOpen',
};
/** The restore pace kinds and the calls each paces. */
const KIND_OPS: Record<keyof typeof RESTORE_RATES, readonly Op[]> = {
  start: ['StartWorkflowExecution'],
  history: ['GetWorkflowExecutionHistory'],
  list: ['ListClosedWorkflowExecutions', 'ListOpenWorkflowExecutions'],
};

function num(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number (got "${raw}")`);
  return v;
}

/** Run i as it was started: every start attribute set, input different per run. */
function execution(i: number, now: number): FakeExecution {
  return {
    domain: DOMAIN,
    workflowId: `wf-${i}`,
    runId: `run-wf-${i}`,
    workflowType: { name: 'Order', version: '1' },
    startTimestamp: now / 1000 - 3600 + i / 100,
    input: JSON.stringify({ order: i, lines: [i % 7, i % 11] }),
    taskList: { name: 'orders' },
    taskPriority: '0',
    executionStartToCloseTimeout: '86400',
    taskStartToCloseTimeout: '60',
    tagList: ['bench', `customer-${i % 100}`],
    childPolicy: 'TERMINATE',
  };
}

/** A fresh server holding `n` runs, each terminated by job JOB_ID (its provenance block), then its latency set. */
async function terminatedServer(n: number, scale: number, latencyMs: number) {
  const { TerminateWorkflowExecution, ...buckets } = SWF_QUOTAS;
  const now = Date.now();
  const runs = Array.from({ length: n }, (_, i) => execution(i, now));
  const server = await FakeSwfServer.start({
    domains: [DOMAIN],
    executions: runs,
    buckets,
    timeScale: scale,
    latencyMs: 0,
    recordCalls: false,
  });
  const details = terminationDetails(
    'terminated by the restore benchmark',
    { via: 'console', requestId: JOB_ID },
    { jobId: JOB_ID, functionRequestId: JOB_ID },
  );
  // Straight to the server in SWF's JSON protocol (no SDK in this process: nothing of it to load or warn).
  const terminate = async (i: number) => {
    const answer = await fetch(server.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'SimpleWorkflowService.TerminateWorkflowExecution',
      },
      body: JSON.stringify({
        domain: DOMAIN,
        workflowId: `wf-${i}`,
        runId: `run-wf-${i}`,
        reason: 'bench',
        details,
      }),
    });
    if (answer.status !== 200) throw new Error(`setup: terminating wf-${i} answered ${await answer.text()}`);
    await answer.arrayBuffer();
  };
  let next = 0;
  const worker = async () => {
    while (next < n) await terminate(next++);
  };
  await Promise.all(Array.from({ length: SETUP_IN_FLIGHT }, worker));
  if (server.terminations.length !== n) {
    throw new Error(`setup terminated ${server.terminations.length} runs of ${n}`);
  }
  server.resetStats();
  server.latencyMs = latencyMs;
  return { server, inputs: new Map(runs.map((r) => [r.workflowId, r.input])) };
}

/** What went wrong with the starts: every workflowId of the N started exactly once, with its own input. */
function startProblems(starts: readonly RecordedStart[], inputs: Map<string, string | undefined>): string[] {
  const counts = new Map<string, number>();
  let wrongInput = 0;
  for (const s of starts) {
    counts.set(s.workflowId, (counts.get(s.workflowId) ?? 0) + 1);
    if (inputs.has(s.workflowId) && inputs.get(s.workflowId) !== s.input) wrongInput++;
  }
  const missing = [...inputs.keys()].filter((id) => !counts.has(id));
  const twice = [...counts].filter(([, c]) => c > 1).map(([id]) => id);
  const unexpected = [...counts.keys()].filter((id) => !inputs.has(id));
  const problems: string[] = [];
  const some = (ids: string[]) => ids.slice(0, 5).join(', ') + (ids.length > 5 ? ', ...' : '');
  if (missing.length > 0) problems.push(`${missing.length} workflowIds never started (${some(missing)})`);
  if (twice.length > 0) problems.push(`${twice.length} workflowIds started more than once (${some(twice)})`);
  if (unexpected.length > 0) problems.push(`${unexpected.length} unexpected workflowIds started`);
  if (wrongInput > 0) problems.push(`${wrongInput} runs started with another input than their original`);
  return problems;
}

interface Counts {
  calls: Record<Op, number>;
  throttled: Record<Op, number>;
}

function countsOf(server: FakeSwfServer): Counts {
  const calls = {} as Record<Op, number>;
  const throttled = {} as Record<Op, number>;
  for (const op of OPS) {
    calls[op] = server.callCount(op);
    throttled[op] = server.throttledCount(op);
  }
  return { calls, throttled };
}

const answered = (c: Counts, op: Op) => c.calls[op] - c.throttled[op];
const answeredAll = (c: Counts) =>
  Object.fromEntries(OPS.map((op) => [op, answered(c, op)])) as Record<Op, number>;
const sum = (r: Record<Op, number>) => OPS.reduce((t, op) => t + r[op], 0);
const perOp = (r: Record<Op, number>) => OPS.map((op) => `${SHORT[op]} ${r[op]}`).join(', ');
/** The least time (s) a bucket that starts full lets `calls` through. */
const leastTime = (calls: number, burst: number, perSecond: number) => Math.max(0, calls - burst) / perSecond;

/** Runs a child against a fresh terminated server; answers its result, the starts and the server's counts. */
async function phase(
  mode: 'restore' | 'loop',
  file: string,
  k: { n: number; scale: number; latencyMs: number },
  extraEnv: NodeJS.ProcessEnv,
) {
  const t0 = performance.now();
  const { server, inputs } = await terminatedServer(k.n, k.scale, k.latencyMs / k.scale);
  const setupMs = performance.now() - t0;
  try {
    const child = await runChild(
      file,
      {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        BENCH_MODE: mode,
        BENCH_DOMAIN: DOMAIN,
        AWS_ENDPOINT_URL_SWF: server.endpoint,
        // Anything else (a job's Step Functions call, if one were made) reaches the fake and fails fast.
        AWS_ENDPOINT_URL: server.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'bench',
        AWS_SECRET_ACCESS_KEY: 'bench',
        NODE_OPTIONS: '--enable-source-maps',
        NODE_NO_WARNINGS: '1',
        ...extraEnv,
      },
      ['--expose-gc'],
    );
    return {
      result: child.result,
      starts: [...server.starts],
      counts: countsOf(server),
      problems: startProblems(server.starts, inputs),
      setupMs,
      ...(child.stderrNote === undefined ? {} : { stderrNote: child.stderrNote }),
    };
  } finally {
    await server.close();
  }
}

export interface RestoreBenchResult {
  status: 'ok' | 'error';
  rows: string[][];
  notes: string[];
  /** Loud: a crash, or runs not started exactly once. */
  failures: string[];
}

export async function runRestore(): Promise<RestoreBenchResult> {
  const n = num('BENCH_RESTORE_N', 10_000);
  const scale = num('BENCH_RESTORE_SCALE', 20);
  const latencyMs = num('BENCH_RESTORE_LATENCY_MS', 30);
  const baseline = process.env.BENCH_RESTORE_BASELINE !== '0';
  const k = { n, scale, latencyMs };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swf-terminator-restore-'));
  const failures: string[] = [];
  const notes: string[] = [];
  try {
    await build({
      ...BUNDLE_OPTIONS,
      entryPoints: { 'restore-child': path.join(__dirname, 'restore-child.ts') },
      logLevel: 'error',
      outdir: dir,
    });
    const file = path.join(dir, 'restore-child.js');
    const rates = {
      start: { ...RESTORE_RATES.start, ratePerSecond: RESTORE_RATES.start.ratePerSecond * scale },
      history: { ...RESTORE_RATES.history, ratePerSecond: RESTORE_RATES.history.ratePerSecond * scale },
      list: { ...RESTORE_RATES.list, ratePerSecond: RESTORE_RATES.list.ratePerSecond * scale },
    };

    // ---- the restore
    const r = await phase('restore', file, k, {
      BENCH_JOB_ID: JOB_ID,
      BENCH_MAX_EXECUTIONS: String(n),
      BENCH_RESTORE_RATES: JSON.stringify(rates),
      BENCH_REMAINING_MS: String(FUNCTION_TIMEOUT_MS / scale),
      BENCH_END_RESERVE_MS: String(MIN_END_RESERVE_MS / scale),
      POWERTOOLS_SERVICE_NAME: 'swf-terminator-restore',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
    if (r.stderrNote !== undefined) notes.push(r.stderrNote);
    const run = r.result as RestoreRun;
    if (run.status === 'error') throw new Error(`the restore child failed: ${run.detail}`);
    if (run.status === 'threw') failures.push(`the restore threw: ${run.error ?? '?'}`);
    if (run.job !== undefined)
      failures.push(`the restore did not finish in one invocation: ${JSON.stringify(run.job)}`);
    for (const p of r.problems) failures.push(`restore: ${p}`);

    const sim = ((run.endedAt - run.startedAt) / 1000) * scale;
    const firstStart = r.starts.reduce((m, s) => Math.min(m, s.at), Infinity);
    const startQuota = QUOTAS.StartWorkflowExecution;
    const startLeast = leastTime(n, startQuota.burst, startQuota.refillPerSecond);
    // Every call restore made, each against its own quota: the largest least time is the binding quota's.
    const byQuota = OPS.map((op) => ({
      op,
      least: leastTime(answered(r.counts, op), QUOTAS[op].burst, QUOTAS[op].refillPerSecond),
    })).sort((a, b) => b.least - a.least);
    const binding = byQuota[0]!;
    const byPace = (Object.keys(KIND_OPS) as (keyof typeof RESTORE_RATES)[])
      .map((kind) => {
        const calls = KIND_OPS[kind].reduce((t, op) => t + answered(r.counts, op), 0);
        return {
          kind,
          calls,
          least: leastTime(calls, RESTORE_RATES[kind].burst, RESTORE_RATES[kind].ratePerSecond),
        };
      })
      .sort((a, b) => b.least - a.least);
    const pace = byPace[0]!;
    const fraction = (kind: keyof typeof RESTORE_RATES) => {
      const quota = QUOTAS[KIND_OPS[kind][0]!];
      return `${kind} ${RESTORE_RATES[kind].ratePerSecond}/s of ${quota.refillPerSecond}/s (1/${fmt(quota.refillPerSecond / RESTORE_RATES[kind].ratePerSecond, 0)})`;
    };
    const rows: string[][] = [
      ['figure', 'value', 'goal / reference'],
      [
        `restore of ${n}: elapsed (simulated s = real x ${scale})`,
        `${fmt(sim, 1)} s (${fmt(sim / scale, 1)} s real), ${r.starts.length} started, ` +
          (run.job === undefined ? 'one invocation' : 'handed on to a job'),
        `${n} started, one invocation`,
      ],
      ['    starts per simulated second', fmt(r.starts.length / sim, 1), 'info'],
      [
        '    first start after (every termination is confirmed before any start)',
        Number.isFinite(firstStart) ? `${fmt(((firstStart - run.startedAt) / 1000) * scale, 1)} s` : 'none',
        'info',
      ],
      [
        `time / least time SWF's Start quota allows ((${n} - ${startQuota.burst}) / ${startQuota.refillPerSecond} = ${fmt(startLeast, 0)} s)`,
        startLeast > 0 ? ratio(sim / startLeast) : 'n/a (N within the burst)',
        'info (not the bound)',
      ],
      [
        `time / least time the binding quota allows: ${SHORT[binding.op]}, ${answered(r.counts, binding.op)} calls ` +
          `((${answered(r.counts, binding.op)} - ${QUOTAS[binding.op].burst}) / ${QUOTAS[binding.op].refillPerSecond} = ${fmt(binding.least, 0)} s)`,
        binding.least > 0 ? ratio(sim / binding.least) : 'n/a (within the bursts)',
        binding.least > 0 ? `~${fmt(pace.least / binding.least)} by design (pace / quota)` : 'info',
      ],
      [
        `time / restore's configured pace: ${pace.kind}, ${pace.calls} calls ((${pace.calls} - ` +
          `${RESTORE_RATES[pace.kind].burst}) / ${RESTORE_RATES[pace.kind].ratePerSecond} = ${fmt(pace.least, 0)} s)`,
        ratio(sim / pace.least),
        '~1 (>= 1)',
      ],
      [
        `ThrottlingExceptions answered to restore (${perOp(r.counts.throttled)})`,
        String(sum(r.counts.throttled)),
        '0',
      ],
      [
        'every workflowId started exactly once, with its input',
        r.problems.length === 0 ? 'yes' : `NO: ${r.problems.join('; ')}`,
        'yes',
      ],
    ];
    notes.push(
      `restore paces at half of SWF's quota by design (RESTORE_RATES: ${fraction('start')}, ${fraction('history')}, ` +
        `${fraction('list')}), leaving the rest to the account's workflows; a run costs 2 history reads and 1 ` +
        `start, so the history reads, not the starts, bound it: about ${fmt(RESTORE_RATES.history.ratePerSecond / 2, 0)} runs/s.`,
      `restore calls (answered): ${perOp(answeredAll(r.counts))}; ` +
        `least time per quota: ${byQuota.map((q) => `${SHORT[q.op]} ${fmt(q.least, 0)} s`).join(', ')}; ` +
        `report totals ${JSON.stringify(run.status === 'ok' ? run.totals : run.error)}; peak RSS of the restore process ` +
        `${fmt(run.memory.peakRss / 1024 / 1024, 1)} MiB`,
    );

    // ---- the baseline
    if (baseline) {
      const b = await phase('loop', file, k, {});
      if (b.stderrNote !== undefined) notes.push(b.stderrNote);
      const loop = b.result as LoopRun;
      if (loop.status === 'error') throw new Error(`the loop child failed: ${loop.detail}`);
      const loopReal = (loop.endedAt - loop.startedAt) / 1000;
      const loopSim = loopReal * scale;
      const calls = sum(b.counts.calls);
      // Its own time per call besides the injected latency (client, loopback, local server), real ms: it
      // counts `scale` times over in the simulated time, but once at scale 1.
      const ownMs = (loopReal * 1000) / calls - latencyMs / scale;
      const projected = (calls * (latencyMs + ownMs)) / 1000;
      const loopThrottled = sum(b.counts.throttled);
      rows.push(
        [
          `baseline: naive sequential loop over the same ${n}, elapsed (simulated s)`,
          `${fmt(loopSim, 1)} s (${fmt(loopReal, 1)} s real), ${loop.started} started, ${loop.failed} failed`,
          'info',
        ],
        ['    starts per simulated second', fmt(b.starts.length / loopSim, 1), 'info'],
        [
          `    ThrottlingExceptions answered to it (${perOp(b.counts.throttled)})`,
          String(loopThrottled),
          'info',
        ],
        [
          '    every workflowId started exactly once',
          b.problems.length === 0 ? 'yes' : `no: ${b.problems.join('; ')}`,
          'info',
        ],
        ['restore time / baseline time (same run, same buckets and scale)', ratio(sim / loopSim), 'info'],
        [
          `    projected at time scale 1 (loop: ${calls} calls x (${latencyMs} ms + its own ${fmt(ownMs, 2)} ms) = ${fmt(projected, 0)} s)`,
          ratio(sim / projected),
          'info',
        ],
        [
          'ThrottlingExceptions: restore / baseline',
          `${sum(r.counts.throttled)} / ${loopThrottled}`,
          '0 / -',
        ],
      );
      notes.push(
        `baseline: new SWFClient({}) (SDK default retry: standard, 3 attempts), ${loop.listed} runs listed with ` +
          `ListClosedWorkflowExecutions (TERMINATED) in ${fmt(((loop.listedAt - loop.startedAt) / 1000) * scale, 1)} ` +
          `simulated s, then per run GetWorkflowExecutionHistory (first event) and StartWorkflowExecution, one at a ` +
          `time; calls ${perOp(b.counts.calls)}` +
          (loop.firstError === undefined ? '' : `; first error: ${loop.firstError.slice(0, 300)}`) +
          `. It checks no provenance block: it would restart runs anyone terminated. One call in flight, so it is ` +
          `bound by latency (${latencyMs} ms simulated per call), not by a quota. Projection: its own time per ` +
          `call (${fmt(ownMs, 2)} ms real) is multiplied by ${scale} in its simulated time but not at scale 1` +
          (loopThrottled > 0
            ? '; it was throttled, so its backoff waits (real time) are in that per-call time too'
            : '') +
          '.',
      );
    }
    notes.unshift(
      `fake SWF in the bench process: SWF_QUOTAS buckets (but Terminate, used by the setup only), refill ` +
        `x ${scale}, ${latencyMs} ms simulated latency per call (${fmt(latencyMs / scale, 2)} ms real); restore ` +
        `in its own process bundled as deployed, rates x ${scale} (start ${rates.start.ratePerSecond}/s, history ` +
        `${rates.history.ratePerSecond}/s, list ${rates.list.ratePerSecond}/s real, bursts unscaled), ` +
        `${FUNCTION_TIMEOUT_MS / 1000} s budget and ${MIN_END_RESERVE_MS / 1000} s reserve / ${scale}; setup: ${n} ` +
        `runs terminated with job ${JOB_ID}'s provenance block in ${fmt(r.setupMs / 1000, 1)} s real`,
    );
    return { status: failures.length > 0 ? 'error' : 'ok', rows, notes, failures };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Prints a result the same way alone and from bench/run.ts; failures loudly. */
export function printRestore(result: RestoreBenchResult): void {
  for (const f of result.failures) console.log(`!! RESTORE FAILED: ${f}`);
  console.log(table(result.rows));
  for (const note of result.notes) console.log(`- ${note}`);
  for (const f of result.failures) console.error(`!! RESTORE FAILED: ${f}`);
}

if (require.main === module) {
  console.log(
    '== Restore 10,000: a job of terminated runs restarted, local SWF enforcing its token buckets ==',
  );
  console.log(`command: ${commandLine()}`);
  runRestore()
    .then((r) => {
      printRestore(r);
      if (r.status !== 'ok') process.exitCode = 1;
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
