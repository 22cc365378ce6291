/**
 * A local stand-in for Lambda's Invoke that runs the shipped handler bundle (assets/handler/index.js) as
 * Lambda would: each function in a child process of its own (a cold start, its own module state), with the
 * environment the synthesized template gives it, a context whose time runs out at the function's timeout,
 * and its reserved concurrency: an invocation beyond it is throttled (`TooManyRequestsException`, HTTP 429),
 * whether it came from a client or from the state machine (a job's chunk holds a slot like any invocation).
 *
 * Wire protocol (REST-JSON, what `@aws-sdk/client-lambda` sends):
 * `POST /2015-03-31/functions/{FunctionName}/invocations` with the event as the body; the answer is the
 * function's result as JSON, or, when it threw, `X-Amz-Function-Error: Unhandled` and
 * `{ errorType, errorMessage }`. A function is named by its name or its ARN.
 *
 * Every JSON line a function writes (Powertools' log lines) is handed to `onLog`, which is how its log group
 * (the local CloudWatch Logs) fills up as it does in AWS.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { text as readBody } from 'node:stream/consumers';

/** The child's side: an HTTP server that calls the bundle's handler once per request. Plain JavaScript. */
const HOST = `
const http = require('node:http');
const handler = require(process.argv[1]).handler;
const timeoutMs = Number(process.argv[2]);
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', async () => {
    const deadline = Date.now() + timeoutMs;
    const context = {
      awsRequestId: req.headers['x-request-id'],
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    let answer;
    try {
      answer = { ok: true, value: await handler(JSON.parse(body === '' ? 'null' : body), context) };
    } catch (error) {
      answer = { ok: false, errorType: (error && error.name) || 'Error', errorMessage: String(error && error.message) };
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer));
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write('\\n@@host-ready@@' + server.address().port + '\\n'));
// A function lives no longer than what started it, however that ended (an orphan is adopted by another).
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 1000).unref();
`;

export interface LocalFunction {
  /** The bundle's path (its `handler` export is called). */
  readonly bundle: string;
  readonly env: Record<string, string>;
  /** Reserved concurrency. Default 1. */
  readonly concurrency?: number;
  /** The function's timeout (ms): `getRemainingTimeInMillis` counts down from it. Default 900,000. */
  readonly timeoutMs?: number;
}

/** What one invocation answered. */
export type LocalAnswer =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly errorType: string; readonly errorMessage: string };

/** One invocation, as the local Lambda saw it. */
export interface RecordedInvocation {
  readonly functionName: string;
  readonly requestId: string;
  readonly event: unknown;
  /** `throttled` when the function's concurrency was taken. */
  outcome?: 'ok' | 'error' | 'throttled';
}

interface Running {
  readonly child: ChildProcess;
  readonly port: number;
  readonly concurrency: number;
  inFlight: number;
}

export class LocalLambda {
  readonly invocations: RecordedInvocation[] = [];
  /** Invocations whose answer is lost on the way back (see {@link loseAnswers}). */
  private readonly losing: ((functionName: string, event: unknown) => boolean)[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly endpoint: string,
    private readonly functions: Map<string, Running>,
  ) {}

  /** Starts every function (children ready to answer) and the Invoke endpoint. */
  static async start(
    functions: Record<string, LocalFunction>,
    onLog: (functionName: string, line: Record<string, unknown>) => void,
  ): Promise<LocalLambda> {
    const running = new Map<string, Running>();
    try {
      for (const [name, fn] of Object.entries(functions)) running.set(name, await startHost(name, fn, onLog));
    } catch (error) {
      for (const r of running.values()) r.child.kill();
      throw error;
    }
    // The server answers through the LocalLambda, which needs the server: filled in once both exist.
    const ready: { local?: LocalLambda } = {};
    const server = http.createServer((req, res) => {
      void readBody(req)
        .then(async (body) => {
          if (ready.local === undefined) throw new Error('not ready');
          await ready.local.onRequest(req, body, res);
        })
        .catch((error: unknown) => {
          // The function's process is gone (or never answered): Lambda's own failure, not the function's.
          res.writeHead(500, { 'content-type': 'application/json', 'x-amzn-errortype': 'ServiceException' });
          res.end(JSON.stringify({ Type: 'Service', Message: String(error) }));
        });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    ready.local = new LocalLambda(
      server,
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      running,
    );
    return ready.local;
  }

  /**
   * Invokes `name` with `event` (the state machine's chunk task calls this): its answer, or `throttled`
   * when the function's concurrency is taken.
   */
  async invoke(name: string, event: unknown): Promise<LocalAnswer | 'throttled'> {
    const fn = this.functions.get(name);
    if (fn === undefined) throw new Error(`no local function ${name}`);
    const record: RecordedInvocation = { functionName: name, requestId: randomUUID(), event };
    this.invocations.push(record);
    if (fn.inFlight >= fn.concurrency) {
      record.outcome = 'throttled';
      return 'throttled';
    }
    fn.inFlight += 1;
    try {
      const answer = await postJson(fn.port, record.requestId, JSON.stringify(event));
      record.outcome = answer.ok ? 'ok' : 'error';
      return answer;
    } finally {
      fn.inFlight -= 1;
    }
  }

  /**
   * From now on, an invocation `when` matches runs to its end, and then its client's connection is dropped
   * instead of answered: a lost answer (a network fault, a client timeout). Returns the undo.
   */
  loseAnswers(when: (functionName: string, event: unknown) => boolean): () => void {
    this.losing.push(when);
    return () => {
      this.losing.splice(this.losing.indexOf(when), 1);
    };
  }

  async close(): Promise<void> {
    for (const fn of this.functions.values()) {
      fn.child.kill();
      if (fn.child.exitCode === null && fn.child.signalCode === null) await once(fn.child, 'exit');
    }
    this.server.close();
    this.server.closeAllConnections();
  }

  private async onRequest(req: http.IncomingMessage, body: string, res: http.ServerResponse): Promise<void> {
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? '');
    const requestId = randomUUID();
    const reply = (status: number, headers: Record<string, string>, text: string) => {
      res.writeHead(status, {
        'content-type': 'application/json',
        'x-amzn-requestid': requestId,
        ...headers,
      });
      res.end(text);
    };
    const named = match === null ? '' : decodeURIComponent(match[1] ?? '');
    const name = named.includes(':function:') ? (named.split(':function:')[1]?.split(':')[0] ?? '') : named;
    if (!this.functions.has(name)) {
      reply(
        404,
        { 'x-amzn-errortype': 'ResourceNotFoundException' },
        JSON.stringify({ Type: 'User', Message: `Function not found: ${named}` }),
      );
      return;
    }
    const event = JSON.parse(body === '' ? 'null' : body) as unknown;
    const answer = await this.invoke(name, event);
    if (answer !== 'throttled' && this.losing.some((when) => when(name, event))) {
      res.socket?.destroy();
      return;
    }
    if (answer === 'throttled') {
      reply(
        429,
        { 'x-amzn-errortype': 'TooManyRequestsException' },
        JSON.stringify({
          Type: 'User',
          message: 'Rate Exceeded.',
          Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
        }),
      );
      return;
    }
    if (answer.ok) {
      reply(200, { 'x-amz-executed-version': '$LATEST' }, JSON.stringify(answer.value ?? null));
      return;
    }
    reply(
      200,
      { 'x-amz-function-error': 'Unhandled', 'x-amz-executed-version': '$LATEST' },
      JSON.stringify({ errorType: answer.errorType, errorMessage: answer.errorMessage, trace: [] }),
    );
  }
}

async function startHost(
  name: string,
  fn: LocalFunction,
  onLog: (functionName: string, line: Record<string, unknown>) => void,
): Promise<Running> {
  const child = spawn(process.execPath, ['-e', HOST, fn.bundle, String(fn.timeoutMs ?? 900_000)], {
    env: { PATH: process.env.PATH ?? '', ...fn.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A process group of its own: Ctrl-C at the terminal is for the command (which asks what to do), not
    // for the functions it runs; they end with it (see the host's watch on its parent) or when closed.
    detached: true,
  });
  // Both streams reach the log group, as in Lambda (Powertools writes errors and warnings to standard error).
  const keep = (line: string) => {
    if (!line.startsWith('{')) return;
    try {
      onLog(name, JSON.parse(line) as Record<string, unknown>);
    } catch {
      // Not a log line: nothing to keep.
    }
  };
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  createInterface({ input: child.stderr }).on('line', keep);
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const ready = /@@host-ready@@(\d+)/.exec(line);
      if (ready === null) keep(line);
      else resolve(Number(ready[1]));
    });
    child.once('exit', (code) => {
      reject(new Error(`function ${name} exited (${String(code)}): ${stderr}`));
    });
  });
  return { child, port, concurrency: fn.concurrency ?? 1, inFlight: 0 };
}

async function postJson(port: number, requestId: string, body: string): Promise<LocalAnswer> {
  const response = await fetch(`http://127.0.0.1:${port}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body,
  });
  return (await response.json()) as LocalAnswer;
}
