/**
 * The enumeration's judgement of a role, read whole (lambda/verify/read-roles.ts): every Allow statement of
 * every policy that applies to it must lie inside what the construct grants that role (lib/role-grants.ts),
 * action by action and resource by resource, and its trust policy must let only the construct's service assume
 * it. Pure.
 *
 * Refused: an Allow with NotAction or NotResource (it allows everything but a list); an action the role is not
 * granted, a wildcard action among them (it reaches actions nobody checked); a resource outside the ones the
 * action is granted on. Conditions are not needed to refuse: a condition only narrows a statement, so one that
 * is inside without it is inside with it, and one that is outside is outside for some request. Deny statements
 * only take away, and are left to the simulation (which proves the role can still do its work).
 */
import { type RoleGrant, TRUST_ACTION } from '../../lib/role-grants';
import type { VerifiedRole } from './checks';
import { finding, type Finding, listed, type PolicyPlace, unreadable } from './findings';
import { actionsText, principalText, type ReadDocument, type Statement } from './policy-document';
import { hasWildcard, patternWithin } from './patterns';

/** One policy that applies to a role, read. */
export interface RolePolicyRead {
  /** `inline policy "NAME"`, or `managed policy ARN (version V)`. */
  readonly policy: string;
  readonly document: ReadDocument;
}

/** A role's every policy, and its trust policy, read. */
export interface RoleRead {
  readonly roleArn: string;
  readonly trust: ReadDocument;
  readonly policies: readonly RolePolicyRead[];
}

export const ROLE_LABEL: Readonly<Record<VerifiedRole, string>> = {
  handler: "the terminating function's role",
  control: "the control function's role",
  stateMachine: "the state machine's role",
  restore: "the restore function's role",
};

/** The findings of one Allow statement of an identity policy. */
function statementFindings(place: PolicyPlace, s: Statement, grants: readonly RoleGrant[]): Finding[] {
  const out: Finding[] = [];
  const resourceText = s.resources?.join(', ') ?? `NotResource ${s.notResources?.join(', ') ?? '(none)'}`;
  const actionText = actionsText(s);
  if (s.actions === undefined) {
    const why =
      s.notActions === undefined
        ? 'an Allow without an Action'
        : 'an Allow with NotAction allows every action of every service but the ones it lists';
    out.push(finding(place, s, { action: actionText, resource: resourceText, why }));
  }
  if (s.resources === undefined) {
    const why =
      s.notResources === undefined
        ? 'an Allow without a Resource'
        : 'an Allow with NotResource allows every resource but the ones it lists';
    out.push(finding(place, s, { action: actionText, resource: resourceText, why }));
  }
  if (s.actions === undefined || s.resources === undefined) return out;

  for (const action of s.actions) {
    const holding = grants.filter((g) => g.actions.some((granted) => patternWithin(action, granted, true)));
    for (const resource of s.resources) {
      if (holding.some((g) => g.resources.some((granted) => patternWithin(resource, granted)))) continue;
      let why: string;
      if (holding.length > 0) {
        const granted = holding.flatMap((g) => g.resources);
        why = `the construct grants ${action} only on ${listed(granted)}, and this resource reaches beyond them`;
      } else if (hasWildcard(action)) {
        why = 'a wildcard action reaches actions the construct never grants this role';
      } else {
        why = `the construct grants this role no ${action}`;
      }
      out.push(finding(place, s, { action, resource, why }));
    }
  }
  return out;
}

/** The findings of a role's trust policy: only `service` may assume it, with sts:AssumeRole. */
function trustFindings(place: PolicyPlace, trust: ReadDocument, service: string): Finding[] {
  if (!trust.ok) return [unreadable(place, trust.problem)];
  const out: Finding[] = [];
  for (const s of trust.statements) {
    if (s.effect !== 'Allow') continue;
    const action = actionsText(s);
    const resource = '(the role)';
    if (s.notPrincipal !== undefined || s.principal === undefined) {
      const principal = principalText(s);
      const why = `an Allow that does not name its principal lets others than ${service} assume the role`;
      out.push(finding(place, s, { action, resource, principal, why }));
      continue;
    }
    const principals =
      s.principal === '*'
        ? [['*', '*'] as const]
        : Object.entries(s.principal).flatMap(([type, values]) => values.map((v) => [type, v] as const));
    for (const [type, value] of principals) {
      if (type === 'Service' && value === service) continue;
      const principal = type === '*' ? '*' : `${type}: ${value}`;
      const why = `only ${service} may assume this role (the construct's trust), and this lets ${principal} assume it`;
      out.push(finding(place, s, { action, resource, principal, why }));
    }
    for (const a of s.actions ?? [action]) {
      if (s.actions !== undefined && patternWithin(a, TRUST_ACTION, true)) continue;
      const why = `the construct lets its service take ${TRUST_ACTION} only`;
      out.push(finding(place, s, { action: a, resource, principal: principalText(s), why }));
    }
  }
  return out;
}

/** Every finding of one role: its trust policy, and each of its policies statement by statement. */
export function auditRole(
  kind: VerifiedRole,
  role: RoleRead,
  grants: readonly RoleGrant[],
  trustedService: string,
): Finding[] {
  const subject = `${ROLE_LABEL[kind]} ${role.roleArn}`;
  const out = trustFindings({ subject, policy: 'trust policy' }, role.trust, trustedService);
  for (const { policy, document } of role.policies) {
    const place = { subject, policy };
    if (!document.ok) {
      out.push(unreadable(place, document.problem));
      continue;
    }
    for (const s of document.statements) {
      if (s.effect === 'Allow') out.push(...statementFindings(place, s, grants));
    }
  }
  return out;
}
