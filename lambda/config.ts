/**
 * The handler's configuration, read from the environment and checked once, at cold start.
 * A missing or invalid setting throws {@link ConfigError} naming the variable, so a misconfigured function
 * fails at init, loudly, instead of on the first request.
 */
import {
  CHILD_POLICIES,
  type ChildPolicyValue,
  DEFAULT_JOB_CHUNK_SECONDS,
  DEFAULT_MAX_EXECUTIONS,
  DEFAULT_RATE_SHARES,
  DEFAULT_REQUEST_DETAIL_TYPE,
  DEFAULT_TERMINATE_BURST,
  DEFAULT_TERMINATE_RATE_PER_SECOND,
  ENV,
  swfNameProblem,
} from '../lib/contract';
import type { BreakerLimits } from './aws/breaker';
import { ConfigError, echo } from './errors';
import { POLICY_DIGEST_LENGTH } from '../lib/policy-contract';

export interface Config {
  /** SWF domains the handler may act on (never empty). */
  readonly allowedDomains: readonly string[];
  /** Child policy applied when a request names none; undefined leaves it to the workflow type's default. */
  // `| undefined`: a carried job's configuration overrides the function's with "none" (lambda/job/settings.ts).
  readonly defaultChildPolicy?: ChildPolicyValue | undefined;
  /** Ceiling on executions one request may name or match. */
  readonly maxExecutions: number;
  /** When true, every request is a preview: nothing is terminated. */
  readonly dryRun: boolean;
  /** The EventBridge detail-type of a termination request. */
  readonly requestDetailType: string;
  /** The terminator's total TerminateWorkflowExecution rate (calls per second, all invocations together). */
  readonly terminateRatePerSecond: number;
  /** The terminator's total token-bucket burst (all invocations together). */
  readonly terminateBurst: number;
  /** How many invocations share the rate (the function's reserved concurrency). */
  readonly rateShares: number;
  /** The state machine that runs jobs; absent: a request too large for one invocation is refused. */
  readonly stateMachineArn?: string;
  /** The control function: abort, status and jobs requests only. */
  readonly controlOnly: boolean;
  /** Seconds a job's chunk works before it hands its progress back to the state machine. */
  readonly jobChunkSeconds: number;
  /** Requests may ask for requestCancel and cancelThenTerminate (not only policies). */
  readonly cancelRequests: boolean;
  /** Domains where the role may call RequestCancelWorkflowExecution (a subset of allowedDomains). */
  readonly cancelDomains: readonly string[];
  /** Domains where the role may call DescribeWorkflowExecution (a subset of allowedDomains). */
  readonly describeDomains: readonly string[];
  /** Digests of the termination policies deployed with the function: their runs only are accepted. */
  readonly policyDigests: readonly string[];
  /** The functions' log group, where chunks log their job's progress (a status reads it back). */
  readonly logGroupName?: string;
  /** The event policies' circuit breakers: their table, and each policy's bound (none without event policies). */
  readonly breakers?: { readonly table: string; readonly limits: ReadonlyMap<string, BreakerLimits> };
}

/** Environment as a plain record (process.env, or a test's object). */
export type Env = Readonly<Record<string, string | undefined>>;

function isChildPolicy(value: string): value is ChildPolicyValue {
  return (CHILD_POLICIES as readonly string[]).includes(value);
}

/** An integer setting of at least `min`, or `fallback` when unset or blank. */
function integerSetting(env: Env, variable: string, fallback: number, min: 0 | 1): number {
  const raw = env[variable]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^[0-9]+$/.test(raw) || !Number.isSafeInteger(Number(raw)) || Number(raw) < min) {
    const rule = min === 0 ? 'a non-negative integer' : 'a positive integer';
    throw new ConfigError(variable, `must be ${rule} (got ${echo(raw)})`);
  }
  return Number(raw);
}

/**
 * A positive finite number setting, or `fallback` when unset or blank. Decimals and exponents are read
 * (`0.5`, `1e-7`): the construct writes numbers with JavaScript's `String(number)`, which uses both.
 */
function positiveNumber(env: Env, variable: string, fallback: number): number {
  const raw = env[variable]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?$/.test(raw) || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(variable, `must be a positive number (got ${echo(raw)})`);
  }
  return value;
}

/** A "true" / "false" setting (any case); false when unset or blank. */
function booleanSetting(env: Env, variable: string): boolean {
  const raw = env[variable]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return false;
  if (raw !== 'true' && raw !== 'false') {
    throw new ConfigError(variable, `must be "true" or "false" (got ${echo(raw)})`);
  }
  return raw === 'true';
}

/** A state machine's ARN (the name: 1-80 characters of letters, digits, `-` and `_`). */
const STATE_MACHINE_ARN = /^arn:[a-z-]+:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;

/** A log group's name (CloudWatch Logs: 1-512 characters of these). */
const LOG_GROUP_NAME = /^[A-Za-z0-9_\-/.#]{1,512}$/;

/** Parses and checks the configuration. Pure: reads only `env`. */
export function parseConfig(env: Env): Config {
  const rawDomains = env[ENV.allowedDomains];
  if (rawDomains === undefined || rawDomains.trim() === '') {
    throw new ConfigError(ENV.allowedDomains, 'is required: a comma-separated list of SWF domain names');
  }
  const allowedDomains = domainList(ENV.allowedDomains, rawDomains);
  const subset = (variable: string): string[] => {
    const raw = env[variable];
    if (raw === undefined || raw === '') return [];
    const domains = domainList(variable, raw);
    const other = domains.find((d) => !allowedDomains.includes(d));
    if (other !== undefined) {
      throw new ConfigError(variable, `domain name ${echo(other)} is not one of ${ENV.allowedDomains}`);
    }
    return domains;
  };
  const cancelDomains = subset(ENV.cancelDomains);
  const describeDomains = subset(ENV.describeDomains);

  const rawPolicy = env[ENV.defaultChildPolicy]?.trim();
  let defaultChildPolicy: ChildPolicyValue | undefined;
  if (rawPolicy !== undefined && rawPolicy !== '') {
    if (!isChildPolicy(rawPolicy)) {
      throw new ConfigError(
        ENV.defaultChildPolicy,
        `must be one of ${CHILD_POLICIES.join(', ')} (got ${echo(rawPolicy)})`,
      );
    }
    defaultChildPolicy = rawPolicy;
  }

  const maxExecutions = integerSetting(env, ENV.maxExecutions, DEFAULT_MAX_EXECUTIONS, 1);

  const dryRun = booleanSetting(env, ENV.dryRun);

  // Read exactly as written, like the rule's event pattern that matches it: never trimmed. An edge space is
  // refused (the construct refuses it too), because a trimmed copy would refuse every delivered request.
  const rawDetailType = env[ENV.requestDetailType];
  const requestDetailType =
    rawDetailType === undefined || rawDetailType === '' ? DEFAULT_REQUEST_DETAIL_TYPE : rawDetailType;
  if (requestDetailType !== requestDetailType.trim()) {
    throw new ConfigError(
      ENV.requestDetailType,
      `must not start or end with whitespace: the rule matches the detail-type exactly (got ${echo(requestDetailType)})`,
    );
  }

  const terminateRatePerSecond = positiveNumber(
    env,
    ENV.terminateRatePerSecond,
    DEFAULT_TERMINATE_RATE_PER_SECOND,
  );
  const terminateBurst = integerSetting(env, ENV.terminateBurst, DEFAULT_TERMINATE_BURST, 1);
  const rateShares = integerSetting(env, ENV.rateShares, DEFAULT_RATE_SHARES, 1);
  const rawArn = env[ENV.stateMachineArn]?.trim();
  const stateMachineArn = rawArn === undefined || rawArn === '' ? undefined : rawArn;
  if (stateMachineArn !== undefined && !STATE_MACHINE_ARN.test(stateMachineArn)) {
    throw new ConfigError(
      ENV.stateMachineArn,
      `must be a Step Functions state machine ARN, arn:PARTITION:states:REGION:ACCOUNT:stateMachine:NAME (got ${echo(stateMachineArn)})`,
    );
  }
  const rawDigests = env[ENV.policyDigests] ?? '';
  const policyDigests = rawDigests === '' ? [] : rawDigests.split(',');
  const digestPattern = new RegExp(`^[0-9a-f]{${POLICY_DIGEST_LENGTH}}$`);
  const badDigest = policyDigests.find((d) => !digestPattern.test(d));
  if (badDigest !== undefined) {
    throw new ConfigError(
      ENV.policyDigests,
      `must be comma-separated ${POLICY_DIGEST_LENGTH}-digit hex digests (got ${echo(badDigest)})`,
    );
  }
  const controlOnly = booleanSetting(env, ENV.controlOnly);
  const cancelRequests = booleanSetting(env, ENV.cancelRequests);
  if (cancelRequests && cancelDomains.length !== allowedDomains.length) {
    throw new ConfigError(
      ENV.cancelRequests,
      `is "true", so ${ENV.cancelDomains} must list every domain of ${ENV.allowedDomains}: requests may ask to cancel in any of them`,
    );
  }
  const jobChunkSeconds = positiveNumber(env, ENV.jobChunkSeconds, DEFAULT_JOB_CHUNK_SECONDS);
  const rawLogGroup = env[ENV.logGroupName] ?? '';
  if (rawLogGroup !== '' && !LOG_GROUP_NAME.test(rawLogGroup)) {
    throw new ConfigError(
      ENV.logGroupName,
      `must be a CloudWatch Logs log group name: 1-512 of a-z, A-Z, 0-9, _ - / . # (got ${echo(rawLogGroup)})`,
    );
  }

  const breakers = breakersOf(env);

  return {
    allowedDomains,
    ...(defaultChildPolicy === undefined ? {} : { defaultChildPolicy }),
    maxExecutions,
    dryRun,
    requestDetailType,
    terminateRatePerSecond,
    terminateBurst,
    rateShares,
    ...(stateMachineArn === undefined ? {} : { stateMachineArn }),
    controlOnly,
    jobChunkSeconds,
    cancelRequests,
    cancelDomains,
    describeDomains,
    policyDigests,
    ...(rawLogGroup === '' ? {} : { logGroupName: rawLogGroup }),
    ...(breakers === undefined ? {} : { breakers }),
  };
}

/** The breakers' table and bounds, both set or neither. */
function breakersOf(env: Record<string, string | undefined>): Config['breakers'] {
  const table = env[ENV.breakerTable] ?? '';
  const raw = env[ENV.policyBreakers] ?? '';
  if (table === '' && raw === '') return undefined;
  if (table === '' || raw === '') {
    throw new ConfigError(
      table === '' ? ENV.breakerTable : ENV.policyBreakers,
      `must be set with ${table === '' ? ENV.policyBreakers : ENV.breakerTable}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  const rule =
    'must be JSON: { "POLICY": { "cap": a positive integer, "windowSeconds": a positive number } }';
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(ENV.policyBreakers, `${rule} (got ${echo(raw)})`);
  }
  const limits = new Map<string, BreakerLimits>();
  for (const [name, value] of Object.entries(parsed)) {
    const { cap, windowSeconds } = (value ?? {}) as { cap?: unknown; windowSeconds?: unknown };
    if (
      !Number.isInteger(cap) ||
      (cap as number) < 1 ||
      typeof windowSeconds !== 'number' ||
      !(windowSeconds > 0)
    ) {
      throw new ConfigError(ENV.policyBreakers, `${rule} (policy ${echo(name)} is not)`);
    }
    limits.set(name, { cap: cap as number, windowMs: windowSeconds * 1000 });
  }
  return { table, limits };
}

/**
 * A comma-separated list of domain names, read strictly, as the construct writes it (names joined by bare
 * commas): an edge space or an empty item is refused, never trimmed or skipped, so the list the function acts
 * on is exactly the list configured.
 */
function domainList(variable: string, raw: string): string[] {
  const items = raw.split(',');
  for (const [index, domain] of items.entries()) {
    const where = `item ${index + 1} of ${items.length}`;
    if (domain === '') {
      throw new ConfigError(
        variable,
        `${where} is empty; give SWF domain names separated by single commas, with no empty items (got ${echo(raw)})`,
      );
    }
    if (domain !== domain.trim()) {
      throw new ConfigError(
        variable,
        `domain name ${echo(domain)} (${where}) has leading or trailing whitespace; names are not trimmed, write them without spaces around the commas`,
      );
    }
    const problem = swfNameProblem(domain);
    if (problem !== undefined) {
      throw new ConfigError(variable, `domain name ${echo(domain)} ${problem}`);
    }
  }
  return [...new Set(items)];
}

let loaded: Config | undefined;

/**
 * The function's configuration, parsed from process.env on first use and kept for the life of the
 * execution environment (the handler calls it at module load, i.e. at cold start).
 */
export function loadConfig(): Config {
  loaded ??= parseConfig(process.env);
  return loaded;
}
