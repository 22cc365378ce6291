/**
 * A policy's run. A sweep (the policy's schedule, an event policy's backstop, an operator's preview) is the
 * policy's request: its match as a selector, its action, cap and dry run. An SWF event names one run: that
 * run is acted on only if SWF itself shows it open and matching the policy now (one List call, or a Describe
 * where the match reads activity: lambda/act/run-checks.ts), never on what the event says about it. A sweep
 * that matches more than the policy's maxExecutions is refused before anything is done, with a log line and
 * the policy's CapExceeded metric: the next run looks again.
 */
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
  const { provenance, requestTime, text } = run;
  // Every run the policy acts on is confirmed against its whole match from SWF's facts first.
  const match = run.request.target.selector;

  if (run.execution !== undefined) {
    const { workflowId, runId } = run.execution;
    const request = { ...run.request, target: { kind: 'single' as const, execution: { workflowId, runId } } };
    return handleRequest(runtime, invocation, { request, provenance, requestTime, policy: text }, match);
  }

  try {
    return await handleRequest(
      runtime,
      invocation,
      { request: run.request, provenance, requestTime, policy: text },
      match,
    );
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
