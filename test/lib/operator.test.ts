/**
 * What the construct gives the operator's command: the metadata entry on each of its functions (how the
 * command finds them in the stack, and lists the policies), and `grantOperate`, proven by the simulator as a
 * decision table (allowed and denied cells), and whole: its statements hold exactly the actions and resources
 * the command needs.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { PolicyAction, PolicyTrigger, SwfEventType, SwfTerminator } from '../../lib';
import { OPERATOR_METADATA_KEY, type OperatorMetadata } from '../../lib/operator-contract';
import { functionOf, resolveIntrinsics, testApp } from '../support/construct-helpers';
import {
  ACCOUNT,
  type Cell,
  decisionTable,
  ENV,
  OTHER_ACCOUNT,
  REGION,
  rolePolicies,
  swfArn,
} from '../support/iam-simulation';
import { verifierFunction } from '../support/verifier-helpers';

function synth(addPolicies = false) {
  const stack = new Stack(testApp(), 'OpsStack', { env: { account: ACCOUNT, region: REGION } });
  const terminator = new SwfTerminator(stack, 'Terminator', { domains: ['orders', 'billing'] });
  if (addPolicies) {
    terminator.addPolicy('Stuck', {
      domain: 'orders',
      trigger: PolicyTrigger.schedule(events.Schedule.rate(Duration.minutes(15))),
      match: { tag: 'nightly', openLongerThan: Duration.hours(6) },
      action: PolicyAction.terminate({ reason: 'stuck' }),
      maxExecutions: 200,
    });
    terminator.addPolicy('Retire', {
      domain: 'billing',
      trigger: PolicyTrigger.onExecutionEvent([SwfEventType.WORKFLOW_EXECUTION_STARTED]),
      match: { workflowType: { name: 'Checkout', version: '1' } },
      action: PolicyAction.terminate({}),
      maxExecutions: 20,
      capWindow: Duration.minutes(10),
      dryRun: false,
    });
  }
  const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
  terminator.grantOperate(operator);
  return { stack, terminator, template: Template.fromStack(stack) };
}

const metadataOf = (template: Template, logicalId: string) =>
  (template.toJSON().Resources[logicalId] as { Metadata?: Record<string, unknown> }).Metadata?.[
    OPERATOR_METADATA_KEY
  ] as OperatorMetadata | undefined;

describe('the metadata the command finds the terminator by', () => {
  test('each of the three functions carries its role and the terminator it belongs to; nothing else does', () => {
    const { template } = synth();
    const marked = Object.entries(
      template.toJSON().Resources as Record<string, { Metadata?: Record<string, unknown> }>,
    )
      .filter(([, r]) => r.Metadata?.[OPERATOR_METADATA_KEY] !== undefined)
      .map(([id]) => id)
      .sort();
    const ids = {
      handler: functionOf(template, 'handler').logicalId,
      control: functionOf(template, 'control').logicalId,
      verifier: verifierFunction(template).logicalId,
    };
    expect(marked).toEqual(Object.values(ids).sort());
    expect(metadataOf(template, ids.handler)).toEqual({
      version: 1,
      terminator: 'OpsStack/Terminator',
      role: 'handler',
      domains: ['orders', 'billing'],
      policies: [],
    });
    expect(metadataOf(template, ids.control)).toEqual({
      version: 1,
      terminator: 'OpsStack/Terminator',
      role: 'control',
    });
    expect(metadataOf(template, ids.verifier)).toEqual({
      version: 1,
      terminator: 'OpsStack/Terminator',
      role: 'verifier',
    });
  });

  test("the terminating function's entry lists every policy: trigger, schedule, breaker, and the request its rule sends", () => {
    const { template } = synth(true);
    const policies = metadataOf(template, functionOf(template, 'handler').logicalId)?.policies ?? [];
    expect(policies.map((p) => p.name)).toEqual(['Stuck', 'Retire']);
    expect(policies[0]).toEqual({
      name: 'Stuck',
      trigger: 'schedule',
      schedule: 'rate(15 minutes)',
      request: expect.objectContaining({ domain: 'orders', maxExecutions: 200, dryRun: true }),
    });
    expect(policies[1]).toEqual({
      name: 'Retire',
      trigger: 'event',
      schedule: 'rate(1 hour)',
      eventTypes: ['WorkflowExecutionStarted'],
      breaker: { cap: 20, windowSeconds: 600 },
      request: expect.objectContaining({ domain: 'billing', maxExecutions: 20, dryRun: false }),
    });
    // The request listed is the one the policy's rule delivers (its input template's placeholders stand for
    // JSON values of the event: any JSON value parses the same).
    const delivered = Object.values(template.findResources('AWS::Events::Rule')).flatMap((rule) =>
      (
        (rule as { Properties: { Targets?: { InputTransformer?: { InputTemplate: string } }[] } }).Properties
          .Targets ?? []
      ).flatMap((t) => {
        const input = t.InputTransformer?.InputTemplate;
        if (input === undefined) return [];
        const parsed = JSON.parse(input.replace(/<[a-z-]+>/g, 'null')) as {
          swfTerminatorPolicy?: { name: string; request: unknown };
        };
        return parsed.swfTerminatorPolicy === undefined ? [] : [parsed.swfTerminatorPolicy];
      }),
    );
    for (const policy of policies) {
      const runs = delivered.filter((d) => d.name === policy.name);
      expect(runs.length).toBeGreaterThan(0);
      for (const run of runs) expect(run.request).toEqual(policy.request);
    }
  });
});

describe('grantOperate', () => {
  const { template } = synth();
  const policies = rolePolicies(template, 'Operator', ENV);
  const fnArn = (id: string, account = ACCOUNT) => `arn:aws:lambda:${REGION}:${account}:function:${id}`;
  const handler = functionOf(template, 'handler').logicalId;
  const control = functionOf(template, 'control').logicalId;
  const verifier = verifierFunction(template).logicalId;
  const stackArn = (name: string) => `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${name}/0f1e2d3c`;
  const allowed = (action: string, resource: string, why?: string): Cell => ({
    action,
    resource,
    why,
    expected: 'Allowed',
  });
  const denied = (action: string, resource: string, why?: string): Cell => ({
    action,
    resource,
    why,
    expected: 'ImplicitlyDenied',
  });

  test('is exactly: invoke the three functions, read the stack (the whole of its statements)', () => {
    const statements = policies.flatMap(
      (p) => (p.policy as { Statement: { Effect: string; Action: unknown; Resource: unknown }[] }).Statement,
    );
    expect(statements).toHaveLength(1);
    const [statement] = statements;
    expect(statement?.Effect).toBe('Allow');
    expect(new Set([statement?.Action].flat())).toEqual(
      new Set([
        'lambda:InvokeFunction',
        'cloudformation:GetTemplate',
        'cloudformation:DescribeStackResource',
      ]),
    );
    expect(new Set([statement?.Resource].flat())).toEqual(
      new Set([
        fnArn(handler),
        fnArn(control),
        fnArn(verifier),
        resolveIntrinsics(`arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/OpsStack/*`, template, ENV),
      ]),
    );
  });

  test('the simulator allows what the command calls, and nothing beside it', async () => {
    const cells: Cell[] = [
      allowed('lambda:InvokeFunction', fnArn(handler), 'the terminating function'),
      allowed('lambda:InvokeFunction', fnArn(control), 'the control function'),
      allowed('lambda:InvokeFunction', fnArn(verifier), 'the verifier'),
      allowed('cloudformation:GetTemplate', stackArn('OpsStack')),
      allowed('cloudformation:DescribeStackResource', stackArn('OpsStack')),
      denied('lambda:InvokeFunction', fnArn('another-function'), 'another function'),
      denied('lambda:InvokeFunction', fnArn(handler, OTHER_ACCOUNT), 'another account'),
      denied('lambda:UpdateFunctionCode', fnArn(handler)),
      denied('lambda:UpdateFunctionConfiguration', fnArn(handler)),
      denied('lambda:AddPermission', fnArn(handler)),
      denied('cloudformation:GetTemplate', stackArn('OtherStack'), 'another stack'),
      denied('cloudformation:UpdateStack', stackArn('OpsStack')),
      denied('cloudformation:DeleteStack', stackArn('OpsStack')),
      denied(
        'swf:TerminateWorkflowExecution',
        swfArn('orders', ACCOUNT),
        'the operator acts only through the functions',
      ),
      denied('states:StopExecution', `arn:aws:states:${REGION}:${ACCOUNT}:execution:jobs:job-1`),
      denied('events:PutEvents', `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`),
      denied('iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/anything`),
      denied('logs:DeleteLogGroup', `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:anything`),
    ];
    const { actual, expected } = await decisionTable(policies, cells);
    expect(actual).toEqual(expected);
  });
});
