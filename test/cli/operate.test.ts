/**
 * The rest of the command, as shipped, against the local deployment (test/support/operator-world.ts):
 * `policies` and `policies preview` and `verify` in a real terminal; and what scripts rely on, without a
 * terminal: no question is ever answered for them (no --yes, nothing sent), `--json`, the exit codes, a
 * refusal shown as the terminator worded it (the field and the rule), a list on standard input, cancel.
 */
import { execFile } from 'node:child_process';
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { PolicyAction, PolicyTrigger, SwfEventType } from '../../lib';
import { functionOf } from '../support/construct-helpers';
import type { FakeExecution } from '../support/fake-swf';
import { CLI_BUNDLE, openExecutions, useOperatorWorld } from '../support/operator-world';

/** Runs the command without a terminal (as a script does): its exit code and outputs. */
function script(args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI_BUNDLE, ...args],
      { env: { PATH: process.env.PATH ?? '', ...worldOf().cliEnv }, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
    child.stdin?.end(input);
  });
}

const hoursAgo = (hours: number) => Date.now() / 1000 - hours * 3600;

const { world: worldOf, terminal } = useOperatorWorld({
  props: { allowCancelRequests: true },
  addPolicies: (terminator) => {
    terminator.addPolicy('StuckImports', {
      domain: 'orders',
      trigger: PolicyTrigger.schedule(events.Schedule.rate(Duration.minutes(15))),
      match: { tag: 'nightly', openLongerThan: Duration.hours(6) },
      action: PolicyAction.terminate({ reason: 'stuck (RB-12)' }),
      maxExecutions: 200,
    });
    terminator.addPolicy('RetireCheckoutV1', {
      domain: 'billing',
      trigger: PolicyTrigger.onExecutionEvent([SwfEventType.WORKFLOW_EXECUTION_STARTED]),
      match: { workflowType: { name: 'Checkout', version: '1' } },
      action: PolicyAction.terminate({}),
      maxExecutions: 20,
      dryRun: false,
    });
  },
});

describe('in a terminal', () => {
  test('policies lists each deployed policy: trigger, match, action, cap, dry run or live', async () => {
    const session = terminal('policies');
    expect(await session.exitCode()).toBe(0);
    const screen = session.screen();
    expect(screen).toMatch(
      /StuckImports\s.*orders\s.*schedule rate\(15 minutes\)\s.*"tag":"nightly".*terminate\s.*200\s.*dry run/,
    );
    expect(screen).toMatch(
      /RetireCheckoutV1\s.*billing\s.*events WorkflowExecutionStarted \+ backstop rate\(1 hour\).*"Checkout".*terminate\s.*20 per 1h\s.*live/,
    );
  });

  test('policies preview runs the policy now and shows what it would act on, touching nothing', async () => {
    // GIVEN nightly executions open 7 hours (matched), 1 hour (too young) and an old untagged one
    const old: FakeExecution[] = openExecutions(3, 'nightly', 'stuck').map((e) => ({
      ...e,
      startTimestamp: hoursAgo(7),
    }));
    const young = openExecutions(2, 'nightly', 'young');
    const untagged = { ...openExecutions(1, 'other', 'untagged')[0]!, startTimestamp: hoursAgo(7) };
    worldOf().swf.addExecutions([...old, ...young, untagged]);

    const session = terminal('policies', 'preview', 'StuckImports');
    expect(await session.exitCode()).toBe(0);
    const screen = session.screen();
    expect(screen).toContain('Policy StuckImports would act on: would terminate 3 (3 matched now)');
    for (const id of ['stuck-0', 'stuck-1', 'stuck-2']) expect(screen).toContain(id);
    for (const id of ['young-0', 'untagged-0']) expect(screen).not.toContain(id);
    expect(worldOf().swf.terminations).toHaveLength(0);
  });

  test('verify runs the least-privilege verifier and shows its result by role', async () => {
    const session = terminal('verify');
    expect(await session.exitCode(60_000)).toBe(0);
    const screen = session.screen();
    expect(screen).toMatch(/handler\s.*\d+\s.*\d+\s.*0/);
    expect(screen).toMatch(/Least privilege proven: [\d,]+ of [\d,]+ checks, no finding\./);
  });
});

describe('without a terminal (scripts)', () => {
  test('without --yes nothing is sent, and the command says how to act anyway (exit 4)', async () => {
    worldOf().swf.addExecutions(openExecutions(5, 'script-1'));
    const before = worldOf().requestsActedOn().length;
    const { code, stderr } = await script(['terminate', '--domain', 'orders', '--tag', 'script-1']);
    expect(code).toBe(4);
    expect(stderr).toContain('Not confirmed: no terminal to ask on. Add --yes');
    expect(worldOf().requestsActedOn()).toHaveLength(before);
    expect(worldOf().swf.terminations.filter((t) => t.workflowId.startsWith('script-1-'))).toHaveLength(0);
  });

  test('--yes --json acts on what the preview counted and prints one JSON document', async () => {
    worldOf().swf.addExecutions(openExecutions(5, 'script-2'));
    const { code, stdout } = await script([
      '--json',
      'terminate',
      '--domain',
      'orders',
      '--tag',
      'script-2',
      '--yes',
    ]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { report: { terminated: number; dryRun: boolean } };
    expect(result.report).toMatchObject({ terminated: 5, dryRun: false });
    expect(worldOf().swf.terminations.filter((t) => t.workflowId.startsWith('script-2-'))).toHaveLength(5);
  });

  test('a list on standard input is terminated by workflowId', async () => {
    worldOf().swf.addExecutions(openExecutions(3, 'stdin'));
    const { code, stdout } = await script(
      ['terminate', '--domain', 'orders', '--file', '-', '--yes'],
      'stdin-0\nstdin-2 run-stdin-2\n',
    );
    expect(code).toBe(0);
    expect(stdout).toContain('Done: terminated 2.');
    expect(
      worldOf()
        .swf.terminations.filter((t) => t.workflowId.startsWith('stdin-'))
        .map((t) => t.workflowId)
        .sort(),
    ).toEqual(['stdin-0', 'stdin-2']);
  });

  test('cancel asks SWF to cancel what the preview counted', async () => {
    worldOf().swf.addExecutions(openExecutions(4, 'cancel-1'));
    const { code, stdout } = await script(['cancel', '--domain', 'orders', '--tag', 'cancel-1', '--yes']);
    expect(code).toBe(0);
    expect(stdout).toContain('Done: asked to cancel 4.');
    expect(
      worldOf()
        .swf.cancellations()
        .filter((c) => c.workflowId.startsWith('cancel-1-')),
    ).toHaveLength(4);
    expect(worldOf().swf.terminations.filter((t) => t.workflowId.startsWith('cancel-1-'))).toHaveLength(0);
  });

  test.each([
    [
      'a domain the terminator may not act in',
      ['terminate', '--domain', 'payments', '--tag', 't', '--yes'],
      /Refused: .*payments/,
    ],
    [
      'a value the request refuses',
      ['terminate', '--domain', 'orders', '--tag', 't', '--started-before', 'yesterday', '--yes'],
      /Refused: .*selector\.startedBefore/,
    ],
  ])('%s is refused with the field and the rule (exit 2), nothing acted on', async (_case, args, message) => {
    const before = worldOf().requestsActedOn().length;
    const { code, stderr } = await script(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(worldOf().requestsActedOn()).toHaveLength(before);
  });

  test('--function names the terminator without its stack: the same request, no CloudFormation call', async () => {
    worldOf().swf.addExecutions(openExecutions(2, 'by-name'));
    const calls = worldOf().cloudFormation.calls.length;
    const handler = functionOf(worldOf().template, 'handler').logicalId;
    const { code, stdout } = await script([
      '--function',
      handler,
      'terminate',
      '--domain',
      'orders',
      '--tag',
      'by-name',
      '--yes',
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain('Done: terminated 2.');
    expect(worldOf().cloudFormation.calls).toHaveLength(calls);
  });

  test('a real request whose answer is lost is not sent again, and the command says where to look (exit 5)', async () => {
    worldOf().swf.addExecutions(openExecutions(3, 'lost'));
    const isReal = (_fn: string, event: unknown) =>
      typeof event === 'object' && event !== null && (event as { dryRun?: unknown }).dryRun !== true;
    const undo = worldOf().lambda.loseAnswers(isReal);
    const before = worldOf().requestsActedOn().length;
    try {
      const { code, stderr } = await script(['terminate', '--domain', 'orders', '--tag', 'lost', '--yes']);
      expect(code).toBe(5);
      expect(stderr).toContain('No answer came back for the request');
      expect(stderr).toContain('it is not sent again. It may have run: see swf-terminator jobs');
    } finally {
      undo();
    }
    // The request ran once (its answer was lost after it did) and was never sent a second time.
    expect(worldOf().requestsActedOn()).toHaveLength(before + 1);
    expect(worldOf().swf.terminations.filter((t) => t.workflowId.startsWith('lost-'))).toHaveLength(3);
  });

  test('a usage error names the flag (exit 64); a stack that does not exist is an AWS error (exit 5)', async () => {
    const usage = await script(['terminate', '--tag', 't']);
    expect(usage.code).toBe(64);
    expect(usage.stderr).toContain('--domain: is required');
    const missing = await script(['--stack', 'NoSuchStack', 'jobs']);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain('Stack with id NoSuchStack does not exist');
  });
});
