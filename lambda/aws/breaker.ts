/**
 * An event policy's circuit breaker: at most `cap` runs acted on in any rolling window of `windowMs`, counted
 * exactly across concurrent invocations. Once a run is refused for want of room, the breaker is tripped:
 * the policy acts on nothing more (a run already counted excepted: a duplicate delivery of it) until the
 * window has passed since the trip, or an operator resets it. Every run it passes over is counted.
 *
 * The count lives in one record per policy (lambda/aws/breaker-table.ts keeps it in DynamoDB). Each change is
 * a read, a decision by {@link judge} (pure), and a write that holds only if nobody wrote in between (the
 * record's version); a write that loses is tried again on a fresh read. A run is keyed by its workflowId and
 * runId, so a run delivered twice is counted once: at-least-once delivery never uses up the cap.
 */

import { createHash } from 'node:crypto';
import { realClock } from './pacer';

/** An event policy's bound: runs acted on per rolling window. */
export interface BreakerLimits {
  readonly cap: number;
  readonly windowMs: number;
}

/** Who reset a breaker, and why. */
export interface BreakerReset {
  readonly at: number;
  readonly by: string;
  readonly reason: string;
}

/** One policy's breaker, as stored. Times in ms since the epoch. */
export interface BreakerRecord {
  /** Runs acted on, by key, with when: those newer than `now - window` are the window's count. */
  readonly acted: Readonly<Record<string, number>>;
  /** When the latest trip began (kept after it ends or is reset, as history). */
  readonly trippedAt?: number;
  /** Runs passed over since the latest trip began. */
  readonly passedOver: number;
  /** Runs passed over, ever (while the record lives). */
  readonly passedOverTotal: number;
  /** Bumped by every write: a write holds only on the version it read. */
  readonly version: number;
  readonly lastReset?: BreakerReset;
}

/** A policy that never acted. */
export const EMPTY_BREAKER: BreakerRecord = { acted: {}, passedOver: 0, passedOverTotal: 0, version: 0 };

export type Verdict = 'admitted' | 'passed-over';

/**
 * The key a run is counted under: a digest of its workflowId and runId, 16 characters whatever their length
 * (up to 256 and 64), so that a record of lib/policy-validation.ts's EVENT_POLICY_MAX_EXECUTIONS entries stays
 * well inside DynamoDB's 400 KB item. 96 bits: two runs of one window sharing a key is not a practical concern.
 */
export function runKey(workflowId: string, runId: string): string {
  return createHash('sha256')
    .update(JSON.stringify([workflowId, runId]))
    .digest('base64url')
    .slice(0, 16);
}

/** True while a trip is in force: it began less than a window ago, and no reset came after it. */
export function isTripped(record: BreakerRecord, now: number, { windowMs }: BreakerLimits): boolean {
  const { trippedAt, lastReset } = record;
  return trippedAt !== undefined && trippedAt > now - windowMs && trippedAt > (lastReset?.at ?? 0);
}

/**
 * Whether the run `key` may be acted on now, and the record to write (undefined: nothing changes, as for a
 * run already counted in the window). Acted-on entries older than the window are dropped as it is written.
 */
export function judge(
  record: BreakerRecord,
  key: string,
  now: number,
  limits: BreakerLimits,
): { readonly verdict: Verdict; readonly next?: BreakerRecord } {
  const since = now - limits.windowMs;
  const acted = Object.fromEntries(Object.entries(record.acted).filter(([, at]) => at > since));
  if (key in acted) return { verdict: 'admitted' };
  const tripped = isTripped(record, now, limits);
  const version = record.version + 1;
  if (!tripped && Object.keys(acted).length < limits.cap) {
    return { verdict: 'admitted', next: { ...record, acted: { ...acted, [key]: now }, version } };
  }
  return {
    verdict: 'passed-over',
    next: {
      ...record,
      acted,
      // (a trip begun after a reset is always later than it, even within the same millisecond)
      trippedAt: tripped ? (record.trippedAt ?? now) : Math.max(now, (record.lastReset?.at ?? 0) + 1),
      passedOver: (tripped ? record.passedOver : 0) + 1,
      passedOverTotal: record.passedOverTotal + 1,
      version,
    },
  };
}

/** A policy's breaker as an operator reads it. */
export interface BreakerStatus {
  readonly cap: number;
  readonly windowSeconds: number;
  /** Runs acted on in the window that ends now. */
  readonly actedInWindow: number;
  readonly tripped: boolean;
  /** When the latest trip began (ISO), if it ever tripped. */
  readonly trippedSince?: string;
  /** When a trip in force ends by itself (ISO). */
  readonly trippedUntil?: string;
  /** Runs passed over since the latest trip began. */
  readonly passedOver: number;
  readonly passedOverTotal: number;
  readonly lastReset?: { readonly at: string; readonly by: string; readonly reason: string };
}

export function statusOf(record: BreakerRecord, now: number, limits: BreakerLimits): BreakerStatus {
  const since = now - limits.windowMs;
  const tripped = isTripped(record, now, limits);
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    cap: limits.cap,
    windowSeconds: limits.windowMs / 1000,
    actedInWindow: Object.values(record.acted).filter((at) => at > since).length,
    tripped,
    ...(record.trippedAt === undefined ? {} : { trippedSince: iso(record.trippedAt) }),
    ...(tripped ? { trippedUntil: iso((record.trippedAt ?? now) + limits.windowMs) } : {}),
    passedOver: record.passedOver,
    passedOverTotal: record.passedOverTotal,
    ...(record.lastReset === undefined
      ? {}
      : { lastReset: { ...record.lastReset, at: iso(record.lastReset.at) } }),
  };
}

/** Where the records live (lambda/aws/breaker-table.ts: a DynamoDB table). */
export interface BreakerTable {
  read(policy: string): Promise<BreakerRecord | undefined>;
  /** Writes `record` if the stored version is still `expected` (0: no record yet); false if it is not. */
  write(policy: string, record: BreakerRecord, expected: number, expiresAt: number): Promise<boolean>;
  /**
   * Counts one run passed over in one write, if a trip that began after `trippedAfter` is in force; false if
   * none is (then the caller judges the run in full).
   */
  passOverIfTripped(policy: string, trippedAfter: number): Promise<boolean>;
  /**
   * In one write: no run counted in the window, and the reset recorded (a trip before it is no longer in
   * force). False, changing nothing, when the last reset recorded is this one (`by`: a duplicate delivery).
   */
  reset(policy: string, reset: BreakerReset, expiresAt: number): Promise<boolean>;
}

/** How often a write that lost to another invocation's is tried again, and how long it waits in between. */
const MAX_ATTEMPTS = 200;
const MAX_BACKOFF_MS = 50;

/** Thrown when a breaker could not be consulted: the run is not acted on. */
export class BreakerUnavailableError extends Error {
  override readonly name = 'BreakerUnavailableError';
}

/** A policy's breaker over its table. */
export class Breaker {
  constructor(
    private readonly table: BreakerTable,
    readonly policy: string,
    readonly limits: BreakerLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts a run passed over without reading, if a trip is in force (the cheap path of a storm). */
  passOverIfTripped(): Promise<boolean> {
    return this.table.passOverIfTripped(this.policy, this.now() - this.limits.windowMs);
  }

  /**
   * Whether the run may be acted on; counts it, or counts it passed over. Read, judge, and write if nobody
   * wrote in between (again on a fresh read if somebody did). A run passed over during a trip in force is
   * counted by one atomic update instead, which never loses to another: in a storm, every invocation but
   * those acting is passing over, and versioned writes among them would starve.
   */
  async admit(workflowId: string, runId: string): Promise<Verdict> {
    const key = runKey(workflowId, runId);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const record = (await this.table.read(this.policy)) ?? EMPTY_BREAKER;
      const now = this.now();
      const { verdict, next } = judge(record, key, now, this.limits);
      if (next === undefined) return verdict;
      if (verdict === 'passed-over' && isTripped(record, now, this.limits)) {
        if (await this.table.passOverIfTripped(this.policy, now - this.limits.windowMs)) return verdict;
      } else if (await this.table.write(this.policy, next, record.version, this.expiresAt(now))) {
        return verdict;
      }
      await realClock.sleep(Math.random() * Math.min(MAX_BACKOFF_MS, attempt * 2));
    }
    throw new BreakerUnavailableError(
      `the breaker of policy ${this.policy} changed under every one of ${MAX_ATTEMPTS} attempts`,
    );
  }

  /**
   * A fresh window and no trip, recorded with who asked and why (one atomic update: it never waits). `by`
   * names the request: the same request delivered again is not a second reset.
   */
  async reset(by: string, reason: string): Promise<BreakerStatus> {
    const now = this.now();
    await this.table.reset(this.policy, { at: now, by, reason }, this.expiresAt(now));
    return this.status();
  }

  async status(): Promise<BreakerStatus> {
    return statusOf((await this.table.read(this.policy)) ?? EMPTY_BREAKER, this.now(), this.limits);
  }

  /** The record's TTL: kept a while after the last thing it counts, so a trip's history can still be read. */
  private expiresAt(now: number): number {
    return Math.ceil((now + this.limits.windowMs) / 1000) + RECORD_KEPT_SECONDS;
  }
}

/** How long a record outlives its window (its TTL), for its history: 30 days. */
export const RECORD_KEPT_SECONDS = 30 * 24 * 3600;
