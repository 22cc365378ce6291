/** The executions the local SWF server holds: what each was started with, and how it closed. Types only. */

/** An execution the fake knows about. Every execution given to the server starts out open. */
export interface FakeExecution {
  domain: string;
  workflowId: string;
  runId: string;
  workflowType: { name: string; version: string };
  /** Start time in epoch seconds (fractions allowed), as SWF's wire format has it. */
  startTimestamp: number;
  /** Up to 5 tags, as SWF allows. */
  tagList?: string[];
  /**
   * The workflow type's registered default child policy. Only consulted when the server was started
   * with `requireChildPolicy`: a terminate that names no childPolicy for an execution without a default
   * then fails, as SWF does.
   */
  defaultChildPolicy?: ChildPolicy;
  /**
   * What DescribeWorkflowExecution reports as the execution's open tasks, timers and children (default: all
   * zero). The fake runs no workflow, so these never change: they let a test present a busy or idle execution.
   */
  openCounts?: WorkflowOpenCounts;
  /**
   * When the latest activity task was scheduled, in epoch seconds: DescribeWorkflowExecution's
   * `latestActivityTaskTimestamp`. Unset means the execution never scheduled one, and then SWF (and the
   * fake) omits the field rather than sending a zero time.
   */
  latestActivityTaskTimestamp?: number;
  /**
   * Whether the execution's decider honours a cancel request. If so, a successful
   * RequestCancelWorkflowExecution closes the execution at once with closeStatus CANCELED (it is not a
   * termination); otherwise it stays open with `cancelRequested` set, as with a decider that ignores the
   * request or is not running. Default false.
   */
  honoursCancel?: boolean;

  // What the run was started with (StartWorkflowExecution's arguments): its history's
  // WorkflowExecutionStarted event reports them, and {@link STARTED_DEFAULTS} for those left out (taskList
  // `default`, executionStartToCloseTimeout '3600', taskStartToCloseTimeout '60', childPolicy TERMINATE;
  // input, taskPriority and lambdaRole are then left out of the event). Runs started through the API keep
  // every argument the call gave.
  /** The input the run was started with. */
  input?: string;
  /** The task list of its decision tasks. */
  taskList?: { name: string };
  /** The priority of its decision tasks (an integer, as a string). */
  taskPriority?: string;
  /** Seconds, as a string. */
  executionStartToCloseTimeout?: string;
  /** Seconds (or 'NONE'), as a string. */
  taskStartToCloseTimeout?: string;
  /**
   * The run's own child policy, as started: what a terminate naming none applies to its children (before
   * `defaultChildPolicy`, and it satisfies `requireChildPolicy` like a default does).
   */
  childPolicy?: ChildPolicy;
  /** The IAM role the run's Lambda tasks assume. */
  lambdaRole?: string;
  /**
   * The parent, for a child run: terminating the parent applies the parent's child policy to this run while
   * it is open. Same domain, as SWF's children are.
   */
  parent?: { workflowId: string; runId: string };
}

/** DescribeWorkflowExecution's `openCounts` (SWF's WorkflowExecutionOpenCounts). */
export interface WorkflowOpenCounts {
  openActivityTasks: number;
  openDecisionTasks: number;
  openTimers: number;
  openChildWorkflowExecutions: number;
  openLambdaFunctions: number;
}

/** How the fake closes an execution: by a terminate, or by its decider honouring a cancel request. */
export type CloseStatus = 'TERMINATED' | 'CANCELED';

export type ChildPolicy = 'TERMINATE' | 'REQUEST_CANCEL' | 'ABANDON';
