/**
 * Rigs for handler tests that follow a request into its job: a per-describe SWF mock, a context whose time
 * runs out on cue, jobs kept in memory, and lists of executions.
 */
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { SWFClient } from '@aws-sdk/client-swf';
import { inMemoryJobs } from './handler-bulk';
import { JOB_EVENT_KEY } from '../../lib/contract';
import type { HandlerContext } from '../../lambda/handler';
import type { JobState } from '../../lambda/types';

/**
 * The SDK's SWF client mocked for the tests of one describe only: the tests that run against the fake SWF
 * server need the real client, and a mock made at collection time would replace it for the whole file.
 */
export function mockedSwf(): () => AwsClientStub<SWFClient> {
  let mock: AwsClientStub<SWFClient> | undefined;
  beforeAll(() => {
    mock = mockClient(SWFClient);
  });
  beforeEach(() => {
    mock?.reset();
  });
  afterAll(() => {
    mock?.restore();
  });
  return () => {
    if (mock === undefined) throw new Error('the SWF mock is only there inside a test');
    return mock;
  };
}

/** A context whose time runs out (below any reserve) after `checks` looks at the clock. */
export function clockChecks(checks: number, requestId = 'req-1'): HandlerContext {
  let seen = 0;
  return {
    awsRequestId: requestId,
    getRemainingTimeInMillis: () => (seen++ < checks ? 900_000 : 0),
  };
}

/** Jobs kept in memory: what a request hands on is in `sent`; `chunk(n)` is the event of the n-th job's chunk. */
export function collector() {
  const jobs = inMemoryJobs();
  return {
    sent: jobs.started,
    jobs: jobs.jobs,
    chunk: (state: JobState | undefined) => ({
      [JOB_EVENT_KEY]: state,
      execution: jobs.jobs.executionArn(state?.jobId ?? ''),
    }),
  };
}

export const listOf = (n: number, prefix = 'wf-') =>
  Array.from({ length: n }, (_, i) => ({ workflowId: `${prefix}${i}`, runId: `run-${prefix}${i}` }));
