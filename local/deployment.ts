/**
 * A terminator deployed on this machine: from its synthesized template, local servers for every AWS API its
 * functions call (SWF, Step Functions running the synthesized state machine, CloudWatch Logs) and its
 * terminating and control functions, the shipped handler bundle each in a process of its own with the
 * environment the template gives it (the standard endpoint variables pointing at the local servers). Only the
 * endpoints differ from AWS. `swf-terminator demo` runs on it; so do the command's tests (with a verifier and
 * CloudFormation beside it: test/support/operator-world.ts).
 */
import { RESTORE_CHUNK_STATE } from '../lib/contract';
import { markedResources, type OperatorMetadata } from '../lib/operator-contract';
import { type ConcreteEnv, resolveIn } from './intrinsics';
import { LocalLambda, type LocalFunction } from './lambda';
import { FakeLogsServer } from './logs';
import { definitionFromTemplate, FakeSfnServer, type TemplateJson } from './sfn';
import { FakeSwfServer } from './swf';

/** Credentials and region for the local servers: the SDK signs with them, nothing checks them. */
export const LOCAL_CREDENTIALS = (region: string): Record<string, string> => ({
  AWS_REGION: region,
  AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
  AWS_SECRET_ACCESS_KEY: 'local-secret',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});

export interface LocalDeploymentOptions {
  /** The synthesized stack holding one terminator. */
  readonly template: TemplateJson;
  readonly env: ConcreteEnv;
  /** The shipped handler bundle (assets/handler/index.js). */
  readonly handlerBundle: string;
  /** The SWF domains the local SWF server knows. */
  readonly domains: readonly string[];
  /** Settings of the terminating function beyond its template's (e.g. a rate for the local SWF). */
  readonly handlerEnv?: Record<string, string>;
  /** The terminating function's timeout (ms). Default: Lambda's 900,000. */
  readonly handlerTimeoutMs?: number;
  /** More functions to run beside the two (a test's verifier), by name. */
  readonly moreFunctions?: Record<string, LocalFunction>;
  /**
   * The shipped restore bundle (assets/restore/index.js): with it, a terminator deployed with allowRestore runs
   * its restore function too, and the state machine's RestoreChunk invokes it.
   */
  readonly restoreBundle?: string;
  /** Settings of the restore function beyond its template's (its RESTORE_CONFIG with other rates). */
  readonly restoreEnv?: (templateEnv: Record<string, string>) => Record<string, string>;
}

export interface LocalDeployment {
  readonly swf: FakeSwfServer;
  readonly sfn: FakeSfnServer;
  readonly logs: FakeLogsServer;
  readonly lambda: LocalLambda;
  /** Every JSON line the functions wrote (log lines, and EMF metric documents), with who wrote it. */
  readonly lines: readonly { readonly functionName: string; readonly line: Record<string, unknown> }[];
  /** The functions' names (their logical ids, as every physical name here). */
  readonly handler: string;
  readonly control: string;
  /** The restore function's name, when the terminator has one and a restore bundle was given. */
  readonly restore?: string;
  close(): Promise<void>;
}

/** The logical id of the function the construct marked with `role` (lib/operator-contract.ts). */
export function markedFunction(template: TemplateJson, role: OperatorMetadata['role']): string {
  const found = markedResources(template.Resources).filter((r) => r.metadata.role === role);
  const [only, ...more] = found.map((r) => r.logicalId);
  if (only === undefined || more.length > 0) {
    throw new Error(`expected one ${role} function in the template, found ${found.length}`);
  }
  return only;
}

/** The environment the template gives function `logicalId`, every intrinsic resolved in `env`. */
export function functionEnvironment(
  template: TemplateJson,
  logicalId: string,
  env: ConcreteEnv,
): Record<string, string> {
  const properties = template.Resources[logicalId]?.Properties as
    { Environment?: { Variables?: unknown } } | undefined;
  return resolveIn(properties?.Environment?.Variables ?? {}, template, env) as Record<string, string>;
}

export async function startLocalDeployment(options: LocalDeploymentOptions): Promise<LocalDeployment> {
  const { template, env } = options;
  const handler = markedFunction(template, 'handler');
  const control = markedFunction(template, 'control');
  const handlerEnv = functionEnvironment(template, handler, env);
  const logGroup = handlerEnv.LOG_GROUP_NAME ?? '';

  const swf = await FakeSwfServer.start({ domains: [...options.domains] });
  const logs = await FakeLogsServer.start({ pageSize: 1000, emptyPagesFirst: 0 });
  // The state machine's chunks invoke the local terminating function, which starts after it.
  const ready: { lambda?: LocalLambda } = {};
  const invokeOn = (name: string) => async (event: unknown) => {
    if (ready.lambda === undefined) throw new Error('the functions are not started yet');
    const answer = await ready.lambda.invoke(name, event);
    if (answer === 'throttled') {
      throw Object.assign(new Error('Rate Exceeded.'), { name: 'Lambda.TooManyRequestsException' });
    }
    if (!answer.ok) throw Object.assign(new Error(answer.errorMessage), { name: answer.errorType });
    return answer.value;
  };
  const restore =
    options.restoreBundle === undefined
      ? undefined
      : markedResources(template.Resources).find((r) => r.metadata.role === 'restore')?.logicalId;
  const sfn = await FakeSfnServer.start({
    definition: definitionFromTemplate(
      template,
      `arn:${env.partition}:lambda:${env.region}:${env.account}:function:${handler}`,
    ),
    stateMachineArn: handlerEnv.STATE_MACHINE_ARN ?? '',
    invoke: invokeOn(handler),
    ...(restore === undefined ? {} : { otherTasks: { [RESTORE_CHUNK_STATE]: invokeOn(restore) } }),
  });
  const endpoints = {
    ...LOCAL_CREDENTIALS(env.region),
    AWS_ENDPOINT_URL_SWF: swf.endpoint,
    AWS_ENDPOINT_URL_SFN: sfn.endpoint,
    AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: logs.endpoint,
  };
  const lines: { functionName: string; line: Record<string, unknown> }[] = [];
  let lambda: LocalLambda;
  try {
    lambda = await LocalLambda.start(
      {
        [handler]: {
          bundle: options.handlerBundle,
          env: { ...handlerEnv, ...endpoints, ...options.handlerEnv },
          ...(options.handlerTimeoutMs === undefined ? {} : { timeoutMs: options.handlerTimeoutMs }),
        },
        [control]: {
          bundle: options.handlerBundle,
          env: { ...functionEnvironment(template, control, env), ...endpoints },
          timeoutMs: 30_000,
        },
        ...(restore === undefined || options.restoreBundle === undefined
          ? {}
          : {
              [restore]: {
                bundle: options.restoreBundle,
                env: {
                  ...(options.restoreEnv ?? ((e) => e))(functionEnvironment(template, restore, env)),
                  ...endpoints,
                },
              },
            }),
        ...options.moreFunctions,
      },
      (functionName, line) => {
        lines.push({ functionName, line });
        logs.put(logGroup, line);
      },
    );
  } catch (error) {
    await Promise.all([swf.close(), sfn.close(), logs.close()]);
    throw error;
  }
  ready.lambda = lambda;
  return {
    swf,
    sfn,
    logs,
    lambda,
    lines,
    handler,
    control,
    ...(restore === undefined ? {} : { restore }),
    close: async () => {
      await lambda.close();
      await Promise.all([swf.close(), sfn.close(), logs.close()]);
    },
  };
}
