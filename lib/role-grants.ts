/**
 * What the construct grants each of its roles, as one table the construct builds its statements from
 * (lib/permissions.ts) and the verifier audits the live roles against (lambda/verify/audit-roles.ts): a role
 * may hold these actions on these resources and nothing else. Pure (no CDK): the ARNs are strings, tokens at
 * synth and concrete ARNs in the verifier.
 */

/** Writing the functions' own log streams (the log group's ARN ends in `:*`: its streams, no other). */
export const WRITE_LOG_ACTIONS: readonly string[] = ['logs:CreateLogStream', 'logs:PutLogEvents'];
/** Reading a job's progress back from the functions' own log group (lambda/aws/job-logs.ts). */
export const READ_LOG_ACTIONS: readonly string[] = ['logs:FilterLogEvents'];
/** What the terminating function always needs in each chosen domain. */
export const TERMINATE_ACTIONS: readonly string[] = [
  'swf:CountOpenWorkflowExecutions',
  'swf:ListOpenWorkflowExecutions',
  'swf:TerminateWorkflowExecution',
];
/** Granted only in the domains where cancelling is chosen. */
export const CANCEL_ACTION = 'swf:RequestCancelWorkflowExecution';
/** Granted only in the domains where describing is chosen. */
export const DESCRIBE_ACTION = 'swf:DescribeWorkflowExecution';
/** Starting and listing the terminator's own jobs, on its state machine. */
export const JOB_MACHINE_ACTIONS: readonly string[] = ['states:StartExecution', 'states:ListExecutions'];
/** Reading and stopping the terminator's own jobs, on their executions. */
export const JOB_EXECUTION_ACTIONS: readonly string[] = [
  'states:DescribeExecution',
  'states:GetExecutionHistory',
  'states:StopExecution',
];
/** Delivering a failed invocation's record to the dead-letter queue. */
export const DEAD_LETTER_ACTION = 'sqs:SendMessage';
/**
 * Counting an event policy's runs in its circuit breaker's record (lambda/aws/breaker-table.ts): read it,
 * write it on the version read, count a run passed over.
 */
export const BREAKER_ACTIONS: readonly string[] = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
];
/** An operator reading or resetting an event policy's breaker (the control function's `status`, `resetBreaker`). */
export const BREAKER_CONTROL_ACTIONS: readonly string[] = ['dynamodb:GetItem', 'dynamodb:UpdateItem'];
/** The state machine runs a job's chunks on the terminating function. */
export const INVOKE_ACTION = 'lambda:InvokeFunction';
/**
 * What restore calls in each chosen domain (allowRestore): list terminated runs (and the open ones started
 * since), read one event at either end of a run's history, start a run. The terminating function holds
 * Start, ListClosed and GetHistory never (ListOpen it has for its own work).
 */
export const RESTORE_ACTIONS: readonly string[] = [
  'swf:GetWorkflowExecutionHistory',
  'swf:ListClosedWorkflowExecutions',
  // So a preview knows which workflowIds are open again (SWF refuses a second open run when starting).
  'swf:ListOpenWorkflowExecutions',
  'swf:StartWorkflowExecution',
];
/** Passing a restarted run's Lambda role to SWF (only the roles `restoreLambdaRoles` names). */
export const PASS_ROLE_ACTION = 'iam:PassRole';
/** A restore hands what outlives one invocation to a job, and looks whether its job was stopped. */
export const RESTORE_JOB_ACTIONS = {
  machine: ['states:StartExecution'],
  executions: ['states:DescribeExecution'],
} as const;

/** The services the roles trust, each the only principal that may assume its role. */
export const TRUSTED_SERVICE = {
  handler: 'lambda.amazonaws.com',
  control: 'lambda.amazonaws.com',
  stateMachine: 'states.amazonaws.com',
} as const;

/** The service the restore function's role trusts (allowRestore). */
export const RESTORE_TRUSTED_SERVICE = 'lambda.amazonaws.com';

/** The one action a role's trusted service is let take. */
export const TRUST_ACTION = 'sts:AssumeRole';

/** The construct's three roles. */
export type RoleKind = keyof typeof TRUSTED_SERVICE;

/** One grant: these actions on these resources (IAM patterns, as the policy writes them). */
export interface RoleGrant {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  /** Why the role holds it, for a reader of a report. */
  readonly why: string;
}

/** The terminator's resources a role's grants name. */
export interface GrantedResources {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly domains: readonly string[];
  readonly cancelDomains: readonly string[];
  readonly describeDomains: readonly string[];
  /** The log group's ARN as CloudFormation gives it (`arn:...:log-group:NAME:*`). */
  readonly logGroupArn: string;
  readonly stateMachineArn: string;
  readonly deadLetterQueueArn: string;
  readonly handlerFunctionArn: string;
  /** The event policies' circuit breakers' table (only when the terminator has an event policy). */
  readonly breakerTableArn?: string;
  /** The restore function and the Lambda roles it may pass (only with allowRestore). */
  readonly restore?: { readonly functionArn: string; readonly lambdaRoles: readonly string[] };
}

/**
 * A name as IAM reads it literally in a resource: SWF allows `*`, `?` and `$` in domain names, and IAM reads
 * `*` and `?` as wildcards (`ord*` would grant every domain starting with `ord`); its literal-character
 * variables `${*}`, `${?}` and `${$}` keep the name literal.
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-specialchars
 */
export function iamLiteral(name: string): string {
  return name.replace(/[*?$]/g, (special) => `\${${special}}`);
}

/**
 * Both published ARN forms of a domain, its name made literal: with the region (SWF Developer Guide, SWF's own
 * events) and with an empty region (Service Authorization Reference).
 */
export function domainArnPatterns(
  at: Pick<GrantedResources, 'partition' | 'region' | 'account'>,
  domain: string,
  /** How the name is written: made literal, unless the caller says (a CDK token is left as it is). */
  nameAs: (domain: string) => string = iamLiteral,
): string[] {
  const name = nameAs(domain);
  return [
    `arn:${at.partition}:swf:${at.region}:${at.account}:/domain/${name}`,
    `arn:${at.partition}:swf::${at.account}:/domain/${name}`,
  ];
}

/** Every execution of a state machine, from its ARN (`...:stateMachine:NAME` → `...:execution:NAME:*`). */
export function executionsOf(stateMachineArn: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:*`;
}

/** What the terminating function's and the control function's roles share: logs, jobs, the dead-letter queue. */
function functionGrants(r: GrantedResources): RoleGrant[] {
  return [
    {
      actions: [...WRITE_LOG_ACTIONS, ...READ_LOG_ACTIONS],
      resources: [r.logGroupArn],
      why: "its own log group: write its logs, read its jobs' progress back",
    },
    { actions: JOB_MACHINE_ACTIONS, resources: [r.stateMachineArn], why: 'start and list its own jobs' },
    {
      actions: JOB_EXECUTION_ACTIONS,
      resources: [executionsOf(r.stateMachineArn)],
      why: 'read and stop its own jobs',
    },
    {
      actions: [DEAD_LETTER_ACTION],
      resources: [r.deadLetterQueueArn],
      why: 'keep a failed invocation in its dead-letter queue',
    },
  ];
}

/** The restore function's role (allowRestore): its logs, restore's SWF calls, its jobs, the roles it passes. */
export function restoreGrants(r: GrantedResources, lambdaRoles: readonly string[]): RoleGrant[] {
  const grants: RoleGrant[] = [
    { actions: WRITE_LOG_ACTIONS, resources: [r.logGroupArn], why: 'write its logs in its own log group' },
    {
      actions: RESTORE_ACTIONS,
      resources: r.domains.flatMap((d) => domainArnPatterns(r, d)),
      why: 'find terminated runs, read their first and last events, start them again, in the chosen domains',
    },
    {
      actions: RESTORE_JOB_ACTIONS.machine,
      resources: [r.stateMachineArn],
      why: 'continue a restore that outgrows one invocation as a job',
    },
    {
      actions: RESTORE_JOB_ACTIONS.executions,
      resources: [executionsOf(r.stateMachineArn)],
      why: 'see whether its job was stopped (or an abort recorded for it)',
    },
  ];
  if (lambdaRoles.length > 0) {
    grants.push({
      actions: [PASS_ROLE_ACTION],
      resources: lambdaRoles,
      why: 'pass the Lambda roles restarted runs name (restoreLambdaRoles) to SWF',
    });
  }
  return grants;
}

/** Each role's grants: what the construct writes into its policies, and all a verified role may hold. */
export function roleGrants(r: GrantedResources): Record<RoleKind, RoleGrant[]> {
  const inDomains = (domains: readonly string[]) => domains.flatMap((d) => domainArnPatterns(r, d));
  const handler: RoleGrant[] = [
    ...functionGrants(r),
    {
      actions: TERMINATE_ACTIONS,
      resources: inDomains(r.domains),
      why: 'terminate, list and count executions in the chosen domains',
    },
  ];
  if (r.cancelDomains.length > 0) {
    handler.push({
      actions: [CANCEL_ACTION],
      resources: inDomains(r.cancelDomains),
      why: 'ask executions to cancel where cancelling is chosen',
    });
  }
  if (r.breakerTableArn !== undefined) {
    handler.push({
      actions: BREAKER_ACTIONS,
      resources: [r.breakerTableArn],
      why: "count its event policies' runs in their circuit breakers",
    });
  }
  if (r.describeDomains.length > 0) {
    handler.push({
      actions: [DESCRIBE_ACTION],
      resources: inDomains(r.describeDomains),
      why: 'describe executions where describing is chosen',
    });
  }
  const control = functionGrants(r);
  if (r.breakerTableArn !== undefined) {
    control.push({
      actions: BREAKER_CONTROL_ACTIONS,
      resources: [r.breakerTableArn],
      why: "read and reset its event policies' circuit breakers for an operator",
    });
  }
  return {
    handler,
    control,
    stateMachine: [
      {
        actions: [INVOKE_ACTION],
        resources: [r.handlerFunctionArn, `${r.handlerFunctionArn}:*`],
        why: "run a job's chunks on the terminating function (any version or alias of it)",
      },
      ...(r.restore === undefined
        ? []
        : [
            {
              actions: [INVOKE_ACTION],
              resources: [r.restore.functionArn, `${r.restore.functionArn}:*`],
              why: "run a restore job's chunks on the restore function (any version or alias of it)",
            },
          ]),
    ],
  };
}
