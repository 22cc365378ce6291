/**
 * A deployed terminator, offline, for the operator's command: a stack synthesized in a concrete account and
 * region, run by local/deployment.ts (SWF, Step Functions, CloudWatch Logs, and the shipped handler bundle as
 * the terminating and the control function), with the shipped verifier bundle as the verifier (on local IAM,
 * Lambda policies and EventBridge loaded with the template's) and CloudFormation answering the stack's
 * template and resources. Only the endpoints differ from AWS.
 *
 * Needs the bundles (`npm run build`); nothing is rebuilt here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SwfTerminator, type SwfTerminatorProps } from '../../lib';
import { HANDLER_ASSET_DIR, RESTORE_ASSET_DIR, VERIFIER_ASSET_DIR } from '../../lib/handler-asset';
import { LOCAL_CREDENTIALS, type LocalDeployment, startLocalDeployment } from '../../local/deployment';
import type { LocalLambda } from '../../local/lambda';
import type { FakeSfnServer, TemplateJson } from '../../local/sfn';
import type { FakeExecution, FakeSwfServer } from '../../local/swf';
import { testApp } from './construct-helpers';
import { restoreAtWholeQuotas } from './restore-rig';
import { FakeCloudFormationServer } from './fake-cloudformation';
import { ENV } from './iam-simulation';
import {
  loadDeployment,
  verifierEnvironment,
  verifierFunction,
  withConcreteRoleArns,
} from './verifier-helpers';
import { startVerifierFakes, type VerifierFakes } from './verify-fixtures';
import { TmuxSession } from './tmux';

export const CLI_BUNDLE = path.resolve(__dirname, '..', '..', 'assets', 'cli', 'swf-terminator.js');
export const STACK_NAME = 'Ops';
const HANDLER_BUNDLE = path.join(HANDLER_ASSET_DIR, 'index.js');

export interface WorldOptions {
  readonly props?: Partial<SwfTerminatorProps>;
  readonly addPolicies?: (terminator: SwfTerminator) => void;
  /** Settings of the terminating function beyond its template's (e.g. a faster rate against the local SWF). */
  readonly handlerEnv?: Record<string, string>;
  /** The terminating function's timeout (ms): a shorter one makes smaller requests jobs. */
  readonly handlerTimeoutMs?: number;
}

export interface OperatorWorld {
  readonly swf: FakeSwfServer;
  readonly sfn: FakeSfnServer;
  readonly lambda: LocalLambda;
  readonly cloudFormation: FakeCloudFormationServer;
  readonly template: Template;
  /** The environment the command runs with: the SDK's endpoint variables pointing at the local servers. */
  readonly cliEnv: Record<string, string>;
  /** Every JSON line the functions wrote (log lines and EMF documents), with who wrote it. */
  readonly lines: LocalDeployment['lines'];
  /** The requests (not previews) the terminating function received. */
  requestsActedOn(): Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startOperatorWorld(options: WorldOptions = {}): Promise<OperatorWorld> {
  for (const bundle of [CLI_BUNDLE, HANDLER_BUNDLE, path.join(VERIFIER_ASSET_DIR, 'index.js')]) {
    if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build first`);
  }
  const stack = new Stack(testApp(), STACK_NAME, { env: { account: ENV.account, region: ENV.region } });
  const terminator = new SwfTerminator(stack, 'Terminator', {
    domains: ['orders', 'billing'],
    ...options.props,
  });
  options.addPolicies?.(terminator);
  const template = withConcreteRoleArns(Template.fromStack(stack), ENV);

  // The verifier reads the deployment from local IAM, Lambda and EventBridge, loaded with the template's.
  const verifierFakes: VerifierFakes = await startVerifierFakes();
  loadDeployment(template, ENV, verifierFakes);
  const deployment = await startLocalDeployment({
    template: template.toJSON() as TemplateJson,
    env: ENV,
    handlerBundle: HANDLER_BUNDLE,
    domains: ['orders', 'billing'],
    ...(options.handlerEnv === undefined ? {} : { handlerEnv: options.handlerEnv }),
    ...(options.handlerTimeoutMs === undefined ? {} : { handlerTimeoutMs: options.handlerTimeoutMs }),
    // With allowRestore, the restore function runs too, at SWF's whole quotas (the local SWF has none).
    restoreBundle: path.join(RESTORE_ASSET_DIR, 'index.js'),
    restoreEnv: restoreAtWholeQuotas,
    moreFunctions: {
      [verifierFunction(template).logicalId]: {
        bundle: path.join(VERIFIER_ASSET_DIR, 'index.js'),
        env: {
          ...verifierEnvironment(template, ENV),
          ...LOCAL_CREDENTIALS(ENV.region),
          ...verifierFakes.endpoints,
          POWERTOOLS_LOG_LEVEL: 'SILENT',
        },
      },
    },
  });
  const cloudFormation = await FakeCloudFormationServer.start({ [STACK_NAME]: template.toJSON() });
  const { swf, sfn, lambda, handler } = deployment;
  return {
    swf,
    sfn,
    lambda,
    cloudFormation,
    template,
    lines: deployment.lines,
    cliEnv: {
      ...LOCAL_CREDENTIALS(ENV.region),
      AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
      AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormation.endpoint,
      SWF_TERMINATOR_STACK: STACK_NAME,
    },
    requestsActedOn: () =>
      lambda.invocations
        .filter((i) => i.functionName === handler && i.outcome !== 'throttled')
        .map((i) => i.event)
        .filter(
          (e): e is Record<string, unknown> =>
            e !== null &&
            typeof e === 'object' &&
            'domain' in e &&
            (e as { dryRun?: unknown }).dryRun !== true,
        ),
    close: async () => {
      await deployment.close();
      await Promise.all([cloudFormation.close(), verifierFakes.close()]);
    },
  };
}

/** `n` open executions in `domain` tagged `tag`, started an hour ago (ids `<prefix>-<i>`). */
export function openExecutions(n: number, tag: string, prefix = tag, domain = 'orders'): FakeExecution[] {
  const started = Date.now() / 1000 - 3600;
  return Array.from({ length: n }, (_, i) => ({
    domain,
    workflowId: `${prefix}-${i}`,
    runId: `run-${prefix}-${i}`,
    workflowType: { name: 'OrderFlow', version: '1' },
    startTimestamp: started + i / 1000,
    tagList: [tag],
  }));
}

/**
 * A test file's deployment and terminals: the world started before its tests (and closed after), and the
 * shipped command run in a fresh terminal for each call, every terminal closed after its test.
 */
export function useOperatorWorld(options: WorldOptions = {}): {
  readonly world: () => OperatorWorld;
  readonly terminal: (...args: string[]) => TmuxSession;
} {
  const state: { world?: OperatorWorld } = {};
  const sessions: TmuxSession[] = [];
  const world = () => {
    if (state.world === undefined) throw new Error('the world starts before the tests (beforeAll)');
    return state.world;
  };
  beforeAll(async () => {
    state.world = await startOperatorWorld(options);
  }, 120_000);
  afterEach(() => {
    for (const session of sessions.splice(0)) session.kill();
  });
  afterAll(async () => {
    await state.world?.close();
  });
  return {
    world,
    terminal: (...args) => {
      const session = TmuxSession.start([process.execPath, CLI_BUNDLE, ...args], world().cliEnv);
      sessions.push(session);
      return session;
    },
  };
}
