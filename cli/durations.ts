/**
 * Durations as operators write them: `90s`, `10m`, `6h`, `2d`, or combined (`1h30m`). Whole seconds out,
 * since every duration field of a request is in whole seconds.
 */
import { usageError } from './exit-codes';

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const DURATION = /^(?:\d+[smhdw])+$/;

/** Seconds in `text`; a usage error naming `flag` when it is not a duration. */
export function parseDuration(flag: string, text: string): number {
  if (!DURATION.test(text)) {
    throw usageError(
      flag,
      `must be a duration such as 90s, 10m, 6h, 2d or 1h30m (got "${text.slice(0, 40)}")`,
    );
  }
  let seconds = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)([smhdw])/g)) {
    seconds += Number(amount) * (UNIT_SECONDS[unit ?? 's'] ?? 1);
  }
  return seconds;
}

/** `3725` → `1h2m5s`: how a duration is shown back. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const parts: string[] = [];
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) parts.push(`${d}d`);
  if (h > 0) parts.push(`${h}h`);
  if (m > 0) parts.push(`${m}m`);
  if (s % 60 > 0 || parts.length === 0) parts.push(`${s % 60}s`);
  return parts.join('');
}
