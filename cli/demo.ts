/**
 * `swf-terminator demo`: the command's real flow, with no AWS account. A terminator is synthesized with the
 * package's own construct and run on this machine (local/deployment.ts: a local SWF server, Step Functions
 * running the synthesized state machine, and the shipped handler bundle as the terminating and control
 * functions); a domain is planted with a thousand open executions, some tagged, some not; then the operator
 * goes through what they would do against AWS: a preview, the confirmation, a job with its progress bar, an
 * abort, the status, and what was left untouched. The same code as against AWS: only the endpoints differ.
 *
 * Bundled apart (assets/cli/demo.js) and loaded only by `demo`, so the command itself stays small. It needs
 * aws-cdk-lib (the construct's peer dependency) beside the package, to synthesize the terminator.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { type LocalDeployment, startLocalDeployment } from '../local/deployment';
import type { TemplateJson } from '../local/sfn';
import type { FakeExecution } from '../local/swf';
import { act } from './act';
import { awsClients } from './aws';
import type { Context } from './context';
import { CommandError, EXIT, type ExitCode } from './exit-codes';
import { status } from './operate';
import { count, type Ui } from './ui';
import { abortJob, jobStatus } from './watch';

const DOMAIN = 'demo';
const TAG = 'batch-42';
const ENV = { partition: 'aws', account: '123456789012', region: 'us-east-1' };
/** The executions planted: tagged (the request's target) and not. */
const TAGGED = 600;
const OTHERS = 400;

/** The package's root: this file is assets/cli/demo.js in it (or cli/demo.ts in the repository). */
const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

/** The two classes of the construct library the demo uses (loaded at run time, beside the package). */
interface ConstructLibrary {
  readonly App: new (props: { outdir: string }) => {
    synth(): { getStackByName(name: string): { template: unknown } };
  };
  readonly Stack: new (
    scope: unknown,
    id: string,
    props: { env: { account: string; region: string } },
  ) => unknown;
  readonly SwfTerminator: new (scope: unknown, id: string, props: Record<string, unknown>) => unknown;
}

/** Synthesizes a terminator of domain `demo` with the package's construct, into a temporary directory. */
function synthesize(outdir: string): TemplateJson {
  const libIndex = path.join(PACKAGE_ROOT, 'lib', 'index.js');
  const load = createRequire(libIndex);
  let library: ConstructLibrary;
  try {
    const cdk = load('aws-cdk-lib') as Pick<ConstructLibrary, 'App' | 'Stack'>;
    library = {
      ...cdk,
      SwfTerminator: (load(libIndex) as Pick<ConstructLibrary, 'SwfTerminator'>).SwfTerminator,
    };
  } catch (error) {
    throw new CommandError(
      `demo synthesizes a terminator with the construct, which needs aws-cdk-lib and constructs beside the package (npm install aws-cdk-lib constructs): ${(error as Error).message}`,
      EXIT.usage,
    );
  }
  const app = new library.App({ outdir });
  const stack = new library.Stack(app, 'Demo', { env: { account: ENV.account, region: ENV.region } });
  new library.SwfTerminator(stack, 'Terminator', { domains: [DOMAIN], maxExecutionsPerRequest: 5000 });
  return app.synth().getStackByName('Demo').template as TemplateJson;
}

/** A thousand open executions: the tagged ones the request will match, and others it must never touch. */
function planted(): FakeExecution[] {
  const now = Date.now() / 1000;
  const execution = (workflowId: string, tag: string, type: string, hoursAgo: number): FakeExecution => ({
    domain: DOMAIN,
    workflowId,
    runId: `run-${workflowId}`,
    workflowType: { name: type, version: '3' },
    startTimestamp: now - hoursAgo * 3600,
    tagList: [tag],
  });
  return [
    ...Array.from({ length: TAGGED }, (_, i) =>
      execution(`import-${1000 + i}`, TAG, 'ImportOrders', 1 + i / TAGGED),
    ),
    ...Array.from({ length: OTHERS }, (_, i) => execution(`checkout-${5000 + i}`, 'live', 'Checkout', 0.5)),
  ];
}

/**
 * Runs the walk-through. `yes`: no question, and the demo aborts the job itself once it is under way (for a
 * script, or a first look).
 */
export async function demo(ui: Ui, yes: boolean): Promise<ExitCode> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'swf-terminator-demo-'));
  let deployment: LocalDeployment | undefined;
  try {
    ui.out(
      ui.c.bold('swf-terminator demo') + ': a terminator deployed on this machine, no AWS account needed.',
    );
    ui.out(
      'Synthesizing it with the construct, and starting local SWF, Step Functions and its two functions...',
    );
    const template = synthesize(outdir);
    deployment = await startLocalDeployment({
      template,
      env: ENV,
      handlerBundle: path.join(PACKAGE_ROOT, 'assets', 'handler', 'index.js'),
      domains: [DOMAIN],
      // The default rate (50 a second), and a function timeout that leaves about 5 s of work per invocation:
      // a thousand executions become a job of a few chunks, as a larger request would in AWS.
      handlerTimeoutMs: 45_000,
    });
    deployment.swf.addExecutions(planted());
    ui.out(
      `Domain ${ui.c.bold(DOMAIN)} has ${count(TAGGED + OTHERS)} open executions: ${count(TAGGED)} tagged ${TAG} (ImportOrders), ${count(OTHERS)} tagged live (Checkout).`,
    );
    ui.out('');
    ui.out(`The request, as you would type it against AWS:`);
    ui.out(
      ui.c.cyan(`  swf-terminator terminate --domain ${DOMAIN} --tag ${TAG} --reason "demo: a bad batch"`),
    );
    ui.out(
      yes
        ? 'The demo answers for you and aborts the job part way.'
        : 'Confirm it, then press Ctrl-C while the job runs to try the abort.',
    );
    ui.out('');

    for (const [key, value] of Object.entries({
      AWS_ENDPOINT_URL_LAMBDA: deployment.lambda.endpoint,
      AWS_REGION: ENV.region,
      AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
      AWS_SECRET_ACCESS_KEY: 'local-secret',
    })) {
      process.env[key] = value;
    }
    const ctx: Context = {
      ui,
      aws: awsClients({}),
      terminator: {
        handler: deployment.handler,
        control: deployment.control,
        domains: [DOMAIN],
      },
    };
    let jobId: string | undefined;
    await act(
      ctx,
      { domain: DOMAIN, selector: { tag: TAG }, reason: 'demo: a bad batch' },
      {
        previewOnly: false,
        yes,
        confirmThreshold: 10,
        show: 5,
        onJob: (id) => {
          jobId = id;
          if (yes) abortPartWay(ctx, id);
        },
      },
    );
    if (jobId !== undefined) {
      ui.out('');
      ui.out(`The job's status, as ${ui.c.cyan(`swf-terminator status ${jobId}`)} shows it:`);
      await status(ctx, jobId, false);
    }
    untouched(ui, deployment);
    return EXIT.done;
  } finally {
    await deployment?.close();
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** With --yes: the demo's own abort, once a third of the job is done. */
function abortPartWay(ctx: Context, jobId: string): void {
  // Looks overlap (a status may take longer than the interval): only the first that sees a third done aborts.
  let sent = false;
  const timer = setInterval(() => {
    void jobStatus(ctx, jobId).then(async (s) => {
      if (sent || (s.totals?.matched ?? 0) < TAGGED / 3 || s.state !== 'RUNNING') return;
      sent = true;
      clearInterval(timer);
      await abortJob(ctx, jobId, 'demo: stopped part way');
    });
  }, 500);
  timer.unref();
}

/** What SWF shows now: what was terminated, what the abort left open, and what never matched. */
function untouched(ui: Ui, deployment: LocalDeployment): void {
  const open = deployment.swf.openExecutions(DOMAIN);
  const stillTagged = open.filter((e) => e.tagList?.includes(TAG)).length;
  const others = open.filter((e) => !(e.tagList?.includes(TAG) ?? false)).length;
  const terminations = deployment.swf.terminations;
  ui.out('');
  ui.out(ui.c.bold(`What SWF shows now in domain ${DOMAIN}:`));
  ui.out(
    `  ${TAG}: ${count(terminations.length)} terminated, ${count(stillTagged)} still open (not reached before the abort)`,
  );
  ui.out(`  live:     ${count(others)} of ${count(OTHERS)} still open: never matched, never touched`);
  const example = terminations[0];
  if (example !== undefined) {
    ui.out(
      `  ${example.workflowId} was terminated with reason "${example.reason ?? ''}"; its details start with who asked:`,
    );
    ui.out(ui.c.dim(`    ${(example.details ?? '').split('\n').slice(0, 2).join('\n    ')}`));
  }
}
