/**
 * The verifier's enumeration: every policy that applies to each of the terminator's roles, read whole and judged
 * against what the construct grants it (lib/role-grants.ts), and every resource-based policy that says who may
 * make the terminator act (its functions', their versions' and aliases', its request bus's). Reads one after
 * the other: IAM's and Lambda's control-plane quotas are shared with everything else in the account.
 */
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { type RoleKind, roleGrants, TRUSTED_SERVICE } from '../../lib/role-grants';
import { auditBusPolicy, auditFunctionPolicy } from './audit-invokers';
import { auditRole } from './audit-roles';
import type { VerifyConfig } from './checks';
import type { Finding } from './findings';
import { readBusPolicy, readFunctionPolicies } from './read-invokers';
import { type ReadOptions, readRole } from './read-roles';

/** The clients the enumeration reads with. */
export interface EnumerationClients {
  readonly iam: IAMClient;
  readonly lambda: LambdaClient;
  readonly events: EventBridgeClient;
}

/** A rule's ARN from its name after `rule/` (the configuration's form). */
export function ruleArn(config: VerifyConfig, name: string): string {
  return `arn:${config.partition}:events:${config.region}:${config.account}:rule/${name}`;
}

/** Every finding: the roles' policies and trusts, then the functions' and the bus's policies. */
export async function enumerate(
  clients: EnumerationClients,
  config: VerifyConfig,
  options: ReadOptions = {},
): Promise<Finding[]> {
  const grants = roleGrants(config);
  const findings: Finding[] = [];
  const roles: [RoleKind, string | undefined][] = [
    ['handler', config.handlerRoleArn],
    ['control', config.controlRoleArn],
    ['stateMachine', config.stateMachineRoleArn],
  ];
  for (const [kind, roleArn] of roles) {
    if (roleArn === undefined) continue;
    const role = await readRole(clients.iam, roleArn, options);
    findings.push(...auditRole(kind, role, grants[kind], TRUSTED_SERVICE[kind]));
  }
  const functions: [string, string | undefined, readonly string[]][] = [
    ['the terminating function', config.handlerFunctionArn, config.handlerRules],
    ['the control function', config.controlFunctionArn, config.controlRules],
  ];
  for (const [label, functionArn, rules] of functions) {
    if (functionArn === undefined) continue;
    const arns = rules.map((name) => ruleArn(config, name));
    for (const read of await readFunctionPolicies(clients.lambda, functionArn, label, options)) {
      findings.push(...auditFunctionPolicy(read, arns));
    }
  }
  findings.push(...auditBusPolicy(await readBusPolicy(clients.events, config.eventBusArn, options)));
  return findings;
}
