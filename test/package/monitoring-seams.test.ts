/**
 * Every alarm and every chart reads a metric that really exists, and the dashboard's log queries read what the
 * handler really writes: the shipped functions (the handler bundle as the terminating and control functions,
 * the verifier bundle), run on the local deployment through a request, a failure, a job and its abort, each
 * policy's run and a verification, write their Embedded Metric Format documents and log lines; every
 * `SwfTerminator` metric an alarm or a widget reads (name, dimension names and values) is among those
 * documents, every AWS metric names one of the terminator's own resources, and every field and message the
 * log queries name is in the lines. A metric or a log field renamed on either side fails here.
 */
import { METRICS_NAMESPACE } from '../../lib/contract';
import type { TerminationPolicy } from '../../lib';
import { addStormPolicy, addSweepPolicy } from '../support/policy-helpers';
import { functionOf, onlyResource } from '../support/construct-helpers';
import { openExecutions, useOperatorWorld } from '../support/operator-world';
import { chartedMetrics, dashboardWidgets } from '../support/dashboard-body';
import { LATEST_FAILURES_QUERY, LATEST_TERMINATIONS_QUERY } from '../../lib/log-queries';
import { verifierFunction } from '../support/verifier-helpers';

const policies: TerminationPolicy[] = [];
const { world: worldOf } = useOperatorWorld({
  // About 5 s of work per invocation (45 s less the 40 s end reserve): 400 executions become a job.
  handlerTimeoutMs: 45_000,
  addPolicies: (terminator) => {
    policies.push(addSweepPolicy(terminator));
    terminator.addAlarms();
    terminator.addDashboard();
    // Added after the alarms: its alarms come all the same.
    policies.push(addStormPolicy(terminator, 'billing'));
  },
});

interface MetricRef {
  readonly Namespace: string;
  readonly MetricName: string;
  readonly Dimensions?: readonly { Name: string; Value: unknown }[];
}

/** The metrics every alarm of the template reads (a math expression's, each of its metrics). */
function alarmMetrics(): { alarm: string; metric: MetricRef }[] {
  const alarms = worldOf().template.findResources('AWS::CloudWatch::Alarm');
  return Object.entries(alarms).flatMap(([alarm, resource]) => {
    const p = (resource as { Properties: MetricRef & { Metrics?: { MetricStat?: { Metric: MetricRef } }[] } })
      .Properties;
    if (p.Metrics === undefined) return [{ alarm, metric: p }];
    return p.Metrics.flatMap((m) =>
      m.MetricStat === undefined ? [] : [{ alarm, metric: m.MetricStat.Metric }],
    );
  });
}

/** A metric's key: namespace, name, and its dimensions' names and values. */
const keyOf = (namespace: string, name: string, dimensions: Record<string, unknown>) =>
  `${namespace} ${name} ${JSON.stringify(Object.entries(dimensions).sort(([a], [b]) => a.localeCompare(b)))}`;

/** The metrics the functions' EMF documents carry. */
function emitted(): Set<string> {
  const keys = new Set<string>();
  for (const { line } of worldOf().lines) {
    const directives = (line._aws as { CloudWatchMetrics?: unknown } | undefined)?.CloudWatchMetrics as
      { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] | undefined;
    for (const directive of directives ?? []) {
      for (const names of directive.Dimensions) {
        const dimensions = Object.fromEntries(names.map((n) => [n, line[n]]));
        for (const metric of directive.Metrics) keys.add(keyOf(directive.Namespace, metric.Name, dimensions));
      }
    }
  }
  return keys;
}

/** Waits until `done` holds, checking every 100 ms; fails naming `what` after 30 s. */
async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  // The functions do what they do: a request (a preview), a termination that fails, a job and its abort,
  // each policy's run (its preview), a verification.
  const world = worldOf();
  const handler = functionOf(world.template, 'handler').logicalId;
  const control = functionOf(world.template, 'control').logicalId;
  const invoke = async (fn: string, event: unknown) => {
    const answer = await world.lambda.invoke(fn, event);
    if (answer === 'throttled') throw new Error(`${fn} was throttled`);
    return answer;
  };
  expect((await invoke(handler, { domain: 'orders', selector: { tag: 'x' }, dryRun: true })).ok).toBe(true);

  world.swf.addExecutions([...openExecutions(1, 'fails'), ...openExecutions(400, 'seam-job')]);
  world.swf.failNext('TerminateWorkflowExecution', 'not-permitted');
  const failed = await invoke(handler, { domain: 'orders', workflowId: 'fails-0', runId: 'run-fails-0' });
  expect(failed).toMatchObject({ ok: false, errorType: 'TerminationFailedError' });

  const started = await invoke(handler, { domain: 'orders', selector: { tag: 'seam-job' } });
  const jobId = (started as { value: { jobId?: string; job?: unknown } }).value.jobId ?? '';
  expect((started as { value: { job?: unknown } }).value.job).toMatchObject({ state: 'started' });
  await until('the job terminating', () =>
    world.swf.terminations.some((t) => t.workflowId.startsWith('seam-job-')),
  );
  expect((await invoke(control, { abort: { jobId, reason: 'seam' } })).ok).toBe(true);
  await until('a working chunk counting the abort', () =>
    world.lines.some(({ line }) => typeof line.JobsAborted === 'number'),
  );

  for (const policy of policies)
    expect((await invoke(handler, JSON.parse(policy.previewPayload))).ok).toBe(true);
  expect((await invoke(verifierFunction(world.template).logicalId, {})).ok).toBe(true);
}, 90_000);

test(`every ${METRICS_NAMESPACE} metric an alarm reads is one the shipped functions emit`, () => {
  const mine = alarmMetrics().filter(({ metric }) => metric.Namespace === METRICS_NAMESPACE);
  // The terminator's: executions failed, verification failed; each policy's: cap exceeded; the event policy's breaker.
  expect(mine.map(({ metric }) => metric.MetricName).sort()).toEqual(
    ['Failed', 'PolicyCapExceeded', 'PolicyCapExceeded', 'PolicyPassedOver', 'VerificationFailed'].sort(),
  );
  const seen = emitted();
  const missing = mine
    .map(({ alarm, metric }) => ({
      alarm,
      key: keyOf(
        metric.Namespace,
        metric.MetricName,
        Object.fromEntries((metric.Dimensions ?? []).map((d) => [d.Name, d.Value])),
      ),
    }))
    .filter(({ key }) => !seen.has(key));
  expect(missing).toEqual([]);
});

test("every AWS metric an alarm reads is one of the terminator's own resources'", () => {
  const template = worldOf().template;
  const own = {
    functions: [
      functionOf(template, 'handler'),
      functionOf(template, 'control'),
      verifierFunction(template),
    ].map((f) => ({ Ref: f.logicalId })),
    queue: { 'Fn::GetAtt': [onlyResource(template, 'AWS::SQS::Queue').logicalId, 'QueueName'] },
    machine: { Ref: onlyResource(template, 'AWS::StepFunctions::StateMachine').logicalId },
  };
  const aws = alarmMetrics().filter(({ metric }) => metric.Namespace !== METRICS_NAMESPACE);
  expect(aws.map(({ metric }) => `${metric.Namespace} ${metric.MetricName}`).sort()).toEqual(
    [
      'AWS/Lambda Errors',
      'AWS/Lambda Errors',
      'AWS/Lambda Errors',
      'AWS/Lambda Throttles',
      'AWS/SQS ApproximateNumberOfMessagesVisible',
      'AWS/States ExecutionsFailed',
    ].sort(),
  );
  for (const { metric } of aws) {
    const [dimension] = metric.Dimensions ?? [];
    const expected =
      metric.Namespace === 'AWS/Lambda'
        ? own.functions
        : metric.Namespace === 'AWS/SQS'
          ? [own.queue]
          : [own.machine];
    expect(expected).toContainEqual(dimension?.Value);
  }
});

test('a metric the functions do not emit is not among them (the check can fail)', () => {
  const seen = emitted();
  const failed = [...seen].find((key) => key.startsWith(`${METRICS_NAMESPACE} Failed `));
  expect(failed).toBeDefined();
  expect(seen.has(failed!.replace(' Failed ', ' ExecutionsFailed '))).toBe(false);
  expect(seen.size).toBeGreaterThan(10);
});

describe('the dashboard', () => {
  test(`every ${METRICS_NAMESPACE} metric a widget charts is one the shipped functions emit`, () => {
    const seen = emitted();
    const charted = chartedMetrics(dashboardWidgets(worldOf().template)).filter(
      (m) => m.namespace === METRICS_NAMESPACE,
    );
    expect(charted.length).toBeGreaterThan(20);
    const missing = charted
      .map((m) => ({ widget: m.widget, key: keyOf(m.namespace, m.name, m.dimensions) }))
      .filter(({ key }) => !seen.has(key));
    expect(missing).toEqual([]);
  });

  test("every AWS metric a widget charts is one of the terminator's own resources'", () => {
    const template = worldOf().template;
    const own = new Set([
      ...[functionOf(template, 'handler'), functionOf(template, 'control')].map((f) => `Ref:${f.logicalId}`),
      `GetAtt:${onlyResource(template, 'AWS::SQS::Queue').logicalId}.QueueName`,
      `Ref:${onlyResource(template, 'AWS::StepFunctions::StateMachine').logicalId}`,
    ]);
    const aws = chartedMetrics(dashboardWidgets(template)).filter((m) => m.namespace !== METRICS_NAMESPACE);
    expect(aws.length).toBeGreaterThan(10);
    for (const m of aws) {
      expect(Object.values(m.dimensions)).toHaveLength(1);
      expect(own).toContain(Object.values(m.dimensions)[0]);
    }
  });

  test.each([
    ['latest terminations', LATEST_TERMINATIONS_QUERY],
    ['latest failures', LATEST_FAILURES_QUERY],
  ])(
    'the %s query filters on a message the handler writes, and reads fields every such line has',
    (_name, query) => {
      const fields = (query.find((l) => l.startsWith('fields ')) ?? '')
        .slice('fields '.length)
        .split(',')
        .map((f) => f.trim())
        .filter((f) => !f.startsWith('@'));
      const message = /^filter message = "([^"]+)"$/.exec(
        query.find((l) => l.startsWith('filter ')) ?? '',
      )?.[1];
      const lines = worldOf()
        .lines.map(({ line }) => line)
        .filter((line) => line.message === message);
      expect(lines.length).toBeGreaterThan(0);
      const at = (line: Record<string, unknown>, path: string) =>
        path.split('.').reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], line);
      const lacking = fields.flatMap((field) =>
        lines.every((line) => at(line, field) !== undefined) ? [] : [field],
      );
      expect(lacking).toEqual([]);
    },
  );
});
