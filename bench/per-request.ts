/**
 * Per-request benchmark: one termination through the handler against the raw SDK call, in the same run,
 * against the same local zero-latency SWF (test/support/fake-swf.ts).
 *
 * The fake server runs in this process; the clients run in a child process (bench/per-request-child.ts)
 * whose stdout is /dev/null, so the handler runs with its logging and EMF metrics on (the cost of producing
 * them is measured, the terminal is not). The child's stderr is captured and summarised. The raw baseline is
 * `new SWFClient({})` (the SDK's defaults) sending TerminateWorkflowExecutionCommand; the handler's request
 * is a console request `{ domain, workflowId, runId }`. Calls are sequential, in alternating blocks of the
 * two kinds, after a warm-up of both. The headline is the ratio of per-call medians, handler / raw.
 *
 * Run alone: `npx tsx bench/per-request.ts` (BENCH_CALLS=N, default 2000 of each kind;
 * BENCH_RAW_RETRY_MODE=adaptive to give the raw client the adaptive retry mode).
 */
import { fork } from 'node:child_process';
import * as path from 'node:path';
import { FakeSwfServer, makeExecutions } from '../test/support/fake-swf';
import type { ChildResult } from './per-request-child';
import { fmt, median, quantile, ratio, table } from './stats';

const DOMAIN = 'bench';

export interface PerRequestResult {
  status: 'ok' | 'not-implemented' | 'error';
  rows: string[][];
  notes: string[];
}

function perOperation(server: FakeSwfServer): string {
  return [
    'TerminateWorkflowExecution',
    'ListOpenWorkflowExecutions',
    'DescribeWorkflowExecution',
    'CountOpenWorkflowExecutions',
  ]
    .map((op) => [op, server.callCount(op)] as const)
    .filter(([, n]) => n > 0)
    .map(([op, n]) => `${op} ${n}`)
    .join(', ');
}

export async function runPerRequest(
  calls = Number(process.env.BENCH_CALLS ?? 2000),
): Promise<PerRequestResult> {
  const warmup = 200;
  const block = 50;
  const total = calls + warmup + 1;
  const server = await FakeSwfServer.start({
    domains: [DOMAIN],
    executions: [
      ...makeExecutions(total, { domain: DOMAIN, prefix: 'h-' }),
      ...makeExecutions(total, { domain: DOMAIN, prefix: 'r-' }),
    ],
    latencyMs: 0,
    recordCalls: false,
  });
  let stderr = '';
  try {
    const result = await new Promise<ChildResult>((resolve, reject) => {
      const child = fork(path.join(__dirname, 'per-request-child.ts'), [], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          AWS_ENDPOINT_URL_SWF: server.endpoint,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'x',
          AWS_SECRET_ACCESS_KEY: 'x',
          ALLOWED_DOMAINS: DOMAIN,
          POWERTOOLS_SERVICE_NAME: 'swf-terminator',
          POWERTOOLS_METRICS_NAMESPACE: 'SwfTerminator',
          BENCH_DOMAIN: DOMAIN,
          BENCH_CALLS: String(calls),
          BENCH_WARMUP: String(warmup),
          BENCH_BLOCK: String(block),
          // Knob: BENCH_RAW_RETRY_MODE=adaptive gives the raw client the SDK's adaptive retry mode (its
          // client-side rate limiter) through AWS_RETRY_MODE, to separate that cost from the handler's own.
          ...(process.env.BENCH_RAW_RETRY_MODE ? { AWS_RETRY_MODE: process.env.BENCH_RAW_RETRY_MODE } : {}),
        },
      });
      let answer: ChildResult | undefined;
      child.stderr?.on('data', (chunk: Buffer) => {
        if (stderr.length < 100_000) stderr += chunk.toString('utf8');
      });
      child.on('message', (m) => {
        answer = m as ChildResult;
      });
      child.on('error', reject);
      child.on('exit', (code) => {
        if (answer) resolve(answer);
        else reject(new Error(`the benchmark child exited with ${String(code)}: ${stderr.slice(0, 2000)}`));
      });
    });

    const stderrLines = stderr
      .split('\n')
      .filter(
        (l) =>
          l.trim() !== '' &&
          !/NodeVersionSupportWarning|node >=22|a\.co\/|trace-warnings|To continue receiving|versions published after/.test(
            l,
          ),
      );
    const stderrNote =
      stderrLines.length === 0
        ? 'child stderr: empty'
        : `child stderr: ${stderrLines.length} line(s), first: ${stderrLines[0]!.slice(0, 200)}`;

    if (result.status !== 'ok') {
      return {
        status: result.status,
        rows: [],
        notes: [
          result.status === 'not-implemented'
            ? `handler not implemented (${result.detail})`
            : `per-request benchmark failed: ${result.detail}`,
          stderrNote,
        ],
      };
    }
    const expected = 2 * (calls + warmup);
    const h = result.handlerMs;
    const r = result.rawMs;
    const rows = [
      ['path', 'calls', 'median ms', 'p90 ms', 'p99 ms'],
      [
        'handler (console request)',
        String(h.length),
        fmt(median(h), 3),
        fmt(quantile(h, 0.9), 3),
        fmt(quantile(h, 0.99), 3),
      ],
      [
        'raw SDK send()',
        String(r.length),
        fmt(median(r), 3),
        fmt(quantile(r, 0.9), 3),
        fmt(quantile(r, 0.99), 3),
      ],
    ];
    return {
      status: 'ok',
      rows,
      notes: [
        `headline: handler / raw SDK per-call median = ${ratio(median(h) / median(r), 1.2)} ` +
          `(raw client retry mode: ${process.env.BENCH_RAW_RETRY_MODE ?? 'SDK default (standard)'})`,
        `p90 ratio ${ratio(quantile(h, 0.9) / quantile(r, 0.9))}; handler overhead per call (median difference) ` +
          `${fmt(median(h) - median(r), 3)} ms`,
        `server saw ${server.terminations.length} terminations (expected ${expected}) in ` +
          `${server.callCount()} calls (${perOperation(server)}), ` +
          `${server.throttledCount()} throttled; zero latency, sequential calls, ${warmup} warm-up calls of each, ` +
          `blocks of ${block} alternating; handler logs + EMF written to /dev/null`,
        stderrNote,
      ],
    };
  } finally {
    await server.close();
  }
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
