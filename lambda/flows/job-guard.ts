/**
 * What keeps "one job per request" on every path: a guard that watches a request's job (a Step Functions
 * execution named by the request's id) while an invocation works on the request, and tells it when it must
 * stop and whether it may start acting on the next run.
 *
 * - A job's chunk carries on while its execution is RUNNING and was never redriven: an abort (StopExecution)
 *   stops it, and so does a redrive (a stopped or failed job is never resumed).
 * - A request acted on inline carries on while no execution of its id exists: a job started meanwhile (a
 *   duplicate's hand-off, or an abort recorded before the job existed) stops it, so a duplicate never acts
 *   beside its job and an aborted request stays aborted.
 *
 * Step Functions does not interrupt a running Lambda task, so the guard looks (DescribeExecution) every
 * `intervalMs`, without waiting for a slow look to answer before the next one starts. An abort is noticed
 * from the first look sent after it; until then, every action waits for a look that said "carry on" and
 * was SENT at most `freshMs` ago ({@link JobGuard.mayAct}). Since such a look was sent before the abort, no
 * action starts later than `freshMs` after an abort, however slow Step Functions answers: when it is slow,
 * acting pauses instead.
 */
import type { JobDescription, JobsPort } from '../aws/jobs';
import { monotonicMs } from '../aws/pacer';

/** How often the guard looks, by default (ms). */
export const LOOK_INTERVAL_MS = 1_000;
/**
 * How old (from when it was sent) the last "carry on" may be for an action to start (ms): an action starts
 * at most this long after an abort. Below the 2 s the terminator promises, leaving room for the call itself.
 */
export const FRESH_MS = 1_500;
/** Looks in flight at most (a Step Functions that does not answer must not pile them up). */
const MAX_LOOKS_IN_FLIGHT = 3;
/** How often {@link JobGuard.mayAct} re-checks while it waits for a fresh look (ms). */
const WAIT_STEP_MS = 25;
/**
 * The least time between two looks {@link JobGuard.mayAct} starts itself while it waits (ms): a Step Functions
 * that fails fast must not be asked forty times a second (DescribeExecution's refill is 10-15 a second).
 */
const ON_DEMAND_SPACING_MS = 250;

/** What the guard watches for: a chunk's own execution, or (inline) the absence of any. */
export type GuardMode = 'chunk' | 'inline';

export interface JobGuard {
  /** Settles once the first look has answered (or failed). */
  readonly ready: Promise<void>;
  /** The execution as the first look found it (undefined: none, or the look failed). */
  readonly first: JobDescription | undefined;
  /** True once a look concluded that the work must stop for good. */
  readonly stopped: boolean;
  /** The execution that stopped it (inline: the job found; chunk: the stopped execution, if any). */
  readonly stoppedBy: JobDescription | undefined;
  /**
   * Waits until the last "carry on" is fresh ({@link FRESH_MS}); true then. False once the guard stopped,
   * or when `giveUp()` turns true while waiting.
   */
  mayAct(giveUp?: () => boolean): Promise<boolean>;
  /** Stops looking. */
  close(): void;
}

/** Watches job `jobId` for a chunk (`chunk`) or for a request acted on inline (`inline`). */
export function guardJob(
  jobs: JobsPort,
  jobId: string,
  mode: GuardMode,
  options: { readonly intervalMs?: number; readonly freshMs?: number } = {},
): JobGuard {
  const intervalMs = options.intervalMs ?? LOOK_INTERVAL_MS;
  const freshMs = options.freshMs ?? FRESH_MS;
  let stopped = false;
  let stoppedBy: JobDescription | undefined;
  let first: JobDescription | undefined;
  let lastGoodSentAt = -Infinity;
  let inFlight = 0;
  let closed = false;
  let lastOnDemand = -Infinity;

  const carriesOn = (job: JobDescription | undefined): boolean =>
    mode === 'inline'
      ? job === undefined
      : job !== undefined && job.state === 'RUNNING' && (job.redriveCount ?? 0) === 0;

  const look = async (): Promise<void> => {
    if (stopped || inFlight >= MAX_LOOKS_IN_FLIGHT) return;
    inFlight += 1;
    const sentAt = monotonicMs();
    try {
      const job = await jobs.describe(jobId);
      if (carriesOn(job)) {
        lastGoodSentAt = Math.max(lastGoodSentAt, sentAt);
      } else {
        stopped = true;
        stoppedBy = job;
      }
    } catch {
      // Transient: the next look tries again; meanwhile the last answer ages and acting pauses.
    } finally {
      inFlight -= 1;
    }
  };

  const ready = (async () => {
    const sentAt = monotonicMs();
    inFlight += 1;
    try {
      first = await jobs.describe(jobId);
      if (carriesOn(first)) lastGoodSentAt = sentAt;
      else {
        stopped = true;
        stoppedBy = first;
      }
    } catch {
      // Acting waits for a look that answers.
    } finally {
      inFlight -= 1;
    }
  })();
  const timer = setInterval(() => void look(), intervalMs);
  timer.unref();

  return {
    ready,
    get first() {
      return first;
    },
    get stopped() {
      return stopped;
    },
    get stoppedBy() {
      return stoppedBy;
    },
    async mayAct(giveUp) {
      for (;;) {
        if (stopped || closed) return false;
        if (monotonicMs() - lastGoodSentAt <= freshMs) return true;
        if (giveUp?.() === true) return false;
        // Stale: look now rather than at the next interval (a look is cheap; waiting is not), spaced out.
        if (inFlight === 0 && monotonicMs() - lastOnDemand >= ON_DEMAND_SPACING_MS) {
          lastOnDemand = monotonicMs();
          void look();
        }
        await new Promise<void>((resolve) => {
          setTimeout(resolve, WAIT_STEP_MS).unref();
        });
      }
    },
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}
