/**
 * The construct: a terminating function and a control function sharing one log group and one dead-letter
 * queue, the state machine that runs jobs, and the rules that route requests to them. Its props are in
 * lib/swf-terminator-props.ts, their validation in lib/validation.ts, the IAM statements in lib/permissions.ts.
 */
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { BreakerTable } from './breaker-table';
import {
  type CfnResource,
  Duration,
  Lazy,
  Names,
  RemovalPolicy,
  Stack,
  Token,
  Validations,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  DEFAULT_REQUEST_DETAIL_TYPE,
  DEFAULT_REQUEST_SOURCE,
  ENV,
  JOB_METRIC,
  METRIC,
  METRICS_NAMESPACE,
  METRICS_SERVICE_DIMENSION,
  VERIFY_METRIC,
} from './contract';
import { handlerCode, HANDLER_RUNTIME } from './handler-asset';
import { JobMachine } from './job-machine';
import { environmentSizeProblem, handlerEnvironment } from './environment';
import {
  createControlRole,
  createTerminatingRole,
  DomainActionGrant,
  type JobArns,
  jobArns,
  SendOnlySqsDestination,
} from './permissions';
import { TerminatorRestore } from './restore';
import type { PolicyHostSettings } from './policy-validation';
import type { SwfTerminatorProps } from './swf-terminator-props';
import { TerminationPolicy, type TerminationPolicyOptions } from './termination-policy';
import { createRequestRules } from './request-rules';
import { CANCEL_ACTION, DESCRIBE_ACTION } from './role-grants';
import { resolveSettings, type TerminatorSettings } from './validation';
import { LeastPrivilegeVerifier } from './verifier';
import { TerminatorAlarms, type TerminatorAlarmsOptions } from './alarms';
import { TerminatorDashboard, type TerminatorDashboardOptions } from './dashboard';
import {
  OPERATOR_METADATA_KEY,
  OPERATOR_METADATA_VERSION,
  type OperatorMetadata,
  type PolicyManifest,
} from './operator-contract';

/**
 * Deploys what terminates Amazon SWF workflow executions in the chosen domains: the terminating function
 * and the EventBridge rule that delivers requests to it, the Step Functions state machine that runs
 * requests too long for one invocation as jobs (stopped and read through the control function), termination
 * policies (`addPolicy`), and, by default, the verifier that proves the roles' least privilege at deploy.
 *
 * A request is an event with `source` = `requestSource`, `detail-type` = `requestDetailType` and
 * `detail.domain` one of `domains`, put on `eventBus`. Requests EventBridge cannot deliver, and
 * invocations the function could not complete after its retries, are kept in `deadLetterQueue`.
 */
export class SwfTerminator extends Construct {
  /** The `source` of a termination request when `requestSource` is not given. */
  public static readonly DEFAULT_REQUEST_SOURCE = DEFAULT_REQUEST_SOURCE;
  /** The `detail-type` of a termination request when `requestDetailType` is not given. */
  public static readonly DEFAULT_REQUEST_DETAIL_TYPE = DEFAULT_REQUEST_DETAIL_TYPE;

  /** The function that terminates the executions (requests inline, and the chunks of jobs). */
  public readonly handler: lambda.IFunction;
  /**
   * The function that answers control requests only (abort, status, jobs): it has a reserved concurrency of
   * its own, so a job can be stopped while `handler` is busy, and no SWF permission at all. It refuses every
   * other event (a job's chunk, a policy's run) before anything else.
   */
  public readonly controlHandler: lambda.IFunction;
  /** The state machine that runs jobs (requests too large for one invocation); an execution per job. */
  public readonly stateMachine: sfn.IStateMachine;
  /**
   * The least-privilege verifier: asks IAM whether the roles above can do what they must and nothing more.
   * It runs at deployment (unless `verifyOnDeploy` is false), on `verificationSchedule`, and whenever it is
   * invoked (`aws lambda invoke`): a violation fails the invocation, naming the check and the statement.
   */
  public readonly verifier: lambda.IFunction;
  /** The bus termination requests are put on. */
  public readonly eventBus: events.IEventBus;
  /** The rule that routes termination requests to the function. */
  public readonly rule: events.IRule;
  /** The rule that routes control requests (abort, status, jobs) to the control function. */
  public readonly controlRule: events.IRule;
  /**
   * Where requests are kept that could not be completed: those EventBridge could not deliver (with
   * `ERROR_CODE` / `ERROR_MESSAGE` message attributes) and the functions' failed asynchronous
   * invocations (a Lambda invocation record with the error in `responsePayload`).
   */
  public readonly deadLetterQueue: sqs.IQueue;
  /** The functions' log group. */
  public readonly logGroup: logs.ILogGroup;
  /** The service name the handler reports in its logs and as the `service` dimension of its metrics. */
  public readonly serviceName: string;
  /**
   * The restore function (`allowRestore`): invoke it with `{ "restore": { "domain": ..., "jobId": ... } }`
   * (or `policy` with `closedAfter`, or `runs`) to restart what the terminator terminated; `dryRun` first.
   * Undefined without `allowRestore`.
   */
  public readonly restoreFunction?: lambda.IFunction;

  private readonly settings: TerminatorSettings;
  private readonly cancelGrant: DomainActionGrant;
  private readonly describeGrant: DomainActionGrant;
  private readonly targetOptions: targets.LambdaFunctionProps;
  private readonly policyDigests: string[] = [];
  private readonly policyNames: string[] = [];
  /** What the operator's command lists of each policy (lib/operator-contract.ts). */
  private readonly policyManifests: PolicyManifest[] = [];
  /** The terminating function's role, which the event policies' breaker table is granted to. */
  private readonly handlerRole: iam.Role;
  /** The terminating function, as the construct made it (`handler` exposes it as an interface). */
  private readonly handlerFunction: lambda.Function;
  /** The control function and its role, likewise. */
  private readonly controlFunction: lambda.Function;
  private readonly controlRole: iam.Role;
  /** The event policies' circuit breakers, created with the first event policy. */
  private breakers?: BreakerTable;
  /** The policies added so far, for the alarms (those added after addAlarms get theirs as they come). */
  private readonly policies: { policy: TerminationPolicy; hasBreaker: boolean }[] = [];
  private alarms?: TerminatorAlarms;
  private dashboard?: TerminatorDashboard;
  /** Restore's function and role (allowRestore). */
  private readonly restore?: TerminatorRestore;
  /** The construct's rules that invoke the terminating function: the only ones its resource policy may name. */
  private readonly handlerRules: events.IRule[] = [];

  /**
   * @param scope the construct to create the terminator in
   * @param id the terminator's id in that scope
   * @param props the domains it may act on, and how it acts
   */
  constructor(scope: Construct, id: string, props: SwfTerminatorProps) {
    super(scope, id);

    const settings = resolveSettings(this, props);
    this.settings = settings;
    const { domains, requestSource, requestDetailType, retryAttempts, maxEventAge, timeout } = settings;

    // Stable for this construct instance (its path in the app), and computed without referencing the
    // function, so it can sit in the function's own environment without a circular reference.
    this.serviceName = Names.uniqueId(this);

    // One queue for both failure paths, so operators watch (and alarm on) a single queue; the two kinds
    // of message are told apart by their shape (see the deadLetterQueue doc comment).
    const deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // cdk-nag AwsSolutions-SQS3 asks every queue for a DLQ of its own; this one IS the dead-letter queue.
    Validations.of(deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue of the rules and the on-failure destination of the ' +
        'functions; nothing consumes it automatically, an operator reads it (14 days).',
    });
    this.deadLetterQueue = deadLetterQueue;

    const logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: settings.logRetention,
      // The log is the audit trail of which executions were terminated: keep it when the stack goes.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.logGroup = logGroup;

    // The state machine's name is chosen here, so that its ARNs can be written without referencing it.
    const stateMachineName = Names.uniqueResourceName(this, { maxLength: 80, separator: '-' });
    const jobs = jobArns(this, stateMachineName);

    const role = createTerminatingRole(this, domains, logGroup.logGroupArn, jobs);
    this.handlerRole = role;
    // Beyond terminating, only what a feature needs: cancel requests (allowCancelRequests, or a policy that
    // cancels) and Describe calls (a policy that sweeps for stalled or idle executions), domain by domain.
    this.cancelGrant = new DomainActionGrant(this, role, 'CancelInChosenDomains', CANCEL_ACTION);
    this.describeGrant = new DomainActionGrant(this, role, 'DescribeInChosenDomains', DESCRIBE_ACTION);
    if (props.allowCancelRequests === true) {
      for (const domain of domains) this.cancelGrant.add(domain);
    }

    const environment = handlerEnvironment({
      settings,
      childPolicy: props.childPolicy,
      allowCancelRequests: props.allowCancelRequests === true,
      stateMachineArn: jobs.stateMachineArn,
      logGroupName: logGroup.logGroupName,
      serviceName: this.serviceName,
      // Lazy: policies added after the constructor add their domains.
      cancelDomains: () => this.cancelGrant.domains,
      describeDomains: () => this.describeGrant.domains,
      policyDigests: () => this.policyDigests,
    });
    // Checked once the app is complete: policies added after the constructor grow it.
    this.node.addValidation({
      validate: () => {
        const problem = environmentSizeProblem(this, environment);
        return problem === undefined ? [] : [`SwfTerminator: ${problem}`];
      },
    });

    // What the terminating function and the control function share: one code asset, one log group, and
    // for asynchronous invocations (EventBridge's) Lambda's maximum of 2 retries, then the invocation record,
    // error included, goes to the dead-letter queue.
    const shared = {
      code: handlerCode(),
      handler: 'index.handler',
      runtime: HANDLER_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      logGroup,
      retryAttempts: 2,
      onFailure: new SendOnlySqsDestination(deadLetterQueue),
    };
    const fn = new lambda.Function(this, 'Handler', {
      ...shared,
      memorySize: settings.memorySize,
      timeout,
      reservedConcurrentExecutions: settings.rateShares,
      role,
      environment,
      description: 'Terminates SWF workflow executions in the chosen domains on request, and runs jobs',
    });
    this.handler = fn;
    this.handlerFunction = fn;

    // Restore (allowRestore): a function and a role of its own, created before the state machine that runs
    // its jobs' chunks.
    this.restore = restoreOf(this, props, settings, { logGroup, jobs, serviceName: this.serviceName });
    this.restoreFunction = this.restore?.function;

    const jobMachine = new JobMachine(this, 'Jobs', {
      handler: fn,
      handlerTimeout: timeout,
      stateMachineName,
      ...(this.restore === undefined ? {} : { restoreHandler: this.restore.function }),
    });
    this.stateMachine = jobMachine.stateMachine;

    // The control function: the same code, control requests only, no SWF permission, a concurrency of its
    // own so that a stop request never waits for the terminating function's turn.
    const controlRole = createControlRole(this, logGroup.logGroupArn, jobs);
    this.controlRole = controlRole;
    this.controlFunction = new lambda.Function(this, 'ControlHandler', {
      ...shared,
      memorySize: 256,
      timeout: Duration.seconds(30),
      reservedConcurrentExecutions: 1,
      role: controlRole,
      environment: { ...environment, [ENV.controlOnly]: 'true' },
      description: 'Stops, describes and lists the SWF terminator jobs (abort, status, jobs requests)',
    });
    this.controlHandler = this.controlFunction;

    if (props.eventBus) {
      this.eventBus = props.eventBus;
    } else {
      // No resource policy: only principals of this account that are granted events:PutEvents on it
      // (see grantRequest) can send requests; no cross-account access.
      this.eventBus = new events.EventBus(this, 'EventBus', { eventBusName: props.eventBusName });
    }

    this.targetOptions = { deadLetterQueue, retryAttempts, maxEventAge };
    const rules = createRequestRules(this, {
      eventBus: this.eventBus,
      requestSource,
      requestDetailType,
      domains,
      handler: fn,
      controlHandler: this.controlHandler,
      targetOptions: this.targetOptions,
    });
    this.rule = rules.rule;
    this.controlRule = rules.controlRule;
    this.handlerRules.push(rules.rule);

    this.verifier = new LeastPrivilegeVerifier(this, 'Verifier', {
      domains,
      handler: fn,
      handlerRole: role,
      controlRole,
      stateMachineRole: jobMachine.stateMachine.role,
      controlHandler: this.controlHandler,
      stateMachineArn: jobs.stateMachineArn,
      deadLetterQueueArn: deadLetterQueue.queueArn,
      eventBus: this.eventBus,
      // Lazy: policies added after the constructor add their rules.
      handlerRules: () => this.handlerRules,
      controlRules: () => [rules.controlRule],
      cancelDomains: () => this.cancelGrant.domains,
      describeDomains: () => this.describeGrant.domains,
      breakerTableArn: () => this.breakers?.table.tableArn,
      logGroup,
      serviceName: this.serviceName,
      onDeploy: props.verifyOnDeploy ?? true,
      ...(props.verificationSchedule === undefined ? {} : { schedule: props.verificationSchedule }),
      checkAfter: [role, controlRole, jobMachine],
      ...(this.restore === undefined
        ? {}
        : {
            restore: {
              role: this.restore.role,
              function: this.restore.function,
              lambdaRoles: props.restoreLambdaRoles ?? [],
            },
          }),
    }).function;

    // How the operator's command finds these functions in the stack, whatever names CloudFormation gives them.
    const terminatorPath = this.node.path;
    markForOperators(fn, () => ({
      version: OPERATOR_METADATA_VERSION,
      terminator: terminatorPath,
      role: 'handler',
      domains: [...domains],
      policies: this.policyManifests,
    }));
    for (const [operatorRole, target] of [
      ['control', this.controlFunction],
      ['verifier', this.verifier],
      ...(this.restore === undefined ? [] : [['restore', this.restore.function] as const]),
    ] as const) {
      markForOperators(target, () => ({
        version: OPERATOR_METADATA_VERSION,
        terminator: terminatorPath,
        role: operatorRole,
      }));
    }
  }

  /**
   * Adds a termination policy: the handler runs it on its schedule, or on SWF's execution events (plus a
   * backstop sweep), as a dry run until its `dryRun` is set to false.
   *
   * @param id the policy's id, and its name unless `policyName` is given (1-40 letters, digits, `-`, `_`)
   * @param options what the policy does, when, and to what
   */
  public addPolicy(id: string, options: TerminationPolicyOptions): TerminationPolicy {
    return new TerminationPolicy(this, id, { ...options, terminator: this });
  }

  /**
   * Adds the alarms that need a human, each with a description that says what to do: executions failed, the
   * dead-letter queue not empty, a job failed, least privilege not proven (or the verifier not running), the
   * functions erroring, the terminating function throttled for long, and for each policy (added before or
   * after) its cap exceeded and, for an event policy, its circuit breaker tripped. Once per terminator.
   *
   * @param options what the alarms do (actions, a topic), and how long a throttle may last
   */
  public addAlarms(options?: TerminatorAlarmsOptions): TerminatorAlarms {
    if (this.alarms !== undefined)
      throw new Error('SwfTerminator.addAlarms: this terminator has its alarms already');
    const alarms = new TerminatorAlarms(this, 'Alarms', options);
    for (const { policy, hasBreaker } of this.policies) alarms._addPolicy(policy, hasBreaker);
    this.alarms = alarms;
    return alarms;
  }

  /**
   * Adds a CloudWatch dashboard laid out for an incident: terminations per minute against the configured
   * rate, failures, throttles and refusals; the outcomes; the jobs; the functions' health, the dead-letter
   * queue and the verifier's last result; the latest terminations (who asked, and why) and failures from the
   * log group; one row per policy (added before or after). Once per terminator.
   *
   * @param options its name and time range
   */
  public addDashboard(options?: TerminatorDashboardOptions): TerminatorDashboard {
    if (this.dashboard !== undefined) {
      throw new Error('SwfTerminator.addDashboard: this terminator has its dashboard already');
    }
    const dashboard = new TerminatorDashboard(this, 'Dashboard', options);
    for (const { policy, hasBreaker } of this.policies) dashboard._addPolicy(policy, hasBreaker);
    this.dashboard = dashboard;
    return dashboard;
  }

  /** @internal A policy of this terminator, for its alarms and its dashboard row. */
  public _policyAdded(policy: TerminationPolicy, hasBreaker: boolean): void {
    this.policies.push({ policy, hasBreaker });
    this.alarms?._addPolicy(policy, hasBreaker);
    this.dashboard?._addPolicy(policy, hasBreaker);
  }

  /** @internal The settings the dashboard draws its reference lines at. */
  public _dashboardSettings(): { terminateRatePerSecond: number; reservedConcurrency: number } {
    return {
      terminateRatePerSecond: this.settings.terminateRate,
      reservedConcurrency: this.settings.rateShares,
    };
  }

  /** @internal What a policy is checked against. */
  public _policySettings(): PolicyHostSettings {
    return { domains: this.settings.domains, maxExecutions: this.settings.maxExecutions };
  }

  /**
   * @internal Registers a policy with the handler (its digest: the handler accepts runs of the policies
   * deployed with it only) and grants what it needs on `domain` beyond terminating.
   */
  public _registerPolicy(
    domain: string,
    policy: {
      name: string;
      cancel: boolean;
      describe: boolean;
      digest: string;
      breaker?: { cap: number; windowSeconds: number };
      manifest: PolicyManifest;
    },
  ): void {
    // A policy's name is its runs' job ids, its metrics' dimension and its provenance: two of one name would
    // share all three (and one's jobs would answer for the other's).
    if (this.policyNames.includes(policy.name)) {
      throw new Error(
        `TerminationPolicy ${policy.name}: this terminator has a policy of that name already; give each ` +
          'policy its own name (policyName, or its id)',
      );
    }
    this.policyNames.push(policy.name);
    this.policyManifests.push(policy.manifest);
    this.policyDigests.push(policy.digest);
    if (policy.cancel) this.cancelGrant.add(domain);
    if (policy.describe) this.describeGrant.add(domain);
    if (policy.breaker !== undefined) {
      this.breakers ??= new BreakerTable(this, 'Breakers', this.handlerRole, this.controlRole, [
        this.handlerFunction,
        this.controlFunction,
      ]);
      this.breakers.add(policy.name, policy.breaker);
    }
  }

  /**
   * The event policies' circuit breakers' table: one item per event policy, its runs acted on in the current
   * window. Created with the first event policy (undefined until then).
   */
  public get breakerTable(): dynamodb.ITable | undefined {
    return this.breakers?.table;
  }

  /**
   * @internal A rule target that runs the handler with `input` (a policy run), failures kept like requests'.
   * The rule it is bound to is recorded: the verifier lets the construct's own rules invoke the handler only.
   */
  public _policyTarget(input: events.RuleTargetInput): events.IRuleTarget {
    const target = new targets.LambdaFunction(this.handler, { ...this.targetOptions, event: input });
    return {
      bind: (rule: events.IRule, id?: string) => {
        this.handlerRules.push(rule);
        return target.bind(rule, id);
      },
    };
  }

  /**
   * Lets `grantee` send termination requests: grants `events:PutEvents` on {@link eventBus}, in the grantee's
   * own policy. Only a principal with a policy of this account (a role, a user, a group) can be granted: the
   * bus's own policy stays empty, and the verifier refuses any Allow in it.
   */
  public grantRequest(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['events:PutEvents'],
      resourceArns: [this.eventBus.eventBusArn],
    });
    if (!grant.success) {
      throw new Error(
        'SwfTerminator.grantRequest: the grantee has no policy of this account to add events:PutEvents to ' +
          '(a service or another account?); requests come only from principals of this account, through ' +
          "their own policies, never through the bus's policy",
      );
    }
    return grant;
  }

  /**
   * Lets `grantee` operate the terminator with the `swf-terminator` command: invoke the terminating function
   * (requests, and their previews), the control function (status, jobs, abort) and the verifier, and read
   * the stack's template and resources (how the command finds them). Nothing else: every SWF call is the
   * functions' own, under their roles.
   */
  public grantOperate(grantee: iam.IGrantable): iam.Grant {
    const stack = Stack.of(this);
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [...OPERATE_ACTIONS],
      resourceArns: [
        this.handler.functionArn,
        this.controlHandler.functionArn,
        this.verifier.functionArn,
        ...(this.restore === undefined ? [] : [this.restore.function.functionArn]),
        stack.formatArn({
          service: 'cloudformation',
          resource: 'stack',
          resourceName: `${stack.stackName}/*`,
        }),
      ],
    });
  }

  /**
   * One of the metrics the handler emits (namespace `SwfTerminator`, dimension `service`).
   *
   * @default - statistic Sum over 5 minutes
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { [METRICS_SERVICE_DIMENSION]: this.serviceName },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(5),
      ...props,
    });
  }

  /** Executions terminated. @default - Sum over 5 minutes */
  public metricTerminated(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.terminated, props);
  }

  /** Executions that were already closed when the terminator reached them. @default - Sum over 5 minutes */
  public metricAlreadyClosed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.alreadyClosed, props);
  }

  /**
   * Run-less workflowIds for which SWF listed no open run started before the request: closed, never
   * started, or (SWF's listing being eventually consistent) started moments before the request.
   * @default - Sum over 5 minutes
   */
  public metricNoOpenRun(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.noOpenRun, props);
  }

  /**
   * Runs a stalled / idleLongerThan match found that had resumed when described again just before being
   * acted on, and were left alone. @default - Sum over 5 minutes
   */
  public metricNoLongerMatches(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.noLongerMatches, props);
  }

  /** Executions the terminator failed to terminate. @default - Sum over 5 minutes */
  public metricFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.failed, props);
  }

  /**
   * Terminate and cancel calls SWF throttled (each is slowed down and queued again, never failed): the
   * account's SWF quota is shared with its deciders. @default - Sum over 5 minutes
   */
  public metricThrottled(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.throttled, props);
  }

  /** Requests rejected as invalid or not allowed. @default - Sum over 5 minutes */
  public metricRejected(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.rejected, props);
  }

  /**
   * Jobs started: requests too large for one invocation or out of time in it, and every cancelThenTerminate.
   * @default - Sum over 5 minutes
   */
  public metricJobsStarted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(JOB_METRIC.started, props);
  }

  /**
   * Jobs a chunk saw stopped while it worked (an abort request, or StopExecution), as the handler counts
   * them. @default - Sum over 5 minutes
   */
  public metricJobsAborted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(JOB_METRIC.aborted, props);
  }

  /**
   * Jobs that ended failed: a chunk kept failing, or executions failed (the state machine's
   * `ExecutionsFailed`). Alarm on any. @default - Sum over 5 minutes
   */
  public metricJobsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricFailed(props);
  }

  /** Executions asked to cancel (requestCancel, cancelThenTerminate). @default - Sum over 5 minutes */
  public metricCancelRequested(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.cancelRequested, props);
  }

  /** Executions a dry run would have asked to cancel. @default - Sum over 5 minutes */
  public metricWouldCancel(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.wouldCancel, props);
  }

  /** Executions a dry run would have terminated. @default - Sum over 5 minutes */
  public metricWouldTerminate(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.wouldTerminate, props);
  }

  /**
   * Verifications that did not prove least privilege (a role can do more, or less, than designed; or IAM could
   * not answer). Alarm on any. @default - Maximum over 5 minutes
   */
  public metricVerificationFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(VERIFY_METRIC, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }
}

/** Restore's function and role when the props allow it, its props checked (at synth, naming the prop). */
function restoreOf(
  scope: Construct,
  props: SwfTerminatorProps,
  settings: TerminatorSettings,
  shared: { logGroup: logs.ILogGroup; jobs: JobArns; serviceName: string },
): TerminatorRestore | undefined {
  const roles = props.restoreLambdaRoles ?? [];
  if (props.allowRestore !== true) {
    if (roles.length > 0) {
      throw new Error(
        'SwfTerminator: restoreLambdaRoles is set but allowRestore is not true; set both, or neither',
      );
    }
    return undefined;
  }
  for (const [i, arn] of roles.entries()) {
    if (!Token.isUnresolved(arn) && !/^arn:[^:]+:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/.test(arn)) {
      throw new Error(
        `SwfTerminator: restoreLambdaRoles[${i}] must be an IAM role ARN (arn:PARTITION:iam::ACCOUNT:role/NAME), ` +
          `got ${JSON.stringify(arn.slice(0, 40))}`,
      );
    }
  }
  return new TerminatorRestore(scope, 'Restore', {
    domains: settings.domains,
    lambdaRoles: roles,
    maxExecutions: settings.maxExecutions,
    ...shared,
  });
}

/** What `grantOperate` grants: one action per API the command calls. */
const OPERATE_ACTIONS = [
  'lambda:InvokeFunction',
  'cloudformation:GetTemplate',
  'cloudformation:DescribeStackResource',
] as const;

/** Writes the operator's metadata entry (lib/operator-contract.ts) on a function's template resource. */
function markForOperators(fn: lambda.IFunction, entry: () => OperatorMetadata): void {
  const resource = fn.node.defaultChild as CfnResource;
  resource.addMetadata(OPERATOR_METADATA_KEY, Lazy.any({ produce: entry }));
}
