/**
 * The handler's typed errors. Each one sets `name`, so a Lambda failure destination, a dead-letter queue
 * message or a log line says which kind of refusal or failure it was, and the message says why.
 *
 * Messages echo what they were given only through {@link echo} / {@link clip}: a refused value can be
 * megabytes long, and a message is logged and returned as Lambda's error payload, both of which are limited.
 */
import type { FailedExecution, JobTotals } from './types';

/** The longest part of a refused value a message repeats. */
export const ECHO_MAX_CHARS = 40;

/** The longest an error text carried or listed for one execution may be (SWF's messages are short). */
export const EXECUTION_ERROR_MAX_CHARS = 256;

/** The first `max` UTF-16 units of `text`, one fewer rather than half a surrogate pair. */
function prefix(text: string, max: number): string {
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

/** `text` cut to `max` characters, saying how long it was when it was cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${prefix(text, max)}... (${text.length} characters)`;
}

/** A value for a message: a string quoted and cut to {@link ECHO_MAX_CHARS}; anything else by its kind. */
export function echo(value: unknown): string {
  if (typeof value === 'string') {
    return value.length <= ECHO_MAX_CHARS
      ? JSON.stringify(value)
      : `${JSON.stringify(prefix(value, ECHO_MAX_CHARS))}... (${value.length} characters)`;
  }
  if (typeof value === 'number') {
    return Number.isFinite(value) ? String(value) : `${value} (beyond what a JSON number holds)`;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** A setting in the function's environment is missing or invalid (raised once, at cold start). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    /** The environment variable at fault. */
    readonly variable: string,
    rule: string,
  ) {
    super(`${variable}: ${rule}`);
  }
}

/** The event or request is malformed. Raised before any SWF call. */
export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';

  constructor(
    /** Dotted path of the offending field (`selector.startedAfter`, `executions.3.runId`), or `event`. */
    readonly field: string,
    /** The rule it breaks, e.g. `must be an ISO 8601 date-time`. */
    readonly rule: string,
  ) {
    super(`${field}: ${rule}`);
  }
}

/** The request names a domain that is not in ALLOWED_DOMAINS. Raised before any SWF call. */
export class DomainNotAllowedError extends Error {
  override readonly name = 'DomainNotAllowedError';

  constructor(
    readonly domain: string,
    allowed: readonly string[],
  ) {
    super(`domain: ${echo(domain)} is not one of the allowed domains (${allowed.map(echo).join(', ')})`);
  }
}

/** The request names or matches more executions than it (or the function's ceiling) allows. Nothing is terminated. */
export class TooManyExecutionsError extends Error {
  override readonly name = 'TooManyExecutionsError';

  constructor(
    /** How many executions the request names or matches (for a job's chunk: what is left of it). */
    readonly count: number,
    /**
     * The effective limit: the request's maxExecutions, or the function's MAX_EXECUTIONS ceiling; for a
     * job's chunk, less what earlier chunks acted on.
     */
    readonly limit: number,
    /** Executions earlier invocations of the job acted on. */
    readonly actedOn = 0,
    /** True when counting stopped at the first match over the limit: `count` is a lower bound. */
    atLeast = false,
  ) {
    super(
      actedOn === 0
        ? `the request names or matches ${atLeast ? 'at least ' : ''}${count} executions, more than its limit of ` +
            `${limit}; nothing was terminated`
        : `the job has ${count} executions left, more than the ${limit} its limit leaves after the ${actedOn} ` +
            'acted on earlier; nothing more was terminated',
    );
  }
}

/**
 * Thrown at the end of an invocation when at least one execution failed; every other execution was still
 * processed. Re-running the same request is safe: terminated executions answer `already-closed`.
 */
export class TerminationFailedError extends Error {
  override readonly name = 'TerminationFailedError';

  constructor(
    readonly failures: readonly FailedExecution[],
    /** Total number of failures, which may exceed `failures.length` when the list was capped. */
    readonly failedCount: number = failures.length,
  ) {
    const listed = failures
      .map(
        (f) => `${f.workflowId}/${f.runId ?? '(current run)'}: ${clip(f.error, EXECUTION_ERROR_MAX_CHARS)}`,
      )
      .join('; ');
    const more = failedCount > failures.length ? ` (and ${failedCount - failures.length} more)` : '';
    super(`${failedCount} execution(s) failed to terminate: ${listed}${more}`);
  }
}

/** A readable one-line description of anything thrown. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    return error.message ? `${error.name}: ${error.message}` : error.name;
  }
  if (typeof error === 'string') {
    return error;
  }
  try {
    // JSON.stringify answers undefined for undefined, functions and symbols, whatever its type says.
    const json = JSON.stringify(error) as string | undefined;
    return json === undefined ? Object.prototype.toString.call(error) : json;
  } catch {
    return Object.prototype.toString.call(error);
  }
}

/**
 * Listing open executions failed (after the SDK's retries). Before acting, nothing was terminated; while
 * acting (the pipeline lists as it terminates), the executions acted on so far are in the logs, and a retry
 * of the request converges (terminated executions have left the open list).
 */
export class ListingFailedError extends Error {
  override readonly name = 'ListingFailedError';

  constructor(
    readonly domain: string,
    cause: string,
    /** Executions acted on in this invocation before the listing failed. */
    readonly actedOn = 0,
  ) {
    super(
      `listing open executions in domain "${domain}" failed; ${
        actedOn === 0 ? 'nothing was terminated' : `${actedOn} execution(s) were acted on before it failed`
      }: ${cause}`,
    );
  }
}

/**
 * A request would take a job longer than a job may run (MAX_JOB_CHUNKS chunks) at the configured rate.
 * Raised before any termination.
 */
export class JobTooLongError extends Error {
  override readonly name = 'JobTooLongError';

  constructor(
    /** Seconds the request would take at the rate one invocation may use. */
    readonly seconds: number,
    /** Seconds a job may work at most. */
    readonly maxSeconds: number,
  ) {
    super(
      `the request would take about ${Math.ceil(seconds)} s at the rate one invocation may use, more than the ` +
        `${maxSeconds} s a job may work; nothing was terminated (narrow the request, or raise terminateRatePerSecond)`,
    );
  }
}

/** A job ran MAX_JOB_CHUNKS chunks and was not done: it fails rather than run on. */
export class JobChunkLimitError extends Error {
  override readonly name = 'JobChunkLimitError';

  constructor(
    readonly jobId: string,
    readonly limit: number,
    readonly totals: JobTotals,
  ) {
    super(
      `job ${jobId}: ${limit} chunks ran and work is left; the job stops here (so far: ${totals.terminated} ` +
        `terminated, ${totals.alreadyClosed} already closed, ${totals.failed} failed)`,
    );
  }
}

/**
 * Work could not be handed to a job: the state machine answered with an error, or this function has none.
 * The invocation fails (an asynchronous one is retried, and kept in the dead-letter queue at the end); a
 * retry finds the job if it was in fact started (jobs are named by their request).
 */
export class JobHandOffError extends Error {
  override readonly name = 'JobHandOffError';

  constructor(
    readonly jobId: string,
    cause: string,
  ) {
    super(`job ${jobId}: handing the work to a job failed: ${cause}`);
  }
}

/**
 * A chunk of a redriven execution (Step Functions' RedriveExecution): refused, so that a job an operator
 * stopped stays stopped and a failed one does not resume where it failed with what it knew then. A refusal:
 * the job fails at once, naming this. To do what is left, send the request again (a new id).
 */
export class JobRedriveError extends Error {
  override readonly name = 'JobRedriveError';

  constructor(
    readonly jobId: string,
    readonly redriveCount: number,
  ) {
    super(
      `job ${jobId} was redriven (${redriveCount} time(s)); a job is never resumed after it stopped or failed: ` +
        'nothing was done; send the request again under a new id to act on what is left',
    );
  }
}

/**
 * A selector's stalled or idle criterion needs a DescribeWorkflowExecution call per candidate, and SWF allows
 * few of those (6 per second per account): the candidates could not all be described in the time this
 * invocation has. Raised before any call, from the count of candidates.
 */
export class ActivityCheckTooLongError extends Error {
  override readonly name = 'ActivityCheckTooLongError';

  constructor(
    readonly candidates: number,
    readonly seconds: number,
    readonly workingSeconds: number,
  ) {
    super(
      `the selector's stalled / idleLongerThanSeconds criteria need a DescribeWorkflowExecution call for each of ` +
        `${candidates} candidates: about ${Math.ceil(seconds)} s at the Describe rate this function may use, more ` +
        `than the ${Math.floor(workingSeconds)} s this invocation has; nothing was done (narrow the selector with ` +
        'workflowType, tag or a time bound, or give the function a longer timeout)',
    );
  }
}

/** A restore found more runs to restart than its limit allows. Nothing was started. */
export class RestoreTooLargeError extends Error {
  override readonly name = 'RestoreTooLargeError';

  constructor(
    readonly count: number,
    readonly limit: number,
  ) {
    super(
      `the restore found ${count} terminated runs to restart, more than its limit of ${limit}; nothing was ` +
        'started (narrow the window, or raise maxExecutions after a dry run)',
    );
  }
}
