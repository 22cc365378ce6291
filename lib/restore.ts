/**
 * Restore (allowRestore): a function of its own, with a role of its own, that restarts what the terminator
 * terminated. Its role holds exactly what lib/role-grants.ts lists for it (restoreGrants), so the construct
 * and the verifier read one table. The terminating function gains nothing.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV, METRICS_NAMESPACE } from './contract';
import { HANDLER_RUNTIME, restoreCode } from './handler-asset';
import { acknowledgeWildcardResource } from './nag';
import { swfDomainArns, type JobArns, writeOwnLogs } from './permissions';
import {
  executionsOf,
  PASS_ROLE_ACTION,
  RESTORE_ACTIONS,
  RESTORE_JOB_ACTIONS,
  RESTORE_TRUSTED_SERVICE,
} from './role-grants';

/** What {@link TerminatorRestore} is built from (the terminator's own resources). */
export interface TerminatorRestoreProps {
  readonly domains: readonly string[];
  readonly lambdaRoles: readonly string[];
  readonly maxExecutions: number;
  readonly logGroup: logs.ILogGroup;
  readonly jobs: JobArns;
  readonly serviceName: string;
}

/** The restore function and its role. */
export class TerminatorRestore extends Construct {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: TerminatorRestoreProps) {
    super(scope, id);
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal(RESTORE_TRUSTED_SERVICE),
      description:
        'SWF terminator restore: list terminated runs, read their history and start them again in the chosen ' +
        'domains only; continue as its own jobs',
    });
    role.addToPrincipalPolicy(writeOwnLogs(props.logGroup.logGroupArn));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RestoreInChosenDomains',
        actions: [...RESTORE_ACTIONS],
        resources: props.domains.flatMap((domain) => swfDomainArns(this, domain)),
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'StartOwnRestoreJobs',
        actions: [...RESTORE_JOB_ACTIONS.machine],
        resources: [props.jobs.stateMachineArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadOwnRestoreJobs',
        actions: [...RESTORE_JOB_ACTIONS.executions],
        resources: [executionsOf(props.jobs.stateMachineArn)],
      }),
    );
    acknowledgeWildcardResource(
      role,
      executionsOf(props.jobs.stateMachineArn),
      "The executions of this terminator's own state machine: a restore job is named by its request at run time.",
    );
    if (props.lambdaRoles.length > 0) {
      // A workflow that runs Lambda tasks names the role SWF assumes for them; starting it again passes it.
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'PassRestoredRunsLambdaRoles',
          actions: [PASS_ROLE_ACTION],
          resources: [...props.lambdaRoles],
          conditions: { StringEquals: { 'iam:PassedToService': 'swf.amazonaws.com' } },
        }),
      );
    }
    this.role = role;

    const stack = Stack.of(this);
    this.function = new lambda.Function(this, 'Function', {
      code: restoreCode(),
      handler: 'index.handler',
      runtime: HANDLER_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      logGroup: props.logGroup,
      role,
      memorySize: 512,
      // A restore confirms every termination of its window, then starts runs until its time is nearly up.
      timeout: Duration.minutes(15),
      // One at a time: restores share the account's StartWorkflowExecution and history quotas.
      reservedConcurrentExecutions: 1,
      environment: {
        [ENV.restoreConfig]: stack.toJsonString({
          domains: props.domains,
          lambdaRoles: props.lambdaRoles,
          maxExecutions: props.maxExecutions,
          stateMachineArn: props.jobs.stateMachineArn,
        }),
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      },
      description: 'Restarts SWF executions the terminator terminated, from their history (restore requests)',
    });
  }
}
