/**
 * Reading a role, a function's policies and the bus's policy whole, through the real SDK clients against local
 * fakes of IAM (Query protocol), Lambda (REST-JSON) and EventBridge (JSON 1.1): every page followed, every
 * version and alias read, documents decoded, throttling retried, and anything else failing the run, named.
 */
import { ReadFailedError } from '../../../lambda/verify/errors';
import { readBusPolicy, readFunctionPolicies } from '../../../lambda/verify/read-invokers';
import { readRole, roleNameOf } from '../../../lambda/verify/read-roles';
import {
  policy,
  roleArn,
  startVerifierFakes,
  type VerifierFakes,
  verifyConfig,
} from '../../support/verify-fixtures';

const CONFIG = verifyConfig();
const ROLE = roleArn('path/to/TerminatorRole');
const sleep = jest.fn(() => Promise.resolve());
let fakes: VerifierFakes;

beforeEach(async () => {
  sleep.mockClear();
  fakes = await startVerifierFakes({ pageSize: 1 });
});

afterEach(() => fakes.close());

const allow = (Action: string, Resource: string) => ({ Effect: 'Allow', Action, Resource });

describe('a role', () => {
  test('its name is the last part of its ARN, past the path', () => {
    expect(roleNameOf(ROLE)).toBe('TerminatorRole');
  });

  test('every inline and attached policy, one page at a time, managed ones at their default version, decoded', async () => {
    // GIVEN three inline policies (one naming a domain "ord*" literally), an AWS policy and one of the account
    // whose default is v2
    fakes.iam.putRole(ROLE, [
      policy(
        'One',
        allow('swf:TerminateWorkflowExecution', 'arn:aws:swf::111122223333:/domain/ord${*} x&y%'),
      ),
      policy('Two', allow('logs:PutLogEvents', '*')),
      policy('Three', allow('sqs:SendMessage', '*')),
      { ...policy('ReadOnlyAccess', allow('s3:GetObject', '*')), type: 'aws-managed' },
      {
        ...policy('Ours', allow('s3:PutObject', '*')),
        type: 'user-managed',
        olderVersion: policy('Ours', allow('s3:ListBucket', '*')).document,
      },
    ]);

    // WHEN
    const role = await readRole(fakes.clients.iam, ROLE, { sleep });

    // THEN
    expect(role.trust).toMatchObject({
      ok: true,
      statements: [expect.objectContaining({ principal: { Service: ['lambda.amazonaws.com'] } })],
    });
    expect(
      role.policies.map((p) => [p.policy, p.document.ok && p.document.statements[0]?.actions?.[0]]),
    ).toEqual([
      ['inline policy "One"', 'swf:TerminateWorkflowExecution'],
      ['inline policy "Two"', 'logs:PutLogEvents'],
      ['inline policy "Three"', 'sqs:SendMessage'],
      ['managed policy arn:aws:iam::aws:policy/ReadOnlyAccess (version v1)', 's3:GetObject'],
      ['managed policy arn:aws:iam::111122223333:policy/Ours (version v2)', 's3:PutObject'],
    ]);
    const [one] = role.policies;
    expect(one?.document.ok && one.document.statements[0]?.resources).toEqual([
      'arn:aws:swf::111122223333:/domain/ord${*} x&y%',
    ]);
    // pages of one: 3 ListRolePolicies calls and 2 ListAttachedRolePolicies calls, the later ones with a Marker
    const lists = fakes.iam.calls.filter((c) => c.action.startsWith('List'));
    expect(lists.map((c) => [c.action, c.roleName, c.marker])).toEqual([
      ['ListRolePolicies', 'TerminatorRole', undefined],
      ['ListRolePolicies', 'TerminatorRole', '1'],
      ['ListRolePolicies', 'TerminatorRole', '2'],
      ['ListAttachedRolePolicies', 'TerminatorRole', undefined],
      ['ListAttachedRolePolicies', 'TerminatorRole', '1'],
    ]);
  });

  test('a throttled read is retried after a backoff', async () => {
    fakes.iam.putRole(ROLE, [policy('One', allow('sqs:SendMessage', '*'))]);
    fakes.iam.failNext('throttle', 1, 'GetRolePolicy');

    const role = await readRole(fakes.clients.iam, ROLE, { sleep });

    expect(role.policies).toHaveLength(1);
    expect(sleep).toHaveBeenCalledTimes(1);
    expect(fakes.iam.calls.filter((c) => c.action === 'GetRolePolicy').map((c) => c.status)).toEqual([
      400, 200,
    ]);
  });

  test('access denied fails the read, naming the role and the error', async () => {
    fakes.iam.putRole(ROLE, []);
    fakes.iam.failNext('access-denied', 1, 'ListAttachedRolePolicies');

    const read = readRole(fakes.clients.iam, ROLE, { sleep });

    await expect(read).rejects.toThrow(ReadFailedError);
    await expect(read).rejects.toThrow(
      `reading the policies of ${ROLE} failed, so least privilege is not proven: AccessDenied`,
    );
  });
});

describe("a function's policies", () => {
  const FN = CONFIG.handlerFunctionArn;
  const statement = (Sid: string) => ({
    Sid,
    Effect: 'Allow',
    Principal: '*',
    Action: 'lambda:InvokeFunction',
    Resource: FN,
  });

  test("the function's, and each version's (not $LATEST) and alias's, one page at a time; none is no document", async () => {
    fakes.lambda.addStatement(FN, statement('Self'));
    fakes.lambda.addQualifier(FN, 'version', '1');
    fakes.lambda.addQualifier(FN, 'version', '2');
    fakes.lambda.addStatement(FN, statement('OfTwo'), '2');
    fakes.lambda.addQualifier(FN, 'alias', 'live');
    fakes.lambda.addStatement(FN, statement('OfLive'), 'live');

    const reads = await readFunctionPolicies(fakes.clients.lambda, FN, 'the terminating function', { sleep });

    expect(reads.map((r) => [r.subject, r.document?.ok && r.document.statements[0]?.sid])).toEqual([
      [`the terminating function ${FN}`, 'Self'],
      [`the terminating function ${FN} (version 1)`, undefined],
      [`the terminating function ${FN} (version 2)`, 'OfTwo'],
      [`the terminating function ${FN} (alias live)`, 'OfLive'],
    ]);
    expect(
      fakes.lambda.calls.filter((c) => c.operation === 'ListVersionsByFunction').map((c) => c.marker),
    ).toEqual([undefined, '1', '2']);
  });

  test('a throttled read (429) is retried', async () => {
    fakes.lambda.putFunction(FN);
    fakes.lambda.throttleNext();

    const reads = await readFunctionPolicies(fakes.clients.lambda, FN, 'the terminating function', { sleep });

    expect(reads).toEqual([{ subject: `the terminating function ${FN}` }]);
    expect(sleep).toHaveBeenCalledTimes(1);
  });

  test('a function Lambda does not know fails the read, naming it', async () => {
    await expect(
      readFunctionPolicies(fakes.clients.lambda, FN, 'the terminating function', { sleep }),
    ).rejects.toThrow(
      `reading the resource-based policies of ${FN} failed, so least privilege is not proven: ResourceNotFoundException`,
    );
  });
});

describe("the bus's policy", () => {
  test('none: no document; one: its statements', async () => {
    fakes.events.putBus(CONFIG.eventBusArn);
    expect(await readBusPolicy(fakes.clients.events, CONFIG.eventBusArn)).toEqual({
      subject: `the request bus ${CONFIG.eventBusArn}`,
    });

    fakes.events.addStatement(CONFIG.eventBusArn, {
      Sid: 'Open',
      Effect: 'Allow',
      Principal: '*',
      Action: 'events:PutEvents',
    });
    const read = await readBusPolicy(fakes.clients.events, CONFIG.eventBusArn);

    expect(read.document).toMatchObject({ ok: true, statements: [{ sid: 'Open', principal: '*' }] });
    expect(fakes.events.calls).toEqual([CONFIG.eventBusArn, CONFIG.eventBusArn]);
  });

  test('a bus EventBridge does not know fails the read, naming it', async () => {
    await expect(readBusPolicy(fakes.clients.events, CONFIG.eventBusArn)).rejects.toThrow(
      `reading the policy of ${CONFIG.eventBusArn} failed, so least privilege is not proven: ResourceNotFoundException`,
    );
  });
});
