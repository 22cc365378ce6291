/**
 * The measured half of bench/per-request.ts. Bundled with esbuild as the construct bundles the handler and
 * run with plain `node`, one process per kind of call (`BENCH_KIND`), so each process holds one copy of the
 * SDK and exercises one path, as a deployed function does. Its stdout is /dev/null: the handler's logs and
 * EMF metrics are produced (their cost is measured), the terminal is not.
 *
 * Kinds (executions `<prefix><i>` with runIds `run-<workflowId>`, one prefix per kind):
 *  - `handler`: the handler's entry point, a console request `{ domain, workflowId, runId }`;
 *  - `raw-bare`: `new SWFClient({})` (the SDK's defaults) sending domain, workflowId and runId only;
 *  - `raw-payload`: the same client, plus the reason / details / childPolicy the handler sent;
 *  - `raw-payload-config`: the handler's own client settings (`createSwfClient()`) and the handler's payload,
 *    so that handler / this is the handler's own overhead alone.
 *
 * Protocol (IPC): the parent sends `start` (with the payload for the payload kinds); the child makes its first
 * call (the handler's must report `terminated: 1`), warms up, and answers `ready`. Then, for every `block`
 * message, it makes that many calls one after another and answers their times; `exit` ends it.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { SWFClient, TerminateWorkflowExecutionCommand } from '@aws-sdk/client-swf';
import { createSwfClient } from '../lambda/swf';
import { answerParent, env, type ChildError, type HandlerFn } from './child-result';

export type Kind = 'handler' | 'raw-bare' | 'raw-payload' | 'raw-payload-config';

/** What the handler sent SWF besides the execution (read off the fake server). */
export interface TerminatePayload {
  reason?: string;
  details?: string;
  childPolicy?: 'TERMINATE' | 'REQUEST_CANCEL' | 'ABANDON';
}

export type ParentMessage =
  { type: 'start'; payload?: TerminatePayload } | { type: 'block'; calls: number } | { type: 'exit' };

export type ChildMessage =
  | { type: 'ready'; sampleReport: unknown }
  | { type: 'block-done'; ms: number[] }
  | { type: 'bye' }
  | { type: 'not-implemented'; detail: string }
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

/**
 * One call of this child's kind, for execution number `i`, and what it needs made beforehand, outside the
 * timed region: the handler's Lambda context (the runtime builds it, not the handler).
 */
interface Caller {
  prepare(i: number): unknown;
  call(i: number, prepared: unknown): Promise<unknown>;
}

async function caller(kind: Kind, domain: string, payload: TerminatePayload): Promise<Caller> {
  if (kind === 'handler') {
    // Imported here so the raw kinds never load the handler module (the bundler keeps it lazy).
    const { handler } = (await import('../lambda/handler')) as { handler: HandlerFn };
    return {
      prepare: () => fakeContext(),
      call: (i, context) => handler({ domain, workflowId: `h-${i}`, runId: `run-h-${i}` }, context),
    };
  }
  const prefix = { 'raw-bare': 'r-', 'raw-payload': 'p-', 'raw-payload-config': 'c-' }[kind];
  const client = kind === 'raw-payload-config' ? createSwfClient() : new SWFClient({});
  const extra = kind === 'raw-bare' ? {} : payload;
  return {
    prepare: () => undefined,
    call: (i) =>
      client.send(
        new TerminateWorkflowExecutionCommand({
          domain,
          workflowId: `${prefix}${i}`,
          runId: `run-${prefix}${i}`,
          ...extra,
        }),
      ),
  };
}

function nextMessage(): Promise<ParentMessage> {
  return new Promise((resolve) => {
    process.once('message', (m: ParentMessage) => {
      resolve(m);
    });
  });
}

function send(m: ChildMessage): void {
  process.send?.(m);
}

async function main(): Promise<ChildMessage> {
  const kind = env('BENCH_KIND') as Kind;
  const domain = env('BENCH_DOMAIN');
  const warmup = Number(env('BENCH_WARMUP'));

  const start = await nextMessage();
  if (start.type !== 'start') return { status: 'error', detail: `expected start, got ${start.type}` };
  const c = await caller(kind, domain, start.payload ?? {});
  const call = (i: number) => c.call(i, c.prepare(i));

  // The first call tells whether the handler is real (and gives the parent the payload to copy).
  let sampleReport: unknown;
  try {
    sampleReport = await call(0);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return /not implemented/i.test(detail)
      ? { type: 'not-implemented', detail }
      : { status: 'error', detail: `the first ${kind} call failed: ${detail}` };
  }
  if (kind === 'handler' && (sampleReport as { terminated?: unknown } | null)?.terminated !== 1) {
    return {
      status: 'error',
      detail: `the handler's first report does not say terminated: 1: ${JSON.stringify(sampleReport)}`,
    };
  }
  let next = 1;
  for (; next < warmup; next++) await call(next);
  send({ type: 'ready', sampleReport });

  for (;;) {
    const m = await nextMessage();
    if (m.type === 'exit') return { type: 'bye' };
    if (m.type !== 'block') return { status: 'error', detail: `unexpected message ${m.type}` };
    const ms: number[] = [];
    for (let k = 0; k < m.calls; k++) {
      const prepared = c.prepare(next);
      const t = performance.now();
      await c.call(next++, prepared);
      ms.push(performance.now() - t);
    }
    send({ type: 'block-done', ms });
  }
}

answerParent(main());
