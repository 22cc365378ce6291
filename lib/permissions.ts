/**
 * What the terminator's functions may do, statement by statement: SWF calls on the chosen domains only (in
 * both of the ARN forms SWF's documentation publishes), their own state machine's jobs, and sending to the
 * dead-letter queue. See docs/facts.md, "IAM for SWF".
 */
import { ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledgeWildcardResource } from './nag';
import {
  DEAD_LETTER_ACTION,
  domainArnPatterns,
  JOB_EXECUTION_ACTIONS,
  JOB_MACHINE_ACTIONS,
  READ_LOG_ACTIONS,
  TERMINATE_ACTIONS,
  WRITE_LOG_ACTIONS,
} from './role-grants';

/**
 * Both published ARN forms of an SWF domain (lib/role-grants.ts, domainArnPatterns), in the stack's
 * partition, region and account. A domain name that is a token is left as it is.
 */
export function swfDomainArns(scope: Construct, domain: string): string[] {
  const stack = Stack.of(scope);
  const at = { partition: stack.partition, region: stack.region, account: stack.account };
  return domainArnPatterns(at, domain, Token.isUnresolved(domain) ? (token) => token : undefined);
}

/** The ARNs of a state machine whose name is known before it exists, and of its executions. */
export interface JobArns {
  readonly stateMachineArn: string;
  /** Every execution of that state machine (`...:execution:<name>:*`). */
  readonly executionArns: string;
}

/**
 * The state machine's ARNs, written from its name: the state machine references the function (its task),
 * and the function's environment and role name the state machine, so the ARN cannot be an attribute.
 */
export function jobArns(scope: Construct, stateMachineName: string): JobArns {
  const stack = Stack.of(scope);
  return {
    stateMachineArn: stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
    executionArns: stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
  };
}

/**
 * Lets a function's role work with the terminator's own jobs: start, read, stop and list them. (The control
 * function starts one only to record an abort that came before its request's job: an execution no chunk
 * runs.) The executions' ARN is a wildcard (jobs are named at run time): acknowledged for cdk-nag.
 */
export function grantOwnJobs(role: iam.Role, arns: JobArns): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'StartAndListOwnJobs',
      actions: [...JOB_MACHINE_ACTIONS],
      resources: [arns.stateMachineArn],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadAndStopOwnJobs',
      actions: [...JOB_EXECUTION_ACTIONS],
      resources: [arns.executionArns],
    }),
  );
  acknowledgeWildcardResource(
    role,
    arns.executionArns,
    "The executions of this terminator's own state machine: its jobs, named by their request at run time.",
  );
}

/**
 * An on-failure destination that grants the function `sqs:SendMessage` on the queue and nothing else
 * (the stock `SqsDestination` also grants GetQueueAttributes and GetQueueUrl, which Lambda does not need
 * to deliver an invocation record).
 */
export class SendOnlySqsDestination implements lambda.IDestination {
  constructor(private readonly queue: sqs.IQueue) {}

  public bind(_scope: Construct, fn: lambda.IFunction): lambda.DestinationConfig {
    this.queue.grant(fn, DEAD_LETTER_ACTION);
    return { destination: this.queue.queueArn };
  }
}

/**
 * One SWF action granted on domains added one by one (a policy at a time): a single statement, created when
 * the first domain needs it, so a terminator without the feature has no trace of the action.
 */
export class DomainActionGrant {
  private statement: iam.PolicyStatement | undefined;
  private readonly granted: string[] = [];

  constructor(
    private readonly scope: Construct,
    private readonly role: iam.Role,
    private readonly sid: string,
    private readonly action: string,
  ) {}

  /** The domains granted so far. */
  get domains(): readonly string[] {
    return this.granted;
  }

  /** Grants the action on `domain` (in both ARN forms); a domain granted already is left as it is. */
  add(domain: string): void {
    if (this.granted.includes(domain)) return;
    this.granted.push(domain);
    const arns = swfDomainArns(this.scope, domain);
    if (this.statement === undefined) {
      this.statement = new iam.PolicyStatement({ sid: this.sid, actions: [this.action], resources: arns });
      this.role.addToPrincipalPolicy(this.statement);
    } else {
      this.statement.addResources(...arns);
    }
  }
}

/**
 * The terminating function's role: write its own logs, terminate, list and count executions in the chosen
 * domains (both ARN forms), run its own jobs. What a feature adds (cancel, Describe) comes through
 * {@link DomainActionGrant}.
 */
export function createTerminatingRole(
  scope: Construct,
  domains: readonly string[],
  logGroupArn: string,
  jobs: JobArns,
): iam.Role {
  const role = new iam.Role(scope, 'Role', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description:
      'SWF terminator: terminate, list and count executions in the chosen domains only; run its own jobs',
  });
  role.addToPrincipalPolicy(writeOwnLogs(logGroupArn));
  role.addToPrincipalPolicy(readOwnLogs(logGroupArn));
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'TerminateInChosenDomains',
      actions: [...TERMINATE_ACTIONS],
      resources: domains.flatMap((domain) => swfDomainArns(scope, domain)),
    }),
  );
  grantOwnJobs(role, jobs);
  return role;
}

/**
 * The control function's role: its own logs (writing, and reading its jobs' progress back), and starting,
 * reading, stopping and listing its own jobs. No SWF.
 */
export function createControlRole(scope: Construct, logGroupArn: string, jobs: JobArns): iam.Role {
  const role = new iam.Role(scope, 'ControlRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description:
      "SWF terminator's control function: stop, record aborts of, describe and list its own jobs only",
  });
  role.addToPrincipalPolicy(writeOwnLogs(logGroupArn));
  role.addToPrincipalPolicy(readOwnLogs(logGroupArn));
  grantOwnJobs(role, jobs);
  return role;
}

/**
 * Searching the functions' own log group (FilterLogEvents): a job's status reads the progress its chunks
 * logged there (lambda/aws/job-logs.ts). That group only.
 */
export function readOwnLogs(logGroupArn: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'ReadOwnJobProgress',
    actions: [...READ_LOG_ACTIONS],
    resources: [logGroupArn],
  });
}

/** Writing the function's own log streams (the log group's ARN ends in `:*`: its streams, no other). */
export function writeOwnLogs(logGroupArn: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'WriteOwnLogs',
    actions: [...WRITE_LOG_ACTIONS],
    resources: [logGroupArn],
  });
}
