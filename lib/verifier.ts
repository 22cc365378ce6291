/**
 * The least-privilege verifier: a function of its own that proves, on the live account, that the terminator's
 * roles can do exactly what they must and nothing more, and that only what the construct wired can invoke its
 * functions (lambda/verify/): it reads every policy of each role, the functions' and the bus's resource-based
 * policies, and asks IAM's SimulatePrincipalPolicy. It runs as a deployment trigger (a violation fails the
 * deployment, naming the statement), on demand, and optionally on a schedule.
 */
import { createHash } from 'node:crypto';
import { Aspects, Duration, Fn, Lazy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as triggers from 'aws-cdk-lib/triggers';
import { Construct, type IConstruct } from 'constructs';
import { ENV, METRICS_NAMESPACE } from './contract';
import { HANDLER_RUNTIME, verifierCode } from './handler-asset';
import { environmentSizeProblem } from './environment';
import { acknowledgeWildcardResource } from './nag';
import { writeOwnLogs } from './permissions';

/** How long one verification may take: IAM's throttling retries, and two waits for IAM to settle (30 s). */
const VERIFY_TIMEOUT = Duration.minutes(3);

/** Properties of {@link LeastPrivilegeVerifier}. */
export interface LeastPrivilegeVerifierProps {
  readonly domains: readonly string[];
  /** The terminating function, the one role-holder the state machine may invoke. */
  readonly handler: lambda.IFunction;
  readonly handlerRole: iam.Role;
  readonly controlRole: iam.Role;
  readonly stateMachineRole: iam.IRole;
  /** The control function, whose resource-based policy is read too. */
  readonly controlHandler: lambda.IFunction;
  readonly stateMachineArn: string;
  readonly deadLetterQueueArn: string;
  /** The bus requests are put on, whose policy is read. */
  readonly eventBus: events.IEventBus;
  /** The construct's rules that invoke each function: read at synth, after every policy was added. */
  readonly handlerRules: () => readonly events.IRule[];
  readonly controlRules: () => readonly events.IRule[];
  /** Where the role may cancel, and describe: read at synth, after every policy was added. */
  readonly cancelDomains: () => readonly string[];
  readonly describeDomains: () => readonly string[];
  /** The event policies' circuit breakers' table, if there is one: read at synth, after every policy. */
  readonly breakerTableArn: () => string | undefined;
  readonly logGroup: logs.ILogGroup;
  readonly serviceName: string;
  /** Run at every deployment that changes the roles' policies (or the verifier). */
  readonly onDeploy: boolean;
  /** Run on this schedule too. */
  readonly schedule?: events.Schedule;
  /** What must exist before the deploy-time run: the roles, their policies, the state machine. */
  readonly checkAfter: readonly IConstruct[];
  /**
   * Restore (allowRestore): its role is checked whole like the others, its function's resource-based policy
   * must grant nobody, and the state machine may invoke it. Undefined without restore.
   */
  readonly restore?: VerifiedRestore;
}

/** Restore's function and role, and the Lambda roles it may pass to SWF, as the verifier checks them. */
export interface VerifiedRestore {
  readonly role: iam.IRole;
  readonly function: lambda.IFunction;
  readonly lambdaRoles: readonly string[];
}

export class LeastPrivilegeVerifier extends Construct {
  public readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: LeastPrivilegeVerifierProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { restore } = props;
    const checkedRoles = [
      props.handlerRole,
      props.controlRole,
      props.stateMachineRole,
      ...(restore === undefined ? [] : [restore.role]),
    ];

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: "SWF terminator's least-privilege verifier: simulate the terminator's own roles only",
    });
    role.addToPrincipalPolicy(writeOwnLogs(props.logGroup.logGroupArn));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SimulateTheTerminatorsRoles',
        actions: ['iam:SimulatePrincipalPolicy'],
        resources: checkedRoles.map((r) => r.roleArn),
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadTheTerminatorsRoles',
        actions: ['iam:GetRole', 'iam:ListRolePolicies', 'iam:GetRolePolicy', 'iam:ListAttachedRolePolicies'],
        resources: checkedRoles.map((r) => r.roleArn),
      }),
    );
    // Any managed policy may be attached to a checked role (that is what the check is for): its document is
    // read wherever it is, the account's or AWS's. Reading a policy grants nothing.
    const managedPolicies = [
      `arn:${stack.partition}:iam::aws:policy/*`,
      `arn:${stack.partition}:iam::${stack.account}:policy/*`,
    ];
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadManagedPoliciesOfTheRoles',
        actions: ['iam:GetPolicy', 'iam:GetPolicyVersion'],
        resources: managedPolicies,
      }),
    );
    const functions = [
      props.handler.functionArn,
      props.controlHandler.functionArn,
      ...(restore === undefined ? [] : [restore.function.functionArn]),
    ];
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadWhoMayInvokeTheFunctions',
        actions: ['lambda:GetPolicy', 'lambda:ListVersionsByFunction', 'lambda:ListAliases'],
        resources: functions.flatMap((arn) => [arn, `${arn}:*`]),
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadWhoMayUseTheBus',
        actions: ['events:DescribeEventBus'],
        resources: [props.eventBus.eventBusArn],
      }),
    );
    for (const arn of managedPolicies) {
      acknowledgeWildcardResource(
        role,
        arn,
        'Reads (never writes) whichever managed policy is attached to a checked role.',
      );
    }
    for (const arn of functions) {
      acknowledgeWildcardResource(
        role,
        `${arn}:*`,
        "Reads the resource-based policies of the terminator's own functions' versions and aliases.",
      );
    }

    // What the verifier checks, as the handler's own configuration says it (lambda/verify/config.ts).
    const config = Lazy.string({
      produce: () =>
        stack.toJsonString({
          partition: stack.partition,
          region: stack.region,
          account: stack.account,
          domains: props.domains,
          handlerRoleArn: props.handlerRole.roleArn,
          controlRoleArn: props.controlRole.roleArn,
          stateMachineRoleArn: props.stateMachineRole.roleArn,
          handlerFunctionArn: props.handler.functionArn,
          controlFunctionArn: props.controlHandler.functionArn,
          cancelDomains: positionsIn(props.domains, props.cancelDomains()),
          describeDomains: positionsIn(props.domains, props.describeDomains()),
          logGroupArn: props.logGroup.logGroupArn,
          stateMachineArn: props.stateMachineArn,
          deadLetterQueueArn: props.deadLetterQueueArn,
          ...(props.breakerTableArn() === undefined ? {} : { breakerTableArn: props.breakerTableArn() }),
          eventBusArn: props.eventBus.eventBusArn,
          handlerRules: props.handlerRules().map(ruleName),
          controlRules: props.controlRules().map(ruleName),
          ...(restore === undefined
            ? {}
            : {
                restore: {
                  roleArn: restore.role.roleArn,
                  functionArn: restore.function.functionArn,
                  lambdaRoles: restore.lambdaRoles,
                },
              }),
        }),
    });
    const environment = {
      [ENV.verifyConfig]: config,
      // A change to any checked role's policies changes the function, and so re-runs the deploy-time check.
      POLICY_FINGERPRINT: Lazy.string({ produce: () => policyFingerprint(stack, checkedRoles) }),
      POWERTOOLS_SERVICE_NAME: props.serviceName,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      NODE_OPTIONS: '--enable-source-maps',
    };
    // Checked once the app is complete: each policy added after the constructor adds its rules.
    this.node.addValidation({
      validate: () => {
        const problem = environmentSizeProblem(this, environment, 'verifier');
        return problem === undefined ? [] : [`SwfTerminator: ${problem}`];
      },
    });
    this.function = new lambda.Function(this, 'Function', {
      code: verifierCode(),
      handler: 'index.handler',
      runtime: HANDLER_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: VERIFY_TIMEOUT,
      role,
      logGroup: props.logGroup,
      environment,
      description:
        "Proves the SWF terminator's roles can do what they must and nothing more, and who may invoke it",
      // A failed scheduled run counts once in VerificationFailed; Lambda's retries would count it again.
      retryAttempts: 0,
    });

    if (props.onDeploy) {
      const trigger = new triggers.Trigger(this, 'OnDeploy', {
        handler: this.function,
        // Restore's role and function are read too: they must exist before the check runs.
        executeAfter: [
          ...props.checkAfter,
          ...(restore === undefined ? [] : [restore.role, restore.function]),
        ],
        timeout: VERIFY_TIMEOUT,
      });
      // Policies the app attaches to a checked role (before or after this constructor) must exist before the
      // check runs, or a first deployment could pass without them: found when the app is complete.
      Aspects.of(stack).add({
        visit: (node) => {
          const policy = attachedTo(stack, node, checkedRoles);
          if (policy !== undefined) trigger.executeAfter(policy);
        },
      });
    }
    if (props.schedule !== undefined) {
      new events.Rule(this, 'Schedule', {
        schedule: props.schedule,
        description: "Re-checks the SWF terminator's roles against least privilege (drift after deployment)",
        targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0 })],
      });
    }
  }
}

/**
 * A rule's ARN after `rule/` (`[BUS/]NAME`): what the verifier's configuration keeps of it, to stay within a
 * function's 4 KB of environment with many policies (lambda/verify/config.ts).
 */
function ruleName(rule: events.IRule): string {
  return Fn.select(1, Fn.split(':rule/', rule.ruleArn));
}

/**
 * A digest of everything that grants the checked roles permissions, as synthesized: each role's own managed
 * policy ARNs, inline policies and permissions boundary, and every policy of the stack attached to it (its
 * default policy, any the app adds, the documents of managed policies of the stack it names). It changes exactly when one of them does. (Tokens resolve to the same
 * intrinsics every synth, so the digest is stable.)
 */
function policyFingerprint(stack: Stack, roles: readonly iam.IRole[]): string {
  const own = roles.map((role): unknown => {
    const cfn = role.node.defaultChild;
    if (!(cfn instanceof iam.CfnRole)) return null;
    return stack.resolve({
      managed: cfn.managedPolicyArns,
      inline: cfn.policies,
      boundary: cfn.permissionsBoundary,
    }) as unknown;
  });
  const attached = stack.node
    .findAll()
    .map((node) => attachedTo(stack, node, roles))
    .filter((policy) => policy !== undefined)
    .map((policy) => ({ path: policy.node.path, document: stack.resolve(documentOf(policy)) as unknown }));
  return createHash('sha256').update(JSON.stringify({ own, attached })).digest('hex').slice(0, 32);
}

/** A policy resource that grants a role permissions: a policy, a managed policy, or a role's own policy. */
type PolicyResource = iam.CfnPolicy | iam.CfnManagedPolicy | iam.CfnRolePolicy;

/**
 * The policy resource `node` is, when it grants one of `roles` permissions: an AWS::IAM::Policy or
 * AWS::IAM::ManagedPolicy that lists the role, a managed policy of the stack the role names in its
 * ManagedPolicyArns, or an AWS::IAM::RolePolicy of the role. Else undefined.
 */
function attachedTo(stack: Stack, node: IConstruct, roles: readonly iam.IRole[]): PolicyResource | undefined {
  const json = (value: unknown) => JSON.stringify(stack.resolve(value) ?? null);
  const names = roles.map((role) => json(role.roleName));
  const named = (value: unknown) => names.some((name) => json(value).includes(name));
  if (node instanceof iam.CfnRolePolicy) return named(node.roleName) ? node : undefined;
  if (!(node instanceof iam.CfnPolicy) && !(node instanceof iam.CfnManagedPolicy)) return undefined;
  if (named(node.roles ?? [])) return node;
  if (node instanceof iam.CfnManagedPolicy) {
    // Attached from the role's side (role.addManagedPolicy): the role lists the policy's ARN (its Ref).
    const ref = json({ Ref: stack.getLogicalId(node) });
    const byRole = roles.some((role) => {
      const cfn = role.node.defaultChild;
      return cfn instanceof iam.CfnRole && json(cfn.managedPolicyArns ?? []).includes(ref);
    });
    if (byRole) return node;
  }
  return undefined;
}

function documentOf(policy: PolicyResource): unknown {
  return policy.policyDocument;
}

/**
 * Where each of `some` stands in `domains`: the verifier's configuration names a domain once, by position
 * elsewhere (lambda/verify/config.ts). A policy's domain is one of the terminator's (validated by the
 * construct), so every name is found.
 */
function positionsIn(domains: readonly string[], some: readonly string[]): number[] {
  return some.map((domain) => {
    const position = domains.indexOf(domain);
    if (position < 0) throw new Error(`SwfTerminator: ${domain} is not one of the terminator's domains`);
    return position;
  });
}
