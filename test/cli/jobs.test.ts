/**
 * A request that becomes a job, followed from the command as an operator sees it in a real terminal (tmux):
 * the progress bar moves, Ctrl-C asks whether to abort (No leaves the job running; Yes stops it, with the
 * reason typed), and `status` and `jobs` show what the job did. The terminating function's timeout is cut
 * short here, so that 2,000 executions outgrow one invocation and run as a job on the local state machine.
 */
import type { TmuxSession } from '../support/tmux';
import { openExecutions, useOperatorWorld } from '../support/operator-world';

const { world: worldOf, terminal } = useOperatorWorld({
  props: { maxExecutionsPerRequest: 5000 },
  // 100 terminations a second, and about 5 s of work per invocation (45 s, less the 40 s end reserve).
  handlerEnv: { TERMINATE_RATE_PER_SECOND: '100', TERMINATE_BURST: '20' },
  handlerTimeoutMs: 45_000,
});

/** The job's progress as the bar shows it: `done/total`, the last drawn. */
function progressOf(screen: string): { done: number; total: number } | undefined {
  const all = [...screen.matchAll(/\| (\d+)\/(\d+) · /g)];
  const last = all[all.length - 1];
  return last === undefined ? undefined : { done: Number(last[1]), total: Number(last[2]) };
}

async function waitForProgress(session: TmuxSession, atLeast: number): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const progress = progressOf(session.screen());
    if (progress !== undefined && progress.done >= atLeast) return progress.done;
    if (Date.now() > deadline) throw new Error(`the bar never reached ${atLeast}:\n${session.screen()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('a job shows a moving progress bar; Ctrl-C asks, No leaves it running, Yes aborts it with the reason', async () => {
  // GIVEN 2,000 open executions tagged nightly-3, confirmed
  worldOf().swf.addExecutions(openExecutions(2000, 'nightly-3'));
  const session = terminal(
    'terminate',
    '--domain',
    'orders',
    '--tag',
    'nightly-3',
    '--reason',
    'runaway import',
  );
  await session.waitFor('Terminate 2,000 executions in domain orders?');
  session.type('orders');

  // THEN the request becomes a job, and its bar moves
  const screen = await session.waitFor(/Job \S+ started/);
  const jobId = /Job (\S+) started/.exec(screen)![1]!;
  const first = await waitForProgress(session, 1);
  await waitForProgress(session, first + 100);
  expect(progressOf(session.screen())?.total).toBe(2000);

  // WHEN the operator presses Ctrl-C and answers No
  session.press('C-c');
  await session.waitFor(`Abort job ${jobId}?`);
  session.press('n');
  await session.waitFor('Left running.');

  // THEN the job goes on, and the bar with it
  const resumed = await waitForProgress(session, 1);
  await waitForProgress(session, resumed + 100);

  // WHEN the operator presses Ctrl-C again, answers Yes and types the reason
  session.press('C-c');
  await session.waitFor(/Abort job \S+\?[^]*Abort job \S+\?/);
  session.press('y');
  await session.waitFor('Reason for the abort');
  session.type('wrong tag (INC-7)');

  // THEN the job ends ABORTED, with the reason, short of the 2,000, and the command says so (exit 3)
  expect(await session.exitCode(60_000)).toBe(3);
  const end = session.screen();
  expect(end).toContain('Abort sent');
  expect(end).toMatch(new RegExp(`Job ${jobId} ABORTED: terminated [\\d,]+`));
  expect(end).toContain('abort: wrong tag (INC-7)');
  const terminated = worldOf().swf.terminations.filter((t) => t.workflowId.startsWith('nightly-3-')).length;
  expect(terminated).toBeGreaterThan(0);
  expect(terminated).toBeLessThan(2000);
  // AND nothing more is terminated after the abort (the job stopped)
  await new Promise((resolve) => setTimeout(resolve, 3000));
  expect(worldOf().swf.terminations.filter((t) => t.workflowId.startsWith('nightly-3-')).length).toBe(
    terminated,
  );

  // WHEN the operator asks for the job's status, and the list of aborted jobs
  const status = terminal('status', jobId);
  expect(await status.exitCode()).toBe(3);
  expect(status.screen()).toContain('ABORTED');
  expect(status.screen()).toMatch(
    new RegExp(`Job ${jobId} ABORTED: terminated ${terminated.toLocaleString('en-US')}`),
  );
  const jobs = terminal('jobs', '--state', 'aborted');
  expect(await jobs.exitCode()).toBe(0);
  expect(jobs.screen()).toContain(jobId);
}, 120_000);

test('abort JOB --reason stops a job that another terminal watches', async () => {
  // GIVEN a job running, started with --yes, watched with status --watch
  worldOf().swf.addExecutions(openExecutions(2000, 'nightly-4'));
  const starter = terminal('terminate', '--domain', 'orders', '--tag', 'nightly-4', '--yes');
  const jobId = /Job (\S+) started/.exec(await starter.waitFor(/Job \S+ started/))![1]!;
  const watcher = terminal('status', jobId, '--watch');
  await waitForProgress(watcher, 1);

  // WHEN another operator aborts it
  const aborter = terminal('abort', jobId, '--reason', 'stop now');
  expect(await aborter.exitCode()).toBe(0);
  expect(aborter.screen()).toContain(`Abort sent: job ${jobId} stops within 2 s`);

  // THEN both the starter and the watcher see it end ABORTED (exit 3)
  expect(await watcher.exitCode(60_000)).toBe(3);
  expect(await starter.exitCode(60_000)).toBe(3);
  expect(watcher.screen()).toContain('abort: stop now');
}, 120_000);
