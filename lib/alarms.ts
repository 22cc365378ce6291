/**
 * The alarms that need a human (`SwfTerminator.addAlarms`): each on a metric the terminator or AWS really
 * emits, with a threshold that does not flap on one refused request or one busy minute, and a description
 * that says what to do.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { SwfTerminator } from './swf-terminator';
import type { TerminationPolicy } from './termination-policy';

/** Options of {@link SwfTerminator.addAlarms}. */
export interface TerminatorAlarmsOptions {
  /**
   * What every alarm does when it goes off (and when it clears): e.g. an SNS action, an incident tool's.
   *
   * @default - none besides `topic`
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];
  /**
   * A topic every alarm notifies when it goes off and when it clears.
   *
   * @default - none
   */
  readonly topic?: sns.ITopic;
  /**
   * How long the terminating function must be throttled, without a break, before it alarms. Jobs take turns
   * on its reserved concurrency, so a throttled minute is by design; a throttled quarter hour is not.
   *
   * @default Duration.minutes(15)
   */
  readonly throttledFor?: Duration;
}

/** Where a runbook line points: the README's sections, by their headings. */
const RUNBOOK = 'Runbook: README';

/**
 * The alarms of an SwfTerminator. Every alarm is exposed for composite alarms; a policy's alarms are in
 * {@link policyAlarms}, including those of policies added after `addAlarms`.
 */
export class TerminatorAlarms extends Construct {
  /** Executions the terminator could not terminate (outcome `failed`), in any request, job or policy run. */
  public readonly executionsFailed: cloudwatch.IAlarm;
  /** The dead-letter queue holds a request or invocation that could not be completed. */
  public readonly deadLetterQueueNotEmpty: cloudwatch.IAlarm;
  /** A job ended failed (a chunk kept failing, or executions failed). */
  public readonly jobsFailed: cloudwatch.IAlarm;
  /** Least privilege was not proven: a role can do more or less than designed, or IAM could not answer. */
  public readonly verificationFailed: cloudwatch.IAlarm;
  /** The verifier itself failed to run (it could not even report). */
  public readonly verifierErrors: cloudwatch.IAlarm;
  /** The terminating or control function kept failing invocations (refusals included) for ten minutes. */
  public readonly handlerErrors: cloudwatch.IAlarm;
  /** The terminating function was throttled without a break for `throttledFor`. */
  public readonly handlerThrottled: cloudwatch.IAlarm;
  private readonly actions: cloudwatch.IAlarmAction[];
  private readonly byPolicy = new Map<string, cloudwatch.IAlarm[]>();

  /**
   * Prefer {@link SwfTerminator.addAlarms}.
   *
   * @param terminator the terminator whose alarms these are (they are created in it)
   * @param id the alarms' id in it
   * @param options their actions and thresholds
   */
  constructor(terminator: SwfTerminator, id: string, options: TerminatorAlarmsOptions = {}) {
    super(terminator, id);
    this.actions = [
      ...(options.alarmActions ?? []),
      ...(options.topic === undefined ? [] : [new actions.SnsAction(options.topic)]),
    ];
    const throttledFor = options.throttledFor ?? Duration.minutes(15);
    const throttlePeriods = Math.max(1, Math.round(throttledFor.toMinutes() / 5));
    if (throttledFor.toSeconds() < 300 || throttledFor.toSeconds() % 300 !== 0) {
      throw new Error(
        `SwfTerminator.addAlarms: throttledFor must be a whole number of 5-minute periods (got ${throttledFor.toHumanString()})`,
      );
    }

    this.executionsFailed = this.alarm('ExecutionsFailed', terminator.metricFailed(), {
      description:
        'Executions could not be terminated (outcome failed). Read which and why: `swf-terminator status JOB` ' +
        'or the log group (outcome "failed"); fix the cause (permissions, domain, SWF faults) and send the ' +
        `request again under a new id. ${RUNBOOK} "What it records and returns".`,
    });
    this.deadLetterQueueNotEmpty = this.alarm(
      'DeadLetterQueueNotEmpty',
      terminator.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(5),
      }),
      {
        description:
          'A request or invocation could not be completed and is kept in the dead-letter queue with its error. ' +
          'Read the message (the construct exposes the queue as deadLetterQueue), fix the cause, resend the ' +
          `request if it still applies, then delete the message. ${RUNBOOK} "Using the construct in your own app".`,
      },
    );
    this.jobsFailed = this.alarm('JobsFailed', terminator.metricJobsFailed(), {
      description:
        'A job ended failed: its input and error are in the execution history. `swf-terminator status JOB` ' +
        `shows what it did; send what is left again under a new id. ${RUNBOOK} "Jobs".`,
    });
    this.verificationFailed = this.alarm('VerificationFailed', terminator.metricVerificationFailed(), {
      description:
        'Least privilege was not proven: a role can do more (or less) than designed, or IAM could not answer. ' +
        'Run `swf-terminator verify` to see each failed check and finding; remove what was added by hand. ' +
        `${RUNBOOK} "Least privilege, proven on the live account".`,
    });
    this.verifierErrors = this.alarm('VerifierErrors', terminator.verifier.metricErrors(), {
      description:
        "The verifier could not run (its invocation failed before it could report): read its log group's " +
        `errors, then run \`swf-terminator verify\`. ${RUNBOOK} "Least privilege, proven on the live account".`,
    });
    this.handlerErrors = this.alarm(
      'HandlerErrors',
      new cloudwatch.MathExpression({
        expression: 'handler + control',
        usingMetrics: {
          handler: terminator.handler.metricErrors(),
          control: terminator.controlHandler.metricErrors(),
        },
        period: Duration.minutes(5),
        label: 'Errors (terminating and control functions)',
      }),
      {
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        description:
          'The terminating or control function failed invocations in 2 of the last 3 five-minute periods ' +
          '(refused requests count: look at the Rejected metric first). Read the log group for the errors. ' +
          `${RUNBOOK} "What it records and returns".`,
      },
    );
    this.handlerThrottled = this.alarm(
      'HandlerThrottled',
      terminator.handler.metricThrottles({ period: Duration.minutes(5) }),
      {
        evaluationPeriods: throttlePeriods,
        datapointsToAlarm: throttlePeriods,
        description:
          `The terminating function was throttled in every five-minute period for ${throttledFor.toHumanString()}: ` +
          'requests and jobs wait for each other longer than usual. Look for a runaway job (`swf-terminator jobs ' +
          `--state running\`), or raise reservedConcurrentExecutions. ${RUNBOOK} "Bulk requests".`,
      },
    );
  }

  /** @internal Adds a policy's alarms: its cap exceeded, and for an event policy its breaker tripped. */
  public _addPolicy(policy: TerminationPolicy, hasBreaker: boolean): void {
    const name = policy.policyName;
    const alarms = [
      this.alarm(`Policy${name}CapExceeded`, policy.metricCapExceeded(), {
        description:
          `Policy ${name} matched more than its maxExecutions and its run was refused (nothing acted on). ` +
          `Preview it: \`swf-terminator policies preview ${name}\`; narrow its match or raise its cap. ` +
          `${RUNBOOK} "Termination policies".`,
      }),
    ];
    if (hasBreaker) {
      alarms.push(
        this.alarm(`Policy${name}BreakerTripped`, policy.metricPassedOver(), {
          description:
            `Policy ${name}'s circuit breaker tripped: more executions matched in its capWindow than its ` +
            'maxExecutions, and the rest were passed over (an event storm). Look at what matched ' +
            `(\`swf-terminator policies preview ${name}\`); reset it with {"resetBreaker":{...}} once understood. ` +
            `${RUNBOOK} "An event storm is not a mass termination".`,
        }),
      );
    }
    this.byPolicy.set(name, alarms);
  }

  /** The alarms of policy `name` (cap exceeded; breaker tripped for an event policy); empty for another name. */
  public policyAlarms(name: string): cloudwatch.IAlarm[] {
    return [...(this.byPolicy.get(name) ?? [])];
  }

  /** An alarm at 1 or more, missing data not breaching, with the actions given. */
  private alarm(
    id: string,
    metric: cloudwatch.IMetric,
    props: { description: string; evaluationPeriods?: number; datapointsToAlarm?: number },
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: props.evaluationPeriods ?? 1,
      datapointsToAlarm: props.datapointsToAlarm ?? props.evaluationPeriods ?? 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: props.description,
    });
    for (const action of this.actions) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
    return alarm;
  }
}
