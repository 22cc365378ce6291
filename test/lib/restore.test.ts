/**
 * Restore in the construct (allowRestore): off by default, leaving no trace; on, a function and a role of its
 * own whose statements are exactly restore's grants (lib/role-grants.ts), proven whole and by the simulator
 * over every SWF action; the terminating function gains nothing; the state machine runs restore jobs' chunks.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SwfTerminator, type SwfTerminatorProps } from '../../lib';
import { OPERATOR_METADATA_KEY } from '../../lib/operator-contract';
import { functionOf, testApp } from '../support/construct-helpers';
import {
  ACCOUNT,
  ALL_SWF_ACTIONS,
  bothForms,
  DOMAIN_SWF_ACTIONS,
  type Cell,
  decisionTable,
  ENV,
  OTHER_ACCOUNT,
  REGION,
  rolePolicies,
  ROLES,
  swfArn,
  WILDCARD_ONLY_SWF_ACTIONS,
} from '../support/iam-simulation';

const LAMBDA_ROLE = `arn:aws:iam::${ACCOUNT}:role/workflow-lambdas`;
const RESTORE_ACTIONS = [
  'swf:GetWorkflowExecutionHistory',
  'swf:ListClosedWorkflowExecutions',
  'swf:ListOpenWorkflowExecutions',
  'swf:StartWorkflowExecution',
];
/** What only restore may do (the terminating function lists open executions for its own work). */
const RESTORE_ONLY = RESTORE_ACTIONS.filter((a) => a !== 'swf:ListOpenWorkflowExecutions');

function synth(props: Partial<SwfTerminatorProps> = {}) {
  const stack = new Stack(testApp(), 'RestoreStack', { env: { account: ACCOUNT, region: REGION } });
  const terminator = new SwfTerminator(stack, 'Terminator', { domains: ['orders', 'billing'], ...props });
  const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
  terminator.grantOperate(operator);
  return { terminator, template: Template.fromStack(stack) };
}

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
const statementsOf = (template: Template, prefix: string) =>
  rolePolicies(template, prefix, ENV).flatMap((p) => (p.policy as { Statement: Statement[] }).Statement);
const actionsOf = (statements: Statement[]) => statements.flatMap((s) => [s.Action].flat());
const definitionOf = (template: Template) =>
  JSON.stringify(Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0]);
/** Every action of every identity policy in the template (the roles' inline ones and AWS::IAM::Policy). */
const everyAction = (template: Template): string[] =>
  [
    ...Object.values(template.findResources('AWS::IAM::Policy')).map(
      (r) => (r.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument,
    ),
    ...Object.values(template.findResources('AWS::IAM::Role')).flatMap((r) =>
      ((r.Properties as { Policies?: { PolicyDocument: { Statement: Statement[] } }[] }).Policies ?? []).map(
        (p) => p.PolicyDocument,
      ),
    ),
  ].flatMap((doc) => actionsOf(doc.Statement));

describe('without allowRestore (the default)', () => {
  const { terminator, template } = synth();

  test('there is no restore function, no restore action in any role, and no restore branch in the state machine', () => {
    expect(terminator.restoreFunction).toBeUndefined();
    const actions = everyAction(template);
    expect(actions).toContain('swf:TerminateWorkflowExecution');
    for (const action of [...RESTORE_ONLY, 'iam:PassRole']) expect(actions).not.toContain(action);
    expect(definitionOf(template)).not.toContain('RestoreChunk');
  });

  test('restoreLambdaRoles without allowRestore is refused at synth, naming both props', () => {
    expect(() => synth({ restoreLambdaRoles: [LAMBDA_ROLE] })).toThrow(
      /restoreLambdaRoles is set but allowRestore is not true/,
    );
  });
});

describe('with allowRestore', () => {
  const { terminator, template } = synth({ allowRestore: true, restoreLambdaRoles: [LAMBDA_ROLE] });
  const restoreStatements = statementsOf(template, 'TerminatorRestoreRole');

  test("the restore role's statements are exactly restore's grants (the whole role)", () => {
    const executions = `arn:aws:states:${REGION}:${ACCOUNT}:execution:`;
    const normalized = restoreStatements.map((s) => ({
      effect: s.Effect,
      actions: [s.Action].flat().sort(),
      resources: [s.Resource]
        .flat()
        .map((r) =>
          String(r)
            .replace(/execution:[^:]+:\*$/, 'execution:JOBS:*')
            .replace(/stateMachine:[^:]+$/, 'stateMachine:JOBS')
            .replace(/log-group:[^:]+:\*$/, 'log-group:LOGS:*'),
        )
        .sort(),
      ...(s.Condition === undefined ? {} : { condition: s.Condition }),
    }));
    expect(normalized).toEqual(
      expect.arrayContaining([
        {
          effect: 'Allow',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:LOGS:*`],
        },
        {
          effect: 'Allow',
          actions: RESTORE_ACTIONS,
          resources: [
            swfArn('billing', ACCOUNT),
            swfArn('billing', ACCOUNT, REGION),
            swfArn('orders', ACCOUNT),
            swfArn('orders', ACCOUNT, REGION),
          ].sort(),
        },
        {
          effect: 'Allow',
          actions: ['states:StartExecution'],
          resources: [`arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:JOBS`],
        },
        { effect: 'Allow', actions: ['states:DescribeExecution'], resources: [`${executions}JOBS:*`] },
        {
          effect: 'Allow',
          actions: ['iam:PassRole'],
          resources: [LAMBDA_ROLE],
          condition: { StringEquals: { 'iam:PassedToService': 'swf.amazonaws.com' } },
        },
      ]),
    );
    expect(normalized).toHaveLength(5);
  });

  test('the simulator allows restore its four calls in the chosen domains and denies every other SWF action, other domains and accounts, other roles to pass', async () => {
    const policies = rolePolicies(template, 'TerminatorRestoreRole', ENV);
    const cells: Cell[] = [
      ...['orders', 'billing'].flatMap((d) => RESTORE_ACTIONS.flatMap((a) => bothForms(a, d, 'Allowed'))),
      ...RESTORE_ACTIONS.flatMap((a) => bothForms(a, 'payments', 'ImplicitlyDenied', 'another domain')),
      ...RESTORE_ACTIONS.flatMap((a) =>
        bothForms(a, 'orders', 'ImplicitlyDenied', 'another account', OTHER_ACCOUNT),
      ),
      // Every other SWF action, the whole set: restore terminates, cancels, signals nothing.
      ...DOMAIN_SWF_ACTIONS.filter((a) => !RESTORE_ACTIONS.includes(a)).map((action): Cell => ({
        action,
        resource: swfArn('orders', ACCOUNT),
        expected: 'ImplicitlyDenied',
      })),
      ...WILDCARD_ONLY_SWF_ACTIONS.map((action): Cell => ({
        action,
        resource: '*',
        expected: 'ImplicitlyDenied',
      })),
      {
        action: 'iam:PassRole',
        resource: `arn:aws:iam::${ACCOUNT}:role/admin`,
        why: 'another role',
        expected: 'ImplicitlyDenied',
      },
      {
        action: 'states:StopExecution',
        resource: `arn:aws:states:${REGION}:${ACCOUNT}:execution:x:y`,
        expected: 'ImplicitlyDenied',
      },
      {
        action: 'lambda:InvokeFunction',
        resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:x`,
        expected: 'ImplicitlyDenied',
      },
    ];
    // The whole set: every SWF action IAM knows is a cell.
    expect(new Set(cells.filter((c) => c.action.startsWith('swf:')).map((c) => c.action))).toEqual(
      new Set(ALL_SWF_ACTIONS),
    );
    const { actual, expected } = await decisionTable(policies, cells);
    expect(actual).toEqual(expected);
  });

  test("the terminating function's role gains nothing: no restore action, no PassRole", () => {
    const actions = actionsOf(statementsOf(template, ROLES.handler));
    for (const action of [...RESTORE_ONLY, 'iam:PassRole']) expect(actions).not.toContain(action);
    expect(actionsOf(statementsOf(template, ROLES.control))).not.toContain('swf:StartWorkflowExecution');
  });

  test("the state machine runs a restore job's chunks on the restore function (and may invoke it, no other)", () => {
    expect(definitionOf(template)).toContain('RestoreChunk');
    const restoreId = template.toJSON().Resources as Record<
      string,
      { Type: string; Properties?: { Description?: string } }
    >;
    const restoreFn = Object.entries(restoreId).find(
      ([, r]) =>
        r.Type === 'AWS::Lambda::Function' &&
        r.Properties?.Description?.startsWith('Restarts SWF executions') === true,
    );
    expect(restoreFn).toBeDefined();
    const invoked = statementsOf(template, ROLES.stateMachine).flatMap((s) =>
      [s.Resource].flat().map(String),
    );
    const fnArn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${restoreFn?.[0] ?? ''}`;
    expect(invoked).toEqual(expect.arrayContaining([fnArn, `${fnArn}:*`]));
    expect(invoked).toHaveLength(4);
  });

  test('the restore function is marked for the operator command and grantOperate lets the operator invoke it', () => {
    const fn = terminator.restoreFunction;
    expect(fn).toBeDefined();
    const resources = template.toJSON().Resources as Record<
      string,
      { Metadata?: Record<string, { role?: string }> }
    >;
    const marked = Object.values(resources).filter(
      (r) => r.Metadata?.[OPERATOR_METADATA_KEY]?.role === 'restore',
    );
    expect(marked).toHaveLength(1);
    const operate = statementsOf(template, 'Operator').flatMap((s) => [s.Resource].flat().map(String));
    expect(operate.filter((r) => r.includes(':function:'))).toHaveLength(4);
    expect(functionOf(template, 'handler').logicalId).toBeDefined();
  });

  test('a restoreLambdaRoles entry that is not a role ARN is refused at synth, naming its index', () => {
    expect(() => synth({ allowRestore: true, restoreLambdaRoles: ['workflow-lambdas'] })).toThrow(
      /restoreLambdaRoles\[0\] must be an IAM role ARN/,
    );
  });
});
