/**
 * A job's progress, read back from the terminator's log group: every chunk logs its job's totals every few
 * seconds while it works and when it ends (lambda/flows/progress.ts), so that a job's status is never more
 * than those few seconds behind once the lines are in CloudWatch Logs, and an aborted job's final totals
 * (the chunk that saw the abort logs them; Step Functions drops its answer) are never lost. The only module
 * that reads CloudWatch Logs: one FilterLogEvents query per status request.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { JobStatus, JobTotals } from '../types';

/** The key of a progress record in a log line (`{"message":"job progress","jobProgress":{...}}`). */
export const PROGRESS_LOG_KEY = 'jobProgress';

/** One record of a job's progress, as a chunk logs it. */
export interface ProgressRecord {
  readonly jobId: string;
  /** The chunk that logged it (its number, from 1; 0: the invocation that started the job). */
  readonly chunk: number;
  /** When it was logged (ISO 8601). */
  readonly at: string;
  /** The job's totals at that moment: every earlier chunk's and this chunk's so far. */
  readonly totals: JobTotals;
  /** True for the chunk's last record (it ended, or saw its job stopped). */
  readonly final: boolean;
  /** The job's status as that chunk saw it. */
  readonly status: JobStatus;
}

/** Where progress records are written and read back. */
export interface ProgressLog {
  /** Writes one record (a log line). */
  record(record: ProgressRecord): void;
  /**
   * The newest record of `jobId` logged at or after `since` (the latest chunk's, the last of it), or
   * undefined when there is none (yet: CloudWatch Logs takes seconds to make a line searchable).
   */
  latest(jobId: string, since: Date): Promise<ProgressRecord | undefined>;
}

/** Pages a query reads at most: FilterLogEvents may answer empty pages with a token while it searches. */
const MAX_PAGES = 20;

/** The newer of two records: the later chunk, then the later time, then the final one. */
export function newer(a: ProgressRecord | undefined, b: ProgressRecord): ProgressRecord {
  if (a === undefined) return b;
  if (a.chunk !== b.chunk) return a.chunk > b.chunk ? a : b;
  if (a.at !== b.at) return a.at > b.at ? a : b;
  return b.final ? b : a;
}

/** A record read back from a log line's JSON; undefined for any other line. */
export function progressOf(message: string | undefined): ProgressRecord | undefined {
  if (message === undefined) return undefined;
  try {
    const line = JSON.parse(message) as Record<string, unknown> | null;
    const record = line?.[PROGRESS_LOG_KEY] as Partial<ProgressRecord> | undefined;
    if (
      typeof record?.jobId === 'string' &&
      typeof record.chunk === 'number' &&
      typeof record.at === 'string' &&
      typeof record.totals === 'object' &&
      typeof record.final === 'boolean'
    ) {
      return record as ProgressRecord;
    }
  } catch {
    // Not a line the handler wrote as JSON.
  }
  return undefined;
}

/**
 * Reads progress records from `logGroupName` with FilterLogEvents (a JSON filter on the record's job id).
 * The client is created on first use (`client()`): only the control function's status reads logs.
 */
export function logsProgressReader(
  client: () => Promise<CloudWatchLogsClient>,
  logGroupName: string,
): ProgressLog['latest'] {
  return async (jobId, since) => {
    const { FilterLogEventsCommand } = await import('@aws-sdk/client-cloudwatch-logs');
    const logs = await client();
    // Job ids hold no quote or backslash (Step Functions' name rules, lambda/parse/job-id.ts).
    const filterPattern = `{ $.${PROGRESS_LOG_KEY}.jobId = "${jobId}" }`;
    let found: ProgressRecord | undefined;
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const answer = await logs.send(
        new FilterLogEventsCommand({
          logGroupName,
          filterPattern,
          startTime: since.getTime(),
          ...(nextToken === undefined ? {} : { nextToken }),
        }),
      );
      for (const event of answer.events ?? []) {
        const record = progressOf(event.message);
        if (record?.jobId === jobId) found = newer(found, record);
      }
      nextToken = answer.nextToken;
      if (nextToken === undefined) break;
    }
    return found;
  };
}

/**
 * Progress records as lines of the function's log group (`logger`'s JSON lines, INFO), read back from
 * `logGroupName` with CloudWatch Logs (none without it). The client is loaded and created on first use:
 * only a status request reads logs.
 */
export function logProgress(logger: Logger, logGroupName: string | undefined): ProgressLog {
  let client: Promise<CloudWatchLogsClient> | undefined;
  const latest =
    logGroupName === undefined
      ? undefined
      : logsProgressReader(() => {
          client ??= import('@aws-sdk/client-cloudwatch-logs').then((m) => new m.CloudWatchLogsClient({}));
          return client;
        }, logGroupName);
  return {
    record(record) {
      logger.info('job progress', { [PROGRESS_LOG_KEY]: record });
    },
    latest: (jobId, since) => latest?.(jobId, since) ?? Promise.resolve(undefined),
  };
}
