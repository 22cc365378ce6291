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

/** What each function's environment carries, for the message when it outgrows Lambda's limit. */
const CARRIES = {
  handler: `carries the domains (once for all, and again where policies cancel or describe) and ${POLICY_DIGEST_LENGTH + 1} bytes per policy`,
  verifier:
    'names the domains, the roles, functions and resources, and each rule that may invoke the functions (one or two per policy)',
} as const;

/**
 * Why the `of` function's `environment` would not fit Lambda's limit, or undefined. Counted as its JSON (keys,
 * values as deployed, punctuation), which is more than Lambda's own count could be. Run as a validation, after
 * every policy was added: the handler's grows with each domain a policy may cancel or describe in and each
 * policy's digest, the verifier's with each rule that may invoke the functions.
 */
export function environmentSizeProblem(
  scope: IConstruct,
  environment: Record<string, string>,
  of: keyof typeof CARRIES = 'handler',
): string | undefined {
  const stack = Stack.of(scope);
  let bytes = 2;
  for (const [key, value] of Object.entries(environment)) {
    bytes += Buffer.byteLength(JSON.stringify(key)) + 1 + deployedBytes(stack.resolve(value)) + 3;
  }
  if (bytes <= ENVIRONMENT_MAX_BYTES) return undefined;
  return (
    `the ${of}'s environment would be about ${bytes} bytes, over Lambda's ${ENVIRONMENT_MAX_BYTES}: it ${CARRIES[of]}; use fewer or ` +
    'shorter domains, or fewer policies per terminator'
  );
}

/**
 * About how many bytes a value CloudFormation resolves at deploy time becomes: literal text as it is, pseudo
 * parameters at their longest, a reference to a resource or an attribute as an ARN with a generated name (about
 * 160 bytes), and a rule's name selected from its ARN at 64. An estimate for a size check, not a bound: an ARN of
 * a resource with a much longer name is longer.
 */
function deployedBytes(resolved: unknown): number {
  if (typeof resolved === 'string') return Buffer.byteLength(JSON.stringify(resolved)) - 2;
  if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved).length;
  if (resolved === null || typeof resolved !== 'object') return 0;
  const obj = resolved as Record<string, unknown>;
  const ref = obj.Ref;
  if (typeof ref === 'string') return PSEUDO_BYTES[ref] ?? ARN_BYTES;
  const join = obj['Fn::Join'];
  if (Array.isArray(join)) {
    const [separator, parts] = join as [string, unknown[]];
    return (
      parts.reduce<number>((sum, part) => sum + deployedBytes(part), 0) +
      separator.length * (parts.length - 1)
    );
  }
  if (Array.isArray(obj['Fn::GetAtt'])) return ARN_BYTES;
  // The verifier selects a rule's name out of its ARN: CloudFormation names rules with at most 64 characters.
  if (Array.isArray(obj['Fn::Select'])) return RULE_NAME_BYTES;
  return UNRESOLVED_VALUE_BYTES;
}

const PSEUDO_BYTES: Readonly<Record<string, number>> = {
  'AWS::Partition': 10,
  'AWS::Region': 14,
  'AWS::AccountId': 12,
  'AWS::URLSuffix': 20,
  'AWS::StackName': 128,
};
const ARN_BYTES = 160;
const RULE_NAME_BYTES = 64;
