/**
 * Who can make the terminator act, judged from the resource-based policies read by
 * lambda/verify/read-invokers.ts. Pure.
 *
 * - A function's policy (each version's and alias's too) may let EventBridge invoke it for the construct's own
 *   rules only: principal `events.amazonaws.com`, action `lambda:InvokeFunction`, and an `aws:SourceArn`
 *   condition naming one of those rules exactly. Without that condition any rule of any account could invoke it.
 *   The state machine invokes the terminating function through its role (checked with the roles), not
 *   through this policy; Step Functions has no resource-based policies, so nobody starts its jobs but principals
 *   of the account with an identity grant.
 * - The bus's policy may allow nothing: the construct grants requests to principals of the account through
 *   their identity policies (grantRequest), never through the bus's policy, so any Allow in it lets a principal
 *   the construct did not name put requests on the bus.
 * - The restore function's policy (allowRestore; each version's and alias's too) may allow nothing: the state
 *   machine invokes it through its role, operators through their own identity policies (grantOperate); no
 *   rule targets it. Any Allow in it lets a principal the construct did not name make restore start runs.
 */
import { INVOKE_ACTION } from '../../lib/role-grants';
import { finding, type Finding, type PolicyPlace, unreadable } from './findings';
import { actionsText, principalText, type ReadDocument, type Statement } from './policy-document';
import { patternWithin } from './patterns';

/** The only service whose rules the construct lets invoke its functions. */
export const EVENTS_SERVICE = 'events.amazonaws.com';

/** Condition operators that bind `aws:SourceArn` to their values (an `...IfExists` form binds nothing). */
const BINDING_OPERATORS = ['arnequals', 'arnlike', 'stringequals', 'stringlike'];

/** A resource-based policy, read, and whose it is. */
export interface ResourcePolicyRead {
  /** Whose: `the terminating function ARN`, `... (alias live)`, `the request bus ARN`. */
  readonly subject: string;
  /** Undefined when the resource has no policy (nobody but identity grants can reach it). */
  readonly document?: ReadDocument;
}

/** The rules `aws:SourceArn` is bound to, or undefined when the statement does not bind it. */
function sourceArns(s: Statement): string[] | undefined {
  let bound: string[] | undefined;
  for (const [operator, keys] of Object.entries(s.condition ?? {})) {
    if (!BINDING_OPERATORS.includes(operator.toLowerCase())) continue;
    for (const [key, values] of Object.entries(keys)) {
      if (key.toLowerCase() === 'aws:sourcearn') bound = [...(bound ?? []), ...values];
    }
  }
  return bound;
}

function invokeFindings(place: PolicyPlace, s: Statement, rules: readonly string[]): Finding[] {
  const out: Finding[] = [];
  const action = actionsText(s);
  const resource = s.resources?.join(', ') ?? '(the function)';
  const principal = principalText(s);
  const refuse = (why: string, over: { action?: string; principal?: string } = {}) =>
    out.push(finding(place, s, { action, resource, principal, why, ...over }));

  const onlyEvents =
    s.principal !== undefined &&
    s.principal !== '*' &&
    Object.entries(s.principal).every(
      ([type, values]) => type === 'Service' && values.every((v) => v === EVENTS_SERVICE),
    );
  if (!onlyEvents) {
    refuse(`only EventBridge (${EVENTS_SERVICE}) may invoke it, for the construct's own rules`);
    return out;
  }
  if (s.actions === undefined) {
    refuse(`an Allow with NotAction lets EventBridge do more than ${INVOKE_ACTION}`);
  } else {
    for (const a of s.actions.filter((a) => !patternWithin(a, INVOKE_ACTION, true))) {
      refuse(`EventBridge is let take ${INVOKE_ACTION} only`, { action: a });
    }
  }
  const arns = sourceArns(s);
  if (arns === undefined) {
    refuse(
      "no aws:SourceArn condition binds it to the construct's rules: any rule, of any account, may invoke it",
    );
  } else {
    for (const arn of arns.filter((arn) => !rules.includes(arn))) {
      refuse(`its aws:SourceArn ${arn} is not one of the construct's rules`);
    }
  }
  return out;
}

/** The findings of one function's (or version's, or alias's) policy; `rules` are the ARNs that may invoke it. */
export function auditFunctionPolicy(read: ResourcePolicyRead, rules: readonly string[]): Finding[] {
  const place = { subject: read.subject, policy: 'resource-based policy' };
  if (read.document === undefined) return [];
  if (!read.document.ok) return [unreadable(place, read.document.problem)];
  return read.document.statements
    .filter((s) => s.effect === 'Allow')
    .flatMap((s) => invokeFindings(place, s, rules));
}

/** The findings of a resource-based policy that may allow nothing: every Allow in it, `why` refused. */
function everyAllow(read: ResourcePolicyRead, whole: string, why: string): Finding[] {
  const place = { subject: read.subject, policy: 'resource-based policy' };
  if (read.document === undefined) return [];
  if (!read.document.ok) return [unreadable(place, read.document.problem)];
  return read.document.statements
    .filter((s) => s.effect === 'Allow')
    .map((s) =>
      finding(place, s, {
        action: actionsText(s),
        resource: s.resources?.join(', ') ?? whole,
        principal: principalText(s),
        why,
      }),
    );
}

/** The findings of the request bus's policy: every Allow in it. */
export function auditBusPolicy(read: ResourcePolicyRead): Finding[] {
  return everyAllow(
    read,
    '(the bus)',
    'the construct lets principals of its account send requests through their own policies ' +
      '(grantRequest), never through the bus policy: this lets a principal it did not name put requests',
  );
}

/** The findings of the restore function's policy (or a version's or alias's): every Allow in it. */
export function auditRestoreFunctionPolicy(read: ResourcePolicyRead): Finding[] {
  return everyAllow(
    read,
    '(the function)',
    'the state machine invokes the restore function through its role and operators through their own ' +
      'policies (grantOperate), never through its resource-based policy: this lets a principal the construct ' +
      'did not name make restore start runs',
  );
}
