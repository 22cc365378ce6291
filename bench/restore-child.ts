/**
 * The measured half of bench/restore.ts, run in its own process (stdout to /dev/null, so restore logs as
 * deployed without flooding the terminal) and bundled with esbuild first, like the deployed function. The
 * fake SWF runs in the parent, so this process's CPU is the client's alone.
 *
 * BENCH_MODE=restore: the restore function as lambda/restore/handler.ts wires it (createRestoreSwf over
 * createSwfClient(), the deployed client configuration, AWS_ENDPOINT_URL_SWF pointing at the fake), with its
 * pace in BENCH_RESTORE_RATES (JSON: RESTORE_RATES' refills multiplied by the time scale) and the time reserve
 * in BENCH_END_RESERVE_MS, called with `{ restore: { domain: BENCH_DOMAIN, jobId: BENCH_JOB_ID } }` and a
 * context whose getRemainingTimeInMillis counts down from BENCH_REMAINING_MS. Answers a {@link RestoreRun}.
 *
 * BENCH_MODE=loop: what a script does to restart terminated runs: `new SWFClient({})` (the SDK's default
 * retry: standard mode, 3 attempts, throttling retried with backoff), the domain's TERMINATED closed runs
 * listed page by page, then one after another: read the run's first history event (WorkflowExecutionStarted)
 * and StartWorkflowExecution with its attributes. No pacing, no provenance check. A call still failing after
 * the SDK's retries is counted and the loop goes on. Answers a {@link LoopRun}.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  GetWorkflowExecutionHistoryCommand,
  ListClosedWorkflowExecutionsCommand,
  StartWorkflowExecutionCommand,
  SWFClient,
  type WorkflowExecutionInfo,
} from '@aws-sdk/client-swf';
import { createSwfClient } from '../lambda/aws/swf-client';
import { createRestoreSwf } from '../lambda/aws/swf-restore';
import { createRestoreHandler, type RestoreDeps } from '../lambda/restore/runtime';
import { answerParent, type ChildError, env } from './child-result';
import { type MemoryPeak, sampler } from './memory';

export type RestoreRun =
  | {
      status: 'ok' | 'threw';
      /** Date.now() just before the handler was called and just after it settled. */
      startedAt: number;
      endedAt: number;
      /** The report's totals (ok), or the error (threw). */
      totals?: Record<string, unknown>;
      /** Set when the restore handed the rest on to a job instead of finishing. */
      job?: unknown;
      error?: string;
      memory: MemoryPeak;
    }
  | ChildError;

export type LoopRun =
  | {
      status: 'ok';
      startedAt: number;
      /** When the listing was done and the first run was taken up. */
      listedAt: number;
      endedAt: number;
      listed: number;
      started: number;
      failed: number;
      firstError?: string;
    }
  | ChildError;

async function runRestore(): Promise<RestoreRun> {
  const domain = env('BENCH_DOMAIN');
  const budget = Number(env('BENCH_REMAINING_MS'));
  const handler = createRestoreHandler({
    config: { domains: [domain], lambdaRoles: [], maxExecutions: Number(env('BENCH_MAX_EXECUTIONS')) },
    swf: createRestoreSwf(createSwfClient()),
    logger: new Logger(),
    metrics: new Metrics({ namespace: 'SwfTerminator', serviceName: 'swf-terminator-restore' }),
    rates: JSON.parse(env('BENCH_RESTORE_RATES')) as NonNullable<RestoreDeps['rates']>,
    endReserveMs: Number(env('BENCH_END_RESERVE_MS')),
  });
  global.gc?.();
  const mem = sampler(50, 0);
  const startedAt = Date.now();
  const deadline = startedAt + budget;
  const context = {
    awsRequestId: 'bench-restore-request',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const answer = await handler({ restore: { domain, jobId: env('BENCH_JOB_ID') } }, context);
    const endedAt = Date.now();
    const report = 'restore' in answer ? answer.restore : undefined;
    return {
      status: 'ok',
      startedAt,
      endedAt,
      ...(report === undefined ? {} : { totals: report.totals as unknown as Record<string, unknown> }),
      ...(report?.job === undefined ? {} : { job: report.job }),
      memory: mem.stop(),
    };
  } catch (err: unknown) {
    return {
      status: 'threw',
      startedAt,
      endedAt: Date.now(),
      error: err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 2000) : String(err),
      memory: mem.stop(),
    };
  }
}

async function runLoop(): Promise<LoopRun> {
  const domain = env('BENCH_DOMAIN');
  const client = new SWFClient({});
  const startedAt = Date.now();
  const runs: WorkflowExecutionInfo[] = [];
  const oldestDate = new Date(startedAt - 86_400_000);
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListClosedWorkflowExecutionsCommand({
        domain,
        closeTimeFilter: { oldestDate },
        closeStatusFilter: { status: 'TERMINATED' },
        maximumPageSize: 1000,
        ...(token === undefined ? {} : { nextPageToken: token }),
      }),
    );
    runs.push(...(page.executionInfos ?? []));
    token = page.nextPageToken;
  } while (token !== undefined && token !== '');
  const listedAt = Date.now();
  let started = 0;
  let failed = 0;
  let firstError: string | undefined;
  for (const info of runs) {
    const workflowId = info.execution?.workflowId ?? '';
    try {
      const history = await client.send(
        new GetWorkflowExecutionHistoryCommand({ domain, execution: info.execution, maximumPageSize: 1 }),
      );
      const a = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      if (a?.workflowType === undefined) throw new Error(`${workflowId}: no WorkflowExecutionStarted event`);
      await client.send(
        new StartWorkflowExecutionCommand({
          domain,
          workflowId,
          workflowType: a.workflowType,
          taskList: a.taskList,
          taskPriority: a.taskPriority,
          input: a.input,
          executionStartToCloseTimeout: a.executionStartToCloseTimeout,
          taskStartToCloseTimeout: a.taskStartToCloseTimeout,
          tagList: a.tagList,
          childPolicy: a.childPolicy,
          lambdaRole: a.lambdaRole,
        }),
      );
      started += 1;
    } catch (err: unknown) {
      failed += 1;
      firstError ??= err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
  }
  const endedAt = Date.now();
  client.destroy();
  return {
    status: 'ok',
    startedAt,
    listedAt,
    endedAt,
    listed: runs.length,
    started,
    failed,
    ...(firstError === undefined ? {} : { firstError }),
  };
}

answerParent<RestoreRun | LoopRun>(process.env.BENCH_MODE === 'loop' ? runLoop() : runRestore());
