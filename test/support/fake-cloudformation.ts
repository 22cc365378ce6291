/**
 * A local stand-in for the two CloudFormation reads the operator's command makes, that the real
 * `@aws-sdk/client-cloudformation` talks to over CloudFormation's Query protocol (form-encoded `POST /`,
 * XML answers): GetTemplate (the stack's template as deployed) and DescribeStackResource (one resource's
 * physical id). Stacks are synthesized templates; a resource's physical id is its logical id, as in
 * resolveIntrinsics (construct-helpers.ts). An unknown stack or resource answers `ValidationError`, as
 * CloudFormation does.
 */
import { randomUUID } from 'node:crypto';
import { type LocalServer, startLocalServer } from '../../local/server';

const XMLNS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';
const xml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One call the fake answered. */
export interface RecordedCfnCall {
  readonly action: string;
  readonly stackName: string;
  readonly logicalId?: string;
}

export class FakeCloudFormationServer {
  readonly calls: RecordedCfnCall[] = [];

  private constructor(
    private readonly server: LocalServer,
    private readonly stacks: Map<string, Record<string, unknown>>,
  ) {}

  get endpoint(): string {
    return this.server.endpoint;
  }

  /** Serves `stacks`: stack name → synthesized template (JSON). */
  static async start(stacks: Record<string, Record<string, unknown>>): Promise<FakeCloudFormationServer> {
    const known = new Map(Object.entries(stacks));
    // The server answers through the fake, which needs the server: filled in once both exist.
    const ready: { fake?: FakeCloudFormationServer } = {};
    const server = await startLocalServer((_req, body) => {
      if (ready.fake === undefined) throw new Error('the fake is not ready');
      return ready.fake.answer(new URLSearchParams(body));
    });
    ready.fake = new FakeCloudFormationServer(server, known);
    return ready.fake;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private answer(params: URLSearchParams) {
    const action = params.get('Action') ?? '';
    const stackName = params.get('StackName') ?? '';
    const logicalId = params.get('LogicalResourceId') ?? undefined;
    this.calls.push({ action, stackName, ...(logicalId === undefined ? {} : { logicalId }) });
    const template = this.stacks.get(stackName);
    if (template === undefined)
      return error(400, 'ValidationError', `Stack with id ${stackName} does not exist`);
    if (action === 'GetTemplate') {
      return ok(action, `<TemplateBody>${xml(JSON.stringify(template))}</TemplateBody>`);
    }
    if (action === 'DescribeStackResource') {
      const resources = (template.Resources ?? {}) as Record<string, { Type: string }>;
      const resource = logicalId === undefined ? undefined : resources[logicalId];
      if (resource === undefined || logicalId === undefined) {
        return error(
          400,
          'ValidationError',
          `Resource ${String(logicalId)} does not exist for stack ${stackName}`,
        );
      }
      return ok(
        action,
        `<StackResourceDetail><StackName>${xml(stackName)}</StackName>` +
          `<StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/${xml(stackName)}/1</StackId>` +
          `<LogicalResourceId>${xml(logicalId)}</LogicalResourceId>` +
          `<PhysicalResourceId>${xml(logicalId)}</PhysicalResourceId>` +
          `<ResourceType>${xml(resource.Type)}</ResourceType>` +
          '<LastUpdatedTimestamp>2026-01-01T00:00:00Z</LastUpdatedTimestamp>' +
          '<ResourceStatus>CREATE_COMPLETE</ResourceStatus></StackResourceDetail>',
      );
    }
    return error(400, 'InvalidAction', `The action ${action} is not valid for this fake`);
  }
}

function ok(action: string, result: string) {
  return {
    status: 200,
    headers: { 'content-type': 'text/xml' },
    body:
      `<${action}Response xmlns="${XMLNS}"><${action}Result>${result}</${action}Result>` +
      `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`,
  };
}

function error(status: number, code: string, message: string) {
  return {
    status,
    headers: { 'content-type': 'text/xml' },
    body:
      `<ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>${code}</Code>` +
      `<Message>${xml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  };
}
