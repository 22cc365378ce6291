/**
 * The verifier's typed errors (the style of lambda/errors.ts: each sets `name`, and its message says what and
 * why). Either one fails the invocation, and with it a deployment that runs the verifier as a trigger.
 */
import { clip } from '../errors';
import type { VerifyReport } from './report';

/** How many failures an error's message names; the rest are counted (every one is in the log and the report). */
export const FAILURES_NAMED = 3;
/** The longest one failure's sentence may be in a message (a deployment's status reason is short). */
const FAILURE_MAX_CHARS = 600;

/**
 * The enumeration refused a statement, or a check got a decision other than the one it expected. The message
 * names the first few of each, findings first (they name the statement to remove).
 */
export class LeastPrivilegeViolationError extends Error {
  override readonly name = 'LeastPrivilegeViolationError';

  constructor(readonly report: VerifyReport) {
    const all = [...report.findings.map((f) => f.message), ...report.failures.map((f) => f.message)];
    const named = all.slice(0, FAILURES_NAMED).map((m) => clip(m, FAILURE_MAX_CHARS));
    const more = all.length > named.length ? ` (and ${all.length - named.length} more, in the log)` : '';
    super(
      `least privilege violated: ${report.findings.length} grants refused, ${report.failed} of ` +
        `${report.checked} checks failed: ${named.join('; ')}${more}`,
    );
  }
}

/** IAM could not answer (no such role, access denied, throttled past the retries): nothing was proven. */
export class SimulationFailedError extends Error {
  override readonly name = 'SimulationFailedError';

  constructor(
    /** The role whose policies were being simulated. */
    readonly roleArn: string,
    cause: string,
  ) {
    super(`simulating the policies of ${roleArn} failed, so least privilege is not proven: ${cause}`);
  }
}

/** A policy could not be read (no such role or function, access denied, throttled past the retries). */
export class ReadFailedError extends Error {
  override readonly name = 'ReadFailedError';

  constructor(
    /** What was being read: a role's policies, a function's policy, the bus's policy. */
    readonly what: string,
    cause: string,
  ) {
    super(`reading ${what} failed, so least privilege is not proven: ${cause}`);
  }
}
