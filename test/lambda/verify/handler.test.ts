/**
 * The verifier's Lambda entry: its configuration (VERIFY_CONFIG, checked at cold start), what it logs, the
 * metric it emits, and how it fails. IAM is the local fake (test/support/fake-iam.ts) behind the real client.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { IAMClient } from '@aws-sdk/client-iam';
import { METRICS_NAMESPACE, VERIFY_METRIC } from '../../../lib/contract';
import { ConfigError } from '../../../lambda/errors';
import type { VerifyConfig } from '../../../lambda/verify/checks';
import { parseVerifyConfig } from '../../../lambda/verify/config';
import { LeastPrivilegeViolationError, SimulationFailedError } from '../../../lambda/verify/errors';
import type * as VerifyEntry from '../../../lambda/verify/handler';
import type { FakeIamServer, FakePolicy } from '../../support/fake-iam';
import { captureOutput } from '../../support/handler-fixtures';
import { ACCOUNT, type FakeIam, REGION, startFakeIam, verifyConfig } from '../../support/verify-fixtures';

const CONFIG: VerifyConfig = verifyConfig();
const env = (config: unknown) => ({ VERIFY_CONFIG: JSON.stringify(config) });

describe('VERIFY_CONFIG', () => {
  test('a complete configuration is read as given', () => {
    const full = {
      ...CONFIG,
      controlRoleArn: `arn:aws:iam::${ACCOUNT}:role/path/Control`,
      stateMachineRoleArn: `arn:aws:iam::${ACCOUNT}:role/Jobs`,
      handlerFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Handler`,
      cancelDomains: ['orders'],
      describeDomains: ['billing'],
    };
    expect(parseVerifyConfig(env(full))).toEqual(full);
  });

  test.each<[string, Record<string, string | undefined>, string]>([
    ['missing', {}, 'VERIFY_CONFIG: is required: the verifier configuration as JSON'],
    ['not JSON', { VERIFY_CONFIG: '{domains' }, 'VERIFY_CONFIG: must be JSON ('],
    ['not an object', env([]), 'VERIFY_CONFIG: the JSON must be an object (got array)'],
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
      env({ ...CONFIG, cancelDomains: ['shipping'] }),
      'VERIFY_CONFIG: cancelDomains[0]: must be one of the chosen domains (got "shipping", not in domains)',
    ],
    [
      'a role that is not a role',
      env({ ...CONFIG, handlerRoleArn: 'arn:aws:iam::111122223333:user/Bob' }),
      'VERIFY_CONFIG: handlerRoleArn: must be an IAM role ARN',
    ],
    [
      "another account's role",
      env({ ...CONFIG, controlRoleArn: 'arn:aws:iam::444455556666:role/Control' }),
      'VERIFY_CONFIG: controlRoleArn: must be a role of account 111122223333 in partition aws',
    ],
    [
      'a state machine role without the function it invokes',
      env({ ...CONFIG, stateMachineRoleArn: `arn:aws:iam::${ACCOUNT}:role/Jobs` }),
      'VERIFY_CONFIG: handlerFunctionArn: is required with stateMachineRoleArn',
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
  let entry: typeof VerifyEntry;
  let fake: FakeIamServer;
  let iam: IAMClient;
  const clean: FakePolicy = {
    name: 'TerminatorRoleDefaultPolicy',
    document: {
      Version: '2012-10-17',
      Statement: {
        Effect: 'Allow',
        Action: [
          'swf:CountOpenWorkflowExecutions',
          'swf:ListOpenWorkflowExecutions',
          'swf:TerminateWorkflowExecution',
        ],
        Resource: CONFIG.domains.flatMap((d) => [
          `arn:aws:swf:${REGION}:${ACCOUNT}:/domain/${d}`,
          `arn:aws:swf::${ACCOUNT}:/domain/${d}`,
        ]),
      },
    },
  };

  beforeAll(async () => {
    // The entry reads its configuration when it is loaded, like Lambda's cold start.
    process.env.VERIFY_CONFIG = JSON.stringify(CONFIG);
    entry = await import('../../../lambda/verify/handler');
  });

  let server: FakeIam;

  beforeEach(async () => {
    server = await startFakeIam();
    ({ fake, iam } = server);
  });

  afterEach(() => server.close());

  /**
   * Runs one invocation (by default a single run: no settling waits); answers how it ended, its log lines and
   * its EMF documents.
   */
  async function invoke(settle: { delays?: number[]; sleep?: (ms: number) => Promise<void> } = {}) {
    const handler = entry.createVerifyHandler({
      config: CONFIG,
      iam,
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

  test('a clean role: answers the report, logs the summary, emits VerificationFailed 0', async () => {
    fake.putRole(CONFIG.handlerRoleArn, [clean]);

    const { report, error, lines, emf } = await invoke();

    expect(error).toBeUndefined();
    expect(report).toMatchObject({ ok: true, failed: 0, calls: 2 });
    expect(lines.map((l) => l.message)).toEqual(['least privilege verified']);
    expect(lines[0]).toMatchObject({ level: 'INFO', failed: 0, calls: 2, function_request_id: 'req-1' });
    expect(metricOf(emf)).toEqual([{ namespace: 'SwfTerminator', value: 0 }]);
  });

  test('a broader role: throws LeastPrivilegeViolationError naming the first failures, one log line each, metric 1', async () => {
    const start: FakePolicy = {
      name: 'StartEverywhere',
      document: {
        Version: '2012-10-17',
        Statement: { Effect: 'Allow', Action: 'swf:StartWorkflowExecution', Resource: '*' },
      },
    };
    fake.putRole(CONFIG.handlerRoleArn, [clean, start]);

    const { report, error, lines, emf } = await invoke();

    expect(report).toBeUndefined();
    expect(error).toBeInstanceOf(LeastPrivilegeViolationError);
    const message = (error as Error).message;
    expect(message).toMatch(
      /^least privilege violated: 5 of \d+ checks failed: the terminating function's role /,
    );
    expect(message).toContain(
      `swf:StartWorkflowExecution on arn:aws:swf:${REGION}:${ACCOUNT}:/domain/orders must be denied`,
    );
    expect(message).toContain('of policy "StartEverywhere" (role)');
    expect(message).toContain('(and 2 more, in the log)');
    const failed = lines.filter((l) => l.message === 'least privilege check failed');
    expect(failed).toHaveLength(5);
    expect(failed[0]).toMatchObject({
      level: 'ERROR',
      role: 'handler',
      action: 'swf:StartWorkflowExecution',
      actual: 'allowed',
    });
    expect(lines.at(-1)).toMatchObject({ message: 'least privilege violated', failed: 5 });
    expect(metricOf(emf)).toEqual([{ namespace: 'SwfTerminator', value: 1 }]);
  });

  test('IAM cannot answer: throws SimulationFailedError, logs why, emits VerificationFailed 1', async () => {
    const { error, lines, emf } = await invoke();

    expect(error).toBeInstanceOf(SimulationFailedError);
    expect(lines.map((l) => l.message)).toEqual(['least privilege could not be verified']);
    expect(String(lines[0]?.error)).toContain('NoSuchEntity');
    expect(metricOf(emf)).toEqual([{ namespace: 'SwfTerminator', value: 1 }]);
  });

  test('right after a deployment: a role IAM does not show yet is checked again after a wait, and then proven', async () => {
    // GIVEN a role IAM does not know at the first run (eventual consistency), and knows at the second
    const waits: number[] = [];
    const sleep = (ms: number) => {
      waits.push(ms);
      fake.putRole(CONFIG.handlerRoleArn, [clean]);
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
    fake.putRole(CONFIG.handlerRoleArn, [
      clean,
      {
        name: 'StartEverywhere',
        document: {
          Version: '2012-10-17',
          Statement: { Effect: 'Allow', Action: 'swf:StartWorkflowExecution', Resource: '*' },
        },
      },
    ]);
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
