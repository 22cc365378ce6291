/**
 * The settings a job acts with, fixed when its request is accepted.
 *
 * A request leaves some choices to the function's configuration (preview mode, the default child policy, the
 * ceiling on executions). Those are read ONCE, when the request is accepted, into {@link AcceptedUnder}, and
 * carried with the job; every later invocation derives the same {@link JobSettings} from the same request and
 * the same snapshot. A redeployment in between (DRY_RUN=false after a preview, another DEFAULT_CHILD_POLICY)
 * therefore never changes what a running job does. A redeployment that narrows what the function may do
 * (preview mode switched on, a lower ceiling, a domain removed) stops the job instead of being ignored.
 */
import { CANCEL_THEN_TERMINATE_MAX_EXECUTIONS, DEFAULT_REASON } from '../../lib/contract';
import type { Config } from '../config';
import { InvalidRequestError } from '../errors';
import type { AcceptedUnder, JobSettings, TerminationRequest } from '../types';

/** The snapshot of `config` a new request is accepted under. */
export function acceptedUnder(config: Config): AcceptedUnder {
  return {
    dryRun: config.dryRun,
    ...(config.defaultChildPolicy === undefined ? {} : { defaultChildPolicy: config.defaultChildPolicy }),
    maxExecutions: config.maxExecutions,
  };
}

/** The settings a request acts with under `accepted`: the request's own choices first. */
export function jobSettings(request: TerminationRequest, accepted: AcceptedUnder): JobSettings {
  const childPolicy = request.childPolicy ?? accepted.defaultChildPolicy;
  return {
    dryRun: accepted.dryRun || request.dryRun === true,
    ...(childPolicy === undefined ? {} : { childPolicy }),
    reason: request.reason ?? DEFAULT_REASON,
    ...(request.details === undefined ? {} : { details: request.details }),
    limit: Math.min(
      request.maxExecutions ?? accepted.maxExecutions,
      accepted.maxExecutions,
      request.action === 'cancelThenTerminate' ? CANCEL_THEN_TERMINATE_MAX_EXECUTIONS : Infinity,
    ),
    action: request.action ?? 'terminate',
    ...(request.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: request.gracePeriodSeconds }),
  };
}

/**
 * The configuration a carried job is validated against: today's function (its domains) with the settings
 * the job was accepted under. Refuses the job when the function now allows less than it did then.
 *
 * @param field the path of the carried snapshot, for the error message
 * @throws InvalidRequestError naming what changed
 */
export function configForCarriedJob(accepted: AcceptedUnder, config: Config, field: string): Config {
  if (config.dryRun && !accepted.dryRun) {
    throw new InvalidRequestError(
      `${field}.dryRun`,
      'the job was accepted to terminate, but the function is now in preview mode (DRY_RUN=true): it stops ' +
        'here, terminating nothing more; send the request again to preview it',
    );
  }
  if (accepted.maxExecutions > config.maxExecutions) {
    throw new InvalidRequestError(
      `${field}.maxExecutions`,
      `the job was accepted under a ceiling of ${accepted.maxExecutions} executions, and the function's ` +
        `MAX_EXECUTIONS is now ${config.maxExecutions}: it stops here; send the request again under the new ceiling`,
    );
  }
  return {
    ...config,
    defaultChildPolicy: accepted.defaultChildPolicy,
    dryRun: accepted.dryRun,
    maxExecutions: accepted.maxExecutions,
  };
}
