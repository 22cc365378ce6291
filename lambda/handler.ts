/**
 * The termination handler. One Lambda function, three kinds of event:
 *
 * - a termination request (an EventBridge event, or a console test event): parsed (no SWF call for a refused
 *   request), planned (counted, and refused over its limit), then acted on inline when it fits the time this
 *   invocation has, or started as a job on the state machine when it does not (and handed to one if its time
 *   runs out after all);
 * - a job's chunk (the state machine's task): the same plan and act, for a bounded time, watching its own
 *   execution so that an abort stops it; it returns the job's new state;
 * - a control request (abort, status, jobs): lambda/control.ts.
 *
 * Configuration, the SWF and Step Functions clients, the pacer, the logger and the metrics are created once,
 * at cold start. Refused requests throw their typed error (InvalidRequestError, DomainNotAllowedError,
 * TooManyExecutionsError, JobTooLongError); when an execution of an inline request failed, the others are
 * still processed and the invocation then throws TerminationFailedError, so EventBridge / Lambda retry it
 * (idempotently: terminated executions answer already-closed) and finally keep it in the dead-letter queue.
 */
import { Logger, LogLevelThreshold } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import {
  ENV,
  JOB_METRIC,
  MAX_JOB_CHUNKS,
  METRIC,
  METRICS_NAMESPACE,
  MIN_END_RESERVE_MS,
} from '../lib/contract';
import { type Config, loadConfig } from './config';
import { type ControlAnswer, isControlRequest, parseControlRequest, runControl } from './control';
import {
  describeError,
  DomainNotAllowedError,
  type FailedExecution,
  InvalidRequestError,
  JobChunkLimitError,
  JobHandOffError,
  JobTooLongError,
  type JobTotals,
  TerminationFailedError,
  TooManyExecutionsError,
} from './errors';
import {
  describeTotals,
  fitJobState,
  isChunkEvent,
  JOB_FAILURES_LISTED_MAX,
  JOB_STATE_VERSION,
  type JobState,
  type JobStatus,
  parseChunkEvent,
} from './job-state';
import { createJobs, createSfnClient, isValidJobId, type JobsPort, watchJob } from './jobs';
import { type Clock, Pacer, perInvocation, realClock, TokenBucket } from './pacer';
import { type ExecutionReport, type Report, ReportBuilder } from './report';
import {
  type Envelope,
  type ExecutionRef,
  type ParsedEvent,
  parseRequest,
  unwrapEvent,
  wireRequest,
} from './request';
import { type AcceptedUnder, acceptedUnder, type JobSettings, jobSettings } from './settings';
import { getDefaultSwf, type SwfPort } from './swf';
import { type Plan, planRequest, runRequest, type RunResult } from './terminate';

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
  /** The List-call bucket; default: one per handler, sized from {@link LIST_RATE_PER_SECOND}. */
  readonly listBucket?: TokenBucket;
  /**
   * Time (ms) kept in reserve at the end of an invocation: below it no new termination starts and the rest
   * is handed to a job. Default: max(40 s, 3 x the p99 terminate latency).
   */
  readonly endReserveMs?: number;
  /** How often a chunk looks at its own execution to notice an abort (ms); default 1000. */
  readonly abortPollMs?: number;
}

/** What the handler needs from the Lambda context (the remaining time only for bulk requests). */
export type HandlerContext = Pick<Context, 'awsRequestId'> &
  Partial<Pick<Context, 'getRemainingTimeInMillis'>>;

/** A request's report, a chunk's job state, or a control request's answer. */
export type HandlerResult = Report | JobState | ControlAnswer;

export type Handler = (event: unknown, context: HandlerContext) => Promise<HandlerResult>;

/**
 * The terminator's total rate for List calls (ListOpenWorkflowExecutions: 48/s, 200 burst per account),
 * divided among the rate shares like the terminate rate: half the quota, leaving the rest to others.
 */
export const LIST_RATE_PER_SECOND = 24;
export const LIST_BURST = 48;

/** The share of an invocation's working time an inline request may be planned to take. */
const INLINE_SHARE = 0.8;

/** How often a chunk looks at its own execution, by default (an abort is noticed within about this). */
const ABORT_POLL_MS = 1000;

function isRefusal(error: unknown): boolean {
  return (
    error instanceof InvalidRequestError ||
    error instanceof DomainNotAllowedError ||
    error instanceof TooManyExecutionsError ||
    error instanceof JobTooLongError
  );
}

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
  /** The chunk's number, for a job's chunk. */
  chunk?: number;
}

/**
 * The summary log line of a request or chunk: its keys, who asked, the counts, the pacer's state when it was
 * throttled, and for a single-execution request the execution itself (its own line merged into this one).
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
    ...keys,
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

/** A job's state as the state machine gets it, from what is known when it is started or a chunk ends. */
function jobState(fields: {
  jobId: string;
  parsed: ParsedEvent;
  acceptedUnder: AcceptedUnder;
  remaining: readonly ExecutionRef[] | undefined;
  totals: JobTotals;
  failures: readonly FailedExecution[];
  chunks: number;
  status: JobStatus;
  lastProgressAt?: Date;
}): JobState {
  const { parsed, totals, status } = fields;
  const target = parsed.request.target;
  const left = fields.remaining ?? (target.kind === 'list' ? target.executions : undefined);
  const failed =
    status === 'failed'
      ? `; failed: ${fields.failures.map((f) => `${f.workflowId}/${f.runId ?? '(current run)'}`).join(', ')}` +
        (totals.failed > fields.failures.length ? ` and ${totals.failed - fields.failures.length} more` : '')
      : '';
  return fitJobState({
    version: JOB_STATE_VERSION,
    jobId: fields.jobId,
    request: wireRequest(parsed.request, fields.remaining),
    acceptedUnder: fields.acceptedUnder,
    requestTime: parsed.requestTime.toISOString(),
    provenance: parsed.provenance,
    progress:
      target.kind === 'selector' ? { target: 'selector' } : { target: 'list', remaining: left?.length ?? 1 },
    totals,
    failures: fields.failures.slice(0, JOB_FAILURES_LISTED_MAX),
    chunks: fields.chunks,
    status,
    ...(fields.lastProgressAt === undefined ? {} : { lastProgressAt: fields.lastProgressAt.toISOString() }),
    summary: `${status}: ${describeTotals(totals)}${failed}`,
  });
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
  const terminateShare = perInvocation(
    config.terminateRatePerSecond,
    config.terminateBurst,
    config.rateShares,
  );
  const pacer = deps.pacer ?? new Pacer(terminateShare, clock);
  const listShare = perInvocation(LIST_RATE_PER_SECOND, LIST_BURST, config.rateShares);
  const listBucket = deps.listBucket ?? new TokenBucket(listShare.ratePerSecond, listShare.burst, clock);
  const core = { swf, pacer, listBucket };
  let jobs = deps.jobs;
  const jobsPort = (): JobsPort | undefined => {
    if (jobs === undefined && config.stateMachineArn !== undefined) {
      jobs = createJobs(createSfnClient(), config.stateMachineArn);
    }
    return jobs;
  };
  // The reserve follows the p99 latency (a sort of up to 256 samples when stale): recomputed at most once
  // a second, which a margin of 40 s or more does not notice, instead of before every start.
  let reserve = 0;
  let reserveAt = Number.NEGATIVE_INFINITY;
  const reserveMs = (): number => {
    if (deps.endReserveMs !== undefined) return deps.endReserveMs;
    const t = clock.now();
    if (t - reserveAt >= 1000) {
      reserve = Math.max(MIN_END_RESERVE_MS, 3 * pacer.p99LatencyMs());
      reserveAt = t;
    }
    return reserve;
  };

  /** Seconds acting on `plan` takes at the rates one invocation may use (after its bursts). */
  const estimateSeconds = (plan: Plan, settings: JobSettings): number => {
    const terminations = settings.dryRun
      ? 0
      : Math.max(0, plan.executions - terminateShare.burst) / terminateShare.ratePerSecond;
    return terminations + Math.max(0, plan.listCalls - listShare.burst) / listShare.ratePerSecond;
  };

  return async (event, context) => {
    const invocationTime = now();
    // The keys every line of this invocation carries, passed with each line.
    let keys: LineKeys = { requestId: context.awsRequestId };
    let report: ReportBuilder | undefined;
    // A single-execution request logs its execution on its one summary line; an entry recorded but not yet
    // logged when something throws goes on the error line instead.
    let unlogged: ExecutionReport | undefined;
    let rejected = 0;
    const jobMetrics = { started: 0, aborted: 0 };
    const remaining = context.getRemainingTimeInMillis?.bind(context);
    const timeIsShort = remaining === undefined ? () => false : () => remaining() < reserveMs();

    /** The report builder of this invocation, logging each execution of a list or selector as it ends. */
    const newReport = (dryRun: boolean, single: boolean) => {
      const builder = new ReportBuilder(dryRun);
      report = builder;
      const record = single
        ? (entry: ExecutionReport) => {
            builder.add(entry);
            unlogged = entry;
          }
        : (entry: ExecutionReport) => {
            builder.add(entry);
            if (entry.outcome === 'failed') logger.error('execution failed', { ...keys, ...entry });
            else logger.info(`execution ${entry.outcome}`, { ...keys, ...entry });
          };
      return { builder, record };
    };

    const warn = (message: string, extra: Record<string, unknown>) => {
      logger.warn(message, { ...keys, ...extra });
    };

    /** Starts the job (or finds it started already) with `state`. */
    const startJob = async (state: JobState) => {
      const port = jobsPort();
      if (port === undefined) {
        throw new JobHandOffError(
          state.jobId,
          `${ENV.stateMachineArn} is not set: this function runs no jobs`,
        );
      }
      if (!isValidJobId(state.jobId)) {
        throw new JobHandOffError(state.jobId, 'the job id cannot name a Step Functions execution');
      }
      try {
        const started = await port.start(state);
        if (started.started) jobMetrics.started = 1;
        return started;
      } catch (error: unknown) {
        throw new JobHandOffError(state.jobId, describeError(error));
      }
    };

    const handleControl = async (envelope: Envelope): Promise<ControlAnswer> => {
      const { prefix } = envelope;
      const request = parseControlRequest(envelope.body, prefix);
      const port = jobsPort();
      if (port === undefined) {
        throw new InvalidRequestError(
          prefix || 'request',
          'this function runs no jobs (STATE_MACHINE_ARN is not set)',
        );
      }
      keys = { ...keys, ...('jobId' in request ? { jobId: request.jobId } : {}) };
      const answer = await runControl(request, port, envelope.provenance);
      logger.info(`control ${request.kind}`, { ...keys, provenance: envelope.provenance, request, answer });
      return answer;
    };

    const handleRequest = async (parsed: ParsedEvent): Promise<Report> => {
      const jobId =
        parsed.provenance.via === 'eventbridge' ? parsed.provenance.eventId : parsed.provenance.requestId;
      keys = { ...keys, jobId, domain: parsed.request.domain };
      const accepted = acceptedUnder(config);
      const settings = jobSettings(parsed.request, accepted);
      const target = parsed.request.target.kind;
      if (logger.level <= LogLevelThreshold.DEBUG) {
        logger.debug('request accepted', { ...keys, provenance: parsed.provenance, target, settings });
      }
      const { builder, record } = newReport(settings.dryRun, target === 'single');
      const options = {
        parsed,
        settings,
        invocation: { functionRequestId: context.awsRequestId, jobId },
        record,
        shouldStop: timeIsShort,
        alreadyActedOn: 0,
        warn,
      };
      const plan = await planRequest(core, options);
      const seconds = estimateSeconds(plan, settings);
      const maxJobSeconds = MAX_JOB_CHUNKS * config.jobChunkSeconds * INLINE_SHARE;
      if (seconds > maxJobSeconds) throw new JobTooLongError(seconds, maxJobSeconds);
      const working = remaining === undefined ? Infinity : Math.max(0, remaining() - reserveMs()) / 1000;
      // A preview of a selector cannot be carried from chunk to chunk (listing again finds the same
      // executions): it always runs here, and fails loudly if it cannot finish.
      const inline = seconds <= working * INLINE_SHARE || (settings.dryRun && target === 'selector');
      let outcome: RunResult = { done: false };
      if (inline) outcome = await runRequest(core, options);

      const own = builder.totals();
      const summary = summaryLine(keys, parsed, settings.dryRun, own, pacer, unlogged);
      unlogged = undefined;
      if (!outcome.done) {
        const state = jobState({
          jobId,
          parsed,
          acceptedUnder: accepted,
          remaining: outcome.remaining,
          totals: own,
          failures: builder.listedFailures(),
          chunks: 0,
          status: 'running',
        });
        const started = await startJob(state);
        const reason = inline ? 'out-of-time' : 'too-large';
        logger.info(started.started ? 'job started' : 'job already started', {
          ...summary,
          reason,
          estimatedSeconds: Math.ceil(seconds),
          executionArn: started.executionArn,
        });
        return builder.build({
          jobId,
          job: {
            state: started.started ? 'started' : 'already-started',
            reason,
            executionArn: started.executionArn,
          },
        });
      }
      if (target === 'single' && own.failed > 0) logger.error('request done', summary);
      else logger.info('request done', summary);
      if (own.failed > 0) throw new TerminationFailedError(builder.listedFailures(), own.failed);
      return builder.build({ jobId });
    };

    const handleChunk = async (): Promise<JobState> => {
      const chunk = parseChunkEvent(event, config, invocationTime);
      const { parsed, settings, state } = chunk;
      const jobId = state.jobId;
      const number = state.chunks + 1;
      keys = { ...keys, jobId, domain: parsed.request.domain, chunk: number };
      const port = jobsPort();
      if (port?.jobIdOf(chunk.execution) !== jobId) {
        throw new InvalidRequestError(
          'execution',
          `must be the execution of job ${jobId} on this function's state machine (STATE_MACHINE_ARN)`,
        );
      }
      const watch = watchJob(port, jobId, deps.abortPollMs ?? ABORT_POLL_MS);
      const { builder, record } = newReport(settings.dryRun, false);
      let outcome: RunResult = { done: false };
      try {
        await watch.ready;
        const started = clock.now();
        const chunkMs = config.jobChunkSeconds * 1000;
        const options = {
          parsed,
          settings,
          invocation: { functionRequestId: context.awsRequestId, jobId },
          record,
          shouldStop: () => watch.stopped || clock.now() - started >= chunkMs || timeIsShort(),
          alreadyActedOn: state.totals.terminated + state.totals.wouldTerminate,
          warn,
        };
        if (!watch.stopped) {
          await planRequest(core, options);
          outcome = await runRequest(core, options);
        }
      } finally {
        watch.close();
      }
      const own = builder.totals();
      const totals = add(state.totals, own);
      const status: JobStatus = watch.stopped
        ? 'aborted'
        : outcome.done
          ? totals.failed > 0
            ? 'failed'
            : 'done'
          : 'running';
      const summary = summaryLine(keys, parsed, settings.dryRun, own, pacer, undefined);
      if (status === 'aborted') {
        // The execution is stopped already: Step Functions drops what this chunk answers, so the logs and the
        // metric are where its totals and the reason end up.
        jobMetrics.aborted = 1;
        logger.warn('job aborted', { ...summary, job: totals, cause: watch.cause });
      } else if (status === 'running' && number >= MAX_JOB_CHUNKS) {
        throw new JobChunkLimitError(jobId, MAX_JOB_CHUNKS, totals);
      } else {
        logger.info(status === 'running' ? 'chunk done' : `job ${status}`, { ...summary, job: totals });
      }
      return jobState({
        jobId,
        parsed,
        acceptedUnder: chunk.acceptedUnder,
        remaining: outcome.done ? undefined : outcome.remaining,
        totals,
        failures: [...state.failures, ...builder.listedFailures()],
        chunks: number,
        status,
        lastProgressAt: now(),
      });
    };

    try {
      if (isChunkEvent(event)) return await handleChunk();
      const envelope = unwrapEvent(event, context, config, invocationTime);
      if (isControlRequest(envelope.body)) return await handleControl(envelope);
      if (config.controlOnly) {
        // The bus sends this function every request without a domain.
        throw new InvalidRequestError(
          envelope.prefix || 'request',
          "must be an abort, status or jobs request: this is the terminator's control function (a termination " +
            'request needs a domain, and goes to the terminating function)',
        );
      }
      const request = parseRequest(envelope.body, config, envelope.prefix);
      return await handleRequest({
        request,
        provenance: envelope.provenance,
        requestTime: envelope.requestTime,
      });
    } catch (error: unknown) {
      const execution = unlogged === undefined ? {} : { ...unlogged };
      if (isRefusal(error)) {
        rejected = 1;
        logger.warn('request refused', { ...keys, error: describeError(error) });
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
      if (jobMetrics.started > 0) metrics.addMetric(JOB_METRIC.started, MetricUnit.Count, 1);
      if (jobMetrics.aborted > 0) metrics.addMetric(JOB_METRIC.aborted, MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
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
