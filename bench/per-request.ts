/**
 * Per-request benchmark: one termination through the handler against the raw SDK call, in the same run,
 * against the same local zero-latency SWF (test/support/fake-swf.ts).
 *
 * The fake server runs in this process; the clients run in a child process (bench/per-request-child.ts)
 * whose stdout is /dev/null, so the handler runs with its logging and EMF metrics on (the cost of producing
 * them is measured, the terminal is not). The child's stderr is captured and summarised. The handler's request
 * is a console request `{ domain, workflowId, runId }`. Two raw baselines, both `new SWFClient({})` (the SDK's
 * defaults) sending TerminateWorkflowExecutionCommand:
 *  - bare: domain, workflowId, runId only (issue 3's baseline, the headline);
 *  - same payload: plus the reason, details and childPolicy the handler sent, read off the fake server's
 *    recorded termination of the handler's first call (its details carry the provenance block), so that
 *    handler / same-payload is the handler's own overhead and bare / same-payload the payload's cost.
 * Calls are sequential, in rotating blocks of the three kinds, after a warm-up of all. Figures are ratios
 * of per-call medians.
 *
 * The handler's pacing is set far above the call rate (TERMINATE_RATE_PER_SECOND / TERMINATE_BURST, printed):
 * this measures the handler's per-request cost; pacing is bench/bulk.ts's subject, and with the default
 * 50/s back-to-back requests would each wait ~20 ms for a token.
 *
 * Run alone: `npx tsx bench/per-request.ts` (BENCH_CALLS=N, default 2000 of each of the three kinds;
 * BENCH_RAW_RETRY_MODE=adaptive to give the raw client the adaptive retry mode; BENCH_TERMINATE_RATE /
 * BENCH_TERMINATE_BURST to change the handler's pacing).
 */
import { fork } from 'node:child_process';
import * as path from 'node:path';
import { FakeSwfServer, makeExecutions } from '../test/support/fake-swf';
import type { ChildResult, PayloadAnswer, PayloadRequest } from './per-request-child';
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
      ...makeExecutions(total, { domain: DOMAIN, prefix: 'p-' }),
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
          TERMINATE_RATE_PER_SECOND: PACING.rate,
          TERMINATE_BURST: PACING.burst,
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
      child.on('message', (m: ChildResult | PayloadRequest) => {
        if ('type' in m) {
          // The handler's first termination is recorded: hand its payload to the "same payload" baseline.
          const t = server.terminations.find((x) => x.workflowId === 'h-0');
          const payload = t && {
            ...(t.reason === undefined ? {} : { reason: t.reason }),
            ...(t.details === undefined ? {} : { details: t.details }),
            ...(t.childPolicy === undefined
              ? {}
              : { childPolicy: t.childPolicy as 'TERMINATE' | 'REQUEST_CANCEL' | 'ABANDON' }),
          };
          const reply: PayloadAnswer = { type: 'payload', payload };
          child.send(reply);
          return;
        }
        answer = m;
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
    const expected = 3 * (calls + warmup);
    const h = result.handlerMs;
    const r = result.rawMs;
    const p = result.payloadMs;
    const pl = result.payload;
    const payloadDesc =
      `reason ${pl.reason?.length ?? 0} chars, details ${pl.details?.length ?? 0} chars, ` +
      `childPolicy ${pl.childPolicy ?? '(none)'}`;
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
        'raw SDK send(), bare',
        String(r.length),
        fmt(median(r), 3),
        fmt(quantile(r, 0.9), 3),
        fmt(quantile(r, 0.99), 3),
      ],
      [
        "raw SDK send(), handler's payload",
        String(p.length),
        fmt(median(p), 3),
        fmt(quantile(p, 0.9), 3),
        fmt(quantile(p, 0.99), 3),
      ],
    ];
    return {
      status: 'ok',
      rows,
      notes: [
        `headline (issue 3): handler / raw SDK bare, per-call median = ${ratio(median(h) / median(r), 1.2)} ` +
          `(raw client retry mode: ${process.env.BENCH_RAW_RETRY_MODE ?? 'SDK default (standard)'})`,
        `handler / raw SDK with the handler's payload (handler overhead alone), per-call median = ` +
          `${ratio(median(h) / median(p), 1.2)}; payload's own cost: same-payload / bare = ` +
          `${ratio(median(p) / median(r))} (payload as recorded by the fake server: ${payloadDesc})`,
        `p90 ratios: vs bare ${ratio(quantile(h, 0.9) / quantile(r, 0.9))}, vs same payload ` +
          `${ratio(quantile(h, 0.9) / quantile(p, 0.9))}; handler overhead per call (median difference) vs bare ` +
          `${fmt(median(h) - median(r), 3)} ms, vs same payload ${fmt(median(h) - median(p), 3)} ms`,
        `server saw ${server.terminations.length} terminations (expected ${expected}) in ` +
          `${server.callCount()} calls (${perOperation(server)}), ` +
          `${server.throttledCount()} throttled; zero latency, sequential calls, ${warmup} warm-up calls of each, ` +
          `rotating blocks of ${block} of each kind; handler logs + EMF written to /dev/null`,
        `handler pacing: TERMINATE_RATE_PER_SECOND=${PACING.rate}, TERMINATE_BURST=${PACING.burst} (set high: ` +
          `this measures per-request overhead, not pacing; BENCH_TERMINATE_RATE / BENCH_TERMINATE_BURST override)`,
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
