/**
 * The construct's props, checked at synth time and resolved to the values it deploys. Every refusal names the
 * prop and the rule (`SwfTerminator: <prop> <value> must ...`); a value that is a token (known only at deploy
 * time) is passed through unchecked. The limits are SWF's, EventBridge's and Lambda's own (docs/facts.md).
 */
import { Annotations, Duration, Token } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import {
  CHILD_POLICIES,
  DEFAULT_JOB_CHUNK_SECONDS,
  DEFAULT_MAX_EXECUTIONS,
  DEFAULT_RATE_SHARES,
  DEFAULT_REQUEST_DETAIL_TYPE,
  DEFAULT_REQUEST_SOURCE,
  DEFAULT_TERMINATE_BURST,
  DEFAULT_TERMINATE_RATE_PER_SECOND,
  MAX_JOB_CHUNKS,
  MAX_OPEN_EXECUTIONS_PER_DOMAIN,
  SWF_TERMINATE_QUOTA,
  swfNameProblem,
} from './contract';
import type { SwfTerminatorProps } from './swf-terminator-props';

/** EventBridge PutRule: EventPattern is at most 4096 characters. */
const EVENT_PATTERN_MAX_LENGTH = 4096;
/**
 * EventBridge PutEvents: DetailType is at most 128 characters. Source has no documented maximum: 256 is this
 * construct's own bound (an SWF name's), so a runaway value is caught at synth (docs/facts.md).
 */
const SOURCE_MAX_LENGTH = 256;
const DETAIL_TYPE_MAX_LENGTH = 128;
/** EventBridge's own retry policy: at most 185 attempts, 60 s to 24 h. */
const MAX_RETRY_ATTEMPTS = 185;

/** The props with every default applied, all checked. */
export interface TerminatorSettings {
  readonly domains: string[];
  readonly requestSource: string;
  readonly requestDetailType: string;
  readonly maxExecutions: number;
  readonly dryRun: boolean;
  readonly retryAttempts: number;
  readonly maxEventAge: Duration;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly logRetention: logs.RetentionDays;
  readonly terminateRate: number;
  readonly terminateBurst: number;
  readonly rateShares: number;
}

/**
 * Applies the defaults and checks every prop; throws on the first one that breaks a rule. Warns (on `scope`)
 * when a request of the largest allowed size could not finish even as a job.
 */
export function resolveSettings(scope: Construct, props: SwfTerminatorProps): TerminatorSettings {
  const settings: TerminatorSettings = {
    domains: props.domains,
    requestSource: props.requestSource ?? DEFAULT_REQUEST_SOURCE,
    requestDetailType: props.requestDetailType ?? DEFAULT_REQUEST_DETAIL_TYPE,
    maxExecutions: props.maxExecutionsPerRequest ?? DEFAULT_MAX_EXECUTIONS,
    dryRun: props.dryRun ?? false,
    retryAttempts: props.retryAttempts ?? MAX_RETRY_ATTEMPTS,
    maxEventAge: props.maxEventAge ?? Duration.hours(24),
    memorySize: props.memorySize ?? 256,
    timeout: props.timeout ?? Duration.minutes(5),
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
    terminateRate: props.terminateRatePerSecond ?? DEFAULT_TERMINATE_RATE_PER_SECOND,
    terminateBurst: props.terminateBurst ?? DEFAULT_TERMINATE_BURST,
    rateShares: props.reservedConcurrentExecutions ?? DEFAULT_RATE_SHARES,
  };
  validateDomains(settings.domains);
  validateChildPolicy(props.childPolicy);
  validateRequestSource(settings.requestSource);
  validateRequestDetailType(settings.requestDetailType);
  validateInteger('maxExecutionsPerRequest', settings.maxExecutions, 1, MAX_OPEN_EXECUTIONS_PER_DOMAIN);
  validateInteger('retryAttempts', settings.retryAttempts, 0, MAX_RETRY_ATTEMPTS);
  validateDuration('maxEventAge', settings.maxEventAge, Duration.seconds(60), Duration.hours(24));
  validateInteger('memorySize', settings.memorySize, 128, 10240);
  // The handler keeps 40 s of every invocation in reserve (MIN_END_RESERVE_MS): a shorter timeout would
  // leave no time to terminate anything.
  validateDuration('timeout', settings.timeout, Duration.minutes(1), Duration.minutes(15));
  validateTerminateRate(settings.terminateRate);
  validateInteger(
    'terminateBurst',
    settings.terminateBurst,
    1,
    SWF_TERMINATE_QUOTA.burst,
    `(SWF's per-account burst for TerminateWorkflowExecution is ${SWF_TERMINATE_QUOTA.burst})`,
  );
  validateRateShares(settings.rateShares, settings.terminateBurst);
  if (props.eventBus && props.eventBusName !== undefined) {
    throw new Error(
      'SwfTerminator: eventBus and eventBusName were both given; eventBusName names the bus this ' +
        'construct creates, so give either an existing eventBus or an eventBusName, not both',
    );
  }
  warnIfRequestCannotFinish(scope, settings);
  return settings;
}

function fail(message: string): never {
  throw new Error(`SwfTerminator: ${message}`);
}

function validateDomains(domains: readonly string[]): void {
  if (!Token.isUnresolved(domains) && domains.length === 0) {
    fail('domains is empty; give at least one SWF domain name');
  }
  const seen = new Set<string>();
  domains.forEach((domain, index) => {
    if (Token.isUnresolved(domain)) return;
    const problem = swfNameProblem(domain);
    if (problem !== undefined) {
      fail(`domains[${index}] ${JSON.stringify(domain)} is not a valid SWF domain name: it ${problem}`);
    }
    // The handler receives the domains as one comma-separated variable (ALLOWED_DOMAINS): a name that
    // holds a comma or edge whitespace would reach it as a different list than the one IAM and the rule use.
    if (domain.includes(',') || domain.trim() !== domain) {
      fail(
        `domains[${index}] ${JSON.stringify(domain)} cannot be passed to the handler: it must not contain "," ` +
          'or start or end with whitespace',
      );
    }
    if (seen.has(domain)) {
      fail(`domains[${index}] ${JSON.stringify(domain)} is a duplicate; each domain must be listed once`);
    }
    seen.add(domain);
  });
}

function validateChildPolicy(childPolicy: string | undefined): void {
  if (childPolicy === undefined || Token.isUnresolved(childPolicy)) return;
  if (!(CHILD_POLICIES as readonly string[]).includes(childPolicy)) {
    fail(
      `childPolicy ${JSON.stringify(childPolicy)} is not a child policy; it must be one of ${CHILD_POLICIES.join(', ')}`,
    );
  }
}

function validateRequestSource(source: string): void {
  if (Token.isUnresolved(source)) return;
  if (source.length < 1 || source.length > SOURCE_MAX_LENGTH) {
    fail(
      `requestSource ${JSON.stringify(source)} must be 1-${SOURCE_MAX_LENGTH} characters (got ${source.length})`,
    );
  }
  if (source.toLowerCase().startsWith('aws.')) {
    fail(
      `requestSource ${JSON.stringify(source)} must not start with "aws." (reserved for events from AWS services)`,
    );
  }
}

function validateRequestDetailType(detailType: string): void {
  if (Token.isUnresolved(detailType)) return;
  if (detailType.length < 1 || detailType.length > DETAIL_TYPE_MAX_LENGTH) {
    fail(
      `requestDetailType ${JSON.stringify(detailType)} must be 1-${DETAIL_TYPE_MAX_LENGTH} characters ` +
        `(got ${detailType.length})`,
    );
  }
  // The rule matches the detail-type exactly and the handler reads it exactly: an edge space would be kept by
  // both, and is almost surely a slip that senders would not reproduce.
  if (detailType.trim() !== detailType) {
    fail(`requestDetailType ${JSON.stringify(detailType)} must not start or end with whitespace`);
  }
}

function validateInteger(prop: string, value: number, min: number, max: number, why?: string): void {
  if (Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Infinity ? `>= ${min}` : `between ${min} and ${max}`;
    fail(`${prop} ${value} must be an integer ${range}${why === undefined ? '' : ` ${why}`}`);
  }
}

function validateDuration(prop: string, value: Duration, min: Duration, max: Duration): void {
  if (value.isUnresolved()) return;
  const millis = value.toMilliseconds();
  if (millis < min.toMilliseconds() || millis > max.toMilliseconds()) {
    fail(
      `${prop} ${value.toHumanString()} must be between ${min.toHumanString()} and ${max.toHumanString()}`,
    );
  }
}

function validateTerminateRate(rate: number): void {
  if (Token.isUnresolved(rate)) return;
  const max = SWF_TERMINATE_QUOTA.refillPerSecond;
  if (!Number.isFinite(rate) || rate <= 0 || rate > max) {
    fail(
      `terminateRatePerSecond ${rate} must be a number > 0 and <= ${max} (SWF refills TerminateWorkflowExecution ` +
        `at ${max} per second per account, a bucket the account's own deciders and workers share)`,
    );
  }
}

function validateRateShares(shares: number, burst: number): void {
  if (Token.isUnresolved(shares)) return;
  if (shares === 0) {
    fail(
      'reservedConcurrentExecutions 0 would stop the function from ever running (Lambda throttles every ' +
        'invocation); it must be an integer >= 1: the number of requests that may run at once, each at ' +
        'terminateRatePerSecond / reservedConcurrentExecutions',
    );
  }
  validateInteger(
    'reservedConcurrentExecutions',
    shares,
    1,
    Infinity,
    '(it is also the number of shares the terminate rate is divided into)',
  );
  if (!Token.isUnresolved(burst) && burst < shares) {
    fail(
      `terminateBurst ${burst} is less than reservedConcurrentExecutions ${shares}: each of the ${shares} ` +
        'invocations that may run at once gets terminateBurst / reservedConcurrentExecutions tokens and needs ' +
        `at least one, so terminateBurst must be >= ${shares} (or reservedConcurrentExecutions <= ${burst})`,
    );
  }
}

/**
 * Warns (does not fail) when a request of maxExecutionsPerRequest executions could not finish even as a job:
 * at the rate one invocation may use, it would need more than MAX_JOB_CHUNKS chunks, and is refused.
 */
function warnIfRequestCannotFinish(scope: Construct, settings: TerminatorSettings): void {
  const { maxExecutions, terminateRate, rateShares } = settings;
  if ([maxExecutions, terminateRate, rateShares].some((n) => Token.isUnresolved(n))) return;
  const seconds = maxExecutions / (terminateRate / rateShares);
  const maxSeconds = MAX_JOB_CHUNKS * DEFAULT_JOB_CHUNK_SECONDS;
  if (seconds <= maxSeconds) return;
  Annotations.of(scope).addWarningV2(
    'swf-terminator:request-cannot-finish',
    `SwfTerminator: a request of maxExecutionsPerRequest ${maxExecutions} executions cannot finish: at ` +
      `${terminateRate}/${rateShares} terminations per second per invocation (terminateRatePerSecond / ` +
      `reservedConcurrentExecutions) it takes about ${Math.ceil(seconds)} s, more than the ${maxSeconds} s ` +
      `(${MAX_JOB_CHUNKS} chunks) a job may run, and is refused. Raise terminateRatePerSecond, or lower ` +
      'maxExecutionsPerRequest or reservedConcurrentExecutions.',
  );
}

/** Checks the rule's event pattern against EventBridge's length limit (many or long domains can reach it). */
export function validateEventPatternLength(pattern: events.EventPattern): void {
  // What EventBridge receives: the keys as CloudFormation renders them ('detail-type').
  const json = JSON.stringify({
    source: pattern.source,
    'detail-type': pattern.detailType,
    detail: pattern.detail,
  });
  if (Token.isUnresolved(json)) return;
  if (json.length > EVENT_PATTERN_MAX_LENGTH) {
    fail(
      `the rule's event pattern is ${json.length} characters, over EventBridge's limit of ` +
        `${EVENT_PATTERN_MAX_LENGTH}; choose fewer or shorter domains (domains) or a shorter ` +
        'requestSource / requestDetailType',
    );
  }
}
