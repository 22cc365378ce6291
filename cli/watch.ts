/**
 * Following a job to its end: a progress bar (done / matched, rate per second, ETA, failed so far) drawn
 * from the control function's status every second, and, on Ctrl-C, the question whether to abort it (it
 * keeps running unless the operator says yes). Without a terminal, a line every few seconds instead.
 */
import { confirm, isCancel, text } from '@clack/prompts';
import { Presets, SingleBar } from 'cli-progress';
import { type Context, callControl } from './context';
import { formatDuration } from './durations';
import { EXIT, type ExitCode } from './exit-codes';
import { countsLine, type ReportLike } from './report-view';
import { count } from './ui';

/** A job's status as the control function answers it (lambda/flows/control.ts, `JobStatusAnswer`). */
export interface JobStatus {
  readonly jobId: string;
  readonly state: string;
  readonly totals?: ReportLike;
  readonly final?: boolean;
  readonly note?: string;
  readonly failures?: readonly { workflowId: string; runId?: string; error: string }[];
  readonly request?: { readonly maxExecutions?: number; readonly domain?: string };
  readonly abort?: { readonly reason?: string; readonly cause?: string };
  readonly error?: string;
  readonly cause?: string;
  readonly startedAt?: string;
  readonly stoppedAt?: string;
}

export const POLL_MS = 1000;
/** How long an ended job's final figures are waited for (they reach the log group within seconds). */
const FINAL_WAIT_MS = 30_000;

export async function jobStatus(ctx: Context, jobId: string): Promise<JobStatus> {
  return (await callControl<{ status: JobStatus }>(ctx, { status: { jobId } })).status;
}

/** The exit code a job that ended in `status` earns. */
export function exitOf(status: JobStatus): ExitCode {
  if (status.state === 'ABORTED') return EXIT.aborted;
  if (status.state === 'SUCCEEDED') return (status.totals?.failed ?? 0) > 0 ? EXIT.failed : EXIT.done;
  if (status.state === 'NOT_FOUND') return EXIT.refused;
  return EXIT.failed;
}

/** Asks whether to abort; sends the abort when the answer is yes. True if it was sent. */
async function offerAbort(ctx: Context, jobId: string): Promise<boolean> {
  const answer = await confirm({
    output: ctx.ui.promptOutput,
    message: `Abort job ${jobId}? (No leaves it running)`,
    initialValue: false,
  });
  if (isCancel(answer) || !answer) {
    ctx.ui.err('Left running.');
    return false;
  }
  const reason = await text({
    output: ctx.ui.promptOutput,
    message: 'Reason for the abort (recorded with who asked):',
    defaultValue: 'aborted by an operator (swf-terminator)',
    placeholder: 'aborted by an operator (swf-terminator)',
  });
  if (isCancel(reason)) {
    ctx.ui.err('Left running.');
    return false;
  }
  await abortJob(ctx, jobId, reason);
  return true;
}

export async function abortJob(ctx: Context, jobId: string, reason: string): Promise<string> {
  const answer = await callControl<{ abort: { outcome: string; state?: string } }>(ctx, {
    abort: { jobId, reason },
  });
  const { outcome, state } = answer.abort;
  ctx.ui.err(
    outcome === 'stopped'
      ? ctx.ui.c.yellow(`Abort sent: job ${jobId} stops within 2 s (no new termination starts).`)
      : outcome === 'recorded'
        ? ctx.ui.c.yellow(`Abort recorded: no delivery of request ${jobId} acts any more.`)
        : `Job ${jobId} had already ended (${state ?? 'done'}).`,
  );
  return outcome;
}

/**
 * Watches job `jobId` until it ends and its figures are final; `total`: the executions the operator
 * confirmed (else the request's maxExecutions). Returns the ended status.
 */
export async function watchJob(ctx: Context, jobId: string, total?: number): Promise<JobStatus> {
  const { ui } = ctx;
  // An object, not a variable: the signal handler sets it while the loop below awaits.
  const signal = { interrupted: false };
  const onSigint = () => {
    signal.interrupted = true;
  };
  process.on('SIGINT', onSigint);
  const started = Date.now();
  const firstDone = { at: 0, done: -1 };
  let bar: SingleBar | undefined;
  let barStarted = false;
  let lastLine = 0;
  let endedAt: number | undefined;
  try {
    for (;;) {
      const status = await jobStatus(ctx, jobId);
      const totals = status.totals ?? {};
      const done = totals.matched ?? 0;
      const goal = Math.max(total ?? status.request?.maxExecutions ?? done, done);
      if (firstDone.done < 0) Object.assign(firstDone, { at: Date.now(), done });
      const seconds = (Date.now() - firstDone.at) / 1000;
      const rate = seconds > 0 ? (done - firstDone.done) / seconds : 0;
      const payload = {
        rate: rate.toFixed(1),
        eta: rate > 0 ? formatDuration((goal - done) / rate) : '?',
        failed: count(totals.failed ?? 0),
      };
      if (!ui.json && ui.interactive) {
        bar ??= new SingleBar(
          {
            format: `Job ${jobId} |{bar}| {value}/{total} · {rate}/s · ETA {eta} · failed {failed}`,
            hideCursor: true,
            clearOnComplete: false,
            barsize: 30,
          },
          Presets.shades_classic,
        );
        if (!barStarted) {
          bar.start(goal, done, payload);
          barStarted = true;
        }
        bar.setTotal(goal);
        bar.update(done, payload);
      } else if (!ui.json && Date.now() - lastLine >= 5000) {
        lastLine = Date.now();
        ui.out(`job ${jobId}: ${count(done)}/${count(goal)} · ${payload.rate}/s · failed ${payload.failed}`);
      }
      if (status.state !== 'RUNNING' && status.state !== 'NOT_FOUND') {
        endedAt ??= Date.now();
        if (status.final === true || Date.now() - endedAt > FINAL_WAIT_MS) {
          bar?.stop();
          return status;
        }
      }
      if (status.state === 'NOT_FOUND' && Date.now() - started > FINAL_WAIT_MS) {
        bar?.stop();
        return status;
      }
      if (signal.interrupted) {
        signal.interrupted = false;
        bar?.stop();
        bar = undefined;
        barStarted = false;
        if (!ui.interactive) {
          ui.err(
            `Stopped watching; job ${jobId} is still running. Stop it: swf-terminator abort ${jobId} --reason "..."`,
          );
          return status;
        }
        await offerAbort(ctx, jobId);
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    process.off('SIGINT', onSigint);
    bar?.stop();
  }
}

/** The end of a job, in words, and its failures. */
export function describeEnd(ctx: Context, status: JobStatus): void {
  const { ui } = ctx;
  const state =
    status.state === 'SUCCEEDED'
      ? ui.c.green('SUCCEEDED')
      : status.state === 'ABORTED'
        ? ui.c.yellow('ABORTED')
        : ui.c.red(status.state);
  ui.out(`Job ${status.jobId} ${state}: ${countsLine(ui, status.totals ?? {})}`);
  if (status.abort !== undefined) ui.out(`  abort: ${status.abort.reason ?? status.abort.cause ?? ''}`);
  if (status.final === false && status.note !== undefined) ui.out(`  ${status.note}`);
  if (status.error !== undefined) ui.out(`  ${status.error}: ${(status.cause ?? '').slice(0, 300)}`);
  for (const f of (status.failures ?? []).slice(0, 20)) {
    ui.out(ui.c.red(`  failed ${f.workflowId} ${f.runId ?? ''}: ${f.error}`));
  }
}
