/**
 * The provenance block at the start of every termination's `details`, so SWF's own history says who asked:
 * the EventBridge event (id, source, account, time) or the console invocation, plus the invocation and job
 * that acted. Pure.
 *
 * The block comes FIRST, as two lines (the marker, then one line of JSON), and the request's own details
 * follow after a blank line. Whatever the request's text holds (a look-alike block included), the genuine
 * block is the one the details start with: {@link readProvenance} reads only that.
 */
import { LIMITS } from '../../lib/contract';
import type { Provenance } from '../types';
import type { ActingInvocation } from '../work';

/** The first line of every termination's details. */
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

/** The provenance block alone (at most ~900 characters by construction). */
export function provenanceBlock(provenance: Provenance, invocation: ActingInvocation): string {
  return `${PROVENANCE_MARKER}\n${JSON.stringify({
    requestedBy: requestedBy(provenance),
    jobId: clean(invocation.jobId),
    functionRequestId: clean(invocation.functionRequestId),
  })}`;
}

/** Who asked, every value cleaned: the event, the console invocation, or a policy and its trigger. */
function requestedBy(provenance: Provenance): Record<string, string> {
  switch (provenance.via) {
    case 'eventbridge':
      return {
        via: 'eventbridge',
        eventId: clean(provenance.eventId),
        source: clean(provenance.source),
        account: clean(provenance.account),
        time: clean(provenance.time),
      };
    case 'console':
      return { via: 'console', requestId: clean(provenance.requestId) };
    case 'policy':
      return {
        via: 'policy',
        policy: clean(provenance.policy),
        trigger: provenance.trigger,
        eventId: clean(provenance.eventId),
        time: clean(provenance.time),
        ...(provenance.eventType === undefined ? {} : { eventType: clean(provenance.eventType) }),
      };
  }
}

/** What {@link readProvenance} finds: the block's JSON line, parsed. */
export interface RecordedProvenance {
  readonly requestedBy: Record<string, string>;
  readonly jobId: string;
  readonly functionRequestId: string;
}

/**
 * The `details` of a termination: the provenance block, then (if the request has details) a blank line and
 * the request's details. The request's details were validated to leave room for the block, so the result is
 * at most SWF's limit.
 */
export function terminationDetails(
  requestDetails: string | undefined,
  provenance: Provenance,
  invocation: ActingInvocation,
): string {
  const block = provenanceBlock(provenance, invocation);
  const details =
    requestDetails === undefined || requestDetails === '' ? block : `${block}\n\n${requestDetails}`;
  if (details.length > LIMITS.detailsMax) {
    // Unreachable with validated input; refuse rather than send SWF something it rejects or cut user text.
    throw new RangeError(
      `termination details would be ${details.length} characters, over ${LIMITS.detailsMax}`,
    );
  }
  return details;
}

/**
 * Reads the provenance a termination's `details` (as SWF's history records them) start with; undefined when
 * they do not start with a block written by {@link terminationDetails}. Anything later in the details is the
 * request's own text and is never read as provenance.
 */
export function readProvenance(details: string): RecordedProvenance | undefined {
  const head = `${PROVENANCE_MARKER}\n`;
  if (!details.startsWith(head)) return undefined;
  const end = details.indexOf('\n', head.length);
  const line = details.slice(head.length, end === -1 ? undefined : end);
  try {
    const value = JSON.parse(line) as Partial<RecordedProvenance> | null;
    if (
      typeof value?.requestedBy === 'object' &&
      typeof value.jobId === 'string' &&
      typeof value.functionRequestId === 'string'
    ) {
      return value as RecordedProvenance;
    }
  } catch {
    // Not a block this module wrote.
  }
  return undefined;
}
