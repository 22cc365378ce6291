/**
 * The restore function's configuration: one environment variable, RESTORE_CONFIG, holding JSON the construct
 * writes (lib/restore.ts), checked once at cold start; a problem throws ConfigError naming the field.
 */
import * as z from 'zod/mini';
import { ENV, MAX_OPEN_EXECUTIONS_PER_DOMAIN, SWF_QUOTAS, swfNameProblem } from '../../lib/contract';
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
  /**
   * The pace per SWF call kind, instead of RESTORE_RATES (lib/contract.ts): never above SWF's quota for that
   * call (an owner who raised nothing else may use it all; a local run needs no pacing at all).
   */
  readonly rates?:
    | { readonly [K in RateKind]?: { readonly ratePerSecond: number; readonly burst: number } | undefined }
    | undefined;
}

/** The SWF call kinds restore paces, and the quota that bounds each. */
export const RATE_QUOTAS = {
  start: SWF_QUOTAS.StartWorkflowExecution,
  history: SWF_QUOTAS.GetWorkflowExecutionHistory,
  list: SWF_QUOTAS.ListClosedWorkflowExecutions,
} as const;
export type RateKind = keyof typeof RATE_QUOTAS;

const rate = (quota: { burst: number; refillPerSecond: number }) =>
  z.optional(
    z.strictObject({
      ratePerSecond: z.number().check(z.gt(0), z.lte(quota.refillPerSecond)),
      burst: z.number().check(z.int(), z.gte(1), z.lte(quota.burst)),
    }),
  );

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
  rates: z.optional(
    z.strictObject({
      start: rate(RATE_QUOTAS.start),
      history: rate(RATE_QUOTAS.history),
      list: rate(RATE_QUOTAS.list),
    }),
  ),
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
