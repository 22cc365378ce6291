/**
 * Jobs benchmark: requests run as jobs on the synthesized state machine (the fake Step Functions server and
 * aws-local-stepfunctions, in the handler's process) against a fake SWF in its own process that enforces
 * SWF's token buckets, time-scaled, with a per-call latency. Measured in the same run:
 *
 * - a job of BENCH_JOB_N (10,000) executions: achieved rate / configured, throttling answers, peak memory;
 * - a job of BENCH_JOB_N / 10 (1,000): the memory baseline (flat memory: the ratio stays near 1);
 * - a job stopped mid-way by an abort request: how many terminations happened after the abort was sent
 *   (goal: at most the rate x 2 s), and how long after it the last one came.
 *
 * Time scale: the fake's buckets refill BENCH_JOB_TIME_SCALE (10) times faster, the handler's rate and chunk
 * length are scaled by the same factor, its burst is not. Run alone: `npx tsx bench/job.ts`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { build } from 'esbuild';
import { SwfTerminator } from '../lib';
import {
  DEFAULT_JOB_CHUNK_SECONDS,
  DEFAULT_TERMINATE_BURST,
  DEFAULT_TERMINATE_RATE_PER_SECOND,
  ENV,
} from '../lib/contract';
import { BUNDLE_OPTIONS } from '../scripts/bundle-handler';
import { definitionFromTemplate } from '../test/support/fake-sfn';
import { SWF_QUOTAS } from '../test/support/fake-swf';
import { bucketExcess, MiB, rateFigures, runChild, ServerProcess } from './bulk';
import type { JobRun } from './job-child';
import { fmt, ratio, table } from './stats';

const DOMAIN = 'bench-jobs';
const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:swf-terminator-bench';

function num(name: string, fallback: number): number {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : Number(raw);
}

/** The state machine as the construct synthesizes it. */
function synthesizedDefinition(): object {
  const stack = new Stack(new App(), 'Bench');
  new SwfTerminator(stack, 'Terminator', { domains: [DOMAIN] });
  return definitionFromTemplate(
    Template.fromStack(stack),
    'arn:aws:lambda:us-east-1:123456789012:function:bench',
  );
}

interface Phase {
  name: string;
  n: number;
  abortAfterMs?: number;
}

export interface JobBenchResult {
  rows: string[][];
  notes: string[];
}

export async function runJobs(): Promise<JobBenchResult> {
  const n = num('BENCH_JOB_N', 10_000);
  const scale = num('BENCH_JOB_TIME_SCALE', 10);
  const rate = DEFAULT_TERMINATE_RATE_PER_SECOND * scale;
  const burst = DEFAULT_TERMINATE_BURST;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swf-terminator-jobs-'));
  try {
    await build({
      ...BUNDLE_OPTIONS,
      entryPoints: {
        'job-child': path.join(__dirname, 'job-child.ts'),
        'bulk-server': path.join(__dirname, 'bulk-server.ts'),
      },
      logLevel: 'error',
      outdir: dir,
    });
    const definition = JSON.stringify(synthesizedDefinition());
    const phases: Phase[] = [
      { name: `job of ${n}`, n },
      { name: `job of ${n / 10}`, n: n / 10 },
      { name: `job of ${n / 2}, aborted after 2 s`, n: n / 2, abortAfterMs: 2_000 },
    ];
    const results: {
      phase: Phase;
      run: Extract<JobRun, { status: 'ok' }>;
      times: number[];
      throttled: number;
    }[] = [];
    for (const phase of phases) {
      const server = await ServerProcess.start(path.join(dir, 'bulk-server.js'), {
        populations: [{ domain: DOMAIN, count: phase.n, prefix: 'wf-' }],
        latencyMs: 30,
        timeScale: scale,
        buckets: { ...SWF_QUOTAS },
      });
      try {
        const child = await runChild(
          path.join(dir, 'job-child.js'),
          {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            BENCH_MODE: 'job',
            BENCH_DEFINITION: definition,
            BENCH_REQUEST: JSON.stringify({
              domain: DOMAIN,
              selector: { startedBefore: new Date().toISOString() },
            }),
            ...(phase.abortAfterMs === undefined ? {} : { BENCH_ABORT_AFTER_MS: String(phase.abortAfterMs) }),
            AWS_ENDPOINT_URL_SWF: server.endpoint,
            AWS_REGION: 'us-east-1',
            AWS_ACCESS_KEY_ID: 'bench',
            AWS_SECRET_ACCESS_KEY: 'bench',
            [ENV.allowedDomains]: DOMAIN,
            [ENV.maxExecutions]: String(phase.n),
            [ENV.terminateRatePerSecond]: String(rate),
            [ENV.terminateBurst]: String(burst),
            [ENV.stateMachineArn]: STATE_MACHINE_ARN,
            [ENV.jobChunkSeconds]: String(DEFAULT_JOB_CHUNK_SECONDS / scale),
            POWERTOOLS_SERVICE_NAME: 'swf-terminator',
            POWERTOOLS_LOG_LEVEL: 'INFO',
            NODE_OPTIONS: '--enable-source-maps',
            NODE_NO_WARNINGS: '1',
          },
          ['--expose-gc'],
        );
        const run = child.result as JobRun;
        if (run.status !== 'ok') throw new Error(`[${phase.name}] the job child failed: ${run.detail}`);
        const stats = await server.stats(DOMAIN, true);
        results.push({
          phase,
          run,
          times: stats.times ?? [],
          throttled: stats.throttled.TerminateWorkflowExecution ?? 0,
        });
      } finally {
        await server.close();
      }
    }

    const [big, small, aborted] = results;
    if (big === undefined || small === undefined || aborted === undefined)
      throw new Error('a phase is missing');
    const figures = rateFigures(big.times, big.run.startedAt, burst);
    const achieved = figures?.steady ?? NaN;
    const abortAt = aborted.run.abortAt ?? NaN;
    const after = aborted.times.filter((t) => t > abortAt);
    const lastAfter = after.at(-1);
    const rows = [
      ['figure', 'value', 'goal'],
      [`${big.phase.name}: achieved / configured rate (${rate}/s scaled)`, fmt(achieved / rate), '>= 0.95'],
      [
        `${big.phase.name}: ended`,
        `${big.run.jobState}, ${big.run.chunks} chunks, ${big.times.length} terminated`,
        `SUCCEEDED, ${n}`,
      ],
      ['throttling answers (all phases)', String(results.reduce((t, r) => t + r.throttled, 0)), '0'],
      [
        'bucket overshoot (largest excess over burst + rate x t)',
        fmt(bucketExcess(big.times, burst, rate), 0),
        '~0',
      ],
      [
        `peak memory, ${big.phase.name} / ${small.phase.name}`,
        `RSS ${ratio(big.run.memory.peakRss / small.run.memory.peakRss)}, live heap ` +
          ratio((big.run.memory.peakLiveHeap ?? NaN) / (small.run.memory.peakLiveHeap ?? NaN)),
        '<= 1.5x',
      ],
      [
        'abort: terminations after the abort was sent',
        `${after.length} (goal at most ${rate * 2}: rate x 2 s)`,
        `<= ${rate * 2}`,
      ],
      [
        'abort: last termination after the abort was sent',
        lastAfter === undefined ? 'none' : `${fmt((lastAfter - abortAt) / 1000, 2)} s`,
        '<= 2 s',
      ],
      ['abort: job ended', aborted.run.jobState, 'ABORTED'],
    ];
    const notes = [
      `fake SWF: SWF's token buckets time-scaled ${scale}x, 30 ms per call, own process; handler rate ` +
        `${DEFAULT_TERMINATE_RATE_PER_SECOND}/s x ${scale}, burst ${burst}, chunks of ${DEFAULT_JOB_CHUNK_SECONDS / scale} s; ` +
        'the state machine is the synthesized one, run by aws-local-stepfunctions in the handler process',
      `peak memory: ${big.phase.name} RSS ${MiB(big.run.memory.peakRss)}, live heap ` +
        `${MiB(big.run.memory.peakLiveHeap ?? NaN)} (heap with garbage ${MiB(big.run.memory.peakHeapUsed)}); ` +
        `${small.phase.name} RSS ${MiB(small.run.memory.peakRss)}, live heap ` +
        `${MiB(small.run.memory.peakLiveHeap ?? NaN)} (with garbage ${MiB(small.run.memory.peakHeapUsed)}); ` +
        'live heap: the largest heap right after a forced full GC, sampled every second',
      `wall: ${results.map((r) => `${r.phase.name} ${fmt((r.run.endedAt - r.run.startedAt) / 1000, 1)} s`).join(', ')}`,
    ];
    return { rows, notes };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runJobs()
    .then((r) => {
      console.log(table(r.rows));
      for (const note of r.notes) console.log(`- ${note}`);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
