/**
 * Restarts the runs finding confirmed, oldest termination first: each with exactly what its terminated run
 * was started with (its history's first event), unless a run of that workflowId was started since, is open
 * (SWF refuses a second), its type is deprecated, or it needs a Lambda role the function may not pass.
 */
import type { RestoreSwfPort, StartAttributes } from '../aws/swf-restore';
import { describeError } from '../errors';
import type { Terminated } from './find';
import { latestStarts } from './find';
import { forEachLimited } from './limited';
import type { RestoredRun } from './report';
import type { RestoreRequest } from './request';

/** What restarting needs besides the runs. */
export interface RestartContext {
  readonly swf: RestoreSwfPort;
  readonly request: RestoreRequest;
  /** The Lambda roles a restarted run may name (the construct's `restoreLambdaRoles`). */
  readonly lambdaRoles: readonly string[];
  readonly beforeRead: () => Promise<void>;
  readonly beforeList: () => Promise<void>;
  readonly beforeStart: () => Promise<void>;
  /** How many runs are worked on at once (history reads and starts in flight). */
  readonly inFlight: number;
  /** True when no new run may be taken up (time running out, or the job stopped). */
  readonly shouldStop: () => boolean;
  /** Called once per run, as soon as its outcome is known. */
  readonly record: (run: RestoredRun) => void;
}

/** Restarts `runs` (oldest termination first, as finding answers them) in order; answers how many were taken up (the rest, a suffix, was not touched). */
export async function restartRuns(ctx: RestartContext, runs: readonly Terminated[]): Promise<number> {
  const { request } = ctx;
  const first = runs[0];
  if (first === undefined) return 0;
  // Finding answers the runs oldest termination first: runs started since the first are all that matter.
  const since = new Date(first.closedAt);
  const { latest, open } = await latestStarts(
    ctx.swf,
    request.domain,
    new Set(runs.map((r) => r.workflowId)),
    since,
    ctx.beforeList,
  );
  return forEachLimited(
    runs,
    ctx.inFlight,
    async (run) => {
      ctx.record(await restartOne(ctx, run, latest.get(run.workflowId), open.has(run.workflowId)));
    },
    ctx.shouldStop,
  );
}

async function restartOne(
  ctx: RestartContext,
  run: Terminated,
  latestStart: number | undefined,
  openNow: boolean,
): Promise<RestoredRun> {
  const { request } = ctx;
  const ref = { workflowId: run.workflowId, runId: run.runId };
  if (run.parent !== undefined && !request.includeChildren) {
    return { ...ref, outcome: 'child-of-restored-parent', parent: run.parent };
  }
  // A run open now (started since, by anyone): SWF refuses a second. Listed, so a preview says so too.
  if (openNow) return { ...ref, outcome: 'open-again' };
  if (latestStart !== undefined && latestStart > Date.parse(run.closedAt)) {
    return { ...ref, outcome: 'restarted-since' };
  }
  let attributes: StartAttributes | undefined;
  try {
    await ctx.beforeRead();
    attributes = await ctx.swf.startAttributes(request.domain, run.workflowId, run.runId);
  } catch (error: unknown) {
    return { ...ref, outcome: 'failed', error: `its start could not be read: ${describeError(error)}` };
  }
  if (attributes === undefined) return { ...ref, outcome: 'start-unreadable' };
  const seen = {
    workflowType: attributes.workflowType,
    inputBytes: Buffer.byteLength(attributes.input ?? '', 'utf8'),
    ...(run.parent === undefined ? {} : { parent: run.parent }),
  };
  if (attributes.lambdaRole !== undefined && !ctx.lambdaRoles.includes(attributes.lambdaRole)) {
    return {
      ...ref,
      ...seen,
      outcome: 'lambda-role-not-allowed',
      error: 'its run names a Lambda role not in restoreLambdaRoles (the function may not pass it)',
    };
  }
  if (request.dryRun) return { ...ref, ...seen, outcome: 'would-start' };
  await ctx.beforeStart();
  const result = await ctx.swf.start(request.domain, run.workflowId, attributes);
  switch (result.kind) {
    case 'started':
      return { ...ref, ...seen, outcome: 'started', newRunId: result.runId };
    case 'failed':
      return { ...ref, ...seen, outcome: 'failed', error: result.error };
    default:
      return { ...ref, ...seen, outcome: result.kind };
  }
}
