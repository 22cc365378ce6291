/**
 * Unwraps the invocation's event: an EventBridge event carrying a request in its `detail`, or a bare request
 * object (a console test event), with who sent it and when it was made.
 */
import * as z from 'zod/mini';
import type { Config } from '../config';
import { echo, InvalidRequestError } from '../errors';
import type { Provenance } from '../types';
import { beforeEpochRule, endOfStatedUnit, instantOf } from './instants';
import { invalidRequestFrom, typeOf } from './issues';
import { isRecord } from './request';

/** EventBridge's envelope: the fields recorded as provenance. */
function buildEnvelopeSchema() {
  const field = z.string().check(z.minLength(1), z.maxLength(256));
  return z.looseObject({ id: field, source: field, account: field, time: z.iso.datetime({ offset: true }) });
}

/** Built on first use: module load stays light, and a function refused at init never needs it. */
let envelopeSchema: ReturnType<typeof buildEnvelopeSchema> | undefined;

function envelopeOf(event: Record<string, unknown>) {
  envelopeSchema ??= buildEnvelopeSchema();
  return envelopeSchema.safeParse(event, { reportInput: true });
}

/** What the handler needs from the Lambda context. */
export interface InvocationInfo {
  readonly awsRequestId: string;
}

/** An invocation's event unwrapped: the request object, who sent it and when. */
export interface Envelope {
  /** The request object: the event itself (console) or its `detail` (EventBridge). */
  readonly body: Record<string, unknown>;
  /** Where field paths of the body start in error messages: '' or 'detail'. */
  readonly prefix: string;
  readonly provenance: Provenance;
  /** See ParsedEvent.requestTime (lambda/types.ts). */
  readonly requestTime: Date;
}

/**
 * Unwraps the invocation's event: an EventBridge event whose detail-type is the configured request
 * detail-type (the request is its `detail`), or a bare request object (a console test event).
 *
 * @param now the invocation time
 * @throws InvalidRequestError. Never calls SWF.
 */
export function unwrapEvent(event: unknown, invocation: InvocationInfo, config: Config, now: Date): Envelope {
  if (!isRecord(event)) {
    throw new InvalidRequestError(
      'event',
      `must be a JSON object: a request, or an EventBridge event carrying one (got ${typeOf(event)})`,
    );
  }

  if (!('detail-type' in event)) {
    return {
      body: event,
      prefix: '',
      provenance: { via: 'console', requestId: invocation.awsRequestId },
      requestTime: now,
    };
  }

  const detailType = event['detail-type'];
  if (detailType !== config.requestDetailType) {
    throw new InvalidRequestError(
      'detail-type',
      `must be ${JSON.stringify(config.requestDetailType)}; this function handles only termination requests (got ${echo(detailType)})`,
    );
  }
  const envelope = envelopeOf(event);
  if (!envelope.success) {
    throw invalidRequestFrom('', envelope.error.issues);
  }
  if (!isRecord(event.detail)) {
    throw new InvalidRequestError(
      'detail',
      `must be a JSON object: the request (got ${typeOf(event.detail)})`,
    );
  }
  const { id, source, account, time } = envelope.data;
  const timeProblem = beforeEpochRule(time);
  if (timeProblem !== undefined) {
    throw new InvalidRequestError('time', timeProblem);
  }
  // EventBridge states `time` to the second ("2026-11-25T10:00:00Z"): the request was made at some instant
  // within that second. Taking its START would skip a run that started earlier within the same second
  // (10:00:00.400) and report it already-closed, a silent miss counted as success; so the request time is
  // the END of the stated unit (10:00:00.999 here; a time with a fraction states a finer unit). The price:
  // a run started later in that same second, after the request, is reached too; the time cannot tell them
  // apart, and a silent miss is the worse failure. PutEvents also lets the sender choose `time`: capping at
  // the invocation time means neither a future time nor that rounding reaches runs started after it.
  const requestTime = Math.min(endOfStatedUnit(instantOf(time)), now.getTime());
  return {
    body: event.detail,
    prefix: 'detail',
    provenance: { via: 'eventbridge', eventId: id, source, account, time },
    requestTime: new Date(requestTime),
  };
}
