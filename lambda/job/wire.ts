/**
 * A parsed request written back in the form a request event has (dates as ISO strings): what a job's state
 * carries from chunk to chunk, re-validated by each chunk as a request (lambda/parse/request.ts).
 */
import type { ExecutionWire, RequestWire, SelectorWire } from '../../lib/contract';
import type { ExecutionRef, TerminationRequest } from '../types';

/** The size of the request as a job's state carries it (JSON bytes), to compare with HANDOFF_REQUEST_MAX_BYTES. */
export function wireBytes(request: TerminationRequest): number {
  return Buffer.byteLength(JSON.stringify(wireRequest(request)));
}

/** The request in its wire form; `executions`, when given, replaces a list's (what remains of it). */
export function wireRequest(request: TerminationRequest, executions?: readonly ExecutionRef[]): RequestWire {
  const target = request.target;
  let targetFields: { selector: SelectorWire } | { executions: readonly ExecutionWire[] };
  if (target.kind === 'selector') {
    const s = target.selector;
    targetFields = {
      selector: {
        ...(s.tag === undefined ? {} : { tag: s.tag }),
        ...(s.workflowType === undefined ? {} : { workflowType: { ...s.workflowType } }),
        ...(s.workflowIdPrefix === undefined ? {} : { workflowIdPrefix: s.workflowIdPrefix }),
        ...(s.startedAfter === undefined ? {} : { startedAfter: s.startedAfter.toISOString() }),
        ...(s.startedBefore === undefined ? {} : { startedBefore: s.startedBefore.toISOString() }),
        ...(s.openLongerThanSeconds === undefined ? {} : { openLongerThanSeconds: s.openLongerThanSeconds }),
        ...(s.stalled === undefined ? {} : { stalled: s.stalled }),
        ...(s.idleLongerThanSeconds === undefined ? {} : { idleLongerThanSeconds: s.idleLongerThanSeconds }),
      },
    };
  } else {
    const list = executions ?? (target.kind === 'list' ? target.executions : [target.execution]);
    targetFields = { executions: list.map((e) => ({ ...e })) };
  }
  return {
    domain: request.domain,
    ...targetFields,
    ...(request.reason === undefined ? {} : { reason: request.reason }),
    ...(request.details === undefined ? {} : { details: request.details }),
    ...(request.childPolicy === undefined ? {} : { childPolicy: request.childPolicy }),
    ...(request.action === undefined ? {} : { action: request.action }),
    ...(request.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: request.gracePeriodSeconds }),
    ...(request.dryRun === undefined ? {} : { dryRun: request.dryRun }),
    ...(request.maxExecutions === undefined ? {} : { maxExecutions: request.maxExecutions }),
  };
}
