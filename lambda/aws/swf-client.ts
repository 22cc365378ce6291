/**
 * The SWF client's settings: how long a call may take, which errors are retried and how (see
 * {@link transientOnlyRetryStrategy} for why throttling is not among them). Used by the SWF port
 * (lambda/aws/swf.ts); its throttling helpers by the run checks and the verifier's IAM calls too.
 */
import { SWFClient, type SWFClientConfig } from '@aws-sdk/client-swf';

type RetryStrategyV2 = Extract<
  NonNullable<SWFClientConfig['retryStrategy']>,
  { acquireInitialRetryToken: unknown }
>;
type RetryToken = Awaited<ReturnType<RetryStrategyV2['acquireInitialRetryToken']>>;
type RetryErrorInfo = Parameters<RetryStrategyV2['refreshRetryTokenForRetry']>[1];

/** Attempts per call for transient errors (5xx, dropped connections, timeouts): 1 + 4 retries. */
export const TRANSIENT_MAX_ATTEMPTS = 5;
const TRANSIENT_BASE_DELAY_MS = 100;
const MAX_RETRY_DELAY_MS = 20_000;

/** Longest wait for a connection, per attempt. */
export const CONNECTION_TIMEOUT_MS = 3_000;
/**
 * Longest wait for one attempt's answer, connecting included (up to the response's headers), and longest a
 * response's body may stall (socket idle) once it has started.
 */
export const REQUEST_TIMEOUT_MS = 5_000;

/** The most backoff {@link transientOnlyRetryStrategy} waits between attempts (ms), per retry count. */
function transientBackoffCapMs(count: number): number {
  return Math.min(MAX_RETRY_DELAY_MS, TRANSIENT_BASE_DELAY_MS * 2 ** (count - 1));
}

/**
 * The longest one SWF call can take, every attempt timing out and every backoff at its cap: 5 x 5 s +
 * 1.5 s = 26.5 s. The handler's end-of-invocation reserve must cover it, so that a call started just before
 * the hand-off still finishes inside the invocation (test/lambda/aws/swf-http.test.ts pins this).
 */
export const SWF_CALL_MAX_MS =
  TRANSIENT_MAX_ATTEMPTS * REQUEST_TIMEOUT_MS +
  Array.from({ length: TRANSIENT_MAX_ATTEMPTS - 1 }, (_, i) => transientBackoffCapMs(i + 1)).reduce(
    (a, b) => a + b,
    0,
  );

/**
 * The SDK's retry strategy for SWF calls: transient errors (5xx, dropped connections, timeouts) are retried
 * with exponential backoff and full jitter, up to {@link TRANSIENT_MAX_ATTEMPTS} attempts; throttling is
 * NOT retried by the SDK but handed straight back to the handler.
 *
 * Why: the handler paces itself (lambda/aws/pacer.ts). A throttle the SDK retries internally is invisible to the
 * pacer (it cannot slow down), holds an in-flight slot for up to ~50 s of backoff, and makes the time left in
 * the invocation unpredictable. Returned at once, a throttle slows the pacer down and the execution is
 * re-queued (never failed); List/Count calls retry throttling themselves ({@link retryThrottled}).
 * Not `'adaptive'` mode either: its limiter can fall to 0.5 calls/s and recovers slowly.
 */
export function transientOnlyRetryStrategy(maxAttempts: number = TRANSIENT_MAX_ATTEMPTS): RetryStrategyV2 {
  const token = (count: number, delay: number): RetryToken => ({
    getRetryCount: () => count,
    getRetryDelay: () => delay,
  });
  return {
    acquireInitialRetryToken: () => Promise.resolve(token(0, 0)),
    refreshRetryTokenForRetry: (previous: RetryToken, info: RetryErrorInfo) => {
      const count = previous.getRetryCount() + 1;
      const retryable = info.errorType === 'TRANSIENT' || info.errorType === 'SERVER_ERROR';
      if (!retryable || count >= maxAttempts) {
        return Promise.reject(new Error('not retried'));
      }
      return Promise.resolve(token(count, Math.random() * transientBackoffCapMs(count)));
    },
    recordSuccess: () => undefined,
  };
}

/**
 * Sockets the client may open at once: more than every call the handler can have in flight (the terminate
 * and cancel pacers' 64 each, lambda/aws/pacer.ts MAX_IN_FLIGHT, and a few List and Describe calls), so no
 * call that passed the job's guard waits for a socket and reaches SWF later than the guard allowed (the SDK's
 * own default is 50).
 */
export const SWF_MAX_SOCKETS = 256;

/**
 * Client settings on top of the SDK's standard configuration (region, credentials and
 * `AWS_ENDPOINT_URL_SWF` still come from the environment; the endpoint is never overridden here):
 * - {@link transientOnlyRetryStrategy} (set in {@link createSwfClient});
 * - timeouts, so that a hung connection or an unanswered request becomes a retryable `TimeoutError` instead
 *   of a stuck invocation: {@link CONNECTION_TIMEOUT_MS} to connect, {@link REQUEST_TIMEOUT_MS} until the
 *   answer starts, and the same for a body that stalls (`socketTimeout`: the request timeout stops at the
 *   response's headers). SWF answers in tens of milliseconds, a 1000-execution page in well under a second.
 *   `throwOnRequestTimeout` is what makes the request timeout an error: without it the SDK only logs a
 *   warning and keeps waiting;
 * - {@link SWF_MAX_SOCKETS} sockets, so no call queues for one;
 */
export const SWF_CLIENT_CONFIG = {
  maxAttempts: TRANSIENT_MAX_ATTEMPTS,
  requestHandler: {
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    throwOnRequestTimeout: true,
    socketTimeout: REQUEST_TIMEOUT_MS,
    httpAgent: { maxSockets: SWF_MAX_SOCKETS },
    httpsAgent: { maxSockets: SWF_MAX_SOCKETS },
  },
} as const satisfies SWFClientConfig;

/** Creates an SWF client with {@link SWF_CLIENT_CONFIG}; `overrides` are for tests (local endpoint). */
export function createSwfClient(overrides: SWFClientConfig = {}): SWFClient {
  return new SWFClient({
    ...SWF_CLIENT_CONFIG,
    retryStrategy: transientOnlyRetryStrategy(),
    ...overrides,
  });
}

const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'SlowDown',
]);

/** True when an error thrown by an SWF call is throttling (SWF: `ThrottlingException`, or HTTP 429). */
export function isThrottlingError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown }; $retryable?: unknown };
  if (typeof e.name === 'string' && THROTTLING_NAMES.has(e.name)) return true;
  if (e.$metadata?.httpStatusCode === 429) return true;
  const retryable = e.$retryable as { throttling?: unknown } | undefined;
  return retryable?.throttling === true;
}

/** Retries of a throttled List/Count call, and their backoff (full jitter, doubling from 500 ms, capped). */
export const LIST_THROTTLE_RETRIES = 7;
const THROTTLE_BASE_DELAY_MS = 500;

/**
 * Runs `call`, retrying throttling with backoff (what the SDK's standard mode did for these calls before
 * throttling was handed to the handler). Other errors are thrown at once.
 */
export async function retryThrottled<T>(
  call: () => Promise<T>,
  sleep: (ms: number) => Promise<void> = (ms) =>
    new Promise<void>((resolve) => {
      setTimeout(resolve, ms);
    }),
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error: unknown) {
      if (!isThrottlingError(error) || attempt >= LIST_THROTTLE_RETRIES) throw error;
      await sleep(Math.random() * Math.min(MAX_RETRY_DELAY_MS, THROTTLE_BASE_DELAY_MS * 2 ** attempt));
    }
  }
}
