/**
 * A restore, end to end: a request (checked, then the terminations found and confirmed, the cap checked
 * before anything starts, the runs restarted for as long as the invocation has time) and a restore job's
 * chunk (the rest, from the job's cursor). Whatever is left when an invocation's time runs out continues as
 * a job on the terminator's state machine, which the control function stops and describes like any job.
 *
 * Safe under a duplicate at any moment: a delivery whose job exists already (handed on, or an abort recorded
 * for it) acts on nothing; every run is skipped when a run of its workflowId was started after its
 * termination, and SWF itself never starts a second open run of a workflowId.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { JOB_EVENT_KEY, RESTORE_JOB_PREFIX, RESTORE_METRIC } from '../../lib/contract';
import type { JobsPort } from '../aws/jobs';
import type { Clock } from '../aws/pacer';
import type { RestoreSwfPort } from '../aws/swf-restore';
import { InvalidRequestError, RestoreTooLargeError } from '../errors';
import type { Provenance } from '../types';
import type { RestoreConfig } from './config';
import { findTerminations, type Terminated } from './find';
import { isRestoreChunk, nextJobState, type RestoreJobState } from './job';
import {
  addRestoreTotals,
  countOutcome,
  NO_RESTORE_TOTALS,
  RESTORE_REPORT_RUNS_MAX,
  type RestoredRun,
  type RestoreReport,
  type RestoreTotals,
} from './report';
import { parseRestoreRequest, type RestoreRequest } from './request';
import { restartRuns } from './run';

/** What a restore invocation needs. */
export interface RestoreRuntime {
  readonly config: RestoreConfig;
  readonly swf: RestoreSwfPort;
  readonly jobs: JobsPort | undefined;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly now: () => Date;
  /** Throttles, one per SWF call kind. */
  readonly take: {
    readonly start: () => Promise<void>;
    readonly history: () => Promise<void>;
    readonly list: () => Promise<void>;
  };
  /** History reads per second: how many terminations one invocation can confirm. */
  readonly historyRatePerSecond: number;
  readonly inFlight: number;
  /** Below this much time left, no new run is taken up (ms). */
  readonly reserveMs: number;
  /** How often an invocation looks whether its job was stopped (ms). */
  readonly abortPollMs: number;
}

export interface RestoreContext {
  readonly awsRequestId: string;
  readonly getRemainingTimeInMillis?: () => number;
}

/** A restore request, or a restore job's chunk. */
export async function handleRestore(
  rt: RestoreRuntime,
  event: unknown,
  context: RestoreContext,
): Promise<RestoreReport | RestoreJobState> {
  if (isRestoreChunk(event)) return runChunk(rt, event[JOB_EVENT_KEY], context);
  const acceptedAt = rt.now();
  const request = parseRestoreRequest(event, rt.config, acceptedAt);
  const jobId = `${RESTORE_JOB_PREFIX}${context.awsRequestId}`;
  const provenance: Provenance = { via: 'console', requestId: context.awsRequestId };
  rt.logger.appendKeys({ jobId });

  // A job of this id exists: another delivery handed it on, or an abort was recorded for it. Act on nothing.
  const existing = await rt.jobs?.describe(jobId);
  if (existing !== undefined) {
    return report(request, jobId, NO_RESTORE_TOTALS, [], {
      state: 'exists',
      executionArn: existing.executionArn,
      status: existing.state,
    });
  }

  const found = await findTerminations(rt.swf, request, {
    ...finding(rt),
    checkListed: (listed) => {
      // Every termination in the window is confirmed (one history read each) before anything starts: it
      // must fit in this invocation, with the starts' time after it.
      const seconds = ((context.getRemainingTimeInMillis?.() ?? Infinity) - rt.reserveMs) / 1000;
      const most = Math.floor((seconds * rt.historyRatePerSecond) / 2);
      if (listed > most) {
        throw new InvalidRequestError(
          'restore.closedAfter',
          `the window holds ${listed} terminations, more than one invocation can confirm and restart ` +
            `(about ${most}): narrow it (closedAfter, closedBefore) and restore it in parts`,
        );
      }
    },
  });
  const restartable = found.runs.filter((r) => r.parent === undefined || request.includeChildren).length;
  if (restartable > request.maxExecutions) throw new RestoreTooLargeError(restartable, request.maxExecutions);

  const work = new Work(rt, request, jobId, provenance);
  work.totals = { ...work.totals, matched: found.runs.length + found.refused.length, notOurs: found.notOurs };
  found.refused.forEach((run) => {
    work.record(run);
  });
  const stopped = watch(rt, async () => (await rt.jobs?.describe(jobId)) !== undefined);
  try {
    const taken = await restartRuns(work.context(context, stopped.seen), found.runs);
    const left = found.runs.slice(taken);
    if (left.length === 0 || stopped.seen()) return work.finish();
    // Out of time: the rest continues as a job (nothing started twice: its cursor starts after what was done).
    if (rt.jobs === undefined)
      throw new Error(`out of time with ${left.length} runs left, and no state machine`);
    const state = nextJobState({
      jobId,
      request,
      provenance,
      totals: work.totals,
      chunks: 0,
      done: found.runs.slice(0, taken),
      left,
      now: rt.now(),
      // Each chunk checks the request as of when it was accepted (its defaults were pinned then).
      requestTime: acceptedAt.toISOString(),
    });
    const job = await rt.jobs.start(state);
    return work.finish({ state: job.started ? 'started' : 'exists', executionArn: job.executionArn });
  } finally {
    stopped.end();
  }
}

/** A restore job's chunk: the rest of its runs, from its cursor, for as long as the invocation has time. */
async function runChunk(
  rt: RestoreRuntime,
  state: RestoreJobState,
  context: RestoreContext,
): Promise<RestoreJobState> {
  const request = parseRestoreRequest(state.request, rt.config, new Date(state.requestTime));
  rt.logger.appendKeys({ jobId: state.jobId });
  const found = await findTerminations(rt.swf, request, {
    ...finding(rt),
    ...(state.cursor === undefined ? {} : { from: state.cursor }),
  });
  const work = new Work(rt, request, state.jobId, state.provenance);
  const stopped = watch(rt, async () => (await rt.jobs?.describe(state.jobId))?.state !== 'RUNNING');
  try {
    const taken = await restartRuns(work.context(context, stopped.seen), found.runs);
    work.finish();
    return nextJobState({
      ...state,
      request,
      totals: addRestoreTotals(state.totals, work.totals),
      chunks: state.chunks + 1,
      done: found.runs.slice(0, taken),
      left: found.runs.slice(taken),
      now: rt.now(),
      ...(stopped.seen() ? { aborted: true } : {}),
    });
  } finally {
    stopped.end();
  }
}

function finding(rt: RestoreRuntime) {
  return { beforeRead: rt.take.history, beforeList: rt.take.list, readsInFlight: rt.inFlight };
}

/** One invocation's runs: counted, listed in the report, logged and measured as they end. */
class Work {
  totals: RestoreTotals = NO_RESTORE_TOTALS;
  private readonly runs: RestoredRun[] = [];
  private truncated = false;

  constructor(
    private readonly rt: RestoreRuntime,
    private readonly request: RestoreRequest,
    private readonly jobId: string,
    private readonly provenance: Provenance,
  ) {}

  record(run: RestoredRun): void {
    this.totals = countOutcome(this.totals, run.outcome);
    if (this.runs.length < RESTORE_REPORT_RUNS_MAX) this.runs.push(run);
    else this.truncated = true;
    const line = {
      ...run,
      requestedBy: this.provenance,
      reason: this.request.reason,
      dryRun: this.request.dryRun,
    };
    if (run.outcome === 'failed') this.rt.logger.error('restore failed', line);
    else this.rt.logger.info(`restore ${run.outcome}`, line);
  }

  context(context: RestoreContext, stopped: () => boolean) {
    return {
      swf: this.rt.swf,
      request: this.request,
      lambdaRoles: this.rt.config.lambdaRoles,
      beforeRead: this.rt.take.history,
      beforeList: this.rt.take.list,
      beforeStart: this.rt.take.start,
      inFlight: this.rt.inFlight,
      shouldStop: () => stopped() || (context.getRemainingTimeInMillis?.() ?? Infinity) < this.rt.reserveMs,
      record: (run: RestoredRun) => {
        this.record(run);
      },
    };
  }

  finish(job?: NonNullable<RestoreReport['restore']['job']>): RestoreReport {
    const { metrics } = this.rt;
    const skipped = Object.values(this.totals.skipped).reduce((a, b) => a + b, 0);
    metrics.addMetric(RESTORE_METRIC.started, MetricUnit.Count, this.totals.started);
    metrics.addMetric(RESTORE_METRIC.skipped, MetricUnit.Count, skipped);
    metrics.addMetric(RESTORE_METRIC.failed, MetricUnit.Count, this.totals.failed);
    metrics.publishStoredMetrics();
    return report(this.request, this.jobId, this.totals, this.runs, job, this.truncated);
  }
}

function report(
  request: RestoreRequest,
  jobId: string,
  totals: RestoreTotals,
  runs: readonly RestoredRun[],
  job?: NonNullable<RestoreReport['restore']['job']>,
  truncated = false,
): RestoreReport {
  return {
    restore: {
      jobId,
      domain: request.domain,
      dryRun: request.dryRun,
      totals,
      runs,
      ...(truncated ? { truncated: true as const } : {}),
      ...(job === undefined ? {} : { job }),
    },
  };
}

/** Looks every abortPollMs whether `isStopped` says the work must stop; `seen` answers what it last saw. */
function watch(
  rt: RestoreRuntime,
  isStopped: () => Promise<boolean>,
): { seen: () => boolean; end: () => void } {
  // One object, so the loop sees what end() and the checks set after it started.
  const flags = { stopped: false, ended: false };
  const ended = () => flags.ended;
  const loop = async () => {
    while (!ended() && !flags.stopped && rt.jobs !== undefined) {
      await rt.clock.sleep(rt.abortPollMs);
      if (ended()) return;
      try {
        flags.stopped = await isStopped();
      } catch (error: unknown) {
        rt.logger.warn('could not look whether the restore was stopped; looking again', {
          error: String(error),
        });
      }
    }
  };
  void loop();
  return {
    seen: () => flags.stopped,
    end: () => {
      flags.ended = true;
    },
  };
}

export type { Terminated };
