/**
 * A policy's run. A sweep (the policy's schedule, an event policy's backstop, an operator's preview) is the
 * policy's request: its match as a selector, its action, cap and dry run. An SWF event names one run: that
 * run is acted on only if SWF itself shows it open and matching the policy now (one List call, or a Describe
 * where the match reads activity: lambda/act/run-checks.ts), never on what the event says about it. A sweep
 * that matches more than the policy's maxExecutions is refused before anything is done, with a log line and
 * the policy's CapExceeded metric: the next run looks again.
 *
 * An event policy's runs that act (its SWF events, its backstop sweep) each pass its circuit breaker
 * (lambda/aws/breaker.ts) first: at most its maxExecutions acted on per rolling capWindow, across all its
 * invocations. A run the breaker passes over is recorded `passed-over`, logged with its execution, and counted
 * in the PolicyPassedOver metric; a tripped breaker answers before any SWF call.
 */
import type { PolicyTriggerValue } from '../../lib/policy-contract';
import { Breaker } from '../aws/breaker';
import { TooManyExecutionsError } from '../errors';
import type { PolicyRun } from '../parse/policy';
import { ReportBuilder } from '../report/report';
import type { Report } from '../types';
import type { RunRef } from '../work';
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

  const breaker = breakerFor(runtime, run.name, run.trigger, run.request.dryRun === true);
  const admit = breaker === undefined ? undefined : admitThrough(breaker);

  if (run.execution !== undefined) {
    const { workflowId, runId } = run.execution;
    if (breaker !== undefined && (await breaker.passOverIfTripped())) {
      return passedOver(runtime, invocation, run.execution);
    }
    // cancelThenTerminate acts in a job of its own: its one run passes the breaker before the job starts.
    if (
      admit !== undefined &&
      run.request.action === 'cancelThenTerminate' &&
      !(await admit(run.execution))
    ) {
      return passedOver(runtime, invocation, run.execution);
    }
    const request = { ...run.request, target: { kind: 'single' as const, execution: { workflowId, runId } } };
    return handleRequest(
      runtime,
      invocation,
      { request, provenance, requestTime, policy: text },
      match,
      run.request.action === 'cancelThenTerminate' ? undefined : admit,
    );
  }

  try {
    return await handleRequest(
      runtime,
      invocation,
      { request: run.request, provenance, requestTime, policy: text },
      match,
      admit,
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

/**
 * The breaker of an event policy's run that may act (an SWF event or the backstop sweep, inline or in its
 * job's chunks; not in preview); none for a schedule policy, whose cap refuses a whole run instead.
 */
export function breakerFor(
  runtime: Runtime,
  policy: string,
  trigger: PolicyTriggerValue,
  dryRun: boolean,
): Breaker | undefined {
  const { config } = runtime;
  const limits = config.breakers?.limits.get(policy);
  const table = runtime.breakers();
  if (limits === undefined || table === undefined) return undefined;
  if (trigger !== 'event' && trigger !== 'backstop') return undefined;
  if (dryRun || config.dryRun) return undefined;
  return new Breaker(table, policy, limits, () => runtime.now().getTime());
}

/** The breaker as the act stage asks it, run by run (RunOptions.admit). */
export function admitThrough(breaker: Breaker): (run: RunRef) => Promise<boolean> {
  return async (run) => (await breaker.admit(run.workflowId, run.runId)) === 'admitted';
}

/** The report of an SWF event's run the breaker passed over: recorded, logged with its execution, counted. */
function passedOver(runtime: Runtime, invocation: Invocation, execution: RunRef): Report {
  const builder = new ReportBuilder(false);
  builder.add({ workflowId: execution.workflowId, runId: execution.runId, outcome: 'passed-over' });
  invocation.report = builder;
  runtime.logger.warn("execution passed-over: the policy's circuit breaker is tripped", { ...execution });
  return builder.build();
}
