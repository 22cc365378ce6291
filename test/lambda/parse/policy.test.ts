/**
 * A policy run's event, read: the policy the construct wrote into its rule's target input, and the event that
 * triggered it (EventBridge's scheduled event, one of SWF's own, or an operator's preview). Refusals name the
 * field, and happen before any SWF call (parsePolicyEvent has no SWF to call).
 */
import { config } from '../../support/handler-fixtures';
import {
  deployedDigest,
  INVOKED_AT,
  policyOf,
  policyRun,
  POLICY_NAME,
  previewRun,
  REQUEST_TIME,
  SCHEDULE_EVENT_ID,
  SCHEDULED_TIME,
  scheduledEvent,
  swfEvent,
  swfFixture,
} from '../../support/policy-events';
import { type FunctionHome, parsePolicyEvent, type PolicyRun } from '../../../lambda/parse/policy';
import { DomainNotAllowedError, InvalidRequestError } from '../../../lambda/errors';
import type { Config } from '../../../lambda/config';

const cfg = config();
const REQUEST_ID = 'lambda-req-42';
/** The function's account and region: the published samples' (and the scheduled events'). */
const HOME: FunctionHome = { account: '444444444444', region: 'us-east-1' };
const selectorRequest = {
  domain: 'orders',
  selector: { tag: 'nightly', openLongerThanSeconds: 3600 },
  maxExecutions: 50,
  dryRun: false,
};

/** Parses `event` as a run of a policy deployed with the function (its digest in the configuration). */
function parse(event: unknown, configuration: Config = cfg, now: Date = INVOKED_AT): PolicyRun {
  const deployed = { ...configuration, policyDigests: [deployedDigest(event)] };
  return parsePolicyEvent(event, deployed, REQUEST_ID, HOME, now);
}

/** What `run` throws, failing the test when it returns. */
function refusalOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error: unknown) {
    return error;
  }
  throw new Error('expected the event to be refused');
}

/** The refusal `event` meets, failing the test when it parses. */
function refusal(event: unknown, configuration: Config = cfg): unknown {
  return refusalOf(() => parse(event, configuration));
}

/** The refusal, which must be an InvalidRequestError: its field and rule. */
function invalidField(event: unknown, configuration: Config = cfg): { field: string; rule: string } {
  const error = refusal(event, configuration);
  expect(error).toBeInstanceOf(InvalidRequestError);
  const { field, rule } = error as InvalidRequestError;
  return { field, rule };
}

describe('runs that parse', () => {
  test('GIVEN a scheduled event WHEN parsed THEN the policy sweeps its selector at the end of the stated second, as a policy', () => {
    // GIVEN
    const event = policyRun(policyOf(selectorRequest), scheduledEvent());

    // WHEN
    const run = parse(event);

    // THEN
    expect(run.name).toBe(POLICY_NAME);
    expect(run.trigger).toBe('schedule');
    expect(run.request).toEqual({
      domain: 'orders',
      target: { kind: 'selector', selector: { tag: 'nightly', openLongerThanSeconds: 3600 } },
      maxExecutions: 50,
      dryRun: false,
    });
    expect(run.requestTime).toEqual(REQUEST_TIME);
    expect(run.provenance).toEqual({
      via: 'policy',
      policy: POLICY_NAME,
      trigger: 'schedule',
      eventId: SCHEDULE_EVENT_ID,
      time: SCHEDULED_TIME,
    });
    expect(run.execution).toBeUndefined();
  });

  test('GIVEN an invocation earlier than the end of the stated second WHEN parsed THEN the request time is the invocation time', () => {
    // GIVEN
    const now = new Date('2025-06-01T12:00:00.400Z');

    // WHEN
    const run = parse(policyRun(policyOf(selectorRequest), scheduledEvent()), cfg, now);

    // THEN
    expect(run.requestTime).toEqual(now);
  });

  test('GIVEN a backstop sweep (a scheduled event) WHEN parsed THEN its trigger is backstop, in the provenance too', () => {
    // GIVEN
    const event = policyRun(policyOf(selectorRequest, { trigger: 'backstop' }), scheduledEvent());

    // WHEN
    const run = parse(event);

    // THEN
    expect(run.trigger).toBe('backstop');
    expect(run.provenance).toEqual({
      via: 'policy',
      policy: POLICY_NAME,
      trigger: 'backstop',
      eventId: SCHEDULE_EVENT_ID,
      time: SCHEDULED_TIME,
    });
    expect(run.requestTime).toEqual(REQUEST_TIME);
  });

  test('GIVEN a preview WHEN parsed THEN it is a dry run now, named by the invocation, whatever the policy says', () => {
    // GIVEN: the policy itself does not ask for a dry run
    const event = previewRun(policyOf(selectorRequest));

    // WHEN
    const run = parse(event);

    // THEN
    expect(run.trigger).toBe('preview');
    expect(run.request.dryRun).toBe(true);
    expect(run.requestTime).toEqual(INVOKED_AT);
    expect(run.provenance).toEqual({
      via: 'policy',
      policy: POLICY_NAME,
      trigger: 'preview',
      eventId: REQUEST_ID,
      time: INVOKED_AT.toISOString(),
    });
    expect(run.execution).toBeUndefined();
  });

  test("GIVEN SWF's published started event WHEN parsed THEN it names its run, and nothing else is read from it", () => {
    // GIVEN: the sample as published, for a policy on its domain
    const fixtureConfig = config({ ALLOWED_DOMAINS: 'SimpleWorkflowUserSimulator' });
    const policy = policyOf(
      {
        domain: 'SimpleWorkflowUserSimulator',
        selector: { workflowType: { name: 'SimpleWorkflowUserSimulator' } },
      },
      { trigger: 'event' },
    );
    const event = policyRun(policy, swfFixture('workflow-execution-started'));

    // WHEN
    const run = parse(event, fixtureConfig, new Date('2026-01-01T00:00:00Z'));

    // THEN: the run, by name only (its type, tags, start and activity are read from SWF before acting)
    expect(run.trigger).toBe('event');
    expect(run.execution).toEqual({ workflowId: '123456789012', runId: 'AKIAIOSFODNN7EXAMPLE' });
    expect(run.text).toEqual(policy);
    expect(run.provenance).toEqual({
      via: 'policy',
      policy: POLICY_NAME,
      trigger: 'event',
      eventId: '444444444444',
      time: '2020-05-08T15:57:38Z',
      eventType: 'WorkflowExecutionStarted',
    });
    expect(run.requestTime).toEqual(new Date('2020-05-08T15:57:38.999Z'));
  });

  test("GIVEN SWF's published completed event WHEN parsed THEN it parses (whether its run is open is SWF's to say)", () => {
    // GIVEN
    const event = policyRun(
      policyOf({ domain: 'orders', selector: { tag: 'nightly' } }, { trigger: 'event' }),
      swfEvent('workflow-execution-completed', { domain: 'orders' }),
    );

    // WHEN
    const run = parse(event, cfg, new Date('2026-01-01T00:00:00Z'));

    // THEN
    expect(run.execution).toEqual({ workflowId: '1234-5678-9012', runId: '777788889999' });
    expect(run.provenance.eventType).toBe('WorkflowExecutionCompleted');
  });

  test('GIVEN an SWF event that leaves out everything but the run and its event type WHEN parsed THEN it parses', () => {
    // GIVEN: no open counts, no start time, no type, no tags (SWF's detail names the run; the rest is not read)
    const event = swfEvent('workflow-execution-started', { domain: 'orders' }) as {
      detail: { workflowExecutionDetail: Record<string, unknown> };
    };
    const detail = event.detail.workflowExecutionDetail;
    delete detail.openCounts;
    delete detail.latestActivityTaskTimestamp;
    detail.executionInfo = { execution: { workflowId: 'order-7', runId: 'run-7' } };

    // WHEN
    const run = parse(policyRun(policyOf(selectorRequest, { trigger: 'event' }), event));

    // THEN
    expect(run.execution).toEqual({ workflowId: 'order-7', runId: 'run-7' });
  });

  test('GIVEN a cancelling policy WHEN CANCEL_DOMAINS has its domain (and requests may not cancel) THEN it parses', () => {
    // GIVEN
    const policyConfig = config({ CANCEL_DOMAINS: 'orders' });
    const event = policyRun(policyOf({ ...selectorRequest, action: 'requestCancel' }), scheduledEvent());

    // WHEN
    const run = parse(event, policyConfig);

    // THEN
    expect(run.request.action).toBe('requestCancel');
  });

  test('GIVEN a stalled policy WHEN DESCRIBE_DOMAINS has its domain THEN it parses', () => {
    // GIVEN
    const policyConfig = config({ DESCRIBE_DOMAINS: 'orders' });
    const event = policyRun(
      policyOf({ domain: 'orders', selector: { tag: 'nightly', stalled: true } }),
      scheduledEvent(),
    );

    // WHEN
    const run = parse(event, policyConfig);

    // THEN
    expect(run.request.target.selector).toEqual({ tag: 'nightly', stalled: true });
  });
});

describe('only policies deployed with the function act', () => {
  // A run carries its policy in the event; anyone who may put events on the bus or invoke the function could
  // write one. Only the policies the construct deployed (their digests in POLICY_DIGESTS) may act.
  const deployed = policyRun(policyOf(selectorRequest), scheduledEvent());
  const withDeployed = { ...cfg, policyDigests: [deployedDigest(deployed)] };

  test('GIVEN a policy that was never deployed WHEN its run arrives THEN it is refused, naming the policy', () => {
    const forged = policyRun(policyOf(selectorRequest, { name: 'not-deployed' }), scheduledEvent());

    const error = refusalOf(() => parsePolicyEvent(forged, withDeployed, REQUEST_ID, HOME, INVOKED_AT));

    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).field).toBe('swfTerminatorPolicy');
    expect((error as InvalidRequestError).rule).toMatch(/not a policy deployed with this function/);
  });

  test("GIVEN a deployed policy's name with a request it was not deployed with WHEN its run arrives THEN it is refused", () => {
    const widened = policyRun(
      policyOf({ ...selectorRequest, selector: { tag: 'nightly' }, maxExecutions: 1000 }),
      scheduledEvent(),
    );

    const error = refusalOf(() => parsePolicyEvent(widened, withDeployed, REQUEST_ID, HOME, INVOKED_AT));

    expect((error as InvalidRequestError).field).toBe('swfTerminatorPolicy');
  });

  test("GIVEN a deployed schedule policy WHEN a run of it poses as an SWF event's THEN it is refused", () => {
    const posing = policyRun(
      policyOf(selectorRequest, { trigger: 'event' }),
      swfEvent('workflow-execution-started', { domain: 'orders' }),
    );

    const error = refusalOf(() => parsePolicyEvent(posing, withDeployed, REQUEST_ID, HOME, INVOKED_AT));

    expect((error as InvalidRequestError).field).toBe('swfTerminatorPolicy');
  });

  test('GIVEN the deployed policy WHEN its run arrives THEN it parses', () => {
    expect(parsePolicyEvent(deployed, withDeployed, REQUEST_ID, HOME, INVOKED_AT).name).toBe(POLICY_NAME);
  });

  test('GIVEN a policy that was never deployed WHEN sent as a preview THEN it parses, as a dry run', () => {
    const preview = previewRun(policyOf(selectorRequest, { name: 'trying-out' }));

    const run = parsePolicyEvent(preview, withDeployed, REQUEST_ID, HOME, INVOKED_AT);

    expect(run.trigger).toBe('preview');
    expect(run.request.dryRun).toBe(true);
  });
});

describe('refusals name the field', () => {
  test('an unknown key beside the policy', () => {
    const event = { ...policyRun(policyOf(selectorRequest), scheduledEvent()), colour: 'red' };

    expect(invalidField(event).field).toBe('colour');
  });

  test('an unknown key in the policy', () => {
    const event = policyRun({ ...policyOf(selectorRequest), colour: 'red' }, scheduledEvent());

    expect(invalidField(event).field).toBe('swfTerminatorPolicy.colour');
  });

  test("an unknown key in the policy's request", () => {
    const event = policyRun(policyOf({ ...selectorRequest, colour: 'red' }), scheduledEvent());

    expect(invalidField(event).field).toBe('swfTerminatorPolicy.request.colour');
  });

  test.each([
    ['with a space', 'stuck orders'],
    ['empty', ''],
    ['longer than 40 characters', 'p'.repeat(41)],
  ])('a policy name %s', (_, name) => {
    const event = policyRun(policyOf(selectorRequest, { name }), scheduledEvent());

    expect(invalidField(event).field).toBe('swfTerminatorPolicy.name');
  });

  test('a request that names a workflowId rather than a selector', () => {
    const event = policyRun(policyOf({ domain: 'orders', workflowId: 'order-1' }), scheduledEvent());

    const { field, rule } = invalidField(event);

    expect(field).toBe('swfTerminatorPolicy.request');
    expect(rule).toMatch(/selector/);
  });

  test('a request that names an explicit list rather than a selector', () => {
    const event = policyRun(
      policyOf({ domain: 'orders', executions: [{ workflowId: 'order-1' }] }),
      scheduledEvent(),
    );

    expect(invalidField(event).field).toBe('swfTerminatorPolicy.request');
  });

  test('a scheduled policy triggered by an event from another source', () => {
    const event = policyRun(policyOf(selectorRequest), scheduledEvent({ source: 'ops.incident' }));

    const { field, rule } = invalidField(event);

    expect(field).toBe('event');
    expect(rule).toMatch(/Scheduled Event/);
  });

  test('a scheduled policy triggered by an event of another detail-type', () => {
    const event = policyRun(
      policyOf(selectorRequest),
      scheduledEvent({ 'detail-type': 'SWF Termination Request' }),
    );

    expect(invalidField(event).field).toBe('event');
  });

  test('an event policy triggered by a scheduled event', () => {
    const event = policyRun(policyOf(selectorRequest, { trigger: 'event' }), scheduledEvent());

    const { field, rule } = invalidField(event);

    expect(field).toBe('event');
    expect(rule).toMatch(/Simple Workflow Execution State Change/);
  });

  test('a backstop sweep triggered by an SWF event', () => {
    const event = policyRun(
      policyOf(selectorRequest, { trigger: 'backstop' }),
      swfEvent('workflow-execution-started', { domain: 'orders' }),
    );

    expect(invalidField(event).field).toBe('event');
  });

  test("an SWF event whose resources name another domain than the policy's", () => {
    const event = policyRun(
      policyOf(selectorRequest, { trigger: 'event' }),
      swfEvent('workflow-execution-started', { domain: 'billing' }),
    );

    const { field, rule } = invalidField(event);

    expect(field).toBe('event.resources');
    expect(rule).toMatch(/billing/);
  });

  test('an SWF event whose resources name no domain', () => {
    const event = policyRun(policyOf(selectorRequest, { trigger: 'event' }), {
      ...swfEvent('workflow-execution-started', { domain: 'orders' }),
      resources: [],
    });

    expect(invalidField(event).field).toBe('event.resources');
  });

  test('an SWF event whose detail does not name its run', () => {
    const event = swfEvent('workflow-execution-started', { domain: 'orders' }) as {
      detail: { workflowExecutionDetail: { executionInfo: { execution: Record<string, unknown> } } };
    };
    delete event.detail.workflowExecutionDetail.executionInfo.execution.runId;

    const { field } = invalidField(policyRun(policyOf(selectorRequest, { trigger: 'event' }), event));

    expect(field).toBe('event.detail.workflowExecutionDetail.executionInfo.execution.runId');
  });

  test("an SWF event from another account than the function's", () => {
    const event = policyRun(policyOf(selectorRequest, { trigger: 'event' }), {
      ...swfEvent('workflow-execution-started', { domain: 'orders' }),
      account: '999999999999',
    });

    const { field, rule } = invalidField(event);

    expect(field).toBe('event.account');
    expect(rule).toMatch(/444444444444/);
  });

  test("an SWF event from another region than the function's", () => {
    const event = policyRun(policyOf(selectorRequest, { trigger: 'event' }), {
      ...swfEvent('workflow-execution-started', { domain: 'orders' }),
      region: 'eu-west-1',
    });

    expect(invalidField(event).field).toBe('event.region');
  });

  test("an SWF event whose domain ARN is another account's (the envelope's account forged to match)", () => {
    const event = policyRun(policyOf(selectorRequest, { trigger: 'event' }), {
      ...swfEvent('workflow-execution-started', { domain: 'orders' }),
      resources: ['arn:aws:swf:us-east-1:999999999999:/domain/orders'],
    });

    expect(invalidField(event).field).toBe('event.resources');
  });

  test("an SWF event when the function's own account cannot be told (no invokedFunctionArn)", () => {
    const event = policyRun(
      policyOf(selectorRequest, { trigger: 'event' }),
      swfEvent('workflow-execution-started', { domain: 'orders' }),
    );
    const deployed = { ...cfg, policyDigests: [deployedDigest(event)] };

    const error = refusalOf(() => parsePolicyEvent(event, deployed, REQUEST_ID, undefined, INVOKED_AT));

    expect((error as InvalidRequestError).field).toBe('event.account');
  });

  test('preview together with an event', () => {
    const event = { ...policyRun(policyOf(selectorRequest), scheduledEvent()), preview: true };

    expect(invalidField(event).field).toBe('preview');
  });

  test('neither an event nor preview', () => {
    const event = { swfTerminatorPolicy: policyOf(selectorRequest) };

    const { field, rule } = invalidField(event);

    expect(field).toBe('event');
    expect(rule).toMatch(/preview: true/);
  });

  test('preview: false (only true is a preview)', () => {
    const event = { swfTerminatorPolicy: policyOf(selectorRequest), preview: false };

    expect(invalidField(event).field).toBe('preview');
  });

  test("trigger 'preview' written as the policy's trigger (a preview is asked for with preview: true)", () => {
    for (const event of [
      policyRun(policyOf(selectorRequest, { trigger: 'preview' }), scheduledEvent()),
      { swfTerminatorPolicy: policyOf(selectorRequest, { trigger: 'preview' }), preview: true },
    ]) {
      const { field, rule } = invalidField(event);

      expect(field).toBe('swfTerminatorPolicy.trigger');
      expect(rule).toMatch(/must be one of schedule, event, backstop/);
    }
  });

  test('an unknown trigger', () => {
    const event = policyRun({ ...policyOf(selectorRequest), trigger: 'hourly' }, scheduledEvent());

    expect(invalidField(event).field).toBe('swfTerminatorPolicy.trigger');
  });

  test('a domain that is not allowed: DomainNotAllowedError', () => {
    const event = policyRun(policyOf({ ...selectorRequest, domain: 'payroll' }), scheduledEvent());

    const error = refusal(event);

    expect(error).toBeInstanceOf(DomainNotAllowedError);
    expect((error as DomainNotAllowedError).domain).toBe('payroll');
  });

  test.each(['requestCancel', 'cancelThenTerminate'])(
    'action %s where CANCEL_DOMAINS lacks the domain',
    (action) => {
      const policyConfig = config({ CANCEL_DOMAINS: 'billing' });
      const event = policyRun(
        policyOf({
          ...selectorRequest,
          action,
          ...(action === 'cancelThenTerminate' ? { gracePeriodSeconds: 600 } : {}),
        }),
        scheduledEvent(),
      );

      const { field, rule } = invalidField(event, policyConfig);

      expect(field).toBe('swfTerminatorPolicy.request.action');
      expect(rule).toMatch(/only in billing/);
    },
  );

  test('stalled where DESCRIBE_DOMAINS lacks the domain', () => {
    const policyConfig = config({ DESCRIBE_DOMAINS: 'billing' });
    const event = policyRun(
      policyOf({ domain: 'orders', selector: { tag: 'nightly', stalled: true } }),
      scheduledEvent(),
    );

    const { field, rule } = invalidField(event, policyConfig);

    expect(field).toBe('swfTerminatorPolicy.request.selector.stalled');
    expect(rule).toMatch(/DescribeWorkflowExecution/);
  });

  test('idleLongerThanSeconds where DESCRIBE_DOMAINS is unset', () => {
    const event = policyRun(
      policyOf({ domain: 'orders', selector: { tag: 'nightly', idleLongerThanSeconds: 3600 } }),
      scheduledEvent(),
    );

    expect(invalidField(event).field).toBe('swfTerminatorPolicy.request.selector.idleLongerThanSeconds');
  });
});
