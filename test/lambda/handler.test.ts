/**
 * What the handler's edge adds to every log line and the order of the lines: one line per execution acted
 * on, then the summary, for a single execution as for a list (one shape to search for). Every line carries
 * the invocation's request id (Powertools' `function_request_id`), the job id and the domain.
 */
import '../support/handler-env';
import { Logger } from '@aws-lambda-powertools/logger';
import { SWFClient, TerminateWorkflowExecutionCommand } from '@aws-sdk/client-swf';
import { JOB_EVENT_KEY } from '../../lib/contract';
import { mockClient } from 'aws-sdk-client-mock';
import type { JobsPort } from '../../lambda/aws/jobs';
import { NO_TOTALS } from '../../lambda/job/write';
import { inMemoryJobs } from '../support/handler-bulk';
import { captureOutput, jobStateFixture, makeHandler } from '../support/handler-fixtures';

const swf = mockClient(SWFClient);

beforeEach(() => {
  swf.reset();
});

/** Runs `act`, returning the JSON log lines it wrote (EMF metrics documents left out). */
async function captureLines(act: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  return (await captureOutput(act)).logs;
}

async function logLines(
  event: unknown,
  env: Record<string, string> = {},
  jobs?: JobsPort,
): Promise<Record<string, unknown>[]> {
  const { raw } = makeHandler({
    env: { ALLOWED_DOMAINS: 'orders', ...env },
    logger: new Logger({ logLevel: 'INFO' }),
    deps: jobs === undefined ? {} : { jobs },
  });
  return captureLines(() => raw(event, { awsRequestId: 'req-1' }));
}

describe('log lines of a request', () => {
  test('a single execution: its line, then the summary with the counts; both carry request id and domain', async () => {
    swf.on(TerminateWorkflowExecutionCommand).resolves({});

    const lines = await logLines({ domain: 'orders', workflowId: 'wf-1', runId: 'run-1' });

    expect(lines.map((l) => l.message)).toEqual(['execution terminated', 'request done']);
    expect(lines[0]).toMatchObject({
      level: 'INFO',
      workflowId: 'wf-1',
      runId: 'run-1',
      outcome: 'terminated',
    });
    expect(lines[1]).toMatchObject({
      level: 'INFO',
      matched: 1,
      terminated: 1,
      failed: 0,
      provenance: { via: 'console', requestId: 'req-1' },
    });
    for (const line of lines) {
      expect(line).toMatchObject({ function_request_id: 'req-1', jobId: 'req-1', domain: 'orders' });
    }
  });

  test('a failed single execution: its error line with the error, an error summary, then the failure', async () => {
    swf.on(TerminateWorkflowExecutionCommand).rejects(new Error('boom'));

    const lines = await logLines({ domain: 'orders', workflowId: 'wf-1', runId: 'run-1' });

    expect(lines.map((l) => [l.level, l.message])).toEqual([
      ['ERROR', 'execution failed'],
      ['ERROR', 'request done'],
      ['ERROR', 'request failed'],
    ]);
    expect(lines[0]).toMatchObject({ workflowId: 'wf-1', runId: 'run-1', outcome: 'failed' });
    expect(lines[0]?.error).toEqual(expect.stringMatching(/boom/));
    expect(lines[1]).toMatchObject({ failed: 1, terminated: 0 });
    expect(lines[2]).toMatchObject({ function_request_id: 'req-1' });
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
    expect(lines[0]).toMatchObject({
      workflowId: 'a',
      runId: 'r-a',
      function_request_id: 'req-1',
      domain: 'orders',
    });
    expect(lines[2]).toMatchObject({ matched: 2, terminated: 2 });
    expect(lines[2]).not.toHaveProperty('workflowId');
  });

  test('a refused request: one warning line with the request id', async () => {
    const lines = await logLines({ domain: 'not-allowed', workflowId: 'x' });

    expect(lines).toEqual([
      expect.objectContaining({ level: 'WARN', message: 'request refused', function_request_id: 'req-1' }),
    ]);
  });

  test("one invocation's keys do not leak into the next one's lines", async () => {
    swf.on(TerminateWorkflowExecutionCommand).resolves({});
    const { raw: handler } = makeHandler({ logger: new Logger({ logLevel: 'INFO' }) });
    await captureLines(() =>
      handler({ domain: 'orders', workflowId: 'wf-1', runId: 'run-1' }, { awsRequestId: 'req-1' }),
    );

    const lines = await captureLines(() =>
      handler({ domain: 'not-allowed', workflowId: 'x' }, { awsRequestId: 'req-2' }),
    );

    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ function_request_id: 'req-2' });
    expect(lines[0]).not.toHaveProperty('domain');
    expect(lines[0]).not.toHaveProperty('jobId');
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

    const summary = lines.find((l) => l.message === 'request done');
    expect(summary).toMatchObject({ terminated: 1, throttles: 1 });
    expect(summary?.rate).toEqual(expect.any(Number));
  });

  test('no throttling: neither throttles nor rate, and a request has no chunk number', async () => {
    swf.on(TerminateWorkflowExecutionCommand).resolves({});

    const lines = await logLines({ domain: 'orders', workflowId: 'wf-1', runId: 'run-1' });

    const summary = lines.find((l) => l.message === 'request done');
    expect(summary).toBeDefined();
    expect(summary).not.toHaveProperty('throttles');
    expect(summary).not.toHaveProperty('rate');
    expect(summary).not.toHaveProperty('chunk');
  });

  test("a chunk's lines carry the job and the chunk's number, its last line the job's totals", async () => {
    swf.on(TerminateWorkflowExecutionCommand).resolves({});
    const jobs = inMemoryJobs();
    const state = jobStateFixture({
      request: { domain: 'orders', executions: [{ workflowId: 'a', runId: 'r-a' }] },
      progress: { target: 'list', remaining: 1 },
      totals: { ...NO_TOTALS, matched: 3, terminated: 3 },
      chunks: 2,
    });
    await jobs.jobs.start(state);

    const lines = await logLines(
      { [JOB_EVENT_KEY]: state, execution: jobs.jobs.executionArn('evt-1') },
      {},
      jobs.jobs,
    );

    expect(lines.map((l) => l.message)).toEqual(['execution terminated', 'job progress', 'job done']);
    for (const line of lines) expect(line).toMatchObject({ jobId: 'evt-1', chunk: 3 });
    // The job's progress record (what a status reads back from the log group), then the summary.
    expect(lines[1]).toMatchObject({
      jobProgress: {
        jobId: 'evt-1',
        invocation: 'req-1',
        chunk: 3,
        final: true,
        status: 'done',
        own: { matched: 1, terminated: 1 },
      },
    });
    expect(lines[2]).toMatchObject({ matched: 1, terminated: 1, job: { matched: 4, terminated: 4 } });
  });
});

describe('the control function answers abort, status and jobs, and refuses everything else first', () => {
  /** The control function's handler, its SWF and Step Functions calls counted. */
  function controlFunction() {
    const jobs = inMemoryJobs();
    let sfnCalls = 0;
    const counted: JobsPort = {
      ...jobs.jobs,
      describe: (jobId) => {
        sfnCalls += 1;
        return jobs.jobs.describe(jobId);
      },
      start: (state) => {
        sfnCalls += 1;
        return jobs.jobs.start(state);
      },
    };
    const { raw } = makeHandler({
      env: { ALLOWED_DOMAINS: 'orders', CONTROL_ONLY: 'true' },
      deps: { jobs: counted },
    });
    return { raw, jobs, sfnCalls: () => sfnCalls };
  }

  test("a job's chunk is refused before any call: the control function never terminates", async () => {
    // GIVEN a running job's chunk (a valid one: the terminating function would act on it)
    const control = controlFunction();
    const state = jobStateFixture({
      request: { domain: 'orders', executions: [{ workflowId: 'a', runId: 'r-a' }] },
      progress: { target: 'list', remaining: 1 },
    });
    await control.jobs.jobs.start(state);
    const before = control.sfnCalls();

    // WHEN it is handed to the control function
    const error = await control
      .raw(
        { [JOB_EVENT_KEY]: state, execution: control.jobs.jobs.executionArn('evt-1') },
        { awsRequestId: 'c' },
      )
      .catch((e: unknown) => e);

    // THEN it is refused, naming the event, with no SWF or Step Functions call
    expect(error).toMatchObject({ name: 'InvalidRequestError', field: 'event' });
    expect((error as Error).message).toMatch(/a job's chunk: this is the terminator's control function/);
    expect(swf.calls()).toHaveLength(0);
    expect(control.sfnCalls()).toBe(before);
  });

  test("a policy's run is refused before any call", async () => {
    const control = controlFunction();

    const error = await control
      .raw(
        { swfTerminatorPolicy: { name: 'p', trigger: 'schedule', request: {} }, preview: true },
        {
          awsRequestId: 'p',
        },
      )
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'InvalidRequestError', field: 'event' });
    expect((error as Error).message).toMatch(/a policy's run/);
    expect(swf.calls()).toHaveLength(0);
    expect(control.sfnCalls()).toBe(0);
  });

  test('a status request is answered', async () => {
    const control = controlFunction();

    const answer = await control.raw({ status: { jobId: 'evt-9' } }, { awsRequestId: 's' });

    expect(answer).toEqual({ status: { jobId: 'evt-9', state: 'NOT_FOUND' } });
  });
});

describe('an error an invocation throws fits what Step Functions keeps of it', () => {
  test("an invocation's failure listing fifty long errors is clipped: with its stack, well inside a 32,768-character cause", async () => {
    // GIVEN a list chunk whose fifty terminations all fail with a long message
    const long = 'x'.repeat(4_000);
    swf
      .on(TerminateWorkflowExecutionCommand)
      .rejects(Object.assign(new Error(long), { name: 'OperationNotPermittedFault' }));
    const executions = Array.from({ length: 50 }, (_, i) => ({
      workflowId: `${'w'.repeat(200)}-${i}`,
      runId: `r-${i}`,
    }));
    const { raw } = makeHandler({ env: { ALLOWED_DOMAINS: 'orders' } });

    // WHEN it runs inline (a console request), and every run fails
    const error = (await raw({ domain: 'orders', executions }, { awsRequestId: 'big' }).catch(
      (e: unknown) => e,
    )) as Error;

    // THEN what Lambda returns for it (Step Functions' cause: message, type and stack) fits
    expect(error.name).toBe('TerminationFailedError');
    const payload = JSON.stringify({
      errorMessage: error.message,
      errorType: error.name,
      trace: (error.stack ?? '').split('\n'),
    });
    expect(payload.length).toBeLessThan(32_768);
    expect(error.message).toMatch(/^50 execution\(s\) failed to terminate: /);
    expect(error.message).toMatch(/characters\)$/);
  });
});
