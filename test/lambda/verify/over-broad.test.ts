/**
 * The verifier against over-broad deployments, item by item. A terminator with the three contract policies
 * (cancelling in orders, describing in billing, schedule and event rules) is synthesized in a concrete account
 * and loaded into the fakes of IAM, Lambda and EventBridge as CloudFormation would have created it
 * (test/support/verifier-helpers.ts, loadDeployment). The verifier, as deployed (lambda/verify/run.ts, the real
 * SDK clients), passes it as it is; then each row adds one over-broad grant (to a role, a trust, a function's
 * policy, the bus's policy) and the run must fail, naming that grant: whose policy, which policy, the
 * statement's position, the action and the resource. Every grant it refuses is one the row added.
 *
 * The same terminator with restore (allowRestore, one Lambda role restored runs may pass) has a fourth role and
 * a fourth function: it passes as it is too (the state machine's invoke of the restore function is expected),
 * and its own rows widen restore's role, its trust, and the restore function's policy.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { executionsOf } from '../../../lib/role-grants';
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

/** The Lambda role restored runs may name (restoreLambdaRoles). */
const LAMBDA_ROLE = `arn:aws:iam::${ACCOUNT}:role/workflow-lambdas`;

// GIVEN the deployment, synthesized once, without restore and with it
const TEMPLATES = {
  plain: synthConcrete(addContractPolicies).template,
  restore: synthConcrete(addContractPolicies, { allowRestore: true, restoreLambdaRoles: [LAMBDA_ROLE] })
    .template,
};
type Deployment = keyof typeof TEMPLATES;

let fakes: VerifierFakes;
let config: VerifyConfig;

beforeEach(async () => {
  fakes = await startVerifierFakes();
});

/** Loads the deployment into the fakes, and reads the verifier's configuration of it. */
function load(deployment: Deployment): void {
  config = loadDeployment(TEMPLATES[deployment], ENV, fakes);
}

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

/**
 * `value` with its placeholders, "BUS", "DLQ", "RESTORE_FN" and "EXECUTIONS", made the deployment's bus,
 * queue, restore function and its jobs' executions.
 */
function placed<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value)
      .replaceAll('"BUS"', JSON.stringify(config.eventBusArn))
      .replaceAll('"DLQ"', JSON.stringify(config.deadLetterQueueArn))
      .replaceAll('"RESTORE_FN"', JSON.stringify(config.restore?.functionArn ?? 'no restore function'))
      .replaceAll('"EXECUTIONS"', JSON.stringify(executionsOf(config.stateMachineArn))),
  ) as T;
}

type Kind = 'handler' | 'control' | 'stateMachine' | 'restore';
/** The ARN of the role of `kind` in the loaded deployment. */
const roleOf = (kind: Kind): string =>
  ({
    handler: config.handlerRoleArn,
    control: config.controlRoleArn,
    stateMachine: config.stateMachineRoleArn,
    restore: config.restore?.roleArn,
  })[kind]!;

/** An inline policy of one statement, on the role of `kind`. */
const inline =
  (kind: Kind, statement: Record<string, unknown>, name = 'Extra') =>
  (): void => {
    fakes.iam.addPolicy(roleOf(kind), policy(name, placed(statement)));
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
/** An AWS managed policy attached to the handler's role (or the role of `kind`). */
const awsManaged =
  (name: string, document: PolicyDocument, kind: Kind = 'handler') =>
  (): void => {
    fakes.iam.addPolicy(roleOf(kind), { name, document, type: 'aws-managed' });
  };
/** A statement added to a function's policy (or its version's or alias's). */
const permission =
  (
    fn: 'handler' | 'control' | 'restore',
    statement: Record<string, unknown>,
    qualifier?: ['version' | 'alias', string],
  ) =>
  (): void => {
    const arn = {
      handler: config.handlerFunctionArn,
      control: config.controlFunctionArn!,
      restore: config.restore?.functionArn ?? 'no restore function',
    }[fn];
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
const trust = (kind: 'handler' | 'stateMachine' | 'restore', Principal: unknown) => (): void => {
  const service = kind === 'stateMachine' ? 'states.amazonaws.com' : 'lambda.amazonaws.com';
  fakes.iam.setTrust(roleOf(kind), {
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

const RESTORE = "the restore function's role";
const RESTORE_FUNCTION = 'the restore function';
const EXTRA = 'inline policy "Extra"';

/** Rows on the deployment with restore: its role, its trust, its function's policy. */
const RESTORE_ROWS: Row[] = [
  [
    'swf:TerminateWorkflowExecution on a chosen domain (restore never terminates)',
    inline('restore', allow('swf:TerminateWorkflowExecution', ORDERS)),
    {
      subject: RESTORE,
      policy: EXTRA,
      statement: 1,
      action: 'swf:TerminateWorkflowExecution',
      resource: ORDERS[0],
    },
  ],
  [
    'swf:* on *',
    inline('restore', allow('swf:*', '*')),
    { subject: RESTORE, policy: EXTRA, action: 'swf:*', resource: '*' },
  ],
  [
    'swf:StartWorkflowExecution on a domain nobody chose',
    inline('restore', allow('swf:StartWorkflowExecution', swfArns('payments'))),
    {
      subject: RESTORE,
      policy: EXTRA,
      action: 'swf:StartWorkflowExecution',
      resource: swfArns('payments')[0],
    },
  ],
  [
    'swf:Start* (a wildcard action) on a chosen domain',
    inline('restore', allow('swf:Start*', ORDERS[0]!)),
    { subject: RESTORE, policy: EXTRA, action: 'swf:Start*', resource: ORDERS[0] },
  ],
  [
    'iam:PassRole on *',
    inline('restore', allow('iam:PassRole', '*')),
    { subject: RESTORE, policy: EXTRA, action: 'iam:PassRole', resource: '*' },
  ],
  [
    'iam:PassRole on every role of the account (a role restoreLambdaRoles does not name)',
    inline('restore', allow('iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/*`)),
    { subject: RESTORE, policy: EXTRA, action: 'iam:PassRole', resource: `arn:aws:iam::${ACCOUNT}:role/*` },
  ],
  [
    'an Allow with NotAction [iam:*, the probed actions] on *',
    inline('restore', {
      Effect: 'Allow',
      NotAction: ['iam:*', 'sts:AssumeRole', 's3:GetObject', 'lambda:InvokeFunction'],
      Resource: '*',
    }),
    {
      subject: RESTORE,
      policy: EXTRA,
      statement: 1,
      action: 'NotAction iam:*, sts:AssumeRole, s3:GetObject, lambda:InvokeFunction',
      resource: '*',
    },
  ],
  [
    'an Allow with NotResource (every domain but one)',
    inline('restore', {
      Effect: 'Allow',
      Action: 'swf:StartWorkflowExecution',
      NotResource: swfArns('payments'),
    }),
    { subject: RESTORE, policy: EXTRA, action: 'swf:StartWorkflowExecution' },
  ],
  [
    'AdministratorAccess attached',
    awsManaged('AdministratorAccess', ADMINISTRATOR_ACCESS, 'restore'),
    {
      subject: RESTORE,
      policy: 'managed policy arn:aws:iam::aws:policy/AdministratorAccess (version v1)',
      statement: 1,
      action: '*',
      resource: '*',
    },
  ],
  [
    'lambda:AddPermission on *',
    inline('restore', allow('lambda:AddPermission', '*')),
    { subject: RESTORE, policy: EXTRA, action: 'lambda:AddPermission', resource: '*' },
  ],
  [
    'states:StartExecution on another state machine',
    inline(
      'restore',
      allow('states:StartExecution', `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:Payroll`),
    ),
    { subject: RESTORE, policy: EXTRA, action: 'states:StartExecution' },
  ],
  [
    'states:StopExecution on its own jobs (restore only reads them)',
    inline('restore', allow('states:StopExecution', 'EXECUTIONS')),
    { subject: RESTORE, policy: EXTRA, action: 'states:StopExecution' },
  ],
  [
    "another account may assume restore's role",
    trust('restore', { AWS: `arn:aws:iam::${OTHER_ACCOUNT}:root` }),
    {
      subject: RESTORE,
      policy: 'trust policy',
      statement: 2,
      principal: `AWS: arn:aws:iam::${OTHER_ACCOUNT}:root`,
    },
  ],
  [
    'a permission on the restore function for principal *',
    permission('restore', invokeBy('*')),
    {
      subject: RESTORE_FUNCTION,
      policy: 'resource-based policy',
      statement: 1,
      action: 'lambda:InvokeFunction',
      principal: '*',
    },
  ],
  [
    "a permission on the restore function for a construct's own rule (no rule may invoke restore)",
    permission(
      'restore',
      invokeBy(
        { Service: 'events.amazonaws.com' },
        { Condition: { ArnLike: { 'AWS:SourceArn': rule('TerminatorEventBus/AnyRule') } } },
      ),
    ),
    {
      subject: RESTORE_FUNCTION,
      policy: 'resource-based policy',
      principal: 'Service: events.amazonaws.com',
    },
  ],
  [
    'an alias of the restore function another account may invoke',
    permission('restore', invokeBy({ AWS: `arn:aws:iam::${OTHER_ACCOUNT}:root` }), ['alias', 'live']),
    {
      subject: '(alias live)',
      policy: 'resource-based policy',
      principal: `AWS: arn:aws:iam::${OTHER_ACCOUNT}:root`,
    },
  ],
  [
    "swf:StartWorkflowExecution on a chosen domain, to the terminating function's role (only restore starts)",
    inline('handler', allow('swf:StartWorkflowExecution', ORDERS)),
    { subject: HANDLER, policy: EXTRA, action: 'swf:StartWorkflowExecution', resource: ORDERS[0] },
  ],
  [
    "iam:PassRole on the Lambda role, to the terminating function's role (only restore passes it)",
    inline('handler', allow('iam:PassRole', LAMBDA_ROLE)),
    { subject: HANDLER, policy: EXTRA, action: 'iam:PassRole', resource: LAMBDA_ROLE },
  ],
  [
    "lambda:InvokeFunction on the restore function, to the control function's role",
    inline('control', allow('lambda:InvokeFunction', 'RESTORE_FN')),
    { subject: "the control function's role", policy: EXTRA, action: 'lambda:InvokeFunction' },
  ],
];

/** The run's outcome, which must be a violation; its findings. */
function violation(outcome: { report?: VerifyReport; error?: unknown }): LeastPrivilegeViolationError {
  expect(outcome.report).toBeUndefined();
  expect(outcome.error).toBeInstanceOf(LeastPrivilegeViolationError);
  return outcome.error as LeastPrivilegeViolationError;
}

test.each<[Deployment]>([['plain'], ['restore']])(
  'the clean deployment (%s) passes: nothing refused, every check as expected',
  async (deployment) => {
    // GIVEN
    load(deployment);

    // WHEN
    const { report, error } = await verify();

    // THEN
    expect(error).toBeUndefined();
    expect(report?.findings).toEqual([]);
    expect(report?.failures).toEqual([]);
    expect(report?.ok).toBe(true);
  },
);

test('with restore, its role is checked as a fourth (restore allowed in the chosen domains, the Lambda role passed to SWF), and the state machine may invoke restore', async () => {
  // GIVEN
  load('restore');

  // WHEN
  const { report } = await verify();

  // THEN
  const restore = config.restore!;
  const allowed = report!.results.filter((r) => r.expected === 'allowed' && r.ok);
  const restoreAllowed = allowed.filter((r) => r.role === 'restore').map((r) => `${r.action} ${r.resource}`);
  expect(restoreAllowed.sort()).toEqual(
    [
      ...['orders', 'billing'].flatMap((d) =>
        [
          'swf:GetWorkflowExecutionHistory',
          'swf:ListClosedWorkflowExecutions',
          'swf:ListOpenWorkflowExecutions',
          'swf:StartWorkflowExecution',
        ].flatMap((a) => swfArns(d).map((arn) => `${a} ${arn}`)),
      ),
      `iam:PassRole ${LAMBDA_ROLE}`,
    ].sort(),
  );
  expect(
    report!.results.filter(
      (r) => r.role === 'restore' && r.action === 'swf:TerminateWorkflowExecution' && r.expected === 'denied',
    ),
  ).toHaveLength(4 + 1); // both forms of both chosen domains, and "*"
  expect(allowed).toContainEqual(
    expect.objectContaining({
      role: 'stateMachine',
      action: 'lambda:InvokeFunction',
      resource: restore.functionArn,
    }),
  );
  // AND restore's role was read whole, and its function's policy (it has none)
  expect(
    fakes.iam.calls.some((c) => c.action === 'GetRole' && restore.roleArn.endsWith(`/${c.roleName}`)),
  ).toBe(true);
  expect(fakes.lambda.calls).toContainEqual(
    expect.objectContaining({ operation: 'GetPolicy', functionName: restore.functionArn }),
  );
});

test('with restore, iam:PassRole on the Lambda role without its SWF condition: the simulation refuses passing it to another service', async () => {
  // GIVEN restore's role may pass its Lambda role to any service (the grant's resource, no condition)
  load('restore');
  inline('restore', allow('iam:PassRole', LAMBDA_ROLE))();

  // WHEN
  const error = violation(await verify());

  // THEN nothing is outside restore's grants, but the check of passing it to Lambda fails, naming the statement
  expect(error.report.findings).toEqual([]);
  expect(error.report.failures).toEqual([
    expect.objectContaining({
      role: 'restore',
      action: 'iam:PassRole',
      resource: LAMBDA_ROLE,
      context: { 'iam:PassedToService': 'lambda.amazonaws.com' },
      expected: 'denied',
      actual: 'allowed',
      matchedStatements: [expect.objectContaining({ sourcePolicyId: 'Extra' })],
    }),
  ]);
  expect(error.message).toContain(
    `iam:PassRole on ${LAMBDA_ROLE} when iam:PassedToService is lambda.amazonaws.com must be denied`,
  );
});

test(`the table has at least 25 over-broad additions (${ROWS.length}), and at least 7 with restore (${RESTORE_ROWS.length})`, () => {
  expect(ROWS.length).toBeGreaterThanOrEqual(25);
  expect(RESTORE_ROWS.length).toBeGreaterThanOrEqual(7);
});

/** Runs one row on `deployment`: the run must fail, naming the addition, and refuse nothing else. */
async function refused(deployment: Deployment, add: () => void, where: Row[2]): Promise<void> {
  // GIVEN the deployment with one over-broad addition (placeholders: the bus, the queue, the restore function)
  load(deployment);
  add();

  // WHEN
  const error = violation(await verify());

  // THEN the run fails, naming the addition; every grant it refuses is in what was added
  const { findings } = error.report;
  const { subject, ...rest } = where;
  const named = findings.filter((f) => f.subject.includes(subject));
  expect(named).toContainEqual(expect.objectContaining(placed(rest)));
  expect(findings.every((f) => f.subject.includes(subject) && f.policy === where.policy)).toBe(true);
  expect(error.message).toContain(findings[0]!.message.slice(0, 200));
}

test.each(ROWS)('refused: %s', async (_what, add, where) => {
  await refused('plain', add, where);
});

test.each(RESTORE_ROWS)('refused, with restore: %s', async (_what, add, where) => {
  await refused('restore', add, where);
});
