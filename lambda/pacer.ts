/**
 * Client-side pacing of SWF calls: a token bucket per API, an adaptive rate that backs off when SWF
 * throttles anyway, and an in-flight limit sized from rate x latency so the rate is reached without leaning
 * on throttling errors.
 *
 * The clock is injectable ({@link Clock}) so tests can drive time instead of waiting for it.
 */
import { performance } from 'node:perf_hooks';

/** Time source and timer. Milliseconds; `now` need only be monotonic. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The real clock: `performance.now()` and `setTimeout`. */
export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) =>
    new Promise<void>((resolve) => {
      setTimeout(resolve, ms);
    }),
};

/**
 * A token bucket: `capacity` tokens of burst, refilled continuously at `rate` per second; starts full.
 * {@link take} answers `undefined` (no promise, no timer) when a token is there, which keeps the common
 * single-request path free of pacing cost.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private rate: number,
    readonly capacity: number,
    private readonly clock: Clock = realClock,
  ) {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be > 0 (got ${rate})`);
    if (!(capacity >= 1)) throw new RangeError(`capacity must be >= 1 (got ${capacity})`);
    this.tokens = capacity;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    if (now > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate);
    }
    this.last = now;
  }

  /** The refill rate, per second. */
  get ratePerSecond(): number {
    return this.rate;
  }

  /** Changes the refill rate from now on (tokens accrued so far are kept). */
  setRate(rate: number): void {
    this.refill();
    this.rate = rate;
  }

  /** Empties the bucket (the server just said it has no tokens: do not burst into it again). */
  drain(): void {
    this.refill();
    this.tokens = Math.min(this.tokens, 0);
  }

  /** Takes a token if there is one (0), else answers how many ms until there will be. */
  tryTake(): number {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) / this.rate) * 1000));
  }

  /**
   * Takes a token: `undefined` when one was available now, else a promise that resolves once one was
   * taken. Callers are expected to take one at a time (the pipeline has a single dispatching loop).
   */
  take(): Promise<void> | undefined {
    const wait = this.tryTake();
    if (wait === 0) return undefined;
    return this.waitAndTake(wait);
  }

  private async waitAndTake(firstWait: number): Promise<void> {
    let wait = firstWait;
    while (wait > 0) {
      await this.clock.sleep(wait);
      wait = this.tryTake();
    }
  }
}

/** The rate and burst one invocation may use: the configured totals divided among `shares` invocations. */
export function perInvocation(
  ratePerSecond: number,
  burst: number,
  shares: number,
): { ratePerSecond: number; burst: number } {
  return { ratePerSecond: ratePerSecond / shares, burst: Math.max(1, Math.floor(burst / shares)) };
}

/** Latency assumed before any call was observed (ms). */
export const INITIAL_LATENCY_MS = 50;
/** Bounds of the in-flight limit. */
export const MIN_IN_FLIGHT = 2;
export const MAX_IN_FLIGHT = 64;
/** After throttling the rate never falls below configured / this. */
export const THROTTLE_FLOOR_DIVISOR = 20;
/** Without throttling, the rate regains this fraction of the configured rate per second. */
export const RECOVERY_PER_SECOND = 0.1;
/** Latency samples kept for the p99 (a ring buffer: memory is constant). */
const LATENCY_SAMPLES = 256;

/**
 * A token bucket with an adaptive rate and a latency-sized in-flight limit.
 *
 * - `acquire()` before every call (one caller at a time).
 * - `observe(ms)` after every call that reached SWF and was not throttled: feeds the latency EWMA (for the
 *   in-flight limit) and the p99 (for the continuation reserve).
 * - `throttled()` when a throttling error reached the handler: the rate halves (at most once per
 *   cool-down, since the calls already in flight were sent at the old rate), down to configured / 20, and
 *   the bucket is drained; it then recovers additively (configured / 10 per second) while no throttling
 *   arrives.
 */
export class Pacer {
  readonly bucket: TokenBucket;
  readonly configuredRate: number;
  readonly floorRate: number;
  private rate: number;
  private latencyEwma = INITIAL_LATENCY_MS;
  private readonly samples = new Float64Array(LATENCY_SAMPLES);
  private sampleCount = 0;
  private p99Cache = 0;
  private p99At = -1;
  private lastThrottle = Number.NEGATIVE_INFINITY;
  private lastHalving = Number.NEGATIVE_INFINITY;
  private lastRecovery: number;
  /** Throttling errors that reached the pacer (for the logs). */
  throttles = 0;

  constructor(
    settings: { ratePerSecond: number; burst: number },
    private readonly clock: Clock = realClock,
  ) {
    this.configuredRate = settings.ratePerSecond;
    this.floorRate = settings.ratePerSecond / THROTTLE_FLOOR_DIVISOR;
    this.rate = settings.ratePerSecond;
    this.bucket = new TokenBucket(settings.ratePerSecond, settings.burst, clock);
    this.lastRecovery = clock.now();
  }

  /** The current (possibly reduced) rate, per second. */
  get currentRate(): number {
    return this.rate;
  }

  /** Takes a token; `undefined` when no wait was needed. */
  acquire(): Promise<void> | undefined {
    if (this.rate < this.configuredRate) this.recover();
    return this.bucket.take();
  }

  private recover(): void {
    const now = this.clock.now();
    const since = Math.max(this.lastRecovery, this.lastThrottle);
    if (now > since) {
      const gained = this.configuredRate * RECOVERY_PER_SECOND * ((now - since) / 1000);
      this.rate = Math.min(this.configuredRate, this.rate + gained);
      this.bucket.setRate(this.rate);
    }
    this.lastRecovery = now;
  }

  /** Records the latency of a call that SWF answered (not throttled). */
  observe(ms: number): void {
    this.latencyEwma = this.sampleCount === 0 ? ms : this.latencyEwma * 0.8 + ms * 0.2;
    this.samples[this.sampleCount % LATENCY_SAMPLES] = ms;
    this.sampleCount += 1;
  }

  /** The EWMA of observed latency (ms). */
  get latencyMs(): number {
    return this.latencyEwma;
  }

  /**
   * The 99th percentile of the last 256 latencies (ms); 0 before any call. Recomputed (a sort of at most
   * 256 numbers) after every 32 new samples at most, so asking for it on every call costs nothing.
   */
  p99LatencyMs(): number {
    if (this.p99At >= 0 && this.sampleCount - this.p99At < 32) return this.p99Cache;
    const n = Math.min(this.sampleCount, LATENCY_SAMPLES);
    if (n === 0) return 0;
    const sorted = Array.from(this.samples.subarray(0, n)).sort((a, b) => a - b);
    this.p99Cache = sorted[Math.min(n - 1, Math.ceil(n * 0.99) - 1)] ?? 0;
    this.p99At = this.sampleCount;
    return this.p99Cache;
  }

  /** How many calls may be in flight: clamp(ceil(rate x latency x 1.5) + 1, 2, 64). */
  inFlightLimit(): number {
    const wanted = Math.ceil(this.rate * (this.latencyEwma / 1000) * 1.5) + 1;
    return Math.min(MAX_IN_FLIGHT, Math.max(MIN_IN_FLIGHT, wanted));
  }

  /** A throttling error reached the handler: slow down. */
  throttled(): void {
    const now = this.clock.now();
    this.throttles += 1;
    const coolDown = Math.max(250, 3 * this.latencyEwma);
    if (now - this.lastHalving >= coolDown) {
      this.rate = Math.max(this.floorRate, this.rate / 2);
      this.bucket.setRate(this.rate);
      this.lastHalving = now;
    }
    this.lastThrottle = now;
    this.bucket.drain();
  }
}
