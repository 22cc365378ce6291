/**
 * The contract between a termination policy (lib/termination-policy.ts) and the handler (lambda/flows/policy.ts):
 * how a policy reaches the handler, what SWF's own events look like to a rule, and the policy's metrics.
 * Plain constants (see lib/contract.ts), and the policy digest both sides compute alike.
 */
import { createHash } from 'node:crypto';

/**
 * The key of a policy run's event: a rule's target input is `{ [POLICY_EVENT_KEY]: <policy>, event: <the
 * EventBridge event> }`, the policy travelling in the input rather than in environment variables (Lambda
 * allows 4 KB of those in all).
 */
export const POLICY_EVENT_KEY = 'swfTerminatorPolicy';

/**
 * How a policy run was triggered: its schedule, an SWF event, an event policy's backstop sweep, or an
 * operator's preview (a sweep now, as a dry run, whatever the policy's own dryRun).
 */
export const POLICY_TRIGGERS = ['schedule', 'event', 'backstop', 'preview'] as const;
export type PolicyTriggerValue = (typeof POLICY_TRIGGERS)[number];

/** A policy's name: what its metrics and its runs' job ids carry (a Step Functions name's characters). */
export const POLICY_NAME_PATTERN = /^[A-Za-z0-9_-]{1,40}$/;

/** SWF's events (docs/facts.md, "SWF's events"): always on the default bus, best effort. */
export const SWF_EVENT_SOURCE = 'aws.swf';
export const SWF_EVENT_DETAIL_TYPE = 'Simple Workflow Execution State Change';
/** EventBridge's scheduled events. */
export const SCHEDULE_EVENT_SOURCE = 'aws.events';
export const SCHEDULE_EVENT_DETAIL_TYPE = 'Scheduled Event';

/**
 * SWF event types sent when the execution has already closed: a policy reacting to them would have
 * nothing to act on.
 */
export const CLOSING_EVENT_TYPES: readonly string[] = [
  'WorkflowExecutionCompleted',
  'WorkflowExecutionFailed',
  'WorkflowExecutionTerminated',
  'WorkflowExecutionTimedOut',
  'WorkflowExecutionCanceled',
  'WorkflowExecutionContinuedAsNew',
];

/** The dimension (beside `service`) of a policy's own metrics; its value is the policy's name. */
export const POLICY_METRICS_DIMENSION = 'policy';
/** A policy's own metrics, emitted once per run with the `policy` dimension. */
export const POLICY_METRIC = {
  /** Executions the run matched (every outcome). */
  matched: 'PolicyMatched',
  terminated: 'PolicyTerminated',
  cancelRequested: 'PolicyCancelRequested',
  /** Executions a dry run would have terminated or asked to cancel. */
  wouldAct: 'PolicyWouldAct',
  failed: 'PolicyFailed',
  /** 1 when a run matched more than its maxExecutions and was refused before acting. */
  capExceeded: 'PolicyCapExceeded',
  /** Executions an event policy's tripped circuit breaker passed over (not acted on). */
  passedOver: 'PolicyPassedOver',
} as const;

/**
 * A policy's digest: its name, its kind (a schedule policy, or an event policy with its backstop sweep) and its
 * request exactly as the rule's input carries them, so the handler can tell a policy deployed with it from a
 * hand-written one (which could otherwise claim a policy's permits), and a schedule policy's run from one
 * posing as an SWF event's. The construct and the handler compute it alike: the same JSON text (keys in the
 * order the construct wrote them).
 */
export function policyDigest(name: string, trigger: PolicyTriggerValue, request: unknown): string {
  const kind = trigger === 'schedule' ? 'schedule' : 'event';
  return createHash('sha256')
    .update(JSON.stringify({ name, kind, request }))
    .digest('hex')
    .slice(0, POLICY_DIGEST_LENGTH);
}

/** Hex digits of a policy's digest (POLICY_DIGESTS holds them comma-separated). */
export const POLICY_DIGEST_LENGTH = 16;
