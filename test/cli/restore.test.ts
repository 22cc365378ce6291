/**
 * `swf-terminator restore JOB`, as an operator runs it: the command bundled as shipped, in a real terminal
 * (tmux), against a terminator deployed with allowRestore on local servers (test/support/operator-world.ts).
 * The preview shows what the terminator terminated there and what would start; the operator types the
 * confirmation; the real restore carries the count seen as its cap; a second restore starts nothing.
 */
import { openExecutions, useOperatorWorld } from '../support/operator-world';

const { world: worldOf, terminal } = useOperatorWorld({
  props: { allowRestore: true },
  handlerEnv: { TERMINATE_RATE_PER_SECOND: '2000', TERMINATE_BURST: '2000' },
});

/** Terminates the executions tagged `tag` through the terminating function; answers the request's job id. */
async function terminateTag(tag: string, n: number): Promise<string> {
  const world = worldOf();
  world.swf.addExecutions(openExecutions(n, tag));
  const handler = Object.keys(world.template.toJSON().Resources as object).find((id) =>
    id.startsWith('TerminatorHandler'),
  );
  const answer = await world.lambda.invoke(handler ?? '', {
    domain: 'orders',
    selector: { tag },
    reason: 'wrong tag',
  });
  if (answer === 'throttled' || !answer.ok) throw new Error(JSON.stringify(answer));
  const report = answer.value as { terminated: number; jobId: string };
  expect(report.terminated).toBe(n);
  return report.jobId;
}

const startsOf = (tag: string) => worldOf().swf.starts.filter((s) => s.workflowId.startsWith(`${tag}-`));
const restoreRequests = () =>
  worldOf()
    .lambda.invocations.filter((i) => i.functionName.startsWith('TerminatorRestore'))
    .map((i) => (i.event as { restore: Record<string, unknown> }).restore);

test('a restore previews 30, the operator types the domain, and exactly those 30 start again, capped at what was seen', async () => {
  // GIVEN 30 runs the terminator terminated for one request
  const jobId = await terminateTag('undo-1', 30);

  // WHEN the operator restores that job, and sees the preview
  const session = terminal('restore', jobId, '--domain', 'orders', '--reason', 'INC-42 was a false alarm');
  const screen = await session.waitFor('Type the domain name to confirm');

  // THEN it says what would start, and nothing has yet
  expect(screen).toContain('Preview in domain orders: 30 terminated by the terminator, 30 would start');
  expect(screen).toMatch(/undo-1-\d+\s.*OrderFlow:1.*would-start/);
  expect(screen).toContain('Start 30 executions again in domain orders?');
  expect(startsOf('undo-1')).toHaveLength(0);

  // WHEN the operator types the domain's name
  session.type('orders');

  // THEN exactly the 30 start again, and the restore sent was capped at the 30 seen
  expect(await session.exitCode()).toBe(0);
  expect(session.screen()).toContain('Done in domain orders: 30 terminated by the terminator, 30 started');
  expect(new Set(startsOf('undo-1').map((s) => s.workflowId)).size).toBe(30);
  expect(restoreRequests().at(-1)).toMatchObject({
    domain: 'orders',
    jobId,
    maxExecutions: 30,
    reason: 'INC-42 was a false alarm',
  });
  expect(restoreRequests().at(-1)?.dryRun).toBeUndefined();
});

test('restoring the same job again starts nothing: every workflowId is open again', async () => {
  // GIVEN a job already restored
  const jobId = await terminateTag('undo-2', 5);
  const first = terminal('restore', jobId, '--domain', 'orders', '--yes');
  expect(await first.exitCode()).toBe(0);
  expect(startsOf('undo-2')).toHaveLength(5);

  // WHEN it is restored again
  const again = terminal('restore', jobId, '--domain', 'orders', '--yes');

  // THEN the preview says each is open again, and nothing is sent
  expect(await again.exitCode()).toBe(0);
  expect(again.screen()).toContain('0 would start, skipped: 5 open-again');
  expect(again.screen()).toContain('Nothing to start; nothing sent.');
  expect(startsOf('undo-2')).toHaveLength(5);
});

test('a few runs ask y/N, and the default is no: nothing starts', async () => {
  const jobId = await terminateTag('undo-3', 3);
  const session = terminal('restore', jobId, '--domain', 'orders');
  await session.waitFor('Start 3 executions again in domain orders?');
  session.press('Enter');
  expect(await session.exitCode()).toBe(4);
  expect(startsOf('undo-3')).toHaveLength(0);
});

test('without --domain, for a request that never became a job, in a terminator of two domains: a usage error naming the flag', async () => {
  const session = terminal('restore', 'no-such-job');
  expect(await session.exitCode()).toBe(64);
  expect(session.screen()).toContain('--domain: name the domain');
});
