/**
 * Every alarm reads a metric that really exists: the shipped functions (the handler bundle as the terminating
 * function, the verifier bundle), run on the local deployment, write their Embedded Metric Format documents,
 * and every metric in the `SwfTerminator` namespace that an alarm reads (name, dimension names and values) is
 * among them; every AWS metric an alarm reads names one of the terminator's own resources. A metric renamed
 * on either side fails here.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { METRICS_NAMESPACE } from '../../lib/contract';
import { PolicyAction, PolicyTrigger, SwfEventType, type TerminationPolicy } from '../../lib';
import { functionOf, onlyResource } from '../support/construct-helpers';
import { useOperatorWorld } from '../support/operator-world';
import { verifierFunction } from '../support/verifier-helpers';

const policies: TerminationPolicy[] = [];
const { world: worldOf } = useOperatorWorld({
  addPolicies: (terminator) => {
    policies.push(
      terminator.addPolicy('Sweep', {
        domain: 'orders',
        trigger: PolicyTrigger.schedule(events.Schedule.rate(Duration.hours(1))),
        match: { tag: 'nightly' },
        action: PolicyAction.terminate({}),
      }),
    );
    terminator.addAlarms();
    // Added after the alarms: its alarms come all the same.
    policies.push(
      terminator.addPolicy('Storm', {
        domain: 'billing',
        trigger: PolicyTrigger.onExecutionEvent([SwfEventType.WORKFLOW_EXECUTION_STARTED]),
        match: { tag: 'bad' },
        action: PolicyAction.terminate({}),
      }),
    );
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

beforeAll(async () => {
  // The functions do what they do: a request (here a preview), each policy's run (its preview), a verification.
  const world = worldOf();
  const handler = functionOf(world.template, 'handler').logicalId;
  const answers = [
    await world.lambda.invoke(handler, { domain: 'orders', selector: { tag: 'x' }, dryRun: true }),
  ];
  for (const policy of policies)
    answers.push(await world.lambda.invoke(handler, JSON.parse(policy.previewPayload)));
  answers.push(await world.lambda.invoke(verifierFunction(world.template).logicalId, {}));
  expect(answers.map((a) => a !== 'throttled' && a.ok)).toEqual([true, true, true, true]);
}, 60_000);

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
