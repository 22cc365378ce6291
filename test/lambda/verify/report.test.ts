/**
 * The report, pure: how an answer compares with what a check expects, and how a failure is worded.
 */
import type { Check } from '../../../lambda/verify/checks';
import { LeastPrivilegeViolationError } from '../../../lambda/verify/errors';
import { finding } from '../../../lambda/verify/findings';
import {
  buildReport,
  describeStatement,
  type Evaluation,
  evaluationKey,
} from '../../../lambda/verify/report';

const ROLE = 'arn:aws:iam::111122223333:role/TerminatorRole';
const ORDERS = 'arn:aws:swf::111122223333:/domain/orders';
const check = (action: string, expected: Check['expected']): Check => ({
  role: 'handler',
  roleArn: ROLE,
  action,
  resource: ORDERS,
  expected,
  why: 'a reason',
});
const answer = (action: string, evaluation: Partial<Evaluation>): [string, Evaluation] => [
  evaluationKey(ROLE, action, ORDERS),
  { decision: 'implicitDeny', matchedStatements: [], missingContextValues: [], ...evaluation },
];

test('denied means implicitDeny or explicitDeny; allowed means allowed; the action matches in any case', () => {
  const checks = [check('swf:A', 'denied'), check('swf:B', 'denied'), check('swf:C', 'allowed')];
  const evaluations = new Map([
    answer('swf:a', { decision: 'implicitDeny' }),
    answer('swf:b', { decision: 'explicitDeny' }),
    answer('SWF:C', { decision: 'allowed' }),
  ]);

  const report = buildReport(checks, evaluations, 1);

  expect(report).toMatchObject({ ok: true, checked: 3, passed: 3, failed: 0, calls: 1, failures: [] });
});

test.each<[string, Check['expected'], Partial<Evaluation> | undefined, string]>([
  [
    'allowed, no statement named',
    'denied',
    { decision: 'allowed' },
    'IAM answered allowed; IAM named no statement that allowed it',
  ],
  [
    'implicitly denied',
    'allowed',
    { decision: 'implicitDeny' },
    'IAM answered implicitDeny; no statement allows it',
  ],
  [
    'explicitly denied',
    'allowed',
    {
      decision: 'explicitDeny',
      matchedStatements: [
        {
          sourcePolicyId: 'Guard',
          sourcePolicyType: 'user-managed',
          start: { line: 3, column: 5 },
          end: { line: 9, column: 6 },
        },
      ],
    },
    'IAM answered explicitDeny; denied by statement at 3:5-9:6 of policy "Guard" (user-managed)',
  ],
  ['not answered', 'denied', undefined, 'IAM answered missing; IAM gave no result for it'],
])('a check %s fails with a sentence naming it', (_what, expected, evaluation, tail) => {
  const evaluations = new Map(evaluation === undefined ? [] : [answer('swf:X', evaluation)]);

  const report = buildReport([check('swf:X', expected)], evaluations, 1);

  expect(report.ok).toBe(false);
  expect(report.failures[0]?.message).toBe(
    `the terminating function's role ${ROLE}: swf:X on ${ORDERS} must be ${expected} (a reason), ${tail}`,
  );
});

test('a statement without positions is still named', () => {
  expect(describeStatement({ sourcePolicyId: 'P' })).toBe('statement of policy "P" (unknown type)');
});

test('the error names every failure when there are few, and counts the rest when there are many', () => {
  const one = buildReport([check('swf:X', 'allowed')], new Map(), 1);
  expect(new LeastPrivilegeViolationError(one).message).toBe(
    `least privilege violated: 0 grants refused, 1 of 1 checks failed: ${one.failures[0]?.message}`,
  );

  const five = buildReport(
    ['swf:A', 'swf:B', 'swf:C', 'swf:D', 'swf:E'].map((a) => check(a, 'allowed')),
    new Map(),
    1,
  );
  const error = new LeastPrivilegeViolationError(five);
  expect(error.name).toBe('LeastPrivilegeViolationError');
  expect(error.message).toContain('swf:C on');
  expect(error.message).not.toContain('swf:D on');
  expect(error.message).toMatch(/\(and 2 more, in the log\)$/);
});

test('the error names the refused grants first (they name the statement to remove), then the failed checks', () => {
  const refused = finding(
    { subject: "the terminating function's role R", policy: 'inline policy "Extra"' },
    { position: 2, effect: 'Allow', sid: 'Wide' },
    { action: 'states:*', resource: '*', why: 'a wildcard action' },
  );
  const report = buildReport([check('swf:X', 'allowed')], new Map(), 1, [refused]);

  expect(report).toMatchObject({ ok: false, failed: 1, findings: [refused] });
  expect(new LeastPrivilegeViolationError(report).message).toBe(
    "least privilege violated: 1 grants refused, 1 of 1 checks failed: the terminating function's role R: " +
      'inline policy "Extra", statement 2 (Sid "Wide"): Allow states:* on * is refused: a wildcard action; ' +
      `${report.failures[0]?.message}`,
  );
});

test('a report with refused grants and every check passed is not ok', () => {
  const refused = finding({ subject: 's', policy: 'p' }, undefined, { action: 'a', resource: 'r', why: 'w' });
  expect(buildReport([], new Map(), 0, [refused]).ok).toBe(false);
  expect(buildReport([], new Map(), 0, []).ok).toBe(true);
});

test('an implicit deny reached for want of context values proves nothing: the check fails, naming the keys', () => {
  // GIVEN a check that must be denied, and IAM's implicit deny that needed a tag it was not given
  const checks = [check('swf:StartWorkflowExecution', 'denied')];
  const evaluations = new Map([
    answer('swf:StartWorkflowExecution', {
      decision: 'implicitDeny',
      missingContextValues: ['aws:ResourceTag/team'],
    }),
  ]);

  // WHEN
  const report = buildReport(checks, evaluations, 1);

  // THEN
  expect(report.ok).toBe(false);
  expect(report.failures[0]?.message).toMatch(
    /only for want of the context values aws:ResourceTag\/team: a conditioned grant may allow it$/,
  );
});
