/**
 * The pacing of calls to SWF (lambda/aws/pacer.ts), on a fake clock: the token bucket and the adaptive pacer.
 */
import { fakeClock } from '../../support/handler-bulk';
import {
  ISOLATED_DECREASE_FACTOR,
  MAX_IN_FLIGHT,
  MIN_IN_FLIGHT,
  Pacer,
  perInvocation,
  RECOVERY_PER_SECOND,
  TokenBucket,
} from '../../../lambda/aws/pacer';

describe('TokenBucket (fake clock)', () => {
  test('a full bucket gives its burst at once, then one token per 1/rate', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(10, 5, clock);
    for (let i = 0; i < 5; i++) await bucket.take();
    // The burst comes without a wait.
    expect(clock.state.slept).toBe(0);
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

  test('headroom: refilling stops short of capacity, tokens already there are kept', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(10, 10, clock);
    bucket.headroom = 3;
    expect(bucket.available()).toBe(10); // a new bucket still starts full
    for (let i = 0; i < 5; i++) await bucket.take();
    expect(clock.state.slept).toBe(0);
    clock.state.t += 10_000;
    expect(bucket.available()).toBe(7);
    bucket.headroom = 50; // at most capacity - 1
    expect(bucket.headroom).toBe(9);
  });

  test('per-invocation share: rate / shares, burst / shares (at least 1)', () => {
    expect(perInvocation(50, 100, 4)).toEqual({ ratePerSecond: 12.5, burst: 25 });
    expect(perInvocation(50, 3, 10)).toEqual({ ratePerSecond: 5, burst: 1 });
  });
});

describe('Pacer', () => {
  test('a storm (every recent call throttled) halves the rate once per cool-down, down to a floor, then it recovers additively', () => {
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

  test('an isolated throttle among many answered calls costs 10% (not half), drains the bucket, and is regained in about a second', () => {
    const clock = fakeClock();
    const pacer = new Pacer({ ratePerSecond: 600, burst: 2000 }, clock);
    for (let i = 0; i < 600; i++) {
      clock.state.t += 1000 / 600;
      pacer.observe(30);
    }
    expect(pacer.throttleDensity).toBe(0);
    pacer.throttled();
    expect(pacer.currentRate).toBeCloseTo(600 * ISOLATED_DECREASE_FACTOR, 5);
    expect(pacer.bucket.available()).toBe(0); // SWF said its bucket is empty: no burst into it
    expect(pacer.throttleDensity).toBeLessThan(0.01);
    // Recovery: configured x 0.1 per second, so 10% is back after 1 s.
    clock.state.t += 500;
    void pacer.acquire();
    expect(pacer.currentRate).toBeCloseTo(600 * (ISOLATED_DECREASE_FACTOR + RECOVERY_PER_SECOND / 2), 5);
    clock.state.t += 500;
    void pacer.acquire();
    expect(pacer.currentRate).toBe(600);
  });

  test('the decrease follows the throttle density, bounded to [x0.5, x0.9] per cool-down', () => {
    const at = (answered: number, throttled: number) => {
      const clock = fakeClock();
      const pacer = new Pacer({ ratePerSecond: 100, burst: 10 }, clock);
      for (let i = 0; i < answered; i++) pacer.observe(30);
      for (let i = 0; i < throttled; i++) pacer.throttled(); // same instant: one decrease, the first
      return { pacer, clock };
    };
    expect(at(99, 1).pacer.currentRate).toBeCloseTo(90, 5); // 1% throttled: the 10% minimum
    // A decision is taken on the first throttle of a cool-down; the next one, a cool-down later, sees the
    // density of the calls since (answered and throttled counts decay alike, time constant 250 ms).
    const { pacer, clock } = at(70, 1);
    expect(pacer.currentRate).toBeCloseTo(90, 5);
    for (let i = 0; i < 29; i++) pacer.throttled(); // 30 of 100 recent calls throttled
    clock.state.t += 250;
    const density = pacer.throttleDensity;
    pacer.throttled();
    expect(density).toBeCloseTo(0.3, 5);
    expect(pacer.currentRate).toBeGreaterThan(90 * 0.65); // x (1 - ~0.32): this throttle counts too
    expect(pacer.currentRate).toBeLessThan(90 * 0.7);
    expect(at(0, 1).pacer.currentRate).toBe(50); // every recent call throttled: halved, no more
  });

  test('old answers do not dilute a new storm: the counts decay', () => {
    const clock = fakeClock();
    const pacer = new Pacer({ ratePerSecond: 100, burst: 10 }, clock);
    for (let i = 0; i < 1000; i++) pacer.observe(30);
    clock.state.t += 5000; // 20 time constants later
    pacer.throttled();
    expect(pacer.throttleDensity).toBeGreaterThan(0.99);
    expect(pacer.currentRate).toBe(50); // treated as the storm it is: halved at once
  });

  test('against an account that leaves less than configured, the rate settles near what is left, far above the floor', async () => {
    const clock = fakeClock();
    const configured = 100;
    const left = 60; // the account's workflows use the rest
    const pacer = new Pacer({ ratePerSecond: configured, burst: 20 }, clock);
    const swf = new TokenBucket(left, 20, clock); // SWF's bucket as this terminator sees it
    const rates: number[] = [];
    let throttled = 0;
    let sent = 0;
    while (clock.state.t < 30_000) {
      await pacer.acquire();
      sent += 1;
      if (swf.tryTake() === 0) pacer.observe(30);
      else {
        throttled += 1;
        pacer.throttled();
      }
      if (clock.state.t >= 10_000) rates.push(pacer.currentRate);
    }
    const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
    expect(throttled).toBeGreaterThan(0);
    expect(pacer.currentRate).toBeLessThan(configured);
    expect(mean).toBeGreaterThan(left * 0.75);
    expect(mean).toBeLessThan(left * 1.15);
    expect(Math.min(...rates)).toBeGreaterThan(pacer.floorRate * 5);
    expect(throttled / sent).toBeLessThan(0.1);
  });

  test('the bucket refills only up to capacity less the in-flight limit (at most a quarter of it)', async () => {
    const clock = fakeClock();
    const pacer = new Pacer({ ratePerSecond: 600, burst: 2000 }, clock);
    pacer.observe(30);
    const limit = pacer.inFlightLimit();
    expect(limit).toBe(Math.ceil(600 * 0.03 * 1.5) + 1);
    expect(pacer.bucket.available()).toBe(2000); // starts full: SWF's starts full too
    for (let i = 0; i < 100; i++) await pacer.acquire();
    expect(clock.state.slept).toBe(0);
    expect(pacer.bucket.headroom).toBe(limit);
    expect(pacer.bucket.available()).toBe(1900); // not cut: only refilling stops short
    clock.state.t += 60_000;
    expect(pacer.bucket.available()).toBe(2000 - limit);

    const small = new Pacer({ ratePerSecond: 50, burst: 100 }, clock);
    small.observe(1000); // in-flight limit 76, but the headroom is at most a quarter of the burst
    for (let i = 0; i < 50; i++) await small.acquire();
    clock.state.t += 60_000;
    expect(small.bucket.available()).toBe(75);
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
