/**
 * A termination policy: a rule that runs the terminator's handler with the policy, on a schedule or on SWF's
 * own execution events (plus a backstop sweep), and the policy's own metrics. The policy travels in the rule
 * target's input (Lambda's environment holds 4 KB in all), and the handler validates it like any request.
 */
import { Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { METRICS_SERVICE_DIMENSION, type RequestWire } from './contract';
import {
  policyDigest,
  POLICY_EVENT_KEY,
  POLICY_METRIC,
  POLICY_METRICS_DIMENSION,
  type PolicyTriggerValue,
  SWF_EVENT_DETAIL_TYPE,
  SWF_EVENT_SOURCE,
} from './policy-contract';
import type { Duration } from 'aws-cdk-lib';
import type { PolicyAction, PolicyMatch, PolicyTrigger } from './policy-options';
import { type ResolvedPolicy, resolvePolicy } from './policy-validation';
import { type PolicyManifest, policyPreviewPayload } from './operator-contract';
import type { SwfTerminator } from './swf-terminator';

/** What a termination policy does, when, and to what: the props of {@link SwfTerminator.addPolicy}. */
export interface TerminationPolicyOptions {
  /** The SWF domain the policy acts on: one of the terminator's domains. */
  readonly domain: string;
  /** When it runs: on a schedule, or on SWF's execution events. */
  readonly trigger: PolicyTrigger;
  /** What it matches (at least one narrowing criterion). */
  readonly match: PolicyMatch;
  /** What it does to each execution it matches. */
  readonly action: PolicyAction;
  /**
   * The policy's cap, with two meanings. A sweep (a schedule policy's run, an event policy's backstop) that
   * matches more is refused whole, before acting, with a log line and the policy's CapExceeded metric. An
   * event policy also acts on at most this many executions in any `capWindow`, across all its invocations
   * (its circuit breaker): once more match, it passes over every event until the window has passed.
   *
   * @default 100, or the terminator's maxExecutionsPerRequest if lower (cancelThenTerminate allows at most
   * 500; an event policy at most 5,000)
   */
  readonly maxExecutions?: number;
  /**
   * An event policy's circuit breaker window: at most `maxExecutions` executions acted on in any window this
   * long, counted exactly across all its invocations (in a DynamoDB table the terminator creates for its
   * event policies). Once an event would exceed it, the breaker trips: the policy acts on nothing more, and
   * every event it passes over is logged with its execution and counted (PolicyPassedOver), until a window has
   * passed since the trip or an operator resets it (a `resetBreaker` control request). Event policies only: a
   * schedule policy's cap refuses a whole run instead. From 1 minute to 7 days, in whole seconds.
   *
   * @default Duration.hours(1)
   */
  readonly capWindow?: Duration;
  /**
   * Report what the policy would do, and do nothing. A new policy previews until this is set to false.
   *
   * @default true
   */
  readonly dryRun?: boolean;
}

/** Properties of {@link TerminationPolicy}. */
export interface TerminationPolicyProps extends TerminationPolicyOptions {
  /** The terminator whose handler runs the policy. */
  readonly terminator: SwfTerminator;
  /**
   * The policy's name, in its metrics, its log lines, the details of every termination it makes and its
   * jobs' ids: 1-40 letters, digits, `-` or `_`.
   *
   * @default - the construct's id
   */
  readonly policyName?: string;
}

/**
 * A termination policy of an {@link SwfTerminator}. Prefer {@link SwfTerminator.addPolicy}.
 */
export class TerminationPolicy extends Construct {
  /** The policy's name. */
  public readonly policyName: string;
  /** The rule that runs the policy: its schedule, or SWF's events on the default bus. */
  public readonly rule: events.IRule;
  /** An event policy's backstop sweep (undefined for a schedule, or when turned off). */
  public readonly backstopRule?: events.IRule;
  /**
   * A payload that previews the policy now, whatever its dryRun: invoke the terminator's handler with it
   * (`aws lambda invoke --payload`). It sweeps the policy's match and reports what it would do.
   */
  public readonly previewPayload: string;
  private readonly terminator: SwfTerminator;

  constructor(scope: Construct, id: string, props: TerminationPolicyProps) {
    super(scope, id);
    const terminator = props.terminator;
    const name = props.policyName ?? id;
    const resolved = resolvePolicy(name, props, terminator._policySettings());
    this.policyName = name;
    this.terminator = terminator;
    terminator._registerPolicy(props.domain, {
      name,
      cancel: resolved.cancels,
      describe: resolved.describes,
      ...(resolved.breaker === undefined ? {} : { breaker: resolved.breaker }),
      digest: policyDigest(
        name,
        props.trigger.eventTypes === undefined ? 'schedule' : 'event',
        resolved.request,
      ),
      manifest: policyManifest(name, props.trigger, resolved),
    });

    terminator._policyAdded(this, resolved.breaker !== undefined);
    checkInputLength(name, resolved.request);
    const input = (trigger: PolicyTriggerValue) =>
      events.RuleTargetInput.fromObject({
        [POLICY_EVENT_KEY]: { name, trigger, request: resolved.request },
        // The event's fields the handler reads, each by a plain path (EventBridge's input paths are simple).
        event: Object.fromEntries(EVENT_FIELDS.map((key) => [key, events.EventField.fromPath(`$.${key}`)])),
      });
    const target = (trigger: PolicyTriggerValue) => terminator._policyTarget(input(trigger));
    this.previewPayload = policyPreviewPayload(name, resolved.request);

    const trigger = props.trigger;
    if (trigger.eventTypes === undefined) {
      this.rule = new events.Rule(this, 'Schedule', {
        schedule: trigger.sweepSchedule,
        description: `SWF termination policy ${name}: sweeps ${props.domain} on its schedule`,
        targets: [target('schedule')],
      });
      return;
    }
    this.rule = new events.Rule(this, 'Events', {
      description: `SWF termination policy ${name}: reacts to SWF's events in ${props.domain}`,
      eventPattern: swfEventPattern(this, props.domain, trigger.eventTypes, props.match),
      targets: [target('event')],
    });
    if (trigger.backstopSchedule !== undefined) {
      this.backstopRule = new events.Rule(this, 'Backstop', {
        schedule: trigger.backstopSchedule,
        description: `SWF termination policy ${name}: backstop sweep of ${props.domain} (SWF's events are best effort)`,
        targets: [target('backstop')],
      });
    }
  }

  /**
   * One of the policy's own metrics (namespace `SwfTerminator`, dimensions `service` and `policy`).
   *
   * @default - statistic Sum over 5 minutes
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    // The terminator's metric (namespace, statistic, period), with the policy's dimension beside `service`.
    return this.terminator.metric(metricName, {
      dimensionsMap: {
        [METRICS_SERVICE_DIMENSION]: this.terminator.serviceName,
        [POLICY_METRICS_DIMENSION]: this.policyName,
      },
      ...props,
    });
  }

  /** Executions the policy's runs matched (every outcome). @default - Sum over 5 minutes */
  public metricMatched(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(POLICY_METRIC.matched, props);
  }

  /** Executions the policy terminated. @default - Sum over 5 minutes */
  public metricTerminated(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(POLICY_METRIC.terminated, props);
  }

  /** Executions the policy asked to cancel. @default - Sum over 5 minutes */
  public metricCancelRequested(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(POLICY_METRIC.cancelRequested, props);
  }

  /** Executions a dry run of the policy would have terminated or asked to cancel. @default - Sum over 5 minutes */
  public metricWouldAct(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(POLICY_METRIC.wouldAct, props);
  }

  /** Executions the policy failed to act on. @default - Sum over 5 minutes */
  public metricFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(POLICY_METRIC.failed, props);
  }

  /**
   * Runs refused because more executions matched than the policy's maxExecutions. Alarm on any.
   * @default - Sum over 5 minutes
   */
  public metricCapExceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(POLICY_METRIC.capExceeded, props);
  }

  /**
   * Executions an event policy's tripped circuit breaker passed over: more matched in its `capWindow` than its
   * `maxExecutions`. Alarm on any: an event storm is under way, and the backstop sweep or a reset acts on them.
   * @default - Sum over 5 minutes
   */
  public metricPassedOver(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(POLICY_METRIC.passedOver, props);
  }
}

/**
 * The event's fields a policy run carries to the handler, each by a plain path (EventBridge's are simple).
 * The handler refuses an SWF event from another account or region than its own.
 */
const EVENT_FIELDS = [
  'id',
  'source',
  'detail-type',
  'account',
  'region',
  'time',
  'resources',
  'detail',
] as const;

/** EventBridge's limit on a target's input template (PutTargets: InputTemplate, 8192 characters). */
const INPUT_TEMPLATE_MAX_LENGTH = 8192;

/** Refuses a policy whose rule input EventBridge would refuse (long details, in practice). */
function checkInputLength(name: string, request: RequestWire): void {
  // As EventBridge keeps it: the event's fields as `<name>` placeholders.
  const template = JSON.stringify({
    [POLICY_EVENT_KEY]: { name, trigger: 'backstop', request },
    event: Object.fromEntries(EVENT_FIELDS.map((key) => [key, `<${key}>`])),
  });
  if (template.length > INPUT_TEMPLATE_MAX_LENGTH) {
    throw new Error(
      `TerminationPolicy ${name}: the rule's input would be about ${template.length} characters, over ` +
        `EventBridge's ${INPUT_TEMPLATE_MAX_LENGTH} for a target's input; shorten the action's details or reason`,
    );
  }
}

/**
 * The event pattern of an event policy: SWF's state-change events about the policy's domain (its ARN, in
 * the form with the region that SWF's events carry) and event types, narrowed by the match's type, tag and
 * workflowId prefix where it names them (the handler re-checks every criterion anyway).
 */
function swfEventPattern(
  scope: Construct,
  domain: string,
  eventTypes: readonly string[],
  match: PolicyMatch,
): events.EventPattern {
  const stack = Stack.of(scope);
  const type = match.workflowType;
  const executionInfo = {
    ...(type === undefined
      ? {}
      : {
          workflowType: {
            name: [type.name],
            ...(type.version === undefined ? {} : { version: [type.version] }),
          },
        }),
    ...(match.tag === undefined ? {} : { tagList: [match.tag] }),
    ...(match.workflowIdPrefix === undefined
      ? {}
      : { execution: { workflowId: [{ prefix: match.workflowIdPrefix }] } }),
  };
  return {
    source: [SWF_EVENT_SOURCE],
    detailType: [SWF_EVENT_DETAIL_TYPE],
    resources: [`arn:${stack.partition}:swf:${stack.region}:${stack.account}:/domain/${domain}`],
    detail: {
      eventType: [...eventTypes],
      ...(Object.keys(executionInfo).length === 0 ? {} : { workflowExecutionDetail: { executionInfo } }),
    },
  };
}

/** What the operator's command lists of a policy (lib/operator-contract.ts), as deployed. */
function policyManifest(name: string, trigger: PolicyTrigger, resolved: ResolvedPolicy): PolicyManifest {
  const schedule = trigger.eventTypes === undefined ? trigger.sweepSchedule : trigger.backstopSchedule;
  return {
    name,
    trigger: trigger.eventTypes === undefined ? 'schedule' : 'event',
    ...(schedule === undefined ? {} : { schedule: schedule.expressionString }),
    ...(trigger.eventTypes === undefined ? {} : { eventTypes: [...trigger.eventTypes] }),
    ...(resolved.breaker === undefined ? {} : { breaker: resolved.breaker }),
    request: resolved.request as unknown as Record<string, unknown>,
  };
}
