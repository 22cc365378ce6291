/**
 * Least privilege, proven: the policies of the three roles the construct synthesizes (the handler's, the
 * control function's, the state machine's), resolved for one concrete account and region, are evaluated by
 * an IAM policy simulator (@cloud-copilot/iam-simulate). Each role is one decision table (allowed and denied
 * cells both), proven whole by one assertion whose diff names every wrong cell.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SwfTerminator } from '../../lib';
import { functionOf, onlyResource, testApp } from '../support/construct-helpers';
import {
  ACCOUNT,
  ALL_SWF_ACTIONS,
  bothForms,
  type Cell,
  decisionTable,
  DOMAINS,
  ENV,
  OTHER_ACCOUNT,
  REGION,
  ROLES,
  rolePolicies,
  swfArn as domainArn,
  WILDCARD_ONLY_SWF_ACTIONS,
} from '../support/iam-simulation';

/** SWF domain ARN, in the Service Authorization Reference form (no region) or the regional form. */
const swfArn = (domain: string, region = '', account = ACCOUNT) => domainArn(domain, account, region);

/** Synthesizes the construct for `domains` in a stack with a concrete environment. */
function synthFor(domains: string[]): Template {
  const stack = new Stack(testApp(), 'IamStack', { env: { account: ACCOUNT, region: REGION } });
  new SwfTerminator(stack, 'Terminator', { domains });
  return Template.fromStack(stack);
}

// GIVEN the construct in a stack with a concrete environment
const template = synthFor(DOMAINS);
const logGroupId = onlyResource(template, 'AWS::Logs::LogGroup').logicalId;
const queueId = onlyResource(template, 'AWS::SQS::Queue').logicalId;
const functionId = functionOf(template).logicalId;
const controlFunctionId = functionOf(template, 'control').logicalId;
const stateMachineName = String(
  onlyResource(template, 'AWS::StepFunctions::StateMachine').resource.Properties.StateMachineName,
);

const handlerPolicies = rolePolicies(template, ROLES.handler, ENV);
const controlPolicies = rolePolicies(template, ROLES.control, ENV);
const stateMachinePolicies = rolePolicies(template, ROLES.stateMachine, ENV);

const ALLOWED: Cell['expected'] = 'Allowed';
const DENIED: Cell['expected'] = 'ImplicitlyDenied';

/** The SWF actions the handler may call in its domains. */
const ALLOWED_ACTIONS = [
  'swf:TerminateWorkflowExecution',
  'swf:ListOpenWorkflowExecutions',
  'swf:CountOpenWorkflowExecutions',
];
/** SWF's actions that name a domain (the others take only `*`). */
const DOMAIN_ACTIONS = ALL_SWF_ACTIONS.filter((a) => !WILDCARD_ONLY_SWF_ACTIONS.includes(a));

const lambdaArn = (name: string, account = ACCOUNT, region = REGION) =>
  `arn:aws:lambda:${region}:${account}:function:${name}`;
const stateMachineArn = (name: string, account = ACCOUNT, region = REGION) =>
  `arn:aws:states:${region}:${account}:stateMachine:${name}`;
const executionArn = (machine: string, job: string, account = ACCOUNT, region = REGION) =>
  `arn:aws:states:${region}:${account}:execution:${machine}:${job}`;

/** `action` on `resource` (what it is: `why`), expected `expected` (denied unless given). */
const cell = (action: string, why: string, resource: string, expected: Cell['expected'] = DENIED): Cell => ({
  action,
  resource,
  why,
  expected,
});

/** Actions no role of the terminator may take, whatever the resource. */
const FORBIDDEN_EVERYWHERE: Cell[] = [
  { action: 'iam:PassRole', resource: `arn:aws:iam::${ACCOUNT}:role/anything`, expected: DENIED },
  { action: 'sts:AssumeRole', resource: `arn:aws:iam::${ACCOUNT}:role/anything`, expected: DENIED },
  { action: 's3:GetObject', resource: 'arn:aws:s3:::any-bucket/any-key', expected: DENIED },
  { action: 'lambda:InvokeFunction', resource: lambdaArn('another-function'), expected: DENIED },
  { action: 'states:StartExecution', resource: stateMachineArn('another-machine'), expected: DENIED },
];

/**
 * What a function may do with Step Functions: with its own state machine's executions (its jobs), start, read,
 * stop and list (the control function starts one only to record an abort that came before its job). Never
 * with another state machine, a look-alike, or its definition.
 */
function ownJobCells(): Cell[] {
  const own = stateMachineArn(stateMachineName);
  const job = executionArn(stateMachineName, 'evt-1234');
  return [
    cell('states:StartExecution', 'its own state machine', own, ALLOWED),
    cell('states:ListExecutions', 'its own state machine', own, ALLOWED),
    cell('states:DescribeExecution', 'a job of its own', job, ALLOWED),
    cell('states:GetExecutionHistory', 'a job of its own', job, ALLOWED),
    cell('states:StopExecution', 'a job of its own', job, ALLOWED),
    cell('states:StartExecution', 'another state machine', stateMachineArn('another')),
    cell('states:StartExecution', 'a look-alike name', stateMachineArn(`${stateMachineName}2`)),
    cell(
      'states:StartExecution',
      'its own in another account',
      stateMachineArn(stateMachineName, OTHER_ACCOUNT),
    ),
    cell('states:StopExecution', "another machine's execution", executionArn('another', 'evt-1234')),
    cell(
      'states:StopExecution',
      "a look-alike machine's execution",
      executionArn(`${stateMachineName}2`, 'x'),
    ),
    cell(
      'states:DescribeExecution',
      'a job of its own in another region',
      executionArn(stateMachineName, 'x', ACCOUNT, 'us-east-1'),
    ),
    cell('states:StartSyncExecution', 'its own state machine', own),
    cell('states:DescribeStateMachine', 'its own state machine', own),
    cell('states:UpdateStateMachine', 'its own state machine', own),
    cell('states:DeleteStateMachine', 'its own state machine', own),
    cell('lambda:InvokeFunction', 'the handler itself', lambdaArn(functionId)),
  ];
}

/**
 * Reading a job's progress back (FilterLogEvents): on the functions' own log group, nowhere else, and no
 * other read of logs.
 */
function ownLogCells(): Cell[] {
  const own = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${logGroupId}:*`;
  return [
    { action: 'logs:FilterLogEvents', resource: own, expected: ALLOWED },
    {
      action: 'logs:FilterLogEvents',
      resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/other:*`,
      expected: DENIED,
    },
    {
      action: 'logs:FilterLogEvents',
      resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${logGroupId}2:*`,
      expected: DENIED,
    },
    {
      action: 'logs:FilterLogEvents',
      resource: `arn:aws:logs:${REGION}:${OTHER_ACCOUNT}:log-group:${logGroupId}:*`,
      expected: DENIED,
    },
    { action: 'logs:GetLogEvents', resource: own, expected: DENIED },
    { action: 'logs:StartQuery', resource: own, expected: DENIED },
    { action: 'logs:DeleteLogGroup', resource: own, expected: DENIED },
  ];
}

/** The handler's SWF calls: the three it needs in each chosen domain, nothing else anywhere. */
function handlerSwfCells(): Cell[] {
  const lookAlikes = [
    ['another domain', 'shipping'],
    ['a prefix of a chosen domain', 'order'],
    ['a suffix-extended domain', 'orders2'],
    ['a path under a chosen domain', 'orders/x'],
    ['a look-alike domain', 'orders-prod'],
  ] as const;
  return [
    ...ALLOWED_ACTIONS.flatMap((action) => [
      ...DOMAINS.flatMap((domain) => bothForms(action, domain, ALLOWED)),
      ...lookAlikes.flatMap(([why, domain]) => bothForms(action, domain, DENIED, why)),
      ...bothForms(action, 'orders', DENIED, 'another account', OTHER_ACCOUNT),
      {
        action,
        resource: swfArn('orders', 'us-east-1'),
        why: 'another region',
        mode: 'unvalidated',
        expected: DENIED,
      } as const,
    ]),
    ...DOMAIN_ACTIONS.filter((a) => !ALLOWED_ACTIONS.includes(a)).flatMap((action) =>
      bothForms(action, 'orders', DENIED),
    ),
    ...WILDCARD_ONLY_SWF_ACTIONS.map((action) => ({ action, resource: '*', expected: DENIED })),
  ];
}

/** Writing its own logs, and sending what failed to its own dead-letter queue: nowhere else, nothing more. */
function handlerLogAndQueueCells(): Cell[] {
  const ownLogGroup = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${logGroupId}`;
  const ownStream = `${ownLogGroup}:log-stream:2024/01/01/[$LATEST]abc`;
  const otherLogGroup = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/something-else`;
  const ownQueue = `arn:aws:sqs:${REGION}:${ACCOUNT}:${queueId}`;
  const call = (action: string, resource: string, expected: Cell['expected'] = DENIED): Cell => ({
    action,
    resource,
    expected,
  });
  return [
    call('logs:CreateLogStream', ownStream, ALLOWED),
    call('logs:PutLogEvents', ownStream, ALLOWED),
    call('logs:CreateLogStream', `${otherLogGroup}:log-stream:x`),
    call('logs:PutLogEvents', `${otherLogGroup}:log-stream:x`),
    call('logs:PutLogEvents', `${ownLogGroup}2:log-stream:x`),
    call('logs:DeleteLogGroup', ownLogGroup),
    call('logs:CreateLogGroup', ownLogGroup),
    call('sqs:SendMessage', ownQueue, ALLOWED),
    call('sqs:SendMessage', `arn:aws:sqs:${REGION}:${ACCOUNT}:another-queue`),
    call('sqs:ReceiveMessage', ownQueue),
    call('sqs:DeleteMessage', ownQueue),
    call('sqs:GetQueueAttributes', ownQueue),
    call('sqs:PurgeQueue', ownQueue),
  ];
}

test('every role has one policy, with no wildcard action and no "*" resource', () => {
  for (const policies of [handlerPolicies, controlPolicies, stateMachinePolicies]) {
    expect(policies).toHaveLength(1);
    for (const { policy } of policies) {
      const text = JSON.stringify(policy);
      expect(text).not.toMatch(/"Action":"[a-z0-9]+:\*"|"[a-z0-9]+:\*"/);
      expect(text).not.toMatch(/"Resource":"\*"|"\*"/);
    }
  }
});

test("the handler's role: terminate, list and count in its domains, its own jobs and logs, its own queue", async () => {
  // WHEN
  const { actual, expected } = await decisionTable(handlerPolicies, [
    ...handlerSwfCells(),
    ...FORBIDDEN_EVERYWHERE,
    ...ownJobCells(),
    ...ownLogCells(),
    ...handlerLogAndQueueCells(),
  ]);
  // THEN
  expect(actual).toEqual(expected);
});

test("the control function's role: its own jobs and logs, no SWF at all", async () => {
  // WHEN
  const { actual, expected } = await decisionTable(controlPolicies, [
    ...DOMAIN_ACTIONS.map((action) => ({ action, resource: swfArn('orders'), expected: DENIED })),
    ...ownJobCells(),
    ...FORBIDDEN_EVERYWHERE,
    ...ownLogCells(),
  ]);
  // THEN
  expect(actual).toEqual(expected);
});

test("the state machine's role: it may invoke the handler, nothing else", async () => {
  // WHEN
  const { actual, expected } = await decisionTable(stateMachinePolicies, [
    cell('lambda:InvokeFunction', 'the handler', lambdaArn(functionId), ALLOWED),
    cell('lambda:InvokeFunction', 'a version of the handler', `${lambdaArn(functionId)}:1`, ALLOWED),
    cell('lambda:InvokeFunction', 'the control function', lambdaArn(controlFunctionId)),
    cell('lambda:InvokeFunction', 'another function', lambdaArn('another-function')),
    cell('lambda:InvokeFunction', 'a look-alike name', lambdaArn(`${functionId}2`)),
    cell('lambda:InvokeFunction', 'its name in another account', lambdaArn(functionId, OTHER_ACCOUNT)),
    cell('lambda:UpdateFunctionCode', 'the handler', lambdaArn(functionId)),
    cell('lambda:UpdateFunctionConfiguration', 'the handler', lambdaArn(functionId)),
    cell('states:StartExecution', 'its own state machine', stateMachineArn(stateMachineName)),
    cell('swf:TerminateWorkflowExecution', 'a chosen domain', swfArn('orders')),
    ...FORBIDDEN_EVERYWHERE,
  ]);
  // THEN
  expect(actual).toEqual(expected);
});

test("the handler's role, for domains named with characters IAM reads as wildcards, grants them literally", async () => {
  // GIVEN domains named with '*', '?' and '$', which SWF allows in names
  const literal = rolePolicies(synthFor(['ord*', 'a?c', 'x$y']), ROLES.handler, ENV);
  const terminate = (resource: string, why: string, expected: Cell['expected']): Cell => ({
    action: 'swf:TerminateWorkflowExecution',
    resource,
    why,
    mode: 'unvalidated',
    expected,
  });
  // WHEN
  const { actual, expected } = await decisionTable(literal, [
    terminate(swfArn('ord*'), 'the domain literally named ord*', ALLOWED),
    terminate(swfArn('ord*', REGION), 'the domain literally named ord*', ALLOWED),
    terminate(swfArn('a?c'), 'the domain literally named a?c', ALLOWED),
    terminate(swfArn('x$y'), 'the domain literally named x$y', ALLOWED),
    terminate(swfArn('orders'), 'ord* read as a wildcard', DENIED),
    terminate(swfArn('ord', REGION), 'ord* read as a wildcard', DENIED),
    terminate(swfArn('abc'), 'a?c read as a wildcard', DENIED),
  ]);
  // THEN
  expect(actual).toEqual(expected);
});
