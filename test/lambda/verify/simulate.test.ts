/**
 * How the verifier asks IAM: the calls it plans, paging by Marker, retries (throttling by the verifier,
 * server errors by the SDK), failures that stop the run, the SDK's standard endpoint setting, and the shapes
 * of IAM's answers. The wire cases run the real @aws-sdk/client-iam against test/support/fake-iam.ts with one
 * role (the terminating function's, granted what the construct grants it); the shape cases mock the client.
 */
import { IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { buildChecks, type VerifyConfig } from '../../../lambda/verify/checks';
import { SimulationFailedError } from '../../../lambda/verify/errors';
import { buildReport, type VerifyReport } from '../../../lambda/verify/report';
import { createIamClient } from '../../../lambda/verify/clients';
import { planCalls, simulateChecks } from '../../../lambda/verify/simulate';
import type { FakeIamServer } from '../../support/fake-iam';
import {
  ACCOUNT,
  type FakeIam,
  REGION,
  RESTORE,
  roleArn,
  startFakeIam,
  verifyConfig,
} from '../../support/verify-fixtures';

const ROLE = roleArn;
/** The terminating function's role alone: two calls (its 55 actions on 9 resources, and 5 on 20). */
const CONFIG: VerifyConfig = verifyConfig({
  handlerFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Stack-TerminatorHandler`,
});

function putCleanRole(fake: FakeIamServer): void {
  const Resource = CONFIG.domains.flatMap((d) => [
    `arn:aws:swf:${REGION}:${ACCOUNT}:/domain/${d}`,
    `arn:aws:swf::${ACCOUNT}:/domain/${d}`,
  ]);
  const Action = [
    'swf:CountOpenWorkflowExecutions',
    'swf:ListOpenWorkflowExecutions',
    'swf:TerminateWorkflowExecution',
  ];
  fake.putRole(CONFIG.handlerRoleArn, [
    {
      name: 'TerminatorRoleDefaultPolicy',
      document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action, Resource }] },
    },
  ]);
}

let fake: FakeIamServer;
let iam: IAMClient;
const sleep = jest.fn(() => Promise.resolve());

let server: FakeIam;

async function startFake(options: { pageSize?: number } = {}): Promise<void> {
  server = await startFakeIam(options);
  ({ fake, iam } = server);
  putCleanRole(fake);
}

function stopFake(): Promise<void> {
  return server.close();
}

beforeEach(async () => {
  sleep.mockClear();
  await startFake();
});

afterEach(stopFake);

async function verify(config: VerifyConfig = CONFIG): Promise<VerifyReport> {
  const checks = buildChecks(config);
  const { evaluations, calls } = await simulateChecks(iam, checks, { sleep });
  return buildReport(checks, evaluations, calls);
}

describe('the calls', () => {
  test('follow Marker when IAM answers fewer results than asked, with the same report', async () => {
    const whole = await verify();
    expect(whole).toMatchObject({ ok: true, calls: 2 });
    await stopFake();
    await startFake({ pageSize: 40 });

    const paged = await verify();

    expect(paged.results).toEqual(whole.results);
    // 960 answers in 40s, then 275: 24 + 7 pages, all but the first of each call asked with a Marker
    expect(paged.calls).toBe(31);
    expect(fake.calls.filter((c) => c.marker !== undefined)).toHaveLength(29);
    expect(fake.calls.every((c) => c.status === 200 && c.maxItems === '1000')).toBe(true);
  });

  test('retry a throttled call after a backoff', async () => {
    fake.failNext('throttle');

    const report = await verify();

    expect(report.ok).toBe(true);
    expect(fake.calls.map((c) => c.status)).toEqual([400, 200, 200]);
    expect(sleep).toHaveBeenCalledTimes(1);
  });

  test('a role IAM does not know fails the run, naming the role and IAM error', async () => {
    const config = { ...CONFIG, handlerRoleArn: ROLE('Gone') };

    await expect(verify(config)).rejects.toThrow(SimulationFailedError);
    await expect(verify(config)).rejects.toThrow(
      `simulating the policies of ${ROLE('Gone')} failed, so least privilege is not proven: ` +
        'NoSuchEntityException: The role with name Gone cannot be found.',
    );
  });

  test('retry a server error (the SDK, as transient), and fail at once on AccessDenied', async () => {
    fake.failNext('server-error');
    expect((await verify()).ok).toBe(true);
    expect(fake.calls.map((c) => c.status)).toEqual([500, 200, 200]);

    fake.failNext('access-denied');
    await expect(verify()).rejects.toThrow(
      `simulating the policies of ${CONFIG.handlerRoleArn} failed, so least privilege is not proven: AccessDenied`,
    );
    expect(fake.calls.at(-1)).toMatchObject({ status: 403, code: 'AccessDenied' });
  });

  test('the client honours AWS_ENDPOINT_URL_IAM (the SDK standard setting)', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_IAM: fake.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'test-secret',
    });
    try {
      const fromEnv = createIamClient();
      const checks = buildChecks(CONFIG);
      const { calls } = await simulateChecks(fromEnv, checks);
      expect(calls).toBe(2);
      expect(fake.calls).toHaveLength(2);
    } finally {
      process.env = saved;
    }
  });
});

describe('answers (unit, aws-sdk-client-mock)', () => {
  // Mocking the class stubs every IAMClient: only while these run.
  let mock: ReturnType<typeof mockClient>;
  beforeAll(() => {
    mock = mockClient(IAMClient);
  });
  afterAll(() => {
    mock.restore();
  });
  const checks = buildChecks({ ...CONFIG, domains: ['orders'] });

  test('ResourceSpecificResults are read per resource', async () => {
    const resource = `arn:aws:swf::${ACCOUNT}:/domain/orders`;
    mock.on(SimulatePrincipalPolicyCommand).resolves({
      IsTruncated: false,
      EvaluationResults: [
        {
          EvalActionName: 'swf:TerminateWorkflowExecution',
          EvalDecision: 'allowed',
          ResourceSpecificResults: [{ EvalResourceName: resource, EvalResourceDecision: 'allowed' }],
          MatchedStatements: [{ SourcePolicyId: 'P', SourcePolicyType: 'role' }],
        },
      ],
    });

    const { evaluations } = await simulateChecks(new IAMClient({ region: 'us-east-1' }), checks);
    const report = buildReport(checks, evaluations, 1);

    const result = report.results.find(
      (r) => r.action === 'swf:TerminateWorkflowExecution' && r.resource === resource,
    );
    expect(result).toMatchObject({
      ok: true,
      actual: 'allowed',
      matchedStatements: [{ sourcePolicyId: 'P' }],
    });
  });

  test('a check IAM did not answer fails as missing', async () => {
    mock.on(SimulatePrincipalPolicyCommand).resolves({ IsTruncated: false, EvaluationResults: [] });

    const { evaluations } = await simulateChecks(new IAMClient({ region: 'us-east-1' }), checks);
    const report = buildReport(checks, evaluations, 2);

    expect(report.failed).toBe(checks.length);
    expect(report.failures[0]?.message).toMatch(/IAM answered missing; IAM gave no result for it$/);
  });

  test('a truncated answer without Marker fails the run', async () => {
    mock.on(SimulatePrincipalPolicyCommand).resolves({ IsTruncated: true, EvaluationResults: [] });

    await expect(simulateChecks(new IAMClient({ region: 'us-east-1' }), checks)).rejects.toThrow(
      'IAM said its answer was truncated but gave no Marker',
    );
  });

  test('planCalls: 2 calls for each role, none over a page, each check asked by one call', () => {
    const all = { ...CONFIG, controlRoleArn: ROLE('Control'), stateMachineRoleArn: ROLE('Jobs') };
    const calls = planCalls(buildChecks(all));

    expect(calls.map((c) => [c.roleArn, `${c.actions.length}x${c.resources.length}`])).toEqual([
      [CONFIG.handlerRoleArn, '96x10'],
      [CONFIG.handlerRoleArn, '11x25'],
      [ROLE('Control'), '96x10'],
      [ROLE('Control'), '6x5'],
      [ROLE('Jobs'), '96x10'],
      [ROLE('Jobs'), '6x5'],
    ]);
    for (const check of buildChecks(all)) {
      const asking = calls.filter(
        (c) =>
          c.roleArn === check.roleArn &&
          c.actions.includes(check.action) &&
          c.resources.includes(check.resource),
      );
      expect(asking).toHaveLength(1);
    }
  });

  test('planCalls: a context is asked in calls of its own (ContextEntries apply to every answer of a call)', () => {
    const all = { ...CONFIG, restore: RESTORE };
    const checks = buildChecks(all);
    const calls = planCalls(checks);

    const withContext = calls.filter((c) => c.context !== undefined);
    expect(withContext.map((c) => [c.roleArn, c.actions, c.context])).toEqual(
      expect.arrayContaining([
        [RESTORE.roleArn, ['iam:PassRole'], { 'iam:PassedToService': 'swf.amazonaws.com' }],
        [RESTORE.roleArn, ['iam:PassRole'], { 'iam:PassedToService': 'lambda.amazonaws.com' }],
      ]),
    );
    expect(withContext).toHaveLength(2);
    for (const check of checks) {
      const asking = calls.filter(
        (c) =>
          c.roleArn === check.roleArn &&
          JSON.stringify(c.context) === JSON.stringify(check.context) &&
          c.actions.includes(check.action) &&
          c.resources.includes(check.resource),
      );
      expect(asking).toHaveLength(1);
    }
  });
});

describe('questions with a context (restore passing its Lambda role)', () => {
  test('IAM is sent the ContextEntries; the same action on the same resource is answered per context', async () => {
    // GIVEN restore's role may pass its Lambda role to SWF only
    const lambdaRole = RESTORE.lambdaRoles[0];
    fake.putRole(RESTORE.roleArn, [
      {
        name: 'Pass',
        document: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'iam:PassRole',
              Resource: lambdaRole,
              Condition: { StringEquals: { 'iam:PassedToService': 'swf.amazonaws.com' } },
            },
          ],
        },
      },
    ]);
    const ask = (service: string, expected: 'allowed' | 'denied') => ({
      role: 'restore' as const,
      roleArn: RESTORE.roleArn,
      action: 'iam:PassRole',
      resource: lambdaRole,
      expected,
      why: `passed to ${service}`,
      context: { 'iam:PassedToService': service },
    });
    const checks = [ask('swf.amazonaws.com', 'allowed'), ask('lambda.amazonaws.com', 'denied')];

    // WHEN
    const { evaluations, calls } = await simulateChecks(iam, checks, { sleep });
    const report = buildReport(checks, evaluations, calls);

    // THEN each context was its own call, sent as IAM's ContextEntries, and each answered as the condition says
    expect(fake.calls.map((c) => c.context)).toEqual([
      { 'iam:PassedToService': ['swf.amazonaws.com'] },
      { 'iam:PassedToService': ['lambda.amazonaws.com'] },
    ]);
    expect(report.results.map((r) => [r.context, r.actual])).toEqual([
      [{ 'iam:PassedToService': 'swf.amazonaws.com' }, 'allowed'],
      [{ 'iam:PassedToService': 'lambda.amazonaws.com' }, 'implicitDeny'],
    ]);
    expect(report.ok).toBe(true);
  });
});
