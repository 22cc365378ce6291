import { ConfigError } from '../../lambda/errors';
import { parseConfig } from '../../lambda/config';
import {
  DEFAULT_JOB_CHUNK_SECONDS,
  DEFAULT_MAX_EXECUTIONS,
  DEFAULT_RATE_SHARES,
  DEFAULT_REQUEST_DETAIL_TYPE,
  DEFAULT_TERMINATE_BURST,
  DEFAULT_TERMINATE_RATE_PER_SECOND,
} from '../../lib/contract';
import { DOMAIN } from '../support/handler-fixtures';
import { synthTerminator } from '../support/construct-helpers';
import { type Env } from '../../lambda/config';
import { ENV } from '../../lib/contract';
import { ChildPolicy, type SwfTerminatorProps } from '../../lib';
import { resolveIntrinsics } from '../support/construct-helpers';

describe('parseConfig', () => {
  test('defaults: only ALLOWED_DOMAINS is required', () => {
    expect(parseConfig({ ALLOWED_DOMAINS: 'orders,billing,orders' })).toEqual({
      allowedDomains: ['orders', 'billing'],
      maxExecutions: DEFAULT_MAX_EXECUTIONS,
      dryRun: false,
      requestDetailType: DEFAULT_REQUEST_DETAIL_TYPE,
      terminateRatePerSecond: DEFAULT_TERMINATE_RATE_PER_SECOND,
      terminateBurst: DEFAULT_TERMINATE_BURST,
      rateShares: DEFAULT_RATE_SHARES,
      controlOnly: false,
      jobChunkSeconds: DEFAULT_JOB_CHUNK_SECONDS,
      cancelRequests: false,
      cancelDomains: [],
      describeDomains: [],
      policyDigests: [],
    });
  });

  test('every setting is read', () => {
    expect(
      parseConfig({
        ALLOWED_DOMAINS: 'orders',
        DEFAULT_CHILD_POLICY: 'ABANDON',
        MAX_EXECUTIONS: '50',
        DRY_RUN: 'true',
        REQUEST_DETAIL_TYPE: 'Kill Request',
        TERMINATE_RATE_PER_SECOND: '12.5',
        TERMINATE_BURST: '40',
        TERMINATE_RATE_SHARES: '4',
        STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Ops-Terminator-A1B2C3D4',
        CONTROL_ONLY: 'true',
        JOB_CHUNK_SECONDS: '90',
        CANCEL_REQUESTS: 'true',
        CANCEL_DOMAINS: 'orders',
        DESCRIBE_DOMAINS: 'orders',
        POLICY_DIGESTS: '0123456789abcdef,fedcba9876543210',
        LOG_GROUP_NAME: 'Ops-TerminatorLogGroup34EE5583-AbC/x.y#1',
      }),
    ).toEqual({
      allowedDomains: ['orders'],
      defaultChildPolicy: 'ABANDON',
      maxExecutions: 50,
      dryRun: true,
      requestDetailType: 'Kill Request',
      terminateRatePerSecond: 12.5,
      terminateBurst: 40,
      rateShares: 4,
      stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Ops-Terminator-A1B2C3D4',
      controlOnly: true,
      jobChunkSeconds: 90,
      cancelRequests: true,
      cancelDomains: ['orders'],
      describeDomains: ['orders'],
      policyDigests: ['0123456789abcdef', 'fedcba9876543210'],
      logGroupName: 'Ops-TerminatorLogGroup34EE5583-AbC/x.y#1',
    });
  });

  test.each([
    ['missing ALLOWED_DOMAINS', {}, /^ALLOWED_DOMAINS: is required/],
    ['empty ALLOWED_DOMAINS', { ALLOWED_DOMAINS: '' }, /^ALLOWED_DOMAINS: is required/],
    ['blank ALLOWED_DOMAINS', { ALLOWED_DOMAINS: '   ' }, /^ALLOWED_DOMAINS: is required/],
    [
      'an empty item in ALLOWED_DOMAINS',
      { ALLOWED_DOMAINS: 'orders,,billing' },
      /^ALLOWED_DOMAINS: item 2 of 3 is empty/,
    ],
    [
      'a trailing comma in ALLOWED_DOMAINS',
      { ALLOWED_DOMAINS: 'orders,' },
      /^ALLOWED_DOMAINS: item 2 of 2 is empty/,
    ],
    [
      'a leading comma in ALLOWED_DOMAINS',
      { ALLOWED_DOMAINS: ',orders' },
      /^ALLOWED_DOMAINS: item 1 of 2 is empty/,
    ],
    [
      'a space after a comma in ALLOWED_DOMAINS',
      { ALLOWED_DOMAINS: 'orders, billing' },
      /^ALLOWED_DOMAINS: domain name " billing" \(item 2 of 2\) has leading or trailing whitespace/,
    ],
    [
      'a trailing space in ALLOWED_DOMAINS',
      { ALLOWED_DOMAINS: 'orders ' },
      /^ALLOWED_DOMAINS: domain name "orders " \(item 1 of 1\) has leading or trailing whitespace/,
    ],
    [
      'a leading tab in ALLOWED_DOMAINS',
      { ALLOWED_DOMAINS: 'orders,\tbilling' },
      /^ALLOWED_DOMAINS: domain name "\\tbilling" \(item 2 of 2\) has leading or trailing whitespace/,
    ],
    [
      'a trailing newline in ALLOWED_DOMAINS',
      { ALLOWED_DOMAINS: 'orders\n' },
      /^ALLOWED_DOMAINS: domain name "orders\\n" \(item 1 of 1\) has leading or trailing whitespace/,
    ],
    [
      'an invalid domain name',
      { ALLOWED_DOMAINS: 'orders,a/b' },
      /^ALLOWED_DOMAINS: domain name "a\/b" must not contain/,
    ],
    [
      'a POLICY_DIGESTS item that is not a 16-digit hex digest',
      { ALLOWED_DOMAINS: 'o', POLICY_DIGESTS: '0123456789abcdef,not-a-digest' },
      /^POLICY_DIGESTS: must be comma-separated 16-digit hex digests \(got "not-a-digest"\)/,
    ],
    [
      'bad DEFAULT_CHILD_POLICY',
      { ALLOWED_DOMAINS: 'o', DEFAULT_CHILD_POLICY: 'KILL' },
      /^DEFAULT_CHILD_POLICY: must be one of TERMINATE, REQUEST_CANCEL, ABANDON/,
    ],
    [
      'lower-case DEFAULT_CHILD_POLICY',
      { ALLOWED_DOMAINS: 'o', DEFAULT_CHILD_POLICY: 'abandon' },
      /^DEFAULT_CHILD_POLICY:/,
    ],
    [
      'MAX_EXECUTIONS not a number',
      { ALLOWED_DOMAINS: 'o', MAX_EXECUTIONS: 'lots' },
      /^MAX_EXECUTIONS: must be a positive integer/,
    ],
    [
      'MAX_EXECUTIONS zero',
      { ALLOWED_DOMAINS: 'o', MAX_EXECUTIONS: '0' },
      /^MAX_EXECUTIONS: must be a positive integer/,
    ],
    [
      'MAX_EXECUTIONS negative',
      { ALLOWED_DOMAINS: 'o', MAX_EXECUTIONS: '-5' },
      /^MAX_EXECUTIONS: must be a positive integer/,
    ],
    [
      'MAX_EXECUTIONS fractional',
      { ALLOWED_DOMAINS: 'o', MAX_EXECUTIONS: '1.5' },
      /^MAX_EXECUTIONS: must be a positive integer/,
    ],
    [
      'MAX_EXECUTIONS huge',
      { ALLOWED_DOMAINS: 'o', MAX_EXECUTIONS: '1e400' },
      /^MAX_EXECUTIONS: must be a positive integer/,
    ],
    [
      'DRY_RUN not a boolean',
      { ALLOWED_DOMAINS: 'o', DRY_RUN: 'yes' },
      /^DRY_RUN: must be "true" or "false"/,
    ],
  ])('%s → ConfigError naming the variable', (_name, env, message) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(message);
  });

  test.each([
    ['TERMINATE_RATE_PER_SECOND', 'fast', 'a positive number'],
    ['TERMINATE_RATE_PER_SECOND', '0', 'a positive number'],
    ['TERMINATE_RATE_PER_SECOND', '-3', 'a positive number'],
    ['TERMINATE_RATE_PER_SECOND', '1e', 'a positive number'],
    ['TERMINATE_RATE_PER_SECOND', '0x10', 'a positive number'],
    ['TERMINATE_RATE_PER_SECOND', '1e999', 'a positive number'],
    ['TERMINATE_BURST', '2.5', 'a positive integer'],
    ['TERMINATE_BURST', '0', 'a positive integer'],
    ['TERMINATE_RATE_SHARES', 'two', 'a positive integer'],
    ['TERMINATE_RATE_SHARES', '0', 'a positive integer'],
    [
      'STATE_MACHINE_ARN',
      'arn:aws:lambda:eu-west-1:123456789012:function:x',
      'a Step Functions state machine ARN',
    ],
    ['STATE_MACHINE_ARN', 'my-jobs', 'a Step Functions state machine ARN'],
    ['CONTROL_ONLY', 'yes', '"true" or "false"'],
    ['JOB_CHUNK_SECONDS', '0', 'a positive number'],
    ['LOG_GROUP_NAME', 'has space', 'a CloudWatch Logs log group name'],
    ['LOG_GROUP_NAME', 'x'.repeat(513), 'a CloudWatch Logs log group name'],
  ])('%s = "%s" → ConfigError: must be %s', (variable, value, rule) => {
    const env = { ALLOWED_DOMAINS: 'o', [variable]: value };
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(new RegExp(`^${variable}: must be ${rule}`));
  });

  test('names inside ALLOWED_DOMAINS are used exactly as written, never trimmed', () => {
    for (const raw of [' orders', 'orders ', ' orders ', 'orders,billing ', '\u00a0orders']) {
      expect(() => parseConfig({ ALLOWED_DOMAINS: raw })).toThrow(ConfigError);
    }
    expect(parseConfig({ ALLOWED_DOMAINS: 'orders,billing' }).allowedDomains).toEqual(['orders', 'billing']);
  });

  test('the error carries the variable name', () => {
    const error = (() => {
      try {
        parseConfig({ ALLOWED_DOMAINS: 'o', MAX_EXECUTIONS: 'x' });
      } catch (e: unknown) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('MAX_EXECUTIONS');
    expect((error as ConfigError).name).toBe('ConfigError');
  });
});

describe('every value the construct can write, the handler reads back as the same setting', () => {
  /**
   * Each function's environment as synthesized (intrinsics resolved as CloudFormation would, in one account
   * and region), parsed by the handler's own configuration reader.
   */
  function configsOf(props: Partial<SwfTerminatorProps>) {
    const { template } = synthTerminator(props);
    const where = { partition: 'aws', account: '123456789012', region: 'eu-west-1' };
    const read = (prefix: string) => {
      const [resource] = Object.entries(template.findResources('AWS::Lambda::Function'))
        .filter(([id]) => id.startsWith(prefix))
        .map(([, r]) => r as { Properties: { Environment: { Variables: unknown } } });
      return parseConfig(
        resolveIntrinsics(resource!.Properties.Environment.Variables, template, where) as Env,
      );
    };
    return { handler: read('TerminatorHandler'), control: read('TerminatorControlHandler') };
  }
  const configOf = (props: Partial<SwfTerminatorProps>) => configsOf(props).handler;
  const long = 'd'.repeat(256);

  test.each<[string, Partial<SwfTerminatorProps>, (c: ReturnType<typeof parseConfig>) => unknown, unknown]>([
    [
      'the state machine',
      {},
      (c) => c.stateMachineArn,
      expect.stringMatching(
        /^arn:aws:states:eu-west-1:123456789012:stateMachine:TestStack-Terminator-[A-F0-9]{8}$/,
      ),
    ],
    ['maxExecutionsPerRequest 1', { maxExecutionsPerRequest: 1 }, (c) => c.maxExecutions, 1],
    ['maxExecutionsPerRequest 100000', { maxExecutionsPerRequest: 100_000 }, (c) => c.maxExecutions, 100_000],
    ['terminateRatePerSecond 60', { terminateRatePerSecond: 60 }, (c) => c.terminateRatePerSecond, 60],
    ['terminateRatePerSecond 0.5', { terminateRatePerSecond: 0.5 }, (c) => c.terminateRatePerSecond, 0.5],
    ['terminateRatePerSecond 1e-7', { terminateRatePerSecond: 1e-7 }, (c) => c.terminateRatePerSecond, 1e-7],
    ['terminateBurst 1', { terminateBurst: 1 }, (c) => c.terminateBurst, 1],
    ['terminateBurst 2000', { terminateBurst: 2000 }, (c) => c.terminateBurst, 2000],
    [
      'reservedConcurrentExecutions 1000',
      { reservedConcurrentExecutions: 1000, terminateBurst: 2000 },
      (c) => c.rateShares,
      1000,
    ],
    ['dryRun true', { dryRun: true }, (c) => c.dryRun, true],
    ['dryRun false', { dryRun: false }, (c) => c.dryRun, false],
    ['childPolicy ABANDON', { childPolicy: ChildPolicy.ABANDON }, (c) => c.defaultChildPolicy, 'ABANDON'],
    ['no childPolicy', {}, (c) => c.defaultChildPolicy, undefined],
    ['requestDetailType of 1 character', { requestDetailType: 'x' }, (c) => c.requestDetailType, 'x'],
    [
      'requestDetailType of 128 characters with inner spaces',
      { requestDetailType: `a ${'b'.repeat(124)} c` },
      (c) => c.requestDetailType,
      `a ${'b'.repeat(124)} c`,
    ],
    ['one domain', { domains: ['orders'] }, (c) => c.allowedDomains, ['orders']],
    ['a 256-character domain', { domains: [long] }, (c) => c.allowedDomains, [long]],
    [
      'domains with IAM wildcards and inner spaces',
      { domains: ['ord*', 'bill?', 'x$y', 'my domain'] },
      (c) => c.allowedDomains,
      ['ord*', 'bill?', 'x$y', 'my domain'],
    ],
  ])('%s', (_name, props, read, expected) => {
    expect(read(configOf(props))).toEqual(expected);
  });

  test('the control function reads the same settings, and that it is the control function', () => {
    const { handler, control } = configsOf({ dryRun: true, childPolicy: ChildPolicy.ABANDON });
    expect(handler.controlOnly).toBe(false);
    expect(control).toEqual({ ...handler, controlOnly: true });
  });
});

describe('requestDetailType is the same string for the rule and the handler', () => {
  test.each([' SWF Termination Request', 'SWF Termination Request ', '\tx'])(
    'the construct refuses %j at synth, naming the rule',
    (detailType) => {
      expect(() => synthTerminator({ requestDetailType: detailType })).toThrow(
        /requestDetailType .* must not start or end with whitespace/,
      );
    },
  );

  test('the handler refuses an edge space rather than trimming it', () => {
    expect(() => parseConfig({ [ENV.allowedDomains]: DOMAIN, [ENV.requestDetailType]: ' x' })).toThrow(
      /REQUEST_DETAIL_TYPE.*whitespace/,
    );
  });
});
