/**
 * A termination policy's props, checked at synth time and written as the request the handler runs (the same
 * JSON a request would send: the handler validates it again, as strictly as any request). Every refusal names
 * the policy, the prop and the rule; contradictions (criteria an event can never meet, a match that would
 * sweep a whole domain) are refused here, not discovered in production.
 */
import { Duration, Token } from 'aws-cdk-lib';
import {
  ACTIONS,
  CANCEL_THEN_TERMINATE_MAX_EXECUTIONS,
  GRACE_PERIOD_SECONDS,
  DURATION_SECONDS,
  LIMITS,
  NARROWING_CRITERIA,
  REQUEST_DETAILS_MAX,
  type RequestWire,
  type SelectorWire,
  swfNameProblem,
  swfPrefixProblem,
  WORKFLOW_TYPE_VERSION_MAX,
} from './contract';
import { CLOSING_EVENT_TYPES, POLICY_NAME_PATTERN } from './policy-contract';
import { type PolicyMatch, SwfEventType } from './policy-options';
import type { ChildPolicy } from './swf-terminator-props';
import type { TerminationPolicyOptions } from './termination-policy';

/** The most executions a policy acts on per run, by default. */
export const DEFAULT_POLICY_MAX_EXECUTIONS = 100;
/** A duration a match may give: a second to ten years, in whole seconds (as the handler reads them). */

/** What the construct needs to know about the terminator a policy belongs to. */
export interface PolicyHostSettings {
  readonly domains: readonly string[];
  /** The terminator's maxExecutionsPerRequest: a policy's maxExecutions may not exceed it. */
  readonly maxExecutions: number;
}

/** A policy, checked and resolved. */
export interface ResolvedPolicy {
  readonly name: string;
  /** The request the handler runs (wire form). */
  readonly request: RequestWire;
  /** An event policy's circuit breaker: at most `cap` runs acted on per `windowSeconds`. */
  readonly breaker?: { readonly cap: number; readonly windowSeconds: number };
  /** The role must be able to ask executions of the domain to cancel (a cancel action, not a dry run). */
  readonly cancels: boolean;
  /**
   * Sweeps need DescribeWorkflowExecution (stalled or idleLongerThan): a schedule's, a backstop's, and an
   * operator's preview, which any policy offers (an event policy without a backstop too).
   */
  readonly describes: boolean;
}

/** Checks a policy's props; throws naming the policy, the prop and the rule. */
export function resolvePolicy(
  name: string,
  options: TerminationPolicyOptions,
  host: PolicyHostSettings,
): ResolvedPolicy {
  const fail = (message: string): never => {
    throw new Error(`TerminationPolicy ${name}: ${message}`);
  };
  if (!POLICY_NAME_PATTERN.test(name)) {
    fail(
      `the policy's name must be 1-40 letters, digits, "-" or "_" (it names the policy's metrics and jobs)`,
    );
  }
  const { domain, match, action, trigger } = options;
  if (!Token.isUnresolved(domain) && !host.domains.includes(domain)) {
    fail(
      `domain ${JSON.stringify(domain)} is not one of the terminator's domains (${host.domains.join(', ')})`,
    );
  }
  const selector = selectorOf(match, fail);
  const isEvent = trigger.eventTypes !== undefined;
  if (isEvent) checkEventTrigger(trigger.eventTypes ?? [], match, fail);

  const ceiling = Math.min(
    action.kind === 'cancelThenTerminate' ? CANCEL_THEN_TERMINATE_MAX_EXECUTIONS : Infinity,
    isEvent ? EVENT_POLICY_MAX_EXECUTIONS : Infinity,
  );
  const maxExecutions = options.maxExecutions ?? Math.min(DEFAULT_POLICY_MAX_EXECUTIONS, host.maxExecutions);
  const limit = Math.min(host.maxExecutions, ceiling);
  if (
    !Token.isUnresolved(maxExecutions) &&
    (!Number.isInteger(maxExecutions) || maxExecutions < 1 || maxExecutions > limit)
  ) {
    fail(
      `maxExecutions ${maxExecutions} must be an integer from 1 to ${limit} (` +
        (limit !== ceiling
          ? "the terminator's maxExecutionsPerRequest)"
          : action.kind === 'cancelThenTerminate' && ceiling === CANCEL_THEN_TERMINATE_MAX_EXECUTIONS
            ? `cancelThenTerminate hands at most ${ceiling} runs to the job that terminates them)`
            : `an event policy's circuit breaker counts at most ${EVENT_POLICY_MAX_EXECUTIONS} runs per window)`),
    );
  }
  const request: RequestWire = {
    domain,
    selector,
    ...actionFields(action.kind, action.options, action.gracePeriod, fail),
    maxExecutions,
    dryRun: options.dryRun ?? true,
  };
  checkRenderable(request, fail);
  const activity = match.stalled === true || match.idleLongerThan !== undefined;
  // A dry run asks nothing to cancel: the role gets the action only once the policy may use it.
  const cancels = action.kind !== 'terminate' && request.dryRun === false;
  const breaker = isEvent
    ? { cap: maxExecutions, windowSeconds: capWindowSeconds(options.capWindow, fail) }
    : undefined;
  if (!isEvent && options.capWindow !== undefined) {
    fail(
      "capWindow is an event policy's (its circuit breaker's window): a schedule policy's maxExecutions " +
        'refuses a whole run instead',
    );
  }
  return { name, request, cancels, describes: activity, ...(breaker === undefined ? {} : { breaker }) };
}

/**
 * The most an event policy's breaker counts per window: its record holds one entry per run acted on in the
 * window, about 30 bytes each, in one DynamoDB item of at most 400 KB (docs/facts.md, DynamoDB).
 */
export const EVENT_POLICY_MAX_EXECUTIONS = 5_000;
/** An event policy's breaker window: 1 hour unless given, from 1 minute to 7 days. */
const DEFAULT_CAP_WINDOW_SECONDS = 3_600;
const MIN_CAP_WINDOW_SECONDS = 60;
const MAX_CAP_WINDOW_SECONDS = 7 * 24 * 3_600;

function capWindowSeconds(window: Duration | undefined, fail: (message: string) => never): number {
  if (window === undefined) return DEFAULT_CAP_WINDOW_SECONDS;
  if (Token.isUnresolved(window.toSeconds({ integral: false }))) {
    return fail('capWindow must be known at synth (a token was given)');
  }
  const seconds = window.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < MIN_CAP_WINDOW_SECONDS || seconds > MAX_CAP_WINDOW_SECONDS) {
    fail(
      `capWindow ${window.toHumanString()} must be whole seconds from 1 minute to 7 days (the circuit ` +
        "breaker's window)",
    );
  }
  return seconds;
}

/**
 * Refuses what would make the rule deliver another text than the one the construct digested (the handler
 * accepts a policy's run only by its exact text): a token (a string, number or list known only at deploy),
 * and a `<name>` in a string, which EventBridge's input template replaces with the event's value.
 */
function checkRenderable(value: unknown, fail: (message: string) => never, path = 'request'): void {
  if (Token.isUnresolved(value)) {
    fail(
      `${path}: every value of the policy must be known at synth (a token was given): the handler accepts ` +
        'only the policies deployed with it, by their exact text',
    );
  }
  if (typeof value === 'string') {
    const placeholder = /<[^<>\s"]+>/.exec(value);
    if (placeholder !== null) {
      fail(
        `${path} holds ${JSON.stringify(placeholder[0])}, which EventBridge would replace in the rule's input ` +
          '(an input template placeholder); write it without the angle brackets',
      );
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => {
      checkRenderable(item, fail, `${path}[${i}]`);
    });
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) checkRenderable(item, fail, `${path}.${key}`);
  }
}

/** The match as a request's selector, each criterion checked. */
function selectorOf(match: PolicyMatch, fail: (message: string) => never): SelectorWire {
  const name = (prop: string, value: string): string => {
    if (Token.isUnresolved(value)) return value;
    const problem = swfNameProblem(value);
    return problem === undefined ? value : fail(`match.${prop} ${JSON.stringify(value)} ${problem}`);
  };
  const seconds = (prop: string, value: Duration | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const n = value.toSeconds({ integral: false });
    if (!Number.isInteger(n) || n < DURATION_SECONDS.min || n > DURATION_SECONDS.max) {
      fail(`match.${prop} ${value.toHumanString()} must be whole seconds, from 1 second to 10 years`);
    }
    return n;
  };
  const type = match.workflowType;
  if (type?.version !== undefined && !Token.isUnresolved(type.version)) {
    if (type.version.length > WORKFLOW_TYPE_VERSION_MAX) {
      fail(`match.workflowType.version must be 1-${WORKFLOW_TYPE_VERSION_MAX} characters`);
    }
    name('workflowType.version', type.version);
  }
  if (match.workflowIdPrefix !== undefined) {
    const prefix = match.workflowIdPrefix;
    const problem = Token.isUnresolved(prefix) ? undefined : swfPrefixProblem(prefix);
    if (problem !== undefined) fail(`match.workflowIdPrefix ${JSON.stringify(prefix)} ${problem}`);
  }
  const openLongerThanSeconds = seconds('openLongerThan', match.openLongerThan);
  const idleLongerThanSeconds = seconds('idleLongerThan', match.idleLongerThan);
  const selector: SelectorWire = {
    ...(match.tag === undefined ? {} : { tag: name('tag', match.tag) }),
    ...(type === undefined
      ? {}
      : {
          workflowType: {
            name: name('workflowType.name', type.name),
            ...(type.version === undefined ? {} : { version: type.version }),
          },
        }),
    ...(match.workflowIdPrefix === undefined ? {} : { workflowIdPrefix: match.workflowIdPrefix }),
    ...(openLongerThanSeconds === undefined ? {} : { openLongerThanSeconds }),
    ...(match.stalled === true ? { stalled: true } : {}),
    ...(idleLongerThanSeconds === undefined ? {} : { idleLongerThanSeconds }),
  };
  // A policy offers no startedBefore: the other narrowing criteria are its.
  if (!NARROWING_CRITERIA.some((key) => key in selector)) {
    fail(
      'match would sweep the whole domain: give at least one of workflowType, tag, workflowIdPrefix, ' +
        'openLongerThan or idleLongerThan' +
        (match.stalled === true ? ' (stalled alone would Describe every open execution of the domain)' : ''),
    );
  }
  return selector;
}

/** An event trigger's own rules: event types that leave something to act on, criteria an event can meet. */
function checkEventTrigger(
  types: readonly SwfEventType[],
  match: PolicyMatch,
  fail: (message: string) => never,
): void {
  if (types.length === 0) fail('trigger.eventTypes is empty; give at least one SWF event type');
  const closing = types.filter((t) => CLOSING_EVENT_TYPES.includes(t));
  if (closing.length > 0) {
    fail(
      `trigger.eventTypes ${closing.join(', ')}: SWF sends these once the execution has closed, so there would ` +
        'be nothing to act on',
    );
  }
  if (!types.includes(SwfEventType.WORKFLOW_EXECUTION_STARTED)) return;
  const never = [
    match.openLongerThan === undefined ? undefined : 'openLongerThan',
    match.idleLongerThan === undefined ? undefined : 'idleLongerThan',
    match.stalled === true ? 'stalled' : undefined,
  ].filter((x) => x !== undefined);
  if (never.length > 0) {
    fail(
      `match.${never.join(' and match.')} can never match on a WorkflowExecutionStarted event: the execution has ` +
        'just started (open for no time, its first decision task pending); use a schedule for these criteria',
    );
  }
}

/** The request fields of the action, checked. */
function actionFields(
  kind: string,
  options: { reason?: string; details?: string; childPolicy?: ChildPolicy },
  gracePeriod: Duration | undefined,
  fail: (message: string) => never,
): Pick<RequestWire, 'action' | 'reason' | 'details' | 'childPolicy' | 'gracePeriodSeconds'> {
  const { reason, details, childPolicy } = options;
  if (reason !== undefined && !Token.isUnresolved(reason) && reason.length > LIMITS.reasonMax) {
    fail(`action reason must be at most ${LIMITS.reasonMax} characters (got ${reason.length})`);
  }
  if (details !== undefined && !Token.isUnresolved(details) && details.length > REQUEST_DETAILS_MAX) {
    fail(`action details must be at most ${REQUEST_DETAILS_MAX} characters (got ${details.length})`);
  }
  const action =
    ACTIONS.find((a) => a === kind) ??
    fail(`action ${JSON.stringify(kind)} is not one of ${ACTIONS.join(', ')}`);
  const fields: Pick<RequestWire, 'action' | 'reason' | 'details' | 'childPolicy'> = {
    action,
    ...(reason === undefined ? {} : { reason }),
    ...(details === undefined ? {} : { details }),
    // The enum's values are SWF's names (lib/swf-terminator-props.ts), so it is the wire's type.
    ...(childPolicy === undefined ? {} : { childPolicy }),
  };
  if (kind === 'cancelThenTerminate') {
    const seconds = gracePeriod?.toSeconds({ integral: false }) ?? 0;
    if (
      !Number.isInteger(seconds) ||
      seconds < GRACE_PERIOD_SECONDS.min ||
      seconds > GRACE_PERIOD_SECONDS.max
    ) {
      fail(
        `action gracePeriod ${gracePeriod?.toHumanString() ?? 'none'} must be whole seconds from ` +
          `${Duration.seconds(GRACE_PERIOD_SECONDS.min).toHumanString()} to ${Duration.seconds(GRACE_PERIOD_SECONDS.max).toHumanString()}`,
      );
    }
    return { ...fields, gracePeriodSeconds: seconds };
  }
  return fields;
}
