/**
 * The enumeration's judgements, pure (lambda/verify/audit-roles.ts, audit-invokers.ts): what lies inside what
 * the construct grants and wired passes, and each way out is refused with the statement, action, resource and
 * principal named. The end-to-end table is test/lambda/verify/over-broad.test.ts.
 */
import { restoreGrants, roleGrants } from '../../../lib/role-grants';
import {
  auditBusPolicy,
  auditFunctionPolicy,
  auditRestoreFunctionPolicy,
} from '../../../lambda/verify/audit-invokers';
import { auditRole } from '../../../lambda/verify/audit-roles';
import { readDocument } from '../../../lambda/verify/policy-document';
import {
  cleanPolicies,
  cleanRestorePolicies,
  RESTORE,
  roleArn,
  verifyConfig,
} from '../../support/verify-fixtures';

const CONFIG = verifyConfig({ cancelDomains: ['orders'] });
const GRANTS = roleGrants(CONFIG);
const doc = (...Statement: Record<string, unknown>[]) => readDocument(JSON.stringify({ Statement }));
const LAMBDA_TRUST = doc({
  Effect: 'Allow',
  Principal: { Service: 'lambda.amazonaws.com' },
  Action: 'sts:AssumeRole',
});
const audit = (policies: { policy: string; document: ReturnType<typeof doc> }[], trust = LAMBDA_TRUST) =>
  auditRole(
    'handler',
    { roleArn: CONFIG.handlerRoleArn, trust, policies },
    GRANTS.handler,
    'lambda.amazonaws.com',
  );
const EXECUTION = `${CONFIG.stateMachineArn.replace(':stateMachine:', ':execution:')}:job-1`;

describe("a role's policies", () => {
  test("the construct's own statements (written out by hand) are inside", () => {
    const [clean] = cleanPolicies(CONFIG).handler;
    expect(
      audit([{ policy: 'inline policy "Default"', document: readDocument(JSON.stringify(clean!.document)) }]),
    ).toEqual([]);
  });

  test('narrower is inside: one execution, an action in another case, a condition, and Deny statements', () => {
    const findings = audit([
      {
        policy: 'inline policy "Narrow"',
        document: doc(
          { Effect: 'Allow', Action: 'states:stopexecution', Resource: EXECUTION },
          {
            Effect: 'Allow',
            Action: 'swf:TerminateWorkflowExecution',
            Resource: `arn:aws:swf::${CONFIG.account}:/domain/orders`,
            Condition: { Bool: { 'aws:SecureTransport': 'true' } },
          },
          { Effect: 'Deny', Action: '*', Resource: '*' },
        ),
      },
    ]);
    expect(findings).toEqual([]);
  });

  test('each (action, resource) outside is one finding, the statement named by position and Sid', () => {
    const findings = audit([
      {
        policy: 'inline policy "Wide"',
        document: doc(
          { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: CONFIG.deadLetterQueueArn },
          {
            Sid: 'TooMuch',
            Effect: 'Allow',
            Action: ['swf:RequestCancelWorkflowExecution', 'swf:StartWorkflowExecution'],
            Resource: `arn:aws:swf::${CONFIG.account}:/domain/billing`,
          },
        ),
      },
    ]);
    expect(findings.map((f) => [f.statement, f.sid, f.action, f.resource])).toEqual([
      [2, 'TooMuch', 'swf:RequestCancelWorkflowExecution', `arn:aws:swf::${CONFIG.account}:/domain/billing`],
      [2, 'TooMuch', 'swf:StartWorkflowExecution', `arn:aws:swf::${CONFIG.account}:/domain/billing`],
    ]);
    expect(findings[0]!.why).toBe(
      'the construct grants swf:RequestCancelWorkflowExecution only on ' +
        `arn:aws:swf:${CONFIG.region}:${CONFIG.account}:/domain/orders, arn:aws:swf::${CONFIG.account}:/domain/orders, ` +
        'and this resource reaches beyond them',
    );
    expect(findings[1]!.why).toBe('the construct grants this role no swf:StartWorkflowExecution');
    expect(findings[1]!.message).toBe(
      `the terminating function's role ${CONFIG.handlerRoleArn}: inline policy "Wide", statement 2 (Sid "TooMuch"): ` +
        `Allow swf:StartWorkflowExecution on arn:aws:swf::${CONFIG.account}:/domain/billing is refused: the ` +
        'construct grants this role no swf:StartWorkflowExecution',
    );
  });

  test('a policy that cannot be read is refused whole, saying why', () => {
    const findings = audit([
      { policy: 'inline policy "Broken"', document: { ok: false, problem: 'its text is not JSON' } },
    ]);
    expect(findings).toEqual([
      expect.objectContaining({
        policy: 'inline policy "Broken"',
        statement: 0,
        why: expect.stringContaining('its text is not JSON'),
      }),
    ]);
  });
});

describe("a role's trust", () => {
  test.each([
    [
      'another service',
      { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
      'Service: ec2.amazonaws.com',
    ],
    [
      'a principal beside the service',
      { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com', AWS: '*' }, Action: 'sts:AssumeRole' },
      'AWS: *',
    ],
    ['everyone', { Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole' }, '*'],
    [
      'NotPrincipal',
      { Effect: 'Allow', NotPrincipal: { AWS: 'arn:aws:iam::1:root' }, Action: 'sts:AssumeRole' },
      'NotPrincipal AWS: arn:aws:iam::1:root',
    ],
  ])('%s may assume it: refused, naming the principal', (_what, statement, principal) => {
    const findings = audit([], doc(statement));
    expect(findings).toEqual([expect.objectContaining({ policy: 'trust policy', statement: 1, principal })]);
  });

  test('more than sts:AssumeRole for the service: refused, naming the action', () => {
    const findings = audit(
      [],
      doc({
        Effect: 'Allow',
        Principal: { Service: 'lambda.amazonaws.com' },
        Action: ['sts:AssumeRole', 'sts:TagSession'],
      }),
    );
    expect(findings.map((f) => f.action)).toEqual(['sts:TagSession']);
  });

  test('a Deny in the trust is not refused', () => {
    const trust = doc(
      { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      {
        Effect: 'Deny',
        Principal: '*',
        Action: 'sts:AssumeRole',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    );
    expect(audit([], trust)).toEqual([]);
  });
});

describe("a function's policy", () => {
  const RULE = `arn:aws:events:${CONFIG.region}:${CONFIG.account}:rule/Bus/Requests`;
  const subject = `the terminating function ${CONFIG.handlerFunctionArn}`;
  const invoke = (condition?: Record<string, unknown>, more: Record<string, unknown> = {}) => ({
    Effect: 'Allow',
    Principal: { Service: 'events.amazonaws.com' },
    Action: 'lambda:InvokeFunction',
    Resource: CONFIG.handlerFunctionArn,
    ...(condition === undefined ? {} : { Condition: condition }),
    ...more,
  });
  const judge = (...statements: Record<string, unknown>[]) =>
    auditFunctionPolicy({ subject, document: doc(...statements) }, [RULE]);

  test("EventBridge for the construct's rule, bound by ArnLike, ArnEquals or StringEquals: inside", () => {
    expect(
      judge(
        invoke({ ArnLike: { 'AWS:SourceArn': RULE } }),
        invoke({ ArnEquals: { 'aws:sourcearn': RULE } }),
        invoke({
          StringEquals: { 'aws:SourceArn': [RULE] },
          StringLike: { 'aws:SourceAccount': CONFIG.account },
        }),
        { Effect: 'Deny', Principal: '*', Action: 'lambda:*' },
      ),
    ).toEqual([]);
  });

  test('no policy at all: nothing to refuse', () => {
    expect(auditFunctionPolicy({ subject }, [RULE])).toEqual([]);
  });

  test.each<[string, Record<string, unknown>, string]>([
    [
      'an ...IfExists operator binds nothing',
      invoke({ ArnLikeIfExists: { 'AWS:SourceArn': RULE } }),
      'no aws:SourceArn condition',
    ],
    [
      'one foreign rule among the values',
      invoke({ ArnLike: { 'AWS:SourceArn': [RULE, `${RULE}2`] } }),
      `its aws:SourceArn ${RULE}2 is not one of the construct's rules`,
    ],
    [
      'a pattern of rules',
      invoke({ ArnLike: { 'AWS:SourceArn': `${RULE.slice(0, -3)}*` } }),
      "is not one of the construct's rules",
    ],
    [
      'another service beside EventBridge',
      invoke(
        { ArnLike: { 'AWS:SourceArn': RULE } },
        { Principal: { Service: ['events.amazonaws.com', 'sns.amazonaws.com'] } },
      ),
      'only EventBridge',
    ],
    [
      'more than invoking',
      invoke({ ArnLike: { 'AWS:SourceArn': RULE } }, { Action: 'lambda:*' }),
      'EventBridge is let take lambda:InvokeFunction only',
    ],
  ])('%s: refused', (_what, statement, why) => {
    const findings = judge(statement);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.why).toContain(why);
    expect(findings[0]).toMatchObject({ subject, policy: 'resource-based policy', statement: 1 });
  });
});

describe("the bus's policy", () => {
  const subject = `the request bus ${CONFIG.eventBusArn}`;

  test('none, or Deny statements only: nothing refused', () => {
    expect(auditBusPolicy({ subject })).toEqual([]);
    expect(
      auditBusPolicy({ subject, document: doc({ Effect: 'Deny', Principal: '*', Action: 'events:*' }) }),
    ).toEqual([]);
  });

  test('any Allow, even to the account itself: refused (grantRequest grants through identity policies only)', () => {
    const findings = auditBusPolicy({
      subject,
      document: doc({
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${CONFIG.account}:root` },
        Action: 'events:PutEvents',
        Resource: CONFIG.eventBusArn,
      }),
    });
    expect(findings).toEqual([
      expect.objectContaining({
        action: 'events:PutEvents',
        resource: CONFIG.eventBusArn,
        principal: `AWS: arn:aws:iam::${CONFIG.account}:root`,
      }),
    ]);
  });
});

describe('restore (allowRestore)', () => {
  const config = verifyConfig({ cancelDomains: ['orders'], restore: RESTORE });
  const grants = restoreGrants(config, RESTORE.lambdaRoles);
  const auditRestore = (...statements: Record<string, unknown>[]) =>
    auditRole(
      'restore',
      {
        roleArn: RESTORE.roleArn,
        trust: LAMBDA_TRUST,
        policies: [{ policy: 'inline policy "Extra"', document: doc(...statements) }],
      },
      grants,
      'lambda.amazonaws.com',
    );

  test("restore's own statements (written out by hand) are inside restore's grants, and the state machine may invoke restore", () => {
    const [clean] = cleanRestorePolicies(config)!;
    expect(auditRestore(...(clean!.document.Statement as Record<string, unknown>[]))).toEqual([]);
    const [machine] = cleanPolicies(config).stateMachine;
    const findings = auditRole(
      'stateMachine',
      {
        roleArn: roleArn('TerminatorJobsRole'),
        trust: LAMBDA_TRUST,
        policies: [
          { policy: 'inline policy "Default"', document: readDocument(JSON.stringify(machine!.document)) },
        ],
      },
      roleGrants(config).stateMachine,
      'lambda.amazonaws.com',
    );
    expect(findings).toEqual([]);
    // Without restore in the configuration, the same invoke of the restore function is refused
    expect(
      auditRole(
        'stateMachine',
        {
          roleArn: roleArn('TerminatorJobsRole'),
          trust: LAMBDA_TRUST,
          policies: [
            { policy: 'inline policy "Default"', document: readDocument(JSON.stringify(machine!.document)) },
          ],
        },
        GRANTS.stateMachine,
        'lambda.amazonaws.com',
      ).map((f) => f.resource),
    ).toEqual([RESTORE.functionArn, `${RESTORE.functionArn}:*`]);
  });

  test.each<[string, Record<string, unknown>, string, string]>([
    [
      'terminating',
      {
        Effect: 'Allow',
        Action: 'swf:TerminateWorkflowExecution',
        Resource: `arn:aws:swf::${CONFIG.account}:/domain/orders`,
      },
      'swf:TerminateWorkflowExecution',
      'the construct grants this role no swf:TerminateWorkflowExecution',
    ],
    [
      'passing a role restoreLambdaRoles does not name',
      { Effect: 'Allow', Action: 'iam:PassRole', Resource: `arn:aws:iam::${CONFIG.account}:role/admin` },
      'iam:PassRole',
      'the construct grants iam:PassRole only on',
    ],
    [
      'stopping its jobs (it may only read them)',
      { Effect: 'Allow', Action: 'states:StopExecution', Resource: EXECUTION },
      'states:StopExecution',
      'the construct grants this role no states:StopExecution',
    ],
  ])("restore's role %s: refused, with the role named", (_what, statement, action, why) => {
    const findings = auditRestore(statement);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ action, subject: `the restore function's role ${RESTORE.roleArn}` });
    expect(findings[0]!.why).toContain(why);
  });

  test("restore's function's policy: none, or Deny only, is fine; any Allow is refused, even to the account or the construct's own rule", () => {
    const subject = `the restore function ${RESTORE.functionArn}`;
    expect(auditRestoreFunctionPolicy({ subject })).toEqual([]);
    expect(
      auditRestoreFunctionPolicy({
        subject,
        document: doc({ Effect: 'Deny', Principal: '*', Action: 'lambda:*' }),
      }),
    ).toEqual([]);
    const findings = auditRestoreFunctionPolicy({
      subject,
      document: doc(
        {
          Sid: 'Account',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${CONFIG.account}:root` },
          Action: 'lambda:InvokeFunction',
          Resource: RESTORE.functionArn,
        },
        {
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'lambda:InvokeFunction',
          Condition: {
            ArnLike: {
              'AWS:SourceArn': `arn:aws:events:${CONFIG.region}:${CONFIG.account}:rule/Bus/Requests`,
            },
          },
        },
      ),
    });
    expect(findings).toEqual([
      expect.objectContaining({
        subject,
        statement: 1,
        sid: 'Account',
        principal: `AWS: arn:aws:iam::${CONFIG.account}:root`,
        resource: RESTORE.functionArn,
      }),
      expect.objectContaining({
        subject,
        statement: 2,
        principal: 'Service: events.amazonaws.com',
        resource: '(the function)',
      }),
    ]);
    expect(findings[0]!.why).toContain('grantOperate');
  });
});
