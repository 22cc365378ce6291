/**
 * A job's chunk event, read as strictly as the request that started the job, with the checks of what a job
 * carries beyond a request: a policy's job is accepted only as a run of a policy deployed with the function
 * (its digest), making exactly the request that policy makes, and its runs are confirmed against the
 * policy's match; cancelThenTerminate's record of the runs it asked names runs of its own list only.
 */
import { config, jobStateFixture, NOW } from '../../support/handler-fixtures';
import { isChunkEvent, parseChunkEvent } from '../../../lambda/parse/job-state';
import { parseRequest } from '../../../lambda/parse/request';
import { wireRequest } from '../../../lambda/job/wire';
import { DomainNotAllowedError, InvalidRequestError } from '../../../lambda/errors';
import type { JobState, PolicyText } from '../../../lambda/types';
import { type ActionValue, JOB_EVENT_KEY, type RequestWire } from '../../../lib/contract';
import { policyDigest } from '../../../lib/policy-contract';

const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:jobs:stalled-evt-9';

/** The policy as its rule delivers it: cancels stalled Checkout v1 runs in orders. */
const POLICY: PolicyText = {
  name: 'stalled',
  trigger: 'schedule',
  request: {
    domain: 'orders',
    selector: { workflowType: { name: 'Checkout', version: '1' }, stalled: true },
    action: 'requestCancel',
    maxExecutions: 100,
    dryRun: false,
  },
};

/** The function the policy was deployed with: its digest, and the grants it needs. */
const deployed = config({
  POLICY_DIGESTS: policyDigest(POLICY.name, POLICY.trigger, POLICY.request),
  CANCEL_DOMAINS: 'orders',
  DESCRIBE_DOMAINS: 'orders',
});

/** A chunk of the policy's job: the runs its sweep matched, as a list. */
function policyJob(overrides: Partial<JobState> = {}): JobState {
  return jobStateFixture({
    jobId: 'stalled-evt-9',
    request: {
      domain: 'orders',
      executions: [{ workflowId: 'order-1', runId: 'r-1' }],
      action: 'requestCancel',
      maxExecutions: 100,
      dryRun: false,
    },
    progress: { target: 'list', remaining: 1 },
    provenance: {
      via: 'policy',
      policy: 'stalled',
      trigger: 'schedule',
      eventId: 'evt-9',
      time: '2025-06-01T11:00:00Z',
    },
    policy: POLICY,
    ...overrides,
  });
}

const parse = (state: JobState, cfg = deployed) =>
  parseChunkEvent({ [JOB_EVENT_KEY]: state, execution: EXECUTION }, cfg, NOW);

function refusal(state: JobState, cfg = deployed): InvalidRequestError {
  try {
    parse(state, cfg);
  } catch (error: unknown) {
    expect(error).toBeInstanceOf(InvalidRequestError);
    return error as InvalidRequestError;
  }
  throw new Error('expected the chunk to be refused');
}

describe("a policy's job is checked like the policy's run", () => {
  test("GIVEN the deployed policy and the request it makes WHEN a chunk arrives THEN it parses, each run to be confirmed against the policy's match", () => {
    const chunk = parse(policyJob());

    expect(chunk.parsed.policy).toEqual(POLICY);
    expect(chunk.confirm).toEqual({ workflowType: { name: 'Checkout', version: '1' }, stalled: true });
    expect(chunk.settings.action).toBe('requestCancel');
  });

  test('GIVEN a policy that was not deployed with the function WHEN its job arrives THEN it is refused', () => {
    const forged: PolicyText = { ...POLICY, request: { ...(POLICY.request as object), maxExecutions: 5000 } };

    const { field, rule } = refusal(policyJob({ policy: forged }));

    expect(field).toBe(`${JOB_EVENT_KEY}.policy`);
    expect(rule).toMatch(/not a policy deployed with this function/);
  });

  test.each<[string, Partial<RequestWire>]>([
    ['an action the policy does not take', { action: 'cancelThenTerminate', gracePeriodSeconds: 600 }],
    ['a dry-run policy acting for real', { dryRun: true }],
    ['another domain', { domain: 'billing' }],
    ['another reason', { reason: 'because' }],
    ['a higher cap', { maxExecutions: 1000 }],
  ])(
    "GIVEN a policy's job whose request is not what the policy makes (%s) WHEN it arrives THEN it is refused",
    (_, change) => {
      // (a dry-run policy acting for real: the job's request drops the policy's dryRun: true)
      const policy: PolicyText =
        'dryRun' in change ? { ...POLICY, request: { ...(POLICY.request as object), dryRun: true } } : POLICY;
      const cfg = config({
        POLICY_DIGESTS: policyDigest(policy.name, policy.trigger, policy.request),
        CANCEL_DOMAINS: 'orders,billing',
        DESCRIBE_DOMAINS: 'orders,billing',
      });
      const request = { ...policyJob().request, ...change, ...('dryRun' in change ? { dryRun: false } : {}) };

      const { field } = refusal(policyJob({ policy, request }), cfg);

      expect(field).toBe(`${JOB_EVENT_KEY}.request`);
    },
  );

  test("GIVEN a policy's job with a selector other than the policy's match WHEN it arrives THEN it is refused", () => {
    const request: RequestWire = {
      domain: 'orders',
      selector: { workflowType: { name: 'Payment' } },
      action: 'requestCancel',
      maxExecutions: 100,
      dryRun: false,
    };

    const { field } = refusal(policyJob({ request, progress: { target: 'selector' } }));

    expect(field).toBe(`${JOB_EVENT_KEY}.request`);
  });

  test('GIVEN a job whose provenance names a policy but which carries none WHEN it arrives THEN it is refused', () => {
    const { policy: _policy, ...withoutPolicy } = policyJob();

    expect(refusal(withoutPolicy as JobState).field).toBe(`${JOB_EVENT_KEY}.policy`);
  });

  test("GIVEN a request's job (via the bus) that carries a policy WHEN it arrives THEN it is refused", () => {
    const state = policyJob({
      request: { domain: 'orders', executions: [{ workflowId: 'order-1', runId: 'r-1' }] },
      provenance: {
        via: 'eventbridge',
        eventId: 'evt-1',
        source: 'ops',
        account: '123456789012',
        time: '2025-06-01T11:00:00Z',
      },
    });

    expect(refusal(state).field).toBe(`${JOB_EVENT_KEY}.policy`);
  });

  test("GIVEN a policy's job naming another policy in its provenance WHEN it arrives THEN it is refused", () => {
    const state = policyJob({
      provenance: {
        via: 'policy',
        policy: 'other',
        trigger: 'schedule',
        eventId: 'evt-9',
        time: '2025-06-01T11:00:00Z',
      },
    });

    expect(refusal(state).field).toBe(`${JOB_EVENT_KEY}.policy`);
  });
});

describe("cancelThenTerminate's record of the runs it asked", () => {
  const asking = (asked: JobState['asked'], action: ActionValue = 'cancelThenTerminate') =>
    jobStateFixture({
      request: {
        domain: 'orders',
        executions: [
          { workflowId: 'a', runId: 'r-a' },
          { workflowId: 'b', runId: 'r-b' },
        ],
        action,
        ...(action === 'cancelThenTerminate' ? { gracePeriodSeconds: 600 } : {}),
      },
      progress: { target: 'list', remaining: 2 },
      asked,
    });
  const cancels = config({ CANCEL_REQUESTS: 'true', CANCEL_DOMAINS: 'orders,billing' });

  test('GIVEN runs asked, of its own list WHEN a chunk arrives THEN it parses with them', () => {
    const asked = [{ workflowId: 'a', runId: 'r-a', askedAt: '2025-06-01T11:00:00.000Z' }];

    expect(parse(asking(asked), cancels).state.asked).toEqual(asked);
  });

  test('GIVEN an asked run that is not in its list WHEN a chunk arrives THEN it is refused: a job terminates only runs it was given', () => {
    const asked = [{ workflowId: 'z', runId: 'r-z', askedAt: '2025-06-01T11:00:00.000Z' }];

    const { field, rule } = refusal(asking(asked), cancels);

    expect(field).toBe(`${JOB_EVENT_KEY}.asked.0`);
    expect(rule).toMatch(/must be one of the job's runs/);
  });

  test('GIVEN asked runs in a job that only terminates WHEN a chunk arrives THEN it is refused', () => {
    const asked = [{ workflowId: 'a', runId: 'r-a', askedAt: '2025-06-01T11:00:00.000Z' }];

    expect(refusal(asking(asked, 'terminate'), cancels).field).toBe(`${JOB_EVENT_KEY}.asked`);
  });
});

describe("a job's chunk events: strict, re-validated", () => {
  const cfg = config();
  const request = parseRequest(
    { domain: 'orders', selector: { tag: 't', startedBefore: '2025-05-01T00:00:00.000Z' }, reason: 'r' },
    cfg,
  );
  const body = () => jobStateFixture({ request: wireRequest(request) });
  const execution = 'arn:aws:states:us-east-1:123456789012:execution:jobs:evt-1';
  const event = (b: object = body()) => ({ [JOB_EVENT_KEY]: b, execution });

  test('round trip: the request, provenance, request time, settings and totals come back', () => {
    expect(isChunkEvent(event())).toBe(true);
    const parsed = parseChunkEvent(event(), cfg, NOW);
    expect(parsed.parsed.request).toEqual(request);
    expect(parsed.parsed.requestTime).toEqual(new Date('2025-06-01T11:00:00.000Z'));
    expect(parsed.execution).toBe(execution);
    expect(parsed.settings).toEqual({ dryRun: false, reason: 'r', limit: 1000, action: 'terminate' });
    expect(parsed.state).toMatchObject({ jobId: 'evt-1', chunks: 1, totals: { terminated: 4 } });
  });

  test('a carried request time later than now is capped at now', () => {
    const parsed = parseChunkEvent(event({ ...body(), requestTime: '2030-01-01T00:00:00Z' }), cfg, NOW);
    expect(parsed.parsed.requestTime).toEqual(NOW);
  });

  test.each([
    ['an unknown field', { ...body(), extra: 1 }],
    ['a wrong version (a job started by the version before)', { ...body(), version: 1 }],
    ['a negative chunk count', { ...body(), chunks: -1 }],
    ['an unknown status', { ...body(), status: 'paused' }],
    ['a negative total', { ...body(), totals: { ...body().totals, failed: -1 } }],
    ['a bad provenance', { ...body(), provenance: { via: 'console' } }],
    ['an invalid embedded request', { ...body(), request: { domain: 'orders', selector: {} } }],
  ])('%s is refused with InvalidRequestError', (_name, b) => {
    expect(() => parseChunkEvent(event(b), cfg, NOW)).toThrow(InvalidRequestError);
  });

  test('an embedded request for a domain no longer allowed is refused', () => {
    const b = { ...body(), request: { ...wireRequest(request), domain: 'payments' } };
    expect(() => parseChunkEvent(event(b), cfg, NOW)).toThrow(DomainNotAllowedError);
  });

  test('an extra top-level key next to the state is refused', () => {
    expect(() => parseChunkEvent({ ...event(), domain: 'orders' }, cfg, NOW)).toThrow(InvalidRequestError);
  });
});
