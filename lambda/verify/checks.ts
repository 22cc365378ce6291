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
  type RoleKind,
  TERMINATE_ACTIONS,
} from '../../lib/role-grants';
import { highRiskDenials } from './risk-probes';
import { ALL_SWF_ACTIONS, DOMAIN_SWF_ACTIONS, SWF_WRITE_ACTIONS } from './swf-actions';

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
}

export type { RoleKind };
export type Expectation = 'allowed' | 'denied';

/** One question for IAM: may this role take this action on this resource? */
export interface Check {
  readonly role: RoleKind;
  readonly roleArn: string;
  readonly action: string;
  /** A literal ARN, or `*`. */
  readonly resource: string;
  readonly expected: Expectation;
  /** Why the answer must be `expected`, for a reader of a failure. */
  readonly why: string;
}

/** The name of things that exist nowhere in the terminator, used as "somewhere else" by denied checks. */
export const CANARY_NAME = 'swf-terminator-verify-canary';

/** Actions no role of the terminator needs on anything but its own resources (see {@link commonDenials}). */
export const FOREIGN_ACTIONS: readonly string[] = [
  'iam:PassRole',
  'sts:AssumeRole',
  's3:GetObject',
  'lambda:InvokeFunction',
];

/** Adds a check for one role. */
type Add = (action: string, resource: string, expected: Expectation, why: string) => void;

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
  const elsewhere: [string, string][] = [];
  const canary = canaryDomain(config.domains);
  for (const [resource, form] of domainArns(config, canary)) {
    elsewhere.push([resource, `"${canary}", a domain that was not chosen; ${form}`]);
  }
  const otherRegion = config.region === 'us-east-1' ? 'us-west-2' : 'us-east-1';
  for (const domain of config.domains) {
    for (const { name, how } of lookAlikes(domain, config.domains)) {
      for (const [resource, form] of domainArns(config, name)) {
        elsewhere.push([
          resource,
          `"${name}", a look-alike of chosen domain "${domain}" with ${how}; ${form}`,
        ]);
      }
    }
    const inOtherRegion = regionalArn(config, domain, otherRegion);
    elsewhere.push([inOtherRegion, `chosen domain "${domain}" in another region, ${otherRegion}`]);
  }
  for (const [resource, why] of elsewhere) {
    for (const action of [...TERMINATE_ACTIONS, CANCEL_ACTION, DESCRIBE_ACTION])
      add(action, resource, 'denied', why);
  }
  commonDenials(add, config);
  const why = "no function may invoke a function, so Lambda's recursive-loop detection stays on";
  add('lambda:InvokeFunction', config.handlerFunctionArn, 'denied', why);
}

/**
 * Every check for `config`, handler's first, then the control function's and the state machine's (those
 * whose role is given). Each (role, action, resource) appears once.
 */
export function buildChecks(config: VerifyConfig): Check[] {
  const checks: Check[] = [];
  const seen = new Set<string>();
  const forRole =
    (role: RoleKind, roleArn: string): Add =>
    (action, resource, expected, why) => {
      const key = `${roleArn}\n${action}\n${resource}`;
      if (seen.has(key)) return; // first reason wins: a canary can also be another domain's look-alike
      seen.add(key);
      checks.push({ role, roleArn, action, resource, expected, why });
    };

  handlerChecks(forRole('handler', config.handlerRoleArn), config);
  const { controlRoleArn, stateMachineRoleArn, handlerFunctionArn } = config;
  if (controlRoleArn !== undefined) {
    const add = forRole('control', controlRoleArn);
    noSwfOnChosenDomains(add, config, 'the control function has no SWF permission');
    commonDenials(add, config);
    add(
      'lambda:InvokeFunction',
      handlerFunctionArn,
      'denied',
      'the control function never invokes the handler',
    );
  }
  if (stateMachineRoleArn !== undefined) {
    const add = forRole('stateMachine', stateMachineRoleArn);
    add(
      'lambda:InvokeFunction',
      handlerFunctionArn,
      'allowed',
      "the state machine runs a job's chunks on it",
    );
    noSwfOnChosenDomains(add, config, 'the state machine only invokes the terminating function');
    commonDenials(add, config);
  }
  for (const [role, roleArn] of [
    ['handler', config.handlerRoleArn],
    ['control', controlRoleArn],
    ['stateMachine', stateMachineRoleArn],
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
      ],
      otherStateMachineArn: `arn:${config.partition}:states:${config.region}:${config.account}:stateMachine:${CANARY_NAME}`,
    });
  }
  return checks;
}
