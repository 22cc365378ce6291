/**
 * How SWF's faults are read. The wording of UnknownResourceFault decides whether a termination is
 * harmless (`already-closed`) or a configuration error (`failed`), so the forms SWF implementations use
 * are pinned here: "Unknown execution: WorkflowExecution=[workflowId=..., runId=...]" (with a runId) and
 * "Unknown execution, workflowId = ..." (without), as moto and Eucalyptus phrase them, and
 * "Unknown domain: NAME".
 */
import { classifySwfError } from '../../../lambda/aws/swf';

const fault = (name: string, message: string) => Object.assign(new Error(message), { name });

describe('classifySwfError', () => {
  test.each([
    'Unknown execution: WorkflowExecution=[workflowId=order-1, runId=22rq3Y8i1]',
    'Unknown execution, workflowId = order-1',
  ])('UnknownResourceFault %p means the execution is not open', (message) => {
    // GIVEN / WHEN / THEN
    expect(classifySwfError(fault('UnknownResourceFault', message))).toEqual({ kind: 'not-open' });
  });

  test('UnknownResourceFault about the domain is a failure, never already-closed', () => {
    // GIVEN / WHEN
    const result = classifySwfError(fault('UnknownResourceFault', 'Unknown domain: orders'));
    // THEN
    expect(result).toMatchObject({ kind: 'failed', failure: 'unknown-domain' });
  });

  test('an UnknownResourceFault that names neither is not assumed harmless', () => {
    // GIVEN / WHEN
    const result = classifySwfError(fault('UnknownResourceFault', 'Unknown resource'));
    // THEN
    expect(result).toMatchObject({ kind: 'failed', failure: 'other' });
  });

  test.each([
    ['OperationNotPermittedFault', 'not-permitted'],
    ['ThrottlingException', 'other'],
    ['TimeoutError', 'other'],
  ])('%s is a failure (%s)', (name, failure) => {
    // GIVEN / WHEN
    const result = classifySwfError(fault(name, 'x'));
    // THEN
    expect(result).toMatchObject({ kind: 'failed', failure });
  });
});
