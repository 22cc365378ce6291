/**
 * A policy run's event, read: the policy (its name, trigger and the request it makes, as the construct wrote
 * them into the rule's target input) and the EventBridge event that triggered it (a scheduled event, or one of
 * SWF's own), or an operator's preview. Validated as strictly as any request: the policy's request goes
 * through parseRequest, with what policies may do (lambda/parse/action.ts).
 *
 * An SWF event only NAMES the run it is about (workflowId, runId): what the run is (type, tags, start time,
 * whether it is open, its activity) is read from SWF before it is acted on (lambda/act/run-checks.ts,
 * confirmRun), never taken from the event, which anyone who may invoke the function could have written, and
 * which an archive may replay days later. The event must come from the function's own account and region.
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
import type { Config } from '../config';
import { echo, InvalidRequestError } from '../errors';
import type { PolicyProvenance, PolicyText, Selector, TerminationRequest } from '../types';
import { policyPermits } from './action';
import { endOfStatedUnit, instantOf } from './instants';
import { invalidRequestFrom } from './issues';
import { parseRequest } from './request';

/** The run an SWF event names (everything else about it is read from SWF). */
export interface EventExecution {
  readonly workflowId: string;
  readonly runId: string;
}

/** Where the function runs: an SWF event must come from the same account and region. */
export interface FunctionHome {
  readonly account: string;
  readonly region: string;
}

/**
 * The function's account and region, from the invoked function's ARN (Lambda sets it on every invocation:
 * `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`); undefined when the context has none.
 */
export function functionHome(invokedFunctionArn: string | undefined): FunctionHome | undefined {
  const [, region, account] =
    /^arn:[^:]+:lambda:([^:]+):(\d{12}):function:/.exec(invokedFunctionArn ?? '') ?? [];
  return region === undefined || account === undefined ? undefined : { region, account };
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
  /** Trigger `event`: the run the event names. */
  readonly execution?: EventExecution;
  /** The policy as its rule delivered it (a job of the run carries it). */
  readonly text: PolicyText;
}

/** True when the event is a policy run (it carries a policy). */
export function isPolicyEvent(event: unknown): boolean {
  return typeof event === 'object' && event !== null && POLICY_EVENT_KEY in event;
}

function buildSchema() {
  const id = z.string().check(z.minLength(1), z.maxLength(256));
  // Only what names the run and what the rule matched on (its event type): the rest of the detail is not
  // read (the run's facts come from SWF), so a field SWF leaves out never refuses an event.
  const swfDetail = z.looseObject({
    eventType: id,
    workflowExecutionDetail: z.looseObject({
      executionInfo: z.looseObject({
        execution: z.looseObject({
          workflowId: id,
          runId: z.string().check(z.minLength(1), z.maxLength(64)),
        }),
      }),
    }),
  });
  const envelope = z.looseObject({
    id,
    source: id,
    'detail-type': id,
    account: id,
    region: z.exactOptional(id),
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
      event: z.exactOptional(envelope),
      preview: z.exactOptional(z.literal(true)),
    }),
    swfDetail,
  };
}

let schemas: ReturnType<typeof buildSchema> | undefined;

/**
 * Parses a policy run's event.
 *
 * @param requestId the invocation's request id (a preview's event id)
 * @param home the function's account and region (an SWF event must come from them)
 * @param now the invocation time
 * @throws InvalidRequestError naming the field, DomainNotAllowedError. Never calls SWF.
 */
export function parsePolicyEvent(
  event: unknown,
  config: Config,
  requestId: string,
  home: FunctionHome | undefined,
  now: Date,
): PolicyRun {
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
  const request = parseRequest(policy.request, config, field('request'), policyPermits(config));
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
      text: { name: policy.name, trigger: 'preview', request: policy.request },
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
  const text: PolicyText = { name: policy.name, trigger: policy.trigger, request: policy.request };
  if (!isSwfEvent)
    return {
      name: policy.name,
      trigger: policy.trigger,
      text,
      request: selectorRequest,
      provenance,
      requestTime,
    };

  checkHome(envelope, home);
  const detail = schemas.swfDetail.safeParse(envelope.detail, { reportInput: true });
  if (!detail.success) throw invalidRequestFrom('event.detail', detail.error.issues);
  const domain = domainOf(envelope.resources, home);
  if (domain !== request.domain) {
    throw new InvalidRequestError(
      'event.resources',
      `must name the policy's domain ${echo(request.domain)} in this function's account and region: SWF's ` +
        `events carry their domain's ARN (got ${echo(domain ?? 'none')})`,
    );
  }
  const named = detail.data.workflowExecutionDetail.executionInfo.execution;
  return {
    name: policy.name,
    trigger: 'event',
    text,
    request: selectorRequest,
    provenance: { ...provenance, eventType: detail.data.eventType },
    requestTime,
    execution: { workflowId: named.workflowId, runId: named.runId },
  };
}

/** Refuses an SWF event from another account or region than the function's own (or when it cannot tell). */
function checkHome(
  envelope: { account: string; region?: string | undefined },
  home: FunctionHome | undefined,
): void {
  if (home === undefined) {
    throw new InvalidRequestError(
      'event.account',
      "cannot be checked: the function's own account is unknown (the Lambda context has no invokedFunctionArn)",
    );
  }
  if (envelope.account !== home.account) {
    throw new InvalidRequestError(
      'event.account',
      `must be this function's account ${home.account}: SWF sends its events to its own account's default bus ` +
        `(got ${echo(envelope.account)})`,
    );
  }
  if (envelope.region !== home.region) {
    throw new InvalidRequestError(
      'event.region',
      `must be this function's region ${home.region} (got ${echo(envelope.region ?? 'none')})`,
    );
  }
}

/**
 * The domain an SWF event is about: the name in its one SWF domain ARN (`arn:...:swf:REGION:ACCOUNT:/domain/
 * NAME`), in the function's own account and region.
 */
function domainOf(resources: readonly string[], home: FunctionHome | undefined): string | undefined {
  const names = resources.flatMap((arn) => {
    const [, region, account, name] = /^arn:[^:]+:swf:([^:]*):([^:]*):\/domain\/(.+)$/.exec(arn) ?? [];
    return name !== undefined && region === home?.region && account === home?.account ? [name] : [];
  });
  return names.length === 1 ? names[0] : undefined;
}
