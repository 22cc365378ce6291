/**
 * A job's status from the handler bundle the package ships, run as the control function in a child process
 * (a cold start) with the environment the synthesized template gives it: it reads the job from the local
 * Step Functions and its invocations' figures from the local CloudWatch Logs, through the CloudWatch Logs
 * client it loads on demand from its own file beside the bundle (assets/handler/logs-client.js).
 *
 * Needs the bundle (`npm run build`); nothing is rebuilt here.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { PROGRESS_LOG_KEY } from '../../lambda/aws/job-logs';
import { ABORTED_BEFORE_START_KEY } from '../../lambda/aws/jobs';
import { NO_TOTALS } from '../../lambda/job/write';
import { HANDLER_ASSET_DIR } from '../../lib/handler-asset';
import { functionOf, synthTerminator } from '../support/construct-helpers';
import { definitionFromTemplate, FakeSfnServer } from '../support/fake-sfn';
import { FakeLogsServer } from '../support/fake-logs';

const run = promisify(execFile);
const BUNDLE = path.join(HANDLER_ASSET_DIR, 'index.js');
const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:terminator-jobs';
const LOG_GROUP = 'TerminatorLogGroup';
const MARK = '@@status-e2e@@';
const INVOKE = `require(process.argv[1]).handler(JSON.parse(process.argv[2]), { awsRequestId: 'status-e2e' }).then(
    (result) => process.stdout.write('\\n${MARK}' + JSON.stringify({ result }) + '\\n'),
    (error) => process.stdout.write('\\n${MARK}' + JSON.stringify({ error: String(error && error.stack) }) + '\\n'),
  )`;

let sfn: FakeSfnServer;
let logs: FakeLogsServer;

afterEach(async () => {
  await sfn.close();
  await logs.close();
});

test('the shipped control function answers a status with the figures its log group holds, loading its Logs client', async () => {
  // GIVEN the control function's environment as synthesized (its LOG_GROUP_NAME among it)
  expect(fs.existsSync(path.join(HANDLER_ASSET_DIR, 'logs-client.js'))).toBe(true);
  const { template } = synthTerminator();
  const variables = (
    functionOf(template, 'control').resource.Properties.Environment as { Variables: Record<string, unknown> }
  ).Variables;
  expect(variables.LOG_GROUP_NAME).toEqual({ Ref: expect.stringMatching(/^TerminatorLogGroup/) });
  // AND an abort recorded before its request had a job, and the inline run it stopped, which logged 3
  sfn = await FakeSfnServer.start({
    definition: definitionFromTemplate(template, 'arn:aws:lambda:us-east-1:123456789012:function:terminator'),
    stateMachineArn: STATE_MACHINE_ARN,
    invoke: () => Promise.reject(new Error('no chunk may run')),
  });
  const cause = JSON.stringify({ reason: 'wrong tag', requestedBy: { via: 'console', requestId: 'ops' } });
  sfn.startExecution(
    'evt-1',
    JSON.stringify({ status: 'aborted', [ABORTED_BEFORE_START_KEY]: { jobId: 'evt-1', cause } }),
  );
  await new SFNClient({
    endpoint: sfn.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  }).send(new StopExecutionCommand({ executionArn: sfn.executionArn('evt-1'), cause }));
  logs = await FakeLogsServer.start();
  logs.put(LOG_GROUP, {
    level: 'INFO',
    message: 'job progress',
    [PROGRESS_LOG_KEY]: {
      jobId: 'evt-1',
      invocation: 'inline-1',
      chunk: 0,
      at: new Date().toISOString(),
      own: { ...NO_TOTALS, matched: 3, terminated: 3 },
      final: true,
      status: 'aborted',
    },
  });

  // WHEN the control function is asked for its status
  const { stdout } = await run(
    process.execPath,
    ['-e', INVOKE, BUNDLE, JSON.stringify({ status: { jobId: 'evt-1' } })],
    {
      env: {
        PATH: process.env.PATH ?? '',
        ALLOWED_DOMAINS: 'orders,billing',
        CONTROL_ONLY: 'true',
        STATE_MACHINE_ARN,
        LOG_GROUP_NAME: LOG_GROUP,
        AWS_ENDPOINT_URL_SFN: sfn.endpoint,
        AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: logs.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIDTEST',
        AWS_SECRET_ACCESS_KEY: 'test-secret',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      timeout: 20_000,
    },
  );
  const line = stdout.slice(stdout.lastIndexOf(MARK) + MARK.length).split('\n')[0]!;
  const outcome = JSON.parse(line) as { result?: { status?: Record<string, unknown> }; error?: string };

  // THEN it read both: the abort, recorded before the job, and what the inline run had done, final
  expect(outcome.error).toBeUndefined();
  expect(outcome.result?.status).toMatchObject({
    jobId: 'evt-1',
    state: 'ABORTED',
    abortedBeforeStart: true,
    final: true,
    totals: { matched: 3, terminated: 3 },
    abort: { reason: 'wrong tag' },
  });
  expect(logs.requests.length).toBeGreaterThan(0);
});
