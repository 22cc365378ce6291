/**
 * A job's progress through the functions' log group (lambda/aws/job-logs.ts): the line the terminating
 * function writes (its Powertools logger, as deployed) is the line a status finds with CloudWatch Logs'
 * FilterLogEvents, read here by the real SDK client from a local server that speaks its protocol and
 * evaluates its JSON filter pattern (test/support/fake-logs.ts).
 */
import '../../support/handler-env';
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import {
  logProgress,
  logsProgressReader,
  PROGRESS_LOG_KEY,
  type ProgressRecord,
} from '../../../lambda/aws/job-logs';
import { NO_TOTALS } from '../../../lambda/job/write';
import { FakeLogsServer } from '../../support/fake-logs';
import { captureOutput } from '../../support/handler-fixtures';

const GROUP = '/swf-terminator/TestStack-Terminator';
let logs: FakeLogsServer;

afterEach(async () => {
  await logs.close();
});

const client = () =>
  Promise.resolve(
    new CloudWatchLogsClient({
      endpoint: logs.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    }),
  );

const record = (fields: Partial<ProgressRecord> = {}): ProgressRecord => ({
  jobId: 'evt-1',
  invocation: 'chunk-1-request',
  chunk: 1,
  at: '2025-06-01T12:00:00.000Z',
  own: { ...NO_TOTALS, matched: 3, terminated: 3 },
  final: false,
  status: 'running',
  ...fields,
});

describe('the line written is the line read back', () => {
  test("GIVEN the function's logger writes a record WHEN a status reads the log group THEN it finds it, by the job's id", async () => {
    // GIVEN the line as the deployed logger writes it to the log group (one JSON object a line)
    logs = await FakeLogsServer.start();
    const written = record({ chunk: 4, final: true, status: 'aborted' });
    const { logs: lines } = await captureOutput(() => {
      logProgress(new Logger({ logLevel: 'INFO', serviceName: 'terminator' }), GROUP).record(written);
      return Promise.resolve();
    });
    expect(lines).toHaveLength(1);
    for (const line of lines) logs.put(GROUP, line);
    logs.put(GROUP, {
      message: 'job progress',
      [PROGRESS_LOG_KEY]: record({ jobId: 'another-job', chunk: 9 }),
    });

    // WHEN
    const found = await logsProgressReader(client, GROUP)('evt-1', { since: new Date(0) });

    // THEN: the record itself, found by a JSON filter on its job id, from the time given
    expect(found).toEqual({ records: [written], complete: true });
    expect(logs.requests[0]).toMatchObject({
      logGroupName: GROUP,
      filterPattern: `{ $.${PROGRESS_LOG_KEY}.jobId = "evt-1" }`,
      startTime: 0,
    });
  });

  test("GIVEN records over several pages, after empty ones WHEN last records are asked for THEN every invocation's last one, and only those", async () => {
    logs = await FakeLogsServer.start({ pageSize: 1, emptyPagesFirst: 2 });
    const t = Date.parse('2025-06-01T12:00:00Z');
    const put = (r: ProgressRecord, at: number) => {
      logs.put(GROUP, { message: 'job progress', [PROGRESS_LOG_KEY]: r }, at);
    };
    put(record({ at: '2025-06-01T12:00:05.000Z' }), t + 5_000);
    const chunkOne = record({ at: '2025-06-01T12:00:30.000Z', final: true, status: 'running' });
    put(chunkOne, t + 30_000);
    const chunkTwo = record({
      invocation: 'chunk-2',
      chunk: 2,
      at: '2025-06-01T12:01:05.000Z',
      final: true,
      status: 'done',
    });
    put(chunkTwo, t + 65_000);
    logs.put(GROUP, 'not JSON: an unrelated line', t + 70_000);

    const found = await logsProgressReader(client, GROUP)('evt-1', { since: new Date(t), finalOnly: true });

    expect(found).toEqual({ records: [chunkOne, chunkTwo], complete: true });
    expect(logs.requests[0]?.filterPattern).toBe(
      `{ $.${PROGRESS_LOG_KEY}.jobId = "evt-1" && $.${PROGRESS_LOG_KEY}.final IS TRUE }`,
    );
    expect(logs.requests.length).toBe(4);
  });

  test('GIVEN more pages than a status reads WHEN read THEN what was found, said to be incomplete', async () => {
    logs = await FakeLogsServer.start({ pageSize: 1, emptyPagesFirst: 60 });
    logs.put(GROUP, { [PROGRESS_LOG_KEY]: record() });

    const found = await logsProgressReader(client, GROUP)('evt-1', { since: new Date(0) });

    expect(found).toEqual({ records: [], complete: false });
  });

  test('GIVEN a function without LOG_GROUP_NAME WHEN a status reads progress THEN nothing is read, nothing is found', async () => {
    logs = await FakeLogsServer.start();

    await expect(
      logProgress(new Logger({ logLevel: 'SILENT' }), undefined).read('evt-1', { since: new Date(0) }),
    ).resolves.toEqual({ records: [], complete: false });
    expect(logs.requests).toHaveLength(0);
  });
});
