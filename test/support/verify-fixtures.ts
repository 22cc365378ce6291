/**
 * Shared fixtures of the verifier's tests: a configuration in the IAM tests' concrete environment, an IAM
 * client (the real one, the verifier's settings) on a local fake IAM server, and all three of the verifier's
 * clients on fakes of IAM, Lambda and EventBridge.
 */
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { VerifyConfig } from '../../lambda/verify/checks';
import { createEventBridgeClient, createIamClient, createLambdaClient } from '../../lambda/verify/clients';
import { FakeEventBridgeServer } from './fake-eventbridge';
import { type FakePolicy, FakeIamServer, type PolicyDocument } from './fake-iam';
import { FakeLambdaServer } from './fake-lambda';
import type { DeploymentFakes } from './verifier-helpers';
import { ACCOUNT, REGION } from './iam-simulation';

export { ACCOUNT, REGION };

/** A role of the account, by name. */
export const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

/** The terminator's resources in the fixtures' account and region. */
export const RESOURCES = {
  handlerFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Stack-TerminatorHandler`,
  controlFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Stack-TerminatorControlHandler`,
  logGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:TerminatorLogGroup:*`,
  stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:Stack-TerminatorJobs`,
  deadLetterQueueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:Stack-TerminatorDeadLetterQueue`,
  eventBusArn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/TerminatorEventBus`,
} as const;

/** The terminating function's role alone, two domains, no cancel or Describe grant; `overrides` over it. */
export function verifyConfig(overrides: Partial<VerifyConfig> = {}): VerifyConfig {
  return {
    partition: 'aws',
    region: REGION,
    account: ACCOUNT,
    domains: ['orders', 'billing'],
    handlerRoleArn: roleArn('TerminatorRole'),
    cancelDomains: [],
    describeDomains: [],
    handlerFunctionArn: RESOURCES.handlerFunctionArn,
    logGroupArn: RESOURCES.logGroupArn,
    stateMachineArn: RESOURCES.stateMachineArn,
    deadLetterQueueArn: RESOURCES.deadLetterQueueArn,
    eventBusArn: RESOURCES.eventBusArn,
    handlerRules: ['TerminatorEventBus/Stack-TerminatorRule'],
    controlRules: [],
    ...overrides,
  };
}

/** A fake IAM server and the verifier's IAM client on it. */
export interface FakeIam {
  readonly fake: FakeIamServer;
  readonly iam: IAMClient;
  close(): Promise<void>;
}

export async function startFakeIam(options: { pageSize?: number } = {}): Promise<FakeIam> {
  const fake = await FakeIamServer.start(options);
  const iam = createIamClient({
    endpoint: fake.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
  });
  return {
    fake,
    iam,
    close: async () => {
      iam.destroy();
      await fake.close();
    },
  };
}

/** The three fakes the verifier reads from, and its clients on them. */
export interface VerifierFakes extends DeploymentFakes {
  readonly clients: {
    readonly iam: IAMClient;
    readonly lambda: LambdaClient;
    readonly events: EventBridgeClient;
  };
  /** The environment that points the SDK's clients at the fakes (for a child process). */
  readonly endpoints: Record<string, string>;
  close(): Promise<void>;
}

/** Starts the fakes of IAM, Lambda and EventBridge, and the verifier's clients on them. */
export async function startVerifierFakes(options: { pageSize?: number } = {}): Promise<VerifierFakes> {
  const [iamFake, lambdaFake, eventsFake] = await Promise.all([
    FakeIamServer.start(options),
    FakeLambdaServer.start(options),
    FakeEventBridgeServer.start(),
  ]);
  const common = {
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
  };
  const clients = {
    iam: createIamClient({ ...common, endpoint: iamFake.endpoint }),
    lambda: createLambdaClient({ ...common, region: REGION, endpoint: lambdaFake.endpoint }),
    events: createEventBridgeClient({ ...common, region: REGION, endpoint: eventsFake.endpoint }),
  };
  return {
    iam: iamFake,
    lambda: lambdaFake,
    events: eventsFake,
    clients,
    endpoints: {
      AWS_ENDPOINT_URL_IAM: iamFake.endpoint,
      AWS_ENDPOINT_URL_LAMBDA: lambdaFake.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: eventsFake.endpoint,
    },
    close: async () => {
      for (const client of Object.values(clients)) client.destroy();
      await Promise.all([iamFake.close(), lambdaFake.close(), eventsFake.close()]);
    },
  };
}

/** Both ARN forms of a domain, `*`, `?` and `$` written as IAM's literal-character variables. */
export const swfArns = (domain: string): string[] => {
  const name = domain.replace(/[*?$]/g, (c) => `\${${c}}`);
  return [`arn:aws:swf:${REGION}:${ACCOUNT}:/domain/${name}`, `arn:aws:swf::${ACCOUNT}:/domain/${name}`];
};

/** A policy document of `statements`, named `name`. */
export const policy = (name: string, ...Statement: Record<string, unknown>[]): FakePolicy => ({
  name,
  document: { Version: '2012-10-17', Statement },
});

/**
 * The roles' policies as the construct writes them (lib/permissions.ts, written out here by hand, so that the
 * verifier's model is checked against an independent copy): for `config`'s domains, cancel and describe
 * domains, log group, state machine, queue and function.
 */
export function cleanPolicies(
  config: VerifyConfig,
): Record<'handler' | 'control' | 'stateMachine', FakePolicy[]> {
  const logs = [
    {
      Sid: 'WriteOwnLogs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: config.logGroupArn,
    },
    {
      Sid: 'ReadOwnJobProgress',
      Effect: 'Allow',
      Action: 'logs:FilterLogEvents',
      Resource: config.logGroupArn,
    },
  ];
  const jobs = [
    {
      Sid: 'StartAndListOwnJobs',
      Effect: 'Allow',
      Action: ['states:ListExecutions', 'states:StartExecution'],
      Resource: config.stateMachineArn,
    },
    {
      Sid: 'ReadAndStopOwnJobs',
      Effect: 'Allow',
      Action: ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:StopExecution'],
      Resource: `${config.stateMachineArn.replace(':stateMachine:', ':execution:')}:*`,
    },
  ];
  const queue = { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: config.deadLetterQueueArn };
  const swf = [
    {
      Sid: 'TerminateInChosenDomains',
      Effect: 'Allow',
      Action: [
        'swf:CountOpenWorkflowExecutions',
        'swf:ListOpenWorkflowExecutions',
        'swf:TerminateWorkflowExecution',
      ],
      Resource: config.domains.flatMap(swfArns),
    },
    ...(config.cancelDomains.length === 0
      ? []
      : [
          {
            Sid: 'CancelInChosenDomains',
            Effect: 'Allow',
            Action: 'swf:RequestCancelWorkflowExecution',
            Resource: config.cancelDomains.flatMap(swfArns),
          },
        ]),
    ...(config.describeDomains.length === 0
      ? []
      : [
          {
            Sid: 'DescribeInChosenDomains',
            Effect: 'Allow',
            Action: 'swf:DescribeWorkflowExecution',
            Resource: config.describeDomains.flatMap(swfArns),
          },
        ]),
  ];
  const fn = config.handlerFunctionArn;
  const restoreFn = config.restore?.functionArn;
  return {
    handler: [policy('TerminatorRoleDefaultPolicy', ...logs, ...swf, ...jobs, queue)],
    control: [policy('TerminatorControlRoleDefaultPolicy', ...logs, ...jobs, queue)],
    stateMachine: [
      policy(
        'TerminatorJobsRoleDefaultPolicy',
        {
          Effect: 'Allow',
          Action: 'lambda:InvokeFunction',
          Resource: [fn, `${fn}:*`],
        },
        ...(restoreFn === undefined
          ? []
          : [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [restoreFn, `${restoreFn}:*`] }]),
      ),
    ],
  };
}

/**
 * Restore's role's policy as the construct writes it (lib/restore.ts, written out by hand like
 * {@link cleanPolicies}), for `config.restore`; undefined without restore.
 */
export function cleanRestorePolicies(config: VerifyConfig): FakePolicy[] | undefined {
  const { restore } = config;
  if (restore === undefined) return undefined;
  return [
    policy(
      'TerminatorRestoreRoleDefaultPolicy',
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: config.logGroupArn,
      },
      {
        Sid: 'RestoreInChosenDomains',
        Effect: 'Allow',
        Action: [
          'swf:GetWorkflowExecutionHistory',
          'swf:ListClosedWorkflowExecutions',
          'swf:ListOpenWorkflowExecutions',
          'swf:StartWorkflowExecution',
        ],
        Resource: config.domains.flatMap(swfArns),
      },
      {
        Sid: 'StartOwnRestoreJobs',
        Effect: 'Allow',
        Action: 'states:StartExecution',
        Resource: config.stateMachineArn,
      },
      {
        Sid: 'ReadOwnRestoreJobs',
        Effect: 'Allow',
        Action: 'states:DescribeExecution',
        Resource: `${config.stateMachineArn.replace(':stateMachine:', ':execution:')}:*`,
      },
      ...(restore.lambdaRoles.length === 0
        ? []
        : [
            {
              Sid: 'PassRestoredRunsLambdaRoles',
              Effect: 'Allow',
              Action: 'iam:PassRole',
              Resource: [...restore.lambdaRoles],
              Condition: { StringEquals: { 'iam:PassedToService': 'swf.amazonaws.com' } },
            },
          ]),
    ),
  ];
}

/** Restore's role, function and one Lambda role in the fixtures' account (for `verifyConfig({ restore })`). */
export const RESTORE = {
  roleArn: roleArn('TerminatorRestoreRole'),
  functionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Stack-TerminatorRestoreFunction`,
  lambdaRoles: [roleArn('workflow-lambdas')],
} as const;

/** The state machine role's trust, as the construct writes it. */
export const STATES_TRUST: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

/**
 * A clean deployment of `config` in the fakes: its roles ({@link cleanPolicies}, {@link cleanRestorePolicies},
 * their trusts), its functions invocable by its rules only (restore's by nobody), its bus without a policy.
 */
export function putCleanDeployment(fakes: DeploymentFakes, config: VerifyConfig): void {
  const policies = cleanPolicies(config);
  fakes.iam.putRole(config.handlerRoleArn, policies.handler);
  if (config.controlRoleArn !== undefined) fakes.iam.putRole(config.controlRoleArn, policies.control);
  if (config.stateMachineRoleArn !== undefined) {
    fakes.iam.putRole(config.stateMachineRoleArn, policies.stateMachine, STATES_TRUST);
  }
  const restore = cleanRestorePolicies(config);
  if (config.restore !== undefined && restore !== undefined) {
    // Restore's role trusts Lambda (the fake's default trust); its function has no policy at all.
    fakes.iam.putRole(config.restore.roleArn, restore);
    fakes.lambda.putFunction(config.restore.functionArn);
  }
  const functions = [
    [config.handlerFunctionArn, config.handlerRules],
    [config.controlFunctionArn, config.controlRules],
  ] as const;
  for (const [fn, rules] of functions) {
    if (fn === undefined) continue;
    fakes.lambda.putFunction(fn);
    for (const [i, rule] of rules.entries()) {
      fakes.lambda.addStatement(fn, {
        Sid: `rule-${i}`,
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'lambda:InvokeFunction',
        Resource: fn,
        Condition: { ArnLike: { 'AWS:SourceArn': `arn:aws:events:${REGION}:${ACCOUNT}:rule/${rule}` } },
      });
    }
  }
  fakes.events.putBus(config.eventBusArn);
}
