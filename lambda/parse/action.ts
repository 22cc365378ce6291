/**
 * What a request may ask beyond terminating, checked against what the function may do: the construct grants
 * RequestCancelWorkflowExecution and DescribeWorkflowExecution only where a feature needs them, and a request
 * that needs them elsewhere is refused here, before any SWF call.
 */
import { GRACE_PERIOD_SECONDS } from '../../lib/contract';
import type { Config } from '../config';
import { echo, InvalidRequestError } from '../errors';
import type { Target } from '../types';
import { fieldPath } from './issues';

/** The fields of a request the action's rules read. */
export interface ActionFields {
  readonly domain: string;
  readonly action?: string;
  readonly gracePeriodSeconds?: number;
  readonly childPolicy?: string;
  readonly details?: string;
  readonly dryRun?: boolean;
}

/**
 * What the function may do beyond terminating, for the request at hand: the domains where it may ask
 * executions to cancel, and where it may describe them (the stalled and idle criteria). The construct grants
 * the role exactly these; a request that needs more is refused here, before any SWF call.
 */
export interface Permits {
  readonly cancelDomains: readonly string[];
  readonly describeDomains: readonly string[];
}

/** What a policy's run may do: cancel and describe wherever the construct granted it for a policy. */
export function policyPermits(config: Config): Permits {
  return { cancelDomains: config.cancelDomains, describeDomains: config.describeDomains };
}

/** What a request from the bus or the console may do: cancel only where requests may cancel. */
export function requestPermits(config: Config): Permits {
  return {
    cancelDomains: config.cancelRequests ? config.cancelDomains : [],
    describeDomains: config.describeDomains,
  };
}

/**
 * The action's own rules: a grace period exactly with cancelThenTerminate; no child policy or details with
 * requestCancel (RequestCancelWorkflowExecution takes neither); cancelling (but in a preview), and describing
 * (stalled, idle), only where the function may (`permits`).
 */
export function checkAction(r: ActionFields, target: Target, permits: Permits, prefix: string): void {
  const field = (...path: PropertyKey[]) => fieldPath(prefix, path);
  const action = r.action ?? 'terminate';
  if (action === 'cancelThenTerminate' && r.gracePeriodSeconds === undefined) {
    throw new InvalidRequestError(
      field('gracePeriodSeconds'),
      `is required with action cancelThenTerminate: seconds (${GRACE_PERIOD_SECONDS.min}-${GRACE_PERIOD_SECONDS.max}) ` +
        'between the cancel requests and the terminations',
    );
  }
  if (action !== 'cancelThenTerminate' && r.gracePeriodSeconds !== undefined) {
    throw new InvalidRequestError(
      field('gracePeriodSeconds'),
      'is only allowed with action cancelThenTerminate',
    );
  }
  if (action === 'requestCancel') {
    for (const name of ['childPolicy', 'details'] as const) {
      if (r[name] !== undefined) {
        throw new InvalidRequestError(
          field(name),
          'is not allowed with action requestCancel: RequestCancelWorkflowExecution takes no ' + name,
        );
      }
    }
  }
  // A preview asks nothing to cancel: it may show what a cancel would reach wherever the function may act.
  if (action !== 'terminate' && r.dryRun !== true && !permits.cancelDomains.includes(r.domain)) {
    throw new InvalidRequestError(
      field('action'),
      `${action} asks executions to cancel, which this function may not do in domain ${echo(r.domain)} ` +
        `(${permits.cancelDomains.length === 0 ? 'in no domain' : `only in ${permits.cancelDomains.join(', ')}`}; ` +
        "the construct's allowCancelRequests, or a policy that cancels, grants it)",
    );
  }
  if (action === 'cancelThenTerminate' && target.kind !== 'selector') {
    // Its job is started with the runs, and terminates each by the runId it asked: each must be known.
    const named = target.kind === 'single' ? [target.execution] : target.executions;
    const runless = named.findIndex((e) => e.runId === undefined);
    if (runless !== -1) {
      throw new InvalidRequestError(
        target.kind === 'single' ? field('runId') : field('executions', runless, 'runId'),
        'is required with action cancelThenTerminate: the runs it asks to cancel are handed to the job that ' +
          'terminates them, by runId (or use a selector)',
      );
    }
  }
  const selector = target.kind === 'selector' ? target.selector : undefined;
  if (
    (selector?.stalled === true || selector?.idleLongerThanSeconds !== undefined) &&
    !permits.describeDomains.includes(r.domain)
  ) {
    throw new InvalidRequestError(
      field('selector', selector.stalled === true ? 'stalled' : 'idleLongerThanSeconds'),
      `needs DescribeWorkflowExecution, which this function may not call in domain ${echo(r.domain)} ` +
        '(a policy sweeping that domain with stalled or idleLongerThan grants it)',
    );
  }
}
