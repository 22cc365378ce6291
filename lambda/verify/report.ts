/**
 * The verifier's report: every check with what it expected and what IAM answered, the statements IAM says
 * decided it, and for each failure a sentence naming the role, the action, the resource, both decisions and
 * the statements at fault; and every finding of the enumeration (lambda/verify/findings.ts). Pure.
 */
import { ROLE_LABEL } from './audit-roles';
import { type Check, type CheckContext, contextKey } from './checks';
import type { Finding } from './findings';

/** IAM's `EvalDecision`. */
export type Decision = 'allowed' | 'explicitDeny' | 'implicitDeny';
export const DECISIONS: readonly Decision[] = ['allowed', 'explicitDeny', 'implicitDeny'];

/** A place in a policy document, as IAM counts it. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/** A statement IAM says determined a decision (`MatchedStatements`). */
export interface MatchedStatement {
  /** The policy's identifier: its name for an inline policy. */
  readonly sourcePolicyId?: string | undefined;
  /** user | group | role | aws-managed | user-managed | resource | none. */
  readonly sourcePolicyType?: string | undefined;
  readonly start?: Position | undefined;
  readonly end?: Position | undefined;
}

/** IAM's answer for one role, action and resource. */
export interface Evaluation {
  readonly decision: Decision;
  readonly matchedStatements: readonly MatchedStatement[];
  readonly missingContextValues: readonly string[];
}

/** What IAM answered for a check; `missing` when no result named its action and resource (a failure). */
export type Actual = Decision | 'missing';

export interface CheckResult extends Check {
  readonly actual: Actual;
  readonly ok: boolean;
  readonly matchedStatements: readonly MatchedStatement[];
  readonly missingContextValues: readonly string[];
}

export interface CheckFailure extends CheckResult {
  /** One sentence: the role, action, resource, expected vs actual, and the statements at fault. */
  readonly message: string;
}

export interface VerifyReport {
  /** True when every check got the decision it expected and the enumeration found nothing. */
  readonly ok: boolean;
  readonly checked: number;
  readonly passed: number;
  readonly failed: number;
  /** SimulatePrincipalPolicy calls answered (pages included, throttled attempts not). */
  readonly calls: number;
  readonly failures: readonly CheckFailure[];
  readonly results: readonly CheckResult[];
  /** What the enumeration refused: statements outside what the construct grants, principals it did not wire. */
  readonly findings: readonly Finding[];
}

/**
 * The key of an answer: IAM action names are case-insensitive (IAM may echo them in another case);
 * resource ARNs are compared exactly.
 */
export function evaluationKey(
  roleArn: string,
  action: string,
  resource: string,
  /** The condition keys the question was asked with (a call's ContextEntries), if any. */
  context?: CheckContext,
): string {
  const key = `${roleArn}\n${action.toLowerCase()}\n${resource}`;
  return context === undefined ? key : `${key}\n${contextKey(context)}`;
}

/** A check's condition keys as a reader finds them (` when iam:PassedToService is swf.amazonaws.com`). */
export function contextText(context: CheckContext | undefined): string {
  if (context === undefined) return '';
  const keys = Object.entries(context).map(([key, value]) => `${key} is ${value}`);
  return keys.length === 0 ? '' : ` when ${keys.join(' and ')}`;
}

/**
 * Whether IAM's answer proves what the check expects. An implicit deny that IAM reached for want of context
 * values (a conditioned grant, e.g. `swf:*` on `*` when a tag matches) proves nothing: the grant may apply
 * to real calls, so the check fails and names the keys.
 */
function passes(check: Check, actual: Actual, missingContext: readonly string[]): boolean {
  if (actual === 'missing') return false;
  if (check.expected === 'allowed') return actual === 'allowed';
  return actual === 'explicitDeny' || (actual === 'implicitDeny' && missingContext.length === 0);
}

/** A statement as a reader finds it: its policy, the policy's type, and where it starts and ends. */
export function describeStatement(statement: MatchedStatement): string {
  const { start, end } = statement;
  const at =
    start === undefined
      ? ''
      : ` at ${start.line}:${start.column}${end === undefined ? '' : `-${end.line}:${end.column}`}`;
  return `statement${at} of policy "${statement.sourcePolicyId ?? '(unnamed)'}" (${statement.sourcePolicyType ?? 'unknown type'})`;
}

function statementsPart(statements: readonly MatchedStatement[], verb: string): string {
  if (statements.length === 0) return `; IAM named no statement that ${verb} it`;
  return `; ${verb} by ${statements.map(describeStatement).join(' and ')}`;
}

/** The sentence for a failed check. */
export function describeFailure(result: CheckResult): string {
  const head =
    `${ROLE_LABEL[result.role]} ${result.roleArn}: ${result.action} on ${result.resource}` +
    `${contextText(result.context)} must be ` +
    `${result.expected} (${result.why}), IAM answered ${result.actual}`;
  switch (result.actual) {
    case 'allowed':
      return head + statementsPart(result.matchedStatements, 'allowed');
    case 'explicitDeny':
      return head + statementsPart(result.matchedStatements, 'denied');
    case 'implicitDeny':
      return result.missingContextValues.length > 0
        ? `${head} only for want of the context values ${result.missingContextValues.join(', ')}: a ` +
            'conditioned grant may allow it'
        : `${head}; no statement allows it`;
    case 'missing':
      return `${head}; IAM gave no result for it`;
  }
}

/**
 * Compares every check with IAM's answers (`evaluations`, keyed by {@link evaluationKey}). A check IAM did not
 * answer fails: the verifier proves, it does not assume. `findings` are the enumeration's, each a violation.
 */
export function buildReport(
  checks: readonly Check[],
  evaluations: ReadonlyMap<string, Evaluation>,
  calls: number,
  findings: readonly Finding[] = [],
): VerifyReport {
  const results = checks.map((check): CheckResult => {
    const answer = evaluations.get(evaluationKey(check.roleArn, check.action, check.resource, check.context));
    const actual: Actual = answer?.decision ?? 'missing';
    const missingContextValues = answer?.missingContextValues ?? [];
    return {
      ...check,
      actual,
      ok: passes(check, actual, missingContextValues),
      matchedStatements: answer?.matchedStatements ?? [],
      missingContextValues,
    };
  });
  const failures = results
    .filter((r) => !r.ok)
    .map((r): CheckFailure => ({ ...r, message: describeFailure(r) }));
  return {
    ok: failures.length === 0 && findings.length === 0,
    checked: results.length,
    passed: results.length - failures.length,
    failed: failures.length,
    calls,
    failures,
    results,
    findings,
  };
}
