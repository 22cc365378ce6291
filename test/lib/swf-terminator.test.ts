import * as fs from 'fs';
import * as path from 'path';
import { App, Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import {
  CHILD_POLICIES,
  DEFAULT_RATE_SHARES,
  DEFAULT_TERMINATE_BURST,
  DEFAULT_TERMINATE_RATE_PER_SECOND,
  ENV,
  METRICS_NAMESPACE,
} from '../../lib/contract';
import { ChildPolicy, SwfTerminator } from '../../lib';
import { HANDLER_ASSET_DIR, HANDLER_RUNTIME } from '../../lib/handler-asset';
import {
  functionOf,
  onlyResource,
  resourceDependencies,
  resourceNamed,
  synthTerminator,
  testApp,
} from '../support/construct-helpers';

/** The role's default policy (the one the function depends on), by its construct path. */
function defaultPolicy(template: Template): { Properties: Record<string, unknown> } {
  const found = Object.entries(template.findResources('AWS::IAM::Policy'))
    .filter(([id]) => /^TerminatorRoleDefaultPolicy/.test(id))
    .map(([, r]) => r);
  if (found.length !== 1) throw new Error(`expected one default policy, found ${found.length}`);
  return found[0] as { Properties: Record<string, unknown> };
}

const DLQ_ARN = { 'Fn::GetAtt': [Match.stringLikeRegexp('^TerminatorDeadLetterQueue'), 'Arn'] };

/** The state machine's ARN as the functions' policies write it (from its name: no reference, no cycle). */
function stateMachineArn(template: Template, resource = 'stateMachine', suffix = '') {
  const name = String(
    onlyResource(template, 'AWS::StepFunctions::StateMachine').resource.Properties.StateMachineName,
  );
  return {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':states:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        `:${resource}:${name}${suffix}`,
      ],
    ],
  };
}

/** The ARNs of the state machine's executions (its jobs). */
const executionArns = (template: Template) => stateMachineArn(template, 'execution', ':*');

describe('the function', () => {
  test('runs the newest Node.js runtime on arm64 with 256 MiB and a 5 minute timeout by default', () => {
    // GIVEN / WHEN a terminator with only domains
    const { template } = synthTerminator();
    // THEN
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 300,
      Handler: 'index.handler',
    });
    expect(HANDLER_RUNTIME).toBe(lambda.Runtime.NODEJS_24_X);
  });

  test('reserves concurrency 1 by default: one rate share, mirrored in TERMINATE_RATE_SHARES', () => {
    // GIVEN / WHEN
    const { template } = synthTerminator();
    // THEN
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 1,
      Environment: { Variables: Match.objectLike({ TERMINATE_RATE_SHARES: '1' }) },
    });
  });

  test('carries the contract environment and no DEFAULT_CHILD_POLICY when none is set', () => {
    // GIVEN / WHEN
    const { template, terminator } = synthTerminator({ domains: ['orders', 'billing'] });
    // THEN the environment is exactly this
    const { resource } = functionOf(template);
    expect(resource.Properties.Environment).toEqual({
      Variables: {
        ALLOWED_DOMAINS: 'orders,billing',
        MAX_EXECUTIONS: '1000',
        DRY_RUN: 'false',
        REQUEST_DETAIL_TYPE: 'SWF Termination Request',
        TERMINATE_RATE_PER_SECOND: '50',
        TERMINATE_BURST: '100',
        TERMINATE_RATE_SHARES: '1',
        // Requests may only terminate; no policy cancels or describes.
        CANCEL_REQUESTS: 'false',
        CANCEL_DOMAINS: '',
        DESCRIBE_DOMAINS: '',
        // No policy: no policy run is accepted.
        POLICY_DIGESTS: '',
        // The state machine's ARN, written from its name (not a reference: the state machine references the
        // function, so a reference back would be a cycle).
        STATE_MACHINE_ARN: stateMachineArn(template),
        // The functions' log group: a job's status reads its chunks' progress back from it.
        LOG_GROUP_NAME: { Ref: onlyResource(template, 'AWS::Logs::LogGroup').logicalId },
        POWERTOOLS_SERVICE_NAME: terminator.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
  });

  test("the pacing defaults are the contract's", () => {
    // GIVEN / WHEN
    const { template } = synthTerminator();
    // THEN
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: DEFAULT_RATE_SHARES,
      Environment: {
        Variables: Match.objectLike({
          [ENV.terminateRatePerSecond]: String(DEFAULT_TERMINATE_RATE_PER_SECOND),
          [ENV.terminateBurst]: String(DEFAULT_TERMINATE_BURST),
          [ENV.rateShares]: String(DEFAULT_RATE_SHARES),
        }),
      },
    });
  });

  test('passes terminateRatePerSecond, terminateBurst and the rate shares to the handler', () => {
    // GIVEN / WHEN
    const { template } = synthTerminator({
      terminateRatePerSecond: 12.5,
      terminateBurst: 40,
      reservedConcurrentExecutions: 4,
    });
    // THEN the shares are the reserved concurrency, in both places
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 4,
      Environment: {
        Variables: Match.objectLike({
          TERMINATE_RATE_PER_SECOND: '12.5',
          TERMINATE_BURST: '40',
          TERMINATE_RATE_SHARES: '4',
        }),
      },
    });
  });

  test('unresolved numbers reach the environment as strings; the shares equal the reserved concurrency', () => {
    // GIVEN numbers known only at deploy time
    const shares = Lazy.number({ produce: () => 3 });
    // WHEN
    const { template } = synthTerminator({
      reservedConcurrentExecutions: shares,
      terminateRatePerSecond: Lazy.number({ produce: () => 30 }),
      terminateBurst: Lazy.number({ produce: () => 60 }),
      maxExecutionsPerRequest: Lazy.number({ produce: () => 500 }),
    });
    // THEN the concurrency and the shares resolve to the same value, every variable a string
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 3,
      Environment: {
        Variables: Match.objectLike({
          TERMINATE_RATE_SHARES: '3',
          TERMINATE_RATE_PER_SECOND: '30',
          TERMINATE_BURST: '60',
          MAX_EXECUTIONS: '500',
        }),
      },
    });
  });

  test("never invokes itself: Lambda's recursive loop detection stays on, no policy grants lambda:InvokeFunction", () => {
    // GIVEN / WHEN
    const { template } = synthTerminator();
    // THEN
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
      expect((fn as { Properties: { RecursiveLoop?: string } }).Properties.RecursiveLoop ?? 'Terminate').toBe(
        'Terminate',
      );
    }
    for (const id of ['TerminatorRole', 'TerminatorControlRole']) {
      const policy = resourceNamed(template, 'AWS::IAM::Policy', `${id}DefaultPolicy`).resource.Properties;
      expect(JSON.stringify(policy)).not.toMatch(/lambda:/);
    }
  });

  test.each(Object.values(ChildPolicy))('passes childPolicy %s as DEFAULT_CHILD_POLICY', (policy) => {
    // GIVEN / WHEN
    const { template } = synthTerminator({ childPolicy: policy });
    // THEN
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DEFAULT_CHILD_POLICY: policy }) },
    });
  });

  test('passes dryRun, maxExecutionsPerRequest and requestDetailType to the handler', () => {
    // GIVEN / WHEN
    const { template } = synthTerminator({
      dryRun: true,
      maxExecutionsPerRequest: 25,
      requestDetailType: 'Stop Workflows',
    });
    // THEN
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          DRY_RUN: 'true',
          MAX_EXECUTIONS: '25',
          REQUEST_DETAIL_TYPE: 'Stop Workflows',
        }),
      },
    });
  });

  test('takes memory, timeout, reserved concurrency and log retention from props', () => {
    // GIVEN / WHEN
    const { template } = synthTerminator({
      memorySize: 512,
      timeout: Duration.minutes(15),
      reservedConcurrentExecutions: 2,
      logRetention: logs.RetentionDays.ONE_MONTH,
    });
    // THEN
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 512,
      Timeout: 900,
      ReservedConcurrentExecutions: 2,
      Environment: { Variables: Match.objectLike({ TERMINATE_RATE_SHARES: '2' }) },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test('logs to its own log group, kept one year and retained when the stack is deleted', () => {
    // GIVEN / WHEN
    const { template } = synthTerminator();
    // THEN
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    const { logicalId } = onlyResource(template, 'AWS::Logs::LogGroup');
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 365 },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogGroup: { Ref: logicalId } },
    });
  });

  test('retries a failed asynchronous invocation twice, then sends it to the dead-letter queue', () => {
    // GIVEN / WHEN
    const { template } = synthTerminator();
    // THEN
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      Qualifier: '$LATEST',
      DestinationConfig: { OnFailure: { Destination: DLQ_ARN } },
    });
  });

  test('lets only its rule invoke it (the state machine invokes it through its role)', () => {
    // GIVEN / WHEN
    const { template } = synthTerminator();
    // THEN one permission per function, each for its own rule
    template.resourceCountIs('AWS::Lambda::Permission', 2);
    for (const [rule, fn] of [
      ['TerminatorRule', functionOf(template).logicalId],
      ['TerminatorControlRule', functionOf(template, 'control').logicalId],
    ] as const) {
      const { logicalId: ruleId } = resourceNamed(template, 'AWS::Events::Rule', rule);
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [fn, 'Arn'] },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
      });
    }
  });

  test('deploys the handler the package ships, as it is: no bundling at synth', () => {
    // GIVEN a plain app
    const app = new App();
    const stack = new Stack(app, 'AssetStack');
    new SwfTerminator(stack, 'Terminator', { domains: ['orders'] });
    // WHEN
    const assembly = app.synth();
    // THEN the function runs index.handler on Node.js 24 from an asset that is the shipped directory, byte for byte
    const template = Template.fromJSON(assembly.getStackByName('AssetStack').template as object);
    const { resource } = functionOf(template);
    expect(resource.Properties).toMatchObject({ Handler: 'index.handler', Runtime: 'nodejs24.x' });
    const key = (resource.Properties.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '');
    const assetDir = path.join(assembly.directory, `asset.${key}`);
    expect(fs.readdirSync(assetDir).sort()).toEqual(fs.readdirSync(HANDLER_ASSET_DIR).sort());
    for (const file of fs.readdirSync(HANDLER_ASSET_DIR)) {
      expect(
        fs
          .readFileSync(path.join(assetDir, file))
          .equals(fs.readFileSync(path.join(HANDLER_ASSET_DIR, file))),
      ).toBe(true);
    }
  });
});

describe('the role', () => {
  test('is assumed by Lambda and has no managed policy (both functions have one of their own)', () => {
    // GIVEN / WHEN
    const { template } = synthTerminator();
    // THEN
    for (const id of ['TerminatorRole', 'TerminatorControlRole']) {
      const { resource } = resourceNamed(template, 'AWS::IAM::Role', id);
      expect(resource.Properties).not.toHaveProperty('ManagedPolicyArns');
      expect(resource.Properties.AssumeRolePolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
        ],
      });
    }
  });

  test("default policy has exactly: own log group (write, and read its jobs' progress), count/list/terminate in both ARN forms of each domain, its own jobs, send to the DLQ", () => {
    // GIVEN / WHEN
    const { template } = synthTerminator({ domains: ['orders', 'billing'] });
    // THEN
    const { logicalId: logGroupId } = onlyResource(template, 'AWS::Logs::LogGroup');
    const { logicalId: queueId } = onlyResource(template, 'AWS::SQS::Queue');
    const resource = defaultPolicy(template);
    const arn = (region: string, domain: string) => ({
      'Fn::Join': [
        '',
        region === ''
          ? ['arn:', { Ref: 'AWS::Partition' }, ':swf::', { Ref: 'AWS::AccountId' }, `:/domain/${domain}`]
          : [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':swf:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              `:/domain/${domain}`,
            ],
      ],
    });
    expect(resource.Properties.PolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'WriteOwnLogs',
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
        },
        {
          Sid: 'ReadOwnJobProgress',
          Effect: 'Allow',
          Action: 'logs:FilterLogEvents',
          Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
        },
        {
          Sid: 'TerminateInChosenDomains',
          Effect: 'Allow',
          Action: [
            'swf:CountOpenWorkflowExecutions',
            'swf:ListOpenWorkflowExecutions',
            'swf:TerminateWorkflowExecution',
          ],
          Resource: [arn('r', 'orders'), arn('', 'orders'), arn('r', 'billing'), arn('', 'billing')],
        },
        {
          Sid: 'StartAndListOwnJobs',
          Effect: 'Allow',
          Action: ['states:StartExecution', 'states:ListExecutions'],
          Resource: stateMachineArn(template),
        },
        {
          Sid: 'ReadAndStopOwnJobs',
          Effect: 'Allow',
          Action: ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:StopExecution'],
          Resource: executionArns(template),
        },
        {
          Effect: 'Allow',
          Action: 'sqs:SendMessage',
          Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
        },
      ],
    });
  });

  test('has no dependency cycle: the state machine references the function, the function names it by ARN', () => {
    // GIVEN / WHEN
    const { template } = synthTerminator();
    // THEN the template loads (Template refuses one with a cycle), and only the state machine depends on
    // the function (its task), not the other way round
    expect(() => Template.fromJSON(template.toJSON())).not.toThrow();
    const deps = resourceDependencies(template);
    const { logicalId: fnId } = functionOf(template);
    const { logicalId: machineId } = onlyResource(template, 'AWS::StepFunctions::StateMachine');
    expect(deps.get(machineId)).toContain(fnId);
    expect(deps.get(fnId)).not.toContain(machineId);
  });
});

describe('the event bus', () => {
  test('is created with no resource policy when none is given', () => {
    // GIVEN / WHEN
    const { template } = synthTerminator();
    // THEN
    template.resourceCountIs('AWS::Events::EventBus', 1);
    template.resourceCountIs('AWS::Events::EventBusPolicy', 0);
    const { resource } = onlyResource(template, 'AWS::Events::EventBus');
    expect(resource.Properties).not.toHaveProperty('Policy');
    expect(resource.Properties).not.toHaveProperty('EventSourceName');
  });

  test('is named eventBusName when given', () => {
    // GIVEN / WHEN
    const { template } = synthTerminator({ eventBusName: 'swf-termination-requests' });
    // THEN
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'swf-termination-requests' });
  });

  test('is the given bus when eventBus is given: none is created and the rule sits on it', () => {
    // GIVEN an existing bus
    const app = testApp();
    const stack = new Stack(app, 'TestStack');
    const bus = events.EventBus.fromEventBusName(stack, 'Existing', 'ops-bus');
    // WHEN
    const terminator = new SwfTerminator(stack, 'Terminator', { domains: ['orders'], eventBus: bus });
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Events::EventBus', 0);
    template.hasResourceProperties('AWS::Events::Rule', { EventBusName: 'ops-bus' });
    expect(terminator.eventBus).toBe(bus);
  });

  test('grantRequest grants events:PutEvents on the bus and nothing else', () => {
    // GIVEN a terminator and a role that should send requests
    const app = testApp();
    const stack = new Stack(app, 'TestStack');
    const terminator = new SwfTerminator(stack, 'Terminator', { domains: ['orders'] });
    const sender = new iam.Role(stack, 'Sender', { assumedBy: new iam.AccountRootPrincipal() });
    // WHEN
    const grant = terminator.grantRequest(sender);
    // THEN
    expect(grant.success).toBe(true);
    const template = Template.fromStack(stack);
    const { logicalId: busId } = onlyResource(template, 'AWS::Events::EventBus');
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Sender') }],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'events:PutEvents', Resource: { 'Fn::GetAtt': [busId, 'Arn'] } },
        ],
      },
    });
  });
});

describe('grantRequest to a principal without a policy of this account', () => {
  test.each([
    ['another account', new iam.AccountPrincipal('444455556666')],
    ['a service', new iam.ServicePrincipal('sns.amazonaws.com')],
  ])(
    '%s: refused at synth, saying requests come through identity policies only; the bus gets no policy',
    (_what, principal) => {
      // GIVEN
      const stack = new Stack(testApp(), 'TestStack');
      const terminator = new SwfTerminator(stack, 'Terminator', { domains: ['orders'] });
      // WHEN / THEN
      expect(() => terminator.grantRequest(principal)).toThrow(
        'SwfTerminator.grantRequest: the grantee has no policy of this account to add events:PutEvents to',
      );
      Template.fromStack(stack).resourceCountIs('AWS::Events::EventBusPolicy', 0);
    },
  );
});

describe('the rule', () => {
  test('matches source, detail-type and the chosen domains only', () => {
    // GIVEN / WHEN
    const { template } = synthTerminator({ domains: ['orders', 'billing'] });
    // THEN
    const { logicalId: busId } = onlyResource(template, 'AWS::Events::EventBus');
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: busId },
      State: 'ENABLED',
      EventPattern: {
        source: ['swf-terminator'],
        'detail-type': ['SWF Termination Request'],
        detail: { domain: ['orders', 'billing'] },
      },
    });
  });

  test('uses requestSource and requestDetailType when given', () => {
    // GIVEN / WHEN
    const { template } = synthTerminator({
      requestSource: 'com.example.ops',
      requestDetailType: 'Stop Workflows',
    });
    // THEN
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        source: ['com.example.ops'],
        'detail-type': ['Stop Workflows'],
      }),
    });
  });

  test("targets its function with EventBridge's default retry policy and the dead-letter queue", () => {
    // GIVEN / WHEN
    const { template } = synthTerminator();
    // THEN exactly one target per rule: requests to the handler, control requests to the control function
    for (const [rule, fn] of [
      ['TerminatorRule', functionOf(template).logicalId],
      ['TerminatorControlRule', functionOf(template, 'control').logicalId],
    ] as const) {
      const { resource } = resourceNamed(template, 'AWS::Events::Rule', rule);
      expect(resource.Properties.Targets).toEqual([
        {
          Id: 'Target0',
          Arn: { 'Fn::GetAtt': [fn, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [expect.stringMatching(/^TerminatorDeadLetterQueue/), 'Arn'] },
          },
        },
      ]);
    }
  });

  test('takes retryAttempts and maxEventAge from props', () => {
    // GIVEN / WHEN
    const { template } = synthTerminator({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
    // THEN
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } })],
    });
  });
});

describe('the dead-letter queue', () => {
  test('is the only queue: SQS-managed encryption, kept 14 days', () => {
    // GIVEN / WHEN
    const { template } = synthTerminator();
    // THEN
    template.resourceCountIs('AWS::SQS::Queue', 1);
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });

  test('refuses requests without TLS and accepts messages from the rules only', () => {
    // GIVEN / WHEN
    const { template } = synthTerminator();
    // THEN
    const { logicalId: queueId } = onlyResource(template, 'AWS::SQS::Queue');
    const fromRule = (rule: string) => ({
      Sid: expect.any(String),
      Effect: 'Allow',
      Action: 'sqs:SendMessage',
      Principal: { Service: 'events.amazonaws.com' },
      Condition: {
        ArnEquals: {
          'aws:SourceArn': {
            'Fn::GetAtt': [resourceNamed(template, 'AWS::Events::Rule', rule).logicalId, 'Arn'],
          },
        },
      },
      Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
    });
    const { resource } = onlyResource(template, 'AWS::SQS::QueuePolicy');
    expect(resource.Properties.Queues).toEqual([{ Ref: queueId }]);
    expect(resource.Properties.PolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Action: 'sqs:*',
          Principal: { AWS: '*' },
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
        },
        fromRule('TerminatorRule'),
        fromRule('TerminatorControlRule'),
      ],
    });
  });
});

describe('metrics', () => {
  test.each([
    ['metricTerminated', 'Terminated'],
    ['metricAlreadyClosed', 'AlreadyClosed'],
    ['metricFailed', 'Failed'],
    ['metricRejected', 'Rejected'],
    ['metricWouldTerminate', 'WouldTerminate'],
    ['metricNoOpenRun', 'NoOpenRun'],
    ['metricNoLongerMatches', 'NoLongerMatches'],
    ['metricJobsStarted', 'JobsStarted'],
    ['metricJobsAborted', 'JobsAborted'],
  ] as const)('%s reads %s, summed over 5 minutes, for this instance', (method, metricName) => {
    // GIVEN
    const { terminator } = synthTerminator();
    // WHEN
    const metric = terminator[method]();
    // THEN
    expect(metric.namespace).toBe(METRICS_NAMESPACE);
    expect(metric.metricName).toBe(metricName);
    expect(metric.dimensions).toEqual({ service: terminator.serviceName });
    expect(metric.statistic).toBe('Sum');
    expect(metric.period.toSeconds()).toBe(300);
  });

  test("metricJobsFailed reads the state machine's ExecutionsFailed, summed over 5 minutes", () => {
    // GIVEN
    const { terminator, stack } = synthTerminator();
    // WHEN
    const metric = terminator.metricJobsFailed();
    // THEN
    expect(metric.namespace).toBe('AWS/States');
    expect(metric.metricName).toBe('ExecutionsFailed');
    expect(stack.resolve(metric.dimensions)).toEqual({
      StateMachineArn: {
        Ref: onlyResource(Template.fromStack(stack), 'AWS::StepFunctions::StateMachine').logicalId,
      },
    });
    expect(metric.statistic).toBe('Sum');
    expect(metric.period.toSeconds()).toBe(300);
  });

  test('metric() takes overrides for period, statistic and any metric name', () => {
    // GIVEN
    const { terminator } = synthTerminator();
    // WHEN
    const metric = terminator.metric('Custom', { period: Duration.minutes(1), statistic: 'Maximum' });
    // THEN
    expect(metric.metricName).toBe('Custom');
    expect(metric.period.toSeconds()).toBe(60);
    expect(metric.statistic).toBe('Maximum');
    expect(metric.namespace).toBe(METRICS_NAMESPACE);
  });

  test('the service dimension is the POWERTOOLS_SERVICE_NAME the function gets, unique per instance', () => {
    // GIVEN two terminators in one stack
    const app = testApp();
    const stack = new Stack(app, 'TestStack');
    const a = new SwfTerminator(stack, 'A', { domains: ['orders'] });
    const b = new SwfTerminator(stack, 'B', { domains: ['billing'] });
    // WHEN
    const template = Template.fromStack(stack);
    // THEN
    expect(a.serviceName).not.toBe(b.serviceName);
    for (const t of [a, b]) {
      expect(t.serviceName).toMatch(/^[A-Za-z0-9]+$/);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: t.serviceName }) },
      });
    }
  });
});

describe('public API', () => {
  test('exposes handler, controlHandler, stateMachine, eventBus, rule, controlRule, deadLetterQueue and logGroup', () => {
    // GIVEN / WHEN
    const { terminator, stack } = synthTerminator();
    // THEN each is the resource the construct made
    expect(terminator.handler).toBeInstanceOf(lambda.Function);
    expect(terminator.controlHandler).toBeInstanceOf(lambda.Function);
    expect(terminator.controlHandler).not.toBe(terminator.handler);
    expect(terminator.stateMachine).toBeInstanceOf(sfn.StateMachine);
    expect(terminator.eventBus).toBeInstanceOf(events.EventBus);
    expect(terminator.rule).toBeInstanceOf(events.Rule);
    expect(terminator.controlRule).toBeInstanceOf(events.Rule);
    expect(terminator.deadLetterQueue).toBeInstanceOf(sqs.Queue);
    expect(terminator.logGroup).toBeInstanceOf(logs.LogGroup);
    expect(Stack.of(terminator.handler)).toBe(stack);
  });

  test('ChildPolicy has exactly the values of the contract', () => {
    // THEN
    expect(Object.values(ChildPolicy)).toEqual([...CHILD_POLICIES]);
  });
});
