/** Reading a policy document into statements, and refusing to guess at one it cannot read. */
import { readDocument } from '../../../lambda/verify/policy-document';

test('a list of statements: each with its position, from 1, and its elements as lists', () => {
  const read = readDocument(
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'One', Effect: 'Allow', Action: 'swf:TerminateWorkflowExecution', Resource: ['a', 'b'] },
        {
          Effect: 'Deny',
          NotAction: ['iam:*'],
          NotResource: 'c',
          Principal: { AWS: 'arn:aws:iam::111122223333:root' },
          Condition: {
            Bool: { 'aws:SecureTransport': false },
            NumericLessThan: { 'aws:MultiFactorAuthAge': 3600 },
          },
        },
      ],
    }),
  );
  expect(read).toEqual({
    ok: true,
    statements: [
      {
        position: 1,
        sid: 'One',
        effect: 'Allow',
        actions: ['swf:TerminateWorkflowExecution'],
        resources: ['a', 'b'],
      },
      {
        position: 2,
        effect: 'Deny',
        notActions: ['iam:*'],
        notResources: ['c'],
        principal: { AWS: ['arn:aws:iam::111122223333:root'] },
        condition: {
          Bool: { 'aws:SecureTransport': ['false'] },
          NumericLessThan: { 'aws:MultiFactorAuthAge': ['3600'] },
        },
      },
    ],
  });
});

test('a lone statement object is statement 1; Principal "*" stays "*"', () => {
  const read = readDocument('{"Statement":{"Effect":"Allow","Principal":"*","Action":"events:PutEvents"}}');
  expect(read).toEqual({
    ok: true,
    statements: [{ position: 1, effect: 'Allow', principal: '*', actions: ['events:PutEvents'] }],
  });
});

test.each([
  ['not JSON', '{"Statement":', 'its text is not JSON'],
  ['not an object', '[]', 'it is not a JSON object'],
  ['no Statement', '{"Version":"2012-10-17"}', 'it has no Statement'],
  [
    'an Effect that is neither',
    '{"Statement":[{"Effect":"Maybe","Action":"*"}]}',
    'statement 1 has no Effect Allow or Deny',
  ],
  [
    'an Action of numbers',
    '{"Statement":[{"Effect":"Allow","Action":[1]}]}',
    'statement 1: Action is not a string or a list of strings',
  ],
  [
    'a Principal of numbers',
    '{"Statement":[{"Effect":"Allow","Principal":{"AWS":[1]}}]}',
    'statement 1: Principal cannot be read',
  ],
  [
    'a Condition that is a list',
    '{"Statement":[{"Effect":"Allow","Condition":[]}]}',
    'statement 1: Condition cannot be read',
  ],
])('%s: unreadable, saying why', (_what, text, problem) => {
  expect(readDocument(text)).toEqual({ ok: false, problem });
});
