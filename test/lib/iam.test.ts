/**
 * Least privilege, proven: the policies of the three roles the construct synthesizes (the handler's, the
 * control function's, the state machine's), resolved for one concrete account and region, are evaluated by
 * an IAM policy simulator (@cloud-copilot/iam-simulate), allowed and denied cases both.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { EvaluationResult } from '@cloud-copilot/iam-simulate';
import { SwfTerminator } from '../../lib';
import { functionOf, onlyResource, testApp } from '../support/construct-helpers';
import {
  ALL_SWF_ACTIONS,
  decide as simulate,
  type NamedPolicy,
  ROLES,
  rolePolicies,
  swfArn as domainArn,
  WILDCARD_ONLY_SWF_ACTIONS,
  ACCOUNT,
  DOMAINS,
  ENV,
  OTHER_ACCOUNT,
  REGION,
  ROLE_ARN,
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

const identityPolicies = rolePolicies(template, ROLES.handler, ENV);
const controlPolicies = rolePolicies(template, ROLES.control, ENV);
const stateMachinePolicies = rolePolicies(template, ROLES.stateMachine, ENV);

/** The simulator's verdict for the handler's role (or `policies`) calling `action` on `resource`. */
function decide(
  action: string,
  resource: string,
  mode: 'validated' | 'unvalidated' = 'validated',
  policies: NamedPolicy[] = identityPolicies,
): Promise<EvaluationResult> {
  return simulate(policies, ROLE_ARN, action, resource, mode, ACCOUNT);
}

const ALLOWED_ACTIONS = [
  'swf:TerminateWorkflowExecution',
  'swf:ListOpenWorkflowExecutions',
  'swf:CountOpenWorkflowExecutions',
];

const lambdaArn = (name: string, account = ACCOUNT, region = REGION) =>
  `arn:aws:lambda:${region}:${account}:function:${name}`;
const stateMachineArn = (name: string, account = ACCOUNT, region = REGION) =>
  `arn:aws:states:${region}:${account}:stateMachine:${name}`;
const executionArn = (machine: string, job: string, account = ACCOUNT, region = REGION) =>
  `arn:aws:states:${region}:${account}:execution:${machine}:${job}`;

/** Actions no role of the terminator may take, whatever the resource. */
const FORBIDDEN_EVERYWHERE = [
  ['iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/anything`],
  ['sts:AssumeRole', `arn:aws:iam::${ACCOUNT}:role/anything`],
  ['s3:GetObject', 'arn:aws:s3:::any-bucket/any-key'],
  ['lambda:InvokeFunction', lambdaArn('another-function')],
  ['states:StartExecution', stateMachineArn('another-machine')],
] as const;

/**
 * What a function may do with Step Functions: with its own state machine's executions (its jobs), start, read,
 * stop and list (the control function starts one only to record an abort that came before its job). Never
 * with another state machine, a look-alike, or its definition.
 */
function ownJobCases() {
  const own = stateMachineArn(stateMachineName);
  const job = executionArn(stateMachineName, 'evt-1234');
  return [
    ['states:StartExecution', 'its own state machine', own, 'Allowed'],
    ['states:ListExecutions', 'its own state machine', own, 'Allowed'],
    ['states:DescribeExecution', 'a job of its own', job, 'Allowed'],
    ['states:GetExecutionHistory', 'a job of its own', job, 'Allowed'],
    ['states:StopExecution', 'a job of its own', job, 'Allowed'],
    ['states:StartExecution', 'another state machine', stateMachineArn('another'), 'ImplicitlyDenied'],
    [
      'states:StartExecution',
      'a look-alike name',
      stateMachineArn(`${stateMachineName}2`),
      'ImplicitlyDenied',
    ],
    [
      'states:StartExecution',
      'its own in another account',
      stateMachineArn(stateMachineName, OTHER_ACCOUNT),
      'ImplicitlyDenied',
    ],
    [
      'states:StopExecution',
      "another machine's execution",
      executionArn('another', 'evt-1234'),
      'ImplicitlyDenied',
    ],
    [
      'states:StopExecution',
      "a look-alike machine's execution",
      executionArn(`${stateMachineName}2`, 'x'),
      'ImplicitlyDenied',
    ],
    [
      'states:DescribeExecution',
      'a job of its own in another region',
      executionArn(stateMachineName, 'x', ACCOUNT, 'us-east-1'),
      'ImplicitlyDenied',
    ],
    ['states:StartSyncExecution', 'its own state machine', own, 'ImplicitlyDenied'],
    ['states:DescribeStateMachine', 'its own state machine', own, 'ImplicitlyDenied'],
    ['states:UpdateStateMachine', 'its own state machine', own, 'ImplicitlyDenied'],
    ['states:DeleteStateMachine', 'its own state machine', own, 'ImplicitlyDenied'],
    ['lambda:InvokeFunction', 'the handler itself', lambdaArn(functionId), 'ImplicitlyDenied'],
  ] as const;
}

/**
 * Reading a job's progress back (FilterLogEvents): on the functions' own log group, nowhere else, and no
 * other read of logs.
 */
function ownLogCases() {
  const own = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${logGroupId}:*`;
  return [
    ['logs:FilterLogEvents', own, 'Allowed'],
    [
      'logs:FilterLogEvents',
      `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/other:*`,
      'ImplicitlyDenied',
    ],
    [
      'logs:FilterLogEvents',
      `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${logGroupId}2:*`,
      'ImplicitlyDenied',
    ],
    [
      'logs:FilterLogEvents',
      `arn:aws:logs:${REGION}:${OTHER_ACCOUNT}:log-group:${logGroupId}:*`,
      'ImplicitlyDenied',
    ],
    ['logs:GetLogEvents', own, 'ImplicitlyDenied'],
    ['logs:StartQuery', own, 'ImplicitlyDenied'],
    ['logs:DeleteLogGroup', own, 'ImplicitlyDenied'],
  ] as const;
}

describe("the handler's role", () => {
  test('every role has one policy, with no wildcard action and no "*" resource', () => {
    // THEN
    for (const policies of [identityPolicies, controlPolicies, stateMachinePolicies]) {
      expect(policies).toHaveLength(1);
      for (const { policy } of policies) {
        const text = JSON.stringify(policy);
        expect(text).not.toMatch(/"Action":"[a-z0-9]+:\*"|"[a-z0-9]+:\*"/);
        expect(text).not.toMatch(/"Resource":"\*"|"\*"/);
      }
    }
  });

  test.each(
    DOMAINS.flatMap((domain) =>
      ALLOWED_ACTIONS.flatMap((action) => [
        [action, swfArn(domain), 'validated'] as const,
        [action, swfArn(domain, REGION), 'unvalidated'] as const,
      ]),
    ),
  )('ALLOWS %s on %s (%s)', async (action, resource, mode) => {
    // WHEN / THEN
    await expect(decide(action, resource, mode)).resolves.toBe('Allowed');
  });

  test.each(
    ALLOWED_ACTIONS.flatMap((action) =>
      [
        ['another domain', 'shipping'],
        ['a prefix of a chosen domain', 'order'],
        ['a suffix-extended domain', 'orders2'],
        ['a path under a chosen domain', 'orders/x'],
        ['a look-alike domain', 'orders-prod'],
      ].flatMap(([why, domain]) => [
        [action, why, swfArn(domain!), 'validated'] as const,
        [action, why, swfArn(domain!, REGION), 'unvalidated'] as const,
      ]),
    ),
  )('DENIES %s for %s: %s (%s)', async (action, _why, resource, mode) => {
    // WHEN / THEN
    await expect(decide(action, resource, mode)).resolves.toBe('ImplicitlyDenied');
  });

  test.each(
    ALLOWED_ACTIONS.flatMap((action) => [
      [action, 'another region', swfArn('orders', 'us-east-1'), 'unvalidated'] as const,
      [action, 'another account', swfArn('orders', '', OTHER_ACCOUNT), 'validated'] as const,
      [
        action,
        'another account, regional form',
        swfArn('orders', REGION, OTHER_ACCOUNT),
        'unvalidated',
      ] as const,
    ]),
  )('DENIES %s in %s: %s (%s)', async (action, _why, resource, mode) => {
    // WHEN / THEN
    await expect(decide(action, resource, mode)).resolves.toBe('ImplicitlyDenied');
  });

  test.each(
    ALL_SWF_ACTIONS.filter(
      (action) => !ALLOWED_ACTIONS.includes(action) && !WILDCARD_ONLY_SWF_ACTIONS.includes(action),
    ).flatMap((action) => [
      [action, swfArn('orders'), 'validated'] as const,
      [action, swfArn('orders', REGION), 'unvalidated'] as const,
    ]),
  )('DENIES every other SWF action on a chosen domain: %s on %s (%s)', async (action, resource, mode) => {
    // WHEN / THEN
    await expect(decide(action, resource, mode)).resolves.toBe('ImplicitlyDenied');
  });

  test.each(WILDCARD_ONLY_SWF_ACTIONS)('DENIES %s (a "*"-only action)', async (action) => {
    // WHEN / THEN
    await expect(decide(action, '*')).resolves.toBe('ImplicitlyDenied');
  });

  test.each(FORBIDDEN_EVERYWHERE)('DENIES %s on %s', async (action, resource) => {
    // WHEN / THEN
    await expect(decide(action, resource)).resolves.toBe('ImplicitlyDenied');
  });

  test.each(ownJobCases())('%s on %s (%s) is %s', async (action, _what, resource, expected) => {
    // WHEN / THEN
    await expect(decide(action, resource)).resolves.toBe(expected);
  });

  test.each(ownLogCases())('%s on %s is %s', async (action, resource, expected) => {
    // WHEN / THEN
    await expect(decide(action, resource)).resolves.toBe(expected);
  });

  const ownLogGroup = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${logGroupId}`;
  const otherLogGroup = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/something-else`;
  test.each([
    ['logs:CreateLogStream', `${ownLogGroup}:log-stream:2024/01/01/[$LATEST]abc`, 'Allowed'],
    ['logs:PutLogEvents', `${ownLogGroup}:log-stream:2024/01/01/[$LATEST]abc`, 'Allowed'],
    ['logs:CreateLogStream', `${otherLogGroup}:log-stream:x`, 'ImplicitlyDenied'],
    ['logs:PutLogEvents', `${otherLogGroup}:log-stream:x`, 'ImplicitlyDenied'],
    ['logs:PutLogEvents', `${ownLogGroup}2:log-stream:x`, 'ImplicitlyDenied'],
    ['logs:DeleteLogGroup', ownLogGroup, 'ImplicitlyDenied'],
    ['logs:CreateLogGroup', ownLogGroup, 'ImplicitlyDenied'],
  ])('%s on %s is %s', async (action, resource, expected) => {
    // WHEN / THEN
    await expect(decide(action, resource)).resolves.toBe(expected);
  });

  const ownQueue = `arn:aws:sqs:${REGION}:${ACCOUNT}:${queueId}`;
  test.each([
    ['sqs:SendMessage', ownQueue, 'Allowed'],
    ['sqs:SendMessage', `arn:aws:sqs:${REGION}:${ACCOUNT}:another-queue`, 'ImplicitlyDenied'],
    ['sqs:ReceiveMessage', ownQueue, 'ImplicitlyDenied'],
    ['sqs:DeleteMessage', ownQueue, 'ImplicitlyDenied'],
    ['sqs:GetQueueAttributes', ownQueue, 'ImplicitlyDenied'],
    ['sqs:PurgeQueue', ownQueue, 'ImplicitlyDenied'],
  ])('%s on %s is %s', async (action, resource, expected) => {
    // WHEN / THEN
    await expect(decide(action, resource)).resolves.toBe(expected);
  });
});

describe("the control function's role: its own jobs, no SWF at all", () => {
  test.each(ALL_SWF_ACTIONS.filter((a) => !WILDCARD_ONLY_SWF_ACTIONS.includes(a)))(
    'DENIES %s on a chosen domain',
    async (action) => {
      await expect(decide(action, swfArn('orders'), 'validated', controlPolicies)).resolves.toBe(
        'ImplicitlyDenied',
      );
    },
  );

  test.each(ownJobCases())('%s on %s (%s) is %s', async (action, _what, resource, expected) => {
    await expect(decide(action, resource, 'validated', controlPolicies)).resolves.toBe(expected);
  });

  test.each(FORBIDDEN_EVERYWHERE)('DENIES %s on %s', async (action, resource) => {
    await expect(decide(action, resource, 'validated', controlPolicies)).resolves.toBe('ImplicitlyDenied');
  });

  test.each(ownLogCases())('%s on %s is %s', async (action, resource, expected) => {
    await expect(decide(action, resource, 'validated', controlPolicies)).resolves.toBe(expected);
  });
});

describe("the state machine's role: it may invoke the handler, nothing else", () => {
  test.each([
    ['lambda:InvokeFunction', 'the handler', lambdaArn(functionId), 'Allowed'],
    ['lambda:InvokeFunction', 'a version of the handler', `${lambdaArn(functionId)}:1`, 'Allowed'],
    ['lambda:InvokeFunction', 'the control function', lambdaArn(controlFunctionId), 'ImplicitlyDenied'],
    ['lambda:InvokeFunction', 'another function', lambdaArn('another-function'), 'ImplicitlyDenied'],
    ['lambda:InvokeFunction', 'a look-alike name', lambdaArn(`${functionId}2`), 'ImplicitlyDenied'],
    [
      'lambda:InvokeFunction',
      'its name in another account',
      lambdaArn(functionId, OTHER_ACCOUNT),
      'ImplicitlyDenied',
    ],
    ['lambda:UpdateFunctionCode', 'the handler', lambdaArn(functionId), 'ImplicitlyDenied'],
    ['lambda:UpdateFunctionConfiguration', 'the handler', lambdaArn(functionId), 'ImplicitlyDenied'],
    ['states:StartExecution', 'its own state machine', stateMachineArn(stateMachineName), 'ImplicitlyDenied'],
    ['swf:TerminateWorkflowExecution', 'a chosen domain', swfArn('orders'), 'ImplicitlyDenied'],
  ])('%s on %s (%s) is %s', async (action, _what, resource, expected) => {
    await expect(decide(action, resource, 'validated', stateMachinePolicies)).resolves.toBe(expected);
  });

  test.each(FORBIDDEN_EVERYWHERE)('DENIES %s on %s', async (action, resource) => {
    await expect(decide(action, resource, 'validated', stateMachinePolicies)).resolves.toBe(
      'ImplicitlyDenied',
    );
  });
});

describe('domain names holding characters IAM reads as wildcards', () => {
  // GIVEN domains named with '*', '?' and '$', which SWF allows in names
  const literalPolicies = rolePolicies(synthFor(['ord*', 'a?c', 'x$y']), ROLES.handler, ENV);
  const terminate = 'swf:TerminateWorkflowExecution';

  test.each([
    ['ord*', swfArn('ord*'), 'unvalidated'],
    ['ord*, regional form', swfArn('ord*', REGION), 'unvalidated'],
    ['a?c', swfArn('a?c'), 'unvalidated'],
    ['x$y', swfArn('x$y'), 'unvalidated'],
  ] as const)('ALLOWS the domain literally named %s', async (_why, resource, mode) => {
    // WHEN / THEN
    await expect(decide(terminate, resource, mode, literalPolicies)).resolves.toBe('Allowed');
  });

  test.each([
    ['"orders" (ord* read as a wildcard)', swfArn('orders')],
    ['"ord" (ord* read as a wildcard)', swfArn('ord', REGION)],
    ['"abc" (a?c read as a wildcard)', swfArn('abc')],
  ] as const)('DENIES %s', async (_why, resource) => {
    // WHEN / THEN
    await expect(decide(terminate, resource, 'unvalidated', literalPolicies)).resolves.toBe(
      'ImplicitlyDenied',
    );
  });
});
