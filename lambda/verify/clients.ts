/**
 * The verifier's AWS clients: IAM (simulate and read the roles), Lambda (read the functions' resource-based
 * policies) and EventBridge (read the bus's policy). Each takes the SDK's standard configuration from the
 * environment (region, credentials, `AWS_ENDPOINT_URL_IAM` / `_LAMBDA` / `_EVENTBRIDGE`; no endpoint is set
 * here); transient errors are retried by the SDK, throttling by the caller (retryThrottled, as for SWF).
 */
import { EventBridgeClient, type EventBridgeClientConfig } from '@aws-sdk/client-eventbridge';
import { IAMClient, type IAMClientConfig } from '@aws-sdk/client-iam';
import { LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import { CONNECTION_TIMEOUT_MS, TRANSIENT_MAX_ATTEMPTS, transientOnlyRetryStrategy } from '../aws/swf-client';

/** A simulation of a thousand answers takes IAM longer than an SWF call: a roomier wait per attempt. */
export const IAM_REQUEST_TIMEOUT_MS = 15_000;
/** Reading one policy is quick; a slow answer is retried like a failed one. */
export const READ_REQUEST_TIMEOUT_MS = 5_000;

const settings = (requestTimeout: number) =>
  ({
    maxAttempts: TRANSIENT_MAX_ATTEMPTS,
    requestHandler: {
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout,
      throwOnRequestTimeout: true,
      socketTimeout: requestTimeout,
    },
  }) as const;

/** The IAM client's settings on top of the SDK's standard configuration. */
export const IAM_CLIENT_CONFIG = settings(IAM_REQUEST_TIMEOUT_MS) satisfies IAMClientConfig;

/** Creates the IAM client; `overrides` are for tests. */
export function createIamClient(overrides: IAMClientConfig = {}): IAMClient {
  return new IAMClient({ ...IAM_CLIENT_CONFIG, retryStrategy: transientOnlyRetryStrategy(), ...overrides });
}

/** Creates the Lambda client (GetPolicy, ListVersionsByFunction, ListAliases); `overrides` are for tests. */
export function createLambdaClient(overrides: LambdaClientConfig = {}): LambdaClient {
  return new LambdaClient({
    ...settings(READ_REQUEST_TIMEOUT_MS),
    retryStrategy: transientOnlyRetryStrategy(),
    ...overrides,
  });
}

/** Creates the EventBridge client (DescribeEventBus); `overrides` are for tests. */
export function createEventBridgeClient(overrides: EventBridgeClientConfig = {}): EventBridgeClient {
  return new EventBridgeClient({
    ...settings(READ_REQUEST_TIMEOUT_MS),
    retryStrategy: transientOnlyRetryStrategy(),
    ...overrides,
  });
}
