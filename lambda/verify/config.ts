/**
 * The verifier's configuration: one environment variable, {@link VERIFY_CONFIG_ENV}, holding a
 * {@link VerifyConfig} as JSON, read and checked once at cold start. It is validated as strictly as a request
 * (`zod/mini`, unknown fields refused), and a problem throws ConfigError naming the field and the rule, so a
 * misconfigured verifier fails at init instead of proving the wrong thing.
 */
import * as z from 'zod/mini';
import { ENV, swfNameProblem } from '../../lib/contract';
import type { Env } from '../config';
import { ConfigError, echo } from '../errors';
import { fieldPath, invalidRequestFrom } from '../parse/issues';
import type { VerifyConfig } from './checks';

/** The environment variable that holds the verifier's configuration (JSON). */
export const VERIFY_CONFIG_ENV = ENV.verifyConfig;

type Ctx = { addIssue: (issue: { code: 'custom'; message: string }) => void };

/** A string refinement: `rule` when `ok` is false, with the value echoed. */
const must = (ok: (value: string) => boolean, rule: string) =>
  z.string().check(
    z.superRefine((value: string, ctx: Ctx) => {
      if (!ok(value)) ctx.addIssue({ code: 'custom', message: `must be ${rule} (got ${echo(value)})` });
    }),
  );

const PARTITION = /^aws(-[a-z]+)*$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ACCOUNT = /^\d{12}$/;
/** A rule's ARN after `rule/`: `[BUS/]NAME` (bus names may hold `/`, `.`, `-`, `_`). */
const RULE_NAME = /^[/.\-_A-Za-z0-9]{1,320}$/;

/**
 * The ARN fields, each with its form: `partition`, `region` and `account` groups are checked against the
 * configuration's own (a role's ARN has no region).
 */
const ARNS = {
  handlerRoleArn: [
    /^arn:(?<partition>[^:]+):iam::(?<account>\d{12}):role\/[\w+=,.@/-]{1,512}$/,
    'an IAM role ARN, arn:PARTITION:iam::ACCOUNT:role/NAME',
  ],
  controlRoleArn: 'handlerRoleArn',
  stateMachineRoleArn: 'handlerRoleArn',
  handlerFunctionArn: [
    /^arn:(?<partition>[^:]+):lambda:(?<region>[^:]+):(?<account>\d{12}):function:[A-Za-z0-9_-]{1,64}$/,
    'an unqualified Lambda function ARN, arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME',
  ],
  controlFunctionArn: 'handlerFunctionArn',
  logGroupArn: [
    /^arn:(?<partition>[^:]+):logs:(?<region>[^:]+):(?<account>\d{12}):log-group:[\w#/.-]{1,512}:\*$/,
    "a log group's ARN as CloudFormation gives it, arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME:*",
  ],
  stateMachineArn: [
    /^arn:(?<partition>[^:]+):states:(?<region>[^:]+):(?<account>\d{12}):stateMachine:[\w-]{1,80}$/,
    'a state machine ARN, arn:PARTITION:states:REGION:ACCOUNT:stateMachine:NAME',
  ],
  breakerTableArn: [
    /^arn:(?<partition>[^:]+):dynamodb:(?<region>[^:]+):(?<account>\d{12}):table\/[\w.-]{3,255}$/,
    'a DynamoDB table ARN, arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME',
  ],
  deadLetterQueueArn: [
    /^arn:(?<partition>[^:]+):sqs:(?<region>[^:]+):(?<account>\d{12}):[\w-]{1,80}(\.fifo)?$/,
    'an SQS queue ARN, arn:PARTITION:sqs:REGION:ACCOUNT:NAME',
  ],
  eventBusArn: [
    /^arn:(?<partition>[^:]+):events:(?<region>[^:]+):(?<account>\d{12}):event-bus\/[/.\-_A-Za-z0-9]{1,256}$/,
    'an event bus ARN, arn:PARTITION:events:REGION:ACCOUNT:event-bus/NAME',
  ],
} as const satisfies Record<string, readonly [RegExp, string] | string>;

/**
 * Restore's fields (`restore`, only with allowRestore), each with its form: its role and function are the
 * terminator's own (partition, region and account checked); a Lambda role restored runs name is a role of the
 * partition, any account (the construct takes any role ARN: IAM decides whether it can be passed).
 */
const RESTORE_ARNS = {
  roleArn: 'handlerRoleArn',
  functionArn: 'handlerFunctionArn',
} as const satisfies Record<string, ArnField>;
const LAMBDA_ROLE: readonly [RegExp, string] = [
  /^arn:(?<partition>[^:]+):iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/,
  'an IAM role ARN, arn:PARTITION:iam::ACCOUNT:role/NAME',
];

type ArnField = keyof typeof ARNS;
const ARN_FIELDS = Object.keys(ARNS) as ArnField[];

/** The form of an ARN field (a field may share another's). */
function formOf(field: ArnField): readonly [RegExp, string] {
  const form = ARNS[field];
  return typeof form === 'string' ? formOf(form) : form;
}

function buildSchema() {
  const domain = z.string().check(
    z.superRefine((value: string, ctx: Ctx) => {
      const problem = swfNameProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
  );
  const arn = (field: ArnField) => {
    const [pattern, rule] = formOf(field);
    return must((v) => pattern.test(v), rule);
  };
  const rules = z.array(must((v) => RULE_NAME.test(v), "a rule's ARN after rule/, [BUS/]NAME"));
  const restore = z.strictObject({
    roleArn: arn(RESTORE_ARNS.roleArn),
    functionArn: arn(RESTORE_ARNS.functionArn),
    lambdaRoles: z.array(must((v) => LAMBDA_ROLE[0].test(v), LAMBDA_ROLE[1])),
  });
  return z.strictObject({
    partition: must((v) => PARTITION.test(v), 'an AWS partition such as "aws" or "aws-cn"'),
    region: must((v) => REGION.test(v), 'an AWS region such as "eu-west-1"'),
    account: must((v) => ACCOUNT.test(v), 'a 12-digit AWS account id'),
    domains: z.array(domain).check(z.minLength(1)),
    // Positions in `domains`, not names: a domain name may be 256 bytes, and the environment holds 4 KB.
    cancelDomains: z.array(z.int().check(z.nonnegative())),
    describeDomains: z.array(z.int().check(z.nonnegative())),
    handlerRoleArn: arn('handlerRoleArn'),
    controlRoleArn: z.exactOptional(arn('controlRoleArn')),
    stateMachineRoleArn: z.exactOptional(arn('stateMachineRoleArn')),
    handlerFunctionArn: arn('handlerFunctionArn'),
    controlFunctionArn: z.exactOptional(arn('controlFunctionArn')),
    logGroupArn: arn('logGroupArn'),
    stateMachineArn: arn('stateMachineArn'),
    deadLetterQueueArn: arn('deadLetterQueueArn'),
    breakerTableArn: z.exactOptional(arn('breakerTableArn')),
    eventBusArn: arn('eventBusArn'),
    handlerRules: rules,
    controlRules: rules,
    restore: z.exactOptional(restore),
  });
}

let schema: ReturnType<typeof buildSchema> | undefined;

const fail = (field: string, rule: string) => new ConfigError(VERIFY_CONFIG_ENV, `${field}: ${rule}`);

type ParsedConfig = z.infer<ReturnType<typeof buildSchema>>;

/**
 * Rules that relate fields to each other, checked once each field is valid on its own; the domain positions
 * become the domains' names.
 */
function crossCheck(parsed: ParsedConfig): VerifyConfig {
  const { partition, region, account, domains } = parsed;
  domains.forEach((domain, i) => {
    if (domains.indexOf(domain) !== i)
      throw fail(`domains[${i}]`, `repeats ${echo(domain)}; name each domain once`);
  });
  const named = (list: 'cancelDomains' | 'describeDomains') =>
    parsed[list].map((position, i) => {
      const domain = domains[position];
      if (domain === undefined) {
        throw fail(
          `${list}[${i}]`,
          `must be a position in domains, 0 to ${domains.length - 1} (got ${position})`,
        );
      }
      return domain;
    });
  const config: VerifyConfig = {
    ...parsed,
    cancelDomains: named('cancelDomains'),
    describeDomains: named('describeDomains'),
  };
  /** Refuses `value` (of form `form`) unless it is of the configuration's partition, region and account. */
  const placed = (field: string, form: RegExp, value: string | undefined) => {
    const where = form.exec(value ?? '')?.groups;
    if (where === undefined) return;
    const wrong = (['partition', 'region', 'account'] as const).filter(
      (part) => where[part] !== undefined && where[part] !== config[part],
    );
    if (wrong.length > 0) {
      const place = where.region === undefined ? `account ${account}` : `account ${account} in ${region}`;
      throw fail(field, `must be of ${place}, partition ${partition} (got ${echo(value)})`);
    }
  };
  for (const field of ARN_FIELDS) placed(field, formOf(field)[0], config[field]);
  if (parsed.restore !== undefined) {
    placed('restore.roleArn', formOf(RESTORE_ARNS.roleArn)[0], parsed.restore.roleArn);
    placed('restore.functionArn', formOf(RESTORE_ARNS.functionArn)[0], parsed.restore.functionArn);
    parsed.restore.lambdaRoles.forEach((role, i) => {
      placed(`restore.lambdaRoles[${i}]`, LAMBDA_ROLE[0], role);
    });
    const own = [parsed.handlerRoleArn, parsed.controlRoleArn, parsed.stateMachineRoleArn];
    if (own.includes(parsed.restore.roleArn)) {
      throw fail('restore.roleArn', `must be restore's own role, not another role of the terminator`);
    }
  }
  return config;
}

/** Parses and checks {@link VERIFY_CONFIG_ENV}. Pure: reads only `env`. */
export function parseVerifyConfig(env: Env): VerifyConfig {
  const raw = env[VERIFY_CONFIG_ENV];
  if (raw === undefined || raw.trim() === '') {
    throw new ConfigError(VERIFY_CONFIG_ENV, 'is required: the verifier configuration as JSON');
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error: unknown) {
    throw new ConfigError(
      VERIFY_CONFIG_ENV,
      `must be JSON (${error instanceof Error ? error.message : 'unreadable'})`,
    );
  }
  schema ??= buildSchema();
  const result = schema.safeParse(json, { reportInput: true });
  if (!result.success) {
    const first = result.error.issues[0];
    if (first?.code === 'unrecognized_keys') {
      const shape = first.path[0] === 'restore' ? schema.shape.restore.def.innerType.shape : schema.shape;
      const known = Object.keys(shape).join(', ');
      throw fail(
        fieldPath('', [...first.path, first.keys[0] ?? '?']),
        `is not a known field (known: ${known})`,
      );
    }
    const { field, rule } = invalidRequestFrom('', result.error.issues);
    // `request` is the issue helper's name for the whole value: here it is the JSON itself.
    throw field === 'request' ? new ConfigError(VERIFY_CONFIG_ENV, `the JSON ${rule}`) : fail(field, rule);
  }
  return crossCheck(result.data);
}
