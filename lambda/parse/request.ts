/**
 * Turns a request object (an EventBridge event's `detail`, or a console test event) into a typed, fully
 * validated termination request, or refuses it. Pure: no SWF call, no clock. Everything that can be checked
 * without SWF is checked here, so a refused request never reaches SWF.
 *
 * Validation uses `zod/mini` (the same checks as full zod, for less module-load time) and reports the first
 * problem as `path.to.field: rule` (lambda/parse/issues.ts).
 */
import { CANCEL_THEN_TERMINATE_MAX_EXECUTIONS, HANDOFF_REQUEST_MAX_BYTES } from '../../lib/contract';
import type { Config } from '../config';
import { DomainNotAllowedError, echo, InvalidRequestError, TooManyExecutionsError } from '../errors';
import type { TerminationRequest } from '../types';
import { fieldPath, invalidRequestFrom, typeOf } from './issues';
import { checkAction, type Permits, requestPermits } from './action';
import { getSchemas } from './request-schema';
import { targetOf } from './target';
import { wireBytes } from '../job/wire';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates a request object (the `detail` of an EventBridge event, or a console test event) against the
 * schema and the function's configuration. `prefix` is prepended to field paths in error messages.
 *
 * @throws InvalidRequestError, DomainNotAllowedError, TooManyExecutionsError (an explicit list longer than
 *   the limit). Never calls SWF.
 */
export function parseRequest(
  raw: unknown,
  config: Config,
  prefix = '',
  permits: Permits = requestPermits(config),
): TerminationRequest {
  if (!isRecord(raw)) {
    throw new InvalidRequestError(prefix || 'request', `must be a JSON object (got ${typeOf(raw)})`);
  }
  const result = getSchemas().requestSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    throw invalidRequestFrom(prefix, result.error.issues);
  }
  const r = result.data;
  const field = (name: string) => fieldPath(prefix, [name]);

  const target = targetOf(r, prefix);

  const maxExecutions = r.maxExecutions;
  // cancelThenTerminate hands the runs it cancelled to a job as a list: a ceiling of its own.
  const ceiling =
    r.action === 'cancelThenTerminate'
      ? Math.min(config.maxExecutions, CANCEL_THEN_TERMINATE_MAX_EXECUTIONS)
      : config.maxExecutions;
  if (
    maxExecutions !== undefined &&
    (typeof maxExecutions !== 'number' ||
      !Number.isInteger(maxExecutions) ||
      maxExecutions < 1 ||
      maxExecutions > ceiling)
  ) {
    throw new InvalidRequestError(
      field('maxExecutions'),
      `must be an integer from 1 to ${ceiling}, ` +
        (ceiling < config.maxExecutions
          ? 'the most cancelThenTerminate hands to the job that terminates them'
          : "the function's ceiling (MAX_EXECUTIONS)") +
        ` (got ${echo(maxExecutions)})`,
    );
  }

  if (!config.allowedDomains.includes(r.domain)) {
    throw new DomainNotAllowedError(r.domain, config.allowedDomains);
  }
  checkAction(r, target, permits, prefix);

  // An explicit list is counted before any SWF call: too many is refused outright.
  const limit = maxExecutions ?? ceiling;
  if (target.kind === 'list' && target.executions.length > limit) {
    throw new TooManyExecutionsError(target.executions.length, limit);
  }

  const request: TerminationRequest = {
    domain: r.domain,
    target,
    ...(r.reason === undefined ? {} : { reason: r.reason }),
    ...(r.details === undefined ? {} : { details: r.details }),
    ...(r.childPolicy === undefined ? {} : { childPolicy: r.childPolicy }),
    ...(r.action === undefined ? {} : { action: r.action }),
    ...(r.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: r.gracePeriodSeconds }),
    ...(r.dryRun === undefined ? {} : { dryRun: r.dryRun }),
    ...(maxExecutions === undefined ? {} : { maxExecutions }),
  };
  // A request that does not finish in one invocation is carried from chunk to chunk in a job's state:
  // one that could not be carried is refused now, before any SWF call, not after acting on part of it.
  const bytes = wireBytes(request);
  if (bytes > HANDOFF_REQUEST_MAX_BYTES) {
    throw new InvalidRequestError(
      field(target.kind === 'list' ? 'executions' : 'details'),
      `makes the request ${bytes} bytes as JSON, over the ${HANDOFF_REQUEST_MAX_BYTES} bytes a job carries from ` +
        "chunk to chunk (Step Functions' 256 KB state, less room for the job's progress); " +
        'split the list into smaller requests, or use a selector',
    );
  }
  return request;
}
