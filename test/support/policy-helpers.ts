/**
 * Helpers for the termination policy tests (test/lib/policies.test.ts, policy-iam.test.ts,
 * policy-patterns.test.ts): a terminator with policies, synthesized; the three policies of the issue; what a
 * policy rule's target gives the handler (its input template rendered with an event, as EventBridge does);
 * the handler's configuration read back from the synthesized environment; and SWF's sample events. (The IAM
 * simulation is in test/support/iam-simulation.ts.)
 */
import * as fs from 'fs';
import * as path from 'path';
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import {
  ChildPolicy,
  PolicyAction,
  PolicyTrigger,
  SwfEventType,
  SwfTerminator,
  type SwfTerminatorProps,
  type TerminationPolicy,
  type TerminationPolicyOptions,
} from '../../lib';
import { type Config, parseConfig } from '../../lambda/config';
import { type ConcreteEnv, functionOf, resolveIntrinsics, testApp } from './construct-helpers';

// ---------------------------------------------------------------------------------------------------------
// A terminator with policies

/**
 * A terminator (domains orders and billing unless given), with the policies `addPolicies` adds, synthesized.
 */
export function synthWithPolicies(
  addPolicies: (terminator: SwfTerminator) => void = () => undefined,
  props: Partial<SwfTerminatorProps> = {},
  stackProps: StackProps = {},
): { stack: Stack; terminator: SwfTerminator; template: Template } {
  const stack = new Stack(testApp(), 'TestStack', stackProps);
  const terminator = new SwfTerminator(stack, 'Terminator', { domains: ['orders', 'billing'], ...props });
  addPolicies(terminator);
  return { stack, terminator, template: Template.fromStack(stack) };
}

let contract: ReturnType<typeof synthWithPolicies> | undefined;

/**
 * The terminator with the three policies of the contract (addContractPolicies), synthesized once per test file:
 * for tests that only read its template.
 */
export function contractDeployment(): ReturnType<typeof synthWithPolicies> {
  contract ??= synthWithPolicies(addContractPolicies);
  return contract;
}

/** The first policy: a schedule sweep of orders for ImportOrders runs tagged nightly, open 6 h+. */
export function addStuckImports(terminator: SwfTerminator): TerminationPolicy {
  return terminator.addPolicy('StuckImports', {
    domain: 'orders',
    trigger: PolicyTrigger.schedule(events.Schedule.rate(Duration.minutes(15))),
    match: { workflowType: { name: 'ImportOrders' }, tag: 'nightly', openLongerThan: Duration.hours(6) },
    action: PolicyAction.terminate({
      reason: 'ImportOrders open over 6 h (runbook RB-12)',
      childPolicy: ChildPolicy.TERMINATE,
    }),
    maxExecutions: 200,
    dryRun: false,
  });
}

/** The second policy: each started Checkout v1 in orders is asked to cancel, terminated 10 min on. */
export function addRetireCheckoutV1(terminator: SwfTerminator): TerminationPolicy {
  return terminator.addPolicy('RetireCheckoutV1', {
    domain: 'orders',
    trigger: PolicyTrigger.onExecutionEvent([SwfEventType.WORKFLOW_EXECUTION_STARTED]),
    match: { workflowType: { name: 'Checkout', version: '1' } },
    action: PolicyAction.cancelThenTerminate({ gracePeriod: Duration.minutes(10) }),
    dryRun: false,
  });
}

/**
 * The third policy: an hourly sweep of billing asking stalled runs, idle over 2 h, to cancel. As the
 * issue writes it, it states no dryRun, so it previews (the default); `overrides` can say otherwise.
 */
export function addStalled(
  terminator: SwfTerminator,
  overrides: Partial<TerminationPolicyOptions> = {},
): TerminationPolicy {
  return terminator.addPolicy('Stalled', {
    domain: 'billing',
    trigger: PolicyTrigger.schedule(events.Schedule.rate(Duration.hours(1))),
    match: { stalled: true, idleLongerThan: Duration.hours(2) },
    action: PolicyAction.requestCancel(),
    ...overrides,
  });
}

/** The three policies of the issue, in its order. */
export function addContractPolicies(terminator: SwfTerminator): void {
  addStuckImports(terminator);
  addRetireCheckoutV1(terminator);
  addStalled(terminator);
}

// ---------------------------------------------------------------------------------------------------------
// Rules and what their targets give the handler

/** A rule's properties, as synthesized. */
export interface RuleProperties {
  readonly ScheduleExpression?: string;
  readonly EventPattern?: Record<string, unknown>;
  readonly EventBusName?: unknown;
  readonly Description?: string;
  readonly Targets: RuleTarget[];
}

/** A rule target, as synthesized. */
export interface RuleTarget {
  readonly Id: string;
  readonly Arn: unknown;
  readonly DeadLetterConfig?: unknown;
  readonly RetryPolicy?: unknown;
  readonly Input?: string;
  readonly InputTransformer?: InputTransformer;
}

/** An input transformer: placeholders `<key>` in the template, filled from the event at each key's path. */
export interface InputTransformer {
  readonly InputPathsMap: Record<string, string>;
  readonly InputTemplate: string;
}

/** Every rule whose logical id starts with `prefix`, by logical id. */
export function rulesNamed(template: Template, prefix: string): Record<string, RuleProperties> {
  return Object.fromEntries(
    Object.entries(template.findResources('AWS::Events::Rule'))
      .filter(([id]) => id.startsWith(prefix))
      .map(([id, r]) => [id, (r as { Properties: RuleProperties }).Properties]),
  );
}

/** The one rule whose logical id starts with `prefix`. */
export function ruleNamed(template: Template, prefix: string): RuleProperties {
  const found = Object.values(rulesNamed(template, prefix));
  if (found.length !== 1)
    throw new Error(`expected exactly one rule named ${prefix}*, found ${found.length}`);
  return found[0]!;
}

/** The one target of the one rule named `prefix`*, and its input transformer. */
export function policyTarget(
  template: Template,
  prefix: string,
): { target: RuleTarget; transformer: InputTransformer } {
  const targets = ruleNamed(template, prefix).Targets;
  if (targets.length !== 1) throw new Error(`expected one target on ${prefix}*, found ${targets.length}`);
  const target = targets[0]!;
  if (target.InputTransformer === undefined) throw new Error(`the target of ${prefix}* has no transformer`);
  return { target, transformer: target.InputTransformer };
}

/** The value at a simple JSON path (`$`, `$.a`, `$.a.b`) of `value`; a path that is not there throws. */
function valueAtPath(value: unknown, jsonPath: string): unknown {
  if (jsonPath !== '$' && !jsonPath.startsWith('$.')) throw new Error(`unsupported path ${jsonPath}`);
  const keys = jsonPath === '$' ? [] : jsonPath.slice(2).split('.');
  let current = value;
  for (const key of keys) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) {
      throw new Error(`the event has nothing at ${jsonPath}`);
    }
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/**
 * What EventBridge gives the target for `event`: the input template, each `<key>` of the paths map replaced
 * with the JSON of the event's value at its path, parsed.
 */
export function renderInput(transformer: InputTransformer, event: unknown): unknown {
  const keys = Object.keys(transformer.InputPathsMap);
  const text = transformer.InputTemplate.replace(/<([^<>\s]+)>/g, (placeholder, key: string) =>
    keys.includes(key) ? JSON.stringify(valueAtPath(event, transformer.InputPathsMap[key]!)) : placeholder,
  );
  return JSON.parse(text) as unknown;
}

/** The handler's configuration, parsed as the handler would from the synthesized function's environment. */
export function handlerConfig(template: Template, env: ConcreteEnv): Config {
  const variables = (functionOf(template).resource.Properties.Environment as { Variables: unknown })
    .Variables;
  return parseConfig(resolveIntrinsics(variables, template, env) as Record<string, string>);
}

/** The synthesized handler's environment variables (Lazy values are plain strings once synthesized). */
export function handlerEnvironment(template: Template): Record<string, unknown> {
  return (functionOf(template).resource.Properties.Environment as { Variables: Record<string, unknown> })
    .Variables;
}

// ---------------------------------------------------------------------------------------------------------
// Events

/** An EventBridge scheduled event, as a schedule rule sends it. */
export function scheduledEvent(
  env: ConcreteEnv,
  ruleName = 'policy-rule',
  time = '2025-01-01T00:15:00Z',
): Record<string, unknown> {
  return {
    version: '0',
    id: '89d1a02d-5ec7-412e-82f5-13505f849b41',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: env.account,
    time,
    region: env.region,
    resources: [`arn:${env.partition}:events:${env.region}:${env.account}:rule/${ruleName}`],
    detail: {},
  };
}

/** The sample events of the SWF Developer Guide (test/fixtures/swf-events/README.md). */
export type SwfSampleName = 'started' | 'completed' | 'failed' | 'timed-out' | 'terminated';

/** The parts of an SWF sample event the tests read or change. */
export interface SwfEvent {
  version: string;
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: {
    eventId: number;
    eventType: string;
    workflowExecutionDetail: {
      executionInfo: {
        execution: { workflowId?: string; runId: string };
        workflowType: { name: string; version: string };
        startTimestamp: number;
        executionStatus: string;
        tagList?: string[] | null;
        [key: string]: unknown;
      };
      openCounts: Record<string, number>;
      latestActivityTaskTimestamp: number | null;
      [key: string]: unknown;
    };
  };
}

/** A fresh copy of one of SWF's sample events, as published (but for the trailing comma the README names). */
export function swfSample(name: SwfSampleName): SwfEvent {
  const file = path.join(__dirname, '..', 'fixtures', 'swf-events', `workflow-execution-${name}.json`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as SwfEvent;
}

/** An SWF domain's ARN in the form SWF's events carry (with the region). */
export const swfEventDomainArn = (env: ConcreteEnv, domain: string): string =>
  `arn:${env.partition}:swf:${env.region}:${env.account}:/domain/${domain}`;

/**
 * An SWF event about an open execution that a policy's request selects, in `env`: the started sample, moved
 * to the request's domain and account, of the given type, its execution given the selector's type, tag and
 * workflowId prefix (and nothing open, when the selector asks for stalled executions).
 */
export function swfEventFor(
  env: ConcreteEnv,
  request: { domain: string; selector?: Record<string, unknown> },
  eventType: string,
): SwfEvent {
  const event = swfSample('started');
  const selector = (request.selector ?? {}) as {
    workflowType?: { name: string; version?: string };
    tag?: string;
    workflowIdPrefix?: string;
    stalled?: boolean;
  };
  event.account = env.account;
  event.region = env.region;
  event.resources = [swfEventDomainArn(env, request.domain)];
  event.detail.eventType = eventType;
  const detail = event.detail.workflowExecutionDetail;
  const info = detail.executionInfo;
  if (selector.workflowType !== undefined) {
    info.workflowType = {
      name: selector.workflowType.name,
      version: selector.workflowType.version ?? info.workflowType.version,
    };
  }
  if (selector.tag !== undefined) info.tagList = [selector.tag];
  if (selector.workflowIdPrefix !== undefined) {
    info.execution = { ...info.execution, workflowId: `${selector.workflowIdPrefix}-1` };
  }
  if (selector.stalled === true) {
    detail.openCounts = Object.fromEntries(Object.keys(detail.openCounts).map((key) => [key, 0]));
  }
  return event;
}

/** The monitoring tests' two policies: a sweep of `nightly` every hour (a cap, no breaker). */
export function addSweepPolicy(terminator: SwfTerminator, domain = 'orders'): TerminationPolicy {
  return terminator.addPolicy('Sweep', {
    domain,
    trigger: PolicyTrigger.schedule(events.Schedule.rate(Duration.hours(1))),
    match: { tag: 'nightly' },
    action: PolicyAction.terminate({}),
  });
}

/** ... and an event policy on started executions tagged `bad` (a cap and a circuit breaker). */
export function addStormPolicy(terminator: SwfTerminator, domain = 'orders'): TerminationPolicy {
  return terminator.addPolicy('Storm', {
    domain,
    trigger: PolicyTrigger.onExecutionEvent([SwfEventType.WORKFLOW_EXECUTION_STARTED]),
    match: { tag: 'bad' },
    action: PolicyAction.terminate({}),
  });
}
