/**
 * Least privilege, proven offline: the policy documents of a synthesized role, resolved for one concrete
 * environment, evaluated by an IAM policy simulator (@cloud-copilot/iam-simulate). Shared by the IAM tests
 * of the construct with and without termination policies.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import {
  runSimulation,
  runUnsafeSimulation,
  type EvaluationResult,
  type Simulation,
} from '@cloud-copilot/iam-simulate';
import { type ConcreteEnv, resolveIntrinsics } from './construct-helpers';

/** The concrete environment the IAM tests synthesize in, and the principal they simulate. */
export const ACCOUNT = '111122223333';
export const OTHER_ACCOUNT = '444455556666';
export const REGION = 'eu-west-1';
export const ENV = { partition: 'aws', account: ACCOUNT, region: REGION };
export const DOMAINS = ['orders', 'billing'];
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/terminator`;

/** SWF domain ARN, in the Service Authorization Reference form (no region) or the regional form. */
export const swfArn = (domain: string, account: string, region = '') =>
  `arn:aws:swf:${region}:${account}:/domain/${domain}`;

// SWF's 51 IAM actions: one list, the verifier's (it checks them on the live account as these tests do offline).
export {
  ALL_SWF_ACTIONS,
  DOMAIN_SWF_ACTIONS,
  WILDCARD_ONLY_SWF_ACTIONS,
} from '../../lambda/verify/swf-actions';

/** The roles the construct makes, by the logical-id prefix of each. */
export const ROLES = {
  handler: 'TerminatorRole',
  control: 'TerminatorControlRole',
  stateMachine: 'TerminatorJobsRole',
} as const;

/** A policy document of a role, resolved for one environment. */
export interface NamedPolicy {
  readonly name: string;
  readonly policy: Record<string, unknown>;
}

/** Every policy document attached to a role (inline and AWS::IAM::Policy), resolved in `env`. */
export function rolePolicies(template: Template, prefix: string, env: ConcreteEnv): NamedPolicy[] {
  const roles = Object.entries(template.findResources('AWS::IAM::Role')).filter(
    ([id]) => id.startsWith(prefix) && !id.slice(prefix.length).startsWith('DefaultPolicy'),
  );
  if (roles.length !== 1) throw new Error(`expected one role named ${prefix}*, found ${roles.length}`);
  const [roleId, roleResource] = roles[0]!;
  const role = (roleResource as { Properties: Record<string, unknown> }).Properties;
  const inline = ((role.Policies ?? []) as { PolicyName: string; PolicyDocument: unknown }[]).map((p) => ({
    name: p.PolicyName,
    document: p.PolicyDocument,
  }));
  const attached = Object.entries(template.findResources('AWS::IAM::Policy'))
    .filter(([, r]) =>
      ((r.Properties as { Roles: unknown[] }).Roles as { Ref?: string }[]).some((x) => x.Ref === roleId),
    )
    .map(([id, r]) => ({ name: id, document: (r.Properties as { PolicyDocument: unknown }).PolicyDocument }));
  return [...inline, ...attached].map(({ name, document }) => ({
    name,
    policy: resolveIntrinsics(document, template, env) as Record<string, unknown>,
  }));
}

/**
 * The simulator's verdict for a principal with `policies` calling `action` on `resource`.
 *
 * `validated` runs the simulator's full input validation, which checks the ARN against the Service
 * Authorization Reference. SWF's regional ARN form (`arn:aws:swf:REGION:...`) is published in the SWF
 * Developer Guide but not in that reference: those cases run `runUnsafeSimulation`, the same policy engine
 * without input validation (`unvalidated`).
 */
export async function decide(
  policies: NamedPolicy[],
  principal: string,
  action: string,
  resource: string,
  mode: 'validated' | 'unvalidated' = 'validated',
  /** The account of a resource that names none (`*`). */
  defaultAccount = '',
): Promise<EvaluationResult> {
  // An AWS managed policy's ARN names "aws", not an account: IAM lets any account read one with its own
  // identity policies, as it does its own resources (no cross-account resource policy to consult).
  const named = resource.split(':')[4];
  const accountId = named === undefined || named === 'aws' ? defaultAccount : named;
  const simulation: Simulation = {
    identityPolicies: policies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    request: {
      action,
      principal,
      resource: { resource, accountId },
      contextVariables: {},
    },
  };
  if (mode === 'unvalidated') return runUnsafeSimulation(simulation, {});
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') {
    throw new Error(`simulation input rejected: ${JSON.stringify(result.errors)}`);
  }
  return result.overallResult;
}

/** One cell of a decision table: a call a role might make, and IAM's expected answer. */
export interface Cell {
  readonly action: string;
  readonly resource: string;
  /** What the resource is (another account, a look-alike name, ...), shown in the cell's name. */
  readonly why?: string;
  readonly mode?: 'validated' | 'unvalidated';
  readonly expected: EvaluationResult;
}

/**
 * The simulator's answer for every cell, beside the expected one, both keyed by the cell's name: one
 * `expect(actual).toEqual(expected)` then proves the whole table, and its diff names every wrong cell.
 */
export async function decisionTable(
  policies: NamedPolicy[],
  cells: readonly Cell[],
): Promise<{ actual: Record<string, EvaluationResult>; expected: Record<string, EvaluationResult> }> {
  const expected: Record<string, EvaluationResult> = {};
  const actual: Record<string, EvaluationResult> = {};
  await Promise.all(
    cells.map(async ({ action, resource, why, mode = 'validated', expected: answer }) => {
      const name = `${action} on ${resource}${why === undefined ? '' : ` (${why})`}${mode === 'unvalidated' ? ' [regional form]' : ''}`;
      if (name in expected) throw new Error(`two cells are named ${name}`);
      expected[name] = answer;
      actual[name] = await decide(policies, ROLE_ARN, action, resource, mode, ACCOUNT);
    }),
  );
  return { actual, expected };
}

/** `action` on `domain` in both ARN forms (the reference's, validated; the regional one, unvalidated). */
export function bothForms(
  action: string,
  domain: string,
  expected: EvaluationResult,
  why?: string,
  account = ACCOUNT,
): Cell[] {
  return [
    { action, resource: swfArn(domain, account), expected, why },
    { action, resource: swfArn(domain, account, REGION), mode: 'unvalidated', expected, why },
  ];
}
