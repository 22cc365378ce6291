/**
 * A local stand-in for EventBridge's DescribeEventBus, the one call of it the verifier makes, that the real
 * `@aws-sdk/client-eventbridge` can talk to over AWS JSON 1.1 (`POST /`, `X-Amz-Target:
 * AWSEvents.DescribeEventBus`, `{"Name": NAME or ARN}`): the bus's name, ARN and policy (a JSON string; absent
 * when the bus has none), or `ResourceNotFoundException`.
 */
import { randomUUID } from 'node:crypto';
import type * as http from 'node:http';
import type { PolicyDocument } from './fake-iam';
import { type LocalAnswer, type LocalServer, startLocalServer } from '../../local/server';

const json = (status: number, value: unknown): LocalAnswer => ({
  status,
  headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() },
  body: JSON.stringify(value),
});

export class FakeEventBridgeServer {
  /** The Name of every DescribeEventBus call, in order. */
  readonly calls: string[] = [];
  private readonly buses = new Map<string, Record<string, unknown>[] | undefined>();

  private constructor(private readonly server: LocalServer) {}

  static async start(): Promise<FakeEventBridgeServer> {
    // The server answers through `answer`, which is the fake's once it exists.
    let answer: Parameters<typeof startLocalServer>[0] = () => {
      throw new Error('the fake is not ready');
    };
    const server = await startLocalServer((req, body) => answer(req, body));
    const fake = new FakeEventBridgeServer(server);
    answer = (req, body) => fake.handle(req, body);
    return fake;
  }

  get endpoint(): string {
    return this.server.endpoint;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /** Registers a bus by its ARN, without a policy. */
  putBus(arn: string): void {
    if (!this.buses.has(arn)) this.buses.set(arn, undefined);
  }

  /** Adds a statement to the bus's policy (as PutPermission or PutPolicy would). */
  addStatement(arn: string, statement: Record<string, unknown>): void {
    this.buses.set(arn, [...(this.buses.get(arn) ?? []), statement]);
  }

  private handle(req: http.IncomingMessage, body: string): LocalAnswer {
    if (req.headers['x-amz-target'] !== 'AWSEvents.DescribeEventBus') {
      return json(400, { __type: 'UnknownOperationException', message: 'Unknown operation' });
    }
    const asked = (JSON.parse(body) as { Name?: unknown }).Name;
    const name = typeof asked === 'string' ? asked : 'default';
    this.calls.push(name);
    const arn = [...this.buses.keys()].find((a) => a === name || a.endsWith(`:event-bus/${name}`));
    if (arn === undefined) {
      return json(400, { __type: 'ResourceNotFoundException', message: `Event bus ${name} does not exist.` });
    }
    const statements = this.buses.get(arn);
    const policy: PolicyDocument | undefined =
      statements === undefined ? undefined : { Version: '2012-10-17', Statement: statements };
    return json(200, {
      Name: arn.slice(arn.indexOf('event-bus/') + 'event-bus/'.length),
      Arn: arn,
      ...(policy === undefined ? {} : { Policy: JSON.stringify(policy) }),
    });
  }
}
