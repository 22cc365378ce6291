/**
 * What the restore tests share: the restore handler built around a local SWF server (no pacing to wait out),
 * RESTORE_CONFIG at SWF's whole quotas for a local deployment, and a run's start attributes as a restored
 * run must repeat them.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SWF_QUOTAS } from '../../lib/contract';
import { createRestoreSwf } from '../../lambda/aws/swf-restore';
import type { RestoreReport } from '../../lambda/restore/report';
import { createRestoreHandler, type RestoreDeps, type RestoreHandler } from '../../lambda/restore/runtime';
import type { FakeExecution, FakeSwfServer } from '../../local/swf';
import { testClient } from './handler-fixtures';

/** Rates no test waits on (the local SWF server enforces no quota unless asked to). */
export const UNPACED = {
  start: { ratePerSecond: 10_000, burst: 10_000 },
  history: { ratePerSecond: 10_000, burst: 10_000 },
  list: { ratePerSecond: 10_000, burst: 10_000 },
};

/** The restore handler on `server`, for `domain`, unpaced, with no end reserve unless `deps` say otherwise. */
export function restoreHandlerOn(
  server: FakeSwfServer,
  domain: string,
  deps: Partial<RestoreDeps> = {},
): RestoreHandler {
  return createRestoreHandler({
    config: { domains: [domain], lambdaRoles: [], maxExecutions: 1000 },
    swf: createRestoreSwf(testClient(server.endpoint)),
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'SwfTerminator', serviceName: 'restore-test' }),
    rates: UNPACED,
    endReserveMs: 0,
    ...deps,
  });
}

/** A restore request's report (anything else fails the test). */
export function reportOf(answer: Awaited<ReturnType<RestoreHandler>>): RestoreReport['restore'] {
  if (!('restore' in answer) || !('totals' in answer.restore)) throw new Error('expected a restore report');
  return answer.restore;
}

/**
 * The restore function's environment with RESTORE_CONFIG's rates at SWF's whole quotas: a local deployment
 * has none to share, and restore's own pace is the benchmark's business.
 */
export function restoreAtWholeQuotas(variables: Record<string, string>): Record<string, string> {
  const whole = (q: { burst: number; refillPerSecond: number }) => ({
    ratePerSecond: q.refillPerSecond,
    burst: q.burst,
  });
  return {
    ...variables,
    RESTORE_CONFIG: JSON.stringify({
      ...(JSON.parse(variables.RESTORE_CONFIG ?? '{}') as object),
      rates: {
        start: whole(SWF_QUOTAS.StartWorkflowExecution),
        history: whole(SWF_QUOTAS.GetWorkflowExecutionHistory),
        list: whole(SWF_QUOTAS.ListClosedWorkflowExecutions),
      },
    }),
  };
}

/** What a run was started with, as a restored run's start must repeat it. */
export function startAttributesOf(run: FakeExecution | undefined): Record<string, unknown> {
  return {
    workflowType: run?.workflowType,
    input: run?.input,
    tagList: run?.tagList,
    taskList: run?.taskList,
    taskPriority: run?.taskPriority,
    executionStartToCloseTimeout: run?.executionStartToCloseTimeout,
    taskStartToCloseTimeout: run?.taskStartToCloseTimeout,
    childPolicy: run?.childPolicy,
  };
}
