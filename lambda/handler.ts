/**
 * The Lambda entry point: one function, four kinds of event, each a flow of parse -> plan -> act -> report.
 *
 * - a termination request (an EventBridge event, or a console test event): lambda/flows/request.ts;
 * - a policy's run (its rule's target input: the policy and the triggering event): lambda/flows/policy.ts;
 * - a job's chunk (the state machine's task): lambda/flows/chunk.ts;
 * - a control request (abort, status, jobs): lambda/flows/control.ts.
 *
 * This edge only tells them apart, gives every log line the invocation's context and the job's keys, and
 * publishes the invocation's metrics, whatever happened. Configuration, the clients, the pacer, the logger
 * and the metrics are created once, at cold start. Refusals throw their typed error before anything is acted on:
 * InvalidRequestError and DomainNotAllowedError before any SWF call; TooManyExecutionsError, JobTooLongError
 * and ActivityCheckTooLongError after counting (Count, List or Describe calls), before any is asked or
 * terminated.
 */
import type { BreakerTable } from './aws/breaker';
import { dynamoBreakerTable } from './aws/breaker-table';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  CANCEL_RATE_PER_SECOND,
  DESCRIBE_BURST,
  DESCRIBE_RATE_PER_SECOND,
  LIST_BURST,
  LIST_RATE_PER_SECOND,
  METRICS_NAMESPACE,
  MIN_END_RESERVE_MS,
  REQUEST_REFUSALS,
} from '../lib/contract';
import { type Clock, Pacer, perInvocation, realClock, TokenBucket } from './aws/pacer';
import { logProgress, type ProgressLog } from './aws/job-logs';
import { createJobs, createSfnClient, type JobsPort } from './aws/jobs';
import { getDefaultSwf, type SwfPort } from './aws/swf';
import { type Config, loadConfig } from './config';
import { clip, describeError, InvalidRequestError } from './errors';
import { handleChunk } from './flows/chunk';
import { handlePolicy } from './flows/policy';
import { type ControlAnswer, handleControl } from './flows/control';
import { handleRequest } from './flows/request';
import { type HandlerContext, Invocation, type Runtime } from './flows/runtime';
import { isControlRequest } from './parse/control';
import { unwrapEvent } from './parse/event';
import { isChunkEvent } from './parse/job-state';
import { functionHome, isPolicyEvent, parsePolicyEvent } from './parse/policy';
import { parseRequest } from './parse/request';
import { publishMetrics } from './report/metrics';
import type { JobState, Report } from './types';

export type { HandlerContext } from './flows/runtime';

/** The handler's collaborators; the module-scope instance wires the real ones. */
export interface HandlerDeps {
  readonly config: Config;
  readonly swf: SwfPort;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The state machine's jobs; default: from the configuration's STATE_MACHINE_ARN (none without it). */
  readonly jobs?: JobsPort;
  /** The invocation time (tests pin it). */
  readonly now?: () => Date;
  /** The pacing clock (tests drive it). */
  readonly clock?: Clock;
  /** The terminate pacer; default: one per handler, i.e. module scope, sized from the configuration. */
  readonly pacer?: Pacer;
  /** The List-call bucket; default: one per handler, sized from LIST_RATE_PER_SECOND (lib/contract.ts). */
  readonly listBucket?: TokenBucket;
  /**
   * Time (ms) kept in reserve at the end of an invocation: below it no new termination starts and the rest
   * is handed to a job. Default: max(40 s, 3 x the p99 terminate latency).
   */
  readonly endReserveMs?: number;
  /** How often a chunk looks at its own execution to notice an abort (ms); default 1000. */
  readonly abortPollMs?: number;
  /**
   * Where chunks record their job's progress and a status reads it back; default: log lines, read back from
   * the configuration's LOG_GROUP_NAME with CloudWatch Logs (none without it).
   */
  readonly progress?: ProgressLog;
  /** The circuit breakers' table; default: the configuration's BREAKER_TABLE in DynamoDB (none without it). */
  readonly breakers?: BreakerTable;
}

/** A request's report, a chunk's job state, or a control request's answer. */
export type HandlerResult = Report | JobState | ControlAnswer;

export type Handler = (event: unknown, context: HandlerContext) => Promise<HandlerResult>;

/** How often a chunk looks at its own execution, by default (an abort is noticed within about this). */
const ABORT_POLL_MS = 1000;

function isRefusal(error: unknown): boolean {
  return error instanceof Error && (REQUEST_REFUSALS as readonly string[]).includes(error.name);
}

/**
 * The longest error message an invocation throws: Lambda returns it (with the stack, which repeats it) as the
 * error payload, and Step Functions keeps a failed chunk's as its execution's cause, at most 32,768
 * characters (docs/facts.md, "Step Functions"). Longer messages (many failures listed) are clipped.
 */
export const ERROR_MESSAGE_MAX = 8_192;

/** The error with its message (and the stack's copy of it) clipped to {@link ERROR_MESSAGE_MAX}. */
function fitErrorPayload(error: unknown): unknown {
  if (!(error instanceof Error) || error.message.length <= ERROR_MESSAGE_MAX) return error;
  const stack = error.stack ?? '';
  const frames = stack.indexOf('\n    at ');
  error.message = clip(error.message, ERROR_MESSAGE_MAX);
  error.stack = `${error.name}: ${error.message}${frames === -1 ? '' : stack.slice(frames)}`;
  return error;
}

/** The collaborators that live as long as the handler (module scope: a warm container shares them). */
function runtimeOf(deps: HandlerDeps): Runtime {
  const { config, logger } = deps;
  const clock = deps.clock ?? realClock;
  const terminate = perInvocation(config.terminateRatePerSecond, config.terminateBurst, config.rateShares);
  const cancel = perInvocation(CANCEL_RATE_PER_SECOND, config.terminateBurst, config.rateShares);
  const list = perInvocation(LIST_RATE_PER_SECOND, LIST_BURST, config.rateShares);
  const describe = perInvocation(DESCRIBE_RATE_PER_SECOND, DESCRIBE_BURST, config.rateShares);
  const pacer = deps.pacer ?? new Pacer(terminate, clock);
  let jobs = deps.jobs;
  let breakers = deps.breakers;
  return {
    config,
    logger,
    clock,
    now: deps.now ?? (() => new Date()),
    rates: { terminate, cancel, list, describe },
    core: {
      swf: deps.swf,
      pacer,
      cancelPacer: new Pacer(cancel, clock),
      listBucket: deps.listBucket ?? new TokenBucket(list.ratePerSecond, list.burst, clock),
      describeBucket: new TokenBucket(describe.ratePerSecond, describe.burst, clock),
    },
    jobs() {
      if (jobs === undefined && config.stateMachineArn !== undefined) {
        jobs = createJobs(createSfnClient(), config.stateMachineArn);
      }
      return jobs;
    },
    // The calls in flight must finish inside the invocation: their p99 latency, three times over, or 40 s.
    reserveMs: () => deps.endReserveMs ?? Math.max(MIN_END_RESERVE_MS, 3 * pacer.p99LatencyMs()),
    abortPollMs: deps.abortPollMs ?? ABORT_POLL_MS,
    progress: deps.progress ?? logProgress(logger, config.logGroupName),
    breakers() {
      if (breakers === undefined && config.breakers !== undefined) {
        breakers = dynamoBreakerTable(config.breakers.table);
      }
      return breakers;
    },
  };
}

/**
 * Builds a handler around the given collaborators. The pacer and the List bucket live as long as the
 * handler (module scope for the Lambda entry point): back-to-back warm invocations of one container share
 * them, so a burst is spent once, not once per invocation.
 */
export function createHandler(deps: HandlerDeps): Handler {
  const runtime = runtimeOf(deps);
  const { config, logger, metrics } = deps;

  const dispatch = async (event: unknown, invocation: Invocation): Promise<HandlerResult> => {
    if (config.controlOnly) return dispatchControl(event, invocation);
    if (isChunkEvent(event)) return handleChunk(runtime, invocation, event);
    if (isPolicyEvent(event)) {
      const { context } = invocation;
      const home = functionHome(context.invokedFunctionArn);
      const run = parsePolicyEvent(event, config, context.awsRequestId, home, invocation.time);
      return handlePolicy(runtime, invocation, run);
    }
    const envelope = unwrapEvent(event, invocation.context, config, invocation.time);
    if (isControlRequest(envelope.body)) {
      return handleControl(runtime, envelope.body, envelope.prefix, envelope.provenance);
    }
    const request = parseRequest(envelope.body, config, envelope.prefix);
    return handleRequest(runtime, invocation, { ...envelope, request });
  };

  // The control function answers abort, status and jobs, and refuses everything else before anything else:
  // it has no SWF permission, and must never run a job's chunk or a policy.
  const dispatchControl = async (event: unknown, invocation: Invocation): Promise<ControlAnswer> => {
    if (isChunkEvent(event) || isPolicyEvent(event)) {
      throw new InvalidRequestError(
        'event',
        `is ${isChunkEvent(event) ? "a job's chunk" : "a policy's run"}: this is the terminator's control ` +
          'function, which answers abort, status and jobs requests only',
      );
    }
    const envelope = unwrapEvent(event, invocation.context, config, invocation.time);
    if (!isControlRequest(envelope.body)) {
      // The bus sends the control function every request without a domain.
      throw new InvalidRequestError(
        envelope.prefix || 'request',
        "must be an abort, status or jobs request: this is the terminator's control function (a termination " +
          'request needs a domain, and goes to the terminating function)',
      );
    }
    return handleControl(runtime, envelope.body, envelope.prefix, envelope.provenance);
  };

  return async (event, context) => {
    const invocation = new Invocation(context, runtime.now(), runtime);
    logger.addContext(context as Parameters<Logger['addContext']>[0]);
    let rejected: 0 | 1 = 0;
    try {
      return await dispatch(event, invocation);
    } catch (error: unknown) {
      if (isRefusal(error)) {
        rejected = 1;
        logger.warn('request refused', { error: describeError(error) });
      } else {
        logger.error('request failed', { error: describeError(error) });
      }
      throw fitErrorPayload(error);
    } finally {
      publishMetrics(metrics, invocation, rejected);
      logger.resetKeys();
    }
  };
}

// Cold start: configuration checked (a bad setting fails the init, naming the variable), clients created once.
const config = loadConfig();
const logger = new Logger();
const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE });

/** The Lambda entry point. */
export const handler: Handler = createHandler({ config, swf: getDefaultSwf(), logger, metrics });
