/**
 * The event policies' circuit breakers' table: created with the terminator's first event policy, one item per
 * policy (partition key `policy`), on demand, its items expiring by TTL (`expiresAt`) a while after their
 * window. The terminating function may read and write its items, the control function read and update them
 * (an operator's status and reset), nothing else (lib/role-grants.ts); both functions are told its name and
 * each event policy's bound (lib/contract.ts, ENV).
 */
import { Lazy, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ENV } from './contract';
import { BREAKER_ACTIONS, BREAKER_CONTROL_ACTIONS } from './role-grants';

/** An event policy's bound, as the handler reads it (POLICY_BREAKERS). */
export interface BreakerBound {
  readonly cap: number;
  readonly windowSeconds: number;
}

export class BreakerTable extends Construct {
  public readonly table: dynamodb.Table;
  private readonly bounds: Record<string, BreakerBound> = {};

  /**
   * @param handlerRole the terminating function's role: it counts the policies' runs
   * @param controlRole the control function's role: it reads and resets a breaker for an operator
   * @param functions both functions, told the table and each policy's bound
   */
  constructor(
    scope: Construct,
    id: string,
    handlerRole: iam.Role,
    controlRole: iam.Role,
    functions: readonly lambda.Function[],
  ) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'policy', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      // Counts of the last windows only: nothing to keep once the terminator is gone.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.table).acknowledge({
      id: 'AwsSolutions-DDB3',
      reason:
        "Point-in-time recovery: the table holds only the circuit breakers' counts of the current window, " +
        'which expire; there is nothing to recover.',
    });
    handlerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CountEventPolicyRuns',
        actions: [...BREAKER_ACTIONS],
        resources: [this.table.tableArn],
      }),
    );
    controlRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadAndResetEventPolicyBreakers',
        actions: [...BREAKER_CONTROL_ACTIONS],
        resources: [this.table.tableArn],
      }),
    );
    const bounds = Lazy.string({ produce: () => Stack.of(this).toJsonString(this.bounds) });
    for (const fn of functions) {
      fn.addEnvironment(ENV.breakerTable, this.table.tableName);
      fn.addEnvironment(ENV.policyBreakers, bounds);
    }
  }

  /** Adds an event policy's bound. */
  public add(policy: string, bound: BreakerBound): void {
    this.bounds[policy] = bound;
  }
}
