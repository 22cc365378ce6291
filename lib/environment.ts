/**
 * The terminating function's environment: the contract's variables (lib/contract.ts, ENV) the handler reads
 * once at cold start. Each value is one the handler's configuration reads back as the same setting.
 */
import { Lazy, Stack, Token, Tokenization } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { ENV, METRICS_NAMESPACE } from './contract';
import { POLICY_DIGEST_LENGTH } from './policy-contract';
import type { ChildPolicy } from './swf-terminator-props';
import type { TerminatorSettings } from './validation';

/** What the environment is written from. */
export interface EnvironmentInputs {
  readonly settings: TerminatorSettings;
  readonly childPolicy?: ChildPolicy;
  readonly allowCancelRequests: boolean;
  readonly stateMachineArn: string;
  /** The functions' log group (a job's progress is read back from it). */
  readonly logGroupName: string;
  readonly serviceName: string;
  /** The domains where the role may cancel, and describe: read at synth, after every policy was added. */
  readonly cancelDomains: () => readonly string[];
  readonly describeDomains: () => readonly string[];
  /** The digests of the policies deployed with the handler, likewise read at synth. */
  readonly policyDigests: () => readonly string[];
}

export function handlerEnvironment(inputs: EnvironmentInputs): Record<string, string> {
  const { settings } = inputs;
  return {
    [ENV.allowedDomains]: settings.domains.join(','),
    [ENV.maxExecutions]: numberEnv(settings.maxExecutions),
    [ENV.dryRun]: settings.dryRun ? 'true' : 'false',
    [ENV.requestDetailType]: settings.requestDetailType,
    [ENV.terminateRatePerSecond]: numberEnv(settings.terminateRate),
    [ENV.terminateBurst]: numberEnv(settings.terminateBurst),
    // The same value as the reserved concurrency: as many shares as invocations can run at once.
    [ENV.rateShares]: numberEnv(settings.rateShares),
    [ENV.stateMachineArn]: inputs.stateMachineArn,
    [ENV.logGroupName]: inputs.logGroupName,
    [ENV.cancelRequests]: inputs.allowCancelRequests ? 'true' : 'false',
    [ENV.cancelDomains]: Lazy.string({ produce: () => inputs.cancelDomains().join(',') }),
    [ENV.describeDomains]: Lazy.string({ produce: () => inputs.describeDomains().join(',') }),
    [ENV.policyDigests]: Lazy.string({ produce: () => inputs.policyDigests().join(',') }),
    POWERTOOLS_SERVICE_NAME: inputs.serviceName,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    NODE_OPTIONS: '--enable-source-maps',
    ...(inputs.childPolicy === undefined ? {} : { [ENV.defaultChildPolicy]: inputs.childPolicy }),
  };
}

/** Renders a number for the function's environment (a token stays a token). */
function numberEnv(value: number): string {
  // stringifyNumber: a token that resolves to a string, as Lambda's environment requires.
  return Token.isUnresolved(value) ? Tokenization.stringifyNumber(value) : String(value);
}

/** Lambda: a function's environment variables together are at most 4 KB (docs/facts.md, Lambda). */
export const ENVIRONMENT_MAX_BYTES = 4096;
/**
 * What a value still unresolved at synth (the state machine's ARN) is counted as: more than any ARN it becomes
 * (partition, region, account and an 80-character name come to well under 200).
 */
const UNRESOLVED_VALUE_BYTES = 256;

/**
 * Why `environment` would not fit a function's environment, or undefined. Counted as its JSON (keys, values
 * and punctuation), which is more than Lambda's own count could be. Run as a validation, after every policy
 * was added: each domain a policy may cancel or describe in, and each policy's digest, add to it.
 */
export function environmentSizeProblem(
  scope: IConstruct,
  environment: Record<string, string>,
): string | undefined {
  const stack = Stack.of(scope);
  let bytes = 2;
  for (const [key, value] of Object.entries(environment)) {
    const resolved: unknown = stack.resolve(value);
    const valueBytes =
      typeof resolved === 'string' ? Buffer.byteLength(JSON.stringify(resolved)) : UNRESOLVED_VALUE_BYTES;
    bytes += Buffer.byteLength(JSON.stringify(key)) + 1 + valueBytes + 1;
  }
  if (bytes <= ENVIRONMENT_MAX_BYTES) return undefined;
  return (
    `the handler's environment would be about ${bytes} bytes, over Lambda's ${ENVIRONMENT_MAX_BYTES}: it ` +
    `carries the domains (once for all, and again where policies cancel or describe) and ${POLICY_DIGEST_LENGTH + 1} bytes per ` +
    'policy; use fewer or shorter domains, or fewer policies per terminator'
  );
}
