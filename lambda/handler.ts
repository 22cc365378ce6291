/**
 * The termination handler: turns a request (an EventBridge event or a console test event) into
 * TerminateWorkflowExecution calls, safely, and returns a report.
 *
 * Thin edge around a pure core: {@link parseEvent} validates (no SWF call for a refused request),
 * {@link plan} resolves and counts, {@link act} terminates. Configuration, the SWF client, the logger and the
 * metrics are created once, at cold start.
 *
 * Refused requests throw their typed error (InvalidRequestError, DomainNotAllowedError,
 * TooManyExecutionsError); when any execution failed, the others are still processed and the invocation
 * then throws TerminationFailedError, so EventBridge / Lambda retry it (idempotently: terminated executions
 * answer already-closed) and finally keep it in the dead-letter queue or failure destination.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { type Config, loadConfig } from './config';
import { METRIC, METRICS_NAMESPACE } from './contract';
import { boundedConcurrency, type Dispatcher } from './dispatch';
import {
  describeError,
  DomainNotAllowedError,
  InvalidRequestError,
  TerminationFailedError,
  TooManyExecutionsError,
} from './errors';
import { type Report, ReportBuilder } from './report';
import { parseEvent } from './request';
import { getDefaultSwf, type SwfPort } from './swf';
import { act, isDryRun, plan } from './terminate';

/** The handler's collaborators; the module-scope instance wires the real ones. */
export interface HandlerDeps {
  readonly config: Config;
  readonly swf: SwfPort;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly dispatcher?: Dispatcher;
  /** The invocation time (tests pin it). */
  readonly now?: () => Date;
}

export type Handler = (event: unknown, context: Pick<Context, 'awsRequestId'>) => Promise<Report>;

function isRefusal(error: unknown): boolean {
  return (
    error instanceof InvalidRequestError ||
    error instanceof DomainNotAllowedError ||
    error instanceof TooManyExecutionsError
  );
}

/** Builds a handler around the given collaborators. */
export function createHandler(deps: HandlerDeps): Handler {
  const { config, swf, logger, metrics } = deps;
  const dispatcher = deps.dispatcher ?? boundedConcurrency();
  const now = deps.now ?? (() => new Date());

  return async (event, context) => {
    const invocationTime = now();
    if ('getRemainingTimeInMillis' in context) {
      logger.addContext(context as Context);
    }
    logger.appendKeys({ requestId: context.awsRequestId });
    let report: ReportBuilder | undefined;
    let rejected = 0;
    try {
      const parsed = parseEvent(event, context, config, invocationTime);
      const jobId =
        parsed.provenance.via === 'eventbridge' ? parsed.provenance.eventId : parsed.provenance.requestId;
      logger.appendKeys({ jobId, domain: parsed.request.domain });
      const dryRun = isDryRun(parsed, config);
      logger.debug('request accepted', {
        provenance: parsed.provenance,
        target: parsed.request.target.kind,
        dryRun,
        requestTime: parsed.requestTime.toISOString(),
      });

      const core = { swf, dispatcher };
      const planned = await plan(parsed, config, core);
      logger.debug('request planned', {
        toAct: planned.actions.length,
        decided: planned.decided.length,
      });

      const builder = new ReportBuilder(dryRun);
      report = builder;
      await act(planned, core, {
        parsed,
        config,
        invocation: { functionRequestId: context.awsRequestId, jobId },
        record: (entry) => {
          builder.add(entry);
          if (entry.outcome === 'failed') {
            logger.error('execution failed', { ...entry });
          } else {
            logger.info(`execution ${entry.outcome}`, { ...entry });
          }
        },
      });

      const result = builder.build();
      // One summary line per request (the per-execution lines carry the rest); the accepted/planned lines
      // are debug-level to keep a one-execution request's logging cheap.
      logger.info('request done', {
        provenance: parsed.provenance,
        target: parsed.request.target.kind,
        dryRun,
        matched: result.matched,
        terminated: result.terminated,
        alreadyClosed: result.alreadyClosed,
        wouldTerminate: builder.count('would-terminate'),
        failed: result.failed,
      });
      if (result.failed > 0) {
        throw new TerminationFailedError(builder.listedFailures(), result.failed);
      }
      return result;
    } catch (error: unknown) {
      if (isRefusal(error)) {
        rejected = 1;
        logger.warn('request refused', { error: describeError(error) });
      } else {
        logger.error('request failed', { error: describeError(error) });
      }
      throw error;
    } finally {
      metrics.addMetric(METRIC.terminated, MetricUnit.Count, report?.count('terminated') ?? 0);
      metrics.addMetric(METRIC.alreadyClosed, MetricUnit.Count, report?.count('already-closed') ?? 0);
      metrics.addMetric(METRIC.failed, MetricUnit.Count, report?.count('failed') ?? 0);
      metrics.addMetric(METRIC.wouldTerminate, MetricUnit.Count, report?.count('would-terminate') ?? 0);
      metrics.addMetric(METRIC.rejected, MetricUnit.Count, rejected);
      metrics.publishStoredMetrics();
      logger.resetKeys();
    }
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
