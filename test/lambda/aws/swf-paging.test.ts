/**
 * lambda/aws/swf.ts listOpen follows nextPageToken; an endpoint that answers a token it answered before (the one
 * it was given, or one further back) would make it list the same pages forever. The guard: any token seen
 * before fails the listing, safely.
 */
import { makeHandler, context, info, DOMAIN } from '../../support/handler-fixtures';
import {
  CountOpenWorkflowExecutionsCommand,
  ListOpenWorkflowExecutionsCommand,
  SWFClient,
  TerminateWorkflowExecutionCommand,
} from '@aws-sdk/client-swf';
import { mockClient } from 'aws-sdk-client-mock';
import { ListingFailedError } from '../../../lambda/errors';
import { createSwf, RepeatedPageTokenError } from '../../../lambda/aws/swf';
import { clockChecks, collector } from '../../support/job-rig';

const swf = mockClient(SWFClient);

beforeEach(() => {
  swf.reset();
});

const input = { domain: DOMAIN, startTimeFilter: { oldestDate: new Date(0) } };
const client = () => new SWFClient({ region: 'us-east-1' });

describe('listOpen: a page token answered with itself', () => {
  test('fails with RepeatedPageTokenError after the first page, without asking again', async () => {
    // GIVEN an endpoint that answers every page with the same token
    swf
      .on(ListOpenWorkflowExecutionsCommand)
      .resolves({ executionInfos: [info('a', 'r-a')], nextPageToken: 'T' });
    const pages: string[][] = [];

    // WHEN the pages are followed
    const listing = (async () => {
      for await (const page of createSwf(client()).listOpen(input)) {
        pages.push(page.map((e) => e.execution?.workflowId ?? ''));
      }
    })();

    // THEN the first page is yielded, the repeat is refused, and SWF was asked twice only
    await expect(listing).rejects.toThrow(RepeatedPageTokenError);
    expect(pages).toEqual([['a']]);
    const calls = swf.commandCalls(ListOpenWorkflowExecutionsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]?.args[0].input.nextPageToken).toBeUndefined();
    expect(calls[1]?.args[0].input.nextPageToken).toBe('T');
  });

  test('distinct tokens are followed to the end', async () => {
    // GIVEN three pages with new tokens each time, then the last
    swf
      .on(ListOpenWorkflowExecutionsCommand)
      .resolvesOnce({ executionInfos: [info('a', 'r-a')], nextPageToken: 'T1' })
      .resolvesOnce({ executionInfos: [info('b', 'r-b')], nextPageToken: 'T2' })
      .resolvesOnce({ executionInfos: [info('c', 'r-c')], nextPageToken: 'T3' })
      .resolvesOnce({ executionInfos: [info('d', 'r-d')] });
    const seen: string[] = [];

    // WHEN
    for await (const page of createSwf(client()).listOpen(input)) {
      for (const e of page) seen.push(e.execution?.workflowId ?? '');
    }

    // THEN
    expect(seen).toEqual(['a', 'b', 'c', 'd']);
  });

  test('a token answered before, even further back (T1, T2, T1), ends the listing: a cycle of any length', async () => {
    swf
      .on(ListOpenWorkflowExecutionsCommand)
      .resolvesOnce({ executionInfos: [info('a', 'r-a')], nextPageToken: 'T1' })
      .resolvesOnce({ executionInfos: [info('b', 'r-b')], nextPageToken: 'T2' })
      .resolvesOnce({ executionInfos: [info('c', 'r-c')], nextPageToken: 'T1' })
      .resolvesOnce({ executionInfos: [info('d', 'r-d')] });
    const seen: string[] = [];

    const listing = (async () => {
      for await (const page of createSwf(client()).listOpen(input)) {
        for (const e of page) seen.push(e.execution?.workflowId ?? '');
      }
    })();

    await expect(listing).rejects.toThrow(RepeatedPageTokenError);
    expect(seen).toEqual(['a', 'b']);
    expect(swf.commandCalls(ListOpenWorkflowExecutionsCommand)).toHaveLength(3);
  });

  test('a selector request over such an endpoint fails as a listing failure, nothing terminated', async () => {
    // GIVEN a count that would allow the request, and a listing stuck on one token
    swf.on(CountOpenWorkflowExecutionsCommand).resolves({ count: 1, truncated: false });
    swf.on(ListOpenWorkflowExecutionsCommand).resolves({ executionInfos: [], nextPageToken: 'stuck' });
    swf.on(TerminateWorkflowExecutionCommand).resolves({});
    const { handler } = makeHandler();

    // WHEN / THEN it ends (no loop until the timeout) with ListingFailedError naming the cause
    const error = await handler({ domain: DOMAIN, selector: { tag: 't' } }, context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ListingFailedError);
    expect((error as Error).message).toMatch(/RepeatedPageTokenError.*already answered/);
    expect(swf.commandCalls(ListOpenWorkflowExecutionsCommand)).toHaveLength(2);
    expect(swf.commandCalls(TerminateWorkflowExecutionCommand)).toHaveLength(0);
  });

  test('resolving a runless entry over such an endpoint reports it failed, not already-closed', async () => {
    // GIVEN run resolution (a List call by workflowId) that answers its own token
    swf.on(ListOpenWorkflowExecutionsCommand).resolves({ executionInfos: [], nextPageToken: 'stuck' });
    swf.on(TerminateWorkflowExecutionCommand).resolves({});
    const { handler } = makeHandler();

    // WHEN
    const error = await handler({ domain: DOMAIN, workflowId: 'wf-1' }, context).catch((e: unknown) => e);

    // THEN the execution failed (so the invocation throws and is retried), nothing was terminated
    expect((error as Error).message).toMatch(/resolving the current run failed.*RepeatedPageTokenError/);
    expect(swf.commandCalls(TerminateWorkflowExecutionCommand)).toHaveLength(0);
  });
});

describe('every listing loop ends, whatever the page tokens do', () => {
  /** A listing that never ends by itself: one match per page, and the page token `tokenOf(call)`. */
  function listing(tokenOf: (call: number) => string) {
    let call = 0;
    swf.on(ListOpenWorkflowExecutionsCommand).callsFake(() => {
      call += 1;
      return {
        executionInfos: [info(`wf-${call}`, `r-${call}`, { tags: ['t'] })],
        nextPageToken: tokenOf(call),
      };
    });
  }
  /** Tokens A, B, A, B... */
  const cyclingTokens = () => {
    listing((call) => (call % 2 ? 'A' : 'B'));
  };
  /** A new token on every page. */
  const endlessTokens = () => {
    listing((call) => `T${call}`);
  };

  test('a dry-run selector: A -> B -> A fails the listing after three pages', async () => {
    cyclingTokens();
    swf.on(CountOpenWorkflowExecutionsCommand).resolves({ count: 3, truncated: false });
    const { handler } = makeHandler();
    const run = handler({ domain: DOMAIN, selector: { tag: 't' }, dryRun: true }, clockChecks(1e9));
    await expect(run).rejects.toThrow(ListingFailedError);
    expect(swf.commandCalls(ListOpenWorkflowExecutionsCommand)).toHaveLength(3);
  });

  test('the counting pass: A -> B -> A fails the request before anything is terminated', async () => {
    cyclingTokens();
    swf.on(CountOpenWorkflowExecutionsCommand).resolves({ count: 3, truncated: true });
    const { handler } = makeHandler();
    await expect(handler({ domain: DOMAIN, selector: { tag: 't' } }, clockChecks(1e9))).rejects.toThrow(
      ListingFailedError,
    );
    expect(swf.commandCalls(ListOpenWorkflowExecutionsCommand)).toHaveLength(3);
    expect(swf.commandCalls(TerminateWorkflowExecutionCommand)).toHaveLength(0);
  });

  test.each([
    ['a dry-run selector', { selector: { tag: 't' }, dryRun: true }, false],
    ['the counting pass', { selector: { tag: 't' } }, true],
  ])('%s stops at the invocation deadline, failing loudly', async (_name, target, truncated) => {
    endlessTokens();
    swf.on(CountOpenWorkflowExecutionsCommand).resolves({ count: 3, truncated });
    const { handler } = makeHandler();
    await expect(handler({ domain: DOMAIN, ...target }, clockChecks(20))).rejects.toThrow(/end reserve/);
    expect(swf.commandCalls(ListOpenWorkflowExecutionsCommand).length).toBeLessThan(25);
    expect(swf.commandCalls(TerminateWorkflowExecutionCommand)).toHaveLength(0);
  });

  test('resolving a run-less workflowId stops at the deadline and hands the entry on', async () => {
    endlessTokens();
    const { sent, jobs } = collector();
    const { handler } = makeHandler({ deps: { jobs, endReserveMs: 1_000 } });
    const executions = [{ workflowId: 'a' }, { workflowId: 'b' }];
    const report = await handler({ domain: DOMAIN, executions }, clockChecks(20));
    expect(report.job).toMatchObject({ state: 'started', reason: 'out-of-time' });
    // Handed on unresolved (in whichever order their listings stopped), nothing dropped, nothing acted on.
    expect(sent[0]!.request.executions).toEqual(expect.arrayContaining(executions));
    expect(sent[0]!.request.executions).toHaveLength(2);
    expect(swf.commandCalls(TerminateWorkflowExecutionCommand)).toHaveLength(0);
  });
});
