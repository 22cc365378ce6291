/**
 * The verifier's Lambda entry: its configuration (VERIFY_CONFIG, checked at cold start), what it logs, the
 * metric it emits, and how it fails. IAM, Lambda and EventBridge are local fakes (test/support/fake-*.ts) behind
 * the real clients.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, VERIFY_METRIC } from '../../../lib/contract';
import { ConfigError } from '../../../lambda/errors';
import type { VerifyConfig } from '../../../lambda/verify/checks';
import { parseVerifyConfig } from '../../../lambda/verify/config';
import {
  LeastPrivilegeViolationError,
  ReadFailedError,
  SimulationFailedError,
} from '../../../lambda/verify/errors';
import { createVerifyHandler } from '../../../lambda/verify/run';
import type { FakePolicy } from '../../support/fake-iam';
import { captureOutput } from '../../support/handler-fixtures';
import {
  ACCOUNT,
  putCleanDeployment,
  REGION,
  RESTORE,
  startVerifierFakes,
  type VerifierFakes,
  verifyConfig,
} from '../../support/verify-fixtures';

const CONFIG: VerifyConfig = verifyConfig();
/** The environment as the construct writes it: cancel and describe domains by their position in `domains`. */
const env = (config: object) => {
  const raw = new Map<string, unknown>(Object.entries(config));
  const domains: unknown[] = [raw.get('domains')].flat();
  for (const key of ['cancelDomains', 'describeDomains']) {
    const list = raw.get(key);
    if (Array.isArray(list))
      raw.set(
        key,
        list.map((domain: unknown) => (typeof domain === 'number' ? domain : domains.indexOf(domain))),
      );
  }
  return { VERIFY_CONFIG: JSON.stringify(Object.fromEntries(raw)) };
};

describe('VERIFY_CONFIG', () => {
  test('a complete configuration is read as given', () => {
    const full = {
      ...CONFIG,
      controlRoleArn: `arn:aws:iam::${ACCOUNT}:role/path/Control`,
      stateMachineRoleArn: `arn:aws:iam::${ACCOUNT}:role/Jobs`,
      handlerFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Handler`,
      controlFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Control`,
      cancelDomains: ['orders'],
      describeDomains: ['billing'],
      handlerRules: ['Bus/RequestRule', 'PolicySchedule'],
      controlRules: ['Bus/ControlRule'],
    };
    expect(parseVerifyConfig(env(full))).toEqual(full);
  });

  test('with restore: its role, its function and the Lambda roles are read as given', () => {
    const withRestore = { ...CONFIG, restore: { ...RESTORE, lambdaRoles: [...RESTORE.lambdaRoles] } };
    expect(parseVerifyConfig(env(withRestore))).toEqual(withRestore);
    expect(
      parseVerifyConfig(env({ ...withRestore, restore: { ...RESTORE, lambdaRoles: [] } })).restore,
    ).toEqual({
      ...RESTORE,
      lambdaRoles: [],
    });
  });

  const restoreWith = (over: Record<string, unknown>) => env({ ...CONFIG, restore: { ...RESTORE, ...over } });
  test.each<[string, Record<string, string | undefined>, string]>([
    [
      'an unknown field of restore',
      restoreWith({ lambdaRole: 'x' }),
      'VERIFY_CONFIG: restore.lambdaRole: is not a known field (known: roleArn, functionArn, lambdaRoles)',
    ],
    [
      'restore without its Lambda roles',
      restoreWith({ lambdaRoles: undefined }),
      'VERIFY_CONFIG: restore.lambdaRoles: is required',
    ],
    [
      "restore's role in another account",
      restoreWith({ roleArn: RESTORE.roleArn.replace(ACCOUNT, '444455556666') }),
      'VERIFY_CONFIG: restore.roleArn: must be of account 111122223333, partition aws',
    ],
    [
      "restore's role is another role of the terminator",
      restoreWith({ roleArn: CONFIG.handlerRoleArn }),
      "VERIFY_CONFIG: restore.roleArn: must be restore's own role",
    ],
    [
      'a qualified restore function',
      restoreWith({ functionArn: `${RESTORE.functionArn}:live` }),
      'VERIFY_CONFIG: restore.functionArn: must be an unqualified Lambda function ARN',
    ],
    [
      'a restore function of another region',
      restoreWith({ functionArn: RESTORE.functionArn.replace(REGION, 'us-east-1') }),
      'VERIFY_CONFIG: restore.functionArn: must be of account 111122223333 in eu-west-1, partition aws',
    ],
    [
      'a Lambda role that is not a role',
      restoreWith({ lambdaRoles: [`arn:aws:iam::${ACCOUNT}:user/Bob`] }),
      'VERIFY_CONFIG: restore.lambdaRoles[0]: must be an IAM role ARN',
    ],
    [
      'a Lambda role of another partition',
      restoreWith({ lambdaRoles: [`arn:aws-cn:iam::${ACCOUNT}:role/workflow-lambdas`] }),
      'VERIFY_CONFIG: restore.lambdaRoles[0]: must be of account 111122223333, partition aws',
    ],
  ])('%s is refused, naming the field and the rule', (_what, given, message) => {
    expect(() => parseVerifyConfig(given)).toThrow(ConfigError);
    expect(() => parseVerifyConfig(given)).toThrow(message);
  });

  test.each<[string, Record<string, string | undefined>, string]>([
    ['missing', {}, 'VERIFY_CONFIG: is required: the verifier configuration as JSON'],
    ['not JSON', { VERIFY_CONFIG: '{domains' }, 'VERIFY_CONFIG: must be JSON ('],
    ['not an object', { VERIFY_CONFIG: '[]' }, 'VERIFY_CONFIG: the JSON must be an object (got array)'],
    [
      'an unknown field',
      env({ ...CONFIG, domain: 'x' }),
      'VERIFY_CONFIG: domain: is not a known field (known: ',
    ],
    ['no domains', env({ ...CONFIG, domains: [] }), 'VERIFY_CONFIG: domains: must have at least 1 entry'],
    [
      'a bad domain',
      env({ ...CONFIG, domains: ['orders', 'a:b'] }),
      'VERIFY_CONFIG: domains[1]: must not contain ":"',
    ],
    ['a repeated domain', env({ ...CONFIG, domains: ['a', 'a'] }), 'VERIFY_CONFIG: domains[1]: repeats "a"'],
    [
      'a bad account',
      env({ ...CONFIG, account: '12' }),
      'VERIFY_CONFIG: account: must be a 12-digit AWS account id (got "12")',
    ],
    ['a bad region', env({ ...CONFIG, region: 'Europe' }), 'VERIFY_CONFIG: region: must be an AWS region'],
    [
      'a missing field',
      env({ ...CONFIG, cancelDomains: undefined }),
      'VERIFY_CONFIG: cancelDomains: is required',
    ],
    [
      'a cancel domain not chosen',
      env({ ...CONFIG, cancelDomains: [2] }),
      'VERIFY_CONFIG: cancelDomains[0]: must be a position in domains, 0 to 1 (got 2)',
    ],
    [
      'a describe domain by name',
      { VERIFY_CONFIG: JSON.stringify({ ...CONFIG, describeDomains: ['orders'] }) },
      'VERIFY_CONFIG: describeDomains[0]: must be a number (got string)',
    ],
    [
      'a role that is not a role',
      env({ ...CONFIG, handlerRoleArn: 'arn:aws:iam::111122223333:user/Bob' }),
      'VERIFY_CONFIG: handlerRoleArn: must be an IAM role ARN',
    ],
    [
      "another account's role",
      env({ ...CONFIG, controlRoleArn: 'arn:aws:iam::444455556666:role/Control' }),
      'VERIFY_CONFIG: controlRoleArn: must be of account 111122223333, partition aws',
    ],
    [
      'no function',
      env({ ...CONFIG, handlerFunctionArn: undefined }),
      'VERIFY_CONFIG: handlerFunctionArn: is required',
    ],
    [
      'a function of another region',
      env({ ...CONFIG, controlFunctionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:Control` }),
      'VERIFY_CONFIG: controlFunctionArn: must be of account 111122223333 in eu-west-1, partition aws',
    ],
    [
      'a qualified function',
      env({ ...CONFIG, handlerFunctionArn: `${CONFIG.handlerFunctionArn}:live` }),
      'VERIFY_CONFIG: handlerFunctionArn: must be an unqualified Lambda function ARN',
    ],
    [
      "a log group ARN without CloudFormation's :*",
      env({ ...CONFIG, logGroupArn: CONFIG.logGroupArn.replace(/:\*$/, '') }),
      "VERIFY_CONFIG: logGroupArn: must be a log group's ARN as CloudFormation gives it",
    ],
    [
      'a bus of another account',
      env({ ...CONFIG, eventBusArn: CONFIG.eventBusArn.replace(ACCOUNT, '444455556666') }),
      'VERIFY_CONFIG: eventBusArn: must be of account 111122223333 in eu-west-1',
    ],
    [
      'a rule given as a whole ARN',
      env({ ...CONFIG, handlerRules: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/R`] }),
      "VERIFY_CONFIG: handlerRules[0]: must be a rule's ARN after rule/, [BUS/]NAME",
    ],
  ])('%s is refused, naming the field and the rule', (_what, given, message) => {
    let thrown: unknown;
    try {
      parseVerifyConfig(given);
    } catch (error: unknown) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toContain(message);
  });

  test('a bad VERIFY_CONFIG fails the Lambda entry at cold start, naming the field', async () => {
    const saved = process.env.VERIFY_CONFIG;
    process.env.VERIFY_CONFIG = JSON.stringify({ ...CONFIG, account: 'abc' });
    try {
      await jest.isolateModulesAsync(async () => {
        await expect(import('../../../lambda/verify/handler')).rejects.toThrow(
          'VERIFY_CONFIG: account: must be a 12-digit AWS account id (got "abc")',
        );
      });
    } finally {
      process.env.VERIFY_CONFIG = saved;
    }
  });
});

describe('the Lambda entry', () => {
  let fakes: VerifierFakes;

  beforeEach(async () => {
    fakes = await startVerifierFakes();
  });

  afterEach(() => fakes.close());

  /**
   * Runs one invocation (by default a single run: no settling waits); answers how it ended, its log lines and
   * its EMF documents.
   */
  async function invoke(
    settle: { delays?: number[]; sleep?: (ms: number) => Promise<void> } = {},
    config: VerifyConfig = CONFIG,
  ) {
    const handler = createVerifyHandler({
      config,
      ...fakes.clients,
      logger: new Logger({ logLevel: 'INFO', serviceName: 'verify-test' }),
      metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'verify-test' }),
      simulate: { sleep: () => Promise.resolve() },
      settleDelaysMs: settle.delays ?? [],
      ...(settle.sleep === undefined ? {} : { sleep: settle.sleep }),
    });
    const { outcome, logs, docs } = await captureOutput(() => handler({}, { awsRequestId: 'req-1' }));
    return {
      report: 'resolved' in outcome ? outcome.resolved : undefined,
      error: 'rejected' in outcome ? outcome.rejected : undefined,
      lines: logs,
      emf: docs,
    };
  }

  const metricOf = (emf: Record<string, unknown>[]) =>
    emf.map((d) => ({
      namespace: (d._aws as { CloudWatchMetrics: { Namespace: string }[] }).CloudWatchMetrics[0]?.Namespace,
      value: d[VERIFY_METRIC],
    }));

  const startEverywhere: FakePolicy = {
    name: 'StartEverywhere',
    document: {
      Version: '2012-10-17',
      Statement: { Effect: 'Allow', Action: 'swf:StartWorkflowExecution', Resource: '*' },
    },
  };

  test('a clean deployment: answers the report, logs the summary, emits VerificationFailed 0', async () => {
    putCleanDeployment(fakes, CONFIG);

    const { report, error, lines, emf } = await invoke();

    expect(error).toBeUndefined();
    expect(report).toMatchObject({ ok: true, failed: 0, findings: [] });
    expect(lines.map((l) => l.message)).toEqual(['least privilege verified']);
    expect(lines[0]).toMatchObject({
      level: 'INFO',
      refused: 0,
      failed: 0,
      calls: report?.calls,
      function_request_id: 'req-1',
    });
    expect(metricOf(emf)).toEqual([{ namespace: 'SwfTerminator', value: 0 }]);
  });

  test("with restore: a clean deployment passes, and the summary names restore's role with the others", async () => {
    const config = verifyConfig({
      controlRoleArn: `arn:aws:iam::${ACCOUNT}:role/TerminatorControlRole`,
      stateMachineRoleArn: `arn:aws:iam::${ACCOUNT}:role/TerminatorJobsRole`,
      restore: RESTORE,
    });
    putCleanDeployment(fakes, config);

    const { report, error, lines } = await invoke({}, config);

    expect(error).toBeUndefined();
    expect(report).toMatchObject({ ok: true, failed: 0, findings: [] });
    expect(lines[0]).toMatchObject({
      message: 'least privilege verified',
      roles: {
        handler: config.handlerRoleArn,
        control: config.controlRoleArn,
        stateMachine: config.stateMachineRoleArn,
        restore: RESTORE.roleArn,
      },
    });
  });

  test("with restore: a permission on restore's function is refused, and a failed check logs the context it was asked with", async () => {
    const config = verifyConfig({ restore: RESTORE });
    putCleanDeployment(fakes, config);
    fakes.lambda.addStatement(RESTORE.functionArn, {
      Sid: 'Operators',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: 'lambda:InvokeFunction',
      Resource: RESTORE.functionArn,
    });
    fakes.iam.addPolicy(RESTORE.roleArn, {
      name: 'PassAnywhere',
      document: {
        Version: '2012-10-17',
        Statement: { Effect: 'Allow', Action: 'iam:PassRole', Resource: RESTORE.lambdaRoles[0] },
      },
    });

    const { error, lines } = await invoke({}, config);

    expect(error).toBeInstanceOf(LeastPrivilegeViolationError);
    expect((error as Error).message).toContain(
      `the restore function ${RESTORE.functionArn}: resource-based policy, statement 1 (Sid "Operators"): Allow ` +
        `lambda:InvokeFunction on ${RESTORE.functionArn} to AWS: arn:aws:iam::${ACCOUNT}:root is refused`,
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        message: 'least privilege check failed',
        role: 'restore',
        action: 'iam:PassRole',
        context: { 'iam:PassedToService': 'lambda.amazonaws.com' },
        actual: 'allowed',
      }),
    );
  });

  test('a broader role: throws LeastPrivilegeViolationError naming the statement first, one log line per finding and failure, metric 1', async () => {
    putCleanDeployment(fakes, CONFIG);
    fakes.iam.addPolicy(CONFIG.handlerRoleArn, startEverywhere);

    const { report, error, lines, emf } = await invoke();

    expect(report).toBeUndefined();
    expect(error).toBeInstanceOf(LeastPrivilegeViolationError);
    const message = (error as Error).message;
    expect(message).toMatch(/^least privilege violated: 1 grants refused, 5 of \d+ checks failed: /);
    expect(message).toContain(
      `the terminating function's role ${CONFIG.handlerRoleArn}: inline policy "StartEverywhere", ` +
        'statement 1: Allow swf:StartWorkflowExecution on * is refused: the construct grants this role no ' +
        'swf:StartWorkflowExecution',
    );
    expect(message).toContain(
      `swf:StartWorkflowExecution on arn:aws:swf:${REGION}:${ACCOUNT}:/domain/orders must be denied`,
    );
    expect(message).toContain('(and 3 more, in the log)');
    const refused = lines.filter((l) => l.message === 'least privilege: a grant is refused');
    expect(refused).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        policy: 'inline policy "StartEverywhere"',
        statement: 1,
        action: 'swf:StartWorkflowExecution',
        resource: '*',
      }),
    ]);
    const failed = lines.filter((l) => l.message === 'least privilege check failed');
    expect(failed).toHaveLength(5);
    expect(failed[0]).toMatchObject({
      level: 'ERROR',
      role: 'handler',
      action: 'swf:StartWorkflowExecution',
      actual: 'allowed',
    });
    expect(lines.at(-1)).toMatchObject({ message: 'least privilege violated', refused: 1, failed: 5 });
    expect(metricOf(emf)).toEqual([{ namespace: 'SwfTerminator', value: 1 }]);
  });

  test('IAM cannot show the role: throws ReadFailedError, logs why, emits VerificationFailed 1', async () => {
    const { error, lines, emf } = await invoke();

    expect(error).toBeInstanceOf(ReadFailedError);
    expect((error as Error).message).toContain(`reading the policies of ${CONFIG.handlerRoleArn} failed`);
    expect(lines.map((l) => l.message)).toEqual(['least privilege could not be verified']);
    expect(String(lines[0]?.error)).toContain('NoSuchEntity');
    expect(metricOf(emf)).toEqual([{ namespace: 'SwfTerminator', value: 1 }]);
  });

  test('IAM cannot simulate: throws SimulationFailedError, logs why, emits VerificationFailed 1', async () => {
    putCleanDeployment(fakes, CONFIG);
    fakes.iam.failNext('access-denied', 1, 'SimulatePrincipalPolicy');

    const { error, lines, emf } = await invoke();

    expect(error).toBeInstanceOf(SimulationFailedError);
    expect(String(lines[0]?.error)).toContain('AccessDenied');
    expect(metricOf(emf)).toEqual([{ namespace: 'SwfTerminator', value: 1 }]);
  });

  test('right after a deployment: a role IAM does not show yet is checked again after a wait, and then proven', async () => {
    // GIVEN a role IAM does not know at the first run (eventual consistency), and knows at the second
    putCleanDeployment(fakes, CONFIG);
    fakes.iam.failNext('access-denied', 1, 'GetRole');
    const waits: number[] = [];
    const sleep = (ms: number) => {
      waits.push(ms);
      return Promise.resolve();
    };

    // WHEN
    const { report, error, lines, emf } = await invoke({ delays: [10_000, 20_000], sleep });

    // THEN one wait, a warning that says why, then the proof; the metric counts the invocation once, as proven
    expect(error).toBeUndefined();
    expect(report).toMatchObject({ ok: true });
    expect(waits).toEqual([10_000]);
    expect(lines.map((l) => l.message)).toEqual([
      'least privilege could not be verified',
      'least privilege not proven yet; IAM may still be propagating, checking again',
      'least privilege verified',
    ]);
    expect(metricOf(emf)).toEqual([{ namespace: 'SwfTerminator', value: 0 }]);
  });

  test('a violation that outlasts every wait fails the invocation, after each wait', async () => {
    // GIVEN a role that can start workflows, and stays so
    putCleanDeployment(fakes, CONFIG);
    fakes.iam.addPolicy(CONFIG.handlerRoleArn, startEverywhere);
    const waits: number[] = [];

    // WHEN
    const { error, emf } = await invoke({
      delays: [10_000, 20_000],
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    });

    // THEN
    expect(error).toBeInstanceOf(LeastPrivilegeViolationError);
    expect(waits).toEqual([10_000, 20_000]);
    expect(metricOf(emf)).toEqual([{ namespace: 'SwfTerminator', value: 1 }]);
  });
});
