/**
 * A restore job's state: what the state machine carries from chunk to chunk. The request is kept in its wire
 * form with every default pinned (each chunk checks it again), and a cursor says where the next chunk starts:
 * terminations closed at or after `closedAt`, less the runs of exactly that instant already done.
 */
import { JOB_EVENT_KEY, RESTORE_JOB_KIND } from '../../lib/contract';
import type { JobStatus, Provenance } from '../types';
import type { Terminated } from './find';
import { describeRestoreTotals, type RestoreTotals } from './report';
import { type RestoreRequest, restoreWire } from './request';

export interface RestoreJobState {
  readonly kind: typeof RESTORE_JOB_KIND;
  readonly version: 1;
  readonly jobId: string;
  /** The request as accepted, in wire form (`{ restore: {...} }`). */
  readonly request: { readonly restore: Record<string, unknown> };
  /** When the request was accepted (ISO 8601): each chunk checks the request as of then. */
  readonly requestTime: string;
  readonly provenance: Provenance;
  readonly status: JobStatus;
  readonly cursor?: { readonly closedAt: string; readonly done: readonly string[] };
  readonly totals: RestoreTotals;
  readonly chunks: number;
  readonly lastProgressAt: string;
  readonly summary: string;
}

const runKey = (r: { workflowId: string; runId: string }) => `${r.workflowId}\u0000${r.runId}`;

/** True for the state machine's event of a restore job's chunk. */
export function isRestoreChunk(event: unknown): event is { [JOB_EVENT_KEY]: RestoreJobState } {
  if (typeof event !== 'object' || event === null) return false;
  const value: unknown = (event as Record<string, unknown>)[JOB_EVENT_KEY];
  if (typeof value !== 'object' || value === null) return false;
  const state = value as Partial<RestoreJobState>;
  return (
    state.kind === RESTORE_JOB_KIND &&
    state.version === 1 &&
    typeof state.jobId === 'string' &&
    typeof state.requestTime === 'string' &&
    typeof state.request === 'object' &&
    typeof state.totals === 'object' &&
    typeof state.chunks === 'number'
  );
}

/** The job's state after an invocation did `done` (in order) and left `left`. */
export function nextJobState(fields: {
  readonly jobId: string;
  readonly request: RestoreRequest;
  readonly provenance: Provenance;
  readonly totals: RestoreTotals;
  readonly chunks: number;
  readonly done: readonly Terminated[];
  readonly left: readonly Terminated[];
  readonly now: Date;
  readonly cursor?: RestoreJobState['cursor'];
  readonly requestTime?: string;
  readonly aborted?: boolean;
}): RestoreJobState {
  const first = fields.left[0];
  const status: JobStatus = fields.aborted
    ? 'aborted'
    : first !== undefined
      ? 'running'
      : fields.totals.failed > 0
        ? 'failed'
        : 'done';
  // Runs done at the instant the rest starts from are kept, with those the old cursor kept at that instant.
  const cursor =
    first === undefined
      ? undefined
      : {
          closedAt: first.closedAt,
          done: [
            ...(fields.cursor?.closedAt === first.closedAt ? fields.cursor.done : []),
            ...fields.done.filter((r) => r.closedAt === first.closedAt).map(runKey),
          ],
        };
  return {
    kind: RESTORE_JOB_KIND,
    version: 1,
    jobId: fields.jobId,
    request: restoreWire(fields.request),
    requestTime: fields.requestTime ?? fields.now.toISOString(),
    provenance: fields.provenance,
    status,
    ...(cursor === undefined ? {} : { cursor }),
    totals: fields.totals,
    chunks: fields.chunks,
    lastProgressAt: fields.now.toISOString(),
    summary: `restore ${status}: ${describeRestoreTotals(fields.totals)}${first === undefined ? '' : `; ${fields.left.length} runs left`}`,
  };
}
