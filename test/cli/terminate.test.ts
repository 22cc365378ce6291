/**
 * `swf-terminator terminate`, as an operator runs it: the command bundled as shipped, in a real terminal
 * (tmux), against a deployed terminator made of local servers (test/support/operator-world.ts). The preview
 * shows what matched, the operator types the confirmation, and the real request carries the count seen as its
 * bound: exactly what was confirmed is terminated, a wrong answer terminates nothing, and a request that
 * matches more by then is refused whole.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI_BUNDLE, openExecutions, useOperatorWorld } from '../support/operator-world';
import { TmuxSession } from '../support/tmux';

const terminatedWithTag = (tag: string) =>
  worldOf().swf.terminations.filter((t) => t.workflowId.startsWith(`${tag}-`));

// A rate the local SWF takes (it has no quota here), so 1,200 terminations take seconds, not 24.
const { world: worldOf, terminal } = useOperatorWorld({
  props: { maxExecutionsPerRequest: 5000 },
  handlerEnv: { TERMINATE_RATE_PER_SECOND: '2000', TERMINATE_BURST: '2000' },
});

test('a preview that matches 1,200 and a confirmation of "orders" terminate exactly those 1,200', async () => {
  // GIVEN 1,200 open executions tagged batch-7, and 300 beside them that the selector does not match
  worldOf().swf.addExecutions([...openExecutions(1200, 'batch-7'), ...openExecutions(300, 'batch-6')]);

  // WHEN the operator asks to terminate the tag, and sees the preview
  const session = terminal(
    'terminate',
    '--domain',
    'orders',
    '--tag',
    'batch-7',
    '--reason',
    'bad deploy (INC-42)',
  );
  const screen = await session.waitFor('Type the domain name to confirm');

  // THEN the preview names the domain, the count and the first executions, with their type and tags
  expect(screen).toContain('Preview in domain orders: 1,200 matched, 1,200 would be acted on');
  expect(screen).toMatch(/batch-7-1199\s.*OrderFlow:1.*batch-7/);
  expect(screen).toContain('Terminate 1,200 executions in domain orders?');
  expect(worldOf().swf.terminations).toHaveLength(0);

  // WHEN the operator types the domain's name
  session.type('orders');

  // THEN exactly the 1,200 are terminated, with the reason, and nothing else
  expect(await session.exitCode()).toBe(0);
  expect(session.screen()).toContain('Done: terminated 1,200.');
  expect(terminatedWithTag('batch-7')).toHaveLength(1200);
  expect(new Set(terminatedWithTag('batch-7').map((t) => t.workflowId)).size).toBe(1200);
  expect(terminatedWithTag('batch-6')).toHaveLength(0);
  expect(terminatedWithTag('batch-7').every((t) => t.reason === 'bad deploy (INC-42)')).toBe(true);
  // AND the request the terminator acted on was bound to the count the operator saw, in the preview's window
  const [request] = worldOf().requestsActedOn();
  expect(request).toMatchObject({
    domain: 'orders',
    selector: { tag: 'batch-7', startedBefore: expect.any(String) },
    maxExecutions: 1200,
  });
});

test('with --json the question goes to standard error: standard output holds only the JSON document', async () => {
  // GIVEN 12 open executions tagged batch-4, and standard error sent to a file (the terminal keeps standard output)
  worldOf().swf.addExecutions(openExecutions(12, 'batch-4'));
  const stderr = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cli-json-')), 'stderr.txt');
  const session = TmuxSession.start(
    [process.execPath, CLI_BUNDLE, '--json', 'terminate', '--domain', 'orders', '--tag', 'batch-4'],
    worldOf().cliEnv,
    160,
    50,
    stderr,
  );

  // WHEN the operator answers the question they cannot see on the terminal (it is in the file)
  const deadline = Date.now() + 30_000;
  while (!(
    fs.existsSync(stderr) && fs.readFileSync(stderr, 'utf8').includes('Type the domain name to confirm')
  )) {
    if (Date.now() > deadline) throw new Error(`no question in standard error:\n${session.screen()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  session.type('orders');

  // THEN the terminal (standard output) shows one JSON document and nothing else
  expect(await session.exitCode()).toBe(0);
  const screen = session.screen();
  const document = JSON.parse(screen.slice(0, screen.indexOf('@@exit=')).trim()) as {
    report: { terminated: number };
  };
  expect(document.report.terminated).toBe(12);
  expect(fs.readFileSync(stderr, 'utf8')).toContain('Preview in domain orders: 12 matched');
  session.kill();
  fs.rmSync(path.dirname(stderr), { recursive: true, force: true });
});

test('a wrong confirmation terminates nothing', async () => {
  // GIVEN 40 open executions tagged batch-8
  worldOf().swf.addExecutions(openExecutions(40, 'batch-8'));
  const before = worldOf().requestsActedOn().length;

  // WHEN the operator answers with another name than the domain's
  const session = terminal('terminate', '--domain', 'orders', '--tag', 'batch-8');
  await session.waitFor('Type the domain name to confirm');
  session.type('order');

  // THEN nothing is sent, and the command says why
  expect(await session.exitCode()).toBe(4);
  expect(session.screen()).toContain('Not confirmed (the answer was not "orders"); nothing sent.');
  expect(terminatedWithTag('batch-8')).toHaveLength(0);
  expect(worldOf().requestsActedOn()).toHaveLength(before);
});

test('a few executions ask y/N, and the default is no', async () => {
  // GIVEN 3 open executions tagged batch-5
  worldOf().swf.addExecutions(openExecutions(3, 'batch-5'));

  // WHEN the operator presses Enter at the question
  const session = terminal('terminate', '--domain', 'orders', '--tag', 'batch-5');
  await session.waitFor('Terminate 3 executions in domain orders?');
  session.press('Enter');

  // THEN nothing is terminated
  expect(await session.exitCode()).toBe(4);
  expect(terminatedWithTag('batch-5')).toHaveLength(0);
});

test('a request that matches more after the preview is refused whole; previewed again, the new count is confirmed', async () => {
  // GIVEN 50 open executions tagged batch-9, previewed
  worldOf().swf.addExecutions(openExecutions(50, 'batch-9'));
  const session = terminal('terminate', '--domain', 'orders', '--tag', 'batch-9');
  await session.waitFor('Terminate 50 executions in domain orders?');

  // WHEN 10 more that started before the preview appear in SWF's listing (eventually consistent), then the
  // operator confirms the 50 seen
  worldOf().swf.addExecutions(openExecutions(10, 'batch-9', 'batch-9-late'));
  session.type('orders');

  // THEN the terminator refuses the whole request, and the command offers to preview again
  await session.waitFor('Preview again?');
  expect(session.screen()).toContain(
    'More executions match now than the 50 you confirmed: nothing was acted on.',
  );
  expect(terminatedWithTag('batch-9')).toHaveLength(0);

  // WHEN the operator previews again and confirms the 60 now shown
  session.press('y');
  session.press('Enter');
  await session.waitFor('Terminate 60 executions in domain orders?');
  session.type('orders');

  // THEN the 60 are terminated
  expect(await session.exitCode()).toBe(0);
  expect(terminatedWithTag('batch-9')).toHaveLength(60);
});
