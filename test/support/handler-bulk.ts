/**
 * Helpers for bulk / continuation tests: a handler on the real SDK against the fake SWF server, a Lambda
 * context whose remaining time runs out after a given number of terminations, and a loop that feeds every
 * continuation captured from the (mocked) Lambda client back into the handler.
 */
import './handler-env';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Env } from '../../lambda/config';
import { createHandler, type Handler, type HandlerDeps } from '../../lambda/handler';
import type { Report } from '../../lambda/report';
import { createSwf, createSwfClient } from '../../lambda/swf';
import type { ContinuationEvent } from '../../lambda/continuation';
import type { FakeSwfServer } from './fake-swf';
import { config } from './handler-fixtures';

/** A handler on the real SDK (the handler's own client settings) against `server`. */
export function bulkHandler(
  server: FakeSwfServer,
  env: Env,
  extra: Partial<HandlerDeps> = {},
): { handler: Handler; logger: Logger; metrics: Metrics } {
  const logger = new Logger({ logLevel: 'SILENT' });
  const metrics = new Metrics({ namespace: 'SwfTerminator', serviceName: 'swf-terminator-test' });
  const swf = createSwf(
    createSwfClient({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
    }),
  );
  const handler = createHandler({
    config: config(env),
    swf,
    logger,
    metrics,
    now: () => new Date(),
    continuationReserveMs: 1_000,
    functionName: () => 'swf-terminator-test',
    ...extra,
  });
  return { handler, logger, metrics };
}

/**
 * A Lambda context whose remaining time is plenty until `budget` executions were terminated on `server`
 * during this invocation, then below the reserve: the handler must hand the rest on.
 */
export function budgetContext(server: FakeSwfServer, requestId: string, budget: number) {
  const base = server.terminations.length;
  return {
    awsRequestId: requestId,
    getRemainingTimeInMillis: () => (server.terminations.length - base >= budget ? 0 : 900_000),
  };
}

/**
 * Runs `first`, then every continuation the handler sent (captured by `sent()`), until an invocation
 * returns without handing on. Answers every report, in order.
 */
export async function runChain(
  handler: Handler,
  first: unknown,
  server: FakeSwfServer,
  budget: number,
  sent: () => ContinuationEvent[],
  maxInvocations = 50,
): Promise<Report[]> {
  const reports: Report[] = [];
  let event: unknown = first;
  for (let i = 0; i < maxInvocations; i++) {
    const report = await handler(event, budgetContext(server, `req-${i}`, budget));
    reports.push(report);
    if (report.continued === undefined) return reports;
    const next = sent()[report.continued.sequence - 1];
    if (next === undefined) throw new Error(`continuation ${report.continued.sequence} was not sent`);
    // What Lambda would deliver: the JSON payload, parsed.
    event = JSON.parse(JSON.stringify(next)) as unknown;
  }
  throw new Error('the chain did not end');
}

/** A fake clock for pacing tests: sleeping advances time at once. */
export function fakeClock(start = 0) {
  const state = { t: start, slept: 0 };
  return {
    state,
    now: () => state.t,
    sleep: (ms: number) => {
      state.t += ms;
      state.slept += ms;
      return Promise.resolve();
    },
  };
}
