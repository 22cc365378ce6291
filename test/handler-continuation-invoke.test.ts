/**
 * The continuation sender over the wire: the real `@aws-sdk/client-lambda` against a local HTTP server that
 * answers Lambda's Invoke (POST /2015-03-31/functions/NAME/invocations), found through
 * AWS_ENDPOINT_URL_LAMBDA like any SDK setting. Checks what is sent, what counts as failure, and that an
 * unanswered attempt is abandoned after the request timeout and retried.
 */
import './support/handler-env';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ContinuationEvent,
  INVOKE_MAX_MS,
  INVOKE_REQUEST_TIMEOUT_MS,
  lambdaContinuationSender,
} from '../lambda/continuation';
import { CONTINUATION_EVENT_KEY, HANDOFF_PAYLOAD_MAX_BYTES } from '../lib/contract';
import { ContinuationFailedError } from '../lambda/errors';
import { continuationBody } from './support/handler-fixtures';

interface Received {
  method: string;
  url: string;
  invocationType: string | undefined;
  body: string;
}

/**
 * How the server answers each request, in order (the last one repeats): a status, no answer at all, or
 * Lambda's throttling answer (429 TooManyRequestsException) asking to retry after 30 s.
 */
type Answer = number | 'hang' | 'throttle-retry-after-30';

let server: http.Server;
let received: Received[];
let answers: Answer[];

beforeEach(async () => {
  received = [];
  answers = [202];
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        invocationType: req.headers['x-amz-invocation-type'] as string | undefined,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const answer = answers[Math.min(received.length - 1, answers.length - 1)]!;
      if (answer === 'hang') return;
      if (answer === 'throttle-retry-after-30') {
        res.writeHead(429, {
          'content-type': 'application/json',
          'retry-after': '30',
          'x-amzn-errortype': 'TooManyRequestsException',
        });
        res.end(JSON.stringify({ Type: 'User', message: 'Rate exceeded', retryAfterSeconds: '30' }));
        return;
      }
      res.writeHead(answer, { 'content-type': 'application/json' });
      res.end('');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.env.AWS_ENDPOINT_URL_LAMBDA = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  delete process.env.AWS_ENDPOINT_URL_LAMBDA;
  server.closeAllConnections();
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
});

function continuation(extra: Record<string, unknown> = {}): ContinuationEvent {
  return {
    [CONTINUATION_EVENT_KEY]: continuationBody({
      jobId: 'job-1',
      sequence: 1,
      request: { domain: 'orders', selector: { tag: 't' }, ...extra },
    }),
  };
}

describe('the continuation sender (Lambda Invoke over HTTP)', () => {
  test('invokes the named function asynchronously with the continuation as its payload', async () => {
    const event = continuation();

    await lambdaContinuationSender(() => 'swf-terminator-fn').send(event);

    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      method: 'POST',
      url: '/2015-03-31/functions/swf-terminator-fn/invocations',
      invocationType: 'Event',
    });
    expect(JSON.parse(received[0]!.body)).toEqual(event);
  });

  test('an answer other than 202 is a ContinuationFailedError naming the job and the status', async () => {
    answers = [200];

    const error = await lambdaContinuationSender(() => 'fn')
      .send(continuation())
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ContinuationFailedError);
    expect((error as Error).message).toMatch(/job job-1: .*status 200 \(expected 202\)/);
  });

  test('an attempt left unanswered is abandoned after the request timeout and retried', async () => {
    answers = ['hang', 202];
    const started = Date.now();

    await lambdaContinuationSender(() => 'fn').send(continuation());

    expect(received).toHaveLength(2);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(INVOKE_REQUEST_TIMEOUT_MS - 100);
    expect(elapsed).toBeLessThan(INVOKE_MAX_MS);
  });

  test('throttled with Retry-After: the deadline ends the call, retries included, and nothing is sent after it', async () => {
    answers = ['throttle-retry-after-30'];
    const deadlineMs = 1500;
    const started = Date.now();

    const error = await lambdaContinuationSender(() => 'fn', deadlineMs)
      .send(continuation())
      .catch((e: unknown) => e);

    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(ContinuationFailedError);
    expect((error as Error).message).toMatch(/no answer within 1500 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(deadlineMs - 100);
    expect(elapsed).toBeLessThan(deadlineMs + 1000);
    const sent = received.length;
    expect(sent).toBeGreaterThanOrEqual(1);
    // The SDK's pending retry (it would wait for the Retry-After) never reaches the server.
    await new Promise((r) => setTimeout(r, 2500));
    expect(received).toHaveLength(sent);
  });

  test('a payload over the asynchronous limit, or no function name: refused before any call', async () => {
    const big = continuation({ details: 'x'.repeat(HANDOFF_PAYLOAD_MAX_BYTES) });

    await expect(lambdaContinuationSender(() => 'fn').send(big)).rejects.toThrow(/over Lambda's/);
    await expect(lambdaContinuationSender(() => undefined).send(continuation())).rejects.toThrow(
      /AWS_LAMBDA_FUNCTION_NAME is not set/,
    );
    expect(received).toHaveLength(0);
  });
});
