/**
 * The commands that read and stop: `status`, `jobs`, `abort`, `policies`, `policies preview`, `verify`.
 */
import { policyPreviewPayload } from '../lib/operator-contract';
import { type Context, callControl, callHandler, failure } from './context';
import { formatDuration } from './durations';
import { CommandError, EXIT, type ExitCode, usageError } from './exit-codes';
import { countsLine, executionsTable, type ReportLike } from './report-view';
import { count } from './ui';
import { abortJob, describeEnd, exitOf, jobStatus, type JobStatus, watchJob } from './watch';

export async function status(ctx: Context, jobId: string, watch: boolean): Promise<ExitCode> {
  const { ui } = ctx;
  let current = await jobStatus(ctx, jobId);
  if (current.state === 'NOT_FOUND') throw new CommandError(`No job ${jobId}.`, EXIT.refused);
  if (watch && current.state === 'RUNNING') current = await watchJob(ctx, jobId);
  ui.out(
    ui.table(
      ['job', 'state', 'started', 'stopped', 'done', 'failed'],
      [
        [
          current.jobId,
          current.state,
          current.startedAt ?? '',
          current.stoppedAt ?? '',
          count(current.totals?.matched ?? 0),
          count(current.totals?.failed ?? 0),
        ],
      ],
    ),
  );
  describeEnd(ctx, current);
  if (ui.json) ui.result({ status: current });
  return current.state === 'RUNNING' ? EXIT.done : exitOf(current);
}

export async function jobs(ctx: Context, state: string | undefined, limit: number): Promise<ExitCode> {
  const { ui } = ctx;
  const answer = await callControl<{ jobs: readonly (JobStatus & { name?: string })[] }>(ctx, {
    jobs: { ...(state === undefined ? {} : { state: state.toUpperCase() }), limit },
  });
  const list = answer.jobs;
  if (ui.json) {
    ui.result({ jobs: list });
    return EXIT.done;
  }
  if (list.length === 0) {
    ui.out(state === undefined ? 'No jobs.' : `No ${state.toUpperCase()} jobs.`);
    return EXIT.done;
  }
  ui.out(
    ui.table(
      ['job', 'state', 'started', 'stopped'],
      list.map((j) => [j.jobId, j.state, j.startedAt ?? '', j.stoppedAt ?? '']),
    ),
  );
  return EXIT.done;
}

export async function abort(ctx: Context, jobId: string, reason: string | undefined): Promise<ExitCode> {
  if (reason === undefined || reason.trim() === '') {
    throw usageError('--reason', 'is required: it is recorded with the abort, beside who asked');
  }
  const outcome = await abortJob(ctx, jobId, reason);
  if (ctx.ui.json) ctx.ui.result({ abort: { jobId, outcome } });
  return EXIT.done;
}

function policiesOf(ctx: Context) {
  const policies = ctx.terminator.policies;
  if (policies === undefined) {
    throw usageError('--stack', 'policies are read from the stack: give --stack (or SWF_TERMINATOR_STACK)');
  }
  return policies;
}

export function listPolicies(ctx: Context): ExitCode {
  const { ui } = ctx;
  const policies = policiesOf(ctx);
  if (ui.json) {
    ui.result({ policies });
    return EXIT.done;
  }
  if (policies.length === 0) {
    ui.out('No policies deployed.');
    return EXIT.done;
  }
  const rows = policies.map((p) => {
    const request = p.request as {
      domain?: string;
      selector?: unknown;
      action?: string;
      maxExecutions?: number;
      dryRun?: boolean;
    };
    const trigger =
      p.trigger === 'schedule'
        ? `schedule ${p.schedule ?? ''}`
        : `events ${(p.eventTypes ?? []).join(',')}${p.schedule === undefined ? '' : ` + backstop ${p.schedule}`}`;
    const cap =
      p.breaker === undefined
        ? String(request.maxExecutions ?? '')
        : `${p.breaker.cap} per ${formatDuration(p.breaker.windowSeconds)}`;
    return [
      p.name,
      request.domain ?? '',
      trigger,
      JSON.stringify(request.selector ?? {}),
      request.action ?? 'terminate',
      cap,
      request.dryRun === false ? ui.c.red('live') : ui.c.green('dry run'),
    ];
  });
  ui.out(ui.table(['policy', 'domain', 'trigger', 'match', 'action', 'cap', 'mode'], rows));
  return EXIT.done;
}

export async function previewPolicy(ctx: Context, name: string, show: number): Promise<ExitCode> {
  const { ui } = ctx;
  const policy = policiesOf(ctx).find((p) => p.name === name);
  if (policy === undefined) {
    throw usageError(
      'policy',
      `no policy named "${name.slice(0, 40)}" (deployed: ${
        policiesOf(ctx)
          .map((p) => p.name)
          .join(', ') || 'none'
      })`,
    );
  }
  const answer = await callHandler(
    ctx,
    JSON.parse(policyPreviewPayload(policy.name, policy.request)) as unknown,
  );
  if (!answer.ok) throw failure(answer);
  const report = answer.value as ReportLike;
  if (ui.json) {
    ui.result({ preview: report });
    return EXIT.done;
  }
  ui.out(
    `Policy ${ui.c.bold(name)} would act on: ${countsLine(ui, report)} (${count(report.matched ?? 0)} matched now)`,
  );
  if (report.refused !== undefined) ui.out(ui.c.yellow(`A run now would be refused: ${report.refused}`));
  const executions = (report.executions ?? []).filter((e) => e.outcome.startsWith('would-'));
  if (executions.length > 0) ui.out(executionsTable(ui, executions, show));
  return EXIT.done;
}

interface VerifyReportLike {
  readonly ok: boolean;
  readonly checked: number;
  readonly passed: number;
  readonly failed: number;
  readonly results?: readonly { role: string; ok: boolean }[];
  readonly findings?: readonly { message: string }[];
  readonly failures?: readonly { message: string }[];
}

export async function verify(ctx: Context): Promise<ExitCode> {
  const { ui } = ctx;
  const fn = ctx.terminator.verifier;
  if (fn === undefined)
    throw usageError('--verifier-function', 'the verifier is found from --stack, or named here');
  ui.err('Verifying least privilege (IAM answers in seconds; a fresh deployment may take a minute)...');
  const answer = await ctx.aws.invoke(fn, {});
  if (!answer.ok) {
    if (ui.json) ui.result({ ok: false, errorType: answer.errorType, errorMessage: answer.errorMessage });
    ui.out(ui.c.red(`Least privilege NOT proven: ${answer.errorType}`));
    ui.out(answer.errorMessage);
    return EXIT.failed;
  }
  const report = answer.value as VerifyReportLike;
  if (ui.json) {
    ui.result(report);
    return report.ok ? EXIT.done : EXIT.failed;
  }
  const roles = new Map<string, { checks: number; passed: number }>();
  for (const r of report.results ?? []) {
    const entry = roles.get(r.role) ?? { checks: 0, passed: 0 };
    entry.checks += 1;
    if (r.ok) entry.passed += 1;
    roles.set(r.role, entry);
  }
  ui.out(
    ui.table(
      ['role', 'checks', 'passed', 'failed'],
      [...roles].map(([role, r]) => [role, count(r.checks), count(r.passed), count(r.checks - r.passed)]),
    ),
  );
  for (const f of [...(report.failures ?? []), ...(report.findings ?? [])])
    ui.out(ui.c.red(`  ${f.message}`));
  ui.out(
    report.ok
      ? ui.c.green(
          `Least privilege proven: ${count(report.passed)} of ${count(report.checked)} checks, no finding.`,
        )
      : ui.c.red('Least privilege NOT proven.'),
  );
  return report.ok ? EXIT.done : EXIT.failed;
}
