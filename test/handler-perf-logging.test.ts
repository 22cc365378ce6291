/**
 * The single-execution path logs one line (issue 3's per-execution line merged into the summary, to keep the
 * common request cheap); a list still logs one line per execution plus the summary. Every line carries the
 * request id and the domain.
 */
import './support/handler-env';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SWFClient, TerminateWorkflowExecutionCommand } from '@aws-sdk/client-swf';
import { JOB_EVENT_KEY } from '../lib/contract';
import { mockClient } from 'aws-sdk-client-mock';
import { parseConfig } from '../lambda/config';
import { createHandler } from '../lambda/handler';
import type { JobsPort } from '../lambda/jobs';
import { createSwf } from '../lambda/swf';
import { inMemoryJobs } from './support/handler-bulk';
import { jobStateFixture } from './support/handler-fixtures';

const swf = mockClient(SWFClient);

beforeEach(() => {
  swf.reset();
});

async function logLines(
  event: unknown,
  env: Record<string, string> = {},
  jobs?: JobsPort,
): Promise<Record<string, unknown>[]> {
  const handler = createHandler({
    ...(jobs === undefined ? {} : { jobs }),
    config: parseConfig({ ALLOWED_DOMAINS: 'orders', ...env }),
    swf: createSwf(new SWFClient({ region: 'us-east-1' })),
    logger: new Logger({ logLevel: 'INFO' }),
    metrics: new Metrics({ namespace: 'SwfTerminator' }),
    now: () => new Date('2025-06-01T12:00:00.000Z'),
  });
  const chunks: string[] = [];
  // Powertools writes warnings and errors to stderr, the rest to stdout: both, in order.
  const capture = (chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    await handler(event, { awsRequestId: 'req-1' }).catch(() => undefined);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return chunks
    .join('')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((doc) => !('_aws' in doc)); // EMF metrics documents
}

describe('log lines of the single-execution path', () => {
  test('one line: the summary, carrying the execution, its outcome, the counts, request id and domain', async () => {
    swf.on(TerminateWorkflowExecutionCommand).resolves({});

    const lines = await logLines({ domain: 'orders', workflowId: 'wf-1', runId: 'run-1' });

    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'INFO',
      message: 'request done',
      requestId: 'req-1',
      jobId: 'req-1',
      domain: 'orders',
      workflowId: 'wf-1',
      runId: 'run-1',
      outcome: 'terminated',
      matched: 1,
      terminated: 1,
      failed: 0,
      provenance: { via: 'console', requestId: 'req-1' },
    });
  });

  test('a failed single execution: the summary is an error line with the error, then the failure', async () => {
    swf.on(TerminateWorkflowExecutionCommand).rejects(new Error('boom'));

    const lines = await logLines({ domain: 'orders', workflowId: 'wf-1', runId: 'run-1' });

    expect(lines[0]).toMatchObject({
      level: 'ERROR',
      message: 'request done',
      workflowId: 'wf-1',
      runId: 'run-1',
      outcome: 'failed',
      error: expect.stringMatching(/boom/),
      failed: 1,
    });
    expect(lines[1]).toMatchObject({ level: 'ERROR', message: 'request failed', requestId: 'req-1' });
  });

  test('a list: one line per execution acted on, then the summary', async () => {
    swf.on(TerminateWorkflowExecutionCommand).resolves({});

    const lines = await logLines({
      domain: 'orders',
      executions: [
        { workflowId: 'a', runId: 'r-a' },
        { workflowId: 'b', runId: 'r-b' },
      ],
    });

    expect(lines.map((l) => l.message)).toEqual([
      'execution terminated',
      'execution terminated',
      'request done',
    ]);
    expect(lines[0]).toMatchObject({ workflowId: 'a', runId: 'r-a', requestId: 'req-1', domain: 'orders' });
    expect(lines[2]).toMatchObject({ matched: 2, terminated: 2 });
    expect(lines[2]).not.toHaveProperty('workflowId');
  });

  test('a refused request: one warning line with the request id', async () => {
    const lines = await logLines({ domain: 'not-allowed', workflowId: 'x' });

    expect(lines).toEqual([
      expect.objectContaining({ level: 'WARN', message: 'request refused', requestId: 'req-1' }),
    ]);
  });
});

describe('optional keys of the summary line', () => {
  const throttling = Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottlingException',
    $metadata: { httpStatusCode: 400 },
  });

  test('a single execution throttled once, then terminated: the summary carries throttles and the rate', async () => {
    swf.on(TerminateWorkflowExecutionCommand).rejectsOnce(throttling).resolves({});

    const lines = await logLines({ domain: 'orders', workflowId: 'wf-1', runId: 'run-1' });

    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ message: 'request done', outcome: 'terminated', throttles: 1 });
    expect(lines[0]?.rate).toEqual(expect.any(Number));
  });

  test('no throttling: neither throttles nor rate, and a request has no chunk number', async () => {
    swf.on(TerminateWorkflowExecutionCommand).resolves({});

    const lines = await logLines({ domain: 'orders', workflowId: 'wf-1', runId: 'run-1' });

    expect(lines[0]).not.toHaveProperty('throttles');
    expect(lines[0]).not.toHaveProperty('rate');
    expect(lines[0]).not.toHaveProperty('chunk');
  });

  test("a chunk's lines carry the job and the chunk's number, its last line the job's totals", async () => {
    swf.on(TerminateWorkflowExecutionCommand).resolves({});
    const jobs = inMemoryJobs();
    const state = jobStateFixture({
      request: { domain: 'orders', executions: [{ workflowId: 'a', runId: 'r-a' }] },
      progress: { target: 'list', remaining: 1 },
      totals: { matched: 3, terminated: 3, alreadyClosed: 0, noOpenRun: 0, failed: 0, wouldTerminate: 0 },
      chunks: 2,
    });
    await jobs.jobs.start(state);

    const lines = await logLines(
      { [JOB_EVENT_KEY]: state, execution: jobs.jobs.executionArn('evt-1') },
      {},
      jobs.jobs,
    );

    expect(lines.map((l) => l.message)).toEqual(['execution terminated', 'job done']);
    for (const line of lines) expect(line).toMatchObject({ jobId: 'evt-1', chunk: 3 });
    expect(lines[1]).toMatchObject({ matched: 1, terminated: 1, job: { matched: 4, terminated: 4 } });
  });
});
