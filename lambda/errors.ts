/**
 * The handler's typed errors. Each one sets `name`, so a Lambda failure destination, a dead-letter queue
 * message or a log line says which kind of refusal or failure it was, and the message says why.
 */

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
    super(`domain: "${domain}" is not one of the allowed domains (${allowed.join(', ')})`);
  }
}

/** The request names or matches more executions than it (or the function's ceiling) allows. Nothing is terminated. */
export class TooManyExecutionsError extends Error {
  override readonly name = 'TooManyExecutionsError';

  constructor(
    /** How many executions the request names or matches. */
    readonly count: number,
    /** The effective limit: the request's maxExecutions, or the function's MAX_EXECUTIONS ceiling. */
    readonly limit: number,
  ) {
    super(
      `the request names or matches ${count} executions, more than its limit of ${limit}; nothing was terminated`,
    );
  }
}

/** One execution the handler could not terminate. */
export interface FailedExecution {
  readonly workflowId: string;
  readonly runId?: string;
  readonly error: string;
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
      .map((f) => `${f.workflowId}/${f.runId ?? '(current run)'}: ${f.error}`)
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

/** Listing open executions failed (after the SDK's retries), so the request could not be planned. */
export class ListingFailedError extends Error {
  override readonly name = 'ListingFailedError';

  constructor(
    readonly domain: string,
    cause: string,
  ) {
    super(`listing open executions in domain "${domain}" failed; nothing was terminated: ${cause}`);
  }
}
