/**
 * An event policy's rule pattern, resolved for the account and region of SWF's published sample events and
 * evaluated (test/support/construct-event-pattern.ts, a local implementation of EventBridge's matching rules)
 * against those samples (test/fixtures/swf-events) and look-alikes: what it matches is what the policy means,
 * and what it matches, the handler accepts as a run of the policy on that execution.
 */
import { Duration } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { PolicyAction, PolicyTrigger, SwfEventType } from '../../lib';
import { parsePolicyEvent } from '../../lambda/parse/policy';
import { matchesEventPattern } from '../support/construct-event-pattern';
import { resolveIntrinsics } from '../support/construct-helpers';
import {
  handlerConfig,
  policyTarget,
  renderInput,
  ruleNamed,
  type SwfEvent,
  swfEventDomainArn,
  swfSample,
  synthWithPolicies,
} from '../support/policy-helpers';

/** Where the started sample comes from: its account, region and domain. */
const ENV = { partition: 'aws', account: '444444444444', region: 'us-east-1' };
const DOMAIN = 'SimpleWorkflowUserSimulator';
const SAMPLE_ARN = swfEventDomainArn(ENV, DOMAIN);

// GIVEN a terminator for the sample's domain (and another), in the sample's account and region, with event
// policies narrowed by type, type and version, tag and workflowId prefix
const { template } = synthWithPolicies(
  (terminator) => {
    const onStarted = PolicyTrigger.onExecutionEvent([SwfEventType.WORKFLOW_EXECUTION_STARTED]);
    terminator.addPolicy('TypeAndVersion', {
      domain: DOMAIN,
      trigger: onStarted,
      match: { workflowType: { name: 'SimpleWorkflowUserSimulator', version: 'myWorkflow' } },
      action: PolicyAction.terminate({ reason: 'retired' }),
    });
    terminator.addPolicy('AnyVersion', {
      domain: DOMAIN,
      trigger: onStarted,
      match: { workflowType: { name: 'SimpleWorkflowUserSimulator' } },
      action: PolicyAction.terminate(),
    });
    terminator.addPolicy('Tagged', {
      domain: DOMAIN,
      trigger: onStarted,
      match: { tag: 'nightly' },
      action: PolicyAction.terminate(),
    });
    terminator.addPolicy('Prefixed', {
      domain: DOMAIN,
      trigger: onStarted,
      match: { workflowIdPrefix: '1234' },
      action: PolicyAction.terminate(),
    });
    terminator.addPolicy('TimedOutTasks', {
      domain: DOMAIN,
      trigger: PolicyTrigger.onExecutionEvent([
        SwfEventType.ACTIVITY_TASK_TIMED_OUT,
        SwfEventType.DECISION_TASK_TIMED_OUT,
      ]),
      match: { workflowType: { name: 'SimpleWorkflowUserSimulator' }, idleLongerThan: Duration.minutes(5) },
      action: PolicyAction.requestCancel(),
    });
  },
  { domains: [DOMAIN, 'orders'] },
  { env: { account: ENV.account, region: ENV.region } },
);

/** The resolved event pattern of a policy's event rule. */
const patternOf = (policy: string, t: Template = template): unknown =>
  resolveIntrinsics(ruleNamed(t, `Terminator${policy}Events`).EventPattern, t, ENV);

/** The started sample, changed by `change`. */
function started(change: (event: SwfEvent) => void = () => undefined): SwfEvent {
  const event = swfSample('started');
  change(event);
  return event;
}

const info = (event: SwfEvent) => event.detail.workflowExecutionDetail.executionInfo;

describe('the resolved pattern', () => {
  test("names SWF's source and detail-type, the domain's ARN in the sample's account and region, and the type", () => {
    // WHEN / THEN
    expect(patternOf('TypeAndVersion')).toEqual({
      source: ['aws.swf'],
      'detail-type': ['Simple Workflow Execution State Change'],
      resources: [SAMPLE_ARN],
      detail: {
        eventType: ['WorkflowExecutionStarted'],
        workflowExecutionDetail: {
          executionInfo: {
            workflowType: { name: ['SimpleWorkflowUserSimulator'], version: ['myWorkflow'] },
          },
        },
      },
    });
  });

  test('a tag becomes a tagList value, a prefix a prefix filter on the workflowId', () => {
    // WHEN / THEN
    expect(patternOf('Tagged')).toMatchObject({
      detail: { workflowExecutionDetail: { executionInfo: { tagList: ['nightly'] } } },
    });
    expect(patternOf('Prefixed')).toMatchObject({
      detail: {
        workflowExecutionDetail: { executionInfo: { execution: { workflowId: [{ prefix: '1234' }] } } },
      },
    });
  });

  test('the sample really is of the type and version the policy names', () => {
    // THEN (the published sample, unchanged)
    expect(info(started()).workflowType).toEqual({
      name: 'SimpleWorkflowUserSimulator',
      version: 'myWorkflow',
    });
    expect(started().resources).toEqual([SAMPLE_ARN]);
  });
});

describe('a policy on the type and version of the started sample', () => {
  const pattern = patternOf('TypeAndVersion');

  test('MATCHES the started sample, as published', () => {
    // WHEN / THEN
    expect(matchesEventPattern(pattern, started())).toBe(true);
  });

  test.each([
    ['another domain', (e: SwfEvent) => (e.resources = [swfEventDomainArn(ENV, 'orders')])],
    ['a look-alike domain', (e: SwfEvent) => (e.resources = [`${SAMPLE_ARN}2`])],
    ['a prefix of the domain', (e: SwfEvent) => (e.resources = [SAMPLE_ARN.slice(0, -1)])],
    [
      'the domain in another account',
      (e: SwfEvent) => {
        e.account = '444455556666';
        e.resources = [swfEventDomainArn({ ...ENV, account: '444455556666' }, DOMAIN)];
      },
    ],
    [
      'the domain in another region',
      (e: SwfEvent) => {
        e.region = 'eu-west-1';
        e.resources = [swfEventDomainArn({ ...ENV, region: 'eu-west-1' }, DOMAIN)];
      },
    ],
    [
      'the domain in another partition',
      (e: SwfEvent) => (e.resources = [swfEventDomainArn({ ...ENV, partition: 'aws-cn' }, DOMAIN)]),
    ],
    [
      'the domain in the ARN form without a region (not the one SWF events carry)',
      (e: SwfEvent) => (e.resources = [`arn:aws:swf::${ENV.account}:/domain/${DOMAIN}`]),
    ],
    ['no resources', (e: SwfEvent) => (e.resources = [])],
    ['another type', (e: SwfEvent) => (info(e).workflowType.name = 'Checkout')],
    [
      'a type differing only in case',
      (e: SwfEvent) => (info(e).workflowType.name = 'simpleworkflowusersimulator'),
    ],
    ['another version', (e: SwfEvent) => (info(e).workflowType.version = 'myWorkflow2')],
    ['the event type DecisionTaskTimedOut', (e: SwfEvent) => (e.detail.eventType = 'DecisionTaskTimedOut')],
    [
      'the event type WorkflowExecutionCompleted',
      (e: SwfEvent) => (e.detail.eventType = 'WorkflowExecutionCompleted'),
    ],
    ['another source', (e: SwfEvent) => (e.source = 'com.example.swf')],
    ['another detail-type', (e: SwfEvent) => (e['detail-type'] = 'Simple Workflow Execution Started')],
  ])('does NOT match %s', (_name, change) => {
    // GIVEN
    const event = started(change);
    // WHEN / THEN
    expect(matchesEventPattern(pattern, event)).toBe(false);
  });

  test.each(['completed', 'failed', 'timed-out', 'terminated'] as const)(
    'does NOT match the %s sample (another event type, account, and for terminated another domain and type)',
    (name) => {
      // WHEN / THEN
      expect(matchesEventPattern(pattern, swfSample(name))).toBe(false);
    },
  );

  test('MATCHES when the domain is one of several resources', () => {
    // GIVEN
    const event = started((e) => (e.resources = [swfEventDomainArn(ENV, 'orders'), SAMPLE_ARN]));
    // WHEN / THEN
    expect(matchesEventPattern(pattern, event)).toBe(true);
  });
});

describe('a policy on the type alone', () => {
  const pattern = patternOf('AnyVersion');

  test.each([
    ['the started sample', started()],
    ['another version', started((e) => (info(e).workflowType.version = '2'))],
  ])('MATCHES %s', (_name, event) => {
    expect(matchesEventPattern(pattern, event)).toBe(true);
  });

  test('does NOT match another type', () => {
    expect(
      matchesEventPattern(
        pattern,
        started((e) => (info(e).workflowType.name = 'Other')),
      ),
    ).toBe(false);
  });
});

describe('a policy on a tag', () => {
  const pattern = patternOf('Tagged');

  test.each([
    ['the tag alone', ['nightly']],
    ['the tag among others', ['team-a', 'nightly', 'x']],
  ])('MATCHES a tagList with %s', (_name, tags) => {
    // GIVEN
    const event = started((e) => (info(e).tagList = tags));
    // WHEN / THEN
    expect(matchesEventPattern(pattern, event)).toBe(true);
  });

  test.each([
    ['null, as in every sample', null],
    ['empty', []],
    ['other tags only', ['daily', 'team-a']],
    ['the tag in another case', ['Nightly']],
    ['a tag the policy tag is a prefix of', ['nightly-2']],
    ['absent', undefined],
  ])('does NOT match a tagList %s', (_name, tags) => {
    // GIVEN
    const event = started((e) => {
      if (tags === undefined) delete info(e).tagList;
      else info(e).tagList = tags;
    });
    // WHEN / THEN
    expect(matchesEventPattern(pattern, event)).toBe(false);
  });

  test('does NOT match the started sample as published (its tagList is null)', () => {
    expect(matchesEventPattern(pattern, started())).toBe(false);
  });
});

describe('a policy on a workflowId prefix', () => {
  const pattern = patternOf('Prefixed');

  test.each([
    ["the sample's workflowId 123456789012", '123456789012'],
    ['the prefix itself', '1234'],
    ['another id starting with it', '1234-order-7'],
  ])('MATCHES %s', (_name, workflowId) => {
    // GIVEN
    const event = started((e) => (info(e).execution.workflowId = workflowId));
    // WHEN / THEN
    expect(matchesEventPattern(pattern, event)).toBe(true);
  });

  test.each([
    ['with the prefix inside, not at the start', '01234'],
    ['a prefix of the prefix', '123'],
    ['another id', 'order-1234'],
    ['no workflowId', undefined],
  ])('does NOT match a workflowId %s', (_name, workflowId) => {
    // GIVEN
    const event = started((e) => {
      if (workflowId === undefined) delete info(e).execution.workflowId;
      else info(e).execution.workflowId = workflowId;
    });
    // WHEN / THEN
    expect(matchesEventPattern(pattern, event)).toBe(false);
  });
});

describe('a policy on several non-starting event types', () => {
  const pattern = patternOf('TimedOutTasks');

  test.each(['ActivityTaskTimedOut', 'DecisionTaskTimedOut'])(
    'MATCHES the started sample as a %s event',
    (type) => {
      expect(
        matchesEventPattern(
          pattern,
          started((e) => (e.detail.eventType = type)),
        ),
      ).toBe(true);
    },
  );

  test.each(['WorkflowExecutionStarted', 'ActivityTaskFailed', 'WorkflowExecutionTimedOut'])(
    'does NOT match a %s event',
    (type) => {
      expect(
        matchesEventPattern(
          pattern,
          started((e) => (e.detail.eventType = type)),
        ),
      ).toBe(false);
    },
  );
});

describe('what a policy rule matches, the handler accepts as a run of that policy on that execution', () => {
  const config = handlerConfig(template, ENV);
  const now = new Date('2025-01-01T00:00:00Z');

  test.each([
    ['TypeAndVersion', started()],
    ['AnyVersion', started((e) => (info(e).workflowType.version = '2'))],
    ['Tagged', started((e) => (info(e).tagList = ['team-a', 'nightly']))],
    ['Prefixed', started((e) => (info(e).execution.workflowId = '1234-order-7'))],
    ['TimedOutTasks', started((e) => (e.detail.eventType = 'ActivityTaskTimedOut'))],
  ])('%s', (policy, event) => {
    // GIVEN the rule delivers the event
    expect(matchesEventPattern(patternOf(policy), event)).toBe(true);
    // WHEN its target renders the input and the handler parses it
    const input = renderInput(policyTarget(template, `Terminator${policy}Events`).transformer, event);
    const run = parsePolicyEvent(
      input,
      config,
      'request-1',
      { account: ENV.account, region: ENV.region },
      now,
    );
    // THEN
    expect(run.name).toBe(policy);
    expect(run.trigger).toBe('event');
    expect(run.provenance.eventType).toBe(event.detail.eventType);
    expect(run.execution).toMatchObject({
      workflowId: info(event).execution.workflowId,
      runId: 'AKIAIOSFODNN7EXAMPLE',
    });
  });
});
