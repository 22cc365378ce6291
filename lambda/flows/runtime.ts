/**
 * What the flows share: the handler's collaborators, created once per execution environment (`Runtime`),
 * and one invocation's own state (`Invocation`): its context, its clock, and what it counted for the metrics.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { WorkDeps } from '../work';
import type { Clock } from '../aws/pacer';
import type { ProgressLog } from '../aws/job-logs';
import type { JobsPort } from '../aws/jobs';
import type { BreakerTable } from '../aws/breaker';
import type { Config } from '../config';
import type { Rates } from '../plan/plan';
import { ReportBuilder } from '../report/report';
import type { ExecutionReport, JobSettings } from '../types';

/** What the handler needs from the Lambda context (the remaining time only for work that can outlive it). */
export type HandlerContext = Pick<Context, 'awsRequestId'> &
  Partial<Pick<Context, 'getRemainingTimeInMillis' | 'invokedFunctionArn'>>;

export interface Runtime {
  readonly config: Config;
  readonly core: WorkDeps;
  readonly logger: Logger;
  /** The invocation time (tests pin it). */
  readonly now: () => Date;
  /** The pacing clock (tests drive it). */
  readonly clock: Clock;
  /** The rates one invocation may use. */
  readonly rates: Rates;
  /** The state machine's jobs; undefined when the function has none (no STATE_MACHINE_ARN). */
  jobs(): JobsPort | undefined;
  /** Time (ms) kept at the end of an invocation: below it no new work starts. */
  reserveMs(): number;
  /** How often a chunk looks at its own execution to notice an abort (ms). */
  readonly abortPollMs: number;
  /** Where chunks record their job's progress, and a status reads it back. */
  readonly progress: ProgressLog;
  /** The event policies' circuit breakers; undefined when the function has none (no BREAKER_TABLE). */
  breakers(): BreakerTable | undefined;
}

/** One invocation: its context and what it counted, which the handler publishes as metrics. */
export class Invocation {
  /** The executions this invocation acted on (the report of a request, or of a chunk). */
  report: ReportBuilder | undefined;
  /** Whether this invocation started a job, or saw its job stopped. */
  jobStarted = false;
  jobAborted = false;
  /** The policy this invocation runs, for the policy's own metrics. */
  policy: { readonly name: string; capExceeded: boolean } | undefined;

  /** The pacers' throttle counts when the invocation began (they live as long as the container). */
  private readonly throttlesAtStart: number;

  constructor(
    readonly context: HandlerContext,
    readonly time: Date,
    private readonly runtime: Runtime,
  ) {
    this.throttlesAtStart = this.throttlesSoFar();
  }

  /** Terminate and cancel calls SWF throttled during this invocation. */
  get throttled(): number {
    return this.throttlesSoFar() - this.throttlesAtStart;
  }

  private throttlesSoFar(): number {
    return this.runtime.core.pacer.throttles + this.runtime.core.cancelPacer.throttles;
  }

  /** True once the time left is below the end reserve (never without a deadline). */
  timeIsShort(): boolean {
    const left = this.context.getRemainingTimeInMillis?.();
    return left !== undefined && left < this.runtime.reserveMs();
  }

  /** Seconds of work this invocation has left before its end reserve; Infinity without a deadline. */
  workingSeconds(): number {
    const left = this.context.getRemainingTimeInMillis?.();
    return left === undefined ? Infinity : Math.max(0, left - this.runtime.reserveMs()) / 1000;
  }

  /** A report for this invocation's executions, each logged as it ends. */
  newReport(settings: JobSettings): { builder: ReportBuilder; record: (entry: ExecutionReport) => void } {
    const builder = new ReportBuilder(settings.dryRun);
    this.report = builder;
    const { logger } = this.runtime;
    return {
      builder,
      record: (entry) => {
        builder.add(entry);
        if (entry.outcome === 'failed') logger.error('execution failed', { ...entry });
        else logger.info(`execution ${entry.outcome}`, { ...entry });
      },
    };
  }
}
