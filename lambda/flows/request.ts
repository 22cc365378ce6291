/**
 * A termination request's flow. One job per request, on every path: a request whose id already has a job
 * (in any state: running, done, aborted, or an abort recorded before it started) acts no more and reports
 * that job. Otherwise plan it (resolve criteria that need each candidate described, count, limit, time),
 * then act on it inline when it fits the time this invocation has, watched by a guard that stops it as soon
 * as a job of its id appears (lambda/flows/job-guard.ts), or start a job when it does not. An inline request
 * whose time runs out hands what is left to the same job. cancelThenTerminate is always a job: it asks each
 * run to cancel and terminates it after its own grace period (lambda/act/cancel-then-terminate.ts).
 */
import { createHash } from 'node:crypto';
import { needsActivity } from '../match/activity';
import type { RunOptions, RunResult } from '../work';
import { runRequest } from '../act/terminate';
import type { JobDescription } from '../aws/jobs';
import { TerminationFailedError } from '../errors';
import { isValidJobId } from '../job/id';
import { decide, estimateSeconds, planRequest } from '../plan/plan';
import { resolveSelector } from '../plan/resolve';
import { acceptedUnder, jobSettings } from '../job/settings';
import { summaryOf } from '../report/log';
import type { ReportBuilder } from '../report/report';
import type { AcceptedUnder, ActivityCriteria, JobSettings, ParsedEvent, Report, Selector } from '../types';
import { guardJob, type JobGuard } from './job-guard';
import { jobState } from '../job/write';
import { progressOf } from './progress';
import type { Invocation, Runtime } from './runtime';
import { startJob } from './start-job';

/**
 * The id a request's job has (whether or not it becomes one): the event's id, or the console request's. A
 * policy's run is named by the policy too, so two policies triggered by one event are two jobs.
 */
export function jobIdOf(parsed: ParsedEvent): string {
  const provenance = parsed.provenance;
  switch (provenance.via) {
    case 'eventbridge':
      return provenance.eventId;
    case 'console':
      return provenance.requestId;
    case 'policy': {
      const named = `${provenance.policy}-${provenance.eventId}`;
      return isValidJobId(named) ? named : `${provenance.policy.slice(0, 40)}-${digest(provenance.eventId)}`;
    }
  }
}

/** A short, stable stand-in for an id that cannot name an execution (too long, or characters SFN refuses). */
function digest(id: string): string {
  return createHash('sha256').update(id).digest('hex').slice(0, 32);
}

/**
 * Handles an accepted request. `confirm`: what each run must still match from SWF's facts before it is
 * acted on (a policy's run: the policy's match).
 */
export async function handleRequest(
  runtime: Runtime,
  invocation: Invocation,
  accepted: ParsedEvent,
  confirm?: Selector,
  admit?: RunOptions['admit'],
): Promise<Report> {
  const { config, logger } = runtime;
  const jobId = jobIdOf(accepted);
  const snapshot = acceptedUnder(config);
  const settings = jobSettings(accepted.request, snapshot);
  // Who asked and why on every line of the request, each execution's included: the record of a termination
  // answers "who, and why" on its own (the dashboard's latest-terminations query reads them).
  logger.appendKeys({
    jobId,
    domain: accepted.request.domain,
    requestedBy: accepted.provenance,
    reason: settings.reason,
  });
  logger.debug('request accepted', {
    provenance: accepted.provenance,
    target: accepted.request.target.kind,
    settings,
  });
  const { builder, record } = invocation.newReport(settings);

  // One job per request: before anything else, the job of this id, if there is one, answers for it. The
  // guard's first look is that check; it goes on looking while the request is acted on inline, and stops it
  // as soon as a job of its id appears (a duplicate's hand-off, or an abort recorded before the job existed).
  const jobs = runtime.jobs();
  const guard =
    jobs === undefined ? undefined : guardJob(jobs, jobId, 'inline', { intervalMs: runtime.abortPollMs });
  try {
    return await planAndAct(
      runtime,
      invocation,
      accepted,
      { jobId, snapshot, settings, builder, record, guard, ...(admit === undefined ? {} : { admit }) },
      confirm,
    );
  } finally {
    guard?.close();
  }
}

/** What handleRequest has fixed before it plans: the job's id, its settings, its report, its guard. */
interface Accepted {
  readonly jobId: string;
  readonly snapshot: AcceptedUnder;
  readonly settings: JobSettings;
  readonly builder: ReportBuilder;
  readonly record: RunOptions['record'];
  readonly guard: JobGuard | undefined;
  /** An event policy's circuit breaker, asked before each run is acted on inline. */
  readonly admit?: RunOptions['admit'];
}

/** Unless its job exists: plans the request, then acts on it inline or starts its job. */
async function planAndAct(
  runtime: Runtime,
  invocation: Invocation,
  accepted: ParsedEvent,
  fixed: Accepted,
  confirm: Selector | undefined,
): Promise<Report> {
  const { config, core, logger } = runtime;
  const { jobId, snapshot, settings, builder, record, guard, admit } = fixed;
  await guard?.ready;
  if (guard?.stopped === true && guard.stoppedBy !== undefined) {
    return await reportExisting(runtime, builder, jobId, guard.stoppedBy);
  }

  // A selector with stalled / idle criteria is resolved into runs first; each is described again just before
  // it is acted on (inline, or in the job), since it may have resumed since it was described.
  const recheck = activityCriteriaOf(accepted, settings);
  const check = confirm ?? (recheck === undefined ? undefined : { ...recheck });
  const optionsFor = (parsed: ParsedEvent): RunOptions => ({
    parsed,
    settings,
    invocation: { functionRequestId: invocation.context.awsRequestId, jobId },
    record,
    shouldStop: () => guard?.stopped === true || invocation.timeIsShort(),
    ...(guard === undefined ? {} : { mayAct: () => guard.mayAct(() => invocation.timeIsShort()) }),
    alreadyActedOn: 0,
    ...(check === undefined ? {} : { confirm: check }),
    ...(admit === undefined ? {} : { admit }),
    warn: (message, extra) => {
      logger.warn(message, extra);
    },
  });

  // Plan: a selector whose runs must be known first is resolved (the runs found are a list from then on);
  // then count, limit, and time the work to decide between acting inline and a job.
  const parsed = await resolveFirst(runtime, invocation, optionsFor(accepted));
  const plan = await planRequest(core, optionsFor(parsed));
  const seconds = estimateSeconds(plan, settings, runtime.rates);
  const target = parsed.request.target.kind;
  // cancelThenTerminate is a job (it waits out each run's grace period), unless it has nothing to ask.
  const twoSteps = settings.action === 'cancelThenTerminate' && !settings.dryRun && plan.executions > 0;
  const decision = decide(seconds, invocation.workingSeconds(), settings, target, config);
  const inline = decision === 'inline' && !twoSteps;

  let outcome: RunResult = { done: false };
  // What this delivery does inline is logged as it goes and when it ends, for the status of the request's
  // job, whoever's it is: the one it hands on to, a duplicate's it ran beside, an abort recorded meanwhile.
  const progress =
    inline && guard !== undefined
      ? progressOf(runtime, invocation.context.awsRequestId, jobId, 0, () => builder.totals())
      : undefined;
  if (inline) {
    // Watched while it acts: a job of this id that appears meanwhile stops it within the guard's bound.
    try {
      if (guard?.stopped !== true) outcome = await runRequest(core, optionsFor(parsed));
    } catch (error: unknown) {
      progress?.finish('failed');
      throw error;
    }
    if (guard?.stopped === true && guard.stoppedBy !== undefined) {
      progress?.finish(guard.stoppedBy.state === 'ABORTED' ? 'aborted' : 'done');
      return await reportExisting(runtime, builder, jobId, guard.stoppedBy);
    }
  }
  const own = builder.totals();
  progress?.finish(!outcome.done ? 'running' : own.failed > 0 ? 'failed' : 'done');
  const summary = summaryOf(parsed, settings.dryRun, own, core.pacer);
  if (!outcome.done) {
    const state = jobState({
      jobId,
      parsed,
      acceptedUnder: snapshot,
      remaining: outcome.remaining,
      totals: own,
      failures: builder.listedFailures(),
      chunks: 0,
      status: 'running',
      ...(twoSteps ? { asked: [] } : {}),
      ...(recheck === undefined || accepted.policy !== undefined ? {} : { recheck }),
    });
    const started = await startJob(runtime, invocation, state);
    const reason = twoSteps ? 'grace-period' : inline ? 'out-of-time' : 'too-large';
    logger.info(started.started ? 'job started' : 'job exists', {
      ...summary,
      reason,
      estimatedSeconds: Math.ceil(seconds),
      executionArn: started.executionArn,
    });
    return builder.build({
      jobId,
      job: started.started
        ? { state: 'started', reason, executionArn: started.executionArn }
        : { state: 'exists', executionArn: started.executionArn },
    });
  }
  if (own.failed > 0) {
    logger.error('request done', summary);
    throw new TerminationFailedError(builder.listedFailures(), own.failed);
  }
  logger.info('request done', summary);
  return builder.build({ jobId });
}

/** The report of a delivery that found its request's job: what it did before (usually nothing), and the job. */
async function reportExisting(
  runtime: Runtime,
  builder: ReportBuilder,
  jobId: string,
  seen: JobDescription,
): Promise<Report> {
  // The job as it is now, not as the guard first saw it: an abort recorded before the job started is an
  // execution that is running for a moment, then stopped; the report says how it ended when it has.
  const job =
    (await runtime
      .jobs()
      ?.describe(jobId)
      .catch(() => undefined)) ?? seen;
  runtime.logger.info('job exists: this delivery acts no more', {
    executionArn: job.executionArn,
    status: job.state,
    acted: builder.totals(),
  });
  return builder.build({
    jobId,
    job: { state: 'exists', executionArn: job.executionArn, status: job.state },
  });
}

/**
 * The stalled / idle criteria each run is checked against again just before it is first acted on, if the
 * selector has any (not in a preview: it acts on nothing). For cancelThenTerminate, before it is asked:
 * its termination after the grace period is not held back by a decider that woke to close it.
 */
function activityCriteriaOf(parsed: ParsedEvent, settings: JobSettings): ActivityCriteria | undefined {
  const target = parsed.request.target;
  if (settings.dryRun) return undefined;
  if (target.kind !== 'selector' || !needsActivity(target.selector)) return undefined;
  const { stalled, idleLongerThanSeconds } = target.selector;
  return {
    ...(stalled === undefined ? {} : { stalled }),
    ...(idleLongerThanSeconds === undefined ? {} : { idleLongerThanSeconds }),
  };
}

/**
 * The request with its selector resolved into the runs it matches when they must be known before acting: the
 * stalled / idle criteria (Describe calls, paced), and cancelThenTerminate (its job records each run it
 * asks). As it is otherwise.
 */
async function resolveFirst(
  runtime: Runtime,
  invocation: Invocation,
  options: RunOptions,
): Promise<ParsedEvent> {
  const target = options.parsed.request.target;
  const cancelsFirst = options.settings.action === 'cancelThenTerminate' && !options.settings.dryRun;
  if (target.kind !== 'selector' || !(needsActivity(target.selector) || cancelsFirst)) return options.parsed;
  const resolved = await resolveSelector(
    runtime.core,
    options,
    target.selector,
    runtime.rates.describe,
    invocation.workingSeconds(),
  );
  const runs = resolved.parsed.request.target;
  runtime.logger.info('selector resolved', {
    candidates: resolved.candidates,
    matched: runs.kind === 'list' ? runs.executions.length : 0,
  });
  return resolved.parsed;
}
