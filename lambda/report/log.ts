/**
 * The summary log line of a request or a chunk: who asked, what was asked, what happened, and the pacer's
 * state when SWF throttled it. (Every line also carries the invocation's context and the job's keys, which
 * the handler adds through Powertools' logger.)
 */
import type { Pacer } from '../aws/pacer';
import type { JobTotals, ParsedEvent } from '../types';

export function summaryOf(
  parsed: ParsedEvent,
  dryRun: boolean,
  totals: JobTotals,
  pacer: Pacer,
): Record<string, unknown> {
  return {
    provenance: parsed.provenance,
    target: parsed.request.target.kind,
    action: parsed.request.action ?? 'terminate',
    dryRun,
    matched: totals.matched,
    terminated: totals.terminated,
    alreadyClosed: totals.alreadyClosed,
    noOpenRun: totals.noOpenRun,
    ...(totals.noLongerMatches > 0 ? { noLongerMatches: totals.noLongerMatches } : {}),
    wouldTerminate: totals.wouldTerminate,
    ...(totals.cancelRequested + totals.wouldCancel > 0
      ? { cancelRequested: totals.cancelRequested, wouldCancel: totals.wouldCancel }
      : {}),
    failed: totals.failed,
    ...(totals.passedOver === undefined ? {} : { passedOver: totals.passedOver }),
    ...(pacer.throttles > 0 ? { throttles: pacer.throttles, rate: pacer.currentRate } : {}),
  };
}
