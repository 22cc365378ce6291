/**
 * The terminating function's environment: the contract's variables (lib/contract.ts, ENV) the handler reads
 * once at cold start. Each value is one the handler's configuration reads back as the same setting.
 */
import { Lazy, Token, Tokenization } from 'aws-cdk-lib';
import { ENV, METRICS_NAMESPACE } from './contract';
import type { ChildPolicy } from './swf-terminator-props';
import type { TerminatorSettings } from './validation';

/** What the environment is written from. */
export interface EnvironmentInputs {
  readonly settings: TerminatorSettings;
  readonly childPolicy?: ChildPolicy;
  readonly allowCancelRequests: boolean;
  readonly stateMachineArn: string;
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
