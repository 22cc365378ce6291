/**
 * The restore handler built around its collaborators: the throttles (one per SWF call kind, living as long
 * as the handler), the jobs port, the time reserve. The Lambda entry (lambda/restore/handler.ts) wires the
 * real ones; the restore itself is lambda/restore/flow.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { MIN_END_RESERVE_MS, RESTORE_RATES } from '../../lib/contract';
import { createJobs, createSfnClient, type JobsPort } from '../aws/jobs';
import { type Clock, realClock, TokenBucket } from '../aws/pacer';
import type { RestoreSwfPort } from '../aws/swf-restore';
import { describeError } from '../errors';
import type { RestoreConfig } from './config';
import { handleRestore, type RestoreContext } from './flow';
import type { RestoreJobState } from './job';
import type { RestoreReport } from './report';

/** How many runs are worked on at once: enough to reach the history rate at SWF's tens of milliseconds. */
const IN_FLIGHT = 16;
const ABORT_POLL_MS = 1000;

/** The restore handler's collaborators; the module-scope instance wires the real ones. */
export interface RestoreDeps {
  readonly config: RestoreConfig;
  readonly swf: RestoreSwfPort;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Default: the configuration's state machine (none without it). */
  readonly jobs?: JobsPort;
  readonly now?: () => Date;
  readonly clock?: Clock;
  /** Calls per second and burst, per kind (tests and benchmarks speed them up); default RESTORE_RATES. */
  readonly rates?: {
    readonly [K in keyof typeof RESTORE_RATES]: { readonly ratePerSecond: number; readonly burst: number };
  };
  /** Below this much time left no run is taken up (ms); default MIN_END_RESERVE_MS. */
  readonly endReserveMs?: number;
  readonly abortPollMs?: number;
}

export type RestoreHandler = (
  event: unknown,
  context: RestoreContext,
) => Promise<RestoreReport | RestoreJobState>;

/** Builds the restore handler around its collaborators (the throttles live as long as it does). */
export function createRestoreHandler(deps: RestoreDeps): RestoreHandler {
  const clock = deps.clock ?? realClock;
  const given = deps.config.rates;
  const rates = deps.rates ?? {
    start: given?.start ?? RESTORE_RATES.start,
    history: given?.history ?? RESTORE_RATES.history,
    list: given?.list ?? RESTORE_RATES.list,
  };
  const bucket = (kind: keyof typeof RESTORE_RATES) => {
    const b = new TokenBucket(rates[kind].ratePerSecond, rates[kind].burst, clock);
    return () => b.take();
  };
  let jobs = deps.jobs;
  const runtime = {
    config: deps.config,
    swf: deps.swf,
    get jobs() {
      if (jobs === undefined && deps.config.stateMachineArn !== undefined) {
        jobs = createJobs(createSfnClient(), deps.config.stateMachineArn);
      }
      return jobs;
    },
    logger: deps.logger,
    metrics: deps.metrics,
    clock,
    now: deps.now ?? (() => new Date()),
    take: { start: bucket('start'), history: bucket('history'), list: bucket('list') },
    historyRatePerSecond: rates.history.ratePerSecond,
    inFlight: IN_FLIGHT,
    reserveMs: deps.endReserveMs ?? MIN_END_RESERVE_MS,
    abortPollMs: deps.abortPollMs ?? ABORT_POLL_MS,
  };
  return async (event, context) => {
    deps.logger.addContext(context as Parameters<Logger['addContext']>[0]);
    try {
      return await handleRestore(runtime, event, context);
    } catch (error: unknown) {
      deps.logger.error('restore failed', { error: describeError(error) });
      throw error;
    } finally {
      deps.logger.resetKeys();
    }
  };
}
