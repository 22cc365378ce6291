/**
 * The restore function's configuration: one environment variable, RESTORE_CONFIG, holding JSON the construct
 * writes (lib/restore.ts), checked once at cold start; a problem throws ConfigError naming the field.
 */
import * as z from 'zod/mini';
import { ENV, MAX_OPEN_EXECUTIONS_PER_DOMAIN, swfNameProblem } from '../../lib/contract';
import type { Env } from '../config';
import { ConfigError } from '../errors';
import { fieldPath } from '../parse/issues';

/** What the restore function may do. */
export interface RestoreConfig {
  /** The domains it may restore in (the terminator's). */
  readonly domains: readonly string[];
  /** The Lambda roles a restarted run may name (it may pass exactly these). */
  readonly lambdaRoles: readonly string[];
  /** The most runs one restore may restart. */
  readonly maxExecutions: number;
  /** The terminator's state machine: restores too long for one invocation continue there as jobs. */
  readonly stateMachineArn?: string | undefined;
}

const schema = z.strictObject({
  domains: z
    .array(
      z
        .string()
        .check(z.refine((d) => swfNameProblem(d) === undefined, { message: 'must be an SWF domain name' })),
    )
    .check(z.minLength(1)),
  lambdaRoles: z.array(z.string().check(z.regex(/^arn:[^:]+:iam::\d{12}:role\/.+$/))),
  maxExecutions: z.number().check(z.int(), z.gte(1), z.lte(MAX_OPEN_EXECUTIONS_PER_DOMAIN)),
  stateMachineArn: z.optional(z.string().check(z.regex(/^arn:[^:]+:states:[^:]+:\d{12}:stateMachine:.+$/))),
});

/** Reads RESTORE_CONFIG from `env`. */
export function parseRestoreConfig(env: Env): RestoreConfig {
  const raw = env[ENV.restoreConfig];
  if (raw === undefined || raw === '') throw new ConfigError(ENV.restoreConfig, 'is required (JSON)');
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ConfigError(ENV.restoreConfig, 'must be JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      issue === undefined ? ENV.restoreConfig : fieldPath(ENV.restoreConfig, issue.path),
      issue?.message ?? 'is invalid',
    );
  }
  return parsed.data;
}
