/**
 * Shared helpers for handler tests: handlers wired to a given configuration, events, contexts and
 * captured EMF metrics.
 */
import './handler-env';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SWFClient, type WorkflowExecutionInfo } from '@aws-sdk/client-swf';
import { type Config, type Env, parseConfig } from '../../lambda/config';
import { createHandler, type Handler, type HandlerContext, type HandlerDeps } from '../../lambda/handler';
import type { JobState, Report } from '../../lambda/types';
import { createSwf, type SwfPort } from '../../lambda/aws/swf';
import { NO_TOTALS } from '../../lambda/job/write';
import { type InvocationInfo, unwrapEvent } from '../../lambda/parse/event';
import { parseRequest } from '../../lambda/parse/request';
import type { ParsedEvent } from '../../lambda/types';

export const DOMAIN = 'orders';
/** A fixed invocation time, so selectors and run resolution are deterministic. */
export const NOW = new Date('2025-06-01T12:00:00.000Z');
export const EVENT_TIME = '2025-06-01T11:59:00Z';

export const BASE_ENV: Env = { ALLOWED_DOMAINS: 'orders,billing' };

export function config(env: Env = {}): Config {
  return parseConfig({ ...BASE_ENV, ...env });
}

/** An SWF client aimed at nothing: tests mock it with aws-sdk-client-mock or point it at a local server. */
export function testClient(endpoint?: string): SWFClient {
  return new SWFClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
    ...(endpoint === undefined ? {} : { endpoint }),
  });
}

export interface TestHandler {
  /** The handler, for termination requests: its answer is a report (anything else fails the test). */
  readonly handler: (event: unknown, context: HandlerContext) => Promise<Report>;
  /** The handler as it is (chunks, control requests). */
  readonly raw: Handler;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export interface TestHandlerOptions {
  /** Handler environment, over {@link BASE_ENV}. */
  readonly env?: Env;
  /** The whole configuration, instead of `env`. */
  readonly cfg?: Config;
  /** @default - the SDK client of {@link testClient}, for aws-sdk-client-mock to answer */
  readonly swf?: SwfPort;
  /** @default - {@link NOW} */
  readonly now?: () => Date;
  /** @default - a silent logger */
  readonly logger?: Logger;
  /** Any other collaborator (jobs, clock, pacer, end reserve). */
  readonly deps?: Partial<HandlerDeps>;
}

/** The one way tests build a handler: the real createHandler with test collaborators. */
export function makeHandler(options: TestHandlerOptions = {}): TestHandler {
  const logger = options.logger ?? new Logger({ logLevel: 'SILENT' });
  const metrics = new Metrics({ namespace: 'SwfTerminator', serviceName: 'swf-terminator-test' });
  const raw = createHandler({
    config: options.cfg ?? config(options.env),
    swf: options.swf ?? createSwf(testClient()),
    logger,
    metrics,
    now: options.now ?? (() => NOW),
    ...options.deps,
  });
  const handler = async (event: unknown, context: HandlerContext): Promise<Report> => {
    const result = await raw(event, context);
    if (!('executions' in result)) throw new Error(`expected a report, got ${JSON.stringify(result)}`);
    return result;
  };
  return { handler, raw, logger, metrics };
}

export const context = { awsRequestId: 'console-req-1' };

/** An EventBridge envelope carrying a request. */
export function envelope(detail: unknown, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0',
    id: 'evt-1234',
    'detail-type': 'SWF Termination Request',
    source: 'ops.incident',
    account: '123456789012',
    time: EVENT_TIME,
    region: 'us-east-1',
    resources: [],
    detail,
    ...overrides,
  };
}

/** A listed open execution. */
export function info(
  workflowId: string,
  runId: string,
  options: {
    start?: Date;
    tags?: string[];
    type?: { name: string; version: string };
    status?: 'OPEN' | 'CLOSED';
  } = {},
): WorkflowExecutionInfo {
  return {
    execution: { workflowId, runId },
    workflowType: options.type ?? { name: 'OrderFlow', version: '1' },
    startTimestamp: options.start ?? new Date('2025-05-01T00:00:00Z'),
    executionStatus: options.status ?? 'OPEN',
    ...(options.tags === undefined ? {} : { tagList: options.tags }),
  };
}

/** How the invocation under test ended: its result, or the error it threw. */
export type Outcome<T> = { readonly resolved: T } | { readonly rejected: unknown };

/** What an invocation wrote: its JSON log lines (stdout and stderr, in order) and its EMF documents. */
export interface Output<T> {
  readonly logs: Record<string, unknown>[];
  readonly docs: Record<string, unknown>[];
  readonly outcome: Outcome<T>;
}

/** Runs `fn`, capturing what it writes to stdout and stderr; how it ended is returned, never swallowed. */
export async function captureOutput<T>(fn: () => Promise<T>): Promise<Output<T>> {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  let outcome: Outcome<T>;
  try {
    outcome = await fn().then(
      (resolved): Outcome<T> => ({ resolved }),
      (rejected: unknown): Outcome<T> => ({ rejected }),
    );
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  const lines = chunks
    .join('')
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    logs: lines.filter((l) => !('_aws' in l)),
    docs: lines.filter((l) => '_aws' in l),
    outcome,
  };
}

/** The resolved value of an outcome, failing the test with the error when it was rejected. */
export function resolvedOf<T>(outcome: Outcome<T>): T {
  if ('rejected' in outcome) throw outcome.rejected;
  return outcome.resolved;
}

/** EMF documents written while `fn` runs, together with how `fn` ended (see {@link captureOutput}). */
export async function captureEmf<T>(
  fn: () => Promise<T>,
): Promise<{ docs: Record<string, unknown>[]; outcome: Outcome<T> }> {
  const { docs, outcome } = await captureOutput(fn);
  return { docs, outcome };
}

/**
 * A job's state as a chunk hands it on: a job an EventBridge event started, a selector, four of five matches
 * terminated so far. `overrides` replace whole fields.
 */
export function jobStateFixture(overrides: Partial<JobState> = {}): JobState {
  return {
    version: 2,
    jobId: 'evt-1',
    request: { domain: DOMAIN, selector: { tag: 't' } },
    acceptedUnder: { dryRun: false, maxExecutions: 1000 },
    requestTime: '2025-06-01T11:00:00.000Z',
    provenance: {
      via: 'eventbridge',
      eventId: 'evt-1',
      source: 'ops',
      account: '123456789012',
      time: '2025-06-01T11:00:00Z',
    },
    progress: { target: 'selector' },
    totals: { ...NO_TOTALS, matched: 5, terminated: 4, alreadyClosed: 1 },
    failures: [],
    chunks: 1,
    status: 'running',
    summary: 'running',
    ...overrides,
  };
}

/** Parses an invocation's event as the request flow does: its envelope unwrapped, then the request. */
export function parseEvent(
  event: unknown,
  invocation: InvocationInfo,
  config: Config,
  now: Date,
): ParsedEvent {
  const { body, prefix, provenance, requestTime } = unwrapEvent(event, invocation, config, now);
  return { request: parseRequest(body, config, prefix), provenance, requestTime };
}
