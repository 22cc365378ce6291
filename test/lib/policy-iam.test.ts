/**
 * Least privilege with termination policies, proven by an IAM policy simulator (@cloud-copilot/iam-simulate),
 * as test/lib/iam.test.ts proves it without: for each configuration, the handler's role may call
 * RequestCancelWorkflowExecution and DescribeWorkflowExecution exactly where a policy (or
 * allowCancelRequests) needs it, in both ARN forms, and nowhere else; the control function's role and the
 * state machine's role gain nothing. One decision table per configuration and role, allowed and denied cells
 * both, proven whole by one assertion whose diff names every wrong cell.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { PolicyAction, PolicyTrigger, SwfEventType, SwfTerminator, type SwfTerminatorProps } from '../../lib';
import { testApp } from '../support/construct-helpers';
import {
  ACCOUNT,
  bothForms,
  type Cell,
  decisionTable,
  DOMAIN_SWF_ACTIONS,
  DOMAINS,
  ENV,
  type NamedPolicy,
  OTHER_ACCOUNT,
  REGION,
  ROLES,
  rolePolicies,
} from '../support/iam-simulation';
import {
  addContractPolicies,
  addRetireCheckoutV1,
  addStalled,
  addStuckImports,
} from '../support/policy-helpers';

const CANCEL = 'swf:RequestCancelWorkflowExecution';
const DESCRIBE = 'swf:DescribeWorkflowExecution';
/** What the handler may always do in its domains (test/lib/iam.test.ts). */
const ALWAYS_ALLOWED = [
  'swf:TerminateWorkflowExecution',
  'swf:ListOpenWorkflowExecutions',
  'swf:CountOpenWorkflowExecutions',
];

/** SWF domain ARN, in the Service Authorization Reference form (no region) or the regional form. */
const swfArn = (domain: string, region = '', account = ACCOUNT) =>
  `arn:aws:swf:${region}:${account}:/domain/${domain}`;

/** The policies of the three roles of a terminator with `props` and the policies `add` adds, resolved. */
function synthFor(
  add: (terminator: SwfTerminator) => void,
  props: Partial<SwfTerminatorProps> = {},
): { template: Template; handler: NamedPolicy[]; control: NamedPolicy[]; stateMachine: NamedPolicy[] } {
  const stack = new Stack(testApp(), 'IamStack', { env: { account: ACCOUNT, region: REGION } });
  add(new SwfTerminator(stack, 'Terminator', { domains: DOMAINS, ...props }));
  const template = Template.fromStack(stack);
  return {
    template,
    handler: rolePolicies(template, ROLES.handler, ENV),
    control: rolePolicies(template, ROLES.control, ENV),
    stateMachine: rolePolicies(template, ROLES.stateMachine, ENV),
  };
}

/** A configuration: what it adds, and the domains where the handler may then cancel and describe. */
interface Configuration {
  readonly name: string;
  readonly add: (terminator: SwfTerminator) => void;
  readonly props?: Partial<SwfTerminatorProps>;
  readonly cancel: readonly string[];
  readonly describe: readonly string[];
}

const hourly = () => PolicyTrigger.schedule(events.Schedule.rate(Duration.hours(1)));

const CONFIGURATIONS: Configuration[] = [
  { name: 'no policy', add: () => undefined, cancel: [], describe: [] },
  { name: 'a terminate-only schedule policy (StuckImports)', add: addStuckImports, cancel: [], describe: [] },
  {
    name: 'a requestCancel schedule policy on billing',
    add: (t) => {
      t.addPolicy('CancelInvoices', {
        domain: 'billing',
        trigger: hourly(),
        match: { workflowType: { name: 'Invoice' } },
        action: PolicyAction.requestCancel(),
        dryRun: false,
      });
    },
    cancel: ['billing'],
    describe: [],
  },
  {
    name: 'the same policy in dry run (its default): it asks nothing to cancel, so it may not',
    add: (t) => {
      t.addPolicy('CancelInvoices', {
        domain: 'billing',
        trigger: hourly(),
        match: { workflowType: { name: 'Invoice' } },
        action: PolicyAction.requestCancel(),
      });
    },
    cancel: [],
    describe: [],
  },
  {
    name: 'a terminate sweep of billing for stalled, idle executions',
    add: (t) => {
      t.addPolicy('StalledTerminate', {
        domain: 'billing',
        trigger: hourly(),
        match: { stalled: true, idleLongerThan: Duration.hours(2) },
        action: PolicyAction.terminate(),
      });
    },
    cancel: [],
    describe: ['billing'],
  },
  {
    name: 'a terminate sweep of billing for idle executions (idleLongerThan alone)',
    add: (t) => {
      t.addPolicy('IdleTerminate', {
        domain: 'billing',
        trigger: hourly(),
        match: { idleLongerThan: Duration.hours(2) },
        action: PolicyAction.terminate(),
      });
    },
    cancel: [],
    describe: ['billing'],
  },
  {
    name: "the issue's Stalled policy (requestCancel, stalled and idle, on billing; dry run, as the issue writes it)",
    add: addStalled,
    cancel: [],
    describe: ['billing'],
  },
  {
    name: 'the Stalled policy with dryRun: false',
    add: (t) => addStalled(t, { dryRun: false }),
    cancel: ['billing'],
    describe: ['billing'],
  },
  {
    name: "the issue's RetireCheckoutV1 (cancelThenTerminate on orders' events)",
    add: addRetireCheckoutV1,
    cancel: ['orders'],
    describe: [],
  },
  {
    name: 'an event policy with a stalled criterion and backstop: false (its preview still sweeps: Describe)',
    add: (t) => {
      t.addPolicy('EventStalled', {
        domain: 'orders',
        trigger: PolicyTrigger.onExecutionEvent([SwfEventType.DECISION_TASK_TIMED_OUT], { backstop: false }),
        match: { workflowType: { name: 'Checkout' }, stalled: true },
        action: PolicyAction.terminate(),
      });
    },
    cancel: [],
    describe: ['orders'],
  },
  {
    name: 'the same event policy with its backstop sweep',
    add: (t) => {
      t.addPolicy('EventStalled', {
        domain: 'orders',
        trigger: PolicyTrigger.onExecutionEvent([SwfEventType.DECISION_TASK_TIMED_OUT]),
        match: { workflowType: { name: 'Checkout' }, stalled: true },
        action: PolicyAction.terminate(),
      });
    },
    cancel: [],
    describe: ['orders'],
  },
  {
    name: 'allowCancelRequests: true',
    add: () => undefined,
    props: { allowCancelRequests: true },
    cancel: DOMAINS,
    describe: [],
  },
  {
    name: "the issue's three policies (Stalled in dry run)",
    add: addContractPolicies,
    cancel: ['orders'],
    describe: ['billing'],
  },
];

// GIVEN each configuration, synthesized, and a terminator without any policy to compare with
const SYNTHESIZED = new Map(CONFIGURATIONS.map((c) => [c.name, synthFor(c.add, c.props)]));
const BASELINE = synthFor(() => undefined);
const synthesized = (name: string) => SYNTHESIZED.get(name)!;

const ALLOWED: Cell['expected'] = 'Allowed';
const DENIED: Cell['expected'] = 'ImplicitlyDenied';

/** The handler's SWF calls under `configuration`, every one with IAM's expected answer. */
function handlerCells(configuration: Configuration): Cell[] {
  const granted = (action: string) => (action === CANCEL ? configuration.cancel : configuration.describe);
  const others = DOMAIN_SWF_ACTIONS.filter((a) => ![...ALWAYS_ALLOWED, CANCEL, DESCRIBE].includes(a));
  return [
    ...[CANCEL, DESCRIBE].flatMap((action) => [
      ...DOMAINS.flatMap((domain) => [
        ...bothForms(action, domain, granted(action).includes(domain) ? ALLOWED : DENIED),
        ...bothForms(action, domain.slice(0, -1), DENIED, 'a prefix of the domain'),
        ...bothForms(action, `${domain}2`, DENIED, 'the domain with a suffix'),
        ...bothForms(action, `${domain}-prod`, DENIED, 'a look-alike domain'),
        ...bothForms(action, `${domain}/x`, DENIED, 'a path under the domain'),
        ...bothForms(action, domain, DENIED, 'the domain in another account', OTHER_ACCOUNT),
        {
          action,
          resource: swfArn(domain, 'us-east-1'),
          why: 'the domain in another region',
          mode: 'unvalidated',
          expected: DENIED,
        } as const,
      ]),
      ...bothForms(action, 'shipping', DENIED, 'another domain'),
    ]),
    ...DOMAINS.flatMap((domain) => [
      ...ALWAYS_ALLOWED.map((action) => ({ action, resource: swfArn(domain), expected: ALLOWED })),
      ...others.map((action) => ({ action, resource: swfArn(domain), expected: DENIED })),
    ]),
  ];
}

/** The SWF calls the control and state machine roles never gain: every one the handler may make, denied. */
const NEVER_GAINED: Cell[] = [CANCEL, DESCRIBE, ...ALWAYS_ALLOWED].flatMap((action) =>
  DOMAINS.flatMap((domain) => bothForms(action, domain, DENIED)),
);

/** A role's policies without the statement that reads and resets the event policies' breakers. */
function withoutBreakers(policies: NamedPolicy[]): NamedPolicy[] {
  return policies.map(({ name, policy }) => ({
    name,
    policy: {
      ...policy,
      Statement: (policy.Statement as { Sid?: string }[]).filter(
        (statement) => statement.Sid !== 'ReadAndResetEventPolicyBreakers',
      ),
    },
  }));
}

describe.each(CONFIGURATIONS)('$name', (configuration) => {
  const { handler, control, stateMachine } = synthesized(configuration.name);

  test("the handler's role may cancel and describe exactly where it needs to, and gains no other SWF action", async () => {
    // WHEN
    const { actual, expected } = await decisionTable(handler, handlerCells(configuration));
    // THEN
    expect(actual).toEqual(expected);
  });

  test("the handler's role writes each grant as one statement, in both ARN forms of each domain, and none without one", () => {
    // GIVEN
    const statements = handler.flatMap(
      ({ policy }) =>
        (policy as { Statement: { Sid?: string; Action: unknown; Resource: unknown }[] }).Statement,
    );
    const bySid = (sid: string) => statements.filter((s) => s.Sid === sid);
    // THEN
    for (const [sid, action, domains] of [
      ['CancelInChosenDomains', CANCEL, configuration.cancel],
      ['DescribeInChosenDomains', DESCRIBE, configuration.describe],
    ] as const) {
      if (domains.length === 0) {
        expect(bySid(sid)).toEqual([]);
        expect(JSON.stringify(handler)).not.toContain(action);
        continue;
      }
      const resources = domains.flatMap((d) => [swfArn(d, REGION), swfArn(d)]);
      expect(bySid(sid)).toEqual([
        {
          Sid: sid,
          Effect: 'Allow',
          Action: action,
          Resource: resources,
        },
      ]);
    }
    expect(JSON.stringify(handler)).not.toMatch(/"Resource":"\*"|"\*"|"swf:\*"/);
  });

  test.each([
    ['control function', () => control, () => BASELINE.control],
    ['state machine', () => stateMachine, () => BASELINE.stateMachine],
  ] as const)(
    "the %s's role gains no SWF call: a terminator's without policies (but an event policy's breaker table)",
    async (_role, policies, baseline) => {
      // THEN (the control function's read and reset of the breakers: test/lib/breaker-table.test.ts)
      expect(withoutBreakers(policies())).toEqual(baseline());
      const { actual, expected } = await decisionTable(policies(), NEVER_GAINED);
      expect(actual).toEqual(expected);
    },
  );
});

test('domain names IAM would read as wildcards stay literal in the policy grants', async () => {
  // GIVEN a cancelling sweep of a domain named with '*', and a describing sweep of one named with '?'
  const stack = new Stack(testApp(), 'IamStack', { env: { account: ACCOUNT, region: REGION } });
  const terminator = new SwfTerminator(stack, 'Terminator', { domains: ['ord*', 'a?c', 'orders'] });
  terminator.addPolicy('CancelStars', {
    domain: 'ord*',
    trigger: hourly(),
    match: { tag: 'x' },
    action: PolicyAction.requestCancel(),
    dryRun: false,
  });
  terminator.addPolicy('DescribeQuestion', {
    domain: 'a?c',
    trigger: hourly(),
    match: { idleLongerThan: Duration.hours(1) },
    action: PolicyAction.terminate(),
  });
  const handler = rolePolicies(Template.fromStack(stack), ROLES.handler, ENV);
  const cell = (action: string, why: string, resource: string, expected: Cell['expected']): Cell => ({
    action,
    resource,
    why,
    mode: 'unvalidated',
    expected,
  });
  // WHEN
  const { actual, expected } = await decisionTable(handler, [
    cell(CANCEL, 'the domain literally named ord*', swfArn('ord*'), ALLOWED),
    cell(CANCEL, 'the domain literally named ord*', swfArn('ord*', REGION), ALLOWED),
    cell(CANCEL, 'ord* read as a wildcard', swfArn('orders'), DENIED),
    cell(CANCEL, 'ord* read as a wildcard', swfArn('ord', REGION), DENIED),
    cell(DESCRIBE, 'the domain literally named a?c', swfArn('a?c'), ALLOWED),
    cell(DESCRIBE, 'a?c read as a wildcard', swfArn('abc'), DENIED),
    cell(DESCRIBE, 'the domain literally named ord*', swfArn('ord*'), DENIED),
  ]);
  // THEN
  expect(actual).toEqual(expected);
});
