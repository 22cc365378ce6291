/**
 * `swf-terminator restore JOB` (or `--policy NAME`): undo a job's or a policy's terminations, with the same
 * preview and confirmation as terminating. The restore runs first as a dry run, which shows how many runs the
 * terminator terminated there, which would start (type, input size) and which would be skipped and why; the
 * operator confirms (the domain's name above a threshold, y/N below); the real restore carries the count seen
 * as its cap, so nothing beyond what was confirmed can start. A restore that becomes a job is followed to its
 * end (`abort JOB` stops it like any job).
 */
import { callControl, type Context, failure, sendOnce } from './context';
import { CommandError, EXIT, type ExitCode, usageError } from './exit-codes';
import { count } from './ui';
import { confirmed } from './confirm';

export interface RestoreOptions {
  readonly jobId?: string;
  readonly policy?: string;
  readonly domain?: string;
  readonly closedAfter?: string;
  readonly closedBefore?: string;
  readonly includeChildren: boolean;
  readonly reason?: string;
  readonly previewOnly: boolean;
  readonly yes: boolean;
  readonly confirmThreshold: number;
  readonly show: number;
}

/** A restore's answer, as far as the command reads it (lambda/restore/report.ts). */
interface RestoreAnswer {
  readonly restore: {
    readonly jobId: string;
    readonly domain: string;
    readonly totals: {
      readonly matched: number;
      readonly started: number;
      readonly wouldStart: number;
      readonly failed: number;
      readonly notOurs: number;
      readonly skipped: Readonly<Record<string, number>>;
    };
    readonly runs: readonly {
      readonly workflowId: string;
      readonly runId: string;
      readonly outcome: string;
      readonly newRunId?: string;
      readonly workflowType?: { readonly name: string; readonly version: string };
      readonly inputBytes?: number;
      readonly error?: string;
    }[];
    readonly job?: { readonly state: string; readonly executionArn: string };
  };
}

/** What a job's status says (the control function's answer, lib side: lambda/flows/control.ts). */
interface StatusAnswer {
  readonly state: string;
  readonly startedAt?: string;
  readonly stoppedAt?: string;
  readonly request?: { readonly domain?: string };
  readonly restore?: RestoreAnswer['restore']['totals'];
  readonly summary?: string;
}

/** Before its job started, an inline invocation may have acted for it: Lambda's longest, and a minute. */
const BEFORE_JOB_MS = 16 * 60_000;
const AFTER_JOB_MS = 60_000;

export async function restore(ctx: Context, options: RestoreOptions): Promise<ExitCode> {
  const { ui } = ctx;
  const fn = ctx.terminator.restore;
  if (fn === undefined) {
    throw new CommandError(
      'This terminator has no restore function: deploy it with allowRestore: true (or give --restore-function).',
      EXIT.unreachable,
    );
  }
  const request = await restoreRequest(ctx, options);
  const domain = String(request.domain);

  // 1. The preview: the same restore, starting nothing.
  const previewAnswer = await ctx.aws.invoke(fn, { restore: { ...request, dryRun: true } });
  if (!previewAnswer.ok) throw failure(previewAnswer);
  const preview = (previewAnswer.value as RestoreAnswer).restore;
  showRestore(ctx, 'Preview', preview, options.show);
  const toStart = preview.totals.wouldStart;
  if (options.previewOnly) {
    if (ui.json) ui.result({ preview });
    return EXIT.done;
  }
  if (toStart === 0) {
    ui.out('Nothing to start; nothing sent.');
    if (ui.json) ui.result({ preview, sent: false });
    return EXIT.done;
  }

  // 2. The confirmation.
  const question = `Start ${count(toStart)} execution${toStart === 1 ? '' : 's'} again in domain ${domain}?`;
  if (!(await confirmed(ctx, question, domain, toStart, options))) {
    if (ui.json) ui.result({ preview, sent: false });
    return EXIT.notConfirmed;
  }

  // 3. The real restore, capped at the runs the preview found to restart.
  const cap =
    preview.totals.matched -
    (preview.totals.skipped['not-terminated-by-terminator'] ?? 0) -
    (options.includeChildren ? 0 : (preview.totals.skipped['child-of-restored-parent'] ?? 0));
  const answer = await sendOnce(
    ctx,
    fn,
    { restore: { ...request, maxExecutions: Math.max(1, cap) } },
    'run the same restore with --preview, which shows what is open again.',
  );
  if (!answer.ok) {
    if (answer.errorType === 'RestoreTooLargeError') {
      throw new CommandError(
        `Refused: more runs to restart now than the ${count(cap)} you confirmed; nothing was started. Preview again.`,
        EXIT.refused,
      );
    }
    throw failure(answer);
  }
  const done = (answer.value as RestoreAnswer).restore;
  showRestore(ctx, 'Done', done, options.show);
  if (done.job !== undefined) {
    ui.out(
      `Restore job ${ui.c.bold(done.jobId)} continues the rest (stop it: swf-terminator abort ${done.jobId} --reason ...).`,
    );
    const end = await followJob(ctx, done.jobId);
    if (ui.json) ui.result({ restore: done, job: end });
    return end.state === 'SUCCEEDED' ? EXIT.done : end.state === 'ABORTED' ? EXIT.aborted : EXIT.failed;
  }
  if (ui.json) ui.result({ restore: done });
  return done.totals.failed > 0 ? EXIT.failed : EXIT.done;
}

/** The restore request the flags ask for: a job's window from its status, or the policy's from the flags. */
async function restoreRequest(ctx: Context, options: RestoreOptions): Promise<Record<string, unknown>> {
  if ((options.jobId === undefined) === (options.policy === undefined)) {
    throw usageError('restore', 'give a job id, or --policy NAME with --closed-after (not both)');
  }
  let domain = options.domain;
  let window: { closedAfter?: string; closedBefore?: string } = {};
  if (options.jobId !== undefined) {
    const { status } = await callControl<{ status: StatusAnswer }>(ctx, { status: { jobId: options.jobId } });
    if (status.state !== 'NOT_FOUND' && status.startedAt !== undefined) {
      // The job's terminations closed between its request (an inline part may come first) and its end.
      const started = Date.parse(status.startedAt) - BEFORE_JOB_MS;
      const stopped =
        status.stoppedAt === undefined ? Date.now() : Date.parse(status.stoppedAt) + AFTER_JOB_MS;
      window = {
        closedAfter: new Date(started).toISOString(),
        closedBefore: new Date(Math.min(stopped, Date.now())).toISOString(),
      };
      domain ??= status.request?.domain;
    }
  }
  domain ??= ctx.terminator.domains?.length === 1 ? ctx.terminator.domains[0] : undefined;
  if (domain === undefined) {
    throw usageError(
      '--domain',
      'name the domain (the job was not found to read it from, and the terminator has several)',
    );
  }
  return {
    domain,
    ...(options.jobId === undefined ? { policy: options.policy } : { jobId: options.jobId }),
    ...window,
    ...(options.closedAfter === undefined ? {} : { closedAfter: options.closedAfter }),
    ...(options.closedBefore === undefined ? {} : { closedBefore: options.closedBefore }),
    ...(options.includeChildren ? { includeChildren: true } : {}),
    ...(options.reason === undefined ? {} : { reason: options.reason }),
  };
}

function showRestore(ctx: Context, title: string, r: RestoreAnswer['restore'], show: number): void {
  const { ui } = ctx;
  const t = r.totals;
  const skipped = Object.entries(t.skipped)
    .filter(([, n]) => n > 0)
    .map(([why, n]) => `${count(n)} ${why}`);
  ui.out(
    `${ui.c.bold(title)} in domain ${ui.c.bold(r.domain)}: ${count(t.matched)} terminated by the terminator, ` +
      `${count(title === 'Preview' ? t.wouldStart : t.started)} ${title === 'Preview' ? 'would start' : 'started'}` +
      (t.failed > 0 ? `, ${ui.c.red(`${count(t.failed)} failed`)}` : '') +
      `${skipped.length > 0 ? `, skipped: ${skipped.join(', ')}` : ''}; ${count(t.notOurs)} terminated by others left alone`,
  );
  const rows = r.runs
    .slice(0, show)
    .map((run) => [
      run.workflowId,
      run.workflowType === undefined ? '' : `${run.workflowType.name}:${run.workflowType.version}`,
      run.inputBytes === undefined ? '' : `${count(run.inputBytes)} B`,
      run.outcome,
      run.newRunId ?? run.error ?? '',
    ]);
  if (rows.length > 0) ui.out(ui.table(['workflowId', 'type', 'input', 'outcome', 'new run / why'], rows));
  if (r.runs.length > show) ui.out(`... and ${count(r.runs.length - show)} more`);
}

/** Polls a restore job's status until it ends; its last status. */
async function followJob(ctx: Context, jobId: string): Promise<StatusAnswer> {
  for (;;) {
    const { status } = await callControl<{ status: StatusAnswer }>(ctx, { status: { jobId } });
    if (status.state !== 'RUNNING') {
      ctx.ui.out(`Restore job ${jobId} ${status.state.toLowerCase()}: ${status.summary ?? ''}`);
      return status;
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}
