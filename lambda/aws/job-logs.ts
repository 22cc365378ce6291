/**
 * A job's progress, read back from the terminator's log group: every invocation that works for a job logs
 * what it has done every few seconds and when it ends (lambda/flows/progress.ts), so that a job's status is
 * never more than those few seconds behind once the lines are in CloudWatch Logs, and an aborted job's final
 * figures (the chunk that saw the abort logs them; Step Functions drops its answer) are never lost. The only
 * module that reads CloudWatch Logs: a FilterLogEvents query or two per status request.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { JobStatus, JobTotals } from '../types';

/** The key of a progress record in a log line (`{"message":"job progress","jobProgress":{...}}`). */
export const PROGRESS_LOG_KEY = 'jobProgress';

/** One record of an invocation's work for a job, as it logs it. */
export interface ProgressRecord {
  readonly jobId: string;
  /** The invocation that logged it (its Lambda request id). */
  readonly invocation: string;
  /** The job's chunk it worked as (from 1), or 0: a delivery of the request (inline, or starting the job). */
  readonly chunk: number;
  /** When it was logged (ISO 8601). */
  readonly at: string;
  /** What this invocation has done for the job so far: its own outcomes, not the job's. */
  readonly own: JobTotals;
  /** True for the invocation's last record (it ended: done, failed, stopped, or handed on). */
  readonly final: boolean;
  /** How it ended (`running` while it works). */
  readonly status: JobStatus;
}

/** Which of a job's records to read. */
export interface ProgressQuery {
  /** Records logged at or after this instant. */
  readonly since: Date;
  /** Only the invocations' last records. */
  readonly finalOnly?: boolean;
}

/** Where progress records are written and read back. */
export interface ProgressLog {
  /** Writes one record (a log line). */
  record(record: ProgressRecord): void;
  /**
   * The records of `jobId` the query selects, in no particular order. Fewer than were written while
   * CloudWatch Logs has not made the newest lines searchable yet (seconds, at most minutes).
   */
  read(
    jobId: string,
    query: ProgressQuery,
  ): Promise<{ readonly records: ProgressRecord[]; readonly complete: boolean }>;
}

/**
 * Pages a query reads at most: FilterLogEvents may answer empty pages with a token while it searches. A
 * query stopped by it answers `complete: false`.
 */
const MAX_PAGES = 50;

/** The newer of two records of one invocation: the later one, the final one at the same instant. */
export function newer(a: ProgressRecord | undefined, b: ProgressRecord): ProgressRecord {
  if (a === undefined) return b;
  if (a.at !== b.at) return a.at > b.at ? a : b;
  return b.final ? b : a;
}

/** Each invocation's newest record, by invocation. */
export function latestByInvocation(records: readonly ProgressRecord[]): Map<string, ProgressRecord> {
  const latest = new Map<string, ProgressRecord>();
  for (const record of records) latest.set(record.invocation, newer(latest.get(record.invocation), record));
  return latest;
}

/** A record read back from a log line's JSON; undefined for any other line. */
export function progressOf(message: string | undefined): ProgressRecord | undefined {
  if (message === undefined) return undefined;
  try {
    const line = JSON.parse(message) as Record<string, unknown> | null;
    const record = line?.[PROGRESS_LOG_KEY] as Partial<ProgressRecord> | undefined;
    if (
      typeof record?.jobId === 'string' &&
      typeof record.invocation === 'string' &&
      typeof record.chunk === 'number' &&
      typeof record.at === 'string' &&
      typeof record.own === 'object' &&
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
 * Reads progress records from `logGroupName` with FilterLogEvents (a JSON filter on the record's job id, and
 * on `final` when only last records are wanted). The client is created on first use (`client()`): only a
 * status reads logs.
 */
export function logsProgressReader(
  client: () => Promise<CloudWatchLogsClient>,
  logGroupName: string,
): ProgressLog['read'] {
  return async (jobId, query) => {
    const { FilterLogEventsCommand } = await import('./logs-client');
    const logs = await client();
    // Job ids hold no quote or backslash (Step Functions' name rules, lambda/job/id.ts).
    const key = `$.${PROGRESS_LOG_KEY}`;
    const filterPattern =
      query.finalOnly === true
        ? `{ ${key}.jobId = "${jobId}" && ${key}.final IS TRUE }`
        : `{ ${key}.jobId = "${jobId}" }`;
    const records: ProgressRecord[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const answer = await logs.send(
        new FilterLogEventsCommand({
          logGroupName,
          filterPattern,
          startTime: query.since.getTime(),
          ...(nextToken === undefined ? {} : { nextToken }),
        }),
      );
      for (const event of answer.events ?? []) {
        const record = progressOf(event.message);
        if (record?.jobId === jobId) records.push(record);
      }
      nextToken = answer.nextToken;
      if (nextToken === undefined) return { records, complete: true };
    }
    return { records, complete: false };
  };
}

/**
 * Progress records as lines of the function's log group (`logger`'s JSON lines, INFO), read back from
 * `logGroupName` with CloudWatch Logs (none without it). The client is loaded (a module bundled apart:
 * lambda/aws/logs-client.ts) and created on first use: only a status request reads logs.
 */
export function logProgress(logger: Logger, logGroupName: string | undefined): ProgressLog {
  let client: Promise<CloudWatchLogsClient> | undefined;
  const read =
    logGroupName === undefined
      ? undefined
      : logsProgressReader(() => {
          client ??= import('./logs-client').then((m) => m.createLogsClient());
          return client;
        }, logGroupName);
  return {
    record(record) {
      logger.info('job progress', { [PROGRESS_LOG_KEY]: record });
    },
    read: (jobId, query) => read?.(jobId, query) ?? Promise.resolve({ records: [], complete: false }),
  };
}
