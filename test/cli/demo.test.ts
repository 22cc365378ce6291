/**
 * `swf-terminator demo`, as a newcomer runs it: no AWS settings at all, a real terminal (tmux). The demo
 * deploys a terminator on the machine and walks through the real flow: the preview, the confirmation typed,
 * the job's progress bar, Ctrl-C and the abort, the status, and what was left untouched.
 */
import * as path from 'node:path';
import { TmuxSession } from '../support/tmux';

const CLI = path.resolve(__dirname, '..', '..', 'assets', 'cli', 'swf-terminator.js');
let session: TmuxSession | undefined;

afterEach(() => {
  session?.kill();
});

test('the demo walks through preview, confirmation, a job, an abort, its status and what was left untouched', async () => {
  // GIVEN no AWS settings, only the package
  session = TmuxSession.start([process.execPath, CLI, 'demo'], {});

  // WHEN the newcomer confirms with the domain's name
  const preview = await session.waitFor('Type the domain name to confirm', 60_000);
  expect(preview).toContain('Domain demo has 1,000 open executions: 600 tagged batch-42');
  expect(preview).toContain('Preview in domain demo: 600 matched');
  session.type('demo');

  // AND presses Ctrl-C once the job's bar moves, and aborts it with a reason
  await session.waitFor(/\| ([1-9]\d*)\/600 · /, 60_000);
  session.press('C-c');
  await session.waitFor(/Abort job \S+\?/);
  session.press('y');
  await session.waitFor('Reason for the abort');
  session.type('trying the abort');

  // THEN the job ends ABORTED with that reason, its status is shown, and what SWF shows adds up
  expect(await session.exitCode(90_000)).toBe(0);
  const screen = session.screen();
  expect(screen).toMatch(/Job \S+ ABORTED: terminated \d+/);
  expect(screen).toContain('abort: trying the abort');
  expect(screen).toContain("The job's status, as swf-terminator status");
  const [, terminated, open] = /batch-42: (\d+) terminated, (\d+) still open/.exec(screen) ?? [];
  expect(Number(terminated)).toBeGreaterThan(0);
  expect(Number(terminated) + Number(open)).toBe(600);
  expect(screen).toContain('live:     400 of 400 still open: never matched, never touched');
  expect(screen).toContain('--- cdk-swf-terminator provenance ---');
}, 180_000);
