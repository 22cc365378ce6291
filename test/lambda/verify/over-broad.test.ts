/**
 * The verifier against over-broad deployments, item by item. A terminator with the three contract policies
 * (cancelling in orders, describing in billing, schedule and event rules) is synthesized in a concrete account
 * and loaded into the fakes of IAM, Lambda and EventBridge as CloudFormation would have created it
 * (test/support/verifier-helpers.ts, loadDeployment). The verifier, as deployed (lambda/verify/run.ts, the real
 * SDK clients), passes it as it is; then each row adds one over-broad grant (to a role, a trust, a function's
 * policy, the bus's policy) and the run must fail, naming that grant: whose policy, which policy, the
 * statement's position, the action and the resource. Every grant it refuses is one the row added.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { VerifyConfig } from '../../../lambda/verify/checks';
import { LeastPrivilegeViolationError } from '../../../lambda/verify/errors';
import type { Finding } from '../../../lambda/verify/findings';
import type { VerifyReport } from '../../../lambda/verify/report';
import { createVerifyHandler } from '../../../lambda/verify/run';
import type { PolicyDocument } from '../../support/fake-iam';
import { ENV, OTHER_ACCOUNT } from '../../support/iam-simulation';
import { addContractPolicies } from '../../support/policy-helpers';
import { loadDeployment, synthConcrete } from '../../support/verifier-helpers';
import {
  ACCOUNT,
  policy,
  REGION,
  startVerifierFakes,
  swfArns,
  type VerifierFakes,
} from '../../support/verify-fixtures';

// GIVEN the deployment, synthesized once
const { template } = synthConcrete(addContractPolicies);

let fakes: VerifierFakes;
let config: VerifyConfig;

beforeEach(async () => {
  fakes = await startVerifierFakes();
  config = loadDeployment(template, ENV, fakes);
});

afterEach(() => fakes.close());

/** One run of the verifier as deployed, without its settle waits. */
async function verify(): Promise<{ report?: VerifyReport; error?: unknown }> {
  const handler = createVerifyHandler({
    config,
    ...fakes.clients,
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'SwfTerminator', serviceName: 'over-broad' }),
    simulate: { sleep: () => Promise.resolve() },
    settleDelaysMs: [],
  });
  try {
    return { report: await handler({}, { awsRequestId: 'over-broad' }) };
  } catch (error: unknown) {
    return { error };
  }
}

/** `value` with its placeholders, "BUS" and "DLQ", made the deployment's bus and queue ARNs. */
function placed<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value)
      .replaceAll('"BUS"', JSON.stringify(config.eventBusArn))
      .replaceAll('"DLQ"', JSON.stringify(config.deadLetterQueueArn)),
  ) as T;
}

/** An inline policy of one statement, on the role of `kind`. */
const inline =
  (kind: 'handler' | 'control' | 'stateMachine', statement: Record<string, unknown>, name = 'Extra') =>
  (): void => {
    const arn = {
      handler: config.handlerRoleArn,
      control: config.controlRoleArn,
      stateMachine: config.stateMachineRoleArn,
    }[kind];
    fakes.iam.addPolicy(arn!, policy(name, placed(statement)));
  };
const allow = (
  Action: string | string[],
  Resource: string | string[],
  more: Record<string, unknown> = {},
) => ({
  Effect: 'Allow',
  Action,
  Resource,
  ...more,
});
/** An AWS managed policy attached to the handler's role. */
const awsManaged = (name: string, document: PolicyDocument) => (): void => {
  fakes.iam.addPolicy(config.handlerRoleArn, { name, document, type: 'aws-managed' });
};
/** A statement added to a function's policy (or its version's or alias's). */
const permission =
  (
    fn: 'handler' | 'control',
    statement: Record<string, unknown>,
    qualifier?: ['version' | 'alias', string],
  ) =>
  (): void => {
    const arn = fn === 'handler' ? config.handlerFunctionArn : config.controlFunctionArn!;
    if (qualifier !== undefined) fakes.lambda.addQualifier(arn, ...qualifier);
    fakes.lambda.addStatement(
      arn,
      { Sid: 'Added', Effect: 'Allow', Resource: arn, ...statement },
      qualifier?.[1],
    );
  };
const invokeBy = (principal: unknown, more: Record<string, unknown> = {}) => ({
  Principal: principal,
  Action: 'lambda:InvokeFunction',
  ...more,
});
const trust = (kind: 'handler' | 'stateMachine', Principal: unknown) => (): void => {
  const arn = kind === 'handler' ? config.handlerRoleArn : config.stateMachineRoleArn!;
  const service = kind === 'handler' ? 'lambda.amazonaws.com' : 'states.amazonaws.com';
  fakes.iam.setTrust(arn, {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' },
      { Effect: 'Allow', Principal, Action: 'sts:AssumeRole' },
    ],
  });
};
const busStatement = (statement: Record<string, unknown>) => (): void => {
  fakes.events.addStatement(config.eventBusArn, { Sid: 'Added', Effect: 'Allow', ...placed(statement) });
};

const ORDERS = swfArns('orders');
const ADMINISTRATOR_ACCESS: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
};
// AWS's PowerUserAccess as published: everything but IAM, Organizations and Account, plus a few of those.
const POWER_USER_ACCESS: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', NotAction: ['iam:*', 'organizations:*', 'account:*'], Resource: '*' },
    {
      Effect: 'Allow',
      Action: [
        'account:GetAccountInformation',
        'account:GetPrimaryEmail',
        'account:ListRegions',
        'iam:CreateServiceLinkedRole',
        'iam:DeleteServiceLinkedRole',
        'iam:ListRoles',
        'organizations:DescribeOrganization',
      ],
      Resource: '*',
    },
  ],
};

const HANDLER = "the terminating function's role";
const rule = (name: string) => `arn:aws:events:${REGION}:${ACCOUNT}:rule/${name}`;

/** A row: what is added, and a grant the run must refuse for it (every refused grant matches `where`). */
type Row = [string, () => void, Partial<Finding> & { subject: string; policy: string }];

const ROWS: Row[] = [
  [
    'states:* on * (handler)',
    inline('handler', allow('states:*', '*')),
    { subject: HANDLER, policy: 'inline policy "Extra"', statement: 1, action: 'states:*', resource: '*' },
  ],
  [
    'iam:PutRolePolicy and iam:AttachRolePolicy on * (the role could grant itself anything)',
    inline('handler', allow(['iam:PutRolePolicy', 'iam:AttachRolePolicy'], '*')),
    { subject: HANDLER, policy: 'inline policy "Extra"', action: 'iam:AttachRolePolicy', resource: '*' },
  ],
  [
    'logs:DeleteLogGroup on * (erases the record of what was terminated)',
    inline('handler', allow('logs:DeleteLogGroup', '*')),
    { subject: HANDLER, policy: 'inline policy "Extra"', action: 'logs:DeleteLogGroup', resource: '*' },
  ],
  [
    'an Allow with NotAction [swf:*, the probed actions] on *',
    inline('handler', {
      Effect: 'Allow',
      NotAction: ['swf:*', 'iam:PassRole', 'sts:AssumeRole', 's3:GetObject', 'lambda:InvokeFunction'],
      Resource: '*',
    }),
    {
      subject: HANDLER,
      policy: 'inline policy "Extra"',
      statement: 1,
      action: 'NotAction swf:*, iam:PassRole, sts:AssumeRole, s3:GetObject, lambda:InvokeFunction',
      resource: '*',
    },
  ],
  [
    'AdministratorAccess attached',
    awsManaged('AdministratorAccess', ADMINISTRATOR_ACCESS),
    {
      subject: HANDLER,
      policy: 'managed policy arn:aws:iam::aws:policy/AdministratorAccess (version v1)',
      statement: 1,
      action: '*',
      resource: '*',
    },
  ],
  [
    'PowerUserAccess attached',
    awsManaged('PowerUserAccess', POWER_USER_ACCESS),
    {
      subject: HANDLER,
      policy: 'managed policy arn:aws:iam::aws:policy/PowerUserAccess (version v1)',
      statement: 1,
      action: 'NotAction iam:*, organizations:*, account:*',
    },
  ],
  [
    'swf:* on *',
    inline('handler', allow('swf:*', '*')),
    { subject: HANDLER, policy: 'inline policy "Extra"', action: 'swf:*', resource: '*' },
  ],
  [
    'swf:TerminateWorkflowExecution on arn:aws:swf:*:*:/domain/*',
    inline('handler', allow('swf:TerminateWorkflowExecution', 'arn:aws:swf:*:*:/domain/*')),
    {
      subject: HANDLER,
      policy: 'inline policy "Extra"',
      action: 'swf:TerminateWorkflowExecution',
      resource: 'arn:aws:swf:*:*:/domain/*',
    },
  ],
  [
    'lambda:AddPermission on *',
    inline('handler', allow('lambda:AddPermission', '*')),
    { subject: HANDLER, policy: 'inline policy "Extra"', action: 'lambda:AddPermission', resource: '*' },
  ],
  [
    'a permission on the terminating function for principal *',
    permission('handler', invokeBy('*')),
    { subject: 'the terminating function', policy: 'resource-based policy', principal: '*' },
  ],
  [
    'a bus policy open to another account',
    busStatement({
      Principal: { AWS: `arn:aws:iam::${OTHER_ACCOUNT}:root` },
      Action: 'events:PutEvents',
      Resource: 'BUS',
    }),
    {
      subject: 'the request bus',
      policy: 'resource-based policy',
      statement: 1,
      action: 'events:PutEvents',
      principal: `AWS: arn:aws:iam::${OTHER_ACCOUNT}:root`,
    },
  ],
  [
    'a bus policy open to every principal of an organization',
    busStatement({
      Principal: '*',
      Action: 'events:PutEvents',
      Resource: 'BUS',
      Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123' } },
    }),
    { subject: 'the request bus', policy: 'resource-based policy', principal: '*' },
  ],
  [
    'swf:Terminate* (a wildcard action) on a chosen domain',
    inline('handler', allow('swf:Terminate*', ORDERS[0]!)),
    { subject: HANDLER, policy: 'inline policy "Extra"', action: 'swf:Terminate*', resource: ORDERS[0] },
  ],
  [
    'swf:TerminateWorkflowExecution on a domain nobody chose',
    inline('handler', allow('swf:TerminateWorkflowExecution', swfArns('payments'))),
    {
      subject: HANDLER,
      policy: 'inline policy "Extra"',
      action: 'swf:TerminateWorkflowExecution',
      resource: swfArns('payments')[0],
    },
  ],
  [
    'swf:TerminateWorkflowExecution on a chosen domain in another region',
    inline('handler', allow('swf:TerminateWorkflowExecution', ORDERS[0]!.replace(REGION, 'us-east-1'))),
    { subject: HANDLER, policy: 'inline policy "Extra"', resource: ORDERS[0]!.replace(REGION, 'us-east-1') },
  ],
  [
    'swf:TerminateWorkflowExecution on every domain starting with "ord"',
    inline('handler', allow('swf:TerminateWorkflowExecution', `arn:aws:swf::${ACCOUNT}:/domain/ord*`)),
    { subject: HANDLER, policy: 'inline policy "Extra"', resource: `arn:aws:swf::${ACCOUNT}:/domain/ord*` },
  ],
  [
    'swf:RequestCancelWorkflowExecution where cancelling is not chosen (billing)',
    inline('handler', allow('swf:RequestCancelWorkflowExecution', swfArns('billing'))),
    {
      subject: HANDLER,
      policy: 'inline policy "Extra"',
      action: 'swf:RequestCancelWorkflowExecution',
      resource: swfArns('billing')[0],
    },
  ],
  [
    'swf:SignalWorkflowExecution on a chosen domain',
    inline('handler', allow('swf:SignalWorkflowExecution', ORDERS)),
    { subject: HANDLER, policy: 'inline policy "Extra"', action: 'swf:SignalWorkflowExecution' },
  ],
  [
    'states:StartExecution on another state machine',
    inline(
      'handler',
      allow('states:StartExecution', `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:Payroll`),
    ),
    {
      subject: HANDLER,
      policy: 'inline policy "Extra"',
      action: 'states:StartExecution',
      resource: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:Payroll`,
    },
  ],
  [
    'states:StopExecution on every execution of the account',
    inline('handler', allow('states:StopExecution', `arn:aws:states:${REGION}:${ACCOUNT}:execution:*`)),
    { subject: HANDLER, policy: 'inline policy "Extra"', action: 'states:StopExecution' },
  ],
  [
    'logs:FilterLogEvents on * (reads every log of the account)',
    inline('handler', allow('logs:FilterLogEvents', '*')),
    { subject: HANDLER, policy: 'inline policy "Extra"', action: 'logs:FilterLogEvents', resource: '*' },
  ],
  [
    'sqs:PurgeQueue on its own dead-letter queue (loses kept requests)',
    inline('handler', allow('sqs:PurgeQueue', 'DLQ')),
    { subject: HANDLER, policy: 'inline policy "Extra"', action: 'sqs:PurgeQueue' },
  ],
  [
    "an account's managed policy (s3:GetObject on *) attached",
    () => {
      fakes.iam.addPolicy(config.handlerRoleArn, {
        ...policy('ReadBuckets', allow('s3:GetObject', '*')),
        type: 'user-managed',
      });
    },
    {
      subject: HANDLER,
      policy: `managed policy arn:aws:iam::${ACCOUNT}:policy/ReadBuckets (version v1)`,
      action: 's3:GetObject',
    },
  ],
  [
    'a managed policy whose default version (v2) is broad, its v1 clean',
    () => {
      fakes.iam.addPolicy(config.handlerRoleArn, {
        ...policy('Drifted', allow('swf:*', ORDERS)),
        type: 'user-managed',
        olderVersion: policy('Drifted', allow('swf:TerminateWorkflowExecution', ORDERS)).document,
      });
    },
    {
      subject: HANDLER,
      policy: `managed policy arn:aws:iam::${ACCOUNT}:policy/Drifted (version v2)`,
      action: 'swf:*',
    },
  ],
  [
    'swf:* on * under a tag condition',
    inline(
      'handler',
      allow('swf:*', '*', { Condition: { StringEquals: { 'aws:ResourceTag/team': 'ops' } } }),
    ),
    { subject: HANDLER, policy: 'inline policy "Extra"', action: 'swf:*', resource: '*' },
  ],
  [
    'an Allow with NotResource',
    inline('handler', {
      Effect: 'Allow',
      Action: 'swf:TerminateWorkflowExecution',
      NotResource: swfArns('payments'),
    }),
    { subject: HANDLER, policy: 'inline policy "Extra"', action: 'swf:TerminateWorkflowExecution' },
  ],
  [
    'iam:PassRole on *',
    inline('handler', allow('iam:PassRole', '*')),
    { subject: HANDLER, policy: 'inline policy "Extra"', action: 'iam:PassRole', resource: '*' },
  ],
  [
    'sts:AssumeRole on *',
    inline('handler', allow('sts:AssumeRole', '*')),
    { subject: HANDLER, policy: 'inline policy "Extra"', action: 'sts:AssumeRole', resource: '*' },
  ],
  [
    "swf:TerminateWorkflowExecution on a chosen domain, to the control function's role (it has no SWF)",
    inline('control', allow('swf:TerminateWorkflowExecution', ORDERS)),
    {
      subject: "the control function's role",
      policy: 'inline policy "Extra"',
      action: 'swf:TerminateWorkflowExecution',
      resource: ORDERS[0],
    },
  ],
  [
    "lambda:InvokeFunction on * to the state machine's role",
    inline('stateMachine', allow('lambda:InvokeFunction', '*')),
    {
      subject: "the state machine's role",
      policy: 'inline policy "Extra"',
      action: 'lambda:InvokeFunction',
      resource: '*',
    },
  ],
  [
    "another account may assume the terminating function's role",
    trust('handler', { AWS: `arn:aws:iam::${OTHER_ACCOUNT}:root` }),
    {
      subject: HANDLER,
      policy: 'trust policy',
      statement: 2,
      principal: `AWS: arn:aws:iam::${OTHER_ACCOUNT}:root`,
    },
  ],
  [
    "any principal may assume the state machine's role",
    trust('stateMachine', { AWS: '*' }),
    { subject: "the state machine's role", policy: 'trust policy', statement: 2, principal: 'AWS: *' },
  ],
  [
    'EventBridge may invoke the terminating function without a SourceArn (any rule of any account)',
    permission('handler', invokeBy({ Service: 'events.amazonaws.com' })),
    {
      subject: 'the terminating function',
      policy: 'resource-based policy',
      principal: 'Service: events.amazonaws.com',
    },
  ],
  [
    "EventBridge may invoke the terminating function for a rule that is not the construct's",
    permission(
      'handler',
      invokeBy(
        { Service: 'events.amazonaws.com' },
        { Condition: { ArnLike: { 'AWS:SourceArn': rule('Anything') } } },
      ),
    ),
    {
      subject: 'the terminating function',
      policy: 'resource-based policy',
      principal: 'Service: events.amazonaws.com',
    },
  ],
  [
    "EventBridge may invoke it for any rule matching a pattern that covers the construct's",
    permission(
      'handler',
      invokeBy(
        { Service: 'events.amazonaws.com' },
        { Condition: { ArnLike: { 'AWS:SourceArn': rule('*') } } },
      ),
    ),
    { subject: 'the terminating function', policy: 'resource-based policy' },
  ],
  [
    'a published version of the terminating function another account may invoke',
    permission('handler', invokeBy({ AWS: `arn:aws:iam::${OTHER_ACCOUNT}:root` }), ['version', '1']),
    {
      subject: '(version 1)',
      policy: 'resource-based policy',
      principal: `AWS: arn:aws:iam::${OTHER_ACCOUNT}:root`,
    },
  ],
  [
    'an alias of the terminating function with a public function URL',
    permission(
      'handler',
      invokeBy('*', {
        Action: 'lambda:InvokeFunctionUrl',
        Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'NONE' } },
      }),
      ['alias', 'live'],
    ),
    {
      subject: '(alias live)',
      policy: 'resource-based policy',
      action: 'lambda:InvokeFunctionUrl',
      principal: '*',
    },
  ],
  [
    'another account may invoke the control function (stop or read any job)',
    permission('control', invokeBy({ AWS: `arn:aws:iam::${OTHER_ACCOUNT}:root` })),
    { subject: 'the control function', policy: 'resource-based policy' },
  ],
];

test('the clean deployment passes: nothing refused, every check as expected', async () => {
  const { report, error } = await verify();

  expect(error).toBeUndefined();
  expect(report?.findings).toEqual([]);
  expect(report?.failures).toEqual([]);
  expect(report?.ok).toBe(true);
});

test(`the table has at least 25 over-broad additions (${ROWS.length})`, () => {
  expect(ROWS.length).toBeGreaterThanOrEqual(25);
});

test.each(ROWS)('refused: %s', async (_what, add, where) => {
  // GIVEN the deployment with one over-broad addition (placeholders: the bus, the queue)
  add();

  // WHEN
  const { report, error } = await verify();

  // THEN the run fails, naming the addition; every grant it refuses is in what was added
  expect(report).toBeUndefined();
  expect(error).toBeInstanceOf(LeastPrivilegeViolationError);
  const { findings } = (error as LeastPrivilegeViolationError).report;
  const { subject, ...rest } = where;
  const named = findings.filter((f) => f.subject.includes(subject));
  expect(named).toContainEqual(expect.objectContaining(placed(rest)));
  expect(findings.every((f) => f.subject.includes(subject) && f.policy === where.policy)).toBe(true);
  expect((error as Error).message).toContain(findings[0]!.message.slice(0, 200));
});
