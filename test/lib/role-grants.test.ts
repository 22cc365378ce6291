/**
 * The table of what each role is granted (lib/role-grants.ts) against what the construct synthesizes, in both
 * directions and in several shapes of deployment: every statement the construct writes lies inside the table (so
 * a clean deployment passes the verifier's enumeration), and every grant of the table is written by the construct
 * (so the table is no looser than the roles, and the enumeration refuses anything more).
 */
import * as events from 'aws-cdk-lib/aws-events';
import { Duration, Stack } from 'aws-cdk-lib';
import { roleGrants, TRUSTED_SERVICE } from '../../lib/role-grants';
import type { SwfTerminator, SwfTerminatorProps } from '../../lib';
import { auditRole } from '../../lambda/verify/audit-roles';
import { parseVerifyConfig } from '../../lambda/verify/config';
import { readDocument } from '../../lambda/verify/policy-document';
import { ENV } from '../support/iam-simulation';
import { addContractPolicies } from '../support/policy-helpers';
import { checkedRoles, synthConcrete, verifierEnvironment } from '../support/verifier-helpers';

type Shape = [string, (t: SwfTerminator) => void, Partial<SwfTerminatorProps>];
const SHAPES: Shape[] = [
  ['no policy', () => undefined, {}],
  ["the contract's three policies", addContractPolicies, {}],
  ['allowCancelRequests', () => undefined, { allowCancelRequests: true }],
  ['domains named with *, ? and $', () => undefined, { domains: ['ord*', 'a?c', 'x$y'] }],
  [
    'a verification schedule',
    () => undefined,
    { verificationSchedule: events.Schedule.rate(Duration.hours(1)) },
  ],
];

/** The synthesized roles of a shape, with their policies read as the verifier reads them, and its configuration. */
function synthesized(add: Shape[1], props: Shape[2]) {
  const { template } = synthConcrete(add, props);
  const config = parseVerifyConfig(verifierEnvironment(template, ENV));
  const roles = checkedRoles(template, ENV).map((role) => ({
    ...role,
    read: {
      roleArn: role.arn,
      trust: readDocument(JSON.stringify(role.trust)),
      policies: role.policies.map((p) => ({
        policy: `policy "${p.name}"`,
        document: readDocument(JSON.stringify(p.document)),
      })),
    },
  }));
  return { config, roles };
}

describe.each(SHAPES)('%s', (_what, add, props) => {
  const { config, roles } = synthesized(add, props);
  const grants = roleGrants(config);

  test.each(roles.map((r) => [r.kind, r] as const))(
    'the %s role: every statement the construct writes, and its trust, are inside the table',
    (kind, role) => {
      expect(auditRole(kind, role.read, grants[kind], TRUSTED_SERVICE[kind])).toEqual([]);
    },
  );

  test.each(roles.map((r) => [r.kind, r] as const))(
    'the %s role: every grant of the table is written, action by action and resource by resource',
    (kind, role) => {
      const written = new Set(
        role.read.policies.flatMap(({ document }) =>
          document.ok
            ? document.statements
                .filter((s) => s.effect === 'Allow')
                .flatMap((s) => (s.actions ?? []).flatMap((a) => (s.resources ?? []).map((r) => `${a} ${r}`)))
            : [],
        ),
      );
      const table = grants[kind].flatMap((g) =>
        g.actions.flatMap((a) => g.resources.map((r) => `${a} ${r}`)),
      );
      expect(table.filter((pair) => !written.has(pair))).toEqual([]);
    },
  );
});

test("a bus of the app: the configuration names it, and it has no policy of the construct's", () => {
  // GIVEN a terminator on the app's bus
  const bus = `arn:aws:events:${ENV.region}:${ENV.account}:event-bus/orders-bus`;
  const { template } = synthConcrete(() => undefined, {
    eventBus: events.EventBus.fromEventBusArn(new Stack(), 'Bus', bus),
  });

  // THEN
  expect(parseVerifyConfig(verifierEnvironment(template, ENV)).eventBusArn).toBe(bus);
  expect(template.findResources('AWS::Events::EventBusPolicy')).toEqual({});
});
