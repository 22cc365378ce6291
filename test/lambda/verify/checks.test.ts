/**
 * The checks the verifier asks IAM about, per role: what must be allowed, and where a stray grant would leak.
 */
import { buildChecks, type Check, lookAlikes, type VerifyConfig } from '../../../lambda/verify/checks';
import { ALL_SWF_ACTIONS } from '../../../lambda/verify/swf-actions';
import { ACCOUNT, REGION, RESTORE, roleArn, verifyConfig } from '../../support/verify-fixtures';

const CONFIG: VerifyConfig = verifyConfig({
  handlerRoleArn: roleArn('Handler'),
  controlRoleArn: roleArn('Control'),
  stateMachineRoleArn: roleArn('Jobs'),
  handlerFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Handler`,
});
const regional = (domain: string, region = REGION) => `arn:aws:swf:${region}:${ACCOUNT}:/domain/${domain}`;
const global = (domain: string) => `arn:aws:swf::${ACCOUNT}:/domain/${domain}`;
const TERMINATE = [
  'swf:TerminateWorkflowExecution',
  'swf:ListOpenWorkflowExecutions',
  'swf:CountOpenWorkflowExecutions',
];
const NON_SWF = ['iam:PassRole', 'sts:AssumeRole', 's3:GetObject'];

const of = (checks: Check[], role: Check['role']) => checks.filter((c) => c.role === role);
const find = (checks: Check[], role: Check['role'], action: string, resource: string) =>
  checks.find((c) => c.role === role && c.action === action && c.resource === resource);
const expectation = (checks: Check[], role: Check['role'], action: string, resource: string) =>
  find(checks, role, action, resource)?.expected;

describe('the checks of a 2-domain deployment', () => {
  const checks = buildChecks(CONFIG);

  test('count: handler 414 (12 allowed), control 314 (none allowed), state machine 314 (1 allowed)', () => {
    const tally = (role: Check['role']) => {
      const mine = of(checks, role);
      return [mine.length, mine.filter((c) => c.expected === 'allowed').length];
    };
    expect([tally('handler'), tally('control'), tally('stateMachine')]).toEqual([
      [414, 12],
      [314, 0],
      [314, 1],
    ]);
  });

  test('each role, action and resource is asked once', () => {
    const keys = checks.map((c) => `${c.roleArn} ${c.action} ${c.resource}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  test('the handler is allowed exactly terminate, list and count, on each chosen domain in both ARN forms', () => {
    const allowed = of(checks, 'handler').filter((c) => c.expected === 'allowed');
    expect(allowed.map((c) => [c.action, c.resource]).sort()).toEqual(
      CONFIG.domains
        .flatMap((d) =>
          TERMINATE.flatMap((a) => [
            [a, regional(d)],
            [a, global(d)],
          ]),
        )
        .sort(),
    );
  });

  test.each([
    ['orders2', 'one more character'],
    ['order', 'one character fewer'],
    ['orders/x', 'a path under it'],
    ['orders-prod', 'a suffix'],
    ['swf-terminator-verify-canary', 'a domain that was not chosen'],
  ])(
    'the handler is denied terminate, list, count, cancel and describe on %s (%s), both forms',
    (name, why) => {
      for (const action of [
        ...TERMINATE,
        'swf:RequestCancelWorkflowExecution',
        'swf:DescribeWorkflowExecution',
      ]) {
        for (const resource of [regional(name), global(name)]) {
          expect(find(checks, 'handler', action, resource)).toMatchObject({ expected: 'denied' });
          expect(find(checks, 'handler', action, resource)?.why).toContain(why);
        }
      }
    },
  );

  test('the handler is denied a chosen domain in another region', () => {
    expect(expectation(checks, 'handler', TERMINATE[0]!, regional('orders', 'us-east-1'))).toBe('denied');
  });

  test.each([
    'swf:StartWorkflowExecution',
    'swf:SignalWorkflowExecution',
    'swf:RegisterWorkflowType',
    'swf:RegisterActivityType',
    'swf:DeprecateDomain',
    'swf:UndeprecateWorkflowType',
    'swf:TagResource',
    'swf:UntagResource',
    'swf:RespondDecisionTaskCompleted',
    'swf:RespondActivityTaskFailed',
    'swf:RecordActivityTaskHeartbeat',
    'swf:PollForDecisionTask',
    'swf:PollForActivityTask',
    'swf:RequestCancelWorkflowExecution',
    'swf:DescribeWorkflowExecution',
    'swf:GetWorkflowExecutionHistory',
  ])('every other SWF action is denied to the handler on the chosen domains: %s', (action) => {
    for (const domain of CONFIG.domains) {
      expect(expectation(checks, 'handler', action, regional(domain))).toBe('denied');
      expect(expectation(checks, 'handler', action, global(domain))).toBe('denied');
    }
  });

  test('"*"-only actions are checked on "*", not on a domain', () => {
    expect(expectation(checks, 'handler', 'swf:RegisterDomain', '*')).toBe('denied');
    expect(find(checks, 'handler', 'swf:RegisterDomain', global('orders'))).toBeUndefined();
  });

  test.each(['handler', 'control', 'stateMachine'] as const)(
    'the %s role is denied every SWF action and iam:PassRole, sts:AssumeRole, s3:GetObject on "*"',
    (role) => {
      for (const action of [...ALL_SWF_ACTIONS, ...NON_SWF]) {
        expect(expectation(checks, role, action, '*')).toBe('denied');
      }
    },
  );

  test('the control role is denied every SWF action on the chosen domains, and allowed nothing', () => {
    const control = of(checks, 'control');
    const onDomains = control.filter((c) => c.action.startsWith('swf:') && c.resource !== '*');
    expect(onDomains).toHaveLength(49 * 2 * 2);
    expect(expectation(checks, 'control', 'swf:TerminateWorkflowExecution', global('orders'))).toBe('denied');
    expect(control.every((c) => c.expected === 'denied')).toBe(true);
  });

  test('the state machine role may invoke the handler alone', () => {
    const allowed = of(checks, 'stateMachine').filter((c) => c.expected === 'allowed');
    expect(allowed.map((c) => [c.action, c.resource])).toEqual([
      ['lambda:InvokeFunction', CONFIG.handlerFunctionArn],
    ]);
    const canary = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:swf-terminator-verify-canary`;
    expect(expectation(checks, 'stateMachine', 'lambda:InvokeFunction', canary)).toBe('denied');
    expect(expectation(checks, 'stateMachine', 'swf:TerminateWorkflowExecution', regional('orders'))).toBe(
      'denied',
    );
    expect(expectation(checks, 'handler', 'lambda:InvokeFunction', CONFIG.handlerFunctionArn)).toBe('denied');
  });
});

describe('what the configuration changes', () => {
  test('cancel and describe are allowed only on the domains chosen for them', () => {
    const checks = buildChecks({ ...CONFIG, cancelDomains: ['orders'], describeDomains: ['billing'] });
    const cancel = 'swf:RequestCancelWorkflowExecution';
    const describe = 'swf:DescribeWorkflowExecution';

    expect(expectation(checks, 'handler', cancel, regional('orders'))).toBe('allowed');
    expect(expectation(checks, 'handler', cancel, global('orders'))).toBe('allowed');
    expect(find(checks, 'handler', cancel, global('billing'))).toMatchObject({
      expected: 'denied',
      why: 'granted only where cancelling is chosen, and it is not chosen here; chosen domain "billing", ARN without region',
    });
    expect(expectation(checks, 'handler', describe, regional('billing'))).toBe('allowed');
    expect(expectation(checks, 'handler', describe, regional('orders'))).toBe('denied');
    expect(expectation(checks, 'control', cancel, regional('orders'))).toBe('denied');
  });

  test('a look-alike that is itself chosen is allowed, not denied', () => {
    const checks = buildChecks({ ...CONFIG, domains: ['orders', 'orders2'] });

    expect(lookAlikes('orders', ['orders', 'orders2']).map((l) => l.name)).not.toContain('orders2');
    expect(expectation(checks, 'handler', TERMINATE[0]!, global('orders2'))).toBe('allowed');
  });

  test('domains named with *, ? and $ are checked as literal ARNs', () => {
    const checks = buildChecks({ ...CONFIG, domains: ['ord*', 'a?c', 'x$y'] });

    expect(expectation(checks, 'handler', TERMINATE[0]!, regional('ord*'))).toBe('allowed');
    expect(expectation(checks, 'handler', TERMINATE[0]!, global('a?c'))).toBe('allowed');
    expect(expectation(checks, 'handler', TERMINATE[0]!, global('x$y'))).toBe('allowed');
    expect(expectation(checks, 'handler', TERMINATE[0]!, global('ord*2'))).toBe('denied');
    expect(expectation(checks, 'handler', TERMINATE[0]!, global('ord'))).toBe('denied');
    expect(checks.some((c) => c.resource.includes('${'))).toBe(false);
  });

  test('without the control and state machine roles, only the handler is checked', () => {
    const checks = buildChecks({ ...CONFIG, controlRoleArn: undefined, stateMachineRoleArn: undefined });

    expect(new Set(checks.map((c) => c.role))).toEqual(new Set(['handler']));
  });

  test('the partition and account are those of the configuration', () => {
    const checks = buildChecks({ ...CONFIG, partition: 'aws-cn', domains: ['orders'] });

    expect(expectation(checks, 'handler', TERMINATE[0]!, `arn:aws-cn:swf::${ACCOUNT}:/domain/orders`)).toBe(
      'allowed',
    );
  });
});

describe('with restore (allowRestore)', () => {
  const config = verifyConfig({ ...CONFIG, restore: RESTORE });
  const checks = buildChecks(config);
  const [LAMBDA_ROLE] = RESTORE.lambdaRoles;
  const RESTORE_ACTIONS = [
    'swf:GetWorkflowExecutionHistory',
    'swf:ListClosedWorkflowExecutions',
    'swf:ListOpenWorkflowExecutions',
    'swf:StartWorkflowExecution',
  ];
  const TO_SWF = { 'iam:PassedToService': 'swf.amazonaws.com' };

  test("the other roles' checks are those without restore, and a few more: the state machine may invoke restore; no other role may, nor pass its Lambda roles", () => {
    const without = buildChecks(CONFIG);
    const key = (c: Check) => `${c.roleArn} ${c.action} ${c.resource} ${c.expected}`;
    const added = checks.filter((c) => c.role !== 'restore' && !without.map(key).includes(key(c)));
    expect(without.every((c) => checks.map(key).includes(key(c)))).toBe(true);
    const fnProbes = [
      'lambda:UpdateFunctionCode',
      'lambda:UpdateFunctionConfiguration',
      'lambda:AddPermission',
      'lambda:DeleteFunction',
    ];
    expect(added.map((c) => [c.role, c.action, c.resource, c.expected]).sort()).toEqual(
      [
        ['stateMachine', 'lambda:InvokeFunction', RESTORE.functionArn, 'allowed'],
        ['handler', 'iam:PassRole', LAMBDA_ROLE, 'denied'],
        ['control', 'iam:PassRole', LAMBDA_ROLE, 'denied'],
        ['stateMachine', 'iam:PassRole', LAMBDA_ROLE, 'denied'],
        ['handler', 'lambda:InvokeFunction', RESTORE.functionArn, 'denied'],
        ['control', 'lambda:InvokeFunction', RESTORE.functionArn, 'denied'],
        // the high-risk probes of the terminator's functions reach restore's too
        ...(['handler', 'control', 'stateMachine'] as const).flatMap((role) =>
          fnProbes.map((action) => [role, action, RESTORE.functionArn, 'denied']),
        ),
      ].sort(),
    );
  });

  test("restore's role is allowed exactly restore's four SWF actions on each chosen domain in both ARN forms, and passing its Lambda role to SWF", () => {
    const allowed = of(checks, 'restore').filter((c) => c.expected === 'allowed');
    expect(allowed.map((c) => [c.action, c.resource]).sort()).toEqual(
      [
        ...CONFIG.domains.flatMap((d) =>
          RESTORE_ACTIONS.flatMap((a) => [
            [a, regional(d)],
            [a, global(d)],
          ]),
        ),
        ['iam:PassRole', LAMBDA_ROLE],
      ].sort(),
    );
    expect(find(checks, 'restore', 'iam:PassRole', LAMBDA_ROLE)?.context).toEqual(TO_SWF);
  });

  test('restore\'s role is denied every other SWF action on the chosen domains (terminating first), restore\'s actions elsewhere, and SWF on "*"', () => {
    for (const domain of CONFIG.domains) {
      for (const resource of [regional(domain), global(domain)]) {
        const onDomain = of(checks, 'restore').filter(
          (c) => c.resource === resource && c.action.startsWith('swf:'),
        );
        expect(onDomain).toHaveLength(49);
        expect(onDomain.filter((c) => c.expected === 'denied')).toHaveLength(45);
      }
    }
    expect(expectation(checks, 'restore', 'swf:TerminateWorkflowExecution', global('orders'))).toBe('denied');
    for (const action of RESTORE_ACTIONS) {
      expect(expectation(checks, 'restore', action, global('swf-terminator-verify-canary'))).toBe('denied');
      expect(expectation(checks, 'restore', action, global('orders2'))).toBe('denied');
      expect(expectation(checks, 'restore', action, regional('orders', 'us-east-1'))).toBe('denied');
    }
    for (const action of ALL_SWF_ACTIONS) expect(expectation(checks, 'restore', action, '*')).toBe('denied');
  });

  test('each iam:PassRole question of restore is asked as passing to SWF (where its grant applies); its Lambda role passed to Lambda is denied', () => {
    const passRole = of(checks, 'restore').filter((c) => c.action === 'iam:PassRole');
    expect(passRole.map((c) => [c.resource, c.expected, c.context]).sort()).toEqual(
      [
        [LAMBDA_ROLE, 'allowed', TO_SWF],
        [LAMBDA_ROLE, 'denied', { 'iam:PassedToService': 'lambda.amazonaws.com' }],
        ['*', 'denied', TO_SWF],
        [roleArn('swf-terminator-verify-canary'), 'denied', TO_SWF],
        ...[roleArn('Handler'), roleArn('Control'), roleArn('Jobs'), RESTORE.roleArn].map((r) => [
          r,
          'denied',
          TO_SWF,
        ]),
      ].sort(),
    );
    // No other check carries a context
    expect(checks.filter((c) => c.context !== undefined && c.action !== 'iam:PassRole')).toEqual([]);
  });

  test("restore's role gets the high-risk probes, on its own role and every function of the terminator", () => {
    expect(expectation(checks, 'restore', 'iam:PutRolePolicy', RESTORE.roleArn)).toBe('denied');
    expect(expectation(checks, 'restore', 'lambda:AddPermission', RESTORE.functionArn)).toBe('denied');
    expect(expectation(checks, 'restore', 'lambda:UpdateFunctionCode', CONFIG.handlerFunctionArn)).toBe(
      'denied',
    );
    expect(expectation(checks, 'restore', 'states:StopExecution', '*')).toBe('denied');
    expect(expectation(checks, 'restore', 'lambda:InvokeFunction', RESTORE.functionArn)).toBe('denied');
  });

  test('each role, action, resource and context is asked once', () => {
    const keys = checks.map((c) => `${c.roleArn} ${c.action} ${c.resource} ${JSON.stringify(c.context)}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  test('without Lambda roles: restore may pass no role at all', () => {
    const none = buildChecks(verifyConfig({ ...CONFIG, restore: { ...RESTORE, lambdaRoles: [] } }));
    expect(
      of(none, 'restore').filter((c) => c.action === 'iam:PassRole' && c.expected === 'allowed'),
    ).toEqual([]);
    expect(expectation(none, 'restore', 'iam:PassRole', '*')).toBe('denied');
  });
});
