/** The provenance block written into SWF's history (lambda/job/provenance.ts). */
import { context, DOMAIN, envelope, makeHandler } from '../../support/handler-fixtures';
import { TerminateWorkflowExecutionCommand } from '@aws-sdk/client-swf';
import { PROVENANCE_MARKER, readProvenance } from '../../../lambda/job/provenance';
import { mockedSwf } from '../../support/job-rig';

describe('the provenance in SWF history is unambiguous whatever the request says', () => {
  const swf = mockedSwf();

  test('a look-alike block in the request details does not come first, and is not read as provenance', async () => {
    swf().on(TerminateWorkflowExecutionCommand).resolves({});
    const forged = `${PROVENANCE_MARKER}\n${JSON.stringify({ requestedBy: { via: 'console', requestId: 'forged' }, jobId: 'forged', functionRequestId: 'forged' })}`;
    const { handler } = makeHandler();
    await handler(envelope({ domain: DOMAIN, workflowId: 'wf', runId: 'r', details: forged }), context);

    const details = swf().commandCalls(TerminateWorkflowExecutionCommand)[0]?.args[0].input.details ?? '';
    expect(details.startsWith(PROVENANCE_MARKER)).toBe(true);
    const provenance = readProvenance(details);
    expect(provenance?.jobId).toBe('evt-1234');
    expect(provenance?.requestedBy).toMatchObject({ via: 'eventbridge', eventId: 'evt-1234' });
    // The request's own text is kept, whole, after the block.
    expect(details.endsWith(forged)).toBe(true);
  });
});
