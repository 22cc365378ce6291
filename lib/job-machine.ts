import { Duration, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import {
  JOB_CHUNK_STATE,
  JOB_EVENT_KEY,
  JOB_REFUSALS,
  JOB_WAIT_STATE,
  RESTORE_CHUNK_STATE,
  RESTORE_JOB_KIND,
} from './contract';
import { acknowledgeWildcardResource } from './nag';

/** Properties of {@link JobMachine}. */
export interface JobMachineProps {
  /** The handler, which runs each chunk. */
  readonly handler: lambda.IFunction;
  /** The handler's timeout: a chunk's task gives up a little after it. */
  readonly handlerTimeout: Duration;
  /** The state machine's name (the handler knows its ARN from it without a reference, so no cycle). */
  readonly stateMachineName: string;
  /** The restore function (allowRestore): a restore job's chunks run on it. @default - no restore jobs */
  readonly restoreHandler?: lambda.IFunction;
}

/**
 * The state machine that runs jobs: requests too large for one invocation, and cancelThenTerminate (its
 * cancel requests, then each run's termination after its grace period). One loop:
 *
 *   WaitFirst: status `aborted` -> AbortRecorded (Wait) -> JobAborted; a `notBefore` in the state ->
 *   GracePeriod (Wait until then) -> Chunk; else -> Chunk;
 *   Chunk (the handler, for a bounded time) -> NextStep: done -> JobDone; failed (executions failed) ->
 *   ExecutionsFailed; else -> WaitFirst.
 *
 * With restore (allowRestore), a state whose `kind` is `restore` goes from WaitFirst to RestoreChunk instead
 * (the restore function, same retries), then to NextStep: a restore job is a job like any, stopped and
 * described by the control function.
 *
 * An abort stops the execution (StopExecution: ABORTED, never a failure). An abort that came before its
 * request had a job is recorded as an execution of the request's id whose state says `aborted`: it waits in
 * AbortRecorded until the control function stops it (at once), and no chunk ever runs for it.
 *
 * A chunk that fails is retried with backoff (a busy function's throttling for up to about an hour, other
 * errors five times); a refusal is not retried. What still fails ends in `JobFailed`, with the chunk's input
 * (the job's state) and the error kept in the execution's history. The execution's name is the job id.
 */
export class JobMachine extends Construct {
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: JobMachineProps) {
    super(scope, id);

    const failed = new sfn.Fail(this, 'JobFailed', {
      comment: 'A chunk kept failing: the error, with the job state it had, is in the history',
      errorPath: '$.error.Error',
      causePath: '$.error.Cause',
    });
    const chunk = this.chunkTask(JOB_CHUNK_STATE, props.handler, props.handlerTimeout, failed);
    const restoreChunk =
      props.restoreHandler === undefined
        ? undefined
        : this.chunkTask(RESTORE_CHUNK_STATE, props.restoreHandler, Duration.minutes(15), failed);

    // cancelThenTerminate waits out each run's grace period: the state machine waits, nobody else. A chunk
    // invoked before `notBefore` answers its state unchanged, and the job waits again.
    const gracePeriod = new sfn.Wait(this, JOB_WAIT_STATE, {
      time: sfn.WaitTime.timestampPath('$.notBefore'),
      comment:
        "Waits until the job's notBefore: the next run cancelThenTerminate asked has had its grace period",
    });
    gracePeriod.next(chunk);
    // Stopped, not failed: an operator's abort raises no JobsFailed alarm.
    const aborted = new sfn.Succeed(this, 'JobAborted', {
      comment: 'A job that stopped acting because it was aborted: not a failure',
    });
    const abortRecorded = new sfn.Wait(this, 'AbortRecorded', {
      time: sfn.WaitTime.duration(Duration.minutes(5)),
      comment: 'An abort recorded before its request had a job: the control function stops it at once',
    });
    abortRecorded.next(aborted);
    const waitFirst = new sfn.Choice(this, 'WaitFirst')
      .when(sfn.Condition.stringEquals('$.status', 'aborted'), abortRecorded)
      .when(sfn.Condition.isPresent('$.notBefore'), gracePeriod);
    if (restoreChunk !== undefined) {
      // A restore job's state says its kind; a termination job's has none (isPresent first: a Choice on a
      // missing path would fail the execution).
      waitFirst.when(
        sfn.Condition.and(
          sfn.Condition.isPresent('$.kind'),
          sfn.Condition.stringEquals('$.kind', RESTORE_JOB_KIND),
        ),
        restoreChunk,
      );
    }
    waitFirst.otherwise(chunk);

    const next = new sfn.Choice(this, 'NextStep')
      .when(sfn.Condition.stringEquals('$.status', 'done'), new sfn.Succeed(this, 'JobDone'))
      .when(
        sfn.Condition.stringEquals('$.status', 'failed'),
        new sfn.Fail(this, 'ExecutionsFailed', { error: 'ExecutionsFailed', causePath: '$.summary' }),
      )
      .when(sfn.Condition.stringEquals('$.status', 'aborted'), aborted)
      .otherwise(waitFirst);
    restoreChunk?.next(next);

    this.stateMachine = new sfn.StateMachine(this, 'Resource', {
      stateMachineName: props.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(waitFirst.afterwards().next(next)),
      comment: 'cdk-swf-terminator jobs: requests too large for one invocation, chunk by chunk',
    });
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-SF1',
      reason:
        "Each execution's history (kept 90 days) records every chunk's input and output, and the handler logs " +
        "every chunk to the terminator's retained log group; execution logging would copy both.",
    });
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-SF2',
      reason:
        'No X-Ray: tracing would give the state machine xray:Put* on *, and it may invoke the handler only.',
    });
    for (const fn of [props.handler, ...(props.restoreHandler === undefined ? [] : [props.restoreHandler])]) {
      acknowledgeWildcardResource(
        this.stateMachine.role,
        `${fn.functionArn}:*`,
        "The function's own versions and aliases, which CDK's LambdaInvoke grants beside the unqualified ARN " +
          'the task invokes: the state machine may invoke its chunk functions and nothing else.',
      );
    }
  }

  /** A task that runs a job's chunk on `fn`, with the retries and the catch every chunk has. */
  private chunkTask(
    id: string,
    fn: lambda.IFunction,
    timeout: Duration,
    failed: sfn.Fail,
  ): tasks.LambdaInvoke {
    const chunk = new tasks.LambdaInvoke(this, id, {
      lambdaFunction: fn,
      // The function's answer is the job's next state (no Lambda metadata around it).
      payloadResponseOnly: true,
      payload: sfn.TaskInput.fromObject({
        [JOB_EVENT_KEY]: sfn.JsonPath.entirePayload,
        execution: sfn.JsonPath.executionId,
      }),
      retryOnServiceExceptions: false,
      taskTimeout: sfn.Timeout.duration(timeout.plus(Duration.minutes(1))),
      comment: "Works on the job for a bounded time; answers the job's next state",
    });
    // Retriers are tried in order: the first whose errors match decides. Refusals (lib/contract.ts, where the
    // handler's side reads them too) fail the job at once.
    chunk.addRetry({ errors: [...JOB_REFUSALS], maxAttempts: 0 });
    chunk.addRetry({
      // The function's reserved concurrency is busy (another job's chunk, an inline request): wait for a turn.
      errors: ['Lambda.TooManyRequestsException'],
      interval: Duration.seconds(5),
      backoffRate: 1.5,
      maxDelay: Duration.minutes(1),
      maxAttempts: 60,
      jitterStrategy: sfn.JitterType.FULL,
    });
    chunk.addRetry({
      errors: [sfn.Errors.ALL],
      interval: Duration.seconds(10),
      backoffRate: 2,
      maxAttempts: 5,
      jitterStrategy: sfn.JitterType.FULL,
    });
    chunk.addCatch(failed, { resultPath: '$.error' });
    return chunk;
  }
}
