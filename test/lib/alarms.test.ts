/**
 * `addAlarms`: the alarms that need a human, as synthesized: each on the metric it names (namespace, name,
 * dimensions, statistic, period), at a threshold that does not flap, missing data not breaching, with a
 * runbook line and the caller's actions; a policy's alarms whether it was added before or after.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { SwfTerminator } from '../../lib';
import { testApp } from '../support/construct-helpers';
import { addStormPolicy, addSweepPolicy } from '../support/policy-helpers';

interface AlarmProps {
  AlarmDescription: string;
  MetricName?: string;
  Namespace?: string;
  Statistic?: string;
  Period?: number;
  Dimensions?: { Name: string; Value: unknown }[];
  Metrics?: unknown[];
  Threshold: number;
  ComparisonOperator: string;
  EvaluationPeriods: number;
  DatapointsToAlarm: number;
  TreatMissingData: string;
  AlarmActions?: unknown[];
  OKActions?: unknown[];
}

function synth(addAlarmsBeforePolicies = false) {
  const stack = new Stack(testApp(), 'AlarmStack');
  const terminator = new SwfTerminator(stack, 'Terminator', { domains: ['orders'] });
  const topic = new sns.Topic(stack, 'OnCall');
  if (!addAlarmsBeforePolicies) addSweepPolicy(terminator);
  const alarms = terminator.addAlarms({ topic });
  if (addAlarmsBeforePolicies) addSweepPolicy(terminator);
  addStormPolicy(terminator);
  const template = Template.fromStack(stack);
  const byId = (prefix: string): AlarmProps => {
    const found = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).filter(([id]) =>
      id.startsWith(`TerminatorAlarms${prefix}`),
    );
    if (found.length !== 1) throw new Error(`expected one alarm ${prefix}, found ${found.length}`);
    return (found[0]![1] as { Properties: AlarmProps }).Properties;
  };
  return { stack, terminator, alarms, template, topic, byId };
}

const service = { Name: 'service', Value: expect.any(String) as unknown };

describe('addAlarms', () => {
  const { template, byId, alarms, stack, topic } = synth();

  test('one alarm for each condition that needs a human, and two for an event policy, one for a sweep', () => {
    expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm')).sort()).toEqual(
      [
        'DeadLetterQueueNotEmpty',
        'ExecutionsFailed',
        'HandlerErrors',
        'HandlerThrottled',
        'JobsFailed',
        'PolicySweepCapExceeded',
        'PolicyStormCapExceeded',
        'PolicyStormBreakerTripped',
        'VerificationFailed',
        'VerifierErrors',
      ]
        .sort()
        .map((id) => expect.stringMatching(new RegExp(`^TerminatorAlarms${id}[0-9A-F]{8}$`)) as unknown)
        .sort(),
    );
    expect(alarms.policyAlarms('Sweep')).toHaveLength(1);
    expect(alarms.policyAlarms('Storm')).toHaveLength(2);
    expect(alarms.policyAlarms('NoSuchPolicy')).toEqual([]);
  });

  test('each fires at 1 or more, never on missing data, says what to do, and notifies the topic both ways', () => {
    const topicRef = { Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) };
    for (const resource of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      const alarm = (resource as { Properties: AlarmProps }).Properties;
      expect(alarm).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [topicRef],
        OKActions: [topicRef],
      });
      expect(alarm.AlarmDescription).toMatch(/Runbook: README "[^"]+"\.$/);
    }
  });

  test.each<[string, Partial<AlarmProps>]>([
    [
      'ExecutionsFailed',
      {
        Namespace: 'SwfTerminator',
        MetricName: 'Failed',
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
      },
    ],
    [
      'VerificationFailed',
      { Namespace: 'SwfTerminator', MetricName: 'VerificationFailed', Statistic: 'Maximum', Period: 300 },
    ],
    [
      'JobsFailed',
      { Namespace: 'AWS/States', MetricName: 'ExecutionsFailed', Statistic: 'Sum', Period: 300 },
    ],
    [
      'DeadLetterQueueNotEmpty',
      {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Statistic: 'Maximum',
        Period: 300,
      },
    ],
    ['VerifierErrors', { Namespace: 'AWS/Lambda', MetricName: 'Errors', Statistic: 'Sum' }],
    [
      'HandlerThrottled',
      {
        Namespace: 'AWS/Lambda',
        MetricName: 'Throttles',
        Period: 300,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 3,
      },
    ],
    ['HandlerErrors', { EvaluationPeriods: 3, DatapointsToAlarm: 2 }],
    [
      'PolicyStormBreakerTripped',
      { Namespace: 'SwfTerminator', MetricName: 'PolicyPassedOver', Statistic: 'Sum' },
    ],
    [
      'PolicySweepCapExceeded',
      { Namespace: 'SwfTerminator', MetricName: 'PolicyCapExceeded', Statistic: 'Sum' },
    ],
  ])('%s reads its metric', (id, expected) => {
    expect(byId(id)).toMatchObject(expected);
  });

  test("the terminator's own metrics carry its service dimension; a policy's, its name too", () => {
    expect(byId('ExecutionsFailed').Dimensions).toEqual([service]);
    expect(byId('PolicyStormBreakerTripped').Dimensions).toEqual(
      expect.arrayContaining([service, { Name: 'policy', Value: 'Storm' }]),
    );
  });

  test('HandlerErrors adds up both functions, every five minutes', () => {
    expect(byId('HandlerErrors').Metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Expression: 'handler + control', ReturnData: true }),
        expect.objectContaining({ Id: 'handler', MetricStat: expect.objectContaining({ Period: 300 }) }),
        expect.objectContaining({ Id: 'control', MetricStat: expect.objectContaining({ Period: 300 }) }),
      ]),
    );
  });
});

test('a policy added after addAlarms gets its alarms too', () => {
  const { alarms, byId } = synth(true);
  expect(alarms.policyAlarms('Sweep')).toHaveLength(1);
  expect(byId('PolicySweepCapExceeded').MetricName).toBe('PolicyCapExceeded');
});

test('refused: a second addAlarms, and a throttle window that is not whole five-minute periods', () => {
  const stack = new Stack(testApp(), 'Refusals');
  const terminator = new SwfTerminator(stack, 'Terminator', { domains: ['orders'] });
  expect(() => terminator.addAlarms({ throttledFor: Duration.minutes(7) })).toThrow(
    'SwfTerminator.addAlarms: throttledFor must be a whole number of 5-minute periods (got 7 minutes)',
  );
  const other = new SwfTerminator(stack, 'Other', { domains: ['orders'] });
  other.addAlarms({ throttledFor: Duration.minutes(30) });
  expect(() => other.addAlarms()).toThrow('SwfTerminator.addAlarms: this terminator has its alarms already');
});
