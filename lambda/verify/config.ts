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
/** arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME */
const ROLE_ARN = /^arn:(aws(?:-[a-z]+)*):iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;
/** arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME (unqualified) */
const FUNCTION_ARN = /^arn:(aws(?:-[a-z]+)*):lambda:([a-z0-9-]+):(\d{12}):function:[A-Za-z0-9_-]{1,64}$/;

function buildSchema() {
  const domain = z.string().check(
    z.superRefine((value: string, ctx: Ctx) => {
      const problem = swfNameProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
  );
  const roleArn = must((v) => ROLE_ARN.test(v), 'an IAM role ARN, arn:PARTITION:iam::ACCOUNT:role/NAME');
  return z.strictObject({
    partition: must((v) => PARTITION.test(v), 'an AWS partition such as "aws" or "aws-cn"'),
    region: must((v) => REGION.test(v), 'an AWS region such as "eu-west-1"'),
    account: must((v) => ACCOUNT.test(v), 'a 12-digit AWS account id'),
    domains: z.array(domain).check(z.minLength(1)),
    handlerRoleArn: roleArn,
    controlRoleArn: z.optional(roleArn),
    stateMachineRoleArn: z.optional(roleArn),
    handlerFunctionArn: z.optional(
      must(
        (v) => FUNCTION_ARN.test(v),
        'an unqualified Lambda function ARN, arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME',
      ),
    ),
    cancelDomains: z.array(domain),
    describeDomains: z.array(domain),
  });
}

let schema: ReturnType<typeof buildSchema> | undefined;

const fail = (field: string, rule: string) => new ConfigError(VERIFY_CONFIG_ENV, `${field}: ${rule}`);

/** Rules that relate fields to each other, checked once each field is valid on its own. */
function crossCheck(config: VerifyConfig): void {
  const { partition, region, account, domains } = config;
  domains.forEach((domain, i) => {
    if (domains.indexOf(domain) !== i)
      throw fail(`domains[${i}]`, `repeats ${echo(domain)}; name each domain once`);
  });
  for (const list of ['cancelDomains', 'describeDomains'] as const) {
    config[list].forEach((domain, i) => {
      if (!domains.includes(domain)) {
        throw fail(
          `${list}[${i}]`,
          `must be one of the chosen domains (got ${echo(domain)}, not in domains)`,
        );
      }
    });
  }
  for (const field of ['handlerRoleArn', 'controlRoleArn', 'stateMachineRoleArn'] as const) {
    const [, arnPartition, arnAccount] = ROLE_ARN.exec(config[field] ?? '') ?? [];
    if (arnPartition !== undefined && (arnPartition !== partition || arnAccount !== account)) {
      throw fail(
        field,
        `must be a role of account ${account} in partition ${partition} (got ${echo(config[field])})`,
      );
    }
  }
  const [, fnPartition, fnRegion, fnAccount] = FUNCTION_ARN.exec(config.handlerFunctionArn ?? '') ?? [];
  if (
    fnPartition !== undefined &&
    (fnPartition !== partition || fnRegion !== region || fnAccount !== account)
  ) {
    throw fail(
      'handlerFunctionArn',
      `must be a function of account ${account} in ${region} (got ${echo(config.handlerFunctionArn)})`,
    );
  }
  if (config.stateMachineRoleArn !== undefined && config.handlerFunctionArn === undefined) {
    throw fail(
      'handlerFunctionArn',
      'is required with stateMachineRoleArn: it is the one function the state machine may invoke',
    );
  }
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
      const known = Object.keys(schema.shape).join(', ');
      throw fail(
        fieldPath('', [...first.path, first.keys[0] ?? '?']),
        `is not a known field (known: ${known})`,
      );
    }
    const { field, rule } = invalidRequestFrom('', result.error.issues);
    // `request` is the issue helper's name for the whole value: here it is the JSON itself.
    throw field === 'request' ? new ConfigError(VERIFY_CONFIG_ENV, `the JSON ${rule}`) : fail(field, rule);
  }
  const config: VerifyConfig = result.data;
  crossCheck(config);
  return config;
}
