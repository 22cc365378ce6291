/**
 * Undo, end to end, on a terminator deployed on this machine with allowRestore (local/deployment.ts: the
 * shipped handler and restore bundles, each a function in a process of its own with its template's
 * environment; the synthesized state machine; the local SWF server): a job terminates 500 runs, someone else
 * terminates others in the same window, a workflowId is started again in between, and restoring the job
 * starts each of the job's workflowIds again with exactly what its run was started with, once.
 *
 * Needs the bundles (`npm run build`); nothing is rebuilt here.
 */
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  StartWorkflowExecutionCommand,
  SWFClient,
  TerminateWorkflowExecutionCommand,
} from '@aws-sdk/client-swf';
import { SwfTerminator } from '../../lib';
import { HANDLER_ASSET_DIR, RESTORE_ASSET_DIR } from '../../lib/handler-asset';
import { type LocalDeployment, startLocalDeployment } from '../../local/deployment';
import type { TemplateJson } from '../../local/sfn';
import type { FakeExecution } from '../../local/swf';
import { testApp } from '../support/construct-helpers';
import { restoreAtWholeQuotas, startAttributesOf } from '../support/restore-rig';
import { ENV } from '../support/iam-simulation';

const DOMAIN = 'orders';
const JOB_RUNS = 500;
const OTHERS = 5;

let deployment: LocalDeployment;
afterAll(async () => {
  await deployment.close();
});

/** Run `i`: every start attribute SWF records, different per run. */
function original(i: number, tag: string, prefix = 'order-'): FakeExecution {
  return {
    domain: DOMAIN,
    workflowId: `${prefix}${i}`,
    runId: `run-${prefix}${i}`,
    workflowType: { name: 'Fulfil', version: `v${i % 4}` },
    startTimestamp: Date.now() / 1000 - 3600 + i / 100,
    tagList: [tag, `customer-${i % 17}`],
    input: JSON.stringify({ order: i, lines: i % 9 }),
    taskList: { name: `fulfil-${i % 3}` },
    taskPriority: String(i % 5),
    executionStartToCloseTimeout: String(86_400 + i),
    taskStartToCloseTimeout: String(60 + (i % 30)),
    childPolicy: (['TERMINATE', 'REQUEST_CANCEL', 'ABANDON'] as const)[i % 3],
  };
}

const client = () =>
  new SWFClient({
    endpoint: deployment.swf.endpoint,
    region: ENV.region,
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
  });

async function invoke(name: string, event: unknown): Promise<Record<string, unknown>> {
  const answer = await deployment.lambda.invoke(name, event);
  if (answer === 'throttled' || !answer.ok) throw new Error(`invoke ${name}: ${JSON.stringify(answer)}`);
  return answer.value as Record<string, unknown>;
}

async function until(what: string, ok: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

test('a job terminates 500 runs; restoring it starts each again with what it was started with, touches nothing else, and starts nothing twice', async () => {
  // GIVEN a terminator with restore, deployed locally, and 500 runs a wrong tag matches plus 5 others
  const stack = new Stack(testApp(), 'Undo', { env: { account: ENV.account, region: ENV.region } });
  new SwfTerminator(stack, 'Terminator', { domains: [DOMAIN], allowRestore: true });
  deployment = await startLocalDeployment({
    template: Template.fromStack(stack).toJSON() as TemplateJson,
    env: ENV,
    handlerBundle: path.join(HANDLER_ASSET_DIR, 'index.js'),
    restoreBundle: path.join(RESTORE_ASSET_DIR, 'index.js'),
    domains: [DOMAIN],
    // Short invocations at a brisk rate: 500 terminations do not fit one, so the request becomes a job.
    handlerEnv: { TERMINATE_RATE_PER_SECOND: '200', TERMINATE_BURST: '50' },
    handlerTimeoutMs: 42_000,
    // Restore at SWF's whole quotas (the local server has none): its own pace is the benchmark's business.
    restoreEnv: restoreAtWholeQuotas,
  });
  const restore = deployment.restore ?? '';
  expect(restore).not.toBe('');
  const runs = Array.from({ length: JOB_RUNS }, (_, i) => original(i, 'wrong-tag'));
  const others = Array.from({ length: OTHERS }, (_, i) => original(i, 'other', 'other-'));
  deployment.swf.addExecutions([...runs, ...others]);

  // WHEN a job terminates the 500
  const report = await invoke(deployment.handler, {
    domain: DOMAIN,
    selector: { tag: 'wrong-tag' },
    maxExecutions: JOB_RUNS,
    reason: 'incident 42',
  });
  const jobId = String(report.jobId);
  expect(report.job).toMatchObject({ state: 'started' });
  await until('the job to end', () => deployment.sfn.executions.get(jobId)?.status === 'SUCCEEDED');
  expect(deployment.swf.terminations.filter((t) => t.workflowId.startsWith('order-'))).toHaveLength(JOB_RUNS);

  // AND someone else terminates the 5 others in the same window, and starts order-7 again in between
  for (const other of others) {
    await client().send(
      new TerminateWorkflowExecutionCommand({
        domain: DOMAIN,
        workflowId: other.workflowId,
        runId: other.runId,
        reason: 'by hand',
      }),
    );
  }
  await client().send(
    new StartWorkflowExecutionCommand({
      domain: DOMAIN,
      workflowId: 'order-7',
      workflowType: { name: 'Fulfil', version: 'v3' },
      taskList: { name: 'manual' },
      executionStartToCloseTimeout: '600',
      taskStartToCloseTimeout: '30',
      childPolicy: 'TERMINATE',
    }),
  );
  const manual = deployment.swf.starts.length;

  // WHEN the job is restored: a preview first, then for real
  const preview = (await invoke(restore, { restore: { domain: DOMAIN, jobId, dryRun: true } })).restore as {
    totals: { matched: number; wouldStart: number; notOurs: number; skipped: Record<string, number> };
  };
  // (the preview already sees order-7 open again)
  expect(preview.totals).toMatchObject({ matched: JOB_RUNS, wouldStart: JOB_RUNS - 1, notOurs: OTHERS });
  expect(preview.totals.skipped['open-again']).toBe(1);
  expect(deployment.swf.starts).toHaveLength(manual);
  const done = (await invoke(restore, { restore: { domain: DOMAIN, jobId, reason: 'undo incident 42' } }))
    .restore as {
    totals: { matched: number; started: number; notOurs: number; skipped: Record<string, number> };
  };

  // THEN each workflowId of the job but order-7 runs again, started with exactly what its run was started with
  expect(done.totals).toMatchObject({ matched: JOB_RUNS, started: JOB_RUNS - 1, notOurs: OTHERS });
  expect(done.totals.skipped['open-again']).toBe(1);
  const restored = deployment.swf.starts.slice(manual);
  expect(restored.map((s) => s.workflowId).sort()).toEqual(
    runs
      .map((r) => r.workflowId)
      .filter((id) => id !== 'order-7')
      .sort(),
  );
  for (const start of restored) {
    const run = runs.find((r) => r.workflowId === start.workflowId);
    expect(start).toMatchObject(startAttributesOf(run));
    expect(deployment.swf.execution(DOMAIN, start.workflowId, start.runId)?.open).toBe(true);
  }
  // AND the runs terminated by someone else were not touched
  expect(restored.some((s) => s.workflowId.startsWith('other-'))).toBe(false);

  // WHEN the same restore arrives again THEN nothing starts twice
  const again = (await invoke(restore, { restore: { domain: DOMAIN, jobId } })).restore as {
    totals: { started: number };
  };
  expect(again.totals.started).toBe(0);
  expect(deployment.swf.starts).toHaveLength(manual + JOB_RUNS - 1);
}, 300_000);
