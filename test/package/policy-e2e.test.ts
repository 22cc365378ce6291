/**
 * A termination policy end to end, from the synthesized template to the handler bundle the package ships:
 * the policy rule's InputTransformer (taken from the template) is rendered with a scheduled event as
 * EventBridge renders it, and the bundled handler (assets/handler/index.js), run in a child process with the
 * environment the template gives the function the rule invokes, sweeps the local SWF server.
 *
 * Needs the bundle (`npm run build`); nothing is rebuilt here.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { readProvenance } from '../../lambda/job/provenance';
import type { Report } from '../../lambda/types';
import { PolicyAction, PolicyTrigger, SwfTerminator } from '../../lib';
import { HANDLER_ASSET_DIR } from '../../lib/handler-asset';
import { type ConcreteEnv, resolveIntrinsics } from '../support/construct-helpers';
import { definitionFromTemplate, FakeSfnServer } from '../support/fake-sfn';
import { type FakeExecution, FakeSwfServer } from '../support/fake-swf';

const run = promisify(execFile);
const BUNDLE = path.join(HANDLER_ASSET_DIR, 'index.js');
const AWS_ENV: ConcreteEnv = { partition: 'aws', account: '123456789012', region: 'us-east-1' };
const REASON = 'ImportOrders open over 6 hours (runbook RB-12)';
const HOUR = 3600;

/** The terminator with the StuckImports policy; `dryRun` left out means the policy's default. */
function synthStuckImports(dryRun?: false): Template {
  const stack = new Stack(new App(), 'PolicyE2E');
  const terminator = new SwfTerminator(stack, 'Terminator', { domains: ['orders', 'billing'] });
  terminator.addPolicy('StuckImports', {
    domain: 'orders',
    trigger: PolicyTrigger.schedule(events.Schedule.rate(Duration.minutes(15))),
    match: { workflowType: { name: 'ImportOrders' }, tag: 'nightly', openLongerThan: Duration.hours(6) },
    action: PolicyAction.terminate({ reason: REASON }),
    ...(dryRun === undefined ? {} : { dryRun }),
  });
  return Template.fromStack(stack);
}

interface InputTransformer {
  readonly InputPathsMap: Record<string, string>;
  readonly InputTemplate: string;
}

/**
 * The policy's rule as the template has it: its schedule, its target's InputTransformer, and the function
 * the target invokes (its logical id).
 */
function policyRule(template: Template) {
  const rules = Object.entries(template.findResources('AWS::Events::Rule')).flatMap(([logicalId, r]) => {
    const properties = (r as { Properties: Record<string, unknown> }).Properties;
    const targets = properties.Targets as { Arn: unknown; InputTransformer?: InputTransformer }[];
    return targets
      .filter((t) => t.InputTransformer?.InputTemplate.includes('"name":"StuckImports"') === true)
      .map((t) => ({ logicalId, schedule: properties.ScheduleExpression, target: t }));
  });
  expect(rules).toHaveLength(1);
  const rule = rules[0]!;
  const arn = rule.target.Arn as { 'Fn::GetAtt': [string, string] };
  return {
    logicalId: rule.logicalId,
    schedule: rule.schedule,
    transformer: rule.target.InputTransformer!,
    functionId: arn['Fn::GetAtt'][0],
  };
}

/** The value at a simple JSONPath (`$.a.b`) of `event`. */
function valueAt(event: Record<string, unknown>, jsonPath: string): unknown {
  expect(jsonPath).toMatch(/^\$\.[A-Za-z0-9_.-]+$/);
  return jsonPath
    .slice(2)
    .split('.')
    .reduce<unknown>((v, key) => (v as Record<string, unknown>)[key], event);
}

/** The input EventBridge gives the target: each `<key>` of the template replaced by the JSON of its path's value. */
function render(transformer: InputTransformer, event: Record<string, unknown>): unknown {
  let text = transformer.InputTemplate;
  for (const [key, jsonPath] of Object.entries(transformer.InputPathsMap)) {
    text = text.split(`<${key}>`).join(JSON.stringify(valueAt(event, jsonPath)));
  }
  expect(text).not.toMatch(/<[A-Za-z-]+>/);
  return JSON.parse(text) as unknown;
}

/** The environment the template gives a function, intrinsics resolved in {@link AWS_ENV}. */
function functionEnvironment(template: Template, logicalId: string): Record<string, string> {
  const resources = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties: { Environment?: { Variables?: unknown } } }
  >;
  const fn = resources[logicalId];
  expect(fn?.Type).toBe('AWS::Lambda::Function');
  return resolveIntrinsics(fn?.Properties.Environment?.Variables, template, AWS_ENV) as Record<
    string,
    string
  >;
}

const MARK = '@@policy-e2e-result@@';
/** Runs in the child: requires the bundle (argv[1]) and invokes its handler with the event (argv[2]). */
const INVOKE = `require(process.argv[1]).handler(JSON.parse(process.argv[2]), {
    awsRequestId: 'policy-e2e-invocation',
    getRemainingTimeInMillis: () => 300000,
  }).then(
    (result) => process.stdout.write('\\n${MARK}' + JSON.stringify({ result }) + '\\n'),
    (error) => process.stdout.write('\\n${MARK}' + JSON.stringify({ error: String(error && error.stack) }) + '\\n'),
  )`;

/**
 * Invokes the bundled handler once, in a fresh process (a cold start), with `env`; answers its report. Its
 * Step Functions is the local one of the synthesized state machine (the handler looks for the run's job
 * before acting; no job is expected to start, and none may run a chunk).
 */
async function invokeBundle(
  event: unknown,
  env: Record<string, string>,
  swf: FakeSwfServer,
): Promise<Report> {
  const { stdout } = await run(process.execPath, ['-e', INVOKE, BUNDLE, JSON.stringify(event)], {
    env: {
      ...env,
      AWS_ENDPOINT_URL_SWF: swf.endpoint,
      AWS_ENDPOINT_URL_SFN: sfn.endpoint,
      AWS_REGION: AWS_ENV.region,
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'test-secret',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    maxBuffer: 16 * 1024 * 1024,
    timeout: 20_000,
  });
  const line = stdout.slice(stdout.lastIndexOf(MARK) + MARK.length).split('\n')[0]!;
  const outcome = JSON.parse(line) as { result?: Report; error?: string };
  if (outcome.error !== undefined) throw new Error(`the bundled handler failed: ${outcome.error}`);
  return outcome.result!;
}

/** The scheduled time: half an hour ago, on a whole second (EventBridge states it to the second). */
const SCHEDULED = Math.floor(Date.now() / 1000) - HOUR / 2;
const SCHEDULED_ISO = new Date(SCHEDULED * 1000).toISOString().replace('.000Z', 'Z');

function scheduledEvent(ruleLogicalId: string): Record<string, unknown> {
  return {
    version: '0',
    id: 'sched-e2e-0001',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: AWS_ENV.account,
    time: SCHEDULED_ISO,
    region: AWS_ENV.region,
    resources: [`arn:aws:events:${AWS_ENV.region}:${AWS_ENV.account}:rule/${ruleLogicalId}`],
    detail: {},
  };
}

/** An open run, started `ageSeconds` before the scheduled time. */
function execution(
  workflowId: string,
  ageSeconds: number,
  options: { type?: string; tags?: string[]; domain?: string } = {},
): FakeExecution {
  return {
    domain: options.domain ?? 'orders',
    workflowId,
    runId: `run-${workflowId}`,
    workflowType: { name: options.type ?? 'ImportOrders', version: '3' },
    startTimestamp: SCHEDULED - ageSeconds,
    tagList: options.tags ?? ['nightly'],
  };
}

/** Only the first two match: ImportOrders, tagged nightly, in orders, open over 6 h at the scheduled time. */
const EXECUTIONS = [
  execution('import-old-1', 7 * HOUR),
  execution('import-old-2', 6 * HOUR + 60, { tags: ['eu', 'nightly'] }),
  execution('import-young', 5 * HOUR),
  // over 6 h old now (half an hour after the scheduled time), but not at the scheduled time
  execution('import-6h-by-now-only', 6 * HOUR - 10 * 60),
  execution('export-old', 7 * HOUR, { type: 'ExportOrders' }),
  execution('import-adhoc', 7 * HOUR, { tags: ['adhoc'] }),
  execution('import-billing', 7 * HOUR, { domain: 'billing' }),
];
const MATCHING = ['import-old-1', 'import-old-2'];

let swf: FakeSwfServer;
let sfn: FakeSfnServer;

beforeAll(() => {
  if (!fs.existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run build first`);
});

beforeEach(async () => {
  swf = await FakeSwfServer.start({ domains: ['orders', 'billing'], executions: EXECUTIONS });
  const template = synthStuckImports(false);
  const env = functionEnvironment(template, policyRule(template).functionId);
  sfn = await FakeSfnServer.start({
    definition: definitionFromTemplate(template, 'arn:aws:lambda:us-east-1:123456789012:function:terminator'),
    stateMachineArn: env.STATE_MACHINE_ARN!,
    invoke: () => Promise.reject(new Error('no job was expected to run')),
  });
});

afterEach(async () => {
  // A schedule run of this size acts inline: it looked for its job, and started none.
  expect(sfn.executions.size).toBe(0);
  await sfn.close();
  await swf.close();
});

describe('a schedule policy, from the synthesized template to the bundled handler', () => {
  test('StuckImports (dryRun false) terminates only the matching executions, with its reason and provenance', async () => {
    // GIVEN the synthesized StuckImports policy: its rule's input, and the environment of the function it invokes
    const template = synthStuckImports(false);
    const rule = policyRule(template);
    expect(rule.schedule).toBe('rate(15 minutes)');
    const env = functionEnvironment(template, rule.functionId);
    expect(env.STATE_MACHINE_ARN).toMatch(/^arn:aws:states:us-east-1:123456789012:stateMachine:/);

    // WHEN the schedule fires: EventBridge renders the input with its scheduled event and invokes the bundle
    const input = render(rule.transformer, scheduledEvent(rule.logicalId));
    const report = await invokeBundle(input, env, swf);

    // THEN only the matching executions were terminated (by runId), with the policy's reason
    expect(report).toMatchObject({ dryRun: false, matched: 2, terminated: 2, failed: 0 });
    expect(report.executions.map((e) => e.outcome)).toEqual(['terminated', 'terminated']);
    expect(swf.terminations.map((t) => [t.domain, t.workflowId, t.runId, t.reason]).sort()).toEqual(
      MATCHING.map((id) => ['orders', id, `run-${id}`, REASON]),
    );
    expect(
      swf
        .openExecutions()
        .map((e) => e.workflowId)
        .sort(),
    ).toEqual(
      EXECUTIONS.map((e) => e.workflowId)
        .filter((id) => !MATCHING.includes(id))
        .sort(),
    );
    // AND each termination's details start with a provenance block naming the policy and its scheduled run
    for (const t of swf.terminations) {
      expect(readProvenance(t.details!)).toEqual({
        requestedBy: {
          via: 'policy',
          policy: 'StuckImports',
          trigger: 'schedule',
          eventId: 'sched-e2e-0001',
          time: SCHEDULED_ISO,
        },
        jobId: 'StuckImports-sched-e2e-0001',
        functionRequestId: 'policy-e2e-invocation',
      });
    }
    expect(swf.callCount('RequestCancelWorkflowExecution')).toBe(0);
  });

  test('StuckImports with dryRun at its default (true) terminates nothing and reports what it would terminate', async () => {
    // GIVEN the same policy, its dryRun left at the default
    const template = synthStuckImports();
    const rule = policyRule(template);
    const env = functionEnvironment(template, rule.functionId);

    // WHEN the schedule fires
    const report = await invokeBundle(render(rule.transformer, scheduledEvent(rule.logicalId)), env, swf);

    // THEN nothing was terminated: the report names the two executions it would have terminated
    expect(report).toMatchObject({ dryRun: true, matched: 2, terminated: 0, failed: 0 });
    expect(report.executions.map((e) => [e.workflowId, e.runId, e.outcome]).sort()).toEqual(
      MATCHING.map((id) => [id, `run-${id}`, 'would-terminate']),
    );
    expect(swf.terminations).toEqual([]);
    expect(swf.callCount('TerminateWorkflowExecution')).toBe(0);
    expect(swf.openCount()).toBe(EXECUTIONS.length);
  });
});
