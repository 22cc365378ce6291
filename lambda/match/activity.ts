/**
 * The criteria a listing cannot answer: `stalled` (nothing open that would move the execution on) and
 * `idleLongerThanSeconds` (no activity task scheduled for that long). A sweep reads them from
 * DescribeWorkflowExecution, one call per candidate (its own small quota: lambda/plan/resolve.ts); an SWF
 * event carries them in its detail (lambda/parse/policy.ts). Pure.
 */
import type { RunActivity } from '../aws/swf';
import type { ActivityCriteria, Selector } from '../types';

/** True when the selector needs each candidate's activity (a Describe call in a sweep). */
export function needsActivity(selector: Selector): boolean {
  return selector.stalled === true || selector.idleLongerThanSeconds !== undefined;
}

/** Nothing open: no decision task, activity task, timer, child execution or Lambda task. */
export function isStalled(activity: RunActivity): boolean {
  const c = activity.openCounts;
  return (
    c.openActivityTasks === 0 &&
    c.openDecisionTasks === 0 &&
    c.openTimers === 0 &&
    c.openChildWorkflowExecutions === 0 &&
    c.openLambdaFunctions === 0
  );
}

/**
 * True when the run's activity meets the selector's activity criteria at `requestTime`: stalled if asked,
 * and idle (its latest activity task, else its start, at least `idleLongerThanSeconds` before) if asked.
 */
export function activityMatches(
  activity: RunActivity,
  selector: ActivityCriteria,
  requestTime: Date,
): boolean {
  if (selector.stalled === true && !isStalled(activity)) return false;
  if (selector.idleLongerThanSeconds !== undefined) {
    const since = activity.latestActivityTaskTimestamp ?? activity.startTimestamp;
    if (since.getTime() > requestTime.getTime() - selector.idleLongerThanSeconds * 1000) return false;
  }
  return true;
}
