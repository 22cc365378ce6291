/**
 * The measured half of bench/per-request.ts, run in its own process so that the handler's logs and EMF
 * metrics (stdout) go to /dev/null while still being produced: the handler is measured with logging on.
 *
 * Environment (set by the parent): AWS_ENDPOINT_URL_SWF (the fake server), ALLOWED_DOMAINS, AWS_REGION,
 * credentials, BENCH_DOMAIN, BENCH_CALLS, BENCH_WARMUP, BENCH_BLOCK. Executions `h-<i>` are for the handler,
 * `r-<i>` for the bare raw SDK call, `p-<i>` for the raw SDK call with the handler's payload; runIds are
 * `run-<workflowId>`.
 *
 * After the handler's first termination the child asks the parent (`{ type: 'payload-request' }`) for the
 * reason / details / childPolicy the fake server recorded for it, and the parent answers
 * `{ type: 'payload', payload }`: the "same payload" baseline sends exactly those, so that comparing with it
 * separates the handler's own overhead from the cost of the bigger request (provenance in `details`).
 * Finally answers the parent over IPC with a {@link ChildResult}.
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { SWFClient, TerminateWorkflowExecutionCommand } from '@aws-sdk/client-swf';
import { answerParent, type ChildError, env, type HandlerFn } from './child-result';

/** What the handler sent SWF besides the execution (read off the fake server). */
export interface TerminatePayload {
  reason?: string;
  details?: string;
  childPolicy?: 'TERMINATE' | 'REQUEST_CANCEL' | 'ABANDON';
}

/** Messages between the parent and this child, besides the final {@link ChildResult}. */
export type PayloadRequest = { type: 'payload-request' };
export type PayloadAnswer = { type: 'payload'; payload: TerminatePayload | undefined };

export type ChildResult =
  | {
      status: 'ok';
      handlerMs: number[];
      rawMs: number[];
      payloadMs: number[];
      payload: TerminatePayload;
      sampleReport: unknown;
    }
  | { status: 'not-implemented'; detail: string }
  | ChildError;

function fakeContext() {
  const awsRequestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'swf-terminator-bench',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:swf-terminator-bench',
    memoryLimitInMB: '256',
    awsRequestId,
    logGroupName: '/aws/lambda/swf-terminator-bench',
    logStreamName: '2025/01/01/[$LATEST]bench',
    getRemainingTimeInMillis: () => 900_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

async function loadHandler(): Promise<HandlerFn | string> {
  const file = path.resolve(__dirname, '..', 'lambda', 'handler.ts');
  const ns = (await import(file)) as Record<string, unknown>;
  const dflt = ns.default as Record<string, unknown> | undefined;
  const h = ns.handler ?? dflt?.handler;
  return typeof h === 'function' ? (h as HandlerFn) : 'lambda/handler.ts exports no handler function';
}

/** Asks the parent for the payload the fake server recorded for the handler's first termination. */
function askPayload(): Promise<TerminatePayload | undefined> {
  return new Promise((resolve) => {
    const onMessage = (m: PayloadAnswer | { type?: unknown }) => {
      if (m.type !== 'payload' || !('payload' in m)) return;
      process.off('message', onMessage);
      resolve(m.payload);
    };
    process.on('message', onMessage);
    const request: PayloadRequest = { type: 'payload-request' };
    process.send?.(request);
  });
}

async function main(): Promise<ChildResult> {
  const domain = env('BENCH_DOMAIN');
  const calls = Number(env('BENCH_CALLS'));
  const warmup = Number(env('BENCH_WARMUP'));
  const block = Number(env('BENCH_BLOCK'));

  let handler: HandlerFn;
  try {
    const h = await loadHandler();
    if (typeof h === 'string') return { status: 'not-implemented', detail: h };
    handler = h;
  } catch (err) {
    return { status: 'error', detail: `importing lambda/handler.ts failed: ${String(err)}` };
  }

  const viaHandler = async (i: number) =>
    handler({ domain, workflowId: `h-${i}`, runId: `run-h-${i}` }, fakeContext());
  const client = new SWFClient({});
  const viaSdk = async (i: number) =>
    client.send(new TerminateWorkflowExecutionCommand({ domain, workflowId: `r-${i}`, runId: `run-r-${i}` }));

  // The first call tells whether the handler is real.
  let sampleReport: unknown;
  try {
    sampleReport = await viaHandler(0);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return /not implemented/i.test(detail)
      ? { status: 'not-implemented', detail }
      : { status: 'error', detail: `the handler failed its first termination: ${detail}` };
  }
  const terminated = (sampleReport as { terminated?: unknown } | null)?.terminated;
  if (terminated !== 1) {
    return {
      status: 'error',
      detail: `the handler's first report does not say terminated: 1: ${JSON.stringify(sampleReport)}`,
    };
  }

  const payload = await askPayload();
  if (payload === undefined) {
    return {
      status: 'error',
      detail: "the fake server recorded no termination for the handler's first call",
    };
  }
  const viaSdkSamePayload = async (i: number) =>
    client.send(
      new TerminateWorkflowExecutionCommand({
        domain,
        workflowId: `p-${i}`,
        runId: `run-p-${i}`,
        ...payload,
      }),
    );

  for (let i = 1; i < warmup; i++) {
    await viaHandler(i);
    await viaSdk(i);
    await viaSdkSamePayload(i);
  }
  await viaSdk(0);
  await viaSdkSamePayload(0);

  // Measured: rotating blocks of the three kinds, so that drift (GC, JIT, the server's state) hits all alike.
  const kinds = [
    { run: viaHandler, ms: [] as number[], next: warmup },
    { run: viaSdk, ms: [] as number[], next: warmup },
    { run: viaSdkSamePayload, ms: [] as number[], next: warmup },
  ];
  let turn = 0;
  while (kinds.some((k) => k.ms.length < calls)) {
    const kind = kinds[turn++ % kinds.length]!;
    for (let k = 0; k < block && kind.ms.length < calls; k++) {
      const t = performance.now();
      await kind.run(kind.next++);
      kind.ms.push(performance.now() - t);
    }
  }
  client.destroy();
  return {
    status: 'ok',
    handlerMs: kinds[0]!.ms,
    rawMs: kinds[1]!.ms,
    payloadMs: kinds[2]!.ms,
    payload,
    sampleReport,
  };
}

answerParent(main());
