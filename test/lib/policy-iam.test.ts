/**
 * Least privilege with termination policies, proven by an IAM policy simulator (@cloud-copilot/iam-simulate),
 * as test/lib/iam.test.ts proves it without: for each configuration, the handler's role may call
 * RequestCancelWorkflowExecution and DescribeWorkflowExecution exactly where a policy (or
 * allowCancelRequests) needs it, in both ARN forms, and nowhere else; the control function's role and the
 * state machine's role gain nothing. Allowed and denied cases both.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { PolicyAction, PolicyTrigger, SwfEventType, SwfTerminator, type SwfTerminatorProps } from '../../lib';
import { testApp } from '../support/construct-helpers';
import {
  ACCOUNT,
  decide,
  DOMAIN_SWF_ACTIONS,
  DOMAINS,
  ENV,
  type NamedPolicy,
  OTHER_ACCOUNT,
  REGION,
  ROLE_ARN,
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

/** The verdict for the handler's role (or `policies`) calling `action` on `resource`. */
const verdict = (
  policies: NamedPolicy[],
  action: string,
  resource: string,
  mode: 'validated' | 'unvalidated' = 'validated',
) => decide(policies, ROLE_ARN, action, resource, mode);

describe.each(CONFIGURATIONS)("the handler's role, $name", (configuration) => {
  const { handler } = synthesized(configuration.name);

  test.each(
    [CANCEL, DESCRIBE].flatMap((action) =>
      DOMAINS.flatMap((domain) => {
        const granted = (action === CANCEL ? configuration.cancel : configuration.describe).includes(domain);
        const expected = granted ? 'Allowed' : 'ImplicitlyDenied';
        return [
          [action, domain, swfArn(domain), 'validated', expected] as const,
          [action, domain, swfArn(domain, REGION), 'unvalidated', expected] as const,
        ];
      }),
    ),
  )('%s in %s: %s (%s) is %s', async (action, _domain, resource, mode, expected) => {
    // WHEN / THEN
    await expect(verdict(handler, action, resource, mode)).resolves.toBe(expected);
  });

  test.each(
    [CANCEL, DESCRIBE].flatMap((action) =>
      DOMAINS.flatMap((domain) =>
        [
          ['another domain', swfArn('shipping'), 'validated'],
          ['a prefix of the domain', swfArn(domain.slice(0, -1)), 'validated'],
          ['the domain with a suffix', swfArn(`${domain}2`), 'validated'],
          ['a look-alike domain', swfArn(`${domain}-prod`), 'validated'],
          ['a path under the domain', swfArn(`${domain}/x`), 'validated'],
          ['the domain in another account', swfArn(domain, '', OTHER_ACCOUNT), 'validated'],
          [
            'the domain in another account, regional form',
            swfArn(domain, REGION, OTHER_ACCOUNT),
            'unvalidated',
          ],
          ['the domain in another region', swfArn(domain, 'us-east-1'), 'unvalidated'],
        ].map(
          ([why, resource, mode]) => [action, why!, resource!, mode as 'validated' | 'unvalidated'] as const,
        ),
      ),
    ),
  )('DENIES %s on %s: %s (%s)', async (action, _why, resource, mode) => {
    // WHEN / THEN
    await expect(verdict(handler, action, resource, mode)).resolves.toBe('ImplicitlyDenied');
  });

  test('gains no other SWF action in any domain (but the three it always has)', async () => {
    // GIVEN
    const extra = [
      ...(configuration.cancel.length > 0 ? [CANCEL] : []),
      ...(configuration.describe.length > 0 ? [DESCRIBE] : []),
    ];
    const others = DOMAIN_SWF_ACTIONS.filter((a) => !ALWAYS_ALLOWED.includes(a) && !extra.includes(a));
    // WHEN
    const verdicts = await Promise.all(
      DOMAINS.flatMap((domain) =>
        others.map(
          async (action) => [action, domain, await verdict(handler, action, swfArn(domain))] as const,
        ),
      ),
    );
    // THEN
    expect(verdicts.filter(([, , v]) => v !== 'ImplicitlyDenied')).toEqual([]);
    for (const domain of DOMAINS) {
      for (const action of ALWAYS_ALLOWED) {
        await expect(verdict(handler, action, swfArn(domain))).resolves.toBe('Allowed');
      }
    }
  });

  test('writes each grant as one statement, in both ARN forms of each domain, and none without one', () => {
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
});

describe.each(CONFIGURATIONS)(
  'the control role and the state machine role gain nothing: $name',
  (configuration) => {
    const { control, stateMachine } = synthesized(configuration.name);

    test('their policies are those of a terminator without policies', () => {
      // THEN
      expect(control).toEqual(BASELINE.control);
      expect(stateMachine).toEqual(BASELINE.stateMachine);
    });

    test.each(
      [CANCEL, DESCRIBE, ...ALWAYS_ALLOWED].flatMap((action) =>
        DOMAINS.flatMap((domain) =>
          (['control', 'stateMachine'] as const).flatMap((role) => [
            [role, action, swfArn(domain), 'validated'] as const,
            [role, action, swfArn(domain, REGION), 'unvalidated'] as const,
          ]),
        ),
      ),
    )('DENIES the %s role %s on %s (%s)', async (role, action, resource, mode) => {
      // WHEN / THEN
      await expect(
        verdict(role === 'control' ? control : stateMachine, action, resource, mode),
      ).resolves.toBe('ImplicitlyDenied');
    });
  },
);

describe('domain names IAM would read as wildcards stay literal in the policy grants', () => {
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

  test.each([
    [CANCEL, 'the domain literally named ord*', swfArn('ord*'), 'Allowed'],
    [CANCEL, 'the domain literally named ord*, regional form', swfArn('ord*', REGION), 'Allowed'],
    [CANCEL, '"orders" (ord* read as a wildcard)', swfArn('orders'), 'ImplicitlyDenied'],
    [CANCEL, '"ord" (ord* read as a wildcard)', swfArn('ord', REGION), 'ImplicitlyDenied'],
    [DESCRIBE, 'the domain literally named a?c', swfArn('a?c'), 'Allowed'],
    [DESCRIBE, '"abc" (a?c read as a wildcard)', swfArn('abc'), 'ImplicitlyDenied'],
    [DESCRIBE, 'the domain literally named ord*', swfArn('ord*'), 'ImplicitlyDenied'],
  ] as const)('%s on %s is %s', async (action, _why, resource, expected) => {
    // WHEN / THEN
    await expect(verdict(handler, action, resource, 'unvalidated')).resolves.toBe(expected);
  });
});
