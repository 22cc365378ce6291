/**
 * Issue 4, unit level (fake clock, no server): the token bucket, the adaptive pacer, the pipeline, the
 * bounded de-duplication and the strict parsing of continuation events.
 */
import { fakeClock } from './support/handler-bulk';
import { config, NOW } from './support/handler-fixtures';
import { isContinuationEvent, parseContinuation, wireRequest } from '../lambda/continuation';
import { CONTINUATION_EVENT_KEY } from '../lambda/contract';
import { DomainNotAllowedError, InvalidRequestError } from '../lambda/errors';
import { MAX_IN_FLIGHT, MIN_IN_FLIGHT, Pacer, perInvocation, TokenBucket } from '../lambda/pacer';
import { RecentKeys, runPipeline } from '../lambda/pipeline';
import { parseRequest } from '../lambda/request';

describe('TokenBucket (fake clock)', () => {
  test('a full bucket gives its burst at once, then one token per 1/rate', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(10, 5, clock);
    for (let i = 0; i < 5; i++) expect(bucket.take()).toBeUndefined();
    expect(clock.state.t).toBe(0);
    for (let i = 0; i < 20; i++) await bucket.take();
    // 20 more tokens at 10/s: 2 s of simulated time.
    expect(clock.state.t).toBeGreaterThanOrEqual(1990);
    expect(clock.state.t).toBeLessThanOrEqual(2100);
  });

  test('drain empties it; a lower rate slows it', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(10, 5, clock);
    bucket.drain();
    bucket.setRate(2);
    await bucket.take();
    expect(clock.state.t).toBeGreaterThanOrEqual(500);
  });

  test('per-invocation share: rate / shares, burst / shares (at least 1)', () => {
    expect(perInvocation(50, 100, 4)).toEqual({ ratePerSecond: 12.5, burst: 25 });
    expect(perInvocation(50, 3, 10)).toEqual({ ratePerSecond: 5, burst: 1 });
  });
});

describe('Pacer', () => {
  test('throttling halves the rate (once per cool-down) down to a floor, then it recovers additively', () => {
    const clock = fakeClock();
    const pacer = new Pacer({ ratePerSecond: 40, burst: 10 }, clock);
    pacer.throttled();
    expect(pacer.currentRate).toBe(20);
    pacer.throttled(); // same instant: calls sent at the old rate, not a new signal
    expect(pacer.currentRate).toBe(20);
    for (let i = 0; i < 10; i++) {
      clock.state.t += 1000;
      pacer.throttled();
    }
    expect(pacer.currentRate).toBe(2); // configured / 20
    clock.state.t += 5000; // 5 s without throttling: +0.1 x 40 per second
    void pacer.acquire();
    expect(pacer.currentRate).toBeCloseTo(22, 5);
    clock.state.t += 60_000;
    void pacer.acquire();
    expect(pacer.currentRate).toBe(40);
    expect(pacer.throttles).toBe(12);
  });

  test('in-flight limit = clamp(ceil(rate x latency x 1.5) + 1, 2, 64)', () => {
    const pacer = new Pacer({ ratePerSecond: 50, burst: 10 }, fakeClock());
    pacer.observe(30);
    expect(pacer.inFlightLimit()).toBe(Math.ceil(50 * 0.03 * 1.5) + 1);
    const slow = new Pacer({ ratePerSecond: 1, burst: 1 }, fakeClock());
    slow.observe(10);
    expect(slow.inFlightLimit()).toBe(MIN_IN_FLIGHT);
    const fast = new Pacer({ ratePerSecond: 10_000, burst: 1 }, fakeClock());
    fast.observe(500);
    expect(fast.inFlightLimit()).toBe(MAX_IN_FLIGHT);
  });

  test('p99 of recent latencies, from a bounded ring', () => {
    const pacer = new Pacer({ ratePerSecond: 50, burst: 10 }, fakeClock());
    for (let i = 0; i < 10_000; i++) pacer.observe(i % 20 === 0 ? 900 : 10);
    expect(pacer.p99LatencyMs()).toBe(900);
  });
});

describe('runPipeline', () => {
  test('re-queues retried items, never loses one, respects the in-flight limit', async () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    let next = 0;
    const attempts = new Map<number, number>();
    let inFlight = 0;
    let maxInFlight = 0;
    const result = await runPipeline<number>({
      source: { next: () => items[next++] },
      act: async (item) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight--;
        const n = (attempts.get(item) ?? 0) + 1;
        attempts.set(item, n);
        return item % 7 === 0 && n < 3 ? 'retry' : 'done';
      },
      inFlightLimit: () => 4,
    });
    expect(result).toEqual({ stopped: false, requeued: [] });
    expect([...attempts.keys()].sort((a, b) => a - b)).toEqual(items);
    expect(attempts.get(14)).toBe(3);
    expect(maxInFlight).toBeLessThanOrEqual(4);
  });

  test('stops starting work when told to; in-flight work finishes; re-queued work is returned', async () => {
    let next = 0;
    let started = 0;
    const result = await runPipeline<number>({
      source: { next: () => (next < 100 ? next++ : undefined) },
      act: async (item) => {
        started++;
        await new Promise((r) => setImmediate(r));
        return item === 1 ? 'retry' : 'done';
      },
      inFlightLimit: () => 2,
      shouldStop: () => started >= 10,
    });
    expect(result.stopped).toBe(true);
    expect(started).toBeLessThanOrEqual(11);
    expect(next).toBeLessThan(100);
  });

  test('an error from the source is rethrown after the in-flight items finished', async () => {
    let finished = 0;
    let n = 0;
    const run = runPipeline<number>({
      source: {
        next: () => {
          if (n === 3) throw new Error('listing broke');
          return n++;
        },
      },
      act: async () => {
        await new Promise((r) => setImmediate(r));
        finished++;
        return 'done';
      },
      inFlightLimit: () => 5,
    });
    await expect(run).rejects.toThrow('listing broke');
    expect(finished).toBe(3);
  });
});

describe('RecentKeys: bounded de-duplication', () => {
  test('catches a repeat on the next page, forgets pages before that, stays at two pages of keys', () => {
    const recent = new RecentKeys();
    for (let page = 0; page < 200; page++) {
      for (let i = 0; i < 1000; i++) recent.add(`p${page}-${i}`);
      expect(recent.size).toBeLessThanOrEqual(2000);
      recent.rotate();
    }
    expect(recent.size).toBe(1000);
    expect(recent.has('p199-5')).toBe(true); // previous page
    recent.rotate();
    expect(recent.has('p199-5')).toBe(false);
    expect(recent.size).toBe(0);
  });
});

describe('continuation events: strict, re-validated', () => {
  const cfg = config({ MAX_CONTINUATIONS: '5' });
  const request = parseRequest(
    { domain: 'orders', selector: { tag: 't', startedBefore: '2025-05-01T00:00:00.000Z' }, reason: 'r' },
    cfg,
  );
  const body = () => ({
    version: 1,
    jobId: 'evt-1',
    sequence: 2,
    request: wireRequest(request),
    requestTime: '2025-06-01T11:00:00.000Z',
    provenance: {
      via: 'eventbridge',
      eventId: 'evt-1',
      source: 'ops',
      account: '123456789012',
      time: '2025-06-01T11:00:00Z',
    },
    progress: { target: 'selector' },
    totals: { matched: 5, terminated: 4, alreadyClosed: 1, failed: 0, wouldTerminate: 0 },
    failures: [],
  });
  const event = (b: Record<string, unknown> = body()) => ({ [CONTINUATION_EVENT_KEY]: b });

  test('round trip: the request, provenance, request time and totals come back', () => {
    expect(isContinuationEvent(event())).toBe(true);
    const parsed = parseContinuation(event(), cfg, NOW);
    expect(parsed.parsed.request).toEqual(request);
    expect(parsed.parsed.requestTime).toEqual(new Date('2025-06-01T11:00:00.000Z'));
    expect(parsed).toMatchObject({ jobId: 'evt-1', sequence: 2, totals: { terminated: 4 } });
  });

  test('a carried request time later than now is capped at now', () => {
    const parsed = parseContinuation(event({ ...body(), requestTime: '2030-01-01T00:00:00Z' }), cfg, NOW);
    expect(parsed.parsed.requestTime).toEqual(NOW);
  });

  test.each([
    ['an unknown field', { ...body(), extra: 1 }],
    ['a wrong version', { ...body(), version: 2 }],
    ['sequence 0', { ...body(), sequence: 0 }],
    ['a negative total', { ...body(), totals: { ...body().totals, failed: -1 } }],
    ['a bad provenance', { ...body(), provenance: { via: 'console' } }],
    ['an invalid embedded request', { ...body(), request: { domain: 'orders', selector: {} } }],
  ])('%s is refused with InvalidRequestError', (_name, b) => {
    expect(() => parseContinuation(event(b), cfg, NOW)).toThrow(InvalidRequestError);
  });

  test('an embedded request for a domain no longer allowed is refused', () => {
    const b = { ...body(), request: { ...wireRequest(request), domain: 'payments' } };
    expect(() => parseContinuation(event(b), cfg, NOW)).toThrow(DomainNotAllowedError);
  });

  test('an extra top-level key next to the marker is refused', () => {
    expect(() => parseContinuation({ ...event(), domain: 'orders' }, cfg, NOW)).toThrow(InvalidRequestError);
  });
});
