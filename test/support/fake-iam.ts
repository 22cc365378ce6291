/**
 * A local stand-in for IAM's `SimulatePrincipalPolicy`, and for the read APIs the verifier enumerates a role
 * with (GetRole, ListRolePolicies, GetRolePolicy, ListAttachedRolePolicies, GetPolicy, GetPolicyVersion: their
 * documents URL-encoded and lists paged by `Marker`, as IAM's), that the real `@aws-sdk/client-iam` can talk to, over
 * IAM's Query protocol: `POST /` with a form-encoded body (`Action=SimulatePrincipalPolicy&Version=2010-05-08&
 * PolicySourceArn=...&ActionNames.member.N=...&ResourceArns.member.N=...&MaxItems=...&Marker=...`, and
 * `ContextEntries.member.N.ContextKeyName=...&ContextEntries.member.N.ContextKeyValues.member.M=...`), answered
 * with IAM's XML (one `EvaluationResults` member per action and resource, action-major, paged by MaxItems and
 * Marker) or an `ErrorResponse` (NoSuchEntity: HTTP 404; Throttling: HTTP 400; see {@link IamFault}).
 *
 * Each action on each resource is evaluated against the role's identity policies by @cloud-copilot/iam-simulate
 * (as in test/lib/iam.test.ts), with the call's context entries as the request's condition keys. `MatchedStatements` name the policy (`SourcePolicyId`: its name, as IAM does for
 * an inline policy) and where the statement starts and ends (1-based line and column) in the document as
 * `JSON.stringify(document, null, 2)` lays it out; a statement matched if, alone, it gives the same allow or
 * explicit deny. IAM reads a request's resource literally, the simulator reads `*` in it as a wildcard: the fake
 * hides literal asterisks behind a private-use character, in the request and in the policies' `${*}` alike.
 */
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { text as readBody } from 'node:stream/consumers';
import { type EvaluationResult, runUnsafeSimulation } from '@cloud-copilot/iam-simulate';

/** An IAM policy document; a statement is kept as JSON (the simulator validates it). */
export interface PolicyDocument {
  Version?: string;
  Statement: Record<string, unknown> | Record<string, unknown>[];
}

/** A policy of a role: inline (`role`, the default) or managed. */
export interface FakePolicy {
  name: string;
  document: PolicyDocument;
  type?: 'role' | 'user-managed' | 'aws-managed';
  /** A managed policy's ARN; by default `arn:aws:iam::aws:policy/NAME` (AWS's) or of the role's account. */
  arn?: string;
  /** A managed policy's earlier version, not the default: the default is then `v2`. */
  olderVersion?: PolicyDocument;
}

/** Who may assume a role, by default: Lambda. */
export const LAMBDA_TRUST: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

/**
 * A fault for a coming call ({@link FakeIamServer.failNext}): `throttle` (HTTP 400 `Throttling`),
 * `server-error` (HTTP 500 `ServiceFailure`), `access-denied` (HTTP 403 `AccessDenied`).
 */
export type IamFault = 'throttle' | 'server-error' | 'access-denied';

/** One call the server received, with the HTTP status and error code it answered. */
export interface RecordedIamCall {
  action: string;
  /** SimulatePrincipalPolicy's PolicySourceArn. */
  roleArn: string;
  /** The read APIs' RoleName, PolicyName, PolicyArn and VersionId, as sent. */
  roleName?: string;
  policyName?: string;
  policyArn?: string;
  versionId?: string;
  actionNames: string[];
  resourceArns: string[];
  /** SimulatePrincipalPolicy's ContextEntries: each key's values. */
  context?: Record<string, string[]>;
  maxItems?: string;
  marker?: string;
  status: number;
  code?: string;
}

type Position = { line: number; column: number };
type StoredStatement = { literal: Record<string, unknown>; start: Position; end: Position };
type StoredPolicy = {
  name: string;
  type: string;
  arn?: string;
  /** The documents as given: the default version last. */
  versions: PolicyDocument[];
  literal: PolicyDocument;
  statements: StoredStatement[];
};
type StoredRole = { arn: string; trust: PolicyDocument; policies: StoredPolicy[] };
type Answer = { action: string; resource: string; decision: string; matched: Matched[] };
type Matched = { policy: StoredPolicy; statement: StoredStatement };

const XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const STAR = '\uE000';
const DECISION: Record<EvaluationResult, string> = {
  Allowed: 'allowed',
  ExplicitlyDenied: 'explicitDeny',
  ImplicitlyDenied: 'implicitDeny',
};
/** HTTP status of each error code the fake answers (400 for any other); ServiceFailure is the receiver's. */
const STATUS: Record<string, number> = { NoSuchEntity: 404, AccessDenied: 403, ServiceFailure: 500 };
const FAULTS: Record<IamFault, [string, string]> = {
  throttle: ['Throttling', 'Rate exceeded'],
  'server-error': ['ServiceFailure', 'Request processing has failed due to an unknown error.'],
  'access-denied': ['AccessDenied', 'User is not authorized to perform: iam:SimulatePrincipalPolicy'],
};

/** An error answer: IAM's code and message. */
class IamError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const xml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]!};`);
const literalStars = <T>(value: T): T => JSON.parse(JSON.stringify(value).replaceAll('${*}', STAR)) as T;

/** The 1-based line and column of `offset` in `text`. */
function positionAt(text: string, offset: number): Position {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

/** A policy as the fake keeps it: literal-star form for the simulator, and where each statement is. */
function store(policy: FakePolicy, account: string): StoredPolicy {
  const { document } = policy;
  const laidOut = JSON.stringify(document, null, 2);
  const list = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
  const indent = ' '.repeat(Array.isArray(document.Statement) ? 4 : 2);
  let cursor = 0;
  const statements = list.map((statement) => {
    const block = JSON.stringify(statement, null, 2).replaceAll('\n', `\n${indent}`);
    const at = laidOut.indexOf(block, cursor);
    cursor = at + block.length;
    return {
      literal: literalStars(statement),
      start: positionAt(laidOut, at),
      end: positionAt(laidOut, cursor - 1),
    };
  });
  const type = policy.type ?? 'role';
  const owner = type === 'aws-managed' ? 'aws' : account;
  return {
    name: policy.name,
    type,
    ...(type === 'role' ? {} : { arn: policy.arn ?? `arn:aws:iam::${owner}:policy/${policy.name}` }),
    versions: [...(policy.olderVersion === undefined ? [] : [policy.olderVersion]), document],
    literal: literalStars(document),
    statements,
  };
}

/** IAM's encoding of a document in its answers: URL-encoded (RFC 3986). */
const encoded = (document: PolicyDocument) => xml(encodeURIComponent(JSON.stringify(document)));

/** `Name.member.1`, `Name.member.2`, ... (the Query protocol numbers list members from 1, without gaps). */
function members(params: URLSearchParams, name: string): string[] {
  const list: string[] = [];
  for (let i = 1; params.has(`${name}.member.${i}`); i++) list.push(params.get(`${name}.member.${i}`) ?? '');
  return list;
}

/** `ContextEntries.member.N.ContextKeyName` and `...ContextKeyValues.member.M`: each key's values. */
function contextEntries(params: URLSearchParams): Record<string, string[]> | undefined {
  const entries: Record<string, string[]> = {};
  for (let i = 1; params.has(`ContextEntries.member.${i}.ContextKeyName`); i++) {
    const name = params.get(`ContextEntries.member.${i}.ContextKeyName`) ?? '';
    entries[name] = members(params, `ContextEntries.member.${i}.ContextKeyValues`);
  }
  return Object.keys(entries).length === 0 ? undefined : entries;
}

function answerXml(a: Answer): string {
  const at = (tag: string, p: Position) =>
    `<${tag}><Line>${p.line}</Line><Column>${p.column}</Column></${tag}>`;
  const statements = a.matched.map(
    ({ policy, statement }) =>
      `<member><SourcePolicyId>${xml(policy.name)}</SourcePolicyId>` +
      `<SourcePolicyType>${policy.type}</SourcePolicyType>` +
      `${at('StartPosition', statement.start)}${at('EndPosition', statement.end)}</member>`,
  );
  return (
    `<member><EvalActionName>${xml(a.action)}</EvalActionName>` +
    `<EvalResourceName>${xml(a.resource)}</EvalResourceName><EvalDecision>${a.decision}</EvalDecision>` +
    `<MatchedStatements>${statements.join('')}</MatchedStatements><MissingContextValues/></member>`
  );
}

/** The read APIs: each answers its Result's inner XML from the request's parameters. */
const READS: Record<string, ((this: FakeIamServer, params: URLSearchParams) => string) | undefined> = {
  GetRole(params) {
    const role = this.roleNamed(params.get('RoleName'));
    const name = role.arn.slice(role.arn.lastIndexOf('/') + 1);
    return (
      `<Role><Path>/</Path><RoleName>${xml(name)}</RoleName><RoleId>AROAFAKE${name.length}</RoleId>` +
      `<Arn>${xml(role.arn)}</Arn><CreateDate>2026-01-01T00:00:00Z</CreateDate>` +
      `<AssumeRolePolicyDocument>${encoded(role.trust)}</AssumeRolePolicyDocument></Role>`
    );
  },
  ListRolePolicies(params) {
    const role = this.roleNamed(params.get('RoleName'));
    const { members, tail } = this.page(
      role.policies.filter((p) => p.type === 'role').map((p) => p.name),
      params,
    );
    return `<PolicyNames>${members.map((n) => `<member>${xml(n)}</member>`).join('')}</PolicyNames>${tail}`;
  },
  GetRolePolicy(params) {
    const role = this.roleNamed(params.get('RoleName'));
    const name = params.get('PolicyName');
    const policy = role.policies.find((p) => p.type === 'role' && p.name === name);
    if (policy === undefined) {
      throw new IamError('NoSuchEntity', `The role policy with name ${name} cannot be found.`);
    }
    return (
      `<RoleName>${xml(params.get('RoleName') ?? '')}</RoleName><PolicyName>${xml(policy.name)}</PolicyName>` +
      `<PolicyDocument>${encoded(policy.versions.at(-1)!)}</PolicyDocument>`
    );
  },
  ListAttachedRolePolicies(params) {
    const role = this.roleNamed(params.get('RoleName'));
    const arns = role.policies.flatMap((p) => (p.arn === undefined ? [] : [p.arn]));
    const { members, tail } = this.page(arns, params);
    const attached = members.map(
      (arn) =>
        `<member><PolicyName>${xml(arn.slice(arn.lastIndexOf('/') + 1))}</PolicyName>` +
        `<PolicyArn>${xml(arn)}</PolicyArn></member>`,
    );
    return `<AttachedPolicies>${attached.join('')}</AttachedPolicies>${tail}`;
  },
  GetPolicy(params) {
    const policy = this.managedPolicy(params.get('PolicyArn'));
    return (
      `<Policy><PolicyName>${xml(policy.name)}</PolicyName><Arn>${xml(policy.arn ?? '')}</Arn>` +
      `<DefaultVersionId>v${policy.versions.length}</DefaultVersionId><AttachmentCount>1</AttachmentCount>` +
      `<IsAttachable>true</IsAttachable></Policy>`
    );
  },
  GetPolicyVersion(params) {
    const policy = this.managedPolicy(params.get('PolicyArn'));
    const versionId = params.get('VersionId') ?? '';
    const document = policy.versions[Number(versionId.slice(1)) - 1];
    if (!/^v\d+$/.test(versionId) || document === undefined) {
      throw new IamError('NoSuchEntity', `Policy version ${versionId} does not exist.`);
    }
    const isDefault = versionId === `v${policy.versions.length}`;
    return (
      `<PolicyVersion><Document>${encoded(document)}</Document><VersionId>${versionId}</VersionId>` +
      `<IsDefaultVersion>${isDefault}</IsDefaultVersion></PolicyVersion>`
    );
  },
};

export class FakeIamServer {
  /** Every call received, in order. */
  readonly calls: RecordedIamCall[] = [];
  private readonly roles = new Map<string, StoredRole>();
  private readonly faults: { fault: IamFault; action?: string }[] = [];

  private constructor(
    private readonly server: http.Server,
    private readonly options: { pageSize?: number },
  ) {}

  /** Starts a server; `pageSize` caps every page below MaxItems (IAM "might return fewer than MaxItems"). */
  static async start(options: { pageSize?: number } = {}): Promise<FakeIamServer> {
    const server = http.createServer();
    const fake = new FakeIamServer(server, options);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      void readBody(req).then((body) => {
        fake.handle(body, res);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return fake;
  }

  /** The URL to give a client (`endpoint`, or `AWS_ENDPOINT_URL_IAM`). */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Registers (or replaces) a role, its identity policies and its trust policy (Lambda's by default). */
  putRole(roleArn: string, policies: FakePolicy[], trust: PolicyDocument = LAMBDA_TRUST): void {
    const account = roleArn.split(':')[4] ?? '';
    this.roles.set(roleArn, { arn: roleArn, trust, policies: policies.map((p) => store(p, account)) });
  }

  /** Attaches (or puts inline) one more policy on a role registered already. */
  addPolicy(roleArn: string, policy: FakePolicy): void {
    const role = this.roles.get(roleArn);
    if (role === undefined) throw new Error(`no role ${roleArn}`);
    role.policies.push(store(policy, roleArn.split(':')[4] ?? ''));
  }

  /** Replaces a registered role's trust policy. */
  setTrust(roleArn: string, trust: PolicyDocument): void {
    const role = this.roles.get(roleArn);
    if (role === undefined) throw new Error(`no role ${roleArn}`);
    role.trust = trust;
  }

  /** Answers the next `times` calls (of `action` only, when given) with `fault`. */
  failNext(fault: IamFault, times = 1, action?: string): void {
    for (let i = 0; i < times; i++) this.faults.push({ fault, ...(action === undefined ? {} : { action }) });
  }

  async close(): Promise<void> {
    this.server.close();
    this.server.closeAllConnections();
    await once(this.server, 'close');
  }

  private handle(body: string, res: http.ServerResponse): void {
    const params = new URLSearchParams(body);
    const optional = (field: keyof RecordedIamCall, param: string) =>
      params.has(param) ? { [field]: params.get(param) ?? '' } : {};
    const call: RecordedIamCall = {
      action: params.get('Action') ?? '',
      roleArn: params.get('PolicySourceArn') ?? '',
      ...optional('roleName', 'RoleName'),
      ...optional('policyName', 'PolicyName'),
      ...optional('policyArn', 'PolicyArn'),
      ...optional('versionId', 'VersionId'),
      actionNames: members(params, 'ActionNames'),
      resourceArns: members(params, 'ResourceArns'),
      ...(contextEntries(params) === undefined ? {} : { context: contextEntries(params) }),
      ...(params.has('MaxItems') ? { maxItems: params.get('MaxItems') ?? '' } : {}),
      ...(params.has('Marker') ? { marker: params.get('Marker') ?? '' } : {}),
      status: 200,
    };
    this.calls.push(call);
    let text: string;
    try {
      text = this.answer(call, params);
    } catch (error: unknown) {
      if (!(error instanceof IamError)) throw error;
      call.status = STATUS[error.code] ?? 400;
      call.code = error.code;
      text =
        `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${call.status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
        `<Code>${error.code}</Code><Message>${xml(error.message)}</Message></Error>` +
        `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
    }
    res.writeHead(call.status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
    res.end(text);
  }

  /** The XML answer to a call, or an IamError. */
  private answer(call: RecordedIamCall, params: URLSearchParams): string {
    const at = this.faults.findIndex((f) => f.action === undefined || f.action === call.action);
    if (at >= 0) {
      const [{ fault }] = this.faults.splice(at, 1) as [{ fault: IamFault }];
      throw new IamError(...FAULTS[fault]);
    }
    const version = params.get('Version');
    const read = READS[call.action];
    if (version !== '2010-05-08' || (read === undefined && call.action !== 'SimulatePrincipalPolicy')) {
      throw new IamError('InvalidAction', `Could not find operation ${call.action} for version ${version}`);
    }
    if (read !== undefined) {
      const result = read.call(this, params);
      return (
        `<${call.action}Response xmlns="${XMLNS}"><${call.action}Result>${result}</${call.action}Result>` +
        `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${call.action}Response>`
      );
    }
    return this.simulate(call);
  }

  /** The role named `name` (the last part of its ARN), or NoSuchEntity. */
  roleNamed(name: string | null): StoredRole {
    const role = [...this.roles.values()].find((r) => r.arn.endsWith(`/${name ?? ''}`));
    if (role === undefined) throw new IamError('NoSuchEntity', `The role with name ${name} cannot be found.`);
    return role;
  }

  /** The managed policy at `arn`, attached to some role, or NoSuchEntity. */
  managedPolicy(arn: string | null): StoredPolicy {
    for (const role of this.roles.values()) {
      const policy = role.policies.find((p) => p.arn !== undefined && p.arn === arn);
      if (policy !== undefined) return policy;
    }
    throw new IamError('NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`);
  }

  /** One page of `items` from `Marker`, with IsTruncated and the next Marker. */
  page(items: string[], params: URLSearchParams): { members: string[]; tail: string } {
    const start = Number(params.get('Marker') ?? '0');
    const size = Math.min(Number(params.get('MaxItems') ?? '100'), this.options.pageSize ?? Infinity);
    const end = start + size;
    const truncated = end < items.length;
    return {
      members: items.slice(start, end),
      tail: `<IsTruncated>${truncated}</IsTruncated>${truncated ? `<Marker>${end}</Marker>` : ''}`,
    };
  }

  /** The answer to a SimulatePrincipalPolicy call. */
  private simulate(call: RecordedIamCall): string {
    const role = this.roles.get(call.roleArn);
    if (role === undefined) {
      throw new IamError(
        'NoSuchEntity',
        `The role with name ${call.roleArn.split('/').pop()} cannot be found.`,
      );
    }
    const policies = role.policies;
    if (call.actionNames.length === 0) throw new IamError('InvalidInput', 'ActionNames is required.');
    const maxItems = Number(call.maxItems ?? '100');
    if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 1000) {
      throw new IamError('ValidationError', `Value '${call.maxItems}' at 'maxItems' must be from 1 to 1000`);
    }
    const resources = call.resourceArns.length > 0 ? call.resourceArns : ['*'];
    const pairs = call.actionNames.flatMap((action) =>
      resources.map((resource) => [action, resource] as const),
    );
    // A marker is good for the same question only, as IAM's are.
    const question = createHash('sha256')
      .update(JSON.stringify([call.roleArn, pairs, call.context ?? {}]))
      .digest('base64url');
    const marker = (offset: number) => `${question}.${offset}`;
    const start = call.marker === undefined ? 0 : pairs.findIndex((_, i) => marker(i) === call.marker);
    if (start < 0) throw new IamError('InvalidInput', 'Invalid Marker.');
    const end = start + Math.min(maxItems, this.options.pageSize ?? maxItems);
    const answers = pairs
      .slice(start, end)
      .map(([a, r]) => this.evaluate(call.roleArn, policies, a, r, call.context ?? {}));
    const truncated = end < pairs.length;
    return (
      `<SimulatePrincipalPolicyResponse xmlns="${XMLNS}"><SimulatePrincipalPolicyResult>` +
      `<EvaluationResults>${answers.map(answerXml).join('')}</EvaluationResults>` +
      `<IsTruncated>${truncated}</IsTruncated>${truncated ? `<Marker>${marker(end)}</Marker>` : ''}` +
      `</SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId>` +
      '</ResponseMetadata></SimulatePrincipalPolicyResponse>'
    );
  }

  private evaluate(
    roleArn: string,
    policies: StoredPolicy[],
    action: string,
    resource: string,
    context: Record<string, string[]>,
  ): Answer {
    const accountId = resource.split(':')[4] || (roleArn.split(':')[4] ?? '');
    const request = {
      action,
      principal: roleArn,
      resource: { resource: resource.replaceAll('*', STAR), accountId },
      contextVariables: Object.fromEntries(
        Object.entries(context).map(([key, values]) => [key, values.length === 1 ? values[0]! : values]),
      ),
    };
    const run = (identityPolicies: { name: string; policy: PolicyDocument }[]) =>
      runUnsafeSimulation(
        { identityPolicies, serviceControlPolicies: [], resourceControlPolicies: [], request },
        {},
      );
    const overall = run(policies.map((p) => ({ name: p.name, policy: p.literal })));
    const matched: Matched[] = [];
    // The statements that decided an allow or an explicit deny: alone, each gives the same answer.
    for (const policy of overall === 'ImplicitlyDenied' ? [] : policies) {
      for (const statement of policy.statements) {
        const alone = { name: policy.name, policy: { ...policy.literal, Statement: [statement.literal] } };
        if (run([alone]) === overall) matched.push({ policy, statement });
      }
    }
    return { action, resource, decision: DECISION[overall], matched };
  }
}
