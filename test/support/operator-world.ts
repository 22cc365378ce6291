/**
 * A deployed terminator, offline, for the operator's command: a stack synthesized in a concrete account and
 * region, and local servers for every AWS API on the path: CloudFormation (the stack's template and
 * resources), Lambda (the shipped handler bundle as the terminating and the control function, the shipped
 * verifier bundle as the verifier, each in a process of its own with the environment the template gives it),
 * SWF (the executions), Step Functions (the synthesized state machine, its chunks invoking the local
 * terminating function), CloudWatch Logs (the functions' log lines, which a job's status reads back), and IAM,
 * Lambda's policies and EventBridge for the verifier. Only the endpoints differ from AWS.
 *
 * Needs the bundles (`npm run build`); nothing is rebuilt here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SwfTerminator, type SwfTerminatorProps } from '../../lib';
import { HANDLER_ASSET_DIR, VERIFIER_ASSET_DIR } from '../../lib/handler-asset';
import { functionOf, resolveIntrinsics, testApp } from './construct-helpers';
import { FakeCloudFormationServer } from './fake-cloudformation';
import { FakeLogsServer } from './fake-logs';
import { definitionFromTemplate, FakeSfnServer } from './fake-sfn';
import { type FakeExecution, FakeSwfServer } from './fake-swf';
import { ENV } from './iam-simulation';
import { LocalLambda } from './local-lambda';
import {
  loadDeployment,
  verifierEnvironment,
  verifierFunction,
  withConcreteRoleArns,
} from './verifier-helpers';
import { startVerifierFakes, type VerifierFakes } from './verify-fixtures';

export const CLI_BUNDLE = path.resolve(__dirname, '..', '..', 'assets', 'cli', 'swf-terminator.js');
export const STACK_NAME = 'Ops';

const CREDENTIALS = {
  AWS_REGION: ENV.region,
  AWS_ACCESS_KEY_ID: 'AKIDTEST',
  AWS_SECRET_ACCESS_KEY: 'test-secret',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

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
  /** The requests (not previews) the terminating function received. */
  requestsActedOn(): Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startOperatorWorld(options: WorldOptions = {}): Promise<OperatorWorld> {
  for (const bundle of [
    CLI_BUNDLE,
    path.join(HANDLER_ASSET_DIR, 'index.js'),
    path.join(VERIFIER_ASSET_DIR, 'index.js'),
  ]) {
    if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build first`);
  }
  const stack = new Stack(testApp(), STACK_NAME, { env: { account: ENV.account, region: ENV.region } });
  const terminator = new SwfTerminator(stack, 'Terminator', {
    domains: ['orders', 'billing'],
    ...options.props,
  });
  options.addPolicies?.(terminator);
  const template = withConcreteRoleArns(Template.fromStack(stack), ENV);

  const environmentOf = (logicalId: string) => {
    const resource = template.toJSON().Resources[logicalId] as {
      Properties: { Environment: { Variables: unknown } };
    };
    return resolveIntrinsics(resource.Properties.Environment.Variables, template, ENV) as Record<
      string,
      string
    >;
  };
  const handler = functionOf(template, 'handler');
  const control = functionOf(template, 'control');
  const verifier = verifierFunction(template);
  const handlerEnv = environmentOf(handler.logicalId);
  const logGroup = handlerEnv.LOG_GROUP_NAME ?? '';

  const swf = await FakeSwfServer.start({ domains: ['orders', 'billing'] });
  const logs = await FakeLogsServer.start({ pageSize: 1000, emptyPagesFirst: 0 });
  const verifierFakes: VerifierFakes = await startVerifierFakes();
  loadDeployment(template, ENV, verifierFakes);
  // The state machine's chunks invoke the local terminating function, which starts after it.
  const ready: { local?: LocalLambda } = {};
  const sfn = await FakeSfnServer.start({
    definition: definitionFromTemplate(
      template,
      `arn:aws:lambda:${ENV.region}:${ENV.account}:function:${handler.logicalId}`,
    ),
    stateMachineArn: handlerEnv.STATE_MACHINE_ARN ?? '',
    invoke: async (event) => {
      const answer = await ready.local!.invoke(handler.logicalId, event);
      if (answer === 'throttled') {
        throw Object.assign(new Error('Rate Exceeded.'), { name: 'Lambda.TooManyRequestsException' });
      }
      if (!answer.ok) throw Object.assign(new Error(answer.errorMessage), { name: answer.errorType });
      return answer.value;
    },
  });
  const endpoints = {
    ...CREDENTIALS,
    AWS_ENDPOINT_URL_SWF: swf.endpoint,
    AWS_ENDPOINT_URL_SFN: sfn.endpoint,
    AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: logs.endpoint,
  };
  ready.local = await LocalLambda.start(
    {
      [handler.logicalId]: {
        bundle: path.join(HANDLER_ASSET_DIR, 'index.js'),
        env: { ...handlerEnv, ...endpoints, ...options.handlerEnv },
        ...(options.handlerTimeoutMs === undefined ? {} : { timeoutMs: options.handlerTimeoutMs }),
      },
      [control.logicalId]: {
        bundle: path.join(HANDLER_ASSET_DIR, 'index.js'),
        env: { ...environmentOf(control.logicalId), ...endpoints },
        timeoutMs: 30_000,
      },
      [verifier.logicalId]: {
        bundle: path.join(VERIFIER_ASSET_DIR, 'index.js'),
        env: {
          ...verifierEnvironment(template, ENV),
          ...CREDENTIALS,
          ...verifierFakes.endpoints,
          POWERTOOLS_LOG_LEVEL: 'SILENT',
        },
      },
    },
    (_fn, line) => {
      logs.put(logGroup, line);
    },
  );
  const cloudFormation = await FakeCloudFormationServer.start({ [STACK_NAME]: template.toJSON() });
  const lambda = ready.local;
  return {
    swf,
    sfn,
    lambda,
    cloudFormation,
    template,
    cliEnv: {
      ...CREDENTIALS,
      AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
      AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormation.endpoint,
      SWF_TERMINATOR_STACK: STACK_NAME,
    },
    requestsActedOn: () =>
      lambda.invocations
        .filter((i) => i.functionName === handler.logicalId && i.outcome !== 'throttled')
        .map((i) => i.event)
        .filter(
          (e): e is Record<string, unknown> =>
            e !== null &&
            typeof e === 'object' &&
            'domain' in e &&
            (e as { dryRun?: unknown }).dryRun !== true,
        ),
    close: async () => {
      await lambda.close();
      await Promise.all([
        swf.close(),
        sfn.close(),
        logs.close(),
        cloudFormation.close(),
        verifierFakes.close(),
      ]);
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
