/**
 * The contract between the construct (lib/) and the handler (lambda/): environment variable names,
 * metric names, defaults and SWF's naming rule. Plain constants and pure functions only, so both the
 * CDK app and the bundled handler can import it without pulling in the other's dependencies.
 */

/** Environment variables the construct sets and the handler reads once at cold start. */
export const ENV = {
  /** Comma-separated SWF domain names the handler may act on. Required. */
  allowedDomains: 'ALLOWED_DOMAINS',
  /** TERMINATE | REQUEST_CANCEL | ABANDON, used when a request names no childPolicy. Optional. */
  defaultChildPolicy: 'DEFAULT_CHILD_POLICY',
  /** Ceiling on how many executions one request may name or match. */
  maxExecutions: 'MAX_EXECUTIONS',
  /** "true" forces preview mode: nothing is terminated. */
  dryRun: 'DRY_RUN',
  /** The EventBridge detail-type that marks a termination request. */
  requestDetailType: 'REQUEST_DETAIL_TYPE',
  /** The terminator's total TerminateWorkflowExecution rate, calls per second (all invocations together). */
  terminateRatePerSecond: 'TERMINATE_RATE_PER_SECOND',
  /** The terminator's total token-bucket burst (all invocations together). */
  terminateBurst: 'TERMINATE_BURST',
  /**
   * How many invocations may run at once (the function's reserved concurrency): each invocation paces
   * itself at rate / shares and burst / shares, so together they never exceed the configured rate.
   */
  rateShares: 'TERMINATE_RATE_SHARES',
  /**
   * ARN of the state machine that runs jobs (requests too large for one invocation). Without it, such a
   * request is refused.
   */
  stateMachineArn: 'STATE_MACHINE_ARN',
  /** "true" for the control function: it answers abort, status and jobs requests, and nothing else. */
  controlOnly: 'CONTROL_ONLY',
  /**
   * The functions' log group: chunks log their job's progress there, and a job's status reads it back
   * (CloudWatch Logs FilterLogEvents). Without it, a status shows only what the job's finished chunks handed
   * back.
   */
  logGroupName: 'LOG_GROUP_NAME',
  /** Seconds a job's chunk works before it returns its progress to the state machine (default 60). */
  jobChunkSeconds: 'JOB_CHUNK_SECONDS',
  /** "true" lets requests ask for requestCancel and cancelThenTerminate (the role may cancel everywhere). */
  cancelRequests: 'CANCEL_REQUESTS',
  /** Comma-separated domains where the role may call RequestCancelWorkflowExecution (empty: none). */
  cancelDomains: 'CANCEL_DOMAINS',
  /** Comma-separated domains where the role may call DescribeWorkflowExecution (empty: none). */
  describeDomains: 'DESCRIBE_DOMAINS',
  /** The least-privilege verifier's configuration, as JSON (lambda/verify/config.ts). */
  verifyConfig: 'VERIFY_CONFIG',
  /**
   * Comma-separated digests of the termination policies deployed with the function (lib/policy-contract.ts,
   * policyDigest): a policy run whose policy is not one of them is refused.
   */
  policyDigests: 'POLICY_DIGESTS',
  /** The DynamoDB table of the event policies' circuit breakers (set only when an event policy exists). */
  breakerTable: 'BREAKER_TABLE',
  /**
   * Each event policy's circuit breaker, as JSON: `{ "NAME": { "cap": N, "windowSeconds": S } }`: at most N
   * runs acted on in any window of S seconds.
   */
  policyBreakers: 'POLICY_BREAKERS',
  /** The restore function's configuration, as JSON (lambda/restore/config.ts). */
  restoreConfig: 'RESTORE_CONFIG',
} as const;

/** Defaults of the pacing settings. */
export const DEFAULT_TERMINATE_RATE_PER_SECOND = 50;
export const DEFAULT_TERMINATE_BURST = 100;
export const DEFAULT_RATE_SHARES = 1;
/** How long a job's chunk works: progress shows in the state machine's history at least this often. */
export const DEFAULT_JOB_CHUNK_SECONDS = 60;
/**
 * The most chunks one job may run. A chunk costs about eight events of the execution's history, which
 * Step Functions caps at 25,000: 1000 chunks stay far below it, and at a minute each they are over 16 hours
 * of work (100,000 executions, SWF's most per domain, take 34 minutes at the default rate). A job that would
 * need more is refused when it is requested; a job that reaches it anyway fails.
 */
export const MAX_JOB_CHUNKS = 1000;
/**
 * SWF's per-account API quotas, each a token bucket: `burst` calls at once, refilled at `refillPerSecond`
 * (docs/facts.md, "SWF quotas"). The whole account shares each bucket, its workflows' deciders and workers too.
 */
export const SWF_QUOTAS = {
  TerminateWorkflowExecution: { burst: 2000, refillPerSecond: 60 },
  RequestCancelWorkflowExecution: { burst: 2000, refillPerSecond: 30 },
  ListOpenWorkflowExecutions: { burst: 200, refillPerSecond: 48 },
  CountOpenWorkflowExecutions: { burst: 2000, refillPerSecond: 6 },
  DescribeWorkflowExecution: { burst: 2000, refillPerSecond: 6 },
  // What restore calls (docs/facts.md, "SWF quotas": read from the Developer Guide's throttling table in
  // an earlier edition; the restore function paces itself well below each).
  StartWorkflowExecution: { burst: 2000, refillPerSecond: 200 },
  GetWorkflowExecutionHistory: { burst: 2000, refillPerSecond: 60 },
  ListClosedWorkflowExecutions: { burst: 200, refillPerSecond: 48 },
} as const;
/**
 * How fast restore calls SWF, all its invocations together (its function has a reserved concurrency of 1):
 * half of each quota's refill and a tenth of its burst, leaving the rest to the account's workflows. A
 * restored run costs two history reads (its termination, its start) and one start, so the history reads
 * bound it: about 15 runs a second (docs/facts.md, "SWF quotas").
 */
export const RESTORE_RATES = {
  start: { ratePerSecond: SWF_QUOTAS.StartWorkflowExecution.refillPerSecond / 2, burst: 200 },
  history: { ratePerSecond: SWF_QUOTAS.GetWorkflowExecutionHistory.refillPerSecond / 2, burst: 200 },
  list: { ratePerSecond: SWF_QUOTAS.ListClosedWorkflowExecutions.refillPerSecond / 4, burst: 12 },
} as const;
/** The kind of a restore job's state (the state machine sends it to the restore function). */
export const RESTORE_JOB_KIND = 'restore';
/** The metrics the restore function emits (namespace and service dimension as the handler's). */
export const RESTORE_METRIC = {
  started: 'RestoreStarted',
  skipped: 'RestoreSkipped',
  failed: 'RestoreFailed',
} as const;
/** The state machine's task that runs a restore job's chunk on the restore function. */
export const RESTORE_CHUNK_STATE = 'RestoreChunk';
/** Restore jobs' ids start with this, so `jobs` tells them from termination jobs. */
export const RESTORE_JOB_PREFIX = 'restore-';

/** TerminateWorkflowExecution's quota: the most the terminator may be set to. */
export const SWF_TERMINATE_QUOTA = SWF_QUOTAS.TerminateWorkflowExecution;

/**
 * The terminator's total rate and burst for List calls, divided among the rate shares like the terminate
 * rate: half of SWF's ListOpenWorkflowExecutions refill, leaving the rest to the account's others, and a
 * second's worth of the full refill as burst (a quarter of SWF's bucket).
 */
export const LIST_RATE_PER_SECOND = SWF_QUOTAS.ListOpenWorkflowExecutions.refillPerSecond / 2;
export const LIST_BURST = SWF_QUOTAS.ListOpenWorkflowExecutions.refillPerSecond;

/**
 * The DescribeWorkflowExecution rate and burst a sweep may use, all invocations together: half of SWF's
 * refill (6 per second, docs/facts.md "SWF quotas") and a tenth of its 2000 burst, leaving the rest to the
 * account's others.
 */
export const DESCRIBE_RATE_PER_SECOND = 3;
export const DESCRIBE_BURST = 200;
/** The RequestCancelWorkflowExecution rate the terminator uses, all invocations together (SWF: 30/s). */
export const CANCEL_RATE_PER_SECOND = 25;

/**
 * SWF: a domain has at most 100,000 open executions (docs/facts.md, "SWF quotas"), so no request can name
 * or match more.
 */
export const MAX_OPEN_EXECUTIONS_PER_DOMAIN = 100_000;

/**
 * What a request (or a policy) does to what it names or matches: terminate it; ask its decider to cancel it
 * (RequestCancelWorkflowExecution); or ask, and terminate what is still open after a grace period.
 */
export const ACTIONS = ['terminate', 'requestCancel', 'cancelThenTerminate'] as const;
export type ActionValue = (typeof ACTIONS)[number];

/** Bounds of cancelThenTerminate's grace period, in seconds: a minute to a week. */
export const GRACE_PERIOD_SECONDS = { min: 60, max: 7 * 24 * 3600 } as const;

/**
 * The most executions one run of cancelThenTerminate may cancel: its runs travel as an explicit list in its
 * job's state (with when each was asked), and 500 entries of the longest names (~400 bytes each) fit it.
 */
export const CANCEL_THEN_TERMINATE_MAX_EXECUTIONS = 500;

/**
 * The errors that refuse a request, by name (each class in lambda/errors.ts sets it): the handler answers them
 * as a refusal (counted `Rejected`, nothing acted on), not as a failure to retry.
 */
export const REQUEST_REFUSALS = [
  'InvalidRequestError',
  'DomainNotAllowedError',
  'TooManyExecutionsError',
  'JobTooLongError',
  'ActivityCheckTooLongError',
  'RestoreTooLargeError',
] as const;

/**
 * The errors a job's chunk throws for a job that must not go on, whatever a retry would find: its request is
 * refused (a redeployment narrowed what the function may do, or the chunk's event is not a valid job), it ran
 * as many chunks as it may, or it was redriven. The state machine fails the job at once on them
 * (lib/job-machine.ts).
 */
export const JOB_REFUSALS = [
  'InvalidRequestError',
  'DomainNotAllowedError',
  'TooManyExecutionsError',
  'JobTooLongError',
  'JobChunkLimitError',
  'JobRedriveError',
] as const;

/** Child policies SWF accepts for TerminateWorkflowExecution. */
export const CHILD_POLICIES = ['TERMINATE', 'REQUEST_CANCEL', 'ABANDON'] as const;
export type ChildPolicyValue = (typeof CHILD_POLICIES)[number];

/** The `source` and `detail-type` of a termination request event, unless the construct is given others. */
export const DEFAULT_REQUEST_SOURCE = 'swf-terminator';
export const DEFAULT_REQUEST_DETAIL_TYPE = 'SWF Termination Request';
export const DEFAULT_MAX_EXECUTIONS = 1000;

/** CloudWatch namespace of the metrics the handler emits (EMF, Powertools Metrics). */
export const METRICS_NAMESPACE = 'SwfTerminator';
/** The dimension Powertools Metrics adds to every metric; its value is POWERTOOLS_SERVICE_NAME. */
export const METRICS_SERVICE_DIMENSION = 'service';
/** Metric names the handler emits and the construct's metric* methods read. */
export const METRIC = {
  terminated: 'Terminated',
  alreadyClosed: 'AlreadyClosed',
  noOpenRun: 'NoOpenRun',
  /** Runs a stalled / idle selector matched that had resumed when described again, just before acting. */
  noLongerMatches: 'NoLongerMatches',
  failed: 'Failed',
  rejected: 'Rejected',
  wouldTerminate: 'WouldTerminate',
  cancelRequested: 'CancelRequested',
  wouldCancel: 'WouldCancel',
  /** Terminate and cancel calls SWF throttled in the invocation (each is queued again, never failed). */
  throttled: 'Throttled',
} as const;

/** The verifier's metric: 0 when every least-privilege check passed, else 1 (nothing proven counts as 1). */
export const VERIFY_METRIC = 'VerificationFailed';

/** Metrics of jobs, emitted (value 1) by the invocation where it happened. Not part of {@link METRIC}. */
export const JOB_METRIC = {
  /**
   * A job was started: a request too large for one invocation, one whose time ran out, or a
   * cancelThenTerminate.
   */
  started: 'JobsStarted',
  /** A job's chunk noticed that its execution was stopped (abort) and stopped terminating. */
  aborted: 'JobsAborted',
} as const;

/**
 * Step Functions' limit on a state's input and output (256 KiB), which carry a job's state from chunk to
 * chunk: the binding limit on a hand-off (Lambda's asynchronous payload is larger; docs/facts.md).
 */
export const HANDOFF_PAYLOAD_MAX_BYTES = 256 * 1024;

/**
 * The largest request (as JSON, in UTF-8 bytes) a job carries from one chunk to the next: the payload limit
 * less 64 KB for the rest of its state (provenance, totals, the failures listed so far). A larger request is
 * refused when it arrives, before any SWF call.
 */
export const HANDOFF_REQUEST_MAX_BYTES = 192 * 1024;

/** The key of a job's state in the event the state machine gives each chunk. */
export const JOB_EVENT_KEY = 'swfTerminatorJob';

/**
 * The keys of a control request (`{ "abort": ... }`, `{ "status": ... }`, `{ "jobs": ... }`,
 * `{ "resetBreaker": ... }`): exactly one.
 */
export const CONTROL_REQUEST_KINDS = ['abort', 'status', 'jobs', 'resetBreaker'] as const;

/** The name of the state machine's chunk state: its exits in an execution's history carry the job's state. */
export const JOB_CHUNK_STATE = 'Chunk';
/** The name of the state machine's Wait state (until a job's `notBefore`: cancelThenTerminate's grace periods). */
export const JOB_WAIT_STATE = 'GracePeriod';

/** SWF limits on TerminateWorkflowExecution's fields (docs/facts.md, "SWF API limits"). */
export const LIMITS = {
  nameMax: 256,
  runIdMax: 64,
  reasonMax: 256,
  detailsMax: 32768,
} as const;

// C0 controls, DEL and C1 controls: SWF forbids control characters in names.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_NAME_CHARS = /[:/|\u0000-\u001f\u007f-\u009f]/;

/**
 * Checks a value against SWF's naming rule (domain, workflowId, workflow type name, tag):
 * 1-256 characters, no `:` `/` `|` or control characters, not the literal `arn`.
 *
 * @returns undefined when the name is valid, else the rule it breaks, phrased to follow the field name.
 */
export function swfNameProblem(name: string): string | undefined {
  if (name.length < 1 || name.length > LIMITS.nameMax) {
    return `must be 1-${LIMITS.nameMax} characters (got ${name.length})`;
  }
  if (FORBIDDEN_NAME_CHARS.test(name)) {
    return 'must not contain ":", "/", "|" or control characters';
  }
  if (name === 'arn') {
    return 'must not be the literal "arn"';
  }
  return undefined;
}

/**
 * Checks a workflowId prefix: SWF's naming rule but for the literal `arn`, which is no workflowId but a fine
 * prefix (it matches `arn-1`).
 */
export function swfPrefixProblem(prefix: string): string | undefined {
  return swfNameProblem(prefix === 'arn' ? 'arn-' : prefix);
}

/** SWF's limit on a workflow type version (same character rule as names). */
export const WORKFLOW_TYPE_VERSION_MAX = 64;

/** Bounds of a selector's durations (openLongerThan, idleLongerThan), in whole seconds: a second to ten years. */
export const DURATION_SECONDS = { min: 1, max: 10 * 365 * 24 * 3600 } as const;

/**
 * The selector criteria that narrow a listing of the domain: a selector (a request's or a policy's) must give
 * one of them, or it would act on the whole domain. `stalled` and `startedAfter` do not narrow enough alone.
 */
export const NARROWING_CRITERIA = [
  'tag',
  'workflowType',
  'workflowIdPrefix',
  'startedBefore',
  'openLongerThanSeconds',
  'idleLongerThanSeconds',
] as const;

/** An execution a request names: a workflowId, and the run when given (else its open run). */
export interface ExecutionWire {
  readonly workflowId: string;
  readonly runId?: string;
}

/** A selector as a request carries it: dates as ISO 8601 strings, durations in whole seconds. */
export interface SelectorWire {
  readonly tag?: string;
  readonly workflowType?: { readonly name: string; readonly version?: string };
  readonly workflowIdPrefix?: string;
  readonly startedAfter?: string;
  readonly startedBefore?: string;
  readonly openLongerThanSeconds?: number;
  readonly stalled?: true;
  readonly idleLongerThanSeconds?: number;
}

/**
 * A termination request as JSON carries it, on every path: what an operator sends, what a policy's rule
 * delivers (the construct writes it: lib/policy-validation.ts), and what a job's state carries from chunk to
 * chunk (lambda/job/wire.ts). The handler's schema accepts exactly this shape (lambda/parse/request-schema.ts
 * holds a compile-time check), so tsc fails when the construct and the handler drift apart. One target: a
 * workflowId (with an optional runId), a list of executions, or a selector.
 */
export interface RequestWire {
  readonly domain: string;
  readonly workflowId?: string;
  readonly runId?: string;
  readonly executions?: readonly ExecutionWire[];
  readonly selector?: SelectorWire;
  readonly reason?: string;
  readonly details?: string;
  readonly childPolicy?: ChildPolicyValue;
  readonly action?: ActionValue;
  readonly gracePeriodSeconds?: number;
  readonly dryRun?: boolean;
  readonly maxExecutions?: number;
}

/**
 * Characters of TerminateWorkflowExecution's `details` kept for the provenance block the handler appends
 * (who asked, which event, which invocation): a request's own `details` may use the rest.
 */
export const DETAILS_PROVENANCE_RESERVE = 1024;

/** Longest `details` a request may carry: SWF's limit minus the provenance reserve. */
export const REQUEST_DETAILS_MAX = LIMITS.detailsMax - DETAILS_PROVENANCE_RESERVE;

/** The `reason` recorded in the workflow's history when a request gives none. */
export const DEFAULT_REASON = 'Terminated by cdk-swf-terminator';

/**
 * Minimum time the handler keeps in reserve at the end of an invocation for the calls in flight and the
 * hand-off to a job, one after the other: it covers the longest an SWF call can take, every attempt timing
 * out (`SWF_CALL_MAX_MS` in lambda/aws/swf-client.ts, 26.5 s), plus the two Step Functions calls that start
 * a job (`JOBS_CALL_MAX_MS` in lambda/aws/jobs.ts, 5 s each). The construct's minimum timeout (1 minute)
 * leaves time beyond it.
 */
export const MIN_END_RESERVE_MS = 40_000;
