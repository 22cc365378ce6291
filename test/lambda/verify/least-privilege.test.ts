/**
 * Least privilege, proven through IAM's wire protocol: the real @aws-sdk/client-iam talks to a local fake of
 * SimulatePrincipalPolicy (test/support/fake-iam.ts) that evaluates the roles' policies with an IAM policy
 * simulator. The clean roles are written here as the construct grants them (lib/swf-terminator.ts,
 * lib/permissions.ts), both SWF ARN forms included; each broader role adds one statement to them.
 */
import type { IAMClient } from '@aws-sdk/client-iam';
import { buildChecks, type VerifyConfig } from '../../../lambda/verify/checks';
import { buildReport, type VerifyReport } from '../../../lambda/verify/report';
import { simulateChecks } from '../../../lambda/verify/simulate';
import type { FakeIamServer, FakePolicy, PolicyDocument } from '../../support/fake-iam';
import {
  ACCOUNT,
  type FakeIam,
  REGION,
  roleArn,
  startFakeIam,
  verifyConfig,
} from '../../support/verify-fixtures';

const ROLE = roleArn;
const FUNCTION = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Stack-TerminatorHandler`;
const MACHINE = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:Stack-TerminatorJobs`;
const CONFIG: VerifyConfig = verifyConfig({
  controlRoleArn: ROLE('TerminatorControlRole'),
  stateMachineRoleArn: ROLE('TerminatorJobsRole'),
  handlerFunctionArn: FUNCTION,
});

/** Both ARN forms of a domain, `*`, `?` and `$` written as IAM's literal-character variables. */
const swfArns = (domain: string) => {
  const name = domain.replace(/[*?$]/g, (c) => `\${${c}}`);
  return [`arn:aws:swf:${REGION}:${ACCOUNT}:/domain/${name}`, `arn:aws:swf::${ACCOUNT}:/domain/${name}`];
};
const policy = (name: string, ...Statement: Record<string, unknown>[]): FakePolicy => ({
  name,
  document: { Version: '2012-10-17', Statement } satisfies PolicyDocument,
});
const ownJobs = (canStart: boolean) => [
  {
    Sid: canStart ? 'StartAndListOwnJobs' : 'ListOwnJobs',
    Effect: 'Allow',
    Action: [...(canStart ? ['states:StartExecution'] : []), 'states:ListExecutions'],
    Resource: MACHINE,
  },
  {
    Sid: 'ReadAndStopOwnJobs',
    Effect: 'Allow',
    Action: ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:StopExecution'],
    Resource: `${MACHINE.replace(':stateMachine:', ':execution:')}:*`,
  },
];
const logs = {
  Sid: 'WriteOwnLogs',
  Effect: 'Allow',
  Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  Resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:TerminatorLogGroup:*`,
};
const terminate = (domains: readonly string[]) => ({
  Sid: 'TerminateInChosenDomains',
  Effect: 'Allow',
  Action: [
    'swf:CountOpenWorkflowExecutions',
    'swf:ListOpenWorkflowExecutions',
    'swf:TerminateWorkflowExecution',
  ],
  Resource: domains.flatMap(swfArns),
});

/** The three roles as the construct makes them, plus `extra` policies on the handler's role. */
function putCleanRoles(fake: FakeIamServer, extra: FakePolicy[] = [], domains = CONFIG.domains): void {
  fake.putRole(CONFIG.handlerRoleArn, [
    policy('TerminatorRoleDefaultPolicy', logs, terminate(domains), ...ownJobs(true)),
    ...extra,
  ]);
  fake.putRole(ROLE('TerminatorControlRole'), [policy('ControlRoleDefaultPolicy', logs, ...ownJobs(false))]);
  fake.putRole(ROLE('TerminatorJobsRole'), [
    policy('JobsRoleDefaultPolicy', {
      Effect: 'Allow',
      Action: 'lambda:InvokeFunction',
      Resource: [FUNCTION, `${FUNCTION}:*`],
    }),
  ]);
}

let fake: FakeIamServer;
let iam: IAMClient;
let server: FakeIam;

beforeEach(async () => {
  server = await startFakeIam();
  ({ fake, iam } = server);
});

afterEach(() => server.close());

async function verify(config: VerifyConfig = CONFIG): Promise<VerifyReport> {
  const checks = buildChecks(config);
  const { evaluations, calls } = await simulateChecks(iam, checks);
  return buildReport(checks, evaluations, calls);
}

/** The 1-based line of `needle` in a policy laid out as the fake lays it out. */
const lineOf = (p: FakePolicy, needle: string) =>
  JSON.stringify(p.document, null, 2)
    .split('\n')
    .findIndex((l) => l.includes(needle)) + 1;

describe('a clean deployment', () => {
  test('passes every check, in 6 SimulatePrincipalPolicy calls for 2 domains (one page each)', async () => {
    putCleanRoles(fake);

    const report = await verify();

    expect(report.failures).toEqual([]);
    expect(report).toMatchObject({ ok: true, failed: 0, calls: 6, checked: buildChecks(CONFIG).length });
    expect(fake.calls.map((c) => [c.roleArn, c.status, c.marker])).toEqual([
      [CONFIG.handlerRoleArn, 200, undefined],
      [CONFIG.handlerRoleArn, 200, undefined],
      [ROLE('TerminatorControlRole'), 200, undefined],
      [ROLE('TerminatorControlRole'), 200, undefined],
      [ROLE('TerminatorJobsRole'), 200, undefined],
      [ROLE('TerminatorJobsRole'), 200, undefined],
    ]);
    expect(report.results.filter((r) => r.actual === 'allowed')).toHaveLength(13);
  });

  test('the allowed checks name the statement that grants them', async () => {
    putCleanRoles(fake);

    const report = await verify();

    const terminate = report.results.find(
      (r) =>
        r.action === 'swf:TerminateWorkflowExecution' &&
        r.resource === `arn:aws:swf::${ACCOUNT}:/domain/orders`,
    );
    expect(terminate?.matchedStatements).toEqual([
      expect.objectContaining({ sourcePolicyId: 'TerminatorRoleDefaultPolicy', sourcePolicyType: 'role' }),
    ]);
  });

  test('domains named with *, ? and $ pass when granted literally, and fail when granted as wildcards', async () => {
    const config = { ...CONFIG, domains: ['ord*', 'a?c', 'x$y'] };
    putCleanRoles(fake, [], config.domains);
    expect((await verify(config)).ok).toBe(true);

    // GIVEN the names written raw: IAM reads ord* as every domain starting with "ord"
    const raw = {
      ...terminate([]),
      Resource: config.domains.map((d) => `arn:aws:swf::${ACCOUNT}:/domain/${d}`),
    };
    fake.putRole(CONFIG.handlerRoleArn, [policy('Raw', raw)]);
    const report = await verify(config);

    expect(report.ok).toBe(false);
    expect(report.failures.map((f) => f.resource)).toContain(`arn:aws:swf::${ACCOUNT}:/domain/ord*2`);
    expect(report.failures.map((f) => f.resource)).toContain(`arn:aws:swf::${ACCOUNT}:/domain/ord*-prod`);
  });
});

describe('a role with more than it needs', () => {
  test('swf:* on *: fails, naming the check and the statement that allowed it', async () => {
    const broad = policy('Broad', { Sid: 'Everything', Effect: 'Allow', Action: 'swf:*', Resource: '*' });
    putCleanRoles(fake, [broad]);

    const report = await verify();

    expect(report.ok).toBe(false);
    const start = report.failures.find(
      (f) =>
        f.action === 'swf:StartWorkflowExecution' && f.resource === `arn:aws:swf::${ACCOUNT}:/domain/orders`,
    );
    expect(start).toMatchObject({ role: 'handler', expected: 'denied', actual: 'allowed' });
    expect(start?.message).toContain(
      `the terminating function's role ${CONFIG.handlerRoleArn}: swf:StartWorkflowExecution on ` +
        `arn:aws:swf::${ACCOUNT}:/domain/orders must be denied`,
    );
    expect(start?.message).toContain('IAM answered allowed; allowed by statement at');
    expect(start?.message).toContain('of policy "Broad" (role)');
    const [statement] = start?.matchedStatements ?? [];
    const sid = lineOf(broad, '"Sid": "Everything"');
    expect(statement?.start?.line).toBeLessThan(sid);
    expect(statement?.end?.line).toBeGreaterThan(sid);
    // every SWF action on "*", and on the canary and look-alike domains, fails too
    expect(report.failures.some((f) => f.resource === '*' && f.action === 'swf:RegisterDomain')).toBe(true);
    expect(report.failures.some((f) => f.resource.endsWith('/domain/orders2'))).toBe(true);
  });

  test('swf:StartWorkflowExecution on one form of a chosen domain: exactly that check fails', async () => {
    const resource = `arn:aws:swf::${ACCOUNT}:/domain/orders`;
    putCleanRoles(fake, [
      policy('Start', { Effect: 'Allow', Action: 'swf:StartWorkflowExecution', Resource: resource }),
    ]);

    const report = await verify();

    expect(report.failures.map((f) => [f.action, f.resource, f.actual])).toEqual([
      ['swf:StartWorkflowExecution', resource, 'allowed'],
    ]);
  });

  test('iam:PassRole on *: fails on "*" and on a role the terminator has nothing to do with', async () => {
    putCleanRoles(fake, [policy('Pass', { Effect: 'Allow', Action: 'iam:PassRole', Resource: '*' })]);

    const report = await verify();

    expect(report.failures.map((f) => [f.role, f.action, f.resource])).toEqual([
      ['handler', 'iam:PassRole', '*'],
      ['handler', 'iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/swf-terminator-verify-canary`],
    ]);
  });

  test('an explicit deny of what the handler needs fails the allowed check, naming the deny', async () => {
    putCleanRoles(fake, [
      policy('Guard', {
        Effect: 'Deny',
        Action: 'swf:TerminateWorkflowExecution',
        Resource: swfArns('billing'),
      }),
    ]);

    const report = await verify();

    expect(report.failures).toHaveLength(2);
    expect(report.failures[0]).toMatchObject({ expected: 'allowed', actual: 'explicitDeny' });
    expect(report.failures[0]?.message).toContain('IAM answered explicitDeny; denied by statement at');
    expect(report.failures[0]?.message).toContain('of policy "Guard"');
  });
});
