/**
 * The termination handler: turns a request (an EventBridge event or a console test event) into
 * TerminateWorkflowExecution calls, safely, and returns a report.
 *
 * Thin edge around a pure core: {@link parseEvent} (or {@link parseContinuation}) validates (no SWF call for
 * a refused request), {@link runRequest} counts and terminates through the pacer, and when the invocation's
 * time runs low the rest is handed to a continuation. Configuration, the SWF client, the pacer, the logger
 * and the metrics are created once, at cold start.
 *
 * Refused requests throw their typed error (InvalidRequestError, DomainNotAllowedError,
 * TooManyExecutionsError); when any execution failed, the others are still processed and the invocation
 * then throws TerminationFailedError, so EventBridge / Lambda retry it (idempotently: terminated executions
 * answer already-closed) and finally keep it in the dead-letter queue or failure destination.
 */
import { Logger, LogLevelThreshold } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { type Config, loadConfig } from './config';
import {
  type ContinuationSender,
  CARRIED_FAILURES_MAX,
  CONTINUATION_VERSION,
  continuationEvent,
  isContinuationEvent,
  lambdaContinuationSender,
  parseContinuation,
} from './continuation';
import {
  METRIC,
  METRIC_CONTINUATION_LIMIT,
  METRICS_NAMESPACE,
  MIN_CONTINUATION_RESERVE_MS,
} from '../lib/contract';
import {
  ContinuationLimitError,
  describeError,
  DomainNotAllowedError,
  type FailedExecution,
  InvalidRequestError,
  type JobTotals,
  TerminationFailedError,
  TooManyExecutionsError,
} from './errors';
import { type Clock, Pacer, perInvocation, realClock, TokenBucket } from './pacer';
import { type ExecutionReport, type Report, ReportBuilder } from './report';
import { type ParsedEvent, parseEvent, wireRequest } from './request';
import { type AcceptedUnder, acceptedUnder, type JobSettings, jobSettings } from './settings';
import { getDefaultSwf, type SwfPort } from './swf';
import { runRequest } from './terminate';

/** The handler's collaborators; the module-scope instance wires the real ones. */
export interface HandlerDeps {
  readonly config: Config;
  readonly swf: SwfPort;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The invocation time (tests pin it). */
  readonly now?: () => Date;
  /** The pacing clock (tests drive it). */
  readonly clock?: Clock;
  /** The terminate pacer; default: one per handler, i.e. module scope, sized from the configuration. */
  readonly pacer?: Pacer;
  /** The List-call bucket; default: one per handler, sized from {@link LIST_RATE_PER_SECOND}. */
  readonly listBucket?: TokenBucket;
  /** Where continuations go; default: an asynchronous Invoke of this function. */
  readonly continuations?: ContinuationSender;
  /** The function to re-invoke; default: AWS_LAMBDA_FUNCTION_NAME. */
  readonly functionName?: () => string | undefined;
  /**
   * Time (ms) kept in reserve at the end of an invocation: below it no new termination starts and the rest
   * is handed on. Default: max(40 s, 3 x the p99 terminate latency).
   */
  readonly continuationReserveMs?: number;
}

/** What the handler needs from the Lambda context (the remaining time only for bulk requests). */
export type HandlerContext = Pick<Context, 'awsRequestId'> &
  Partial<Pick<Context, 'getRemainingTimeInMillis'>>;

export type Handler = (event: unknown, context: HandlerContext) => Promise<Report>;

/**
 * The terminator's total rate for List calls (ListOpenWorkflowExecutions: 48/s, 200 burst per account),
 * divided among the rate shares like the terminate rate: half the quota, leaving the rest to others.
 */
export const LIST_RATE_PER_SECOND = 24;
export const LIST_BURST = 48;

function isRefusal(error: unknown): boolean {
  return (
    error instanceof InvalidRequestError ||
    error instanceof DomainNotAllowedError ||
    error instanceof TooManyExecutionsError
  );
}

const ZERO: JobTotals = {
  matched: 0,
  terminated: 0,
  alreadyClosed: 0,
  noOpenRun: 0,
  failed: 0,
  wouldTerminate: 0,
};

function add(a: JobTotals, b: JobTotals): JobTotals {
  return {
    matched: a.matched + b.matched,
    terminated: a.terminated + b.terminated,
    alreadyClosed: a.alreadyClosed + b.alreadyClosed,
    noOpenRun: a.noOpenRun + b.noOpenRun,
    failed: a.failed + b.failed,
    wouldTerminate: a.wouldTerminate + b.wouldTerminate,
  };
}

/** The keys every log line of an invocation carries (jobId and domain once the event is parsed). */
interface LineKeys {
  requestId: string;
  jobId?: string;
  domain?: string;
  /** The continuation's number (absent on a job's first invocation). */
  continuation?: number;
}

/**
 * The invocation's summary log line: its keys, who asked, the counts, the pacer's state when it was
 * throttled, and for a single-execution request the execution itself (its own line merged into this one).
 * Built as one literal plus the optional keys assigned in a fixed order (see `keys` in the handler).
 */
function summaryLine(
  keys: LineKeys,
  parsed: ParsedEvent,
  dryRun: boolean,
  own: JobTotals,
  pacer: Pacer,
  execution: ExecutionReport | undefined,
): Record<string, unknown> {
  const line: Record<string, unknown> = {
    requestId: keys.requestId,
    jobId: keys.jobId,
    domain: keys.domain,
    provenance: parsed.provenance,
    target: parsed.request.target.kind,
    dryRun,
    matched: own.matched,
    terminated: own.terminated,
    alreadyClosed: own.alreadyClosed,
    noOpenRun: own.noOpenRun,
    wouldTerminate: own.wouldTerminate,
    failed: own.failed,
  };
  if (keys.continuation !== undefined) line.continuation = keys.continuation;
  if (pacer.throttles > 0) {
    line.throttles = pacer.throttles;
    line.rate = pacer.currentRate;
  }
  if (execution !== undefined) {
    line.workflowId = execution.workflowId;
    if (execution.runId !== undefined) line.runId = execution.runId;
    line.outcome = execution.outcome;
    if (execution.error !== undefined) line.error = execution.error;
  }
  return line;
}

/** The job an invocation works on: a new request (sequence 0) or a continuation. */
interface Job {
  readonly parsed: ParsedEvent;
  /** The function's settings the request was accepted under, and what the job acts with. */
  readonly acceptedUnder: AcceptedUnder;
  readonly settings: JobSettings;
  readonly jobId: string;
  readonly sequence: number;
  readonly carried: JobTotals;
  readonly failures: readonly FailedExecution[];
}

/**
 * Builds a handler around the given collaborators. The pacer and the List bucket live as long as the
 * handler (module scope for the Lambda entry point): back-to-back warm invocations of one container share
 * them, so a burst is spent once, not once per invocation. A new container starts with a full bucket of
 * burst / shares, which is what the per-invocation share of the burst allows.
 */
export function createHandler(deps: HandlerDeps): Handler {
  const { config, swf, logger, metrics } = deps;
  const now = deps.now ?? (() => new Date());
  const clock = deps.clock ?? realClock;
  const pacer =
    deps.pacer ??
    new Pacer(perInvocation(config.terminateRatePerSecond, config.terminateBurst, config.rateShares), clock);
  const list = perInvocation(LIST_RATE_PER_SECOND, LIST_BURST, config.rateShares);
  const listBucket = deps.listBucket ?? new TokenBucket(list.ratePerSecond, list.burst, clock);
  const core = { swf, pacer, listBucket };
  let sender = deps.continuations;
  const functionName = deps.functionName ?? (() => process.env.AWS_LAMBDA_FUNCTION_NAME);
  // The reserve follows the p99 latency (a sort of up to 256 samples when stale): recomputed at most once
  // a second, which a margin of 40 s or more does not notice, instead of before every start.
  let reserve = 0;
  let reserveAt = Number.NEGATIVE_INFINITY;
  const reserveMs = (): number => {
    if (deps.continuationReserveMs !== undefined) return deps.continuationReserveMs;
    const t = clock.now();
    if (t - reserveAt >= 1000) {
      reserve = Math.max(MIN_CONTINUATION_RESERVE_MS, 3 * pacer.p99LatencyMs());
      reserveAt = t;
    }
    return reserve;
  };

  return async (event, context) => {
    const invocationTime = now();
    // No logger.addContext(context): it adds six Lambda-context keys to every line (function name, ARN,
    // memory, version, cold start, the request id again), a third of a line's cost; the request id is
    // appended below as `requestId`, and the function is named by its log group.
    // The keys every line of this invocation carries, passed with each line rather than through
    // appendKeys/resetKeys (a deep merge and a clear per invocation in Powertools). Literals here are built
    // with a fixed set of keys and optional ones assigned after: V8 builds a literal with conditional spreads
    // (`...(x ? { k } : {})`, `...entry`) key by key, which made the single request's summary the costliest
    // object of an invocation (profiled with bench/per-request.ts); keys set to `undefined` would cost
    // Powertools' merge instead.
    let keys: LineKeys = { requestId: context.awsRequestId };
    let report: ReportBuilder | undefined;
    // A single-execution request logs its execution on its one summary line (see below); an entry recorded
    // but not yet logged when something throws goes on the error line instead.
    let unlogged: ExecutionReport | undefined;
    let rejected = 0;
    let limitReached = 0;
    try {
      const job = readJob(event, context, config, invocationTime);
      const { parsed, jobId, sequence } = job;
      keys = { requestId: context.awsRequestId, jobId, domain: parsed.request.domain };
      if (sequence > 0) keys.continuation = sequence;
      const dryRun = job.settings.dryRun;
      const target = parsed.request.target.kind;
      // Debug-level: its payload is built only when debug lines are printed (a logger call still reads the
      // environment and formats nothing when the level is above debug).
      if (logger.level <= LogLevelThreshold.DEBUG) {
        logger.debug('request accepted', {
          ...keys,
          provenance: parsed.provenance,
          target,
          dryRun,
          requestTime: parsed.requestTime,
        });
      }

      const builder = new ReportBuilder(dryRun);
      report = builder;
      const single = target === 'single';
      const remaining = context.getRemainingTimeInMillis?.bind(context);
      const outcome = await runRequest(core, {
        parsed,
        settings: job.settings,
        invocation: { functionRequestId: context.awsRequestId, jobId },
        record: single
          ? (entry) => {
              builder.add(entry);
              unlogged = entry;
            }
          : (entry) => {
              builder.add(entry);
              if (entry.outcome === 'failed') {
                logger.error('execution failed', { ...keys, ...entry });
              } else {
                logger.info(`execution ${entry.outcome}`, { ...keys, ...entry });
              }
            },
        shouldStop: remaining === undefined ? () => false : () => remaining() < reserveMs(),
        alreadyActedOn: job.carried.terminated + job.carried.wouldTerminate,
        warn: (message, extra) => {
          logger.warn(message, { ...keys, ...extra });
        },
      });

      const own = builder.totals();
      const totals = sequence > 0 ? add(job.carried, own) : own;
      const summary = summaryLine(keys, parsed, dryRun, own, pacer, unlogged);
      unlogged = undefined;
      // The job's failures named so far (earlier invocations' first, up to the carried maximum); built only
      // when a continuation or an error needs them.
      const failures = () => [...job.failures, ...builder.listedFailures()].slice(0, CARRIED_FAILURES_MAX);

      if (!outcome.done) {
        const next = sequence + 1;
        if (next > config.maxContinuations) {
          throw new ContinuationLimitError(jobId, next, config.maxContinuations, totals);
        }
        const continuation = continuationEvent({
          version: CONTINUATION_VERSION,
          jobId,
          sequence: next,
          request: wireRequest(parsed.request, outcome.remaining),
          acceptedUnder: job.acceptedUnder,
          requestTime: parsed.requestTime.toISOString(),
          provenance: parsed.provenance,
          progress:
            outcome.remaining === undefined
              ? { target: 'selector' }
              : { target: 'list', remaining: outcome.remaining.length },
          totals,
          failures: failures(),
        });
        sender ??= lambdaContinuationSender(functionName);
        await sender.send(continuation);
        logger.info('request continued', { ...summary, continuation: next, job: totals });
        return builder.build({ jobId, continued: { sequence: next }, job: { ...totals, invocations: next } });
      }

      // One summary line per invocation; the per-execution lines carry the rest (a single-execution
      // request has only this line, carrying its execution). The accepted line is debug-level.
      if (single && own.failed > 0) {
        logger.error('request done', summary);
      } else {
        logger.info('request done', summary);
      }
      if (sequence > 0) {
        logger.info('job done', { ...keys, job: totals, invocations: sequence + 1 });
      }
      if (totals.failed > 0) {
        throw new TerminationFailedError(failures(), totals.failed);
      }
      return builder.build(
        sequence > 0 ? { jobId, job: { ...totals, invocations: sequence + 1 } } : { jobId },
      );
    } catch (error: unknown) {
      const execution = unlogged === undefined ? {} : { ...unlogged };
      if (isRefusal(error)) {
        rejected = 1;
        logger.warn('request refused', { ...keys, error: describeError(error) });
      } else if (error instanceof ContinuationLimitError) {
        limitReached = 1;
        logger.error('continuation limit reached: the job stops with work left', {
          ...keys,
          error: describeError(error),
          job: error.totals,
        });
      } else {
        logger.error('request failed', { ...keys, ...execution, error: describeError(error) });
      }
      throw error;
    } finally {
      metrics.addMetric(METRIC.terminated, MetricUnit.Count, report?.count('terminated') ?? 0);
      metrics.addMetric(METRIC.alreadyClosed, MetricUnit.Count, report?.count('already-closed') ?? 0);
      metrics.addMetric(METRIC.noOpenRun, MetricUnit.Count, report?.count('no-open-run') ?? 0);
      metrics.addMetric(METRIC.failed, MetricUnit.Count, report?.count('failed') ?? 0);
      metrics.addMetric(METRIC.wouldTerminate, MetricUnit.Count, report?.count('would-terminate') ?? 0);
      metrics.addMetric(METRIC.rejected, MetricUnit.Count, rejected);
      if (limitReached > 0) metrics.addMetric(METRIC_CONTINUATION_LIMIT, MetricUnit.Count, limitReached);
      metrics.publishStoredMetrics();
    }
  };
}

/** Parses the event into the job this invocation works on. */
function readJob(event: unknown, context: HandlerContext, config: Config, invocationTime: Date): Job {
  if (isContinuationEvent(event)) {
    const c = parseContinuation(event, config, invocationTime);
    if (c.sequence > config.maxContinuations) {
      // Only a hand-made event gets here: the sender never sends past the limit.
      throw new ContinuationLimitError(c.jobId, c.sequence, config.maxContinuations, c.totals);
    }
    return {
      parsed: c.parsed,
      acceptedUnder: c.acceptedUnder,
      settings: c.settings,
      jobId: c.jobId,
      sequence: c.sequence,
      carried: c.totals,
      failures: c.failures,
    };
  }
  const parsed = parseEvent(event, context, config, invocationTime);
  const jobId =
    parsed.provenance.via === 'eventbridge' ? parsed.provenance.eventId : parsed.provenance.requestId;
  const accepted = acceptedUnder(config);
  return {
    parsed,
    acceptedUnder: accepted,
    settings: jobSettings(parsed.request, accepted),
    jobId,
    sequence: 0,
    carried: ZERO,
    failures: [],
  };
}

// Cold start: configuration checked (a bad setting fails the init, naming the variable), clients created once.
const config = loadConfig();
const logger = new Logger();
const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
});

/** The Lambda entry point. */
export const handler: Handler = createHandler({ config, swf: getDefaultSwf(), logger, metrics });
