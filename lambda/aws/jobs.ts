/**
 * The only module that talks to Step Functions: jobs are executions of the terminator's own state machine,
 * named by their job id. Starting one is idempotent by name (a re-delivered request or a retried hand-off
 * finds the job it started before), an invocation's guard looks at its job's execution to notice an abort
 * (lambda/flows/job-guard.ts), an abort that comes before the job is recorded as an execution of its id, and
 * operators read and stop jobs through the same calls.
 */
import {
  DescribeExecutionCommand,
  type ExecutionStatus,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  SFNClient,
  type SFNClientConfig,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { JOB_CHUNK_STATE } from '../../lib/contract';
import { isValidJobId } from '../job/id';
import type { JobState } from '../types';

/** Attempts per Step Functions call (throttling and transient errors, the SDK's standard retries). */
export const JOBS_MAX_ATTEMPTS = 2;
/** Longest wait for one attempt's answer, connecting included. */
export const JOBS_REQUEST_TIMEOUT_MS = 2_000;
/** The most the SDK's standard retry waits before a second attempt (a throttled call: 500 ms x 2, jittered). */
const JOBS_RETRY_DELAY_MAX_MS = 1_000;
/**
 * The longest one Step Functions call can take, retries included. Handing work to a job takes two
 * (DescribeExecution, StartExecution): the end-of-invocation reserve (MIN_END_RESERVE_MS) covers them after
 * the calls in flight.
 */
export const JOBS_CALL_MAX_MS = JOBS_MAX_ATTEMPTS * JOBS_REQUEST_TIMEOUT_MS + JOBS_RETRY_DELAY_MAX_MS;

/** An execution's state as Step Functions reports it. */
export type JobExecutionState = ExecutionStatus;

/** A job as `describe` answers it. */
export interface JobDescription {
  readonly jobId: string;
  readonly executionArn: string;
  readonly state: JobExecutionState;
  readonly startedAt?: Date;
  readonly stoppedAt?: Date;
  /** The state the job was started with (its request, who asked). */
  readonly input?: string;
  /** The final state of a job that succeeded. */
  readonly output?: string;
  /** Why a job failed or was stopped (for an abort: the reason given). */
  readonly error?: string;
  readonly cause?: string;
  /** How many times the execution was redriven (RedriveExecution); 0 or absent: never. */
  readonly redriveCount?: number;
}

/** One line of `list`. */
export interface JobSummary {
  readonly jobId: string;
  readonly state: JobExecutionState;
  readonly startedAt?: Date;
  readonly stoppedAt?: Date;
}

/**
 * The input of an execution that records an abort made before its request had a job: it holds the request's
 * id so that no delivery of the request ever acts again (the state machine ends it without a chunk).
 */
export const ABORTED_BEFORE_START_KEY = 'swfTerminatorAbortedBeforeStart';

/** What a job's history says of its chunks: the state the last one handed back, and whether one was working. */
export interface LastChunk {
  /** The state the job's last finished chunk handed back; undefined before any finished. */
  readonly state?: JobState | undefined;
  /**
   * True when an attempt of a chunk had started and not ended when the history ends (it was working when the
   * job stopped, or works now); false between attempts (a retry's wait) and between chunks.
   */
  readonly inFlight: boolean;
}

/** What the handler needs from Step Functions: small enough to fake in a unit test. */
export interface JobsPort {
  /**
   * Starts the job with `state` as its input (a termination job's, or a restore job's); `started: false` when
   * an execution of that name already exists (running or finished).
   */
  start(state: {
    readonly jobId: string;
  }): Promise<{ readonly executionArn: string; readonly started: boolean }>;
  /** The job, or undefined when there is none of that id. */
  describe(jobId: string): Promise<JobDescription | undefined>;
  /** Stops a running job with `cause`; answers its state (RUNNING means it was stopped now). */
  stop(jobId: string, cause: string): Promise<JobExecutionState | undefined>;
  /**
   * Records an abort of a request that has no job: starts an execution of its id that no chunk ever runs
   * and stops it at once with `cause`. `exists` when an execution of that id exists (it was started
   * meanwhile: stop it instead).
   */
  recordAbort(jobId: string, cause: string): Promise<'recorded' | 'exists'>;
  /** What the job's history says of its chunks (see {@link LastChunk}). */
  lastChunk(jobId: string): Promise<LastChunk>;
  /** The most recent jobs, newest first. */
  list(options: { readonly state?: JobExecutionState; readonly limit: number }): Promise<JobSummary[]>;
  /** The execution ARN of a job id. */
  executionArn(jobId: string): string;
  /** The job id of an execution ARN of this state machine; undefined for any other ARN. */
  jobIdOf(executionArn: string): string | undefined;
}

function errorName(error: unknown): string {
  return typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : '';
}

/** Wraps an SDK client as the handler's {@link JobsPort} for the state machine `stateMachineArn`. */
export function createJobs(client: SFNClient, stateMachineArn: string): JobsPort {
  const prefix = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:`;
  const executionArn = (jobId: string) => `${prefix}${jobId}`;

  const describe = async (jobId: string): Promise<JobDescription | undefined> => {
    try {
      const d = await client.send(new DescribeExecutionCommand({ executionArn: executionArn(jobId) }));
      return {
        jobId,
        executionArn: executionArn(jobId),
        // A description without a status is not one: treated as running, so nothing concludes it stopped.
        state: d.status ?? 'RUNNING',
        ...(d.startDate === undefined ? {} : { startedAt: d.startDate }),
        ...(d.stopDate === undefined ? {} : { stoppedAt: d.stopDate }),
        ...(d.input === undefined ? {} : { input: d.input }),
        ...(d.output === undefined ? {} : { output: d.output }),
        ...(d.error === undefined ? {} : { error: d.error }),
        ...(d.cause === undefined ? {} : { cause: d.cause }),
        ...(d.redriveCount === undefined ? {} : { redriveCount: d.redriveCount }),
      };
    } catch (error: unknown) {
      if (errorName(error) === 'ExecutionDoesNotExist') return undefined;
      throw error;
    }
  };

  return {
    executionArn,

    jobIdOf(arn) {
      return arn.startsWith(prefix) && isValidJobId(arn.slice(prefix.length))
        ? arn.slice(prefix.length)
        : undefined;
    },

    async start(state) {
      // A job of this name exists already (a re-delivered request, a retried hand-off): never a second one.
      // StartExecution alone would answer a running job with the same input as if it had started it now.
      if ((await describe(state.jobId)) !== undefined) {
        return { executionArn: executionArn(state.jobId), started: false };
      }
      try {
        const answer = await client.send(
          new StartExecutionCommand({ stateMachineArn, name: state.jobId, input: JSON.stringify(state) }),
        );
        return { executionArn: answer.executionArn ?? executionArn(state.jobId), started: true };
      } catch (error: unknown) {
        // Started in between by another invocation of the same request (with another input, or finished).
        if (errorName(error) === 'ExecutionAlreadyExists') {
          return { executionArn: executionArn(state.jobId), started: false };
        }
        throw error;
      }
    },

    describe,

    async stop(jobId, cause) {
      const job = await describe(jobId);
      if (job?.state !== 'RUNNING') return job?.state;
      await client.send(new StopExecutionCommand({ executionArn: executionArn(jobId), cause }));
      return 'RUNNING';
    },

    async recordAbort(jobId, cause) {
      // The cause travels in the input too: if stopping it fails, the record still says why and who.
      const input = JSON.stringify({ status: 'aborted', [ABORTED_BEFORE_START_KEY]: { jobId, cause } });
      try {
        await client.send(new StartExecutionCommand({ stateMachineArn, name: jobId, input }));
      } catch (error: unknown) {
        if (errorName(error) === 'ExecutionAlreadyExists') return 'exists';
        throw error;
      }
      await client.send(new StopExecutionCommand({ executionArn: executionArn(jobId), cause }));
      return 'recorded';
    },

    async lastChunk(jobId) {
      let nextToken: string | undefined;
      let inFlight: boolean | undefined;
      // Newest first: whether an attempt of a chunk was running when the history ends is said by the newest
      // task event (started, or ended: a retry's wait is not running), and the last chunk's exit is near.
      for (let page = 0; page < 5; page++) {
        const answer = await client.send(
          new GetExecutionHistoryCommand({
            executionArn: executionArn(jobId),
            reverseOrder: true,
            maxResults: 100,
            includeExecutionData: true,
            ...(nextToken === undefined ? {} : { nextToken }),
          }),
        );
        for (const event of answer.events ?? []) {
          const type = event.type ?? '';
          if (inFlight === undefined && ATTEMPT_STARTED.has(type)) inFlight = true;
          if (inFlight === undefined && ATTEMPT_ENDED.has(type)) inFlight = false;
          const state = chunkOutput(event);
          if (state !== undefined) return { state, inFlight: inFlight ?? false };
        }
        nextToken = answer.nextToken;
        if (nextToken === undefined) break;
      }
      return { inFlight: inFlight ?? false };
    },

    async list({ state, limit }) {
      const answer = await client.send(
        new ListExecutionsCommand({
          stateMachineArn,
          maxResults: limit,
          ...(state === undefined ? {} : { statusFilter: state }),
        }),
      );
      return (answer.executions ?? []).map((e) => ({
        jobId: e.name ?? '',
        state: e.status ?? 'RUNNING',
        ...(e.startDate === undefined ? {} : { startedAt: e.startDate }),
        ...(e.stopDate === undefined ? {} : { stoppedAt: e.stopDate }),
      }));
    },
  };
}

/** History events of a chunk's attempt starting (the chunk invokes the function directly, or as a task). */
const ATTEMPT_STARTED = new Set([
  'LambdaFunctionScheduled',
  'LambdaFunctionStarted',
  'TaskScheduled',
  'TaskStarted',
]);
/** History events of a chunk's attempt ending, whatever ended it. */
const ATTEMPT_ENDED = new Set([
  'LambdaFunctionSucceeded',
  'LambdaFunctionFailed',
  'LambdaFunctionTimedOut',
  'LambdaFunctionScheduleFailed',
  'LambdaFunctionStartFailed',
  'TaskSucceeded',
  'TaskFailed',
  'TaskTimedOut',
  'TaskStartFailed',
  'TaskSubmitFailed',
  'TaskStateExited',
]);

/** The job state a chunk handed back, from its exit event in the history; undefined for other events. */
function chunkOutput(event: HistoryEvent): JobState | undefined {
  const exited = event.stateExitedEventDetails;
  if (event.type !== 'TaskStateExited' || exited?.name !== JOB_CHUNK_STATE || exited.output === undefined) {
    return undefined;
  }
  try {
    return JSON.parse(exited.output) as JobState;
  } catch {
    return undefined;
  }
}

/** Client settings on top of the SDK's standard configuration (region, credentials, AWS_ENDPOINT_URL_SFN). */
export function createSfnClient(overrides: SFNClientConfig = {}): SFNClient {
  return new SFNClient({
    maxAttempts: JOBS_MAX_ATTEMPTS,
    requestHandler: {
      connectionTimeout: JOBS_REQUEST_TIMEOUT_MS,
      requestTimeout: JOBS_REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
    ...overrides,
  });
}
