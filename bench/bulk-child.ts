/**
 * The measured half of bench/bulk.ts, run in its own process (stdout /dev/null, so the handler logs as
 * deployed without flooding the terminal) and bundled with esbuild before it runs, like the deployed handler.
 *
 * BENCH_MODE=handler: imports lambda/handler.ts, samples `process.memoryUsage()` (rss, heapUsed) every
 * BENCH_SAMPLE_MS (default 20) ms from before the request to after it, sends the request in BENCH_REQUEST
 * (JSON) with a fake Lambda context whose getRemainingTimeInMillis counts down from BENCH_REMAINING_MS
 * (default 900,000 = Lambda's 15-minute maximum), and answers with a {@link HandlerRun}. With
 * BENCH_GC_SAMPLE_MS > 0 (and --expose-gc) it also forces a full GC that often and keeps the largest heapUsed
 * right after one: the live heap, without the garbage V8 had not collected yet.
 *
 * BENCH_MODE=loop: what a script does: `await client.send(new TerminateWorkflowExecutionCommand(...))` one
 * after another with `new SWFClient({})`, over executions `${BENCH_LOOP_PREFIX}${i}` of BENCH_LOOP_DOMAIN
 * (BENCH_LOOP_WARMUP untimed, then BENCH_LOOP_COUNT timed); answers with a {@link LoopRun}.
 *
 * Everything else (endpoint, credentials, the handler's configuration) comes from the environment the parent
 * sets. The handler module is imported only in handler mode, so the loop never pays for it.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { SWFClient, TerminateWorkflowExecutionCommand } from '@aws-sdk/client-swf';
import { answerParent, type ChildError, env, type HandlerFn } from './child-result';
import { type MemoryPeak, sampler } from './memory';

export type HandlerRun =
  | {
      status: 'ok' | 'threw';
      /** Date.now() just before the handler was called and just after it settled. */
      startedAt: number;
      endedAt: number;
      /** The report without its per-execution list (ok), or the error (threw). */
      report?: Record<string, unknown>;
      error?: { name: string; message: string; failedCount?: number };
      memory: MemoryPeak;
      /** How many times getRemainingTimeInMillis was called, and the lowest value it returned. */
      remainingCalls: number;
      remainingMin: number;
    }
  | ChildError;

export type LoopRun =
  { status: 'ok'; count: number; ms: number; errors: number; firstError?: string } | ChildError;

async function runHandler(): Promise<HandlerRun> {
  // Imported here, not at the top: the loop mode must not load it. The bundler inlines it either way.
  const ns = (await import('../lambda/handler')) as unknown as Record<string, unknown>;
  const handler = ns.handler as HandlerFn | undefined;
  if (typeof handler !== 'function')
    return { status: 'error', detail: 'lambda/handler.ts exports no handler' };
  const request = JSON.parse(env('BENCH_REQUEST')) as unknown;
  const budget = Number(process.env.BENCH_REMAINING_MS ?? 900_000);
  const periodMs = Number(process.env.BENCH_SAMPLE_MS ?? 20);

  // Settle the heap after module load so the baseline is the loaded handler, not import garbage.
  global.gc?.();
  let remainingCalls = 0;
  let remainingMin = budget;
  const deadline = Date.now() + budget;
  const awsRequestId = randomUUID();
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'swf-terminator-bench',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:swf-terminator-bench',
    memoryLimitInMB: '1024',
    awsRequestId,
    logGroupName: '/aws/lambda/swf-terminator-bench',
    logStreamName: '2025/01/01/[$LATEST]bench',
    getRemainingTimeInMillis: () => {
      const left = Math.max(0, deadline - Date.now());
      remainingCalls += 1;
      remainingMin = Math.min(remainingMin, left);
      return left;
    },
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };

  const mem = sampler(periodMs, Number(process.env.BENCH_GC_SAMPLE_MS ?? 0));
  const startedAt = Date.now();
  try {
    const result = (await handler(request, context)) as Record<string, unknown> | null;
    const endedAt = Date.now();
    const { executions, ...report } = result ?? {};
    return {
      status: 'ok',
      startedAt,
      endedAt,
      report: { ...report, executionsListed: Array.isArray(executions) ? executions.length : executions },
      memory: mem.stop(),
      remainingCalls,
      remainingMin,
    };
  } catch (err: unknown) {
    const endedAt = Date.now();
    const e = err as { name?: unknown; message?: unknown; failedCount?: unknown };
    return {
      status: 'threw',
      startedAt,
      endedAt,
      error: {
        name: typeof e.name === 'string' ? e.name : 'Error',
        message: typeof e.message === 'string' ? e.message.slice(0, 2000) : String(err),
        ...(typeof e.failedCount === 'number' ? { failedCount: e.failedCount } : {}),
      },
      memory: mem.stop(),
      remainingCalls,
      remainingMin,
    };
  }
}

async function runLoop(): Promise<LoopRun> {
  const domain = env('BENCH_LOOP_DOMAIN');
  const prefix = env('BENCH_LOOP_PREFIX');
  const warmup = Number(env('BENCH_LOOP_WARMUP'));
  const count = Number(env('BENCH_LOOP_COUNT'));
  const client = new SWFClient({});
  let errors = 0;
  let firstError: string | undefined;
  const terminate = async (i: number) => {
    try {
      await client.send(
        new TerminateWorkflowExecutionCommand({
          domain,
          workflowId: `${prefix}${i}`,
          runId: `run-${prefix}${i}`,
        }),
      );
    } catch (err) {
      errors += 1;
      firstError ??= err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
  };
  for (let i = 0; i < warmup; i++) await terminate(i);
  errors = 0;
  const t = performance.now();
  for (let i = warmup; i < warmup + count; i++) await terminate(i);
  const ms = performance.now() - t;
  client.destroy();
  return { status: 'ok', count, ms, errors, ...(firstError === undefined ? {} : { firstError }) };
}

const mode = process.env.BENCH_MODE;
answerParent<HandlerRun | LoopRun>(mode === 'loop' ? runLoop() : runHandler());
