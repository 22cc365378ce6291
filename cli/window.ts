/**
 * The preview and the real request share one window: a selector's runs started after the preview cannot
 * join the real request, so what the operator saw is what can be acted on.
 */

import { NARROWING_CRITERIA } from '../lib/contract';

/** The criteria that make a selector narrow enough without an end (an end alone would not be one here). */
const NARROW_WITHOUT_END = NARROWING_CRITERIA.filter((key) => key !== 'startedBefore');

/**
 * The preview and the real request share one window: a selector's runs started after the preview cannot
 * join the real request. `startedBefore` is set to the preview's time unless the selector ends earlier, and
 * only when the selector is narrow without it (a bare end would turn a refused selector into a valid one).
 */
export function pinWindow(request: Record<string, unknown>, now: Date): Record<string, unknown> {
  const selector = request.selector as Record<string, unknown> | undefined;
  if (selector === undefined || typeof selector !== 'object') return request;
  if (selector.startedBefore !== undefined) return request;
  if (!NARROW_WITHOUT_END.some((key) => selector[key] !== undefined)) return request;
  return {
    ...request,
    selector: { ...selector, startedBefore: new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString() },
  };
}
