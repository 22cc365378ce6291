/**
 * Client-side pacing of SWF calls: a token bucket per API, an adaptive rate that backs off when SWF
 * throttles anyway, and an in-flight limit sized from rate x latency so the rate is reached without leaning
 * on throttling errors.
 *
 * The clock is injectable ({@link Clock}) so tests can drive time instead of waiting for it.
 */
/** Milliseconds from a monotonic clock. */
export function monotonicMs(): number {
  return performance.now();
}

/** Time source and timer. Milliseconds; `now` need only be monotonic. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The real clock: {@link monotonicMs} and `setTimeout`. */
export const realClock: Clock = {
  now: monotonicMs,
  sleep: (ms) =>
    new Promise<void>((resolve) => {
      setTimeout(resolve, ms);
    }),
};

/**
 * A token bucket: `capacity` tokens of burst, refilled continuously at `rate` per second; starts full.
 *
 * With a {@link headroom}, refilling stops that many tokens short of `capacity` (tokens already there are
 * kept, so a new bucket still starts full).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private reserve = 0;

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
    const ceiling = this.capacity - this.reserve;
    if (now > this.last && this.tokens < ceiling) {
      this.tokens = Math.min(ceiling, this.tokens + ((now - this.last) / 1000) * this.rate);
    }
    this.last = now;
  }

  /** Tokens refilling stops short of `capacity` (0 by default; at most capacity - 1). */
  get headroom(): number {
    return this.reserve;
  }

  set headroom(tokens: number) {
    this.refill();
    this.reserve = Math.min(this.capacity - 1, Math.max(0, Math.floor(tokens)));
  }

  /** Tokens available now (fractional). */
  available(): number {
    this.refill();
    return this.tokens;
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
   * Takes a token, waiting until there is one. Callers take one at a time (the pipeline has a single
   * dispatching loop).
   */
  async take(): Promise<void> {
    for (let wait = this.tryTake(); wait > 0; wait = this.tryTake()) {
      await this.clock.sleep(wait);
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
/**
 * A decrease multiplies the rate by (1 - throttle density), kept within these bounds: an isolated throttle
 * (the edge of the bucket, jitter) still costs 10%, a storm at most halves the rate per cool-down.
 */
export const ISOLATED_DECREASE_FACTOR = 0.9;
export const STORM_DECREASE_FACTOR = 0.5;
/** Time constant (ms) of the decayed counts of answered and throttled calls behind the throttle density. */
export const DENSITY_WINDOW_MS = 250;
/** The bucket's headroom (see {@link Pacer}) is at most capacity / this. */
export const HEADROOM_MAX_DIVISOR = 4;
/** Latency samples kept for the p99 (a ring buffer: memory is constant). */
const LATENCY_SAMPLES = 256;

/**
 * A token bucket with an adaptive rate and a latency-sized in-flight limit.
 *
 * - `acquire()` before every call (one caller at a time). The bucket refills only up to its capacity less
 *   the in-flight limit (at most a quarter of it): this bucket counts a call when it is sent, SWF's when it
 *   arrives, so while SWF's bucket sits full (the terminator sends slower than the refill, e.g. while
 *   listing or warming up) it wastes refill for the calls in transit that this one still counts, and at the
 *   end of the burst this bucket would believe in tokens SWF no longer has: a handful of throttles exactly
 *   when the burst runs out, at a rate configured to the account's limit. The headroom costs at most that
 *   many tokens of burst, and only once the bucket has been used.
 * - `observe(ms)` after every call that reached SWF and was not throttled: feeds the latency EWMA (for the
 *   in-flight limit) and the p99 (for the end-of-invocation reserve).
 * - `throttled()` when a throttling error reached the handler: the bucket is drained (SWF just said its own
 *   is empty) and, at most once per cool-down (calls already in flight were sent at the old rate), the rate
 *   is multiplied by 1 - the throttle density: the share of recent calls (decayed counts, time constant
 *   {@link DENSITY_WINDOW_MS}) that were throttled, kept within [0.5, 0.9]. Sending at r while the account
 *   leaves a to the terminator throttles about (r - a) / r of the calls, so r x (1 - density) ~ a: a storm
 *   brings the rate down to what is left in a few cool-downs (at most halving each time, down to
 *   configured / 20), while an isolated throttle (the edge of a bucket run at exactly the account's limit,
 *   request jitter) costs 10% for about a second instead of half the rate for five.
 *   Without throttling the rate recovers additively (configured / 10 per second).
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
  private lastDecrease = Number.NEGATIVE_INFINITY;
  /** Decayed counts of answered and throttled calls (time constant DENSITY_WINDOW_MS), as of `countedAt`. */
  private answered = 0;
  private throttledRecently = 0;
  private countedAt: number;
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
    this.countedAt = this.lastRecovery;
  }

  /** The current (possibly reduced) rate, per second. */
  get currentRate(): number {
    return this.rate;
  }

  /** Takes a token, waiting for one. */
  acquire(): Promise<void> {
    if (this.rate < this.configuredRate) this.recover();
    const headroom = Math.min(this.inFlightLimit(), Math.floor(this.bucket.capacity / HEADROOM_MAX_DIVISOR));
    if (headroom !== this.bucket.headroom) this.bucket.headroom = headroom;
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
    this.decayCounts();
    this.answered += 1;
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

  /** Ages the answered / throttled counts to now (exponential decay, time constant DENSITY_WINDOW_MS). */
  private decayCounts(): void {
    const now = this.clock.now();
    if (now > this.countedAt) {
      const keep = Math.exp(-(now - this.countedAt) / DENSITY_WINDOW_MS);
      this.answered *= keep;
      this.throttledRecently *= keep;
    }
    this.countedAt = now;
  }

  /** Share of recent calls (decayed) that were throttled, 0..1. */
  get throttleDensity(): number {
    this.decayCounts();
    const total = this.answered + this.throttledRecently;
    return total > 0 ? this.throttledRecently / total : 0;
  }

  /** A throttling error reached the handler: drain the bucket and, once per cool-down, slow down. */
  throttled(): void {
    const now = this.clock.now();
    this.throttles += 1;
    this.decayCounts();
    this.throttledRecently += 1;
    const coolDown = Math.max(250, 3 * this.latencyEwma);
    if (now - this.lastDecrease >= coolDown) {
      const factor = Math.min(
        ISOLATED_DECREASE_FACTOR,
        Math.max(STORM_DECREASE_FACTOR, 1 - this.throttleDensity),
      );
      this.rate = Math.max(this.floorRate, this.rate * factor);
      this.bucket.setRate(this.rate);
      this.lastDecrease = now;
    }
    this.lastThrottle = now;
    this.bucket.drain();
  }
}
