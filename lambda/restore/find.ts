/**
 * Finds what a restore may restart: the runs this project terminated for the job or policy (or the named
 * runs), each confirmed by the provenance block at the start of its WorkflowExecutionTerminated event's
 * details (one history event read per run, the last), and the children their terminations closed. A run
 * terminated by anyone else is counted and never touched.
 */
import type { WorkflowExecutionInfo } from '@aws-sdk/client-swf';
import type { LastEvent, RestoreSwfPort } from '../aws/swf-restore';
import { readProvenance, type RecordedProvenance } from '../job/provenance';
import type { RestoreRequest, RestoreTarget } from './request';
import type { RestoredRun } from './report';
import { forEachLimited } from './limited';

/** A terminated run the restore may restart. */
export interface Terminated {
  readonly workflowId: string;
  readonly runId: string;
  /** When it was terminated (ISO 8601). */
  readonly closedAt: string;
  /** Closed by its parent's termination: `parent` is that run. */
  readonly parent?: { readonly workflowId: string; readonly runId: string };
}

/** What finding answers. */
export interface Found {
  /** The runs to restart (or report), oldest termination first; children of restored parents included. */
  readonly runs: readonly Terminated[];
  /** Named runs that cannot be restored, with why (never started). */
  readonly refused: readonly RestoredRun[];
  /** Terminated runs in the window that this project did not terminate for this job or policy. */
  readonly notOurs: number;
}

/** How finding reads SWF: a throttle before each history read, and how many reads at once. */
export interface FindOptions {
  readonly beforeRead: () => Promise<void>;
  /** A throttle before each List call (a page). */
  readonly beforeList: () => Promise<void>;
  readonly readsInFlight: number;
  /** Only runs closed at or after this instant, less the `done` runs of exactly that instant (a job's cursor). */
  readonly from?: { readonly closedAt: string; readonly done: readonly string[] };
  /**
   * Called with how many terminated runs the window lists, before any is read: throws when confirming them
   * all would not fit in the invocation.
   */
  readonly checkListed?: (listed: number) => void;
}

const runKey = (workflowId: string, runId: string) => `${workflowId}\u0000${runId}`;

/** True when a provenance block says the termination was made for `target`. */
function madeFor(provenance: RecordedProvenance, target: RestoreTarget): boolean {
  switch (target.kind) {
    case 'job':
      return provenance.jobId === target.jobId;
    case 'policy':
      return provenance.requestedBy.via === 'policy' && provenance.requestedBy.policy === target.policy;
    case 'runs':
      return true;
  }
}

function iso(date: Date | undefined, fallback: string): string {
  return date instanceof Date && !Number.isNaN(date.getTime()) ? date.toISOString() : fallback;
}

/** The runs a job's or a policy's terminations closed in the request's window, confirmed one by one. */
async function findInWindow(
  swf: RestoreSwfPort,
  request: RestoreRequest,
  options: FindOptions,
): Promise<Found> {
  const oldest = options.from?.closedAt ?? request.closedAfter;
  const listed: WorkflowExecutionInfo[] = [];
  const listing = swf.listClosed(
    {
      domain: request.domain,
      closeTimeFilter: { oldestDate: new Date(oldest), latestDate: new Date(request.closedBefore) },
      closeStatus: 'TERMINATED',
    },
    true,
  );
  await eachPage(listing, options.beforeList, (page) => listed.push(...page));
  const done = new Set(options.from?.done ?? []);
  const candidates = listed.filter((info) => {
    const workflowId = info.execution?.workflowId;
    const runId = info.execution?.runId;
    if (workflowId === undefined || runId === undefined) return false;
    return !(iso(info.closeTimestamp, '') === oldest && done.has(runKey(workflowId, runId)));
  });
  options.checkListed?.(candidates.length);

  const ours: Terminated[] = [];
  const children: Terminated[] = [];
  let notOurs = 0;
  await forEachLimited(candidates, options.readsInFlight, async (info) => {
    const workflowId = info.execution?.workflowId ?? '';
    const runId = info.execution?.runId ?? '';
    await options.beforeRead();
    const last = await swf.lastEvent(request.domain, workflowId, runId);
    const run: Terminated = { workflowId, runId, closedAt: iso(info.closeTimestamp, request.closedBefore) };
    const provenance = last.kind === 'terminated' ? readProvenance(last.details ?? '') : undefined;
    if (provenance !== undefined && madeFor(provenance, request.target)) {
      ours.push(run);
    } else if (
      isChildTermination(last) &&
      info.parent?.workflowId !== undefined &&
      info.parent.runId !== undefined
    ) {
      children.push({ ...run, parent: { workflowId: info.parent.workflowId, runId: info.parent.runId } });
    } else {
      notOurs++;
    }
  });
  // A child belongs to this restore only when its parent's termination is one of the restore's own.
  const parents = new Set(ours.map((r) => runKey(r.workflowId, r.runId)));
  const ownChildren = children.filter(
    (c) => c.parent !== undefined && parents.has(runKey(c.parent.workflowId, c.parent.runId)),
  );
  notOurs += children.length - ownChildren.length;
  return { runs: byCloseTime([...ours, ...ownChildren]), refused: [], notOurs };
}

function isChildTermination(last: LastEvent): boolean {
  return last.kind === 'terminated' && last.cause === 'CHILD_POLICY_APPLIED';
}

/** Named runs: each must have been terminated by this project (its provenance block), else it is refused. */
async function findNamed(
  swf: RestoreSwfPort,
  request: RestoreRequest,
  runs: readonly { readonly workflowId: string; readonly runId: string }[],
  options: FindOptions,
): Promise<Found> {
  const found: Terminated[] = [];
  const refused: RestoredRun[] = [];
  await forEachLimited(runs, options.readsInFlight, async ({ workflowId, runId }) => {
    await options.beforeRead();
    const last = await swf.lastEvent(request.domain, workflowId, runId);
    if (last.kind === 'terminated' && readProvenance(last.details ?? '') !== undefined) {
      found.push({ workflowId, runId, closedAt: iso(last.at, request.closedBefore) });
    } else {
      refused.push({
        workflowId,
        runId,
        outcome: 'not-terminated-by-terminator',
        error:
          last.kind === 'terminated'
            ? 'its termination carries no provenance block of this project'
            : `its history ends with ${last.eventType}, not a termination`,
      });
    }
  });
  return { runs: byCloseTime(found), refused, notOurs: 0 };
}

function byCloseTime(runs: Terminated[]): Terminated[] {
  return runs.sort(
    (a, b) =>
      a.closedAt.localeCompare(b.closedAt) ||
      a.workflowId.localeCompare(b.workflowId) ||
      a.runId.localeCompare(b.runId),
  );
}

/** The runs a restore request may restart, confirmed from SWF's history. */
export async function findTerminations(
  swf: RestoreSwfPort,
  request: RestoreRequest,
  options: FindOptions,
): Promise<Found> {
  if (request.target.kind !== 'runs') return findInWindow(swf, request, options);
  const found = await findNamed(swf, request, request.target.runs, options);
  const from = options.from;
  if (from === undefined) return found;
  const done = new Set(from.done);
  return {
    ...found,
    refused: [],
    runs: found.runs.filter(
      (r) =>
        r.closedAt > from.closedAt ||
        (r.closedAt === from.closedAt && !done.has(runKey(r.workflowId, r.runId))),
    ),
  };
}

/**
 * The latest start of every run (open or closed) of the given workflowIds started at or after `since`: a
 * workflowId with a run started after its termination was restarted since (by anyone, an earlier restore
 * too) and is left alone; one whose run is open is `open-again` (SWF would refuse to start a second; a
 * preview says so too). One listing of the domain's runs started since, not a call per workflowId.
 */
export async function latestStarts(
  swf: RestoreSwfPort,
  domain: string,
  workflowIds: ReadonlySet<string>,
  since: Date,
  beforeList: () => Promise<void>,
): Promise<{ readonly latest: Map<string, number>; readonly open: Set<string> }> {
  const latest = new Map<string, number>();
  const open = new Set<string>();
  const note = (isOpen: boolean) => (page: readonly WorkflowExecutionInfo[]) => {
    for (const info of page) {
      const id = info.execution?.workflowId;
      const at = info.startTimestamp?.getTime();
      if (id === undefined || at === undefined || !workflowIds.has(id)) continue;
      latest.set(id, Math.max(latest.get(id) ?? 0, at));
      if (isOpen) open.add(id);
    }
  };
  await eachPage(swf.listOpen(domain, { oldestDate: since }), beforeList, note(true));
  await eachPage(swf.listClosed({ domain, startTimeFilter: { oldestDate: since } }), beforeList, note(false));
  return { latest, open };
}

/** Reads every page of a listing, taking a List token before each call. */
async function eachPage<T>(
  listing: AsyncGenerator<readonly T[]>,
  beforeList: () => Promise<void>,
  use: (page: readonly T[]) => void,
): Promise<void> {
  for (;;) {
    await beforeList();
    const page = await listing.next();
    if (page.done === true) return;
    use(page.value);
  }
}
