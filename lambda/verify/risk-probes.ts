/**
 * Denied checks where a grant would do the most harm, asked of IAM's simulator for every role
 * (lambda/verify/checks.ts): taking more permissions (IAM writes), becoming someone else (STS), running or
 * changing other state machines, erasing the record of what was terminated (logs), changing or opening up a
 * function (Lambda writes), wiring new triggers (EventBridge writes), and losing kept requests (the queue).
 * Each on `*`, and the most telling on the terminator's own resources. The enumeration
 * (lambda/verify/audit-roles.ts) refuses every such grant already; the simulation also sees what it cannot
 * (how IAM combines statements, and conditions). Pure.
 */
import { executionsOf } from '../../lib/role-grants';

/** Actions no role of the terminator may take on `*`. */
export const HIGH_RISK_ACTIONS: readonly string[] = [
  'iam:PutRolePolicy',
  'iam:AttachRolePolicy',
  'iam:CreateRole',
  'iam:UpdateAssumeRolePolicy',
  'iam:CreatePolicyVersion',
  'iam:PutRolePermissionsBoundary',
  'iam:DeleteRolePermissionsBoundary',
  'iam:CreateUser',
  'iam:CreateAccessKey',
  'iam:AttachUserPolicy',
  'iam:PutUserPolicy',
  'sts:AssumeRole',
  'sts:GetFederationToken',
  'states:StartExecution',
  'states:StopExecution',
  'states:CreateStateMachine',
  'states:UpdateStateMachine',
  'states:DeleteStateMachine',
  'logs:DeleteLogGroup',
  'logs:DeleteLogStream',
  'logs:PutRetentionPolicy',
  'logs:FilterLogEvents',
  'lambda:AddPermission',
  'lambda:RemovePermission',
  'lambda:UpdateFunctionCode',
  'lambda:UpdateFunctionConfiguration',
  'lambda:CreateFunction',
  'lambda:DeleteFunction',
  'lambda:CreateEventSourceMapping',
  'lambda:CreateFunctionUrlConfig',
  'lambda:PutFunctionConcurrency',
  'events:PutRule',
  'events:PutTargets',
  'events:PutPermission',
  'events:DeleteRule',
  'events:RemoveTargets',
  'events:DisableRule',
  'events:PutEvents',
  'sqs:PurgeQueue',
  'sqs:DeleteMessage',
  'sqs:ReceiveMessage',
];

/** What the terminator's own resources must be safe from, for every role. */
export interface OwnResources {
  readonly roleArn: string;
  readonly logGroupArn: string;
  readonly stateMachineArn: string;
  readonly deadLetterQueueArn: string;
  readonly functionArns: readonly string[];
  /** A state machine that is not the terminator's. */
  readonly otherStateMachineArn: string;
}

/** Adds one denied check. */
type Deny = (action: string, resource: string, why: string) => void;

/** The high-risk denials of one role: each action on `*`, and the telling ones on its own resources. */
export function highRiskDenials(deny: Deny, own: OwnResources): void {
  for (const action of HIGH_RISK_ACTIONS) {
    deny(action, '*', `${action} on every resource, "*": a grant no role of the terminator may hold`);
  }
  for (const action of ['iam:PutRolePolicy', 'iam:AttachRolePolicy', 'iam:UpdateAssumeRolePolicy']) {
    deny(action, own.roleArn, 'a role that may change its own policies can grant itself anything');
  }
  // The log group's resource ARN is its name's (CloudFormation's ends in `:*`, its streams).
  const logGroup = own.logGroupArn.replace(/:\*$/, '');
  for (const action of ['logs:DeleteLogGroup', 'logs:DeleteLogStream', 'logs:PutRetentionPolicy']) {
    deny(action, logGroup, 'the log group is the record of what was terminated');
  }
  for (const action of ['states:UpdateStateMachine', 'states:DeleteStateMachine']) {
    deny(action, own.stateMachineArn, "changing the jobs' state machine changes what a job does");
  }
  deny(
    'states:StartExecution',
    own.otherStateMachineArn,
    'a state machine the terminator has nothing to do with',
  );
  deny(
    'states:StopExecution',
    executionsOf(own.otherStateMachineArn).replace(/:\*$/, ':a-job'),
    "another state machine's execution",
  );
  for (const fn of own.functionArns) {
    for (const action of [
      'lambda:UpdateFunctionCode',
      'lambda:UpdateFunctionConfiguration',
      'lambda:AddPermission',
      'lambda:DeleteFunction',
    ]) {
      deny(
        action,
        fn,
        "changing the terminator's functions, or who may invoke them, changes what terminates",
      );
    }
  }
  for (const action of [
    'sqs:PurgeQueue',
    'sqs:DeleteMessage',
    'sqs:ReceiveMessage',
    'sqs:SetQueueAttributes',
  ]) {
    deny(
      action,
      own.deadLetterQueueArn,
      'the dead-letter queue keeps the requests that could not be completed',
    );
  }
}
