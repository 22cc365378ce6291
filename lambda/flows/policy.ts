/**
 * A policy's run. A sweep (the policy's schedule, an event policy's backstop, an operator's preview) is the
 * policy's request: its match as a selector, its action, cap and dry run. An SWF event is checked against the
 * match with what the event says about its execution (type, tags, age, and the stalled and idle criteria,
 * which its detail carries: no Describe call), and if it matches, that one run is acted on. A sweep that
 * matches more than the policy's maxExecutions is refused before anything is done, with a log line and the
 * policy's CapExceeded metric: the next run looks again.
 */
import { activityMatches } from '../act/activity';
import { matchesSelector } from '../act/selector';
import { TooManyExecutionsError } from '../errors';
import type { PolicyRun } from '../parse/policy';
import { ReportBuilder } from '../report/report';
import type { Report } from '../types';
import { handleRequest } from './request';
import type { Invocation, Runtime } from './runtime';

export async function handlePolicy(
  runtime: Runtime,
  invocation: Invocation,
  run: PolicyRun,
): Promise<Report> {
  const { logger } = runtime;
  invocation.policy = { name: run.name, capExceeded: false };
  logger.appendKeys({ policy: run.name, trigger: run.trigger, domain: run.request.domain });
  const { provenance, requestTime } = run;

  if (run.execution !== undefined) {
    const execution = run.execution;
    const mismatch = eventMismatch(run);
    if (mismatch !== undefined) {
      logger.info('policy: the event does not match', {
        provenance,
        workflowId: execution.workflowId,
        runId: execution.runId,
        because: mismatch,
      });
      return new ReportBuilder(run.request.dryRun === true).build();
    }
    const request = {
      ...run.request,
      target: {
        kind: 'single' as const,
        execution: { workflowId: execution.workflowId, runId: execution.runId },
      },
    };
    return handleRequest(runtime, invocation, { request, provenance, requestTime });
  }

  try {
    return await handleRequest(runtime, invocation, { request: run.request, provenance, requestTime });
  } catch (error: unknown) {
    if (!(error instanceof TooManyExecutionsError)) throw error;
    // Refused whole, before acting: more matched than the policy may act on in one run.
    invocation.policy.capExceeded = true;
    logger.warn('policy run refused: more executions matched than its maxExecutions', {
      provenance,
      error: error.message,
      count: error.count,
      maxExecutions: error.limit,
    });
    return new ReportBuilder(run.request.dryRun === true).build({ refused: error.message });
  }
}

/** Why the event's execution does not match the policy, or undefined when it does. */
function eventMismatch(run: PolicyRun): string | undefined {
  const execution = run.execution;
  if (execution === undefined) return 'the event names no execution';
  if (!execution.open) return 'the execution is closed';
  if (execution.cancelRequested && run.request.action === 'requestCancel') {
    return 'it was asked to cancel already';
  }
  const selector = run.request.target.selector;
  const info = {
    execution: { workflowId: execution.workflowId, runId: execution.runId },
    workflowType: execution.workflowType,
    startTimestamp: execution.startTimestamp,
    executionStatus: 'OPEN' as const,
    tagList: [...execution.tagList],
  };
  if (!matchesSelector(info, selector, run.requestTime)) {
    return 'its type, tags, workflowId or start time are outside the match';
  }
  if (!activityMatches(execution.activity, selector, run.requestTime)) {
    return 'it is not stalled or idle as the match asks';
  }
  return undefined;
}
