/**
 * The provenance block appended to every termination's `details`, so SWF's own history says who asked:
 * the EventBridge event (id, source, account, time) or the console invocation, plus the invocation and job
 * that acted. Pure.
 */
import { LIMITS } from './contract';
import type { Provenance } from './request';

/** Marks the start of the block, after the request's own details. */
export const PROVENANCE_MARKER = '--- cdk-swf-terminator provenance ---';

/** Longest value kept per field: keeps the block well inside DETAILS_PROVENANCE_RESERVE whatever it holds. */
const FIELD_MAX = 100;

/**
 * Keeps printable ASCII other than quote and backslash, so JSON escaping cannot grow the value, and caps
 * its length. Provenance values are short ids and names; a value that needs cleaning was not genuine.
 */
function clean(value: string): string {
  const printable = value.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return printable.length > FIELD_MAX ? `${printable.slice(0, FIELD_MAX - 3)}...` : printable;
}

/** The invocation that acts on a request. */
export interface ActingInvocation {
  /** The Lambda request id of this invocation. */
  readonly functionRequestId: string;
  /** Id of the job the invocation works on (the event id, or the console request id). */
  readonly jobId: string;
}

/** The provenance block alone (at most ~900 characters by construction). */
export function provenanceBlock(provenance: Provenance, invocation: ActingInvocation): string {
  const requestedBy =
    provenance.via === 'eventbridge'
      ? {
          via: 'eventbridge',
          eventId: clean(provenance.eventId),
          source: clean(provenance.source),
          account: clean(provenance.account),
          time: clean(provenance.time),
        }
      : { via: 'console', requestId: clean(provenance.requestId) };
  return `${PROVENANCE_MARKER}\n${JSON.stringify({
    requestedBy,
    jobId: clean(invocation.jobId),
    functionRequestId: clean(invocation.functionRequestId),
  })}`;
}

/**
 * The `details` of a termination: the request's details (if any), a blank line, then the provenance block.
 * The request's details were validated to leave room for the block, so the result is at most SWF's limit.
 */
export function terminationDetails(
  requestDetails: string | undefined,
  provenance: Provenance,
  invocation: ActingInvocation,
): string {
  const block = provenanceBlock(provenance, invocation);
  const details =
    requestDetails === undefined || requestDetails === '' ? block : `${requestDetails}\n\n${block}`;
  if (details.length > LIMITS.detailsMax) {
    // Unreachable with validated input; refuse rather than send SWF something it rejects or cut user text.
    throw new RangeError(
      `termination details would be ${details.length} characters, over ${LIMITS.detailsMax}`,
    );
  }
  return details;
}
