/**
 * What the enumeration found wrong: one finding per offending statement and (action, resource) pair, naming
 * whose policy it is, the policy, the statement's position, the action, the resource (and for a trust or
 * resource-based policy, the principal), and why it is refused. Pure.
 */
import { clip } from '../errors';
import type { Statement } from './policy-document';

export interface Finding {
  /** Whose policy: a role, a role's trust, a function, the bus (one phrase, ARN included). */
  readonly subject: string;
  /** Which policy: `inline policy "NAME"`, `managed policy ARN (version V)`, `trust policy`, `resource-based policy`. */
  readonly policy: string;
  /** The statement's position in the policy, from 1; 0 when the whole policy is at fault (unreadable). */
  readonly statement: number;
  readonly sid?: string;
  readonly action: string;
  readonly resource: string;
  /** The principal, for a trust or resource-based policy. */
  readonly principal?: string;
  /** Why it is refused. */
  readonly why: string;
  /** One sentence naming all of the above. */
  readonly message: string;
}

/** Where a finding is: whose policy, which one. */
export interface PolicyPlace {
  readonly subject: string;
  readonly policy: string;
}

/** A list written out for a report, clipped to its first `max` items. */
export function listed(items: readonly string[], max = 3): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

/** A finding about one statement of the policy at `place`. */
export function finding(
  place: PolicyPlace,
  statement: Statement | undefined,
  what: { action: string; resource: string; principal?: string; why: string },
): Finding {
  const at =
    statement === undefined
      ? ''
      : `, statement ${statement.position}${statement.sid === undefined ? '' : ` (Sid "${clip(statement.sid, 64)}")`}`;
  const effect = statement?.effect ?? 'Allow';
  const who = what.principal === undefined ? '' : ` to ${what.principal}`;
  return {
    subject: place.subject,
    policy: place.policy,
    statement: statement?.position ?? 0,
    ...(statement?.sid === undefined ? {} : { sid: statement.sid }),
    action: what.action,
    resource: what.resource,
    ...(what.principal === undefined ? {} : { principal: what.principal }),
    why: what.why,
    message:
      `${place.subject}: ${place.policy}${at}: ${effect} ${what.action} on ${what.resource}${who} is ` +
      `refused: ${what.why}`,
  };
}

/** A policy that could not be read: what cannot be read cannot be proven harmless. */
export function unreadable(place: PolicyPlace, problem: string): Finding {
  return {
    subject: place.subject,
    policy: place.policy,
    statement: 0,
    action: '(unread)',
    resource: '(unread)',
    why: `the policy cannot be read (${problem}), so nothing in it can be proven harmless`,
    message: `${place.subject}: ${place.policy} cannot be read (${problem}), so nothing in it can be proven harmless`,
  };
}
