/**
 * The least-privilege verifier as the construct synthesizes it (lib/verifier.ts): its function and role, the
 * configuration it is given (VERIFY_CONFIG, read back by its own parser), the fingerprint that re-runs the
 * deploy-time trigger when a checked role's policy changes, the trigger, the optional schedule, its metric;
 * and its own role's least privilege, proven offline by the IAM policy simulator (test/support/iam-simulation.ts).
 */
import { FileSystem, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { VerifyConfig } from '../../lambda/verify/checks';
import { parseVerifyConfig } from '../../lambda/verify/config';
import { SwfTerminator, type SwfTerminatorProps } from '../../lib';
import { VERIFIER_ASSET_DIR } from '../../lib/handler-asset';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createVerifyHandler } from '../../lambda/verify/run';
import { functionOf, onlyResource, resourceNamed, testApp } from '../support/construct-helpers';
import { startVerifierFakes } from '../support/verify-fixtures';
import { ACCOUNT, decide, ENV, OTHER_ACCOUNT, REGION, ROLES, rolePolicies } from '../support/iam-simulation';
import {
  addRetireCheckoutV1,
  addStalled,
  addStuckImports,
  addContractPolicies,
} from '../support/policy-helpers';
import {
  loadDeployment,
  RESTORE_ROLE,
  roleArnIn,
  roleId,
  synthConcrete,
  VERIFIER,
  verifierEnvironment,
  verifierFunction,
  withConcreteRoleArns,
} from '../support/verifier-helpers';

/** A request's resource "*" as IAM reads it: literally (see test/support/fake-iam.ts). */
const LITERAL_STAR = '\uE000';

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };

/** The resources of a template, by logical id. */
const resourcesOf = (template: Template) => template.toJSON().Resources as Record<string, Resource>;

/** The logical id of the one AWS::IAM::Policy whose logical id starts with `prefix`. */
const policyId = (template: Template, prefix: string) =>
  resourceNamed(template, 'AWS::IAM::Policy', `${prefix}DefaultPolicy`).logicalId;

/** The verifier's POLICY_FINGERPRINT, as synthesized. */
const fingerprintOf = (template: Template) =>
  (verifierFunction(template).resource.Properties.Environment as { Variables: Record<string, unknown> })
    .Variables.POLICY_FINGERPRINT;

/** The Custom::Trigger resources of a template. */
const triggersOf = (template: Template) =>
  Object.entries(resourcesOf(template)).filter(([, r]) => r.Type === 'Custom::Trigger');

/** The logical id of the Lambda version the one trigger runs. */
function triggeredVersion(template: Template): string {
  const triggers = triggersOf(template);
  expect(triggers).toHaveLength(1);
  return (triggers[0]![1].Properties.HandlerArn as { Ref: string }).Ref;
}

/** An Allow statement. */
/** An AWS::IAM::RolePolicy the app attaches to the handler's role, from the role's side: swf:* on *. */
function addBroadRolePolicy(t: SwfTerminator): iam.CfnRolePolicy {
  return new iam.CfnRolePolicy(Stack.of(t), 'ExtraRolePolicy', {
    roleName: t.handler.role!.roleName,
    policyName: 'extra',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'swf:*', Resource: '*' }],
    },
  });
}

function statement(action: string, resource: string): iam.PolicyStatement {
  return new iam.PolicyStatement({ actions: [action], resources: [resource] });
}

describe('the verifier function', () => {
  // GIVEN a terminator, synthesized
  const { template } = synthConcrete();
  const handler = functionOf(template).resource.Properties;
  const verifier = verifierFunction(template);
  const logGroupId = onlyResource(template, 'AWS::Logs::LogGroup').logicalId;

  test("runs the verifier bundle (assets/verifier) as index.handler, on the handler's runtime and architecture, for up to 3 minutes", () => {
    // THEN
    const props = verifier.resource.Properties;
    expect(props.Runtime).toBe(handler.Runtime);
    expect(props.Architectures).toEqual(handler.Architectures);
    expect(props.Handler).toBe('index.handler');
    expect(props.Timeout).toBe(180);
    // The asset's hash is the fingerprint of assets/verifier: the verifier's bundle, not the handler's.
    expect((props.Code as { S3Key: string }).S3Key).toBe(`${FileSystem.fingerprint(VERIFIER_ASSET_DIR)}.zip`);
    expect(props.Code).not.toEqual(handler.Code);
  });

  test("is never retried by Lambda (EventInvokeConfig MaximumRetryAttempts 0) and logs to the terminator's log group", () => {
    // THEN
    const configs = Object.values(resourcesOf(template)).filter(
      (r) =>
        r.Type === 'AWS::Lambda::EventInvokeConfig' &&
        (r.Properties.FunctionName as { Ref?: string }).Ref === verifier.logicalId,
    );
    expect(configs).toHaveLength(1);
    expect(configs[0]!.Properties).toEqual({
      FunctionName: { Ref: verifier.logicalId },
      MaximumRetryAttempts: 0,
      Qualifier: '$LATEST',
    });
    expect(verifier.resource.Properties.LoggingConfig).toEqual({ LogGroup: { Ref: logGroupId } });
  });

  test("its own role has exactly its logs, and reading and simulating the terminator's roles, functions and bus; no managed policy", () => {
    // GIVEN the verifier's role
    const verifierRole = roleId(template, VERIFIER.role);
    expect(verifier.resource.Properties.Role).toEqual({ 'Fn::GetAtt': [verifierRole, 'Arn'] });
    const role = resourcesOf(template)[verifierRole]!;

    // THEN it has no managed and no inline policy
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.Policies).toBeUndefined();
    // AND exactly one policy is attached to it, with these statements
    const attached = Object.values(resourcesOf(template)).filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        (r.Properties.Roles as { Ref?: string }[]).some((x) => x.Ref === verifierRole),
    );
    expect(attached).toHaveLength(1);
    const roles = [ROLES.handler, ROLES.control, ROLES.stateMachine].map((prefix) => ({
      'Fn::GetAtt': [roleId(template, prefix), 'Arn'],
    }));
    const fn = (prefix: string) => ({
      'Fn::GetAtt': [resourceNamed(template, 'AWS::Lambda::Function', prefix).logicalId, 'Arn'],
    });
    const qualified = (prefix: string) => ({ 'Fn::Join': ['', [fn(prefix), ':*']] });
    const managed = (owner: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${owner}:policy/*`]],
    });
    expect((attached[0]!.Properties.PolicyDocument as { Statement: unknown }).Statement).toEqual([
      {
        Sid: 'WriteOwnLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
      },
      {
        Sid: 'SimulateTheTerminatorsRoles',
        Effect: 'Allow',
        Action: 'iam:SimulatePrincipalPolicy',
        Resource: roles,
      },
      {
        Sid: 'ReadTheTerminatorsRoles',
        Effect: 'Allow',
        Action: ['iam:GetRole', 'iam:ListRolePolicies', 'iam:GetRolePolicy', 'iam:ListAttachedRolePolicies'],
        Resource: roles,
      },
      {
        Sid: 'ReadManagedPoliciesOfTheRoles',
        Effect: 'Allow',
        Action: ['iam:GetPolicy', 'iam:GetPolicyVersion'],
        Resource: [managed('aws'), managed(ACCOUNT)],
      },
      {
        Sid: 'ReadWhoMayInvokeTheFunctions',
        Effect: 'Allow',
        Action: ['lambda:GetPolicy', 'lambda:ListVersionsByFunction', 'lambda:ListAliases'],
        Resource: [
          fn('TerminatorHandler'),
          qualified('TerminatorHandler'),
          fn('TerminatorControlHandler'),
          qualified('TerminatorControlHandler'),
        ],
      },
      {
        Sid: 'ReadWhoMayUseTheBus',
        Effect: 'Allow',
        Action: 'events:DescribeEventBus',
        Resource: { 'Fn::GetAtt': [onlyResource(template, 'AWS::Events::EventBus').logicalId, 'Arn'] },
      },
    ]);
  });

  test('terminator.verifier is the verifier function', () => {
    // GIVEN a terminator
    const synthesized = synthConcrete();

    // WHEN its verifier's name is resolved
    const name = synthesized.stack.resolve(synthesized.terminator.verifier.functionName) as unknown;

    // THEN it is the verifier function's
    expect(name).toEqual({ Ref: verifierFunction(synthesized.template).logicalId });
  });
});

describe('VERIFY_CONFIG', () => {
  /** The configuration as the verifier parses it, in {@link ENV}. */
  function configOf(template: Template): VerifyConfig {
    return parseVerifyConfig(verifierEnvironment(template, ENV));
  }

  /**
   * The rules of `template` that target the function `functionId`, each as its ARN after `rule/`
   * (`BUS/NAME` on a bus of the stack, `NAME` on the default bus), physical names taken to be logical ids.
   */
  function rulesTargeting(template: Template, functionId: string): string[] {
    return Object.entries(resourcesOf(template))
      .filter(([, r]) => r.Type === 'AWS::Events::Rule')
      .filter(([, r]) =>
        (r.Properties.Targets as { Arn: unknown }[]).some(
          (t) => JSON.stringify(t.Arn) === JSON.stringify({ 'Fn::GetAtt': [functionId, 'Arn'] }),
        ),
      )
      .map(([id, r]) => {
        const bus = r.Properties.EventBusName as { Ref: string } | undefined;
        return bus === undefined ? id : `${bus.Ref}/${id}`;
      });
  }

  /** What the verifier must be told about the terminator in `template`, but for what it may cancel and describe. */
  function expectedBase(template: Template) {
    const handlerId = functionOf(template).logicalId;
    const controlId = resourceNamed(template, 'AWS::Lambda::Function', 'TerminatorControlHandler').logicalId;
    const machine = onlyResource(template, 'AWS::StepFunctions::StateMachine').resource.Properties;
    const at = (service: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}`;
    return {
      partition: 'aws',
      region: REGION,
      account: ACCOUNT,
      domains: ['orders', 'billing'],
      handlerRoleArn: roleArnIn(ENV, roleId(template, ROLES.handler)),
      controlRoleArn: roleArnIn(ENV, roleId(template, ROLES.control)),
      stateMachineRoleArn: roleArnIn(ENV, roleId(template, ROLES.stateMachine)),
      handlerFunctionArn: `${at('lambda')}:function:${handlerId}`,
      controlFunctionArn: `${at('lambda')}:function:${controlId}`,
      logGroupArn: `${at('logs')}:log-group:${onlyResource(template, 'AWS::Logs::LogGroup').logicalId}:*`,
      stateMachineArn: `${at('states')}:stateMachine:${String(machine.StateMachineName)}`,
      deadLetterQueueArn: `${at('sqs')}:${onlyResource(template, 'AWS::SQS::Queue').logicalId}`,
      eventBusArn: `${at('events')}:event-bus/${onlyResource(template, 'AWS::Events::EventBus').logicalId}`,
      handlerRules: rulesTargeting(template, handlerId),
      controlRules: rulesTargeting(template, controlId),
      // the event policies' breakers' table, when there is an event policy
      ...Object.fromEntries(
        Object.keys(template.findResources('AWS::DynamoDB::Table')).map((id) => [
          'breakerTableArn',
          `${at('dynamodb')}:table/${id}`,
        ]),
      ),
    };
  }

  test.each<[string, (t: SwfTerminator) => void, Partial<SwfTerminatorProps>, string[], string[]]>([
    ['no policy', () => undefined, {}, [], []],
    [
      "the issue's three policies, added after the constructor (Stalled, in dry run, may not cancel)",
      addContractPolicies,
      {},
      ['orders'],
      ['billing'],
    ],
    [
      'Stalled (billing, dryRun: false) added before RetireCheckoutV1 (orders)',
      (t) => {
        addStalled(t, { dryRun: false });
        addRetireCheckoutV1(t);
      },
      {},
      ['billing', 'orders'],
      ['billing'],
    ],
    ['StuckImports only (it terminates, nothing more)', addStuckImports, {}, [], []],
    ['allowCancelRequests', () => undefined, { allowCancelRequests: true }, ['orders', 'billing'], []],
  ])(
    'with %s: parses, and names the domains, the roles, the functions, the resources they are granted, the rules that may invoke them, where it may cancel and describe',
    (_what, addPolicies, props, cancelDomains, describeDomains) => {
      // GIVEN a terminator in a concrete environment, its policies added after the constructor
      const { template } = synthConcrete(addPolicies, props);

      // WHEN the verifier reads its configuration, intrinsics resolved as CloudFormation would
      const config = configOf(template);

      // THEN it is exactly what the terminator deployed
      expect(config).toEqual({ ...expectedBase(template), cancelDomains, describeDomains });
      // AND every rule of the stack but the control rule is one that may invoke the handler
      const rules = Object.values(resourcesOf(template)).filter((r) => r.Type === 'AWS::Events::Rule');
      expect(config.handlerRules).toHaveLength(rules.length - 1);
    },
  );

  test("an environment-agnostic stack: partition, region and account are the deployment's (pseudo parameters)", () => {
    // GIVEN a terminator in a stack with no environment
    const stack = new Stack(testApp(), 'Agnostic');
    new SwfTerminator(stack, 'Terminator', { domains: ['orders', 'billing'] });
    const template = Template.fromStack(stack);

    // WHEN the configuration is resolved in a concrete environment
    const config = configOf(template);

    // THEN it names that environment
    expect(config).toEqual({ ...expectedBase(template), cancelDomains: [], describeDomains: [] });
  });
});

describe('POLICY_FINGERPRINT: what re-runs the deploy-time check', () => {
  test('is the same in two synths of the same app', () => {
    // GIVEN the same app, synthesized twice
    const first = synthConcrete(addContractPolicies).template;
    const second = synthConcrete(addContractPolicies).template;

    // THEN the fingerprint, and with it the version the trigger runs, are the same
    expect(fingerprintOf(first)).toMatch(/^[0-9a-f]{32}$/);
    expect(fingerprintOf(second)).toBe(fingerprintOf(first));
    expect(triggeredVersion(second)).toBe(triggeredVersion(first));
  });

  test('changes when a policy adds a grant (Stalled: describe in billing), and so does the version the trigger runs', () => {
    // GIVEN the terminator with two of the policies, and with the Stalled policy too
    const before = synthConcrete((t) => {
      addStuckImports(t);
      addRetireCheckoutV1(t);
    }).template;
    const after = synthConcrete(addContractPolicies).template;

    // THEN the fingerprint differs, and the trigger runs a new version of the verifier
    expect(fingerprintOf(after)).not.toBe(fingerprintOf(before));
    expect(triggeredVersion(after)).not.toBe(triggeredVersion(before));
  });

  test.each<[string, (t: SwfTerminator) => void]>([
    [
      "the handler's role",
      (t) => {
        t.handler.addToRolePolicy(statement('swf:StartWorkflowExecution', '*'));
      },
    ],
    [
      "the control function's role",
      (t) => {
        t.controlHandler.addToRolePolicy(statement('swf:TerminateWorkflowExecution', '*'));
      },
    ],
    [
      "the state machine's role",
      (t) => {
        t.stateMachine.grantPrincipal.addToPrincipalPolicy(statement('lambda:InvokeFunction', '*'));
      },
    ],
  ])('changes when a statement is added to %s, though VERIFY_CONFIG does not', (_role, widen) => {
    // GIVEN the terminator, and the same terminator with one statement more on a checked role
    const { template: before } = synthConcrete(addContractPolicies);
    const { template: after } = synthConcrete((t) => {
      addContractPolicies(t);
      widen(t);
    });

    // THEN what the verifier is told is the same, but the fingerprint, and the version the trigger runs, differ
    expect(verifierEnvironment(after, ENV).VERIFY_CONFIG).toBe(
      verifierEnvironment(before, ENV).VERIFY_CONFIG,
    );
    expect(fingerprintOf(after)).not.toBe(fingerprintOf(before));
    expect(triggeredVersion(after)).not.toBe(triggeredVersion(before));
  });

  // Any policy attached to a checked role counts, not only its default policy: a managed policy, another
  // iam.Policy of the app.
  test.each<[string, (t: SwfTerminator) => void]>([
    [
      'a managed policy',
      (t) => {
        t.handler.role!.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSWFFullAccess'));
      },
    ],
    [
      'another iam.Policy',
      (t) =>
        new iam.Policy(Stack.of(t), 'ExtraGrant', {
          statements: [statement('swf:StartWorkflowExecution', '*')],
          roles: [t.handler.role!],
        }),
    ],
    [
      'a managed policy of the stack, from the role side',
      (t) => {
        t.handler.role!.addManagedPolicy(
          new iam.ManagedPolicy(Stack.of(t), 'ExtraManaged', {
            statements: [statement('swf:StartWorkflowExecution', '*')],
          }),
        );
      },
    ],
    ['a role policy (AWS::IAM::RolePolicy)', (t) => addBroadRolePolicy(t)],
  ])("changes when %s is attached to the handler's role in the app", (_what, attach) => {
    // GIVEN the terminator, and the same terminator with a policy more attached to its handler's role
    const { template: before } = synthConcrete(addContractPolicies);
    const { template: after } = synthConcrete((t) => {
      addContractPolicies(t);
      attach(t);
    });

    // THEN the fingerprint, and the version the trigger runs, differ
    expect(fingerprintOf(after)).not.toBe(fingerprintOf(before));
    expect(triggeredVersion(after)).not.toBe(triggeredVersion(before));
  });
});

describe('the deploy-time trigger', () => {
  test('runs the current version of the verifier, synchronously, after the roles, their policies and the state machine exist', () => {
    // GIVEN a terminator (verifyOnDeploy at its default)
    const { template } = synthConcrete(addContractPolicies);
    const resources = resourcesOf(template);

    // THEN there is one trigger
    const triggers = triggersOf(template);
    expect(triggers).toHaveLength(1);
    const [, trigger] = triggers[0]!;
    // AND it runs the verifier's current version, waiting for its answer (3 minutes), whenever that version changes
    const version = resources[triggeredVersion(template)]!;
    expect(version.Type).toBe('AWS::Lambda::Version');
    expect(version.Properties.FunctionName).toEqual({ Ref: verifierFunction(template).logicalId });
    expect(trigger.Properties).toMatchObject({
      ExecuteOnHandlerChange: true,
      InvocationType: 'RequestResponse',
      Timeout: '180000',
    });
    // AND it waits for the three roles, their policies, and the state machine
    const machine = onlyResource(template, 'AWS::StepFunctions::StateMachine').logicalId;
    expect(trigger.DependsOn).toEqual(
      expect.arrayContaining([
        roleId(template, ROLES.handler),
        policyId(template, ROLES.handler),
        roleId(template, ROLES.control),
        policyId(template, ROLES.control),
        roleId(template, ROLES.stateMachine),
        policyId(template, ROLES.stateMachine),
        machine,
      ]),
    );
  });

  test("changes when a managed policy of the stack attached to the handler's role gets another statement", () => {
    // GIVEN the same managed policy attached to the role, with one statement, then two
    const withManaged = (statements: iam.PolicyStatement[]) =>
      synthConcrete((t) => {
        t.handler.role!.addManagedPolicy(new iam.ManagedPolicy(Stack.of(t), 'Managed', { statements }));
      }).template;
    const before = withManaged([statement('swf:ListDomains', '*')]);
    const after = withManaged([
      statement('swf:ListDomains', '*'),
      statement('swf:StartWorkflowExecution', '*'),
    ]);

    // THEN the fingerprint differs (the role names the policy by reference only; its document counts)
    expect(fingerprintOf(after)).not.toBe(fingerprintOf(before));
  });

  test('a policy of a user or a group in the same stack (no role) neither breaks synth nor counts', () => {
    // GIVEN a stack with a user's policy beside the terminator
    const plain = synthConcrete(addContractPolicies).template;
    const withUser = synthConcrete((t) => {
      addContractPolicies(t);
      const user = new iam.User(Stack.of(t), 'Operator');
      user.addToPrincipalPolicy(statement('swf:ListDomains', '*'));
    }).template;

    // THEN it synthesizes, with the same fingerprint
    expect(fingerprintOf(withUser)).toBe(fingerprintOf(plain));
  });

  // A policy the app attaches to a checked role must exist before the check runs.
  test("waits for another iam.Policy attached to the handler's role too", () => {
    // GIVEN a terminator whose handler role also gets a policy of the app's own
    const { template } = synthConcrete((t) => {
      addContractPolicies(t);
      new iam.Policy(Stack.of(t), 'ExtraGrant', {
        statements: [statement('swf:StartWorkflowExecution', '*')],
        roles: [t.handler.role!],
      });
    });

    // THEN the trigger waits for that policy as well
    const extra = resourceNamed(template, 'AWS::IAM::Policy', 'ExtraGrant').logicalId;
    expect(triggersOf(template)[0]![1].DependsOn).toContain(extra);
  });

  test("waits for a managed policy and a role policy attached to the handler's role too", () => {
    // GIVEN both kinds attached by the app
    const { template } = synthConcrete((t) => {
      t.handler.role!.addManagedPolicy(
        new iam.ManagedPolicy(Stack.of(t), 'ExtraManaged', {
          statements: [statement('swf:ListDomains', '*')],
        }),
      );
      addBroadRolePolicy(t);
    });

    // THEN the trigger waits for both
    const dependsOn = triggersOf(template)[0]![1].DependsOn;
    expect(dependsOn).toContain(resourceNamed(template, 'AWS::IAM::ManagedPolicy', 'ExtraManaged').logicalId);
    expect(dependsOn).toContain(resourceNamed(template, 'AWS::IAM::RolePolicy', 'ExtraRolePolicy').logicalId);
  });

  test('verifyOnDeploy false: no trigger and no trigger provider, but the verifier function still exists', () => {
    // GIVEN a terminator that does not verify on deploy
    const { template } = synthConcrete(addContractPolicies, { verifyOnDeploy: false });
    const ids = Object.keys(resourcesOf(template));

    // THEN there is no trigger, and nothing of its provider
    expect(triggersOf(template)).toEqual([]);
    expect(ids.filter((id) => id.startsWith('AWSCDKTrigger'))).toEqual([]);
    expect(ids.filter((id) => id.startsWith(VERIFIER.trigger))).toEqual([]);
    // AND the verifier function, to run on demand, is there
    expect(verifierFunction(template).resource.Properties.Handler).toBe('index.handler');
  });
});

describe('the verification schedule', () => {
  test('verificationSchedule: a rule on that schedule targets the verifier, with no retry', () => {
    // GIVEN a terminator verified every 6 hours
    const { template } = synthConcrete(addContractPolicies, {
      verificationSchedule: events.Schedule.rate(Duration.hours(6)),
    });

    // THEN one rule runs the verifier on that schedule, EventBridge never retrying it
    const rule = resourceNamed(template, 'AWS::Events::Rule', VERIFIER.schedule).resource.Properties;
    expect(rule.ScheduleExpression).toBe('rate(6 hours)');
    expect(rule.Targets).toEqual([
      {
        Id: expect.any(String),
        Arn: { 'Fn::GetAtt': [verifierFunction(template).logicalId, 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 0 },
      },
    ]);
  });

  test('by default: no rule targets the verifier', () => {
    // GIVEN a terminator without a verification schedule
    const { template } = synthConcrete(addContractPolicies);
    const verifierId = verifierFunction(template).logicalId;

    // THEN no rule targets the verifier
    const targetsVerifier = Object.values(template.findResources('AWS::Events::Rule')).filter((r) =>
      JSON.stringify((r as Resource).Properties.Targets).includes(`"${verifierId}"`),
    );
    expect(targetsVerifier).toEqual([]);
  });
});

describe('metricVerificationFailed()', () => {
  test('is VerificationFailed in the SwfTerminator namespace, for this service, Maximum over 5 minutes', () => {
    // GIVEN a terminator
    const { terminator } = synthConcrete();

    // WHEN its verification metric is asked for
    const metric = terminator.metricVerificationFailed();

    // THEN
    expect(metric.namespace).toBe('SwfTerminator');
    expect(metric.metricName).toBe('VerificationFailed');
    expect(metric.dimensions).toEqual({ service: terminator.serviceName });
    expect(metric.statistic).toBe('Maximum');
    expect(metric.period.toSeconds()).toBe(300);
  });

  test('takes overrides', () => {
    // GIVEN a terminator
    const { terminator } = synthConcrete();

    // WHEN the metric is asked for over 1 hour
    const metric = terminator.metricVerificationFailed({ period: Duration.hours(1) });

    // THEN the period is overridden, the statistic kept
    expect(metric.period.toSeconds()).toBe(3600);
    expect(metric.statistic).toBe('Maximum');
  });
});

/**
 * Runs the verifier on `template`'s deployment in the fakes, with what makes it read everything it can (a version
 * and an alias of each function, a managed policy of AWS and one of the account attached to the handler's role),
 * and answers each call it made, as IAM would authorize it (action, resource), that the simulator does not
 * allow the verifier's role (`policies`, `principal`). Checks that it made every kind of call, and read the
 * qualified function and the managed policy.
 */
async function callsNotAllowed(
  template: Template,
  policies: ReturnType<typeof rolePolicies>,
  principal: string,
): Promise<unknown[]> {
  const fakes = await startVerifierFakes();
  try {
    const config = loadDeployment(template, ENV, fakes);
    const functions = [
      config.handlerFunctionArn,
      config.controlFunctionArn!,
      ...(config.restore === undefined ? [] : [config.restore.functionArn]),
    ];
    for (const fn of functions) {
      fakes.lambda.addQualifier(fn, 'version', '1');
      fakes.lambda.addQualifier(fn, 'alias', 'live');
    }
    const doc = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
    };
    fakes.iam.addPolicy(config.handlerRoleArn, {
      name: 'ReadOnlyAccess',
      document: doc,
      type: 'aws-managed',
    });
    fakes.iam.addPolicy(config.handlerRoleArn, { name: 'Ours', document: doc, type: 'user-managed' });

    // (it fails: those policies are refused; every read and simulation is made all the same)
    await createVerifyHandler({
      config,
      ...fakes.clients,
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'SwfTerminator', serviceName: 'own-role' }),
      settleDelaysMs: [],
    })({}, { awsRequestId: 'own-role' }).catch(() => undefined);

    const checked = [
      config.handlerRoleArn,
      config.controlRoleArn!,
      config.stateMachineRoleArn!,
      ...(config.restore === undefined ? [] : [config.restore.roleArn]),
    ];
    const roleNamed = (name: string) =>
      checked.find((arn) => arn.endsWith(`/${name}`)) ?? `unknown role ${name}`;
    const made = [
      ...fakes.iam.calls.map((c) => [
        `iam:${c.action}`,
        c.action === 'SimulatePrincipalPolicy' ? c.roleArn : (c.policyArn ?? roleNamed(c.roleName ?? '')),
      ]),
      ...fakes.lambda.calls.map((c) => [
        `lambda:${c.operation}`,
        c.qualifier === undefined ? c.functionName : `${c.functionName}:${c.qualifier}`,
      ]),
      ...fakes.events.calls.map((name) => ['events:DescribeEventBus', name]),
    ];
    expect(new Set(made.map(([action]) => action))).toEqual(
      new Set([
        'iam:SimulatePrincipalPolicy',
        'iam:GetRole',
        'iam:ListRolePolicies',
        'iam:GetRolePolicy',
        'iam:ListAttachedRolePolicies',
        'iam:GetPolicy',
        'iam:GetPolicyVersion',
        'lambda:GetPolicy',
        'lambda:ListVersionsByFunction',
        'lambda:ListAliases',
        'events:DescribeEventBus',
      ]),
    );
    const resources = made.map(([, resource]) => resource);
    for (const fn of functions) expect(resources).toContain(`${fn}:live`);
    for (const role of checked) expect(resources).toContain(role);
    expect(resources).toContain('arn:aws:iam::aws:policy/ReadOnlyAccess');
    const verdicts = await Promise.all(
      made.map(async ([action, resource]) => [
        action,
        resource,
        await decide(policies, principal, action!, resource!, 'validated', ACCOUNT),
      ]),
    );
    return verdicts.filter(([, , verdict]) => verdict !== 'Allowed');
  } finally {
    await fakes.close();
  }
}

describe("the verifier's own role, proven by the IAM policy simulator", () => {
  // GIVEN the terminator with the policies, its verifier's role resolved in a concrete environment
  const { template } = synthConcrete(addContractPolicies);
  const concrete = withConcreteRoleArns(template, ENV);
  const policies = rolePolicies(concrete, VERIFIER.role, ENV);
  const principal = roleArnIn(ENV, roleId(template, VERIFIER.role));
  const checked = (Object.keys(ROLES) as (keyof typeof ROLES)[]).map(
    (kind) => [kind, roleArnIn(ENV, roleId(template, ROLES[kind]))] as const,
  );
  const handlerRole = checked[0]![1];
  const simulate = 'iam:SimulatePrincipalPolicy';

  test.each(checked)(`ALLOWS ${simulate} on the %s role (%s)`, async (_kind, arn) => {
    // WHEN / THEN
    await expect(decide(policies, principal, simulate, arn, 'validated', ACCOUNT)).resolves.toBe('Allowed');
  });

  test.each([
    ['another role in the account', `arn:aws:iam::${ACCOUNT}:role/another-role`],
    ['a look-alike of the handler role (one more character)', `${handlerRole}2`],
    ['a look-alike of the handler role (a prefix of its name)', handlerRole.slice(0, -1)],
    ["the handler role's name in another account", handlerRole.replace(ACCOUNT, OTHER_ACCOUNT)],
    ["the verifier's own role", principal],
    ['a user', `arn:aws:iam::${ACCOUNT}:user/admin`],
  ])(`DENIES ${simulate} on %s (%s)`, async (_what, resource) => {
    // WHEN / THEN
    await expect(decide(policies, principal, simulate, resource, 'validated', ACCOUNT)).resolves.toBe(
      'ImplicitlyDenied',
    );
  });

  test.each([
    simulate,
    'iam:PassRole',
    'sts:AssumeRole',
    's3:GetObject',
    'swf:TerminateWorkflowExecution',
    'lambda:InvokeFunction',
    'iam:SimulateCustomPolicy',
    'logs:CreateLogGroup',
  ])('DENIES %s on "*"', async (action) => {
    // WHEN / THEN: IAM reads a request's "*" literally, the simulator as a wildcard (that would match any
    // granted resource): it is asked with a character no ARN holds in its place, as test/support/fake-iam.ts
    // does ("*" names no resource type either: the simulator's ARN validation does not apply).
    await expect(decide(policies, principal, action, LITERAL_STAR, 'unvalidated', ACCOUNT)).resolves.toBe(
      'ImplicitlyDenied',
    );
  });

  test.each(
    checked.flatMap(([kind, arn]) =>
      [
        'iam:SimulateCustomPolicy',
        'iam:GetContextKeysForPrincipalPolicy',
        'iam:PassRole',
        'sts:AssumeRole',
        'iam:PutRolePolicy',
        'iam:AttachRolePolicy',
        'iam:UpdateAssumeRolePolicy',
      ].map((action) => [action, kind, arn] as const),
    ),
  )('DENIES %s on the %s role (%s)', async (action, _kind, arn) => {
    // WHEN / THEN (unvalidated: SimulateCustomPolicy takes no resource, the engine is the same)
    await expect(decide(policies, principal, action, arn, 'unvalidated', ACCOUNT)).resolves.toBe(
      'ImplicitlyDenied',
    );
  });

  test('ALLOWS every call a verification makes, on the resource it makes it on (recorded by the fakes)', async () => {
    // WHEN / THEN
    await expect(callsNotAllowed(template, policies, principal)).resolves.toEqual([]);
  });

  const fnArn = (id: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${id}`;
  const handlerFn = fnArn(functionOf(template).logicalId);
  const bus = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${onlyResource(template, 'AWS::Events::EventBus').logicalId}`;
  test.each([
    ['iam:GetRole', `arn:aws:iam::${ACCOUNT}:role/another-role`],
    ['iam:GetRolePolicy', `arn:aws:iam::${ACCOUNT}:role/another-role`],
    ['iam:ListAttachedRolePolicies', `arn:aws:iam::${ACCOUNT}:role/another-role`],
    ['iam:GetRole', handlerRole.replace(ACCOUNT, OTHER_ACCOUNT)],
    ['iam:GetUserPolicy', `arn:aws:iam::${ACCOUNT}:user/admin`],
    ['iam:GetPolicyVersion', `arn:aws:iam::${OTHER_ACCOUNT}:policy/Theirs`],
    ['lambda:GetPolicy', fnArn('another-function')],
    ['lambda:ListVersionsByFunction', fnArn('another-function')],
    ['lambda:GetPolicy', `${handlerFn}2`],
    ['lambda:GetFunction', handlerFn],
    ['events:DescribeEventBus', `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`],
    ['events:DescribeEventBus', `${bus}2`],
  ])(
    'DENIES %s on %s: reads reach the terminator own roles, functions and bus only',
    async (action, resource) => {
      // WHEN / THEN
      await expect(decide(policies, principal, action, resource, 'validated', ACCOUNT)).resolves.toBe(
        'ImplicitlyDenied',
      );
    },
  );

  test.each([
    ['lambda:AddPermission', handlerFn],
    ['lambda:AddPermission', `${handlerFn}:live`],
    ['lambda:RemovePermission', handlerFn],
    ['lambda:UpdateFunctionCode', handlerFn],
    ['events:DeleteEventBus', bus],
    [
      'events:PutRule',
      `arn:aws:events:${REGION}:${ACCOUNT}:rule/${onlyResource(template, 'AWS::Events::EventBus').logicalId}/any`,
    ],
    ['iam:CreatePolicyVersion', 'arn:aws:iam::aws:policy/AdministratorAccess'],
    ['iam:SetDefaultPolicyVersion', `arn:aws:iam::${ACCOUNT}:policy/Ours`],
    ['iam:DeletePolicy', `arn:aws:iam::${ACCOUNT}:policy/Ours`],
    ['iam:AttachRolePolicy', handlerRole],
  ])('DENIES %s on %s: it reads, and changes nothing', async (action, resource) => {
    // WHEN / THEN
    await expect(decide(policies, principal, action, resource, 'validated', ACCOUNT)).resolves.toBe(
      'ImplicitlyDenied',
    );
  });

  const logGroup = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${onlyResource(template, 'AWS::Logs::LogGroup').logicalId}`;
  test.each([
    ['logs:CreateLogStream', `${logGroup}:log-stream:2025/01/01/[$LATEST]abc`, 'Allowed'],
    ['logs:PutLogEvents', `${logGroup}:log-stream:2025/01/01/[$LATEST]abc`, 'Allowed'],
    [
      'logs:PutLogEvents',
      `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:other:log-stream:x`,
      'ImplicitlyDenied',
    ],
    ['logs:DeleteLogGroup', logGroup, 'ImplicitlyDenied'],
  ])('%s on %s is %s', async (action, resource, expected) => {
    // WHEN / THEN
    await expect(decide(policies, principal, action, resource, 'validated', ACCOUNT)).resolves.toBe(expected);
  });
});

describe('with allowRestore: the verifier checks restore too', () => {
  // GIVEN a terminator with restore, restored runs naming one Lambda role
  const LAMBDA_ROLE = `arn:aws:iam::${ACCOUNT}:role/workflow-lambdas`;
  const restoreProps: Partial<SwfTerminatorProps> = { allowRestore: true, restoreLambdaRoles: [LAMBDA_ROLE] };
  const { template } = synthConcrete(addContractPolicies, restoreProps);
  const restoreRoleId = roleId(template, RESTORE_ROLE);
  const restoreFnId = resourceNamed(template, 'AWS::Lambda::Function', 'TerminatorRestoreFunction').logicalId;
  const restoreRole = roleArnIn(ENV, restoreRoleId);
  const restoreFn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${restoreFnId}`;
  const concrete = withConcreteRoleArns(template, ENV);
  const policies = rolePolicies(concrete, VERIFIER.role, ENV);
  const principal = roleArnIn(ENV, roleId(template, VERIFIER.role));

  test("VERIFY_CONFIG names restore's role, its function and the Lambda roles; without restore, no restore field", () => {
    // WHEN
    const config = parseVerifyConfig(verifierEnvironment(template, ENV));
    const plain = parseVerifyConfig(verifierEnvironment(synthConcrete(addContractPolicies).template, ENV));

    // THEN
    expect(config.restore).toEqual({
      roleArn: restoreRole,
      functionArn: restoreFn,
      lambdaRoles: [LAMBDA_ROLE],
    });
    expect('restore' in plain).toBe(false);
    // AND the rest is as without restore, but the roles' and functions' names CloudFormation gives them
    expect(Object.keys(config).sort()).toEqual([...Object.keys(plain), 'restore'].sort());
  });

  test('allowRestore without restoreLambdaRoles: an empty list', () => {
    const { template: noRoles } = synthConcrete(addContractPolicies, { allowRestore: true });
    expect(parseVerifyConfig(verifierEnvironment(noRoles, ENV)).restore?.lambdaRoles).toEqual([]);
  });

  test("its own role simulates and reads restore's role, and reads who may invoke restore's function (and its versions and aliases)", () => {
    // GIVEN the verifier's one policy
    const verifierRole = roleId(template, VERIFIER.role);
    const attached = Object.values(resourcesOf(template)).filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        (r.Properties.Roles as { Ref?: string }[]).some((x) => x.Ref === verifierRole),
    );
    expect(attached).toHaveLength(1);
    const statements = (
      attached[0]!.Properties.PolicyDocument as { Statement: { Sid: string; Resource: unknown }[] }
    ).Statement;
    const resourcesOfSid = (sid: string) => statements.find((s) => s.Sid === sid)?.Resource;
    const fn = { 'Fn::GetAtt': [restoreFnId, 'Arn'] };

    // THEN restore's role is simulated and read, and restore's function is read, as the others
    expect(resourcesOfSid('SimulateTheTerminatorsRoles')).toContainEqual({
      'Fn::GetAtt': [restoreRoleId, 'Arn'],
    });
    expect(resourcesOfSid('ReadTheTerminatorsRoles')).toContainEqual({
      'Fn::GetAtt': [restoreRoleId, 'Arn'],
    });
    expect(resourcesOfSid('ReadWhoMayInvokeTheFunctions')).toEqual(
      expect.arrayContaining([fn, { 'Fn::Join': ['', [fn, ':*']] }]),
    );
    // AND nothing else changed: the same statements, one role and one function more
    expect(statements.map((s) => s.Sid)).toEqual([
      'WriteOwnLogs',
      'SimulateTheTerminatorsRoles',
      'ReadTheTerminatorsRoles',
      'ReadManagedPoliciesOfTheRoles',
      'ReadWhoMayInvokeTheFunctions',
      'ReadWhoMayUseTheBus',
    ]);
    expect(resourcesOfSid('SimulateTheTerminatorsRoles')).toHaveLength(4);
    expect(resourcesOfSid('ReadWhoMayInvokeTheFunctions')).toHaveLength(6);
  });

  test("the trigger waits for restore's role, its policy and its function; the fingerprint counts restore's role", () => {
    // THEN
    const triggers = triggersOf(template);
    expect(triggers).toHaveLength(1);
    expect(triggers[0]![1].DependsOn).toEqual(
      expect.arrayContaining([restoreRoleId, policyId(template, RESTORE_ROLE), restoreFnId]),
    );
    // AND a statement added to restore's role changes the fingerprint, and the version the trigger runs
    const widened = synthConcrete((t) => {
      addContractPolicies(t);
      t.restoreFunction!.addToRolePolicy(statement('swf:TerminateWorkflowExecution', '*'));
    }, restoreProps).template;
    expect(fingerprintOf(widened)).not.toBe(fingerprintOf(template));
    expect(triggeredVersion(widened)).not.toBe(triggeredVersion(template));
  });

  test(`ALLOWS iam:SimulatePrincipalPolicy and each read on restore's role`, async () => {
    for (const action of [
      'iam:SimulatePrincipalPolicy',
      'iam:GetRole',
      'iam:ListRolePolicies',
      'iam:GetRolePolicy',
      'iam:ListAttachedRolePolicies',
    ]) {
      await expect(decide(policies, principal, action, restoreRole, 'validated', ACCOUNT)).resolves.toBe(
        'Allowed',
      );
    }
  });

  test.each([
    ['lambda:GetPolicy', restoreFn],
    ['lambda:GetPolicy', `${restoreFn}:live`],
    ['lambda:GetPolicy', `${restoreFn}:1`],
    ['lambda:ListVersionsByFunction', restoreFn],
    ['lambda:ListAliases', restoreFn],
  ])("ALLOWS %s on restore's function (%s)", async (action, resource) => {
    await expect(decide(policies, principal, action, resource, 'validated', ACCOUNT)).resolves.toBe(
      'Allowed',
    );
  });

  test('ALLOWS every call a verification with restore makes, on the resource it makes it on (recorded by the fakes)', async () => {
    await expect(callsNotAllowed(template, policies, principal)).resolves.toEqual([]);
  });

  test.each([
    ['iam:PassRole', LAMBDA_ROLE, 'the Lambda role restored runs name'],
    ['iam:PassRole', restoreRole, "restore's role"],
    ['iam:GetRole', LAMBDA_ROLE, 'the Lambda role (not checked: it is not the terminator’s)'],
    ['iam:SimulatePrincipalPolicy', LAMBDA_ROLE, 'the Lambda role'],
    ['iam:PutRolePolicy', restoreRole, "restore's role"],
    ['iam:AttachRolePolicy', restoreRole, "restore's role"],
    ['iam:UpdateAssumeRolePolicy', restoreRole, "restore's role"],
    ['sts:AssumeRole', restoreRole, "restore's role"],
    ['lambda:InvokeFunction', restoreFn, "restore's function"],
    ['lambda:InvokeFunction', `${restoreFn}:live`, "an alias of restore's function"],
    ['lambda:AddPermission', restoreFn, "restore's function"],
    ['lambda:RemovePermission', restoreFn, "restore's function"],
    ['lambda:UpdateFunctionCode', restoreFn, "restore's function"],
    ['lambda:UpdateFunctionConfiguration', restoreFn, "restore's function"],
    ['lambda:GetFunction', restoreFn, "restore's function (its code and environment: not needed)"],
    ['lambda:GetPolicy', `${restoreFn}2`, "a look-alike of restore's function"],
    ['swf:StartWorkflowExecution', `arn:aws:swf::${ACCOUNT}:/domain/orders`, 'a chosen domain'],
    ['states:StartExecution', `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:x`, 'a state machine'],
  ])('DENIES %s on %s (%s): it reads restore, and can make it do nothing', async (action, resource) => {
    await expect(decide(policies, principal, action, resource, 'validated', ACCOUNT)).resolves.toBe(
      'ImplicitlyDenied',
    );
  });
});
