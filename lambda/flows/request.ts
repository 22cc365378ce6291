/**
 * A termination request's flow: plan it (resolve criteria that need each candidate described, count, limit,
 * time), then act on it inline when it fits the time this invocation has, or start a job when it does not; an
 * inline request whose time runs out after all hands what is left to the same job. cancelThenTerminate starts,
 * before asking any run, the follow-up job that terminates after the grace period those still open and asked
 * to cancel (lambda/flows/follow-up.ts). Report what was done.
 */
import { createHash } from 'node:crypto';
import type { RunOptions, RunResult } from '../act/core';
import { runRequest } from '../act/terminate';
import { isValidJobId } from '../parse/job-id';
import { decide, estimateSeconds, planRequest } from '../plan/plan';
import { acceptedUnder, jobSettings } from '../plan/settings';
import { needsActivity } from '../act/activity';
import { TerminationFailedError } from '../errors';
import { resolveSelector } from '../plan/resolve';
import { summaryOf } from '../report/log';
import type { AcceptedUnder, ActivityCriteria, JobSettings, ParsedEvent, Report } from '../types';
import { followUpFor, startFollowUp } from './follow-up';
import { jobState } from './job-state';
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

export async function handleRequest(
  runtime: Runtime,
  invocation: Invocation,
  accepted: ParsedEvent,
): Promise<Report> {
  const { config, core, logger } = runtime;
  const jobId = jobIdOf(accepted);
  logger.appendKeys({ jobId, domain: accepted.request.domain });
  const snapshot = acceptedUnder(config);
  const settings = jobSettings(accepted.request, snapshot);
  logger.debug('request accepted', {
    provenance: accepted.provenance,
    target: accepted.request.target.kind,
    settings,
  });
  const { builder, record } = invocation.newReport(settings);
  // A selector with stalled / idle criteria is resolved into runs first; each is described again just before
  // it is acted on (inline, or in the job), since it may have resumed since it was described.
  const recheck = activityCriteriaOf(accepted, settings);
  const optionsFor = (parsed: ParsedEvent): RunOptions => ({
    parsed,
    settings,
    invocation: { functionRequestId: invocation.context.awsRequestId, jobId },
    record,
    shouldStop: () => invocation.timeIsShort(),
    alreadyActedOn: 0,
    ...(recheck === undefined ? {} : { recheck }),
    warn: (message, extra) => {
      logger.warn(message, extra);
    },
  });

  // Plan: a selector whose runs must be known first is resolved (the runs found are a list from then on);
  // then count, limit, and time the work to decide between acting inline and a job.
  const parsed = await resolveFirst(runtime, invocation, optionsFor(accepted));
  const options = optionsFor(parsed);
  const plan = await planRequest(core, options);
  const seconds = estimateSeconds(plan, settings, runtime.rates);
  const target = parsed.request.target.kind;
  const inline = decide(seconds, invocation.workingSeconds(), settings, target, config) === 'inline';
  // cancelThenTerminate: the job that terminates what is still open after the grace period is started with
  // every run BEFORE any is asked to cancel, so no run asked is ever left without it.
  const followUp = await followUpFirst(runtime, invocation, { jobId, parsed, accepted: snapshot, settings });
  const outcome: RunResult = inline ? await runRequest(core, options) : { done: false };

  const own = builder.totals();
  const summary = summaryOf(parsed, settings.dryRun, own, core.pacer);
  const extra = { jobId, ...(followUp === undefined ? {} : { followUp }) };
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
      ...(recheck === undefined ? {} : { recheck }),
    });
    const started = await startJob(runtime, invocation, state);
    const reason = inline ? 'out-of-time' : 'too-large';
    logger.info(started.started ? 'job started' : 'job already started', {
      ...summary,
      reason,
      estimatedSeconds: Math.ceil(seconds),
      executionArn: started.executionArn,
    });
    return builder.build({
      ...extra,
      job: {
        state: started.started ? 'started' : 'already-started',
        reason,
        executionArn: started.executionArn,
      },
    });
  }
  if (own.failed > 0) {
    logger.error('request done', summary);
    throw new TerminationFailedError(builder.listedFailures(), own.failed);
  }
  logger.info('request done', summary);
  return builder.build(extra);
}

/**
 * The stalled / idle criteria each run is checked against again just before it is acted on, if the selector
 * has any. Not for cancelThenTerminate: its follow-up, started with the matched runs before any is asked,
 * terminates every one still open and asked to cancel, and cannot tell this request's cancel request from
 * another's; a run left alone here could be terminated there, and one not asked would fail it. Its match is
 * committed when its follow-up starts (a cancel request is the graceful step: a decider that resumed may
 * close its run cleanly).
 */
function activityCriteriaOf(parsed: ParsedEvent, settings: JobSettings): ActivityCriteria | undefined {
  const target = parsed.request.target;
  if (settings.action === 'cancelThenTerminate') return undefined;
  if (target.kind !== 'selector' || !needsActivity(target.selector)) return undefined;
  const { stalled, idleLongerThanSeconds } = target.selector;
  return {
    ...(stalled === undefined ? {} : { stalled }),
    ...(idleLongerThanSeconds === undefined ? {} : { idleLongerThanSeconds }),
  };
}

/**
 * The request with its selector resolved into the runs it matches when they must be known before acting: the
 * stalled / idle criteria (Describe calls, paced), and cancelThenTerminate (its follow-up takes the runs). As
 * it is otherwise.
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

/** Starts cancelThenTerminate's follow-up job for the request's runs (none for anything else, or a preview). */
async function followUpFirst(
  runtime: Runtime,
  invocation: Invocation,
  fields: { jobId: string; parsed: ParsedEvent; accepted: AcceptedUnder; settings: JobSettings },
): Promise<Report['followUp']> {
  const { settings, parsed } = fields;
  const target = parsed.request.target;
  if (settings.action !== 'cancelThenTerminate' || settings.dryRun || target.kind === 'selector')
    return undefined;
  const named = target.kind === 'single' ? [target.execution] : target.executions;
  const runs = named.flatMap((e) =>
    e.runId === undefined ? [] : [{ workflowId: e.workflowId, runId: e.runId }],
  );
  if (runs.length === 0) return undefined;
  // Asking inline ends with this invocation at the latest; asking handed to a job is waited for by the follow-up.
  const left = invocation.context.getRemainingTimeInMillis?.() ?? LAMBDA_MAX_MS;
  const askingEndsBy = new Date(runtime.now().getTime() + left);
  return startFollowUp(runtime, invocation, followUpFor({ ...fields, runs, askingEndsBy }));
}

/** Lambda's longest invocation: the latest an invocation without a deadline can end. */
const LAMBDA_MAX_MS = 15 * 60_000;
