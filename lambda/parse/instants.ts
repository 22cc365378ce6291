/**
 * ISO 8601 date-times read exactly. `Date` keeps milliseconds and `Date.parse` drops any finer digits, so a
 * validated string is read here as whole milliseconds plus the finer digits, which decide the rounding
 * direction of a selector's bounds.
 */
import { echo } from '../errors';

/** The fractional seconds of an ISO 8601 date-time (the offset never contains a dot). */
const FRACTION = /:(\d{2})\.(\d+)/;

/** A validated ISO 8601 date-time, read exactly. */
export interface Instant {
  /** Whole milliseconds since the epoch (the instant rounded down to the millisecond). */
  readonly ms: number;
  /** Digits after the millisecond, trailing zeros removed: empty when the instant is a whole millisecond. */
  readonly subMs: string;
  /** How many fractional-second digits the string states (0 for "…:00Z"). */
  readonly fractionDigits: number;
}

export function instantOf(iso: string): Instant {
  const digits = FRACTION.exec(iso)?.[2] ?? '';
  const normalized = iso.replace(
    FRACTION,
    (_m, seconds: string) => `:${seconds}.${digits.slice(0, 3).padEnd(3, '0')}`,
  );
  return {
    ms: Date.parse(normalized),
    subMs: digits.slice(3).replace(/0+$/, ''),
    fractionDigits: digits.length,
  };
}

/** Compares two instants exactly (sub-millisecond digits included): negative, zero or positive. */
export function compareInstants(a: Instant, b: Instant): number {
  if (a.ms !== b.ms) return a.ms - b.ms;
  const width = Math.max(a.subMs.length, b.subMs.length);
  const x = a.subMs.padEnd(width, '0');
  const y = b.subMs.padEnd(width, '0');
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The last millisecond of the unit an instant is stated to: "…:00Z" stands for a whole second, so its end is
 * "…:00.999Z"; "…:00.4Z" ends at "…:00.499Z"; three or more digits state the millisecond itself.
 */
export function endOfStatedUnit(instant: Instant): number {
  return instant.fractionDigits >= 3 ? instant.ms : instant.ms + 10 ** (3 - instant.fractionDigits) - 1;
}

/** SWF takes times as seconds since the Unix epoch: an earlier date would be sent as a negative number. */
export function beforeEpochRule(raw: string): string | undefined {
  return instantOf(raw).ms < 0
    ? `must not be before the Unix epoch, 1970-01-01T00:00:00Z: SWF takes times as seconds since then (got ${echo(raw)})`
    : undefined;
}
