/**
 * `swf-terminator`: the operator's command line for a deployed SwfTerminator. It talks to the terminator's
 * functions through Lambda's Invoke (they do all the work, under their own least-privilege roles) and finds
 * them in the stack with CloudFormation's reads. Bundled into one file (assets/cli/swf-terminator.js) with
 * every library it uses, so installing the package installs nothing more. Node.js 20 or newer.
 */
import * as fs from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { act } from './act';
import { awsClients } from './aws';
import type { Context } from './context';
import { CommandError, EXIT, EXIT_CODES_HELP, type ExitCode } from './exit-codes';
import { locate, type LocateFlags } from './locate';
import { abort, jobs, listPolicies, previewPolicy, status, verify } from './operate';
import { type CommandAction, type RequestFlags, requestFromFlags } from './request-flags';
import { restore } from './restore';
import { terminalUi } from './ui';

interface GlobalFlags extends LocateFlags {
  readonly region?: string;
  readonly profile?: string;
  readonly json?: boolean;
}

interface ActFlags extends RequestFlags {
  readonly yes?: boolean;
  readonly confirmThreshold: string;
  readonly show: string;
}

const readText = (path: string) => fs.readFileSync(path === '-' ? 0 : path, 'utf8');

function addTargetOptions(command: Command, action: CommandAction | 'preview'): Command {
  command
    .option('--domain <name>', 'the SWF domain (request field domain)')
    .option('--workflow-id <id>', 'one execution (workflowId)')
    .option('--run-id <id>', 'its run (runId); without it, the run open when the request is made')
    .option(
      '--file <path>',
      'a list (executions): JSON, or one "workflowId [runId]" per line; - reads standard input',
    )
    .option('--tag <tag>', 'selector: executions with this tag (selector.tag)')
    .option('--type <name[:version]>', 'selector: of this workflow type (selector.workflowType)')
    .option('--id-prefix <prefix>', 'selector: workflowId starts with (selector.workflowIdPrefix)')
    .option('--started-after <iso>', 'selector: started at or after (selector.startedAfter, ISO 8601)')
    .option('--started-before <iso>', 'selector: started at or before (selector.startedBefore, ISO 8601)')
    .option(
      '--open-longer-than <duration>',
      'selector: open longer than, e.g. 6h (selector.openLongerThanSeconds)',
    )
    .option('--stalled', 'selector: nothing open that would move it (selector.stalled)')
    .option(
      '--idle-longer-than <duration>',
      'selector: no activity scheduled for, e.g. 2h (selector.idleLongerThanSeconds)',
    )
    .option('--reason <text>', 'recorded with every execution acted on (reason)')
    .option('--request <file>', 'send this JSON request file as it is (no other request flag)');
  if (action !== 'cancel') {
    command.option('--details <text>', 'details for each termination (details)');
  }
  command.option('--child-policy <policy>', 'TERMINATE, REQUEST_CANCEL or ABANDON (childPolicy)');
  if (action === 'cancel') {
    command.option(
      '--then-terminate-after <duration>',
      'terminate what is still open this long after asking (cancelThenTerminate)',
    );
  }
  if (action !== 'preview') {
    command
      .option('-y, --yes', 'no question: act on what the preview counted (for scripts)')
      .option('--confirm-threshold <n>', 'above this many executions, type the domain name to confirm', '10');
  }
  command.option('--show <n>', 'executions listed in the preview', '10');
  return command;
}

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new CommandError(`${flag}: must be a whole number (got "${value.slice(0, 20)}")`, EXIT.usage);
  return n;
}

export function program(run: (code: ExitCode) => void): Command {
  const root = new Command('swf-terminator')
    .description(
      'Preview, confirm, watch and stop terminations of Amazon SWF workflow executions, through a deployed SwfTerminator.',
    )
    .option('--stack <name>', 'the stack of the terminator (default: $SWF_TERMINATOR_STACK)')
    .option('--terminator <path>', 'its construct path, when the stack holds several')
    .option('--function <name>', 'the terminating function, instead of --stack')
    .option('--control-function <name>', 'with --function: the control function (status, jobs, abort)')
    .option('--verifier-function <name>', 'with --function: the verifier')
    .option('--restore-function <name>', 'with --function: the restore function (allowRestore)')
    .option('--region <region>', 'AWS region (default: the SDK settings)')
    .option('--profile <name>', 'AWS profile (default: the SDK settings)')
    .option('--json', 'JSON on standard output, for scripts')
    .addHelpText('after', `\n${EXIT_CODES_HELP}`)
    .exitOverride()
    .showHelpAfterError(false);

  const withContext =
    <A extends unknown[]>(body: (ctx: Context, ...args: A) => Promise<ExitCode> | ExitCode) =>
    async (...args: A) => {
      const flags = root.opts<GlobalFlags>();
      const ui = terminalUi(flags.json === true);
      const aws = awsClients({
        ...(flags.region === undefined ? {} : { region: flags.region }),
        ...(flags.profile === undefined ? {} : { profile: flags.profile }),
      });
      const terminator = await locate(flags, aws.cloudFormation);
      run(await body({ ui, aws, terminator }, ...args));
    };

  const actOn = (action: CommandAction | 'preview') =>
    withContext(async (ctx, ...args: unknown[]) => {
      const flags = (args[args.length - 1] as Command).opts<ActFlags>();
      const request = requestFromFlags(flags, action === 'preview' ? 'terminate' : action, readText);
      return act(ctx, request, {
        previewOnly: action === 'preview',
        yes: flags.yes === true,
        confirmThreshold: positiveInt('--confirm-threshold', flags.confirmThreshold),
        show: positiveInt('--show', flags.show),
      });
    });

  addTargetOptions(
    root.command('terminate').description('preview, confirm, then terminate (TerminateWorkflowExecution)'),
    'terminate',
  ).action(actOn('terminate'));
  addTargetOptions(
    root
      .command('cancel')
      .description('preview, confirm, then ask to cancel (--then-terminate-after: cancelThenTerminate)'),
    'cancel',
  ).action(actOn('cancel'));
  addTargetOptions(
    root.command('preview').description('show what a terminate would act on; acts on nothing'),
    'preview',
  ).action(actOn('preview'));

  root
    .command('status <jobId>')
    .description("a job's state and totals (--watch: follow it with a progress bar)")
    .option('--watch', 'follow it until it ends; Ctrl-C offers to abort it')
    .action(
      withContext((ctx, jobId: string, opts: { watch?: boolean }) => status(ctx, jobId, opts.watch === true)),
    );
  root
    .command('jobs')
    .description('recent jobs, newest first')
    .addOption(
      new Option('--state <state>', 'only jobs in this state').choices([
        'RUNNING',
        'SUCCEEDED',
        'FAILED',
        'TIMED_OUT',
        'ABORTED',
        'running',
        'succeeded',
        'failed',
        'timed_out',
        'aborted',
      ]),
    )
    .option('--limit <n>', 'at most this many (1-100)', '20')
    .action(
      withContext((ctx, opts: { state?: string; limit: string }) =>
        jobs(ctx, opts.state, positiveInt('--limit', opts.limit)),
      ),
    );
  root
    .command('abort <jobId>')
    .description('stop a job: no new termination starts within 2 s; recorded with the reason and who asked')
    .option('--reason <text>', 'why (required)')
    .action(withContext((ctx, jobId: string, opts: { reason?: string }) => abort(ctx, jobId, opts.reason)));
  const policies = root
    .command('policies')
    .description('the deployed termination policies (trigger, match, action, cap, dry run or live)')
    .action(withContext((ctx) => listPolicies(ctx)));
  policies
    .command('preview <name>')
    .description("run a policy's preview now: what it would act on, touching nothing")
    .option('--show <n>', 'executions listed', '10')
    .action(
      withContext((ctx, name: string, opts: { show: string }) =>
        previewPolicy(ctx, name, positiveInt('--show', opts.show)),
      ),
    );
  root
    .command('demo')
    .description(
      'try it with no AWS account: a terminator on this machine, a thousand executions, the whole flow',
    )
    .option('-y, --yes', 'answer for me, and abort the job part way')
    .action(async (opts: { yes?: boolean }) => {
      const ui = terminalUi(root.opts<GlobalFlags>().json === true);
      // Loaded only here: the local servers are a bundle of their own (assets/cli/demo.js).
      const { demo } = await import('./demo');
      run(await demo(ui, opts.yes === true));
    });
  root
    .command('restore [jobId]')
    .description(
      "undo a job's (or --policy's) terminations: preview, confirm, then start each run again as it was started",
    )
    .option('--policy <name>', "a policy's terminations instead of a job's (with --closed-after)")
    .option('--domain <name>', "the domain (default: the job's, or the terminator's only one)")
    .option('--closed-after <iso>', 'terminations closed at or after (default: from the job)')
    .option('--closed-before <iso>', "terminations closed at or before (default: the job's end, or now)")
    .option(
      '--include-children',
      "start children their parent's termination closed too (default: report them)",
    )
    .option('--reason <text>', 'why (logged with every run started)')
    .option('--preview', 'show what would start; start nothing')
    .option('-y, --yes', 'no question: start what the preview counted (for scripts)')
    .option('--confirm-threshold <n>', 'above this many runs, type the domain name to confirm', '10')
    .option('--show <n>', 'runs listed', '10')
    .action(
      withContext(
        (
          ctx,
          jobId: string | undefined,
          opts: {
            policy?: string;
            domain?: string;
            closedAfter?: string;
            closedBefore?: string;
            includeChildren?: boolean;
            reason?: string;
            preview?: boolean;
            yes?: boolean;
            confirmThreshold: string;
            show: string;
          },
        ) =>
          restore(ctx, {
            ...(jobId === undefined ? {} : { jobId }),
            ...(opts.policy === undefined ? {} : { policy: opts.policy }),
            ...(opts.domain === undefined ? {} : { domain: opts.domain }),
            ...(opts.closedAfter === undefined ? {} : { closedAfter: opts.closedAfter }),
            ...(opts.closedBefore === undefined ? {} : { closedBefore: opts.closedBefore }),
            ...(opts.reason === undefined ? {} : { reason: opts.reason }),
            includeChildren: opts.includeChildren === true,
            previewOnly: opts.preview === true,
            yes: opts.yes === true,
            confirmThreshold: positiveInt('--confirm-threshold', opts.confirmThreshold),
            show: positiveInt('--show', opts.show),
          }),
      ),
    );
  root
    .command('verify')
    .description('run the least-privilege verifier and show its result')
    .action(withContext((ctx) => verify(ctx)));
  return root;
}

/** Runs the command line; resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<ExitCode> {
  let code: ExitCode = EXIT.done;
  const root = program((c) => {
    code = c;
  });
  try {
    await root.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end "successfully"; anything else commander refused is a usage error.
      return error.exitCode === 0 ? EXIT.done : EXIT.usage;
    }
    if (error instanceof CommandError) {
      process.stderr.write(`${error.message}\n`);
      return error.exitCode;
    }
    const name = (error as { name?: string }).name ?? 'Error';
    process.stderr.write(`AWS answered an error: ${name}: ${(error as Error).message}\n`);
    return EXIT.unreachable;
  }
}

if (require.main === module) {
  // The SDK warns on every run that a future version needs Node.js 22: true, and nothing an operator at the
  // prompt can act on (the package supports Node.js 20 while Node.js does). Silenced unless set otherwise.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  void main(process.argv.slice(2)).then((code) => {
    process.exit(code);
  });
}
