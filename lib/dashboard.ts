/**
 * The terminator's dashboard (`SwfTerminator.addDashboard`), laid out for an incident, top to bottom: what
 * is happening now, the outcomes, the jobs, the functions' health, who asked for the latest terminations and
 * what failed, then one row per policy. Every chart reads a metric the functions or AWS really emit
 * (test/package/monitoring-seams.test.ts checks each one), and the two log queries read fields the handler
 * really writes.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { JOB_METRIC } from './contract';
import { LATEST_FAILURES_QUERY, LATEST_TERMINATIONS_QUERY } from './log-queries';
import type { SwfTerminator } from './swf-terminator';
import type { TerminationPolicy } from './termination-policy';

/** Options of {@link SwfTerminator.addDashboard}. */
export interface TerminatorDashboardOptions {
  /**
   * The dashboard's name.
   *
   * @default - a name CloudFormation generates
   */
  readonly dashboardName?: string;
  /**
   * How far back the dashboard looks when opened.
   *
   * @default Duration.hours(3)
   */
  readonly timeRange?: Duration;
}

/** The grid CloudWatch lays widgets on: 24 columns. */
const FULL = 24;

/** A terminator's dashboard. Policies added after `addDashboard` get their row too (at the end). */
export class TerminatorDashboard extends Construct {
  /** The CloudWatch dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  /**
   * Prefer {@link SwfTerminator.addDashboard}.
   *
   * @param terminator the terminator it shows (it is created in it)
   * @param id its id there
   * @param options its name and time range
   */
  constructor(terminator: SwfTerminator, id: string, options: TerminatorDashboardOptions = {}) {
    super(terminator, id);
    const { terminateRatePerSecond, reservedConcurrency } = terminator._dashboardSettings();
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      ...(options.dashboardName === undefined ? {} : { dashboardName: options.dashboardName }),
      defaultInterval: options.timeRange ?? Duration.hours(3),
    });
    const perMinute = { period: Duration.minutes(1) };
    const graph = (
      title: string,
      width: number,
      left: cloudwatch.IMetric[],
      more: Partial<cloudwatch.GraphWidgetProps> = {},
    ) => new cloudwatch.GraphWidget({ title, width, height: 6, left, ...more });

    // Now: what is being done this minute, against the rate it may go at.
    this.dashboard.addWidgets(
      graph(
        'Terminations per minute',
        6,
        [terminator.metricTerminated({ ...perMinute, label: 'terminated' })],
        {
          leftAnnotations: [
            { value: terminateRatePerSecond * 60, label: 'configured rate', color: '#d62728' },
          ],
        },
      ),
      graph('Failed executions per minute', 6, [terminator.metricFailed({ ...perMinute, label: 'failed' })]),
      graph('Throttled per minute', 6, [
        terminator.metricThrottled({ ...perMinute, label: 'SWF calls (slowed, queued again)' }),
        terminator.handler.metricThrottles({ ...perMinute, label: 'invocations (Lambda)' }),
      ]),
      graph('Refused requests per minute', 6, [
        terminator.metricRejected({ ...perMinute, label: 'refused' }),
      ]),
    );
    // Outcomes: everything the terminator did, by outcome, stacked.
    this.dashboard.addWidgets(
      graph(
        'Outcomes',
        FULL,
        [
          terminator.metricTerminated({ label: 'terminated' }),
          terminator.metricAlreadyClosed({ label: 'already closed' }),
          terminator.metricNoOpenRun({ label: 'no open run' }),
          terminator.metricNoLongerMatches({ label: 'no longer matches' }),
          terminator.metricCancelRequested({ label: 'cancel requested' }),
          terminator.metricWouldTerminate({ label: 'would terminate (preview)' }),
          terminator.metricWouldCancel({ label: 'would cancel (preview)' }),
        ],
        { stacked: true },
      ),
    );
    // Jobs: started, and how they ended; how long the longest that ended ran.
    const machine = terminator.stateMachine;
    this.dashboard.addWidgets(
      graph('Jobs', 12, [
        terminator.metric(JOB_METRIC.started, { label: 'started' }),
        machine.metricSucceeded({ label: 'succeeded' }),
        machine.metricFailed({ label: 'failed' }),
        machine.metricAborted({ label: 'aborted' }),
        machine.metricTimedOut({ label: 'timed out' }),
        terminator.metric(JOB_METRIC.aborted, { label: 'aborts seen by a working chunk' }),
      ]),
      graph('Longest job that ended (minutes)', 12, [
        new cloudwatch.MathExpression({
          expression: 'longest / 60000',
          usingMetrics: { longest: machine.metricTime({ statistic: cloudwatch.Stats.MAXIMUM }) },
          label: 'longest job',
        }),
      ]),
    );
    // Health: the functions, the dead-letter queue, the verifier's last word.
    const functions = [
      ['terminating', terminator.handler],
      ['control', terminator.controlHandler],
    ] as const;
    this.dashboard.addWidgets(
      graph('Function errors and throttles', 8, [
        ...functions.map(([name, fn]) => fn.metricErrors({ label: `${name} errors` })),
        ...functions.map(([name, fn]) => fn.metricThrottles({ label: `${name} throttles` })),
      ]),
      graph(
        'Function duration p99 (ms)',
        8,
        functions.map(([name, fn]) => fn.metricDuration({ statistic: cloudwatch.Stats.p(99), label: name })),
      ),
      graph(
        'Terminating function concurrency',
        8,
        [
          new cloudwatch.Metric({
            namespace: 'AWS/Lambda',
            metricName: 'ConcurrentExecutions',
            dimensionsMap: { FunctionName: terminator.handler.functionName },
            statistic: cloudwatch.Stats.MAXIMUM,
            label: 'running',
          }),
        ],
        { leftAnnotations: [{ value: reservedConcurrency, label: 'reserved concurrency' }] },
      ),
    );
    const queue = terminator.deadLetterQueue;
    this.dashboard.addWidgets(
      graph(
        'Dead-letter queue',
        12,
        [
          queue.metricApproximateNumberOfMessagesVisible({
            statistic: cloudwatch.Stats.MAXIMUM,
            label: 'messages',
          }),
        ],
        {
          right: [
            queue.metricApproximateAgeOfOldestMessage({
              statistic: cloudwatch.Stats.MAXIMUM,
              label: 'oldest (s)',
            }),
          ],
        },
      ),
      new cloudwatch.SingleValueWidget({
        title: 'Least privilege: last verification (0 proven, 1 not proven)',
        width: 12,
        height: 6,
        metrics: [
          terminator.metricVerificationFailed({ period: Duration.days(1), label: 'verification failed' }),
        ],
      }),
    );
    // Who and why: the latest terminations and failures, from the log group.
    this.dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: 'Latest terminations: who asked, and why',
        width: 12,
        height: 8,
        logGroupNames: [terminator.logGroup.logGroupName],
        queryLines: LATEST_TERMINATIONS_QUERY,
      }),
      new cloudwatch.LogQueryWidget({
        title: 'Latest executions that could not be terminated',
        width: 12,
        height: 8,
        logGroupNames: [terminator.logGroup.logGroupName],
        queryLines: LATEST_FAILURES_QUERY,
      }),
    );
  }

  /** @internal A policy's row: what it matched, acted on, would act on, and its cap (and breaker). */
  public _addPolicy(policy: TerminationPolicy, hasBreaker: boolean): void {
    const name = policy.policyName;
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `Policy ${name}`,
        width: FULL,
        height: 6,
        left: [
          policy.metricMatched({ label: 'matched' }),
          policy.metricTerminated({ label: 'terminated' }),
          policy.metricCancelRequested({ label: 'asked to cancel' }),
          policy.metricWouldAct({ label: 'would act (dry run)' }),
          policy.metricFailed({ label: 'failed' }),
        ],
        right: [
          policy.metricCapExceeded({ label: 'cap exceeded' }),
          ...(hasBreaker ? [policy.metricPassedOver({ label: 'passed over (breaker tripped)' })] : []),
        ],
      }),
    );
  }
}
