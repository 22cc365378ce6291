/**
 * A policy run's event, read: the policy (its name, trigger and the request it makes, as the construct wrote
 * them into the rule's target input) and the EventBridge event that triggered it (a scheduled event, or one of
 * SWF's own), or an operator's preview. Validated as strictly as any request: the policy's request goes
 * through parseRequest, with what policies may do (lambda/parse/action.ts).
 */
import * as z from 'zod/mini';
import {
  policyDigest,
  POLICY_EVENT_KEY,
  POLICY_NAME_PATTERN,
  POLICY_TRIGGERS,
  type PolicyTriggerValue,
  SCHEDULE_EVENT_DETAIL_TYPE,
  SCHEDULE_EVENT_SOURCE,
  SWF_EVENT_DETAIL_TYPE,
  SWF_EVENT_SOURCE,
} from '../../lib/policy-contract';
import type { RunActivity } from '../aws/swf';
import type { Config } from '../config';
import { echo, InvalidRequestError } from '../errors';
import type { PolicyProvenance, Selector, TerminationRequest } from '../types';
import { policyPermits } from './action';
import { endOfStatedUnit, instantOf } from './instants';
import { invalidRequestFrom } from './issues';
import { parseRequest } from './request';

/** The execution an SWF event is about, as its detail describes it. */
export interface EventExecution {
  readonly workflowId: string;
  readonly runId: string;
  readonly workflowType: { readonly name: string; readonly version: string };
  readonly startTimestamp: Date;
  readonly open: boolean;
  readonly tagList: readonly string[];
  /** Someone asked it to cancel already. */
  readonly cancelRequested: boolean;
  readonly activity: RunActivity;
}

/** A policy run, parsed. */
export interface PolicyRun {
  readonly name: string;
  readonly trigger: PolicyTriggerValue;
  /** The policy's request: always a selector, its match. */
  readonly request: TerminationRequest & { readonly target: { kind: 'selector'; selector: Selector } };
  readonly provenance: PolicyProvenance;
  /** The scheduled time, or when SWF sent its event, or (a preview) the invocation time. */
  readonly requestTime: Date;
  /** Trigger `event`: the execution the event is about. */
  readonly execution?: EventExecution;
}

/** True when the event is a policy run (it carries a policy). */
export function isPolicyEvent(event: unknown): boolean {
  return typeof event === 'object' && event !== null && POLICY_EVENT_KEY in event;
}

function buildSchema() {
  const id = z.string().check(z.minLength(1), z.maxLength(256));
  const count = z.int().check(z.gte(0));
  const epochMs = z.number().check(z.gte(0));
  const executionInfo = z.looseObject({
    execution: z.looseObject({ workflowId: id, runId: id }),
    workflowType: z.looseObject({ name: id, version: id }),
    startTimestamp: epochMs,
    executionStatus: z.enum(['OPEN', 'CLOSED']),
    tagList: z.optional(z.nullable(z.array(id))),
    cancelRequested: z.optional(z.nullable(z.boolean())),
  });
  const swfDetail = z.looseObject({
    eventType: id,
    workflowExecutionDetail: z.looseObject({
      executionInfo,
      openCounts: z.looseObject({
        openActivityTasks: count,
        openDecisionTasks: count,
        openTimers: count,
        openChildWorkflowExecutions: count,
        openLambdaFunctions: count,
      }),
      latestActivityTaskTimestamp: z.optional(z.nullable(epochMs)),
    }),
  });
  const envelope = z.looseObject({
    id,
    source: id,
    'detail-type': id,
    account: id,
    time: z.iso.datetime({ offset: true }),
    resources: z.array(z.string().check(z.maxLength(2048))),
    detail: z.unknown(),
  });
  const policy = z.strictObject({
    name: z.string().check(z.regex(POLICY_NAME_PATTERN)),
    // A preview is asked for with `preview: true`, never written as the policy's trigger.
    trigger: z.enum(POLICY_TRIGGERS.filter((t) => t !== 'preview') as ['schedule', 'event', 'backstop']),
    request: z.unknown(),
  });
  return {
    event: z.strictObject({
      [POLICY_EVENT_KEY]: policy,
      event: z.optional(envelope),
      preview: z.optional(z.literal(true)),
    }),
    swfDetail,
  };
}

let schemas: ReturnType<typeof buildSchema> | undefined;

/**
 * Parses a policy run's event.
 *
 * @param requestId the invocation's request id (a preview's event id)
 * @param now the invocation time
 * @throws InvalidRequestError naming the field, DomainNotAllowedError. Never calls SWF.
 */
export function parsePolicyEvent(event: unknown, config: Config, requestId: string, now: Date): PolicyRun {
  schemas ??= buildSchema();
  const parsed = schemas.event.safeParse(event, { reportInput: true });
  if (!parsed.success) throw invalidRequestFrom('', parsed.error.issues);
  const { [POLICY_EVENT_KEY]: policy, event: envelope, preview } = parsed.data;
  const field = (path: string) => `${POLICY_EVENT_KEY}.${path}`;
  // Only a preview (which acts on nothing) may carry a policy the function was not deployed with: any other
  // run would act with the permits of policies.
  if (
    preview !== true &&
    !config.policyDigests.includes(policyDigest(policy.name, policy.trigger, policy.request))
  ) {
    throw new InvalidRequestError(
      POLICY_EVENT_KEY,
      'is not a policy deployed with this function (its name, trigger and request must be exactly as the ' +
        'construct wrote them into the rule); to try a policy that is not deployed, send it with preview: true',
    );
  }
  // An SWF event carries what the stalled and idle criteria read: its run makes no Describe call.
  const permits =
    envelope !== undefined && policy.trigger === 'event'
      ? { ...policyPermits(config), describeDomains: config.allowedDomains }
      : policyPermits(config);
  const request = parseRequest(policy.request, config, field('request'), permits);
  if (request.target.kind !== 'selector') {
    throw new InvalidRequestError(field('request'), 'must have a selector: a policy sweeps what it matches');
  }
  const selectorRequest = { ...request, target: request.target };

  if (preview === true) {
    if (envelope !== undefined)
      throw new InvalidRequestError('preview', 'is not allowed together with event');
    return {
      name: policy.name,
      trigger: 'preview',
      request: { ...selectorRequest, dryRun: true },
      provenance: {
        via: 'policy',
        policy: policy.name,
        trigger: 'preview',
        eventId: requestId,
        time: now.toISOString(),
      },
      requestTime: now,
    };
  }
  if (envelope === undefined) {
    throw new InvalidRequestError(
      'event',
      'is required: the event that triggered the policy (or preview: true)',
    );
  }
  const isSwfEvent = policy.trigger === 'event';
  const [source, detailType] = isSwfEvent
    ? [SWF_EVENT_SOURCE, SWF_EVENT_DETAIL_TYPE]
    : [SCHEDULE_EVENT_SOURCE, SCHEDULE_EVENT_DETAIL_TYPE];
  if (envelope.source !== source || envelope['detail-type'] !== detailType) {
    throw new InvalidRequestError(
      'event',
      `must be a ${JSON.stringify(detailType)} event from ${source} for a policy triggered by ${policy.trigger} ` +
        `(got ${echo(envelope['detail-type'])} from ${echo(envelope.source)})`,
    );
  }
  // As for a request's event: the end of the second EventBridge states, never later than the invocation.
  const requestTime = new Date(Math.min(endOfStatedUnit(instantOf(envelope.time)), now.getTime()));
  const provenance: PolicyProvenance = {
    via: 'policy',
    policy: policy.name,
    trigger: policy.trigger,
    eventId: envelope.id,
    time: envelope.time,
  };
  if (!isSwfEvent)
    return { name: policy.name, trigger: policy.trigger, request: selectorRequest, provenance, requestTime };

  const detail = schemas.swfDetail.safeParse(envelope.detail, { reportInput: true });
  if (!detail.success) throw invalidRequestFrom('event.detail', detail.error.issues);
  const domain = domainOf(envelope.resources);
  if (domain !== request.domain) {
    throw new InvalidRequestError(
      'event.resources',
      `must name the policy's domain ${echo(request.domain)}: SWF's events carry their domain's ARN (got ${echo(domain ?? 'none')})`,
    );
  }
  const d = detail.data.workflowExecutionDetail;
  const info = d.executionInfo;
  const startTimestamp = new Date(info.startTimestamp);
  const latest = d.latestActivityTaskTimestamp;
  return {
    name: policy.name,
    trigger: 'event',
    request: selectorRequest,
    provenance: { ...provenance, eventType: detail.data.eventType },
    requestTime,
    execution: {
      workflowId: info.execution.workflowId,
      runId: info.execution.runId,
      workflowType: { name: info.workflowType.name, version: info.workflowType.version },
      startTimestamp,
      open: info.executionStatus === 'OPEN',
      tagList: info.tagList ?? [],
      cancelRequested: info.cancelRequested === true,
      activity: {
        openCounts: { ...d.openCounts },
        ...(latest === undefined || latest === null ? {} : { latestActivityTaskTimestamp: new Date(latest) }),
        startTimestamp,
      },
    },
  };
}

/** The domain an SWF event is about: the name in its one SWF domain ARN (`arn:...:swf:...:/domain/NAME`). */
function domainOf(resources: readonly string[]): string | undefined {
  const names = resources
    .map((arn) => /^arn:[^:]+:swf:[^:]*:[^:]*:\/domain\/(.+)$/.exec(arn)?.[1])
    .filter((name): name is string => name !== undefined);
  return names.length === 1 ? names[0] : undefined;
}
