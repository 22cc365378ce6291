/**
 * The building blocks of a termination policy's props: when it runs ({@link PolicyTrigger}), what it matches
 * ({@link PolicyMatch}) and what it does ({@link PolicyAction}). Checked at synth time by
 * lib/policy-validation.ts.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type { ChildPolicy } from './swf-terminator-props';

/**
 * The types of SWF's "Simple Workflow Execution State Change" events, as SWF names them in the event's
 * `detail.eventType`.
 *
 * @see https://docs.aws.amazon.com/amazonswf/latest/developerguide/ev-events.html
 */
export enum SwfEventType {
  /** `WorkflowExecutionStarted` */
  WORKFLOW_EXECUTION_STARTED = 'WorkflowExecutionStarted',
  /** `WorkflowExecutionCompleted` */
  WORKFLOW_EXECUTION_COMPLETED = 'WorkflowExecutionCompleted',
  /** `WorkflowExecutionFailed` */
  WORKFLOW_EXECUTION_FAILED = 'WorkflowExecutionFailed',
  /** `WorkflowExecutionTerminated` */
  WORKFLOW_EXECUTION_TERMINATED = 'WorkflowExecutionTerminated',
  /** `WorkflowExecutionTimedOut` */
  WORKFLOW_EXECUTION_TIMED_OUT = 'WorkflowExecutionTimedOut',
  /** `WorkflowExecutionCanceled` */
  WORKFLOW_EXECUTION_CANCELED = 'WorkflowExecutionCanceled',
  /** `WorkflowExecutionContinuedAsNew` */
  WORKFLOW_EXECUTION_CONTINUED_AS_NEW = 'WorkflowExecutionContinuedAsNew',
  /** `ActivityTaskCanceled` */
  ACTIVITY_TASK_CANCELED = 'ActivityTaskCanceled',
  /** `ActivityTaskFailed` */
  ACTIVITY_TASK_FAILED = 'ActivityTaskFailed',
  /** `ActivityTaskTimedOut` */
  ACTIVITY_TASK_TIMED_OUT = 'ActivityTaskTimedOut',
  /** `CancelTimerFailed` */
  CANCEL_TIMER_FAILED = 'CancelTimerFailed',
  /** `CancelWorkflowExecutionFailed` */
  CANCEL_WORKFLOW_EXECUTION_FAILED = 'CancelWorkflowExecutionFailed',
  /** `ChildWorkflowExecutionFailed` */
  CHILD_WORKFLOW_EXECUTION_FAILED = 'ChildWorkflowExecutionFailed',
  /** `ChildWorkflowExecutionTimedOut` */
  CHILD_WORKFLOW_EXECUTION_TIMED_OUT = 'ChildWorkflowExecutionTimedOut',
  /** `CompleteWorkflowExecutionFailed` */
  COMPLETE_WORKFLOW_EXECUTION_FAILED = 'CompleteWorkflowExecutionFailed',
  /** `ContinueAsNewWorkflowExecutionFailed` */
  CONTINUE_AS_NEW_WORKFLOW_EXECUTION_FAILED = 'ContinueAsNewWorkflowExecutionFailed',
  /** `DecisionTaskTimedOut` */
  DECISION_TASK_TIMED_OUT = 'DecisionTaskTimedOut',
  /** `FailWorkflowExecutionFailed` */
  FAIL_WORKFLOW_EXECUTION_FAILED = 'FailWorkflowExecutionFailed',
  /** `RecordMarkerFailed` */
  RECORD_MARKER_FAILED = 'RecordMarkerFailed',
  /** `RequestCancelActivityTaskFailed` */
  REQUEST_CANCEL_ACTIVITY_TASK_FAILED = 'RequestCancelActivityTaskFailed',
  /** `RequestCancelExternalWorkflowExecutionFailed` */
  REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED = 'RequestCancelExternalWorkflowExecutionFailed',
  /** `ScheduleActivityTaskFailed` */
  SCHEDULE_ACTIVITY_TASK_FAILED = 'ScheduleActivityTaskFailed',
  /** `SignalExternalWorkflowExecutionFailed` */
  SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED = 'SignalExternalWorkflowExecutionFailed',
  /** `StartActivityTaskFailed` */
  START_ACTIVITY_TASK_FAILED = 'StartActivityTaskFailed',
  /** `StartChildWorkflowExecutionFailed` */
  START_CHILD_WORKFLOW_EXECUTION_FAILED = 'StartChildWorkflowExecutionFailed',
  /** `StartTimerFailed` */
  START_TIMER_FAILED = 'StartTimerFailed',
  /** `TimerCanceled` */
  TIMER_CANCELED = 'TimerCanceled',
  /** `LambdaFunctionFailed` */
  LAMBDA_FUNCTION_FAILED = 'LambdaFunctionFailed',
  /** `LambdaFunctionTimedOut` */
  LAMBDA_FUNCTION_TIMED_OUT = 'LambdaFunctionTimedOut',
  /** `StartLambdaFunctionFailed` */
  START_LAMBDA_FUNCTION_FAILED = 'StartLambdaFunctionFailed',
  /** `ScheduleLambdaFunctionFailed` */
  SCHEDULE_LAMBDA_FUNCTION_FAILED = 'ScheduleLambdaFunctionFailed',
}

/** Options of {@link PolicyTrigger.onExecutionEvent}. */
export interface ExecutionEventTriggerOptions {
  /**
   * Sweep the same match on a schedule too. SWF delivers its events best effort: an event that never arrives
   * would leave a matching execution running, and the backstop finds it. Turning it off means trusting every
   * event to arrive.
   *
   * @default true
   */
  readonly backstop?: boolean;

  /**
   * How often the backstop sweeps.
   *
   * @default events.Schedule.rate(Duration.hours(1))
   */
  readonly backstopSchedule?: events.Schedule;
}

/** When a termination policy runs. */
export class PolicyTrigger {
  /**
   * A sweep on a schedule: every open execution of the domain that the match selects. The run's request time
   * is the scheduled time.
   *
   * @param schedule when to sweep (an EventBridge schedule)
   */
  public static schedule(schedule: events.Schedule): PolicyTrigger {
    return new PolicyTrigger({ sweepSchedule: schedule });
  }

  /**
   * A reaction to SWF's own events about an execution (on the account's default bus, where SWF sends them):
   * each event of these types about an execution of the policy's domain is checked against the match, which
   * its detail answers without another call, and a matching execution is acted on. A backstop sweep of the
   * same match runs on a schedule too (see {@link ExecutionEventTriggerOptions.backstop}).
   *
   * @param eventTypes the event types to react to (not those sent once the execution has closed)
   * @param options the backstop sweep
   */
  public static onExecutionEvent(
    eventTypes: SwfEventType[],
    options: ExecutionEventTriggerOptions = {},
  ): PolicyTrigger {
    const backstop =
      options.backstop === false
        ? undefined
        : (options.backstopSchedule ?? events.Schedule.rate(Duration.hours(1)));
    return new PolicyTrigger({ eventTypes: [...eventTypes], backstopSchedule: backstop });
  }

  /** The sweep's schedule (schedule triggers). */
  public readonly sweepSchedule?: events.Schedule;
  /** The SWF event types reacted to (event triggers). */
  public readonly eventTypes?: SwfEventType[];
  /** The backstop sweep's schedule (event triggers; undefined when it is turned off). */
  public readonly backstopSchedule?: events.Schedule;

  private constructor(fields: {
    sweepSchedule?: events.Schedule;
    eventTypes?: SwfEventType[];
    backstopSchedule?: events.Schedule;
  }) {
    this.sweepSchedule = fields.sweepSchedule;
    this.eventTypes = fields.eventTypes;
    this.backstopSchedule = fields.backstopSchedule;
  }
}

/** A workflow type, by name and optionally version. */
export interface WorkflowTypeMatch {
  /** The workflow type's name. */
  readonly name: string;
  /**
   * The workflow type's version.
   *
   * @default - any version
   */
  readonly version?: string;
}

/**
 * What a policy matches: open executions of its domain that meet EVERY criterion given. At least one of
 * `workflowType`, `tag`, `workflowIdPrefix`, `openLongerThan` or `idleLongerThan` is required (a policy never
 * sweeps a whole domain by accident). The cheap criteria narrow SWF's listing; every candidate is re-checked
 * against every criterion before it is acted on.
 */
export interface PolicyMatch {
  /**
   * Executions of this workflow type.
   *
   * @default - any type
   */
  readonly workflowType?: WorkflowTypeMatch;
  /**
   * Executions carrying this tag.
   *
   * @default - any tags
   */
  readonly tag?: string;
  /**
   * Executions whose workflowId starts with this.
   *
   * @default - any workflowId
   */
  readonly workflowIdPrefix?: string;
  /**
   * Executions started at least this long before the run (whole seconds).
   *
   * @default - any age
   */
  readonly openLongerThan?: Duration;
  /**
   * Executions with nothing open that would move them on: no decision task, activity task, timer, child
   * execution or Lambda task. A sweep asks DescribeWorkflowExecution for each candidate (SWF allows 6 such
   * calls per second per account, and the terminator uses half); an SWF event's detail carries it.
   *
   * @default false
   */
  readonly stalled?: boolean;
  /**
   * Executions with no activity task scheduled for at least this long (their start counts when there was
   * none). Read like `stalled`: a Describe call per candidate in a sweep, free from an event.
   *
   * @default - any activity
   */
  readonly idleLongerThan?: Duration;
}

/** Options of {@link PolicyAction.terminate}. */
export interface TerminateActionOptions {
  /**
   * The reason recorded in each terminated execution's history (at most 256 characters).
   *
   * @default - 'Terminated by cdk-swf-terminator'
   */
  readonly reason?: string;
  /**
   * Details recorded with the termination, after the provenance block that names the policy and its trigger.
   *
   * @default - the provenance block only
   */
  readonly details?: string;
  /**
   * What SWF does with the executions' children.
   *
   * @default - the terminator's childPolicy, else the workflow type's default
   */
  readonly childPolicy?: ChildPolicy;
}

/** Options of {@link PolicyAction.cancelThenTerminate}. */
export interface CancelThenTerminateOptions extends TerminateActionOptions {
  /** How long an execution asked to cancel has to close before it is terminated (1 minute to 7 days). */
  readonly gracePeriod: Duration;
}

/** What a termination policy does to each execution it matches. */
export class PolicyAction {
  /** Terminate it (TerminateWorkflowExecution). */
  public static terminate(options: TerminateActionOptions = {}): PolicyAction {
    return new PolicyAction('terminate', options);
  }

  /**
   * Ask its decider to cancel it (RequestCancelWorkflowExecution): the workflow closes itself, or does not.
   * The role gets swf:RequestCancelWorkflowExecution on the policy's domain.
   */
  public static requestCancel(): PolicyAction {
    return new PolicyAction('requestCancel', {});
  }

  /**
   * Ask its decider to cancel it, and terminate it if it is still open after the grace period. Only the runs
   * this policy asked to cancel are terminated; the wait is a job's (the state machine waits, no Lambda does).
   * At most 500 executions per run.
   */
  public static cancelThenTerminate(options: CancelThenTerminateOptions): PolicyAction {
    return new PolicyAction('cancelThenTerminate', options, options.gracePeriod);
  }

  /** `terminate`, `requestCancel` or `cancelThenTerminate`. */
  public readonly kind: string;
  /** The reason, details and child policy of the terminations. */
  public readonly options: TerminateActionOptions;
  /** cancelThenTerminate's grace period. */
  public readonly gracePeriod?: Duration;

  private constructor(kind: string, options: TerminateActionOptions, gracePeriod?: Duration) {
    this.kind = kind;
    this.options = options;
    this.gracePeriod = gracePeriod;
  }
}
