/**
 * A request's target, read from its validated fields: one execution, an explicit list (duplicates refused),
 * or a selector (at least one narrowing criterion, a start-time window that is not inverted, dates rounded so
 * the window only ever narrows).
 */
import { NARROWING_CRITERIA } from '../../lib/contract';
import { InvalidRequestError } from '../errors';
import type { Target } from '../types';
import { beforeEpochRule, compareInstants, instantOf } from './instants';
import { fieldPath } from './issues';
import type { RawRequest } from './request-schema';

/** The request's one target; refuses none, or more than one, naming the fields. */
export function targetOf(r: RawRequest, prefix: string): Target {
  const field = (...path: PropertyKey[]) => fieldPath(prefix, path);
  const given = (['workflowId', 'executions', 'selector'] as const).filter((k) => r[k] !== undefined);
  if (given.length !== 1) {
    throw new InvalidRequestError(
      given.length === 0 ? field('workflowId') : field(given[1] ?? 'workflowId'),
      given.length === 0
        ? 'a target is required: exactly one of workflowId, executions or selector'
        : `exactly one of workflowId, executions or selector is allowed (got ${given.join(' and ')})`,
    );
  }
  if (r.runId !== undefined && r.workflowId === undefined) {
    throw new InvalidRequestError(field('runId'), 'is only allowed together with workflowId');
  }

  if (r.workflowId !== undefined) {
    return {
      kind: 'single',
      execution: { workflowId: r.workflowId, ...(r.runId === undefined ? {} : { runId: r.runId }) },
    };
  }

  if (r.executions !== undefined) {
    const seen = new Map<string, number>();
    const executions = r.executions.map((e, i) => {
      const key = JSON.stringify([e.workflowId, e.runId ?? null]);
      const first = seen.get(key);
      if (first !== undefined) {
        throw new InvalidRequestError(field('executions', i), `duplicates executions[${first}]`);
      }
      seen.set(key, i);
      return { workflowId: e.workflowId, ...(e.runId === undefined ? {} : { runId: e.runId }) };
    });
    return { kind: 'list', executions };
  }

  const s = r.selector;
  if (s === undefined) {
    // Unreachable: exactly one target was given above.
    throw new InvalidRequestError(field('selector'), 'is required');
  }
  if (NARROWING_CRITERIA.every((key) => s[key] === undefined)) {
    const [last, ...rest] = [...NARROWING_CRITERIA].reverse();
    throw new InvalidRequestError(
      field('selector'),
      `must give at least one of ${rest.reverse().join(', ')} or ${last ?? ''} (to select everything, give ` +
        'startedBefore: <now>)',
    );
  }
  for (const name of ['startedAfter', 'startedBefore'] as const) {
    const raw = s[name];
    const problem = raw === undefined ? undefined : beforeEpochRule(raw);
    if (problem !== undefined) {
      throw new InvalidRequestError(field('selector', name), problem);
    }
  }
  const after = s.startedAfter === undefined ? undefined : instantOf(s.startedAfter);
  const before = s.startedBefore === undefined ? undefined : instantOf(s.startedBefore);
  // Compared exactly, before rounding: equal strings are never refused, whatever their precision.
  if (after !== undefined && before !== undefined && compareInstants(after, before) > 0) {
    throw new InvalidRequestError(
      field('selector', 'startedAfter'),
      `must not be later than selector.startedBefore (${s.startedAfter} > ${s.startedBefore})`,
    );
  }
  // Dates keep milliseconds: a finer fraction is rounded so the window narrows (after up, before down),
  // never widens. A window that rounding leaves empty matches nothing.
  const startedAfter = after === undefined ? undefined : new Date(after.ms + (after.subMs === '' ? 0 : 1));
  const startedBefore = before === undefined ? undefined : new Date(before.ms);
  const workflowType =
    s.workflowType === undefined
      ? undefined
      : {
          name: s.workflowType.name,
          ...(s.workflowType.version === undefined ? {} : { version: s.workflowType.version }),
        };
  return {
    kind: 'selector',
    selector: {
      ...(s.tag === undefined ? {} : { tag: s.tag }),
      ...(workflowType === undefined ? {} : { workflowType }),
      ...(s.workflowIdPrefix === undefined ? {} : { workflowIdPrefix: s.workflowIdPrefix }),
      ...(startedAfter === undefined ? {} : { startedAfter }),
      ...(startedBefore === undefined ? {} : { startedBefore }),
      ...(s.openLongerThanSeconds === undefined ? {} : { openLongerThanSeconds: s.openLongerThanSeconds }),
      ...(s.stalled === undefined ? {} : { stalled: s.stalled }),
      ...(s.idleLongerThanSeconds === undefined ? {} : { idleLongerThanSeconds: s.idleLongerThanSeconds }),
    },
  };
}
