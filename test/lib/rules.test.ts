/**
 * The synthesized rule's event pattern, evaluated against sample events by a pattern evaluator
 * (test/support/construct-event-pattern.ts: a local implementation of EventBridge's matching rules,
 * since no matching library is available from this project's registry), not by re-reading the JSON.
 */
import { resourceNamed, synthTerminator } from '../support/construct-helpers';
import { matchesEventPattern } from '../support/construct-event-pattern';

/** A full EventBridge event envelope, as a rule sees it. */
function event(overrides: { source?: string; 'detail-type'?: string; detail?: unknown } = {}) {
  return {
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': 'SWF Termination Request',
    source: 'swf-terminator',
    account: '111122223333',
    time: '2025-01-01T00:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: { domain: 'orders', workflowId: 'order-42', reason: 'stuck' },
    ...overrides,
  };
}

// GIVEN the rule of a terminator for orders and billing
const { template } = synthTerminator({ domains: ['orders', 'billing'] });
const pattern = resourceNamed(template, 'AWS::Events::Rule', 'TerminatorRule').resource.Properties
  .EventPattern;
const controlPattern = resourceNamed(template, 'AWS::Events::Rule', 'TerminatorControlRule').resource
  .Properties.EventPattern;

describe('the rule pattern', () => {
  test.each([
    ['a request for a chosen domain', event()],
    ['a request for the other chosen domain', event({ detail: { domain: 'billing', workflowId: 'b-1' } })],
    ['a request with extra fields', event({ detail: { domain: 'orders', tags: ['a'], runId: 'r' } })],
  ])('MATCHES %s', (_name, sample) => {
    // WHEN / THEN
    expect(matchesEventPattern(pattern, sample)).toBe(true);
  });

  test.each([
    ['another detail-type', event({ 'detail-type': 'Something Else' })],
    ['a detail-type differing only in case', event({ 'detail-type': 'swf termination request' })],
    ['another source', event({ source: 'com.example.other' })],
    [
      "SWF's own state-change events",
      event({ source: 'aws.swf', 'detail-type': 'Simple Workflow Execution State Change' }),
    ],
    ['another domain', event({ detail: { domain: 'shipping', workflowId: 'x' } })],
    ['a prefix of a chosen domain', event({ detail: { domain: 'order', workflowId: 'x' } })],
    ['a chosen domain with a suffix', event({ detail: { domain: 'orders2', workflowId: 'x' } })],
    ['a domain differing only in case', event({ detail: { domain: 'Orders', workflowId: 'x' } })],
    ['a request without a domain', event({ detail: { workflowId: 'x' } })],
    ['a domain nested one level too deep', event({ detail: { domain: { name: 'orders' } } })],
    ['an event without detail', { ...event(), detail: undefined }],
  ])('does NOT match %s', (_name, sample) => {
    // WHEN / THEN
    expect(matchesEventPattern(pattern, JSON.parse(JSON.stringify(sample)))).toBe(false);
  });
});

describe('the control rule pattern: requests without a domain, to the control function', () => {
  test.each([
    ['an abort', event({ detail: { abort: { jobId: 'evt-1', reason: 'wrong tag' } } })],
    ['a status request', event({ detail: { status: { jobId: 'evt-1' } } })],
    ['a jobs request, empty', event({ detail: { jobs: {} } })],
    ['a jobs request with a state', event({ detail: { jobs: { state: 'RUNNING' } } })],
    ['a request without a domain (refused there, not lost)', event({ detail: { workflowId: 'x' } })],
  ])('MATCHES %s', (_name, sample) => {
    expect(matchesEventPattern(controlPattern, sample)).toBe(true);
    // ... and the termination rule does not: the control function's, not the terminating function's.
    expect(matchesEventPattern(pattern, sample)).toBe(false);
  });

  test.each([
    ['a termination request', event()],
    [
      'another source',
      event({ source: 'com.example.other', detail: { abort: { jobId: 'x', reason: 'y' } } }),
    ],
    ['another detail-type', event({ 'detail-type': 'Other', detail: { status: { jobId: 'x' } } })],
  ])('does NOT match %s', (_name, sample) => {
    expect(matchesEventPattern(controlPattern, sample)).toBe(false);
  });
});

describe('the pattern evaluator itself (EventBridge documentation examples)', () => {
  const ec2 = {
    source: 'aws.ec2',
    'detail-type': 'EC2 Instance State-change Notification',
    resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
    detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated', c: [{ d: 1 }, { d: 2 }] },
  };
  test.each([
    [{ source: ['aws.ec2'] }, true],
    [{ source: ['aws.s3', 'aws.ec2'] }, true],
    [{ source: ['aws.s3'] }, false],
    [{ detail: { state: ['running'] } }, false],
    [{ detail: { state: ['terminated'] }, source: ['aws.ec2'] }, true],
    [{ resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'] }, true],
    [{ detail: { c: { d: [2] } } }, true],
    [{ detail: { c: { d: [3] } } }, false],
    [{ detail: { state: [{ prefix: 'term' }] } }, true],
    [{ detail: { state: [{ suffix: 'ated' }] } }, true],
    [{ detail: { state: [{ 'anything-but': 'terminated' }] } }, false],
    [{ detail: { state: [{ 'anything-but': ['running', 'stopped'] }] } }, true],
    [{ detail: { missing: [{ exists: false }] } }, true],
    [{ detail: { state: [{ exists: true }] } }, true],
    [{ detail: { missing: [{ exists: true }] } }, false],
  ])('%j matches: %p', (p, expected) => {
    expect(matchesEventPattern(p, ec2)).toBe(expected);
  });

  test('an operator it does not implement is an error, not a silent verdict', () => {
    expect(() =>
      matchesEventPattern({ detail: { n: [{ numeric: ['>', 0] }] } }, { detail: { n: 1 } }),
    ).toThrow(/unsupported pattern operator "numeric"/);
  });
});
