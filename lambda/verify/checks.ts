/**
 * The least-privilege checks of one deployment: for each of the terminator's roles, which action on which
 * resource IAM must allow, and which it must deny. Pure: builds a list from the configuration; nothing here
 * calls AWS (lambda/verify/simulate.ts asks IAM, lambda/verify/report.ts compares).
 *
 * Denied checks probe where a grant would most likely leak: a domain nobody chose (a canary), names one
 * character or one suffix away from each chosen domain (what a stray wildcard would reach), the chosen domain
 * in another region, every other SWF action, everything on `*`, and actions no role of the terminator needs.
 * Resources are literal ARNs, never patterns: a domain named `ord*` is checked as the ARN ending `ord*`
 * (the grant writes it `ord${*}`, docs/facts.md "IAM for SWF").
 */
import {
  CANCEL_ACTION,
  DESCRIBE_ACTION,
  type GrantedResources,
  INVOKE_ACTION,
  PASS_ROLE_ACTION,
  RESTORE_ACTIONS,
  type RoleKind,
  TERMINATE_ACTIONS,
} from '../../lib/role-grants';
import { highRiskDenials } from './risk-probes';
import { ALL_SWF_ACTIONS, DOMAIN_SWF_ACTIONS, SWF_WRITE_ACTIONS } from './swf-actions';

/** Restore, when the construct has it (allowRestore): its role, its function, the Lambda roles it may pass. */
export interface RestoreTarget {
  /** The restore function's role: audited, simulated and probed like the others. */
  readonly roleArn: string;
  /** The restore function: the state machine may invoke it; its resource-based policy must grant nobody. */
  readonly functionArn: string;
  /** The roles restore may pass to SWF (`restoreLambdaRoles`), and no other. */
  readonly lambdaRoles: readonly string[];
}

/**
 * What the verifier checks, as the construct deployed it: the resources its roles are granted
 * (lib/role-grants.ts), the roles, and who may invoke its functions.
 */
export interface VerifyConfig extends GrantedResources {
  /** The terminating function's role. */
  readonly handlerRoleArn: string;
  /** The control function's role (no SWF at all). */
  readonly controlRoleArn?: string;
  /** The state machine's role (it may only invoke the handler). */
  readonly stateMachineRoleArn?: string;
  /** The control function, whose resource-based policy is read with the terminating function's. */
  readonly controlFunctionArn?: string;
  /** The bus requests are put on, whose policy is read. */
  readonly eventBusArn: string;
  /**
   * The construct's rules that invoke the terminating function (requests, policies' runs), each as its ARN's
   * name after `rule/` (`[BUS/]NAME`): the only principals its resource-based policy may let in.
   */
  readonly handlerRules: readonly string[];
  /** Likewise, the rules that invoke the control function. */
  readonly controlRules: readonly string[];
  /** Restore's role, function and Lambda roles (only with allowRestore): its grants are restoreGrants. */
  readonly restore?: RestoreTarget;
}

export type { RoleKind };
/** The roles the verifier checks: the construct's three, and restore's (allowRestore). */
export type VerifiedRole = RoleKind | 'restore';
export type Expectation = 'allowed' | 'denied';

/**
 * Condition keys a check asks with (`ContextEntries`): restore's iam:PassRole is granted only when the role is
 * passed to SWF, so each of its PassRole questions says which service the role is passed to.
 */
export type CheckContext = Readonly<Record<string, string>>;

/** One question for IAM: may this role take this action on this resource? */
export interface Check {
  readonly role: VerifiedRole;
  readonly roleArn: string;
  readonly action: string;
  /** A literal ARN, or `*`. */
  readonly resource: string;
  readonly expected: Expectation;
  /** Why the answer must be `expected`, for a reader of a failure. */
  readonly why: string;
  /** The request's condition keys, when it needs any (see {@link CheckContext}); none by default. */
  readonly context?: CheckContext;
}

/** The condition key restore's iam:PassRole grant is bound by, and the one service it may pass roles to. */
export const PASSED_TO_SERVICE_KEY = 'iam:PassedToService';
export const RESTORE_PASSES_TO = 'swf.amazonaws.com';
/** Another service a role could be passed to: passing restore's Lambda roles to it must be denied. */
export const OTHER_PASSED_TO = 'lambda.amazonaws.com';

/** The name of things that exist nowhere in the terminator, used as "somewhere else" by denied checks. */
export const CANARY_NAME = 'swf-terminator-verify-canary';

/** Actions no role of the terminator needs on anything but its own resources (see {@link commonDenials}). */
export const FOREIGN_ACTIONS: readonly string[] = [
  'iam:PassRole',
  'sts:AssumeRole',
  's3:GetObject',
  'lambda:InvokeFunction',
];

/** Adds a check for one role (with the request's condition keys, when given). */
type Add = (
  action: string,
  resource: string,
  expected: Expectation,
  why: string,
  context?: CheckContext,
) => void;

/** A domain's ARN with a region (SWF's Developer Guide and events), literal. */
function regionalArn(config: VerifyConfig, domain: string, region = config.region): string {
  return `arn:${config.partition}:swf:${region}:${config.account}:/domain/${domain}`;
}

/** Both ARN forms of a domain that SWF publishes (lib/permissions.ts), literal, with a label each. */
export function domainArns(config: VerifyConfig, domain: string): [string, string][] {
  return [
    [regionalArn(config, domain), 'regional ARN'],
    [`arn:${config.partition}:swf::${config.account}:/domain/${domain}`, 'ARN without region'],
  ];
}

/**
 * Names a stray wildcard or prefix grant would reach along with `domain`: one more character, one fewer, a
 * path under it, a suffix. Names that are themselves chosen are left out (they are allowed, rightly).
 */
export function lookAlikes(domain: string, chosen: readonly string[]): { name: string; how: string }[] {
  const candidates = [
    { name: `${domain}2`, how: 'one more character' },
    { name: domain.slice(0, -1), how: 'one character fewer' },
    { name: `${domain}/x`, how: 'a path under it' },
    { name: `${domain}-prod`, how: 'a suffix' },
  ];
  return candidates.filter(({ name }) => name !== '' && !chosen.includes(name));
}

/** A domain name that is not chosen, nor a look-alike of one. */
function canaryDomain(chosen: readonly string[]): string {
  const taken = new Set(chosen.flatMap((d) => [d, ...lookAlikes(d, []).map((l) => l.name)]));
  let name = CANARY_NAME;
  while (taken.has(name)) name += '-x';
  return name;
}

/** Why an SWF action on a chosen domain is granted to the handler, or undefined when it must not be. */
function grantedBecause(config: VerifyConfig, action: string, domain: string): string | undefined {
  if (TERMINATE_ACTIONS.includes(action)) return 'the terminating function terminates, lists and counts here';
  if (action === CANCEL_ACTION && config.cancelDomains.includes(domain)) return 'cancelling is chosen here';
  if (action === DESCRIBE_ACTION && config.describeDomains.includes(domain))
    return 'describing is chosen here';
  return undefined;
}

function notGrantedBecause(action: string): string {
  if (action === CANCEL_ACTION) return 'granted only where cancelling is chosen, and it is not chosen here';
  if (action === DESCRIBE_ACTION) return 'granted only where describing is chosen, and it is not chosen here';
  return SWF_WRITE_ACTIONS.includes(action)
    ? 'an SWF write action the terminator never takes'
    : 'an SWF read action the terminator never needs';
}

/** What every role must be denied: any SWF action on `*`, and foreign actions on `*` and on a canary. */
function commonDenials(add: Add, config: VerifyConfig): void {
  const { partition, region, account } = config;
  const foreign = (what: string) => `a ${what} the terminator has nothing to do with`;
  const canaryRole = `arn:${partition}:iam::${account}:role/${CANARY_NAME}`;
  const denied: (readonly [string, string, string])[] = [
    ...ALL_SWF_ACTIONS.map((action) => [action, '*', 'an SWF action on every resource, "*"'] as const),
    ...FOREIGN_ACTIONS.map(
      (action) =>
        [action, '*', `${action} on every resource, "*": no role of the terminator needs it`] as const,
    ),
    ['iam:PassRole', canaryRole, foreign('role')],
    ['sts:AssumeRole', canaryRole, foreign('role')],
    ['s3:GetObject', `arn:${partition}:s3:::${CANARY_NAME}/any-key`, foreign('object')],
    [
      'lambda:InvokeFunction',
      `arn:${partition}:lambda:${region}:${account}:function:${CANARY_NAME}`,
      foreign('function'),
    ],
  ];
  for (const [action, resource, why] of denied) add(action, resource, 'denied', why);
}

/** Every SWF action on each chosen domain, denied: for a role that has no SWF permission at all. */
function noSwfOnChosenDomains(add: Add, config: VerifyConfig, why: string): void {
  for (const domain of config.domains) {
    for (const [resource, form] of domainArns(config, domain)) {
      for (const action of DOMAIN_SWF_ACTIONS) {
        add(action, resource, 'denied', `${why}; chosen domain "${domain}", ${form}`);
      }
    }
  }
}

/**
 * Where no role may take an SWF action: a domain nobody chose (a canary), each chosen domain's look-alikes, and
 * each chosen domain in another region; each with why, for a reader of a failure.
 */
function elsewhere(config: VerifyConfig): [string, string][] {
  const out: [string, string][] = [];
  const canary = canaryDomain(config.domains);
  for (const [resource, form] of domainArns(config, canary)) {
    out.push([resource, `"${canary}", a domain that was not chosen; ${form}`]);
  }
  const otherRegion = config.region === 'us-east-1' ? 'us-west-2' : 'us-east-1';
  for (const domain of config.domains) {
    for (const { name, how } of lookAlikes(domain, config.domains)) {
      for (const [resource, form] of domainArns(config, name)) {
        out.push([resource, `"${name}", a look-alike of chosen domain "${domain}" with ${how}; ${form}`]);
      }
    }
    const inOtherRegion = regionalArn(config, domain, otherRegion);
    out.push([inOtherRegion, `chosen domain "${domain}" in another region, ${otherRegion}`]);
  }
  return out;
}

/** The terminating function's role: its SWF actions on the chosen domains, nothing anywhere else. */
function handlerChecks(add: Add, config: VerifyConfig): void {
  for (const domain of config.domains) {
    for (const [resource, form] of domainArns(config, domain)) {
      for (const action of DOMAIN_SWF_ACTIONS) {
        const granted = grantedBecause(config, action, domain);
        const why = `${granted ?? notGrantedBecause(action)}; chosen domain "${domain}", ${form}`;
        add(action, resource, granted === undefined ? 'denied' : 'allowed', why);
      }
    }
  }
  for (const [resource, why] of elsewhere(config)) {
    for (const action of [...TERMINATE_ACTIONS, CANCEL_ACTION, DESCRIBE_ACTION])
      add(action, resource, 'denied', why);
  }
  commonDenials(add, config);
  const why = "no function may invoke a function, so Lambda's recursive-loop detection stays on";
  add(INVOKE_ACTION, config.handlerFunctionArn, 'denied', why);
}

/** The request of a role passed to `service`. */
const passedTo = (service: string): CheckContext => ({ [PASSED_TO_SERVICE_KEY]: service });

/**
 * Restore's role (allowRestore): restore's SWF actions on the chosen domains and no other SWF action there
 * (it terminates nothing), nothing anywhere else; the Lambda roles restored runs name passed to SWF, no other
 * role, and to no other service. Its iam:PassRole questions are asked as passing to SWF, where its
 * conditioned grant applies: that is where a wider grant would show.
 */
function restoreChecks(add: Add, config: VerifyConfig, restore: RestoreTarget): void {
  const toSwf = passedTo(RESTORE_PASSES_TO);
  const ask: Add = (action, resource, expected, why, context) => {
    add(action, resource, expected, why, context ?? (action === PASS_ROLE_ACTION ? toSwf : undefined));
  };
  for (const domain of config.domains) {
    for (const [resource, form] of domainArns(config, domain)) {
      for (const action of DOMAIN_SWF_ACTIONS) {
        const granted = RESTORE_ACTIONS.includes(action);
        const why = granted
          ? 'restore finds terminated runs, reads their history and starts them again here'
          : action === 'swf:TerminateWorkflowExecution'
            ? 'restore starts runs again, it never terminates one'
            : SWF_WRITE_ACTIONS.includes(action)
              ? 'an SWF write action restore never takes'
              : 'an SWF read action restore never needs';
        ask(action, resource, granted ? 'allowed' : 'denied', `${why}; chosen domain "${domain}", ${form}`);
      }
    }
  }
  for (const [resource, why] of elsewhere(config)) {
    for (const action of RESTORE_ACTIONS) ask(action, resource, 'denied', why);
  }
  for (const lambdaRole of restore.lambdaRoles) {
    ask(
      PASS_ROLE_ACTION,
      lambdaRole,
      'allowed',
      'a restored run names it as its Lambda role (restoreLambdaRoles)',
    );
    ask(
      PASS_ROLE_ACTION,
      lambdaRole,
      'denied',
      `restore passes it to SWF (${RESTORE_PASSES_TO}) only, never to ${OTHER_PASSED_TO}`,
      passedTo(OTHER_PASSED_TO),
    );
  }
  const own = [config.handlerRoleArn, config.controlRoleArn, config.stateMachineRoleArn, restore.roleArn];
  for (const roleArn of own) {
    if (roleArn === undefined || restore.lambdaRoles.includes(roleArn)) continue;
    ask(
      PASS_ROLE_ACTION,
      roleArn,
      'denied',
      "one of the terminator's own roles: restore passes none of them",
    );
  }
  commonDenials(ask, config);
  const why = "no function may invoke a function, so Lambda's recursive-loop detection stays on";
  ask(INVOKE_ACTION, config.handlerFunctionArn, 'denied', why);
  ask(INVOKE_ACTION, restore.functionArn, 'denied', why);
}

/**
 * Every check for `config`, handler's first, then the control function's, the state machine's and restore's
 * (those whose role is given). Each (role, action, resource, context) appears once.
 */
export function buildChecks(config: VerifyConfig): Check[] {
  const checks: Check[] = [];
  const seen = new Set<string>();
  const forRole =
    (role: VerifiedRole, roleArn: string): Add =>
    (action, resource, expected, why, context) => {
      const key = `${roleArn}\n${action}\n${resource}\n${contextKey(context)}`;
      if (seen.has(key)) return; // first reason wins: a canary can also be another domain's look-alike
      seen.add(key);
      checks.push({
        role,
        roleArn,
        action,
        resource,
        expected,
        why,
        ...(context === undefined ? {} : { context }),
      });
    };

  handlerChecks(forRole('handler', config.handlerRoleArn), config);
  const { controlRoleArn, stateMachineRoleArn, handlerFunctionArn, restore } = config;
  if (controlRoleArn !== undefined) {
    const add = forRole('control', controlRoleArn);
    noSwfOnChosenDomains(add, config, 'the control function has no SWF permission');
    commonDenials(add, config);
    add(INVOKE_ACTION, handlerFunctionArn, 'denied', 'the control function never invokes the handler');
  }
  if (stateMachineRoleArn !== undefined) {
    const add = forRole('stateMachine', stateMachineRoleArn);
    add(INVOKE_ACTION, handlerFunctionArn, 'allowed', "the state machine runs a job's chunks on it");
    if (restore !== undefined) {
      add(
        INVOKE_ACTION,
        restore.functionArn,
        'allowed',
        "the state machine runs a restore job's chunks on it",
      );
    }
    noSwfOnChosenDomains(add, config, 'the state machine only invokes the terminating function');
    commonDenials(add, config);
  }
  if (restore !== undefined) {
    restoreChecks(forRole('restore', restore.roleArn), config, restore);
    // Only restore starts runs, and passes their Lambda roles, and only the state machine invokes it.
    for (const [role, roleArn] of [
      ['handler', config.handlerRoleArn],
      ['control', controlRoleArn],
      ['stateMachine', stateMachineRoleArn],
    ] as const) {
      if (roleArn === undefined) continue;
      const add = forRole(role, roleArn);
      for (const lambdaRole of restore.lambdaRoles) {
        add(
          PASS_ROLE_ACTION,
          lambdaRole,
          'denied',
          'only restore passes the Lambda roles restored runs name',
        );
      }
      if (role !== 'stateMachine') {
        add(
          INVOKE_ACTION,
          restore.functionArn,
          'denied',
          'only the state machine invokes the restore function',
        );
      }
    }
  }
  for (const [role, roleArn] of [
    ['handler', config.handlerRoleArn],
    ['control', controlRoleArn],
    ['stateMachine', stateMachineRoleArn],
    ['restore', restore?.roleArn],
  ] as const) {
    if (roleArn === undefined) continue;
    const add = forRole(role, roleArn);
    const deny = (action: string, resource: string, why: string) => {
      add(action, resource, 'denied', why);
    };
    highRiskDenials(deny, {
      roleArn,
      logGroupArn: config.logGroupArn,
      stateMachineArn: config.stateMachineArn,
      deadLetterQueueArn: config.deadLetterQueueArn,
      functionArns: [
        handlerFunctionArn,
        ...(config.controlFunctionArn === undefined ? [] : [config.controlFunctionArn]),
        ...(restore === undefined ? [] : [restore.functionArn]),
      ],
      otherStateMachineArn: `arn:${config.partition}:states:${config.region}:${config.account}:stateMachine:${CANARY_NAME}`,
    });
  }
  return checks;
}

/** A check's condition keys as one string (sorted), '' for none: part of what makes a question the same. */
export function contextKey(context: CheckContext | undefined): string {
  if (context === undefined) return '';
  return JSON.stringify(Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
