/**
 * The call one run gets, and how the pipeline paces it: shared by the list and the selector runs
 * (lambda/act/list.ts, lambda/act/selector-run.ts), so neither imports the stage's entry back.
 */
import type { Pacer } from '../aws/pacer';
import type { TerminateResult } from '../aws/swf';
import type { WorkDeps, RunOptions, RunRef } from '../work';
import { terminationDetails } from '../job/provenance';

/**
 * The call for one run that the request's action makes, recorded: TerminateWorkflowExecution, or
 * RequestCancelWorkflowExecution (requestCancel, and the first step of cancelThenTerminate). 'retry' when
 * SWF throttled it (it goes back in the queue, and that call's pacer slows down). In a preview, no call: the
 * run is recorded as one that would be terminated, or asked to cancel.
 */
export function actor(deps: WorkDeps, options: RunOptions): (run: RunRef) => Promise<'done' | 'retry'> {
  const { parsed, settings, record } = options;
  const cancels = settings.action !== 'terminate';
  if (settings.dryRun) {
    const outcome = cancels ? 'would-cancel' : 'would-terminate';
    return (run) => {
      record({
        workflowId: run.workflowId,
        runId: run.runId,
        outcome,
        ...(run.seen === undefined ? {} : { seen: run.seen }),
      });
      return Promise.resolve('done');
    };
  }
  const domain = parsed.request.domain;
  const pacer = pacerFor(deps, options);
  const gate = options.mayAct;
  const call = cancels
    ? (run: RunRef) => deps.swf.requestCancel({ domain, ...run }, gate)
    : terminateCall(deps, options);
  return async (run) => {
    // The job's guard (lambda/flows/job-guard.ts): no call starts once the job is stopped, nor while the
    // last look that said "carry on" is too old. Put back: a stopped job hands it on as left to do.
    if (gate !== undefined && !(await gate())) return 'retry';
    if (options.admit !== undefined && !(await options.admit(run))) {
      record({ workflowId: run.workflowId, runId: run.runId, outcome: 'passed-over' });
      return 'done';
    }
    const started = performance.now();
    const result = await call(run);
    if (result.kind === 'not-sent') return 'retry';
    if (result.kind === 'throttled') {
      pacer.throttled();
      return 'retry';
    }
    pacer.observe(performance.now() - started);
    record(
      result.kind === 'failed'
        ? { workflowId: run.workflowId, runId: run.runId, outcome: 'failed', error: result.error }
        : { workflowId: run.workflowId, runId: run.runId, outcome: result.kind },
    );
    return 'done';
  };
}

/** TerminateWorkflowExecution for one run, with the request's reason, child policy and provenance. */
function terminateCall(deps: WorkDeps, options: RunOptions): (run: RunRef) => Promise<TerminateResult> {
  const { parsed, settings, invocation } = options;
  const { reason, childPolicy } = settings;
  const details = terminationDetails(settings.details, parsed.provenance, invocation);
  return (run) =>
    deps.swf.terminate(
      {
        domain: parsed.request.domain,
        workflowId: run.workflowId,
        runId: run.runId,
        reason,
        details,
        ...(childPolicy === undefined ? {} : { childPolicy }),
      },
      options.mayAct,
    );
}

/** The pacer of the call the action makes: each SWF API has its own quota. */
function pacerFor(deps: WorkDeps, options: RunOptions): Pacer {
  return options.settings.action === 'terminate' ? deps.pacer : deps.cancelPacer;
}

/** Calls at once in a preview: no call to pace (List calls have their own bucket). */
const PREVIEW_CONCURRENCY = 10;

/** How the pipeline paces this request: by its action's pacer, or (a preview) not at all. */
export function paced(deps: WorkDeps, options: RunOptions) {
  if (options.settings.dryRun) return { inFlightLimit: () => PREVIEW_CONCURRENCY };
  const pacer = pacerFor(deps, options);
  return { acquire: () => pacer.acquire(), inFlightLimit: () => pacer.inFlightLimit() };
}
