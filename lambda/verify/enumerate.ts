/**
 * The verifier's enumeration: every policy that applies to each of the terminator's roles, read whole and judged
 * against what the construct grants it (lib/role-grants.ts), and every resource-based policy that says who may
 * make the terminator act (its functions', their versions' and aliases', its request bus's). Reads one after
 * the other: IAM's and Lambda's control-plane quotas are shared with everything else in the account.
 */
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import {
  restoreGrants,
  RESTORE_TRUSTED_SERVICE,
  type RoleGrant,
  roleGrants,
  TRUSTED_SERVICE,
} from '../../lib/role-grants';
import { auditBusPolicy, auditFunctionPolicy, auditRestoreFunctionPolicy } from './audit-invokers';
import { auditRole } from './audit-roles';
import type { VerifiedRole, VerifyConfig } from './checks';
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

/**
 * Every finding: the roles' policies and trusts, then the functions', restore's function's and the bus's
 * policies. With restore, the state machine's role may invoke the restore function too (roleGrants reads
 * `config.restore`), and restore's role may hold restore's grants only (restoreGrants).
 */
export async function enumerate(
  clients: EnumerationClients,
  config: VerifyConfig,
  options: ReadOptions = {},
): Promise<Finding[]> {
  const grants = roleGrants(config);
  const { restore } = config;
  const findings: Finding[] = [];
  const roles: (readonly [VerifiedRole, string | undefined, readonly RoleGrant[], string])[] = [
    ['handler', config.handlerRoleArn, grants.handler, TRUSTED_SERVICE.handler],
    ['control', config.controlRoleArn, grants.control, TRUSTED_SERVICE.control],
    ['stateMachine', config.stateMachineRoleArn, grants.stateMachine, TRUSTED_SERVICE.stateMachine],
    ...(restore === undefined
      ? []
      : [
          [
            'restore',
            restore.roleArn,
            restoreGrants(config, restore.lambdaRoles),
            RESTORE_TRUSTED_SERVICE,
          ] as const,
        ]),
  ];
  for (const [kind, roleArn, granted, service] of roles) {
    if (roleArn === undefined) continue;
    const role = await readRole(clients.iam, roleArn, options);
    findings.push(...auditRole(kind, role, granted, service));
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
  if (restore !== undefined) {
    const reads = await readFunctionPolicies(
      clients.lambda,
      restore.functionArn,
      'the restore function',
      options,
    );
    for (const read of reads) findings.push(...auditRestoreFunctionPolicy(read));
  }
  findings.push(...auditBusPolicy(await readBusPolicy(clients.events, config.eventBusArn, options)));
  return findings;
}
