/** Restore's SWF port (lambda/aws/swf-restore.ts): SWF's answers classified, through the real SDK client. */
import { mockClient } from 'aws-sdk-client-mock';
import {
  GetWorkflowExecutionHistoryCommand,
  ListClosedWorkflowExecutionsCommand,
  StartWorkflowExecutionCommand,
  SWFClient,
  SWFServiceException,
} from '@aws-sdk/client-swf';
import { RepeatedPageTokenError } from '../../../lambda/aws/swf';
import { createRestoreSwf } from '../../../lambda/aws/swf-restore';

const client = new SWFClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
});
const mock = mockClient(client);
const swf = createRestoreSwf(client);
const fault = (name: string) =>
  new SWFServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400 }, message: name });
const attributes = { workflowType: { name: 'T', version: '1' }, taskList: { name: 'q' } };

beforeEach(() => mock.reset());

test.each([
  ['WorkflowExecutionAlreadyStartedFault', { kind: 'open-again' }],
  ['TypeDeprecatedFault', { kind: 'type-deprecated' }],
  [
    'UnknownResourceFault',
    { kind: 'failed', error: expect.stringContaining('UnknownResourceFault') as unknown },
  ],
])('GIVEN StartWorkflowExecution answers %s WHEN a run is started THEN it is %j', async (name, expected) => {
  mock.on(StartWorkflowExecutionCommand).rejects(fault(name));
  await expect(swf.start('orders', 'wf', attributes)).resolves.toEqual(expected);
});

test('GIVEN an answer without a runId WHEN a run is started THEN it failed, saying so', async () => {
  mock.on(StartWorkflowExecutionCommand).resolves({});
  await expect(swf.start('orders', 'wf', attributes)).resolves.toEqual({
    kind: 'failed',
    error: 'StartWorkflowExecution answered no runId',
  });
});

test('GIVEN a history whose last event is not a termination WHEN read THEN it says which event it is', async () => {
  mock.on(GetWorkflowExecutionHistoryCommand).resolves({
    events: [{ eventId: 9, eventType: 'WorkflowExecutionCompleted', eventTimestamp: new Date() }],
  });
  await expect(swf.lastEvent('orders', 'wf', 'r')).resolves.toEqual({
    kind: 'other',
    eventType: 'WorkflowExecutionCompleted',
  });
});

test('GIVEN a first event that is not WorkflowExecutionStarted WHEN the start is read THEN it is unknown', async () => {
  mock.on(GetWorkflowExecutionHistoryCommand).resolves({
    events: [{ eventId: 1, eventType: 'DecisionTaskScheduled', eventTimestamp: new Date() }],
  });
  await expect(swf.startAttributes('orders', 'wf', 'r')).resolves.toBeUndefined();
});

test('GIVEN a listing that answers a page token twice WHEN paged THEN it stops with RepeatedPageTokenError', async () => {
  mock.on(ListClosedWorkflowExecutionsCommand).resolves({ executionInfos: [], nextPageToken: 'same' });
  const pages = swf.listClosed({ domain: 'orders', startTimeFilter: { oldestDate: new Date(0) } });
  const read = async () => {
    let seen = 0;
    for await (const page of pages) seen += page.length;
    return seen;
  };
  await expect(read()).rejects.toThrow(RepeatedPageTokenError);
});

test('GIVEN a started event with only a type WHEN the start is read THEN it holds the type and nothing SWF did not record', async () => {
  mock.on(GetWorkflowExecutionHistoryCommand).resolves({
    events: [
      {
        eventId: 1,
        eventType: 'WorkflowExecutionStarted',
        eventTimestamp: new Date(),
        workflowExecutionStartedEventAttributes: {
          workflowType: { name: 'T', version: '1' },
          taskList: undefined as never,
          childPolicy: 'TERMINATE',
          tagList: [],
        },
      },
    ],
  });
  await expect(swf.startAttributes('orders', 'wf', 'r')).resolves.toEqual({
    workflowType: { name: 'T', version: '1' },
    childPolicy: 'TERMINATE',
  });
});

test('GIVEN a termination without details WHEN the last event is read THEN it is a termination with its cause', async () => {
  mock.on(GetWorkflowExecutionHistoryCommand).resolves({
    events: [
      {
        eventId: 3,
        eventType: 'WorkflowExecutionTerminated',
        eventTimestamp: new Date(0),
        workflowExecutionTerminatedEventAttributes: {
          childPolicy: 'TERMINATE',
          cause: 'CHILD_POLICY_APPLIED',
        },
      },
    ],
  });
  await expect(swf.lastEvent('orders', 'wf', 'r')).resolves.toEqual({
    kind: 'terminated',
    at: new Date(0),
    cause: 'CHILD_POLICY_APPLIED',
  });
});

test('GIVEN an empty history WHEN either end is read THEN there is no termination and no start', async () => {
  mock.on(GetWorkflowExecutionHistoryCommand).resolves({});
  await expect(swf.lastEvent('orders', 'wf', 'r')).resolves.toEqual({ kind: 'other', eventType: 'none' });
  await expect(swf.startAttributes('orders', 'wf', 'r')).resolves.toBeUndefined();
});

test('GIVEN listings that answer nothing WHEN paged THEN each is one empty page', async () => {
  mock.on(ListClosedWorkflowExecutionsCommand).resolves({});
  const pages: number[] = [];
  for await (const page of swf.listClosed({
    domain: 'orders',
    closeTimeFilter: { oldestDate: new Date(0) },
    closeStatus: 'TERMINATED',
  })) {
    pages.push(page.length);
  }
  expect(pages).toEqual([0]);
});
