/**
 * The command's only ways into AWS: Lambda's Invoke (the terminator's functions do all the work, under their
 * own roles) and two CloudFormation reads (to find those functions). Both clients take the SDK's standard
 * settings: AWS_PROFILE (or --profile), AWS_REGION (or --region), credentials, and the endpoint variables
 * (AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL_CLOUDFORMATION), which is how the tests reach local servers.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient, TooManyRequestsException } from '@aws-sdk/client-lambda';

/** What a function answered: its result, or the error it threw (Lambda's `FunctionError`). */
export type InvokeAnswer =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly errorType: string; readonly errorMessage: string };

export interface Aws {
  readonly cloudFormation: CloudFormationClient;
  /**
   * Invokes `fn` with `payload` and waits for its answer. `once`: a request that acts (a termination) is
   * sent at most once, so a lost answer is never sent again as a second request; only Lambda's throttle
   * (the function was busy, so it did not run) is retried, with `onBusy` told each time.
   */
  invoke(
    fn: string,
    payload: unknown,
    options?: { once?: boolean; onBusy?: (attempt: number) => void },
  ): Promise<InvokeAnswer>;
}

export interface AwsSettings {
  readonly region?: string;
  readonly profile?: string;
}

/** How long a busy terminating function (a job's chunk holding its one slot) is waited for. */
const BUSY_RETRY_MS = [1000, 2000, 4000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000];

export function awsClients(settings: AwsSettings): Aws {
  // The SDK reads the profile from the environment at the first call: --profile is that variable.
  if (settings.profile !== undefined) process.env.AWS_PROFILE = settings.profile;
  const common = settings.region === undefined ? {} : { region: settings.region };
  const lambda = new LambdaClient(common);
  // Sent once: no SDK retry of any kind, so a request that reached the function is never sent twice.
  const lambdaOnce = new LambdaClient({ ...common, maxAttempts: 1 });
  const decoder = new TextDecoder();
  return {
    cloudFormation: new CloudFormationClient(common),
    async invoke(fn, payload, options = {}) {
      const client = options.once === true ? lambdaOnce : lambda;
      const command = new InvokeCommand({
        FunctionName: fn,
        Payload: new TextEncoder().encode(JSON.stringify(payload)),
      });
      for (let attempt = 0; ; attempt += 1) {
        try {
          const answer = await client.send(command);
          const text = answer.Payload === undefined ? 'null' : decoder.decode(answer.Payload);
          const value: unknown = text === '' ? null : JSON.parse(text);
          if (answer.FunctionError === undefined) return { ok: true, value };
          const error = (value ?? {}) as { errorType?: unknown; errorMessage?: unknown };
          return {
            ok: false,
            errorType: typeof error.errorType === 'string' ? error.errorType : answer.FunctionError,
            errorMessage: typeof error.errorMessage === 'string' ? error.errorMessage : text,
          };
        } catch (error) {
          const wait = BUSY_RETRY_MS[attempt];
          if (!(error instanceof TooManyRequestsException) || wait === undefined) throw error;
          options.onBusy?.(attempt + 1);
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
    },
  };
}
