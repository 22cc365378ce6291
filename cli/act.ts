/**
 * terminate, cancel and preview: the same request runs first as a dry run, which shows the domain, the count
 * and the first executions; then the operator confirms (typing the domain's name above a threshold, y/N
 * below); then the real request goes with `maxExecutions` set to the count the operator saw, so nothing
 * beyond what was confirmed can be acted on: if more match by then, the terminator refuses the whole request,
 * and the command says so and offers to preview again. A request that becomes a job is followed to its end.
 */
import { confirm, isCancel } from '@clack/prompts';
import { confirmed } from './confirm';
import { type Context, callHandler, failure, sendOnce } from './context';
import { CommandError, EXIT, type ExitCode } from './exit-codes';
import { countsLine, executionsTable, type ReportLike, wouldAct } from './report-view';
import { count } from './ui';
import { describeEnd, exitOf, watchJob } from './watch';
import { pinWindow } from './window';

export interface ActOptions {
  /** `preview`: show what the request would do, and stop. */
  readonly previewOnly: boolean;
  /** `--yes`: no question (for scripts). */
  readonly yes: boolean;
  /** Above this many executions, the operator types the domain's name to confirm. */
  readonly confirmThreshold: number;
  /** Executions listed in the preview. */
  readonly show: number;
  /** Told the job's id when the request becomes a job, before it is watched (the demo's scripted abort). */
  readonly onJob?: (jobId: string) => void;
}

const verbOf = (request: Record<string, unknown>) =>
  request.action === 'requestCancel'
    ? { ask: 'Ask', what: 'to cancel' }
    : request.action === 'cancelThenTerminate'
      ? { ask: 'Cancel, then terminate,', what: '' }
      : { ask: 'Terminate', what: '' };

export async function act(
  ctx: Context,
  given: Record<string, unknown>,
  options: ActOptions,
): Promise<ExitCode> {
  const { ui } = ctx;
  const previewOnly = options.previewOnly || given.dryRun === true;
  const request = pinWindow(given, new Date());
  const domain = typeof request.domain === 'string' ? request.domain : '';
  for (;;) {
    // 1. The preview: the same request, acting on nothing.
    const previewAnswer = await callHandler(ctx, { ...request, dryRun: true });
    if (!previewAnswer.ok) throw failure(previewAnswer);
    const preview = previewAnswer.value as ReportLike;
    const matched = preview.matched ?? 0;
    const toAct = wouldAct(preview);
    showPreview(ctx, domain, preview, options.show);
    if (previewOnly) {
      if (ui.json) ui.result({ preview });
      return EXIT.done;
    }
    if (toAct === 0) {
      ui.out('Nothing to act on; nothing sent.');
      if (ui.json) ui.result({ preview, sent: false });
      return EXIT.done;
    }

    // 2. The confirmation.
    const verb = verbOf(request);
    if (
      !(await confirmed(
        ctx,
        `${verb.ask} ${count(toAct)} execution${toAct === 1 ? '' : 's'} ${verb.what} in domain ${domain}?`.replace(
          '  ',
          ' ',
        ),
        domain,
        toAct,
        options,
      ))
    ) {
      if (ui.json) ui.result({ preview, sent: false });
      return EXIT.notConfirmed;
    }

    // 3. The real request, bound to what was confirmed.
    const bound = { ...request, maxExecutions: matched };
    delete (bound as { dryRun?: unknown }).dryRun;
    const answer = await sendOnce(
      ctx,
      ctx.terminator.handler,
      bound,
      "see swf-terminator jobs, and the terminator's log group.",
    );
    if (!answer.ok && answer.errorType === 'TooManyExecutionsError') {
      ui.err(
        ui.c.yellow(
          `More executions match now than the ${count(matched)} you confirmed: nothing was acted on. (${answer.errorMessage})`,
        ),
      );
      if (ui.interactive && !options.yes) {
        const again = await confirm({
          message: 'Preview again?',
          initialValue: false,
          output: ui.promptOutput,
        });
        if (!isCancel(again) && again) continue;
      }
      throw new CommandError('Refused: more match than were confirmed; preview again.', EXIT.refused);
    }
    if (!answer.ok) throw failure(answer);
    return finish(ctx, answer.value as ReportLike, matched, options.onJob);
  }
}

function showPreview(ctx: Context, domain: string, preview: ReportLike, show: number): void {
  const { ui } = ctx;
  const toAct = wouldAct(preview);
  ui.out(
    `${ui.c.bold('Preview')} in domain ${ui.c.bold(domain)}: ${count(preview.matched ?? 0)} matched, ${count(toAct)} would be acted on (${countsLine(ui, preview)})`,
  );
  const executions = (preview.executions ?? []).filter((e) => e.outcome.startsWith('would-'));
  if (executions.length > 0) {
    ui.out(executionsTable(ui, executions, show));
    if (toAct > show) ui.out(`... and ${count(toAct - Math.min(show, executions.length))} more`);
  }
}

/** The real request's answer: inline results, or the job it became, followed to its end. */
async function finish(
  ctx: Context,
  report: ReportLike,
  confirmedCount: number,
  onJob?: (jobId: string) => void,
): Promise<ExitCode> {
  const { ui } = ctx;
  if (report.job !== undefined && report.jobId !== undefined) {
    const inline = (report.matched ?? 0) > 0 ? ` (${countsLine(ui, report)} before the hand-off)` : '';
    ui.out(`Job ${ui.c.bold(report.jobId)} started${inline}. Ctrl-C offers to abort it.`);
    onJob?.(report.jobId);
    const status = await watchJob(ctx, report.jobId, confirmedCount);
    describeEnd(ctx, status);
    if (ui.json) ui.result({ report, job: status });
    return exitOf(status);
  }
  ui.out(`Done: ${countsLine(ui, report)}.`);
  const failed = (report.executions ?? []).filter((e) => e.outcome === 'failed');
  if (failed.length > 0) ui.out(executionsTable(ui, failed, 20));
  if (ui.json) ui.result({ report });
  return (report.failed ?? 0) > 0 ? EXIT.failed : EXIT.done;
}
