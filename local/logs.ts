/**
 * A local stand-in for CloudWatch Logs' FilterLogEvents that the real `@aws-sdk/client-cloudwatch-logs` can
 * talk to: AWS JSON 1.1 (`POST /`, `X-Amz-Target: Logs_20140328.FilterLogEvents`), the log group's events
 * filtered by a JSON filter pattern of the forms the terminator sends (`{ $.a.b = "value" }` and
 * `{ $.a.b = "value" && $.a.c IS TRUE }`: dotted paths equal to a string or to a boolean, all of them; any other
 * pattern is refused, so a change in what is sent is noticed), from
 * `startTime`, in pages of `pageSize` events that may come back empty with a `nextToken` (as the real API's
 * do while it searches), oldest first.
 */
import * as http from 'node:http';
import { endpointOf, listenOnLoopback } from './server';

/** One log event the fake holds. */
export interface FakeLogEvent {
  readonly logGroupName: string;
  readonly timestamp: number;
  readonly message: string;
}

export interface FakeLogsOptions {
  /** Events per page. @default 2 */
  readonly pageSize?: number;
  /** Empty pages (with a token) answered before the first page of events. @default 1 */
  readonly emptyPagesFirst?: number;
}

/** One term of a supported JSON filter pattern: a path and the value it must equal. */
interface Term {
  readonly path: string[];
  readonly value: string | boolean;
}

/** The terms of a supported pattern (`{ term && term ... }`), or undefined for any other pattern. */
function parsePattern(pattern: string): Term[] | undefined {
  const body = /^\{ (.+) \}$/.exec(pattern)?.[1];
  if (body === undefined) return undefined;
  const terms: Term[] = [];
  for (const text of body.split(' && ')) {
    const equals = /^\$\.([A-Za-z0-9_.]+) = "([^"\\]*)"$/.exec(text);
    const is = /^\$\.([A-Za-z0-9_.]+) IS (TRUE|FALSE)$/.exec(text);
    if (equals !== null) terms.push({ path: (equals[1] ?? '').split('.'), value: equals[2] ?? '' });
    else if (is !== null) terms.push({ path: (is[1] ?? '').split('.'), value: is[2] === 'TRUE' });
    else return undefined;
  }
  return terms;
}

function matches(message: string, terms: readonly Term[]): boolean {
  let line: unknown;
  try {
    line = JSON.parse(message);
  } catch {
    return false;
  }
  return terms.every((term) => {
    let value = line;
    for (const key of term.path) {
      if (typeof value !== 'object' || value === null) return false;
      value = (value as Record<string, unknown>)[key];
    }
    return value === term.value;
  });
}

export class FakeLogsServer {
  readonly events: FakeLogEvent[] = [];
  /** Every FilterLogEvents request, as sent. */
  readonly requests: Record<string, unknown>[] = [];

  private constructor(
    private readonly server: http.Server,
    private readonly options: FakeLogsOptions,
  ) {}

  static async start(options: FakeLogsOptions = {}): Promise<FakeLogsServer> {
    const server = http.createServer();
    const fake = new FakeLogsServer(server, options);
    server.on('request', (req, res) => {
      fake.handle(req, res);
    });
    await listenOnLoopback(server);
    return fake;
  }

  get endpoint(): string {
    return endpointOf(this.server);
  }

  /** Adds a log line (a JSON object is written as its JSON text, as a function's stdout line is). */
  put(logGroupName: string, line: string | Record<string, unknown>, timestamp = Date.now()): void {
    const message = typeof line === 'string' ? line : JSON.stringify(line);
    this.events.push({ logGroupName, timestamp, message });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
      this.server.closeAllConnections();
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      if (req.headers['x-amz-target'] !== 'Logs_20140328.FilterLogEvents') {
        reply(400, { __type: 'UnknownOperationException', message: String(req.headers['x-amz-target']) });
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      this.requests.push(body);
      const filter = parsePattern(typeof body.filterPattern === 'string' ? body.filterPattern : '');
      if (filter === undefined || typeof body.logGroupName !== 'string') {
        reply(400, {
          __type: 'InvalidParameterException',
          message: 'unsupported filterPattern or no log group',
        });
        return;
      }
      const since = typeof body.startTime === 'number' ? body.startTime : 0;
      const found = this.events
        .filter(
          (e) => e.logGroupName === body.logGroupName && e.timestamp >= since && matches(e.message, filter),
        )
        .sort((a, b) => a.timestamp - b.timestamp);
      const empties = this.options.emptyPagesFirst ?? 1;
      const size = this.options.pageSize ?? 2;
      const token = typeof body.nextToken === 'string' ? Number(body.nextToken) : 0;
      // Pages 0 .. empties-1 are empty (still searching); then `size` events a page.
      const from = Math.max(0, token - empties) * size;
      const page = token < empties ? [] : found.slice(from, from + size);
      const more = token < empties || from + size < found.length;
      reply(200, {
        events: page.map((e, i) => ({
          logStreamName: 'stream',
          timestamp: e.timestamp,
          ingestionTime: e.timestamp,
          message: e.message,
          eventId: `${from + i}`,
        })),
        ...(more ? { nextToken: String(token + 1) } : {}),
      });
    });
  }
}
