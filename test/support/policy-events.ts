/**
 * Helpers for policy tests: a policy run's event (a scheduled event, an SWF event adapted from the published
 * samples in test/fixtures/swf-events, or a preview), the SWF port of a handler aimed at the HTTP fake, and
 * what an invocation wrote: its log lines and its policy metrics.
 */
import './handler-env';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  POLICY_EVENT_KEY,
  POLICY_METRICS_DIMENSION,
  policyDigest,
  SCHEDULE_EVENT_DETAIL_TYPE,
  SCHEDULE_EVENT_SOURCE,
  type PolicyTriggerValue,
} from '../../lib/policy-contract';
import { createSwf, type SwfPort } from '../../lambda/aws/swf';
import { createSwfClient } from '../../lambda/aws/swf-client';
import type { FakeSwfServer, WorkflowOpenCounts } from './fake-swf';

export const POLICY_NAME = 'stuck-orders';
export const ACCOUNT = '123456789012';
/**
 * The account of the SWF events these helpers make (the published started sample's): the function a test
 * runs them on must be in it (FUNCTION_ARN).
 */
export const SWF_ACCOUNT = '444444444444';
/** The invoked function's ARN a handler test gives an SWF event's run: the account and region SWF's are. */
export const FUNCTION_ARN = `arn:aws:lambda:us-east-1:${SWF_ACCOUNT}:function:terminator`;
/** The scheduled time of a scheduled event (EventBridge states it to the second). */
export const SCHEDULED_TIME = '2025-06-01T12:00:00Z';
/** A scheduled run's request time: the end of the second its event states. */
export const REQUEST_TIME = new Date('2025-06-01T12:00:00.999Z');
/** When a scheduled run is invoked, by default: a few seconds after its scheduled time. */
export const INVOKED_AT = new Date('2025-06-01T12:00:04.250Z');
export const SCHEDULE_EVENT_ID = 'sched-0b3c6f1e';
export const SWF_EVENT_ID = 'swf-7d1e22aa';

/** `seconds` before the scheduled run's request time, in epoch seconds (the HTTP fake's unit). */
export function secondsBefore(seconds: number, from: Date = REQUEST_TIME): number {
  return Math.floor(from.getTime() / 1000) - seconds;
}

/** A policy as the construct writes it into its rule's target input. */
export function policyOf(
  request: Record<string, unknown>,
  overrides: { name?: string; trigger?: PolicyTriggerValue } = {},
): { name: string; trigger: PolicyTriggerValue; request: Record<string, unknown> } {
  return { name: overrides.name ?? POLICY_NAME, trigger: overrides.trigger ?? 'schedule', request };
}

/** EventBridge's scheduled event for the policy's rule. */
export function scheduledEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0',
    id: SCHEDULE_EVENT_ID,
    'detail-type': SCHEDULE_EVENT_DETAIL_TYPE,
    source: SCHEDULE_EVENT_SOURCE,
    account: ACCOUNT,
    time: SCHEDULED_TIME,
    region: 'us-east-1',
    resources: [`arn:aws:events:us-east-1:${ACCOUNT}:rule/swf-terminator-${POLICY_NAME}`],
    detail: {},
    ...overrides,
  };
}

/** A policy run: the policy and the event that triggered it. */
export function policyRun(policy: unknown, event: unknown): Record<string, unknown> {
  return { [POLICY_EVENT_KEY]: policy, event };
}

/**
 * The digest the construct would deploy for the policy a run carries (empty when it carries none), so a test
 * can run it as a policy deployed with the function: POLICY_DIGESTS lists exactly these.
 */
export function deployedDigest(run: unknown): string {
  const policy = (run as Record<string, unknown> | null)?.[POLICY_EVENT_KEY] as
    { name?: unknown; trigger?: unknown; request?: unknown } | undefined;
  if (typeof policy?.name !== 'string') return '';
  return policyDigest(policy.name, policy.trigger === 'schedule' ? 'schedule' : 'event', policy.request);
}

/** An operator's preview of a policy. */
export function previewRun(policy: unknown): Record<string, unknown> {
  return { [POLICY_EVENT_KEY]: policy, preview: true };
}

/** One of the published SWF sample events (test/fixtures/swf-events), as parsed JSON. */
export function swfFixture(name: string): Record<string, unknown> {
  const file = path.join(__dirname, '..', 'fixtures', 'swf-events', `${name}.json`);
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/** What to change in a sample SWF event so it speaks of another domain and execution. */
export interface SwfEventChanges {
  readonly id?: string;
  /** @default SWF_ACCOUNT (every sample is moved to it) */
  readonly account?: string;
  readonly time?: string;
  readonly domain?: string;
  readonly workflowId?: string;
  readonly runId?: string;
  readonly workflowType?: { name: string; version: string };
  /** Epoch milliseconds, as SWF's events carry them. */
  readonly startTimestamp?: number;
  readonly executionStatus?: 'OPEN' | 'CLOSED';
  readonly tagList?: string[] | null;
  readonly openCounts?: WorkflowOpenCounts;
  /** Epoch milliseconds, or null (never scheduled one). */
  readonly latestActivityTaskTimestamp?: number | null;
  readonly cancelRequested?: boolean;
}

/** A sample SWF event with the given changes (everything else as published). */
export function swfEvent(sample: string, changes: SwfEventChanges = {}): Record<string, unknown> {
  const event = swfFixture(sample) as {
    id: string;
    time: string;
    account: string;
    resources: string[];
    detail: {
      workflowExecutionDetail: {
        executionInfo: {
          execution: { workflowId: string; runId: string };
          workflowType: { name: string; version: string };
          startTimestamp: number;
          executionStatus: string;
          tagList: string[] | null;
          cancelRequested?: boolean;
        };
        openCounts: WorkflowOpenCounts;
        latestActivityTaskTimestamp: number | null;
      };
    };
  };
  const d = event.detail.workflowExecutionDetail;
  const info = d.executionInfo;
  if (changes.id !== undefined) event.id = changes.id;
  if (changes.time !== undefined) event.time = changes.time;
  const sampleAccount = event.account;
  event.account = changes.account ?? SWF_ACCOUNT;
  event.resources = event.resources.map((arn) => arn.replace(`:${sampleAccount}:`, `:${event.account}:`));
  if (changes.domain !== undefined) {
    event.resources = [`arn:aws:swf:us-east-1:${event.account}:/domain/${changes.domain}`];
  }
  if (changes.workflowId !== undefined) info.execution.workflowId = changes.workflowId;
  if (changes.runId !== undefined) info.execution.runId = changes.runId;
  if (changes.workflowType !== undefined) info.workflowType = { ...changes.workflowType };
  if (changes.startTimestamp !== undefined) info.startTimestamp = changes.startTimestamp;
  if (changes.executionStatus !== undefined) info.executionStatus = changes.executionStatus;
  if (changes.tagList !== undefined) info.tagList = changes.tagList;
  if (changes.cancelRequested !== undefined) info.cancelRequested = changes.cancelRequested;
  if (changes.openCounts !== undefined) d.openCounts = { ...changes.openCounts };
  if (changes.latestActivityTaskTimestamp !== undefined) {
    d.latestActivityTaskTimestamp = changes.latestActivityTaskTimestamp;
  }
  return event;
}

/** Open counts with nothing open (a stalled execution), or with the given ones. */
export function openCounts(counts: Partial<WorkflowOpenCounts> = {}): WorkflowOpenCounts {
  return {
    openActivityTasks: 0,
    openDecisionTasks: 0,
    openTimers: 0,
    openChildWorkflowExecutions: 0,
    openLambdaFunctions: 0,
    ...counts,
  };
}

/** The handler's SWF port on the real SDK (the handler's own client settings), aimed at the HTTP fake. */
export function fakeSwfPort(server: FakeSwfServer): SwfPort {
  return createSwf(
    createSwfClient({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
    }),
  );
}

/** A logger that writes its INFO lines and above (for captureOutput in handler-fixtures to read). */
export function infoLogger(): Logger {
  return new Logger({ logLevel: 'INFO' });
}

interface EmfDirective {
  readonly Dimensions: string[][];
  readonly Metrics: { Name: string }[];
}

/**
 * The metrics of EMF documents whose dimension set is exactly service + policy and whose policy is `policy`:
 * name to value.
 */
export function policyMetrics(
  docs: readonly Record<string, unknown>[],
  policy: string,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const doc of docs) {
    const directives =
      (doc._aws as { CloudWatchMetrics?: EmfDirective[] } | undefined)?.CloudWatchMetrics ?? [];
    for (const directive of directives) {
      const policyDimension = directive.Dimensions.some(
        (set) => [...set].sort().join(',') === ['service', POLICY_METRICS_DIMENSION].sort().join(','),
      );
      if (!policyDimension || doc[POLICY_METRICS_DIMENSION] !== policy) continue;
      for (const metric of directive.Metrics) out[metric.Name] = doc[metric.Name] as number;
    }
  }
  return out;
}
