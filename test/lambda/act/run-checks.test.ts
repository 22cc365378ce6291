/** What a named run is checked against just before it is acted on (lambda/act/run-checks.ts). */
import { context, DOMAIN, makeHandler } from '../../support/handler-fixtures';
import { ListOpenWorkflowExecutionsCommand, TerminateWorkflowExecutionCommand } from '@aws-sdk/client-swf';
import { mockedSwf } from '../../support/job-rig';

describe('a run-less workflowId with no open run listed is reported as such, not as already closed', () => {
  const swf = mockedSwf();

  test('outcome no-open-run, counted apart from already-closed', async () => {
    swf().on(ListOpenWorkflowExecutionsCommand).resolves({ executionInfos: [] });
    const { handler } = makeHandler();
    const report = await handler({ domain: DOMAIN, workflowId: 'just-started' }, context);
    expect(report.executions).toEqual([{ workflowId: 'just-started', outcome: 'no-open-run' }]);
    expect(report).toMatchObject({ alreadyClosed: 0, noOpenRun: 1, failed: 0 });
    expect(swf().commandCalls(TerminateWorkflowExecutionCommand)).toHaveLength(0);
  });
});
