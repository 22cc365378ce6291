/**
 * The event policies' circuit breakers, as the construct deploys them: one DynamoDB table, only with an event
 * policy, on demand with a TTL; the terminating function may read and write its items, the control function
 * read and update them (an operator's status and reset), the state machine nothing (proven by the IAM
 * simulator, allowed and denied); each event policy's bound in both functions' environment, read back by
 * the handler's own configuration; capWindow checked at synth.
 */
import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { PolicyAction, PolicyTrigger, SwfEventType, type SwfTerminator } from '../../lib';
import { onlyResource } from '../support/construct-helpers';
import {
  ACCOUNT,
  type Cell,
  decisionTable,
  ENV,
  OTHER_ACCOUNT,
  REGION,
  ROLES,
  rolePolicies,
} from '../support/iam-simulation';
import {
  addRetireCheckoutV1,
  addStuckImports,
  handlerConfig,
  synthWithPolicies,
} from '../support/policy-helpers';

/** An event policy terminating Checkout runs on their start, at most `maxExecutions` per `capWindow`. */
function addStorming(
  terminator: SwfTerminator,
  extra: { maxExecutions?: number; capWindow?: Duration } = {},
) {
  return terminator.addPolicy('Storming', {
    domain: 'orders',
    trigger: PolicyTrigger.onExecutionEvent([SwfEventType.WORKFLOW_EXECUTION_STARTED]),
    match: { workflowType: { name: 'Checkout' } },
    action: PolicyAction.terminate(),
    dryRun: false,
    ...extra,
  });
}

const concrete = { env: { account: ACCOUNT, region: REGION } };

test('no event policy, no table: a terminator with a schedule policy only has none, nor its grant', () => {
  const { template, terminator } = synthWithPolicies(addStuckImports, {}, concrete);
  template.resourceCountIs('AWS::DynamoDB::Table', 0);
  expect(terminator.breakerTable).toBeUndefined();
  expect(JSON.stringify(template.toJSON())).not.toContain('dynamodb:');
  expect(handlerConfig(template, ENV).breakers).toBeUndefined();
});

test("one table for every event policy: on demand, TTL on expiresAt, each policy's bound in the handler's configuration", () => {
  // GIVEN two event policies
  const { template, terminator } = synthWithPolicies(
    (t) => {
      addRetireCheckoutV1(t);
      addStorming(t, { maxExecutions: 50, capWindow: Duration.minutes(30) });
    },
    {},
    concrete,
  );
  // THEN one table
  template.resourceCountIs('AWS::DynamoDB::Table', 1);
  template.hasResourceProperties('AWS::DynamoDB::Table', {
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [{ AttributeName: 'policy', KeyType: 'HASH' }],
    TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
  });
  expect(terminator.breakerTable).toBeDefined();
  // AND the handler reads each policy's bound back (RetireCheckoutV1 at its defaults: 100 an hour)
  const { breakers } = handlerConfig(template, ENV);
  const table = onlyResource(template, 'AWS::DynamoDB::Table').logicalId;
  expect(breakers?.table).toBe(table);
  expect(Object.fromEntries(breakers?.limits ?? [])).toEqual({
    RetireCheckoutV1: { cap: 100, windowMs: 3_600_000 },
    Storming: { cap: 50, windowMs: 1_800_000 },
  });
});

test("the terminating function's role may read and write the table's items, the control function's read and update them, nothing else of DynamoDB", async () => {
  // GIVEN
  const { template } = synthWithPolicies(addStorming, {}, concrete);
  const table = onlyResource(template, 'AWS::DynamoDB::Table').logicalId;
  const own = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table}`;
  const call = (action: string, resource: string, expected: Cell['expected'] = 'ImplicitlyDenied'): Cell => ({
    action,
    resource,
    expected,
  });
  const never = [
    call('dynamodb:Scan', own),
    call('dynamodb:Query', own),
    call('dynamodb:DeleteItem', own),
    call('dynamodb:DeleteTable', own),
    call('dynamodb:UpdateTable', own),
    call('dynamodb:GetItem', `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/another-table`),
    call('dynamodb:PutItem', `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table}2`),
    call('dynamodb:UpdateItem', `arn:aws:dynamodb:${REGION}:${OTHER_ACCOUNT}:table/${table}`),
  ];
  const items = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
  // WHEN / THEN
  for (const [role, cells] of [
    [ROLES.handler, [...items.map((a) => call(a, own, 'Allowed')), ...never]],
    [
      ROLES.control,
      [
        call('dynamodb:GetItem', own, 'Allowed'),
        call('dynamodb:UpdateItem', own, 'Allowed'),
        call('dynamodb:PutItem', own),
        ...never,
      ],
    ],
    [ROLES.stateMachine, [...items.map((a) => call(a, own)), ...never]],
  ] as const) {
    const { actual, expected } = await decisionTable(rolePolicies(template, role, ENV), cells);
    expect(actual).toEqual(expected);
  }
});

test.each<[string, (t: SwfTerminator) => unknown, RegExp]>([
  [
    'a schedule policy with a capWindow',
    (t) =>
      t.addPolicy('Hourly', {
        domain: 'orders',
        trigger: PolicyTrigger.schedule(events.Schedule.rate(Duration.hours(1))),
        match: { tag: 'x' },
        action: PolicyAction.terminate(),
        capWindow: Duration.hours(2),
      }),
    /TerminationPolicy Hourly: capWindow is an event policy's .*: a schedule policy's maxExecutions refuses a whole run instead/,
  ],
  [
    'a capWindow under a minute',
    (t) => addStorming(t, { capWindow: Duration.seconds(30) }),
    /TerminationPolicy Storming: capWindow 30 seconds must be whole seconds from 1 minute to 7 days/,
  ],
  [
    'a capWindow over 7 days',
    (t) => addStorming(t, { capWindow: Duration.days(8) }),
    /TerminationPolicy Storming: capWindow 8 days must be whole seconds from 1 minute to 7 days/,
  ],
  [
    "an event policy's maxExecutions over what one breaker record counts",
    (t) => addStorming(t, { maxExecutions: 5_001 }),
    /TerminationPolicy Storming: maxExecutions 5001 must be an integer from 1 to 5000 \(an event policy's circuit breaker counts at most 5000 runs per window\)/,
  ],
])('refused at synth, naming the policy and the rule: %s', (_what, add, message) => {
  expect(() => synthWithPolicies(add, { maxExecutionsPerRequest: 100_000 }, concrete)).toThrow(message);
});

test('the table is in the stack only once, whatever the order policies are added in', () => {
  const { template } = synthWithPolicies(
    (t) => {
      addStorming(t);
      addStuckImports(t);
      addRetireCheckoutV1(t);
    },
    {},
    concrete,
  );
  template.resourceCountIs('AWS::DynamoDB::Table', 1);
  template.hasResourceProperties('AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike({ BREAKER_TABLE: Match.anyValue() }) },
  });
});
