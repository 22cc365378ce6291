/**
 * patternWithin: whether every string one IAM pattern matches, another matches too. The enumeration's judgement
 * of each action and resource rests on it, so both answers are pinned: what is inside, and what reaches out.
 */
import { hasWildcard, patternWithin } from '../../../lambda/verify/patterns';

const EXECUTIONS = 'arn:aws:states:eu-west-1:111122223333:execution:Jobs:*';

test.each<[string, string, string]>([
  ['the same literal', 'swf:TerminateWorkflowExecution', 'swf:TerminateWorkflowExecution'],
  ['a literal under a trailing *', 'arn:aws:states:eu-west-1:111122223333:execution:Jobs:job-1', EXECUTIONS],
  ['the same wildcard', EXECUTIONS, EXECUTIONS],
  ['a narrower wildcard', `${EXECUTIONS.slice(0, -1)}job-*`, EXECUTIONS],
  ['a ? under a *', `${EXECUTIONS.slice(0, -1)}job-?`, EXECUTIONS],
  ['a ? under a ?', 'a?c', 'a?c'],
  [
    'a literal star ${*} as the name ord*',
    'arn:aws:swf::1:/domain/ord${*}',
    'arn:aws:swf::1:/domain/ord${*}',
  ],
  ['a literal star under a *', 'x${*}y', 'x*'],
])('inside: %s', (_what, inner, outer) => {
  expect(patternWithin(inner, outer)).toBe(true);
});

test.each<[string, string, string]>([
  ['a wildcard over a literal', 'swf:Terminate*', 'swf:TerminateWorkflowExecution'],
  ['everything over a literal', '*', 'swf:TerminateWorkflowExecution'],
  ['a broader wildcard', 'arn:aws:states:eu-west-1:111122223333:execution:*', EXECUTIONS],
  ['a * under a ?', 'a*c', 'a?c'],
  [
    'a wildcard in another segment',
    'arn:aws:swf:*:111122223333:/domain/orders',
    'arn:aws:swf::111122223333:/domain/orders',
  ],
  [
    'the name ord* written raw, over the literal ord*',
    'arn:aws:swf::1:/domain/ord*',
    'arn:aws:swf::1:/domain/ord${*}',
  ],
  [
    'a policy variable (a request fills it in)',
    'arn:aws:swf::1:/domain/${aws:username}',
    'arn:aws:swf::1:/domain/orders',
  ],
  ['one character more', 'orders2', 'orders'],
  ['one character fewer', 'order', 'orders'],
  [
    'another case (resources are compared as written)',
    'arn:aws:swf::1:/domain/Orders',
    'arn:aws:swf::1:/domain/orders',
  ],
])('outside: %s', (_what, inner, outer) => {
  expect(patternWithin(inner, outer)).toBe(false);
});

test('actions are compared without case when asked (IAM does)', () => {
  expect(patternWithin('SWF:terminateworkflowexecution', 'swf:TerminateWorkflowExecution', true)).toBe(true);
  expect(patternWithin('SWF:terminateworkflowexecution', 'swf:TerminateWorkflowExecution')).toBe(false);
});

test('hasWildcard: *, ? and policy variables name more than one thing; ${*}, ${?}, ${$} do not', () => {
  expect(['a*', 'a?', 'a${aws:username}'].map(hasWildcard)).toEqual([true, true, true]);
  expect(['a', 'a${*}', 'a${?}', 'a${$}'].map(hasWildcard)).toEqual([false, false, false, false]);
});
