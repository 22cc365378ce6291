/**
 * The least-privilege verifier end to end, from the synthesized template to the bundle the package ships
 * (assets/verifier/index.js): a terminator with the three policies is synthesized in a concrete
 * account and region; the deployment is loaded into local fakes that speak the wire protocols of IAM (the
 * roles, their policies and trusts, and SimulatePrincipalPolicy), Lambda (each function's resource-based policy)
 * and EventBridge (the request bus); and the bundled verifier, run in a child process with the environment the
 * template gives it (VERIFY_CONFIG resolved) and the standard endpoint variables pointing at the fakes, reads
 * and asks them as the deployment trigger would ask AWS: the deployment as synthesized passes; a statement too
 * many, added in the app or attached by hand afterwards, fails the invocation (and with it the deployment),
 * naming the statement and the checks.
 *
 * A run that fails is checked again after the settle waits (10 s and 20 s, IAM being eventually consistent),
 * and the bundle has no setting for them. To keep the failing case fast, its child process shortens exactly
 * those waits (the values the bundle exports as SETTLE_DELAYS_MS) to nothing and records them: the bundled
 * handler still runs its three attempts as deployed, without the half minute.
 *
 * Needs the bundle (`npm run build`); nothing is rebuilt here.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Template } from 'aws-cdk-lib/assertions';
import { buildChecks, CANARY_NAME } from '../../lambda/verify/checks';
import { parseVerifyConfig } from '../../lambda/verify/config';
import type { VerifyReport } from '../../lambda/verify/report';
import { planCalls } from '../../lambda/verify/simulate';
import type { SwfTerminator } from '../../lib';
import { VERIFIER_ASSET_DIR } from '../../lib/handler-asset';
import type { FakePolicy } from '../support/fake-iam';
import { ENV } from '../support/iam-simulation';
import { addContractPolicies } from '../support/policy-helpers';
import {
  checkedRoles,
  loadDeployment,
  synthConcrete,
  verifierEnvironment,
} from '../support/verifier-helpers';
import { startVerifierFakes, type VerifierFakes } from '../support/verify-fixtures';

const run = promisify(execFile);
const BUNDLE = path.join(VERIFIER_ASSET_DIR, 'index.js');

const MARK = '@@verifier-e2e-result@@';
/**
 * Runs in the child: requires the bundle (argv[1]) and invokes its handler as Lambda would; prints the outcome
 * after {@link MARK}, and exits non-zero when the invocation failed (as a failed Lambda invocation fails the
 * deployment's trigger). With argv[2] = 'fast-settle', the bundle's settle waits are shortened to nothing
 * (only timers of exactly those lengths) and reported as `settleWaits`.
 */
const INVOKE = `const bundle = require(process.argv[1]);
const settleWaits = [];
if (process.argv[2] === 'fast-settle') {
  const realSetTimeout = globalThis.setTimeout;
  globalThis.setTimeout = (fn, ms, ...args) => {
    if (bundle.SETTLE_DELAYS_MS.includes(ms)) {
      settleWaits.push(ms);
      return realSetTimeout(fn, 0, ...args);
    }
    return realSetTimeout(fn, ms, ...args);
  };
}
const print = (outcome) => process.stdout.write('\\n${MARK}' + JSON.stringify({ ...outcome, settleWaits }) + '\\n');
bundle.handler({}, { awsRequestId: 'verifier-e2e-invocation' }).then(
  (report) => print({ report }),
  (error) => {
    print({ error: { name: error && error.name, message: String(error && error.message) } });
    process.exitCode = 1;
  },
)`;

interface Outcome {
  readonly exitCode: number;
  readonly report?: VerifyReport;
  readonly error?: { name: string; message: string };
  /** The settle waits the bundle asked for (recorded with 'fast-settle' only). */
  readonly settleWaits: number[];
  /** The EMF documents it printed (CloudWatch's embedded metric format). */
  readonly emf: Record<string, unknown>[];
}

/** Invokes the bundled verifier once, in a fresh process (a cold start), with the function's environment. */
async function invokeBundle(
  environment: Record<string, string>,
  mode: 'as-deployed' | 'fast-settle' = 'as-deployed',
): Promise<Outcome> {
  let stdout: string;
  let exitCode = 0;
  try {
    ({ stdout } = await run(process.execPath, ['-e', INVOKE, BUNDLE, mode], {
      env: {
        ...environment,
        PATH: process.env.PATH ?? '',
        ...fakes.endpoints,
        AWS_REGION: ENV.region,
        AWS_ACCESS_KEY_ID: 'AKIDTEST',
        AWS_SECRET_ACCESS_KEY: 'test-secret',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      maxBuffer: 16 * 1024 * 1024,
      timeout: 20_000,
    }));
  } catch (error: unknown) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string; message: string };
    if (typeof e.code !== 'number' || e.stdout === undefined || !e.stdout.includes(MARK)) {
      throw new Error(`the bundled verifier did not run: ${e.message}\n${e.stderr ?? ''}`, { cause: error });
    }
    stdout = e.stdout;
    exitCode = e.code;
  }
  const at = stdout.lastIndexOf(MARK);
  const outcome = JSON.parse(stdout.slice(at + MARK.length).split('\n')[0]!) as Omit<
    Outcome,
    'exitCode' | 'emf'
  >;
  const emf = stdout
    .slice(0, at)
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { ...outcome, exitCode, emf };
}

/**
 * What the verifier emitted, as the alarm on `metricVerificationFailed()` reads it: each EMF document's
 * namespace, metric and dimensions, checked against the construct's metric, and the value.
 */
function verificationFailedValues(outcome: Outcome, terminator: SwfTerminator): unknown[] {
  const metric = terminator.metricVerificationFailed();
  return outcome.emf.map((doc) => {
    const [directive] = (doc._aws as { CloudWatchMetrics: Record<string, unknown>[] }).CloudWatchMetrics;
    expect(directive).toEqual({
      Namespace: metric.namespace,
      Dimensions: [Object.keys(metric.dimensions ?? {})],
      Metrics: [{ Name: metric.metricName, Unit: 'Count' }],
    });
    for (const [name, value] of Object.entries(metric.dimensions ?? {})) expect(doc[name]).toBe(value);
    return doc[metric.metricName];
  });
}

/** Loads the synthesized deployment into the fakes; answers the checked roles' concrete ARNs. */
function putSynthesizedDeployment(template: Template): Record<string, string> {
  loadDeployment(template, ENV, fakes);
  return Object.fromEntries(checkedRoles(template, ENV).map((r) => [r.kind, r.arn]));
}

/** The handler role's default policy, as the fake holds it. */
function handlerDefaultPolicy(template: Template): FakePolicy {
  const handler = checkedRoles(template, ENV).find((r) => r.kind === 'handler')!;
  expect(handler.policies).toHaveLength(1);
  return handler.policies[0]!;
}

let fakes: VerifierFakes;

beforeAll(() => {
  if (!fs.existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run build first`);
});

beforeEach(async () => {
  fakes = await startVerifierFakes();
});

afterEach(async () => {
  await fakes.close();
});

/** The simulations IAM was asked for (the fake also records the verifier's reads). */
const simulations = () => fakes.iam.calls.filter((c) => c.action === 'SimulatePrincipalPolicy');

describe('the bundled verifier against the synthesized roles', () => {
  test('the roles as synthesized, with the three policies of the issue: ok, no failure (the deploy passes)', async () => {
    // GIVEN the terminator with the three policies, synthesized in a concrete account and region
    const { template, terminator } = synthConcrete(addContractPolicies);
    const environment = verifierEnvironment(template, ENV);
    const config = parseVerifyConfig(environment);
    // AND its three roles, with their policies as synthesized, in IAM
    const arns = putSynthesizedDeployment(template);
    expect([config.handlerRoleArn, config.controlRoleArn, config.stateMachineRoleArn]).toEqual([
      arns.handler,
      arns.control,
      arns.stateMachine,
    ]);

    // WHEN the deployment trigger invokes the bundled verifier with the environment the template gives it
    const outcome = await invokeBundle(environment);

    // THEN least privilege is proven: every check passed, and the invocation succeeded
    expect(outcome.error).toBeUndefined();
    expect(outcome.exitCode).toBe(0);
    const report = outcome.report!;
    expect(report).toMatchObject({ ok: true, failed: 0, failures: [] });
    expect(report.checked).toBe(buildChecks(config).length);
    expect(report.passed).toBe(report.checked);
    // AND IAM was asked about each of the three roles, and nothing else
    expect(new Set(simulations().map((c) => c.roleArn))).toEqual(new Set(Object.values(arns)));
    expect(fakes.iam.calls.every((c) => c.status === 200)).toBe(true);
    // AND in one run: the calls one run plans, no settle wait and no second run
    expect(report.calls).toBe(simulations().length);
    expect(simulations()).toHaveLength(planCalls(buildChecks(config)).length);
    // AND it read the whole of each role, and who may invoke the functions and use the bus: nothing refused
    expect(report.findings).toEqual([]);
    expect(new Set(fakes.iam.calls.filter((c) => c.action === 'GetRole').map((c) => c.roleName))).toEqual(
      new Set(Object.values(arns).map((arn) => arn.split('/').pop())),
    );
    expect(fakes.lambda.calls.filter((c) => c.operation === 'GetPolicy').map((c) => c.functionName)).toEqual(
      expect.arrayContaining([config.handlerFunctionArn, config.controlFunctionArn]),
    );
    expect(fakes.events.calls).toEqual([config.eventBusArn]);
    // AND what the policies need beyond terminating was checked as allowed, where they need it only
    const allowed = report.results
      .filter((r) => r.role === 'handler' && r.expected === 'allowed' && r.resource.includes(':swf::'))
      .map((r) => `${r.action} ${r.resource.split('/').pop()!}`);
    expect(allowed.sort()).toEqual(
      [
        'swf:CountOpenWorkflowExecutions billing',
        'swf:CountOpenWorkflowExecutions orders',
        'swf:DescribeWorkflowExecution billing',
        'swf:ListOpenWorkflowExecutions billing',
        'swf:ListOpenWorkflowExecutions orders',
        'swf:RequestCancelWorkflowExecution orders',
        'swf:TerminateWorkflowExecution billing',
        'swf:TerminateWorkflowExecution orders',
      ].sort(),
    );
    // (Stalled, on billing, previews by default: the handler may not ask billing's runs to cancel, and that
    // was checked as denied)
    expect(
      report.results.some(
        (r) =>
          r.role === 'handler' &&
          r.action === 'swf:RequestCancelWorkflowExecution' &&
          r.resource.endsWith('/domain/billing') &&
          r.expected === 'denied' &&
          r.actual !== 'allowed',
      ),
    ).toBe(true);
    // AND it emitted VerificationFailed 0, where metricVerificationFailed() reads it
    expect(verificationFailedValues(outcome, terminator)).toEqual([0]);
  });

  test('an extra statement on the handler role fails the invocation, naming the check and the statement (the deploy fails)', async () => {
    // GIVEN the same terminator, its handler role given one statement too many
    const { template, terminator } = synthConcrete((t) => {
      addContractPolicies(t);
      t.handler.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'TooBroad',
          actions: ['swf:StartWorkflowExecution'],
          resources: ['*'],
        }),
      );
    });
    const environment = verifierEnvironment(template, ENV);
    const config = parseVerifyConfig(environment);
    const arns = putSynthesizedDeployment(template);

    // WHEN the bundled verifier runs (its settle waits shortened to nothing)
    const outcome = await invokeBundle(environment, 'fast-settle');

    // THEN the invocation failed with LeastPrivilegeViolationError, after both settle waits
    expect(outcome.exitCode).not.toBe(0);
    expect(outcome.report).toBeUndefined();
    expect(outcome.error?.name).toBe('LeastPrivilegeViolationError');
    expect(outcome.settleWaits).toEqual([10_000, 20_000]);
    expect(verificationFailedValues(outcome, terminator)).toEqual([1]);
    // AND IAM was asked three times over: the first run and the two after the waits
    expect(simulations()).toHaveLength(3 * planCalls(buildChecks(config)).length);
    // AND the message counts the statement refused and the failed checks (StartWorkflowExecution on both ARN
    // forms of both domains, and on "*")
    const message = outcome.error!.message;
    expect(message).toContain(
      `least privilege violated: 1 grants refused, 5 of ${buildChecks(config).length} checks failed: `,
    );
    expect(message).toContain('(and 3 more, in the log)');
    // AND it names the statement first: the role, the policy, its position and Sid, the action and resource
    const policy = handlerDefaultPolicy(template);
    expect(message).toMatch(
      new RegExp(
        `^least privilege violated: [^:]*: the terminating function's role ${arns.handler}: inline policy ` +
          `"${policy.name}", statement \\d+ \\(Sid "TooBroad"\\): Allow swf:StartWorkflowExecution on \\* is ` +
          'refused: the construct grants this role no swf:StartWorkflowExecution;',
      ),
    );
    // AND it names the first check: the role, the action, the resource, expected vs actual
    const firstCheck =
      `the terminating function's role ${arns.handler}: swf:StartWorkflowExecution on ` +
      `arn:aws:swf:${ENV.region}:${ENV.account}:/domain/orders must be denied (`;
    expect(message).toContain(firstCheck);
    expect(message).toContain('IAM answered allowed; allowed by statement at ');
    // AND the statement that allowed it: its place in the handler role's default policy, which is TooBroad
    const named = new RegExp(
      `allowed by statement at (\\d+):\\d+-(\\d+):\\d+ of policy "${policy.name}" \\(role\\)`,
    ).exec(message);
    expect(named).not.toBeNull();
    const lines = JSON.stringify(policy.document, null, 2).split('\n');
    const statement = lines.slice(Number(named![1]) - 1, Number(named![2])).join('\n');
    expect(statement).toContain('"Sid": "TooBroad"');
    expect(statement).toContain('"swf:StartWorkflowExecution"');
  });

  test('a policy attached to the handler role by hand after deployment (drift): the run fails, naming that policy', async () => {
    // GIVEN the terminator as synthesized, its roles in IAM
    const { template, terminator } = synthConcrete(addContractPolicies);
    const environment = verifierEnvironment(template, ENV);
    const config = parseVerifyConfig(environment);
    const handlerRole = checkedRoles(template, ENV).find((r) => r.kind === 'handler')!;
    putSynthesizedDeployment(template);
    // AND, since the deployment, a managed policy attached by hand to the handler's role
    fakes.iam.addPolicy(handlerRole.arn, {
      name: 'AttachedByHand',
      type: 'user-managed',
      document: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'iam:PassRole', Resource: '*' }],
      },
    });

    // WHEN the verifier runs (on its schedule, or on demand; its settle waits shortened to nothing)
    const outcome = await invokeBundle(environment, 'fast-settle');

    // THEN it fails with LeastPrivilegeViolationError: iam:PassRole on "*" and on a role it has nothing to do with
    expect(outcome.exitCode).not.toBe(0);
    expect(outcome.error?.name).toBe('LeastPrivilegeViolationError');
    expect(verificationFailedValues(outcome, terminator)).toEqual([1]);
    const message = outcome.error!.message;
    expect(message).toContain(
      `least privilege violated: 1 grants refused, 2 of ${buildChecks(config).length} checks failed: `,
    );
    // AND the statement refused first: the attached policy by its ARN and version, its action and resource
    expect(message).toContain(
      `the terminating function's role ${handlerRole.arn}: managed policy ` +
        `arn:aws:iam::${ENV.account}:policy/AttachedByHand (version v1), statement 1: Allow iam:PassRole on * ` +
        'is refused: the construct grants this role no iam:PassRole',
    );
    expect(message).toContain(
      `the terminating function's role ${handlerRole.arn}: iam:PassRole on * must be denied (`,
    );
    expect(message).toContain(
      `iam:PassRole on arn:aws:iam::${ENV.account}:role/${CANARY_NAME} must be denied (`,
    );
    // AND it names the policy attached by hand, and its type, as the one that allowed it
    expect(message).toMatch(
      /IAM answered allowed; allowed by statement at [\d:-]+ of policy "AttachedByHand" \(user-managed\)/,
    );
    expect(message).not.toContain('TerminatorRoleDefaultPolicy');
  });
});
