/**
 * A local stand-in for the parts of Lambda the verifier reads (who may invoke a function), that the real
 * `@aws-sdk/client-lambda` can talk to over Lambda's REST-JSON protocol:
 * `GET /2015-03-31/functions/{FunctionName}/policy?Qualifier=` (the policy as a JSON string, or HTTP 404
 * `ResourceNotFoundException` when there is none), `GET .../versions` and `GET .../aliases` (`Marker` and
 * `MaxItems`, answered with `NextMarker`). A function is named by its ARN or its name, as Lambda allows.
 */
import { randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import type { PolicyDocument } from './fake-iam';
import { type LocalAnswer, type LocalServer, startLocalServer } from '../../local/server';

/** A function as the fake holds it: its policy and each version's and alias's, by qualifier. */
interface FakeFunction {
  readonly arn: string;
  /** '' is the function itself; a version number or an alias name otherwise. */
  readonly policies: Map<string, Record<string, unknown>[]>;
  readonly versions: string[];
  readonly aliases: string[];
}

/** One call the fake received. */
export interface RecordedLambdaCall {
  readonly operation: 'GetPolicy' | 'ListVersionsByFunction' | 'ListAliases';
  readonly functionName: string;
  readonly qualifier?: string;
  readonly marker?: string;
  status: number;
}

const json = (status: number, value: unknown, headers: Record<string, string> = {}): LocalAnswer => ({
  status,
  headers: { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID(), ...headers },
  body: JSON.stringify(value),
});
const error = (status: number, type: string, message: string) =>
  json(status, { Type: 'User', Message: message }, { 'x-amzn-errortype': type });

export class FakeLambdaServer {
  readonly calls: RecordedLambdaCall[] = [];
  private readonly functions = new Map<string, FakeFunction>();
  private throttles = 0;

  private constructor(
    private readonly server: LocalServer,
    private readonly pageSize: number,
  ) {}

  /** Starts a fake; lists answer at most `pageSize` items a page. */
  static async start(options: { pageSize?: number } = {}): Promise<FakeLambdaServer> {
    // The server answers through `answer`, which is the fake's once it exists.
    let answer: Parameters<typeof startLocalServer>[0] = () => {
      throw new Error('the fake is not ready');
    };
    const server = await startLocalServer((req, body) => answer(req, body));
    const fake = new FakeLambdaServer(server, options.pageSize ?? 50);
    answer = (req) => fake.handle(req);
    return fake;
  }

  get endpoint(): string {
    return this.server.endpoint;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /** Registers a function (no policy, no version, no alias); answers nothing for a function met already. */
  putFunction(arn: string): void {
    if (!this.functions.has(arn))
      this.functions.set(arn, { arn, policies: new Map(), versions: [], aliases: [] });
  }

  /** Adds a statement to the policy of the function, or of its version or alias `qualifier`. */
  addStatement(arn: string, statement: Record<string, unknown>, qualifier = ''): void {
    this.putFunction(arn);
    const fn = this.functions.get(arn)!;
    fn.policies.set(qualifier, [...(fn.policies.get(qualifier) ?? []), statement]);
  }

  /** Publishes a version (`'1'`, `'2'`, ...) or creates an alias of the function. */
  addQualifier(arn: string, kind: 'version' | 'alias', name: string): void {
    this.putFunction(arn);
    this.functions.get(arn)![kind === 'version' ? 'versions' : 'aliases'].push(name);
  }

  /** Answers the next `times` calls with HTTP 429 TooManyRequestsException. */
  throttleNext(times = 1): void {
    this.throttles += times;
  }

  private find(name: string): FakeFunction | undefined {
    return (
      this.functions.get(name) ??
      [...this.functions.values()].find((f) => f.arn.endsWith(`:function:${name}`))
    );
  }

  private handle(req: http.IncomingMessage): LocalAnswer {
    const url = new URL(req.url ?? '/', 'http://fake');
    const match = /^\/2015-03-31\/functions\/([^/]+)\/(policy|versions|aliases)$/.exec(url.pathname);
    if (req.method !== 'GET' || match === null)
      return error(404, 'UnknownOperationException', 'Unknown operation');
    const functionName = decodeURIComponent(match[1]!);
    const operation = (
      { policy: 'GetPolicy', versions: 'ListVersionsByFunction', aliases: 'ListAliases' } as const
    )[match[2] as 'policy' | 'versions' | 'aliases'];
    const qualifier = url.searchParams.get('Qualifier') ?? undefined;
    const marker = url.searchParams.get('Marker') ?? undefined;
    const call: RecordedLambdaCall = {
      operation,
      functionName,
      ...(qualifier === undefined ? {} : { qualifier }),
      ...(marker === undefined ? {} : { marker }),
      status: 200,
    };
    this.calls.push(call);
    const answer = this.answer(call, url.searchParams);
    call.status = answer.status;
    return answer;
  }

  private answer(call: RecordedLambdaCall, params: URLSearchParams): LocalAnswer {
    if (this.throttles > 0) {
      this.throttles -= 1;
      return error(429, 'TooManyRequestsException', 'Rate exceeded');
    }
    const fn = this.find(call.functionName);
    if (fn === undefined)
      return error(404, 'ResourceNotFoundException', `Function not found: ${call.functionName}`);
    if (call.operation === 'GetPolicy') {
      const qualifier = call.qualifier ?? '';
      if (qualifier !== '' && !fn.versions.includes(qualifier) && !fn.aliases.includes(qualifier)) {
        return error(404, 'ResourceNotFoundException', `Function not found: ${fn.arn}:${qualifier}`);
      }
      const statements = fn.policies.get(qualifier);
      if (statements === undefined) {
        return error(404, 'ResourceNotFoundException', 'The resource you requested does not exist.');
      }
      const policy: PolicyDocument = { Version: '2012-10-17', Statement: statements };
      return json(200, { Policy: JSON.stringify({ ...policy, Id: 'default' }), RevisionId: randomUUID() });
    }
    const names = call.operation === 'ListVersionsByFunction' ? ['$LATEST', ...fn.versions] : fn.aliases;
    const start = call.marker === undefined ? 0 : Number(call.marker);
    const size = Math.min(this.pageSize, Number(params.get('MaxItems') ?? '50'));
    const page = names.slice(start, start + size);
    const next = start + size < names.length ? { NextMarker: String(start + size) } : {};
    return call.operation === 'ListVersionsByFunction'
      ? json(200, {
          Versions: page.map((v) => ({
            FunctionArn: v === '$LATEST' ? `${fn.arn}:$LATEST` : `${fn.arn}:${v}`,
            Version: v,
          })),
          ...next,
        })
      : json(200, {
          Aliases: page.map((a) => ({ AliasArn: `${fn.arn}:${a}`, Name: a, FunctionVersion: '1' })),
          ...next,
        });
  }
}
