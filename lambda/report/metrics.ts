/**
 * The metrics an invocation publishes, whatever happened (CloudWatch EMF, through Powertools Metrics): its
 * outcomes by kind, whether it was refused, whether it started or saw the abort of a job, and, for a policy's
 * run, the policy's own figures.
 */
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { JOB_METRIC, METRIC } from '../../lib/contract';
import { POLICY_METRIC, POLICY_METRICS_DIMENSION } from '../../lib/policy-contract';
import type { Outcome } from '../types';
import type { ReportBuilder } from './report';

/** What an invocation counted, as its metrics read it (the flows' Invocation, lambda/flows/runtime.ts). */
export interface InvocationFigures {
  readonly report: ReportBuilder | undefined;
  readonly jobStarted: boolean;
  readonly jobAborted: boolean;
  /** The policy the invocation ran, for the policy's own metrics. */
  readonly policy: { readonly name: string; readonly capExceeded: boolean } | undefined;
  /** Terminate and cancel calls SWF throttled during the invocation. */
  readonly throttled: number;
}

/** Publishes the invocation's metrics; `rejected` is 1 when the request was refused. */
export function publishMetrics(metrics: Metrics, invocation: InvocationFigures, rejected: 0 | 1): void {
  const report = invocation.report;
  const count = (outcome: Outcome) => report?.count(outcome) ?? 0;
  metrics.addMetric(METRIC.terminated, MetricUnit.Count, count('terminated'));
  metrics.addMetric(METRIC.alreadyClosed, MetricUnit.Count, count('already-closed'));
  metrics.addMetric(METRIC.noOpenRun, MetricUnit.Count, count('no-open-run'));
  metrics.addMetric(METRIC.noLongerMatches, MetricUnit.Count, count('no-longer-matches'));
  metrics.addMetric(METRIC.failed, MetricUnit.Count, count('failed'));
  metrics.addMetric(METRIC.wouldTerminate, MetricUnit.Count, count('would-terminate'));
  metrics.addMetric(METRIC.cancelRequested, MetricUnit.Count, count('cancel-requested'));
  metrics.addMetric(METRIC.wouldCancel, MetricUnit.Count, count('would-cancel'));
  metrics.addMetric(METRIC.rejected, MetricUnit.Count, rejected);
  metrics.addMetric(METRIC.throttled, MetricUnit.Count, invocation.throttled);
  if (invocation.jobStarted) metrics.addMetric(JOB_METRIC.started, MetricUnit.Count, 1);
  if (invocation.jobAborted) metrics.addMetric(JOB_METRIC.aborted, MetricUnit.Count, 1);
  metrics.publishStoredMetrics();

  const policy = invocation.policy;
  if (policy === undefined) return;
  // The policy's figures carry the `policy` dimension beside `service`: a dimension set of their own, so
  // one EMF document per metric (Powertools' single-metric form).
  const figures: [string, number][] = [
    [POLICY_METRIC.matched, report?.totals().matched ?? 0],
    [POLICY_METRIC.terminated, count('terminated')],
    [POLICY_METRIC.cancelRequested, count('cancel-requested')],
    [POLICY_METRIC.wouldAct, count('would-terminate') + count('would-cancel')],
    [POLICY_METRIC.failed, count('failed')],
    [POLICY_METRIC.capExceeded, policy.capExceeded ? 1 : 0],
    [POLICY_METRIC.passedOver, count('passed-over')],
  ];
  for (const [name, value] of figures) {
    const single = metrics.singleMetric();
    single.addDimension(POLICY_METRICS_DIMENSION, policy.name);
    single.addMetric(name, MetricUnit.Count, value);
  }
}
