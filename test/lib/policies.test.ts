/**
 * Termination policies in the template: the rules each trigger makes, what their targets give the handler
 * (the input template rendered with an event, as EventBridge renders it), the defaults, the metrics, the
 * environment the handler reads its permissions from, the handler's own validation of every request the
 * construct writes, and the synth-time refusals.
 */
import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import {
  ChildPolicy,
  PolicyAction,
  PolicyTrigger,
  SwfEventType,
  SwfTerminator,
  type SwfTerminatorProps,
  TerminationPolicy,
  type TerminationPolicyOptions,
} from '../../lib';
import { CLOSING_EVENT_TYPES } from '../../lib/policy-contract';
import { parsePolicyEvent } from '../../lambda/parse/policy';
import { wireRequest } from '../../lambda/job/wire';
import { matchesEventPattern } from '../support/construct-event-pattern';
import {
  functionOf,
  onlyResource,
  resolveIntrinsics,
  resourceNamed,
  testApp,
} from '../support/construct-helpers';
import {
  addContractPolicies,
  contractDeployment,
  addRetireCheckoutV1,
  addStalled,
  addStuckImports,
  handlerConfig,
  handlerEnvironment,
  policyTarget,
  renderInput,
  ruleNamed,
  rulesNamed,
  scheduledEvent,
  swfEventFor,
  swfSample,
  synthWithPolicies,
} from '../support/policy-helpers';

/** The environment the template's intrinsics are resolved in. */
const ENV = { partition: 'aws', account: '111122223333', region: 'eu-west-1' };
/** The handler's own account and region: the stack's (SWF's events come from them). */
const HOME = { account: ENV.account, region: ENV.region };
/** When the handler runs (after every event used here). */
const NOW = new Date('2025-06-01T00:00:00Z');

/** The requests the three policies make: the contract. */
const STUCK_IMPORTS_REQUEST = {
  domain: 'orders',
  selector: { tag: 'nightly', workflowType: { name: 'ImportOrders' }, openLongerThanSeconds: 21600 },
  action: 'terminate',
  reason: 'ImportOrders open over 6 h (runbook RB-12)',
  childPolicy: 'TERMINATE',
  maxExecutions: 200,
  dryRun: false,
};
const RETIRE_CHECKOUT_V1_REQUEST = {
  domain: 'orders',
  selector: { workflowType: { name: 'Checkout', version: '1' } },
  action: 'cancelThenTerminate',
  gracePeriodSeconds: 600,
  maxExecutions: 100,
  dryRun: false,
};
const STALLED_REQUEST = {
  domain: 'billing',
  selector: { stalled: true, idleLongerThanSeconds: 7200 },
  action: 'requestCancel',
  maxExecutions: 100,
  dryRun: true,
};

/** The event fields a policy's target passes on, as the handler reads them. */
function eventFields(event: Record<string, unknown>) {
  const { id, source, account, region, time, resources, detail } = event;
  return { id, source, 'detail-type': event['detail-type'], account, region, time, resources, detail };
}

/** A policy's target as the construct writes it: the handler, the DLQ, the retry policy, a transformer. */
function expectedTarget(
  template: Template,
  retry = { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
) {
  return {
    Id: 'Target0',
    Arn: { 'Fn::GetAtt': [functionOf(template).logicalId, 'Arn'] },
    DeadLetterConfig: { Arn: { 'Fn::GetAtt': [onlyResource(template, 'AWS::SQS::Queue').logicalId, 'Arn'] } },
    RetryPolicy: retry,
    InputTransformer: {
      InputPathsMap: {
        id: '$.id',
        source: '$.source',
        'detail-type': '$.detail-type',
        account: '$.account',
        region: '$.region',
        time: '$.time',
        resources: '$.resources',
        detail: '$.detail',
      },
      InputTemplate: expect.any(String),
    },
  };
}

/** The SWF domain ARN an event rule matches, unresolved (the form with the region). */
const domainArnPattern = (domain: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':swf:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      `:/domain/${domain}`,
    ],
  ],
});

describe('a schedule policy', () => {
  // GIVEN the three policies
  const { template } = contractDeployment();

  test('makes one rule with its schedule, targeting the handler with the DLQ and the retry policy', () => {
    // WHEN
    const rules = rulesNamed(template, 'TerminatorStuckImports');
    // THEN
    expect(Object.keys(rules)).toEqual([expect.stringMatching(/^TerminatorStuckImportsSchedule/)]);
    const rule = ruleNamed(template, 'TerminatorStuckImportsSchedule');
    expect(rule.ScheduleExpression).toBe('rate(15 minutes)');
    expect(rule.EventPattern).toBeUndefined();
    expect(rule.EventBusName).toBeUndefined();
    expect(rule.Targets).toEqual([expectedTarget(template)]);
    expect(ruleNamed(template, 'TerminatorStalledSchedule').ScheduleExpression).toBe('rate(1 hour)');
  });

  test('its input, rendered with a scheduled event, is the policy (the request exactly) and the event', () => {
    // GIVEN a scheduled event
    const event = scheduledEvent(ENV);
    // WHEN EventBridge renders the target's input
    const input = renderInput(policyTarget(template, 'TerminatorStuckImportsSchedule').transformer, event);
    // THEN
    expect(input).toEqual({
      swfTerminatorPolicy: { name: 'StuckImports', trigger: 'schedule', request: STUCK_IMPORTS_REQUEST },
      event: eventFields(event),
    });
  });

  test('a requestCancel sweep with stalled and idleLongerThan writes its request exactly (dryRun and maxExecutions defaulted)', () => {
    // GIVEN
    const event = scheduledEvent(ENV, 'stalled', '2025-01-01T01:00:00Z');
    // WHEN
    const input = renderInput(policyTarget(template, 'TerminatorStalledSchedule').transformer, event);
    // THEN
    expect(input).toEqual({
      swfTerminatorPolicy: { name: 'Stalled', trigger: 'schedule', request: STALLED_REQUEST },
      event: eventFields(event),
    });
  });

  test("uses the terminator's retryAttempts and maxEventAge", () => {
    // GIVEN / WHEN
    const { template: custom } = synthWithPolicies(addStuckImports, {
      retryAttempts: 3,
      maxEventAge: Duration.minutes(2),
    });
    // THEN
    expect(ruleNamed(custom, 'TerminatorStuckImportsSchedule').Targets).toEqual([
      expectedTarget(custom, { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 120 }),
    ]);
  });

  test('exposes its rule and no backstop rule', () => {
    // GIVEN / WHEN
    const stack = new Stack(testApp(), 'TestStack');
    const t = new SwfTerminator(stack, 'Terminator', { domains: ['orders', 'billing'] });
    const policy = addStuckImports(t);
    // THEN
    expect(policy.policyName).toBe('StuckImports');
    expect(policy.backstopRule).toBeUndefined();
    expect(stack.resolve(policy.rule.ruleArn)).toEqual({
      'Fn::GetAtt': [
        resourceNamed(Template.fromStack(stack), 'AWS::Events::Rule', 'TerminatorStuckImportsSchedule')
          .logicalId,
        'Arn',
      ],
    });
    expect(t.node.tryFindChild('StuckImports')).toBe(policy);
  });
});

describe('an event policy', () => {
  // GIVEN the three policies
  const { template } = contractDeployment();

  test("makes an event rule on the account's DEFAULT bus (no EventBusName) for SWF's events about its domain", () => {
    // WHEN
    const rule = ruleNamed(template, 'TerminatorRetireCheckoutV1Events');
    // THEN
    expect(rule.EventBusName).toBeUndefined();
    expect(rule.ScheduleExpression).toBeUndefined();
    expect(rule.EventPattern).toEqual({
      source: ['aws.swf'],
      'detail-type': ['Simple Workflow Execution State Change'],
      resources: [domainArnPattern('orders')],
      detail: {
        eventType: ['WorkflowExecutionStarted'],
        workflowExecutionDetail: { executionInfo: { workflowType: { name: ['Checkout'], version: ['1'] } } },
      },
    });
    expect(rule.Targets).toEqual([expectedTarget(template)]);
  });

  test("its input, rendered with SWF's event, is the policy (trigger event) and SWF's event", () => {
    // GIVEN SWF's started sample about a Checkout v1 run in orders
    const event = swfEventFor(ENV, RETIRE_CHECKOUT_V1_REQUEST, 'WorkflowExecutionStarted');
    // WHEN
    const input = renderInput(policyTarget(template, 'TerminatorRetireCheckoutV1Events').transformer, event);
    // THEN
    expect(input).toEqual({
      swfTerminatorPolicy: {
        name: 'RetireCheckoutV1',
        trigger: 'event',
        request: RETIRE_CHECKOUT_V1_REQUEST,
      },
      event: eventFields(event as unknown as Record<string, unknown>),
    });
  });

  test('makes a backstop schedule rule, rate(1 hour) by default, whose input names the trigger backstop', () => {
    // WHEN
    const rules = rulesNamed(template, 'TerminatorRetireCheckoutV1');
    const backstop = ruleNamed(template, 'TerminatorRetireCheckoutV1Backstop');
    const event = scheduledEvent(ENV, 'backstop');
    // THEN two rules: the events and the backstop
    expect(Object.keys(rules).sort()).toEqual([
      expect.stringMatching(/^TerminatorRetireCheckoutV1Backstop/),
      expect.stringMatching(/^TerminatorRetireCheckoutV1Events/),
    ]);
    expect(backstop.ScheduleExpression).toBe('rate(1 hour)');
    expect(backstop.EventPattern).toBeUndefined();
    expect(backstop.Targets).toEqual([expectedTarget(template)]);
    expect(
      renderInput(policyTarget(template, 'TerminatorRetireCheckoutV1Backstop').transformer, event),
    ).toEqual({
      swfTerminatorPolicy: {
        name: 'RetireCheckoutV1',
        trigger: 'backstop',
        request: RETIRE_CHECKOUT_V1_REQUEST,
      },
      event: eventFields(event),
    });
  });

  test('backstop: false makes no backstop rule', () => {
    // GIVEN / WHEN
    let backstopRule: events.IRule | undefined;
    const { template: t } = synthWithPolicies((terminator) => {
      backstopRule = terminator.addPolicy('NoBackstop', {
        domain: 'orders',
        trigger: PolicyTrigger.onExecutionEvent([SwfEventType.WORKFLOW_EXECUTION_STARTED], {
          backstop: false,
        }),
        match: { workflowType: { name: 'Checkout' } },
        action: PolicyAction.terminate(),
      }).backstopRule;
    });
    // THEN
    expect(Object.keys(rulesNamed(t, 'TerminatorNoBackstop'))).toEqual([
      expect.stringMatching(/^TerminatorNoBackstopEvents/),
    ]);
    expect(backstopRule).toBeUndefined();
  });

  test('backstopSchedule is honoured', () => {
    // GIVEN / WHEN
    const { template: t } = synthWithPolicies((terminator) => {
      terminator.addPolicy('Nightly', {
        domain: 'billing',
        trigger: PolicyTrigger.onExecutionEvent([SwfEventType.ACTIVITY_TASK_TIMED_OUT], {
          backstopSchedule: events.Schedule.cron({ minute: '0', hour: '3' }),
        }),
        match: { tag: 'nightly' },
        action: PolicyAction.terminate(),
      });
    });
    // THEN
    expect(ruleNamed(t, 'TerminatorNightlyBackstop').ScheduleExpression).toBe('cron(0 3 * * ? *)');
  });

  test('exposes its event rule and its backstop rule', () => {
    // GIVEN / WHEN
    const stack = new Stack(testApp(), 'TestStack');
    const terminator = new SwfTerminator(stack, 'Terminator', { domains: ['orders', 'billing'] });
    const policy = addRetireCheckoutV1(terminator);
    const t = Template.fromStack(stack);
    // THEN
    expect(stack.resolve(policy.rule.ruleArn)).toEqual({
      'Fn::GetAtt': [
        resourceNamed(t, 'AWS::Events::Rule', 'TerminatorRetireCheckoutV1Events').logicalId,
        'Arn',
      ],
    });
    expect(stack.resolve(policy.backstopRule?.ruleArn)).toEqual({
      'Fn::GetAtt': [
        resourceNamed(t, 'AWS::Events::Rule', 'TerminatorRetireCheckoutV1Backstop').logicalId,
        'Arn',
      ],
    });
  });
});

describe('every policy rule may invoke the handler and reach the dead-letter queue', () => {
  // GIVEN the three policies
  const { template } = contractDeployment();
  const policyRules = [
    'TerminatorStuckImportsSchedule',
    'TerminatorRetireCheckoutV1Events',
    'TerminatorRetireCheckoutV1Backstop',
    'TerminatorStalledSchedule',
  ];

  test.each(policyRules)('%s has a Lambda permission on the handler for its own ARN', (prefix) => {
    // THEN
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [functionOf(template).logicalId, 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [resourceNamed(template, 'AWS::Events::Rule', prefix).logicalId, 'Arn'] },
    });
  });

  test.each(policyRules)('%s may send to the dead-letter queue', (prefix) => {
    // THEN
    const queueId = onlyResource(template, 'AWS::SQS::Queue').logicalId;
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: {
              ArnEquals: {
                'aws:SourceArn': {
                  'Fn::GetAtt': [resourceNamed(template, 'AWS::Events::Rule', prefix).logicalId, 'Arn'],
                },
              },
            },
            Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
          }),
        ]),
      },
    });
  });
});

describe('defaults', () => {
  /** The request a minimal terminate policy on a schedule writes. */
  function requestOf(options: Partial<TerminationPolicyOptions>, props: Partial<SwfTerminatorProps> = {}) {
    const { template } = synthWithPolicies((terminator) => {
      terminator.addPolicy('Minimal', {
        domain: 'orders',
        trigger: PolicyTrigger.schedule(events.Schedule.rate(Duration.hours(1))),
        match: { workflowIdPrefix: 'import-' },
        action: PolicyAction.terminate(),
        ...options,
      });
    }, props);
    const input = renderInput(
      policyTarget(template, 'TerminatorMinimalSchedule').transformer,
      scheduledEvent(ENV),
    );
    return (input as { swfTerminatorPolicy: { request: Record<string, unknown> } }).swfTerminatorPolicy
      .request;
  }

  test('dryRun defaults to true: a new policy previews', () => {
    // GIVEN / WHEN / THEN
    expect(requestOf({}).dryRun).toBe(true);
    expect(requestOf({ dryRun: false }).dryRun).toBe(false);
  });

  test('maxExecutions defaults to 100', () => {
    // GIVEN / WHEN / THEN
    expect(requestOf({}).maxExecutions).toBe(100);
    expect(requestOf({ maxExecutions: 7 }).maxExecutions).toBe(7);
  });

  test("maxExecutions defaults to the terminator's maxExecutionsPerRequest when that is lower", () => {
    // GIVEN / WHEN / THEN
    expect(requestOf({}, { maxExecutionsPerRequest: 40 }).maxExecutions).toBe(40);
  });

  test('a terminate action with no options writes no reason, details or childPolicy', () => {
    // GIVEN / WHEN / THEN
    expect(requestOf({})).toEqual({
      domain: 'orders',
      selector: { workflowIdPrefix: 'import-' },
      action: 'terminate',
      maxExecutions: 100,
      dryRun: true,
    });
  });
});

describe('previewPayload', () => {
  test.each([
    ['StuckImports', addStuckImports, STUCK_IMPORTS_REQUEST],
    ['RetireCheckoutV1', addRetireCheckoutV1, RETIRE_CHECKOUT_V1_REQUEST],
    ['Stalled', addStalled, STALLED_REQUEST],
  ] as const)('%s: JSON of the policy, trigger schedule, with preview: true', (name, add, request) => {
    // GIVEN / WHEN
    const stack = new Stack(testApp(), 'TestStack');
    const policy = add(new SwfTerminator(stack, 'Terminator', { domains: ['orders', 'billing'] }));
    // THEN
    expect(JSON.parse(policy.previewPayload)).toEqual({
      swfTerminatorPolicy: { name, trigger: 'schedule', request },
      preview: true,
    });
  });
});

describe('metrics', () => {
  // GIVEN
  const stack = new Stack(testApp(), 'TestStack');
  const terminator = new SwfTerminator(stack, 'Terminator', { domains: ['orders', 'billing'] });
  const policy = addStuckImports(terminator);

  test.each([
    ['metricMatched', 'PolicyMatched'],
    ['metricTerminated', 'PolicyTerminated'],
    ['metricCancelRequested', 'PolicyCancelRequested'],
    ['metricWouldAct', 'PolicyWouldAct'],
    ['metricFailed', 'PolicyFailed'],
    ['metricCapExceeded', 'PolicyCapExceeded'],
  ] as const)(
    '%s reads %s in SwfTerminator, by service and policy, summed over 5 minutes',
    (method, metricName) => {
      // WHEN
      const metric = policy[method]();
      // THEN
      expect(metric.namespace).toBe('SwfTerminator');
      expect(metric.metricName).toBe(metricName);
      expect(metric.dimensions).toEqual({ service: terminator.serviceName, policy: 'StuckImports' });
      expect(metric.statistic).toBe('Sum');
      expect(metric.period.toSeconds()).toBe(300);
    },
  );

  test('metric() takes any name and overrides', () => {
    // WHEN
    const metric = policy.metric('Custom', { period: Duration.minutes(1), statistic: 'Maximum' });
    // THEN
    expect(metric.metricName).toBe('Custom');
    expect(metric.namespace).toBe('SwfTerminator');
    expect(metric.dimensions).toEqual({ service: terminator.serviceName, policy: 'StuckImports' });
    expect(metric.period.toSeconds()).toBe(60);
    expect(metric.statistic).toBe('Maximum');
  });
});

describe('the environment: CANCEL_DOMAINS, DESCRIBE_DOMAINS and CANCEL_REQUESTS', () => {
  const permissions = (template: Template) => {
    const env = handlerEnvironment(template);
    return {
      CANCEL_REQUESTS: env.CANCEL_REQUESTS,
      CANCEL_DOMAINS: env.CANCEL_DOMAINS,
      DESCRIBE_DOMAINS: env.DESCRIBE_DOMAINS,
    };
  };

  test.each([
    [
      'no policy',
      () => undefined,
      {},
      { CANCEL_REQUESTS: 'false', CANCEL_DOMAINS: '', DESCRIBE_DOMAINS: '' },
    ],
    [
      'a terminate-only schedule policy',
      addStuckImports,
      {},
      { CANCEL_REQUESTS: 'false', CANCEL_DOMAINS: '', DESCRIBE_DOMAINS: '' },
    ],
    [
      'a cancelThenTerminate event policy on orders',
      addRetireCheckoutV1,
      {},
      { CANCEL_REQUESTS: 'false', CANCEL_DOMAINS: 'orders', DESCRIBE_DOMAINS: '' },
    ],
    [
      'a requestCancel sweep of billing for stalled, idle runs, in dry run (its default): no cancel grant',
      addStalled,
      {},
      { CANCEL_REQUESTS: 'false', CANCEL_DOMAINS: '', DESCRIBE_DOMAINS: 'billing' },
    ],
    [
      'the same sweep with dryRun: false',
      (terminator: SwfTerminator) => {
        terminator.addPolicy('Stalled', {
          domain: 'billing',
          trigger: PolicyTrigger.schedule(events.Schedule.rate(Duration.hours(1))),
          match: { stalled: true, idleLongerThan: Duration.hours(2) },
          action: PolicyAction.requestCancel(),
          dryRun: false,
        });
      },
      {},
      { CANCEL_REQUESTS: 'false', CANCEL_DOMAINS: 'billing', DESCRIBE_DOMAINS: 'billing' },
    ],
    [
      "the issue's three policies (Stalled in dry run)",
      addContractPolicies,
      {},
      { CANCEL_REQUESTS: 'false', CANCEL_DOMAINS: 'orders', DESCRIBE_DOMAINS: 'billing' },
    ],
    [
      'allowCancelRequests and no policy',
      () => undefined,
      { allowCancelRequests: true },
      { CANCEL_REQUESTS: 'true', CANCEL_DOMAINS: 'orders,billing', DESCRIBE_DOMAINS: '' },
    ],
    [
      "allowCancelRequests and the issue's three policies (no domain twice)",
      addContractPolicies,
      { allowCancelRequests: true },
      { CANCEL_REQUESTS: 'true', CANCEL_DOMAINS: 'orders,billing', DESCRIBE_DOMAINS: 'billing' },
    ],
    [
      'two cancelling policies on one domain (listed once)',
      (terminator: SwfTerminator) => {
        addRetireCheckoutV1(terminator);
        terminator.addPolicy('CancelImports', {
          domain: 'orders',
          trigger: PolicyTrigger.schedule(events.Schedule.rate(Duration.hours(1))),
          match: { workflowType: { name: 'ImportOrders' } },
          action: PolicyAction.requestCancel(),
          dryRun: false,
        });
      },
      {},
      { CANCEL_REQUESTS: 'false', CANCEL_DOMAINS: 'orders', DESCRIBE_DOMAINS: '' },
    ],
    [
      'an event policy with a stalled criterion and no backstop (its preview sweeps: Describe)',
      (terminator: SwfTerminator) => {
        terminator.addPolicy('EventStalled', {
          domain: 'orders',
          trigger: PolicyTrigger.onExecutionEvent([SwfEventType.DECISION_TASK_TIMED_OUT], {
            backstop: false,
          }),
          match: { workflowType: { name: 'Checkout' }, stalled: true },
          action: PolicyAction.terminate(),
        });
      },
      {},
      { CANCEL_REQUESTS: 'false', CANCEL_DOMAINS: '', DESCRIBE_DOMAINS: 'orders' },
    ],
    [
      'an event policy with an idle criterion and its backstop (the sweep describes)',
      (terminator: SwfTerminator) => {
        terminator.addPolicy('EventIdle', {
          domain: 'billing',
          trigger: PolicyTrigger.onExecutionEvent([SwfEventType.ACTIVITY_TASK_TIMED_OUT]),
          match: { idleLongerThan: Duration.hours(1) },
          action: PolicyAction.terminate(),
        });
      },
      {},
      { CANCEL_REQUESTS: 'false', CANCEL_DOMAINS: '', DESCRIBE_DOMAINS: 'billing' },
    ],
  ] as const)('%s', (_name, add, props, expected) => {
    // GIVEN / WHEN
    const { template } = synthWithPolicies(add, props);
    // THEN the control function reads the same values (it shares the environment, and never acts on them)
    expect(permissions(template)).toEqual(expected);
    const control = (
      functionOf(template, 'control').resource.Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(control).toMatchObject(expected);
  });
});

describe("the handler accepts every request the construct writes (its own validation, the synthesized environment's config)", () => {
  /**
   * Each policy rule of `template`, its input rendered with the event its trigger gets: a scheduled event
   * for a schedule or a backstop; for an event rule, SWF's started sample, moved to the policy's domain and
   * given the event type the rule reacts to and the execution its match selects.
   */
  function renderedRuns(
    template: Template,
  ): { rule: string; input: unknown; event: Record<string, unknown> }[] {
    return Object.entries(rulesNamed(template, 'Terminator'))
      .filter(([, rule]) => rule.Targets.some((t) => t.InputTransformer !== undefined))
      .map(([id, rule]) => {
        const transformer = policyTarget(template, id).transformer;
        if (rule.ScheduleExpression !== undefined) {
          const event = scheduledEvent(ENV, id);
          return { rule: id, input: renderInput(transformer, event), event };
        }
        const { request } = (
          renderInput(transformer, scheduledEvent(ENV)) as {
            swfTerminatorPolicy: { request: { domain: string; selector: Record<string, unknown> } };
          }
        ).swfTerminatorPolicy;
        const pattern = resolveIntrinsics(rule.EventPattern, template, ENV) as {
          detail: { eventType: string[] };
        };
        const event = swfEventFor(ENV, request, pattern.detail.eventType[0]!) as unknown as Record<
          string,
          unknown
        >;
        // The event is one the rule delivers.
        expect(matchesEventPattern(pattern, event)).toBe(true);
        return { rule: id, input: renderInput(transformer, event), event };
      });
  }

  test("the issue's three policies, each rule: parsed as a run of the policy, the request unchanged", () => {
    // GIVEN
    const { template } = contractDeployment();
    const config = handlerConfig(template, ENV);
    const runs = renderedRuns(template);
    expect(runs.map((r) => r.rule.replace(/[A-F0-9]{8}$/, ''))).toEqual([
      'TerminatorStuckImportsSchedule',
      'TerminatorRetireCheckoutV1Events',
      'TerminatorRetireCheckoutV1Backstop',
      'TerminatorStalledSchedule',
    ]);
    const expected = [
      ['StuckImports', 'schedule', STUCK_IMPORTS_REQUEST],
      ['RetireCheckoutV1', 'event', RETIRE_CHECKOUT_V1_REQUEST],
      ['RetireCheckoutV1', 'backstop', RETIRE_CHECKOUT_V1_REQUEST],
      ['Stalled', 'schedule', STALLED_REQUEST],
    ] as const;
    for (const [index, { input, event }] of runs.entries()) {
      const [name, trigger, request] = expected[index]!;
      // WHEN
      const run = parsePolicyEvent(input, config, 'request-1', HOME, NOW);
      // THEN
      expect(run.name).toBe(name);
      expect(run.trigger).toBe(trigger);
      expect(wireRequest(run.request)).toEqual(request);
      expect(run.provenance).toEqual({
        via: 'policy',
        policy: name,
        trigger,
        eventId: event.id,
        time: event.time,
        ...(trigger === 'event' ? { eventType: 'WorkflowExecutionStarted' } : {}),
      });
    }
  });

  test("SWF's started sample itself, for an event policy on its own domain, account and region", () => {
    // GIVEN a terminator where the sample comes from, with a policy on the sample's workflow type
    const env = { partition: 'aws', account: '444444444444', region: 'us-east-1' };
    const { template } = synthWithPolicies(
      (terminator) => {
        terminator.addPolicy('RetireSimulator', {
          domain: 'SimpleWorkflowUserSimulator',
          trigger: PolicyTrigger.onExecutionEvent([SwfEventType.WORKFLOW_EXECUTION_STARTED]),
          match: { workflowType: { name: 'SimpleWorkflowUserSimulator', version: 'myWorkflow' } },
          action: PolicyAction.terminate({ reason: 'retired' }),
        });
      },
      { domains: ['SimpleWorkflowUserSimulator'] },
      { env: { account: env.account, region: env.region } },
    );
    const sample = swfSample('started');
    // WHEN
    const input = renderInput(policyTarget(template, 'TerminatorRetireSimulatorEvents').transformer, sample);
    const home = { account: env.account, region: env.region };
    const run = parsePolicyEvent(input, handlerConfig(template, env), 'request-1', home, NOW);
    // THEN: the run the sample names (what it is, the handler reads from SWF before acting)
    expect(run.trigger).toBe('event');
    expect(run.execution).toEqual({ workflowId: '123456789012', runId: 'AKIAIOSFODNN7EXAMPLE' });
  });

  /** Configurations beyond the issue's: every action, trigger and criterion. */
  const CONFIGURATIONS: [string, (terminator: SwfTerminator) => void, Partial<SwfTerminatorProps>][] = [
    [
      'terminate with details and a child policy, by workflowId prefix, on a schedule',
      (terminator) => {
        terminator.addPolicy('Prefix', {
          domain: 'billing',
          trigger: PolicyTrigger.schedule(events.Schedule.cron({ minute: '5' })),
          match: { workflowIdPrefix: 'invoice-', openLongerThan: Duration.days(3) },
          action: PolicyAction.terminate({
            reason: 'r'.repeat(256),
            details: 'see the runbook',
            childPolicy: ChildPolicy.ABANDON,
          }),
          maxExecutions: 1000,
          dryRun: false,
        });
      },
      {},
    ],
    [
      'requestCancel on events of several types, idle criterion, with its backstop',
      (terminator) => {
        terminator.addPolicy('IdleCancel', {
          domain: 'billing',
          trigger: PolicyTrigger.onExecutionEvent([
            SwfEventType.ACTIVITY_TASK_TIMED_OUT,
            SwfEventType.DECISION_TASK_TIMED_OUT,
          ]),
          match: { tag: 'batch', idleLongerThan: Duration.minutes(30), stalled: true },
          action: PolicyAction.requestCancel(),
          dryRun: false,
        });
      },
      {},
    ],
    [
      'cancelThenTerminate at its 500 ceiling, 7 days of grace, on a schedule',
      (terminator) => {
        terminator.addPolicy('Drain', {
          domain: 'orders',
          trigger: PolicyTrigger.schedule(events.Schedule.rate(Duration.days(1))),
          match: { workflowType: { name: 'Legacy', version: 'v0' } },
          action: PolicyAction.cancelThenTerminate({
            gracePeriod: Duration.days(7),
            reason: 'drained',
            childPolicy: ChildPolicy.REQUEST_CANCEL,
          }),
          maxExecutions: 500,
          dryRun: false,
        });
      },
      {},
    ],
    [
      "a terminator's lower maxExecutionsPerRequest, the policy's maxExecutions defaulted",
      addStuckImports,
      { maxExecutionsPerRequest: 200 },
    ],
    [
      "allowCancelRequests with the issue's three policies",
      addContractPolicies,
      { allowCancelRequests: true },
    ],
    ["the issue's three policies on a terminator in preview mode", addContractPolicies, { dryRun: true }],
  ];

  test.each(CONFIGURATIONS)('%s: every rule', (_name, add, props) => {
    // GIVEN
    const { template } = synthWithPolicies(add, props);
    const config = handlerConfig(template, ENV);
    // WHEN / THEN each rendered run parses, its request as the construct wrote it
    const runs = renderedRuns(template);
    expect(runs.length).toBeGreaterThan(0);
    for (const { input } of runs) {
      const { swfTerminatorPolicy } = input as { swfTerminatorPolicy: { request: unknown } };
      expect(wireRequest(parsePolicyEvent(input, config, 'request-1', HOME, NOW).request)).toEqual(
        swfTerminatorPolicy.request,
      );
    }
  });

  test.each(CONFIGURATIONS)(
    '%s: every previewPayload is accepted as a preview (dry run)',
    (_name, add, props) => {
      // GIVEN
      const stack = new Stack(testApp(), 'TestStack');
      const terminator = new SwfTerminator(stack, 'Terminator', { domains: ['orders', 'billing'], ...props });
      add(terminator);
      const config = handlerConfig(Template.fromStack(stack), ENV);
      const policies = terminator.node.children.filter(
        (c): c is TerminationPolicy => c instanceof TerminationPolicy,
      );
      expect(policies.length).toBeGreaterThan(0);
      for (const policy of policies) {
        // WHEN
        const run = parsePolicyEvent(JSON.parse(policy.previewPayload), config, 'request-1', HOME, NOW);
        // THEN
        expect(run.trigger).toBe('preview');
        expect(run.name).toBe(policy.policyName);
        expect(run.request.dryRun).toBe(true);
      }
    },
  );

  // An event run reads stalled / idle from its event (no Describe call); its preview is a sweep, so the policy
  // is granted Describe for it.
  test('an event policy with a stalled criterion and backstop: false: its event runs are accepted', () => {
    // GIVEN
    const { template } = synthWithPolicies((terminator) => {
      terminator.addPolicy('EventStalled', {
        domain: 'orders',
        trigger: PolicyTrigger.onExecutionEvent([SwfEventType.DECISION_TASK_TIMED_OUT], {
          backstop: false,
        }),
        match: { workflowType: { name: 'Checkout' }, stalled: true },
        action: PolicyAction.terminate(),
        dryRun: false,
      });
    });
    const config = handlerConfig(template, ENV);
    const [run] = renderedRuns(template);
    // WHEN / THEN
    expect(() => parsePolicyEvent(run!.input, config, 'request-1', HOME, NOW)).not.toThrow();
  });

  test('an event policy with a stalled criterion and backstop: false: its previewPayload is accepted', () => {
    // GIVEN
    const stack = new Stack(testApp(), 'TestStack');
    const terminator = new SwfTerminator(stack, 'Terminator', { domains: ['orders', 'billing'] });
    const policy = terminator.addPolicy('EventStalled', {
      domain: 'orders',
      trigger: PolicyTrigger.onExecutionEvent([SwfEventType.DECISION_TASK_TIMED_OUT], { backstop: false }),
      match: { workflowType: { name: 'Checkout' }, stalled: true },
      action: PolicyAction.terminate(),
    });
    const config = handlerConfig(Template.fromStack(stack), ENV);
    // WHEN / THEN
    expect(() =>
      parsePolicyEvent(JSON.parse(policy.previewPayload), config, 'request-1', HOME, NOW),
    ).not.toThrow();
  });
});

describe('policy names', () => {
  test('two policies of one name on one terminator are refused at synth, naming it', () => {
    // GIVEN a terminator with a policy named "retire"
    const stack = new Stack(testApp(), 'TestStack');
    const terminator = new SwfTerminator(stack, 'Terminator', { domains: ['orders', 'billing'] });
    const options: TerminationPolicyOptions = {
      domain: 'orders',
      trigger: PolicyTrigger.schedule(events.Schedule.rate(Duration.hours(1))),
      match: { workflowType: { name: 'ImportOrders' } },
      action: PolicyAction.terminate(),
    };
    terminator.addPolicy('Retire', { ...options });

    // WHEN another, under another id, takes the same name (its runs' job ids, metrics and provenance)
    const again = () =>
      new TerminationPolicy(stack, 'Other', {
        ...options,
        domain: 'billing',
        terminator,
        policyName: 'Retire',
      });

    // THEN
    expect(again).toThrow(
      /^TerminationPolicy Retire: this terminator has a policy of that name already; give each policy its own name/,
    );
  });
});

describe('synth-time refusals name the policy and the rule', () => {
  /** A valid policy, `options` applied over it. */
  const BASE: TerminationPolicyOptions = {
    domain: 'orders',
    trigger: PolicyTrigger.schedule(events.Schedule.rate(Duration.hours(1))),
    match: { workflowType: { name: 'ImportOrders' } },
    action: PolicyAction.terminate(),
  };

  /** Adds the policy `id` to a fresh terminator (orders and billing unless `props` say otherwise). */
  function add(
    options: Partial<TerminationPolicyOptions>,
    props: Partial<SwfTerminatorProps> = {},
    id = 'P',
  ) {
    const stack = new Stack(testApp(), 'TestStack');
    const terminator = new SwfTerminator(stack, 'Terminator', { domains: ['orders', 'billing'], ...props });
    return terminator.addPolicy(id, { ...BASE, ...options });
  }

  const started = (match: TerminationPolicyOptions['match']): Partial<TerminationPolicyOptions> => ({
    trigger: PolicyTrigger.onExecutionEvent([SwfEventType.WORKFLOW_EXECUTION_STARTED]),
    match,
  });

  test.each([
    [
      'a domain that is not one of the terminator’s',
      { domain: 'shipping' },
      `TerminationPolicy P: domain "shipping" is not one of the terminator's domains (orders, billing)`,
    ],
    [
      'an empty match',
      { match: {} },
      'TerminationPolicy P: match would sweep the whole domain: give at least one of workflowType, tag, ' +
        'workflowIdPrefix, openLongerThan or idleLongerThan',
    ],
    [
      'stalled alone',
      { match: { stalled: true } },
      'TerminationPolicy P: match would sweep the whole domain: give at least one of workflowType, tag, ' +
        'workflowIdPrefix, openLongerThan or idleLongerThan (stalled alone would Describe every open execution ' +
        'of the domain)',
    ],
    [
      'openLongerThan on WorkflowExecutionStarted',
      started({ workflowType: { name: 'Checkout' }, openLongerThan: Duration.hours(1) }),
      'TerminationPolicy P: match.openLongerThan can never match on a WorkflowExecutionStarted event: the ' +
        'execution has just started',
    ],
    [
      'idleLongerThan on WorkflowExecutionStarted',
      started({ idleLongerThan: Duration.hours(1) }),
      'TerminationPolicy P: match.idleLongerThan can never match on a WorkflowExecutionStarted event',
    ],
    [
      'stalled on WorkflowExecutionStarted',
      started({ workflowType: { name: 'Checkout' }, stalled: true }),
      'TerminationPolicy P: match.stalled can never match on a WorkflowExecutionStarted event',
    ],
    [
      'openLongerThan and stalled on WorkflowExecutionStarted among other types',
      {
        trigger: PolicyTrigger.onExecutionEvent([
          SwfEventType.DECISION_TASK_TIMED_OUT,
          SwfEventType.WORKFLOW_EXECUTION_STARTED,
        ]),
        match: { openLongerThan: Duration.hours(1), stalled: true },
      },
      'TerminationPolicy P: match.openLongerThan and match.stalled can never match on a WorkflowExecutionStarted event',
    ],
    [
      'an empty eventTypes',
      { trigger: PolicyTrigger.onExecutionEvent([]) },
      'TerminationPolicy P: trigger.eventTypes is empty; give at least one SWF event type',
    ],
    [
      'maxExecutions 0',
      { maxExecutions: 0 },
      "TerminationPolicy P: maxExecutions 0 must be an integer from 1 to 1000 (the terminator's maxExecutionsPerRequest)",
    ],
    [
      'a fractional maxExecutions',
      { maxExecutions: 2.5 },
      "TerminationPolicy P: maxExecutions 2.5 must be an integer from 1 to 1000 (the terminator's maxExecutionsPerRequest)",
    ],
    [
      "maxExecutions over the terminator's default maxExecutionsPerRequest",
      { maxExecutions: 1001 },
      "TerminationPolicy P: maxExecutions 1001 must be an integer from 1 to 1000 (the terminator's maxExecutionsPerRequest)",
    ],
    [
      'maxExecutions over 500 for cancelThenTerminate',
      { action: PolicyAction.cancelThenTerminate({ gracePeriod: Duration.minutes(5) }), maxExecutions: 501 },
      'TerminationPolicy P: maxExecutions 501 must be an integer from 1 to 500 (cancelThenTerminate hands at most ' +
        '500 runs to the job that terminates them)',
    ],
    [
      'a gracePeriod under 1 minute',
      { action: PolicyAction.cancelThenTerminate({ gracePeriod: Duration.seconds(59) }) },
      'TerminationPolicy P: action gracePeriod 59 seconds must be whole seconds from 1 minute to 7 days',
    ],
    [
      'a gracePeriod over 7 days',
      { action: PolicyAction.cancelThenTerminate({ gracePeriod: Duration.seconds(7 * 24 * 3600 + 1) }) },
      'must be whole seconds from 1 minute to 7 days',
    ],
    [
      'a gracePeriod of fractional seconds',
      { action: PolicyAction.cancelThenTerminate({ gracePeriod: Duration.millis(90_500) }) },
      'must be whole seconds from 1 minute to 7 days',
    ],
    [
      'a reason over 256 characters',
      { action: PolicyAction.terminate({ reason: 'r'.repeat(257) }) },
      'TerminationPolicy P: action reason must be at most 256 characters (got 257)',
    ],
    [
      'a cancelThenTerminate reason over 256 characters',
      {
        action: PolicyAction.cancelThenTerminate({
          gracePeriod: Duration.minutes(1),
          reason: 'r'.repeat(300),
        }),
      },
      'TerminationPolicy P: action reason must be at most 256 characters (got 300)',
    ],
    [
      'a tag with a colon',
      { match: { tag: 'night:ly' } },
      'TerminationPolicy P: match.tag "night:ly" must not contain ":", "/", "|" or control characters',
    ],
    [
      'an empty tag',
      { match: { tag: '' } },
      'TerminationPolicy P: match.tag "" must be 1-256 characters (got 0)',
    ],
    ['a tag over 256 characters', { match: { tag: 't'.repeat(257) } }, 'must be 1-256 characters (got 257)'],
    [
      'a workflow type name with a slash',
      { match: { workflowType: { name: 'Import/Orders' } } },
      'TerminationPolicy P: match.workflowType.name "Import/Orders" must not contain ":", "/", "|" or control characters',
    ],
    [
      'a workflow type named "arn"',
      { match: { workflowType: { name: 'arn' } } },
      'TerminationPolicy P: match.workflowType.name "arn" must not be the literal "arn"',
    ],
    [
      'a workflow type version over 64 characters',
      { match: { workflowType: { name: 'Checkout', version: 'v'.repeat(65) } } },
      'TerminationPolicy P: match.workflowType.version must be 1-64 characters',
    ],
    [
      'a workflow type version with a pipe',
      { match: { workflowType: { name: 'Checkout', version: '1|2' } } },
      'TerminationPolicy P: match.workflowType.version "1|2" must not contain ":", "/", "|" or control characters',
    ],
    [
      'a workflowId prefix with a control character',
      { match: { workflowIdPrefix: 'order\u0007' } },
      'TerminationPolicy P: match.workflowIdPrefix "order\\u0007" must not contain ":", "/", "|" or control characters',
    ],
    [
      'an openLongerThan of fractional seconds',
      { match: { openLongerThan: Duration.millis(1500) } },
      'must be whole seconds, from 1 second to 10 years',
    ],
    [
      'a maxExecutions known only at deploy (a number token: its rule would carry another text than digested)',
      { maxExecutions: Lazy.number({ produce: () => 50 }) },
      'TerminationPolicy P: request.maxExecutions: every value of the policy must be known at synth',
    ],
    [
      'a reason with an input template placeholder',
      { action: PolicyAction.terminate({ reason: 'open past its <time> slot' }) },
      `TerminationPolicy P: request.reason holds "<time>", which EventBridge would replace in the rule's input`,
    ],
    [
      'a tag with an input template placeholder',
      { match: { tag: 'batch-<aws.events.rule-name>' } },
      'TerminationPolicy P: request.selector.tag holds "<aws.events.rule-name>"',
    ],
  ] as [string, Partial<TerminationPolicyOptions>, string][])('%s', (_name, options, message) => {
    // GIVEN / WHEN / THEN
    expect(() => add(options)).toThrow(message);
    expect(() => add(options)).toThrow(/^TerminationPolicy P: /);
  });

  /** The event types SWF sends once an execution has closed, as the enum names them. */
  const closing = Object.values(SwfEventType).filter((t) => CLOSING_EVENT_TYPES.includes(t));

  test('six event types are closing ones, each a member of SwfEventType', () => {
    // THEN
    expect(closing).toHaveLength(6);
    expect(closing).toHaveLength(CLOSING_EVENT_TYPES.length);
  });

  test.each(closing)('the closing event type %s', (eventType) => {
    // GIVEN / WHEN / THEN
    expect(() =>
      add({
        trigger: PolicyTrigger.onExecutionEvent([SwfEventType.ACTIVITY_TASK_FAILED, eventType]),
      }),
    ).toThrow(
      `TerminationPolicy P: trigger.eventTypes ${eventType}: SWF sends these once the execution has closed, so ` +
        'there would be nothing to act on',
    );
  });

  test("maxExecutions over the terminator's own maxExecutionsPerRequest", () => {
    // GIVEN / WHEN / THEN
    expect(() => add({ maxExecutions: 51 }, { maxExecutionsPerRequest: 50 })).toThrow(
      "TerminationPolicy P: maxExecutions 51 must be an integer from 1 to 50 (the terminator's maxExecutionsPerRequest)",
    );
  });

  test.each([
    ['a space', 'Stuck Imports'],
    ['over 40 characters', 'x'.repeat(41)],
    ['a dot', 'stuck.imports'],
  ])('a policy name with %s', (_name, id) => {
    // GIVEN / WHEN / THEN
    expect(() => add({}, {}, id)).toThrow(
      `TerminationPolicy ${id}: the policy's name must be 1-40 letters, digits, "-" or "_" (it names the policy's ` +
        'metrics and jobs)',
    );
  });

  test.each([
    ['a 40-character name', {}, 'x'.repeat(40)],
    ['a name of letters, digits, "-" and "_"', {}, 'Stuck_Imports-2'],
    [
      'a reason of exactly 256 characters',
      { action: PolicyAction.terminate({ reason: 'r'.repeat(256) }) },
      'P',
    ],
    [
      'a gracePeriod of exactly 1 minute',
      { action: PolicyAction.cancelThenTerminate({ gracePeriod: Duration.minutes(1) }) },
      'P',
    ],
    [
      'a gracePeriod of exactly 7 days',
      { action: PolicyAction.cancelThenTerminate({ gracePeriod: Duration.days(7) }) },
      'P',
    ],
    [
      'maxExecutions 500 for cancelThenTerminate',
      { action: PolicyAction.cancelThenTerminate({ gracePeriod: Duration.minutes(1) }), maxExecutions: 500 },
      'P',
    ],
    ["maxExecutions equal to the terminator's", { maxExecutions: 1000 }, 'P'],
    [
      'openLongerThan, idleLongerThan and stalled on a non-starting event',
      {
        trigger: PolicyTrigger.onExecutionEvent([SwfEventType.ACTIVITY_TASK_TIMED_OUT]),
        match: { openLongerThan: Duration.hours(1), idleLongerThan: Duration.hours(1), stalled: true },
      },
      'P',
    ],
    [
      'a workflowId prefix "arn" (only a whole name may not be "arn")',
      { match: { workflowIdPrefix: 'arn' } },
      'P',
    ],
  ] as [string, Partial<TerminationPolicyOptions>, string][])(
    'accepted at the limit: %s',
    (_name, options, id) => {
      // GIVEN / WHEN / THEN
      expect(() => add(options, {}, id)).not.toThrow();
    },
  );
});
