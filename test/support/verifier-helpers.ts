/**
 * Helpers for the least-privilege verifier's tests (test/lib/verifier.test.ts, test/package/verifier-e2e.test.ts):
 * a terminator synthesized in a concrete environment, its template with every role's `Fn::GetAtt ... Arn` made
 * concrete (resolveIntrinsics leaves roles out: a role's physical name is taken to be its logical id, as for
 * the other resources), the verifier function and its resolved environment, and the roles as the fake IAM
 * (test/support/fake-iam.ts) takes them.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SwfTerminator, type SwfTerminatorProps } from '../../lib';
import { type ConcreteEnv, resolveIntrinsics, resourceNamed, testApp } from './construct-helpers';
import type { VerifyConfig } from '../../lambda/verify/checks';
import { parseVerifyConfig } from '../../lambda/verify/config';
import type { FakeEventBridgeServer } from './fake-eventbridge';
import type { FakeIamServer, FakePolicy, PolicyDocument } from './fake-iam';
import type { FakeLambdaServer } from './fake-lambda';
import { ACCOUNT, REGION, rolePolicies, ROLES } from './iam-simulation';

/** The logical-id prefix of restore's role (allowRestore), the fourth role the verifier checks. */
export const RESTORE_ROLE = 'TerminatorRestoreRole';

/** The logical-id prefix of the verifier's own resources. */
export const VERIFIER = {
  function: 'TerminatorVerifierFunction',
  role: 'TerminatorVerifierRole',
  trigger: 'TerminatorVerifierOnDeploy',
  schedule: 'TerminatorVerifierSchedule',
} as const;

/** A terminator (domains orders and billing unless given) in a stack of {@link ACCOUNT} / {@link REGION}. */
export function synthConcrete(
  addPolicies: (terminator: SwfTerminator) => void = () => undefined,
  props: Partial<SwfTerminatorProps> = {},
): { stack: Stack; terminator: SwfTerminator; template: Template } {
  const stack = new Stack(testApp(), 'VerifierStack', { env: { account: ACCOUNT, region: REGION } });
  const terminator = new SwfTerminator(stack, 'Terminator', { domains: ['orders', 'billing'], ...props });
  addPolicies(terminator);
  return { stack, terminator, template: Template.fromStack(stack) };
}

/** The ARN a role gets in `env`, its name taken to be its logical id. */
export const roleArnIn = (env: ConcreteEnv, logicalId: string): string =>
  `arn:${env.partition}:iam::${env.account}:role/${logicalId}`;

/**
 * The template with every `Fn::GetAtt [role, Arn]` replaced by the role's concrete ARN in `env` (see
 * {@link roleArnIn}); everything else as synthesized, for resolveIntrinsics and rolePolicies to resolve.
 */
export function withConcreteRoleArns(template: Template, env: ConcreteEnv): Template {
  const json = template.toJSON() as { Resources: Record<string, { Type: string }> };
  const roles = new Set(
    Object.entries(json.Resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Role')
      .map(([id]) => id),
  );
  const replace = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(replace);
    if (v === null || typeof v !== 'object') return v;
    const obj = v as Record<string, unknown>;
    const getAtt = obj['Fn::GetAtt'];
    if (Object.keys(obj).length === 1 && Array.isArray(getAtt)) {
      const [logicalId, attribute] = getAtt as [string, string];
      if (attribute === 'Arn' && roles.has(logicalId)) return roleArnIn(env, logicalId);
    }
    return Object.fromEntries(Object.entries(obj).map(([k, x]) => [k, replace(x)]));
  };
  return Template.fromJSON(replace(json) as Record<string, unknown>);
}

/** The logical id of the one role whose logical id starts with `prefix` (not its default policy). */
export function roleId(template: Template, prefix: string): string {
  const ids = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one role named ${prefix}*, found ${ids.length}`);
  return ids[0]!;
}

/** The verifier function as synthesized. */
export function verifierFunction(template: Template) {
  return resourceNamed(template, 'AWS::Lambda::Function', VERIFIER.function);
}

/** The verifier's environment variables, every intrinsic resolved in `env` (role ARNs as {@link roleArnIn}). */
export function verifierEnvironment(template: Template, env: ConcreteEnv): Record<string, string> {
  const concrete = withConcreteRoleArns(template, env);
  const variables = (verifierFunction(concrete).resource.Properties.Environment as { Variables: unknown })
    .Variables;
  return resolveIntrinsics(variables, concrete, env) as Record<string, string>;
}

/** A checked role as the fake IAM takes it: its concrete ARN, its policies and its trust policy. */
export interface CheckedRole<K extends string> {
  kind: K;
  arn: string;
  policies: FakePolicy[];
  trust: PolicyDocument;
}

/** The role whose logical id starts with `prefix`, as {@link CheckedRole}, in `env`. */
function checkedRole<K extends string>(
  template: Template,
  env: ConcreteEnv,
  kind: K,
  prefix: string,
): CheckedRole<K> {
  const concrete = withConcreteRoleArns(template, env);
  const id = roleId(template, prefix);
  const role = concrete.toJSON().Resources[id] as { Properties: { AssumeRolePolicyDocument: unknown } };
  return {
    kind,
    arn: roleArnIn(env, id),
    policies: rolePolicies(concrete, prefix, env).map(({ name, policy }) => ({
      name,
      document: policy as unknown as PolicyDocument,
    })),
    trust: resolveIntrinsics(role.Properties.AssumeRolePolicyDocument, concrete, env) as PolicyDocument,
  };
}

/**
 * The terminator's three checked roles: their concrete ARNs in `env`, their policies as the fake takes them, and
 * their trust policies.
 */
export function checkedRoles(template: Template, env: ConcreteEnv): CheckedRole<keyof typeof ROLES>[] {
  return (Object.keys(ROLES) as (keyof typeof ROLES)[]).map((kind) =>
    checkedRole(template, env, kind, ROLES[kind]),
  );
}

/** Restore's role (allowRestore), checked as the others; undefined when the terminator has no restore. */
export function restoreRole(template: Template, env: ConcreteEnv): CheckedRole<'restore'> | undefined {
  const present = Object.keys(template.findResources('AWS::IAM::Role')).some((id) =>
    id.startsWith(RESTORE_ROLE),
  );
  return present ? checkedRole(template, env, 'restore', RESTORE_ROLE) : undefined;
}

/** The fakes a deployment is loaded into: IAM, Lambda and EventBridge. */
export interface DeploymentFakes {
  readonly iam: FakeIamServer;
  readonly lambda: FakeLambdaServer;
  readonly events: FakeEventBridgeServer;
}

/**
 * Loads a synthesized deployment into the fakes, as CloudFormation would have created it in `env`: the
 * checked roles (restore's too, when there is restore) with their policies and trusts, every function with the statements its AWS::Lambda::Permission
 * resources add to its policy (as Lambda writes them), and the request bus (no policy: the template has no
 * AWS::Events::EventBusPolicy). Answers the verifier's configuration, resolved.
 */
export function loadDeployment(template: Template, env: ConcreteEnv, fakes: DeploymentFakes): VerifyConfig {
  const restore = restoreRole(template, env);
  for (const role of [...checkedRoles(template, env), ...(restore === undefined ? [] : [restore])]) {
    fakes.iam.putRole(role.arn, role.policies, role.trust);
  }
  const concrete = withConcreteRoleArns(template, env);
  const resources = concrete.toJSON().Resources as Record<
    string,
    { Type: string; Properties: Record<string, unknown> }
  >;
  const arnOf = (id: string) => `arn:${env.partition}:lambda:${env.region}:${env.account}:function:${id}`;
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::Lambda::Function') fakes.lambda.putFunction(arnOf(id));
  }
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::Lambda::Permission') continue;
    const p = resolveIntrinsics(r.Properties, concrete, env) as Record<string, string>;
    const principal = p.Principal!;
    fakes.lambda.addStatement(p.FunctionName!, {
      Sid: id,
      Effect: 'Allow',
      Principal: principal.endsWith('.amazonaws.com') ? { Service: principal } : { AWS: principal },
      Action: p.Action,
      Resource: p.FunctionName,
      ...(p.SourceArn === undefined ? {} : { Condition: { ArnLike: { 'AWS:SourceArn': p.SourceArn } } }),
    });
  }
  const config = parseVerifyConfig(verifierEnvironment(template, env));
  fakes.events.putBus(config.eventBusArn);
  return config;
}
