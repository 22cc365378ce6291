/**
 * The contract between the construct and the operator's command line (cli/): how the command finds a deployed
 * terminator's functions in its stack, and what it can say about its policies, without depending on the names
 * CloudFormation generated. Plain data, shared by both sides (like lib/contract.ts).
 *
 * The construct writes a metadata entry under {@link OPERATOR_METADATA_KEY} on each of its functions in the
 * template. The command reads the stack's template (CloudFormation GetTemplate), keeps the resources that
 * carry the entry, and maps their logical ids to the functions' names (DescribeStackResources).
 */
import { POLICY_EVENT_KEY } from './policy-contract';

/** The template metadata key the construct marks its functions with. */
export const OPERATOR_METADATA_KEY = 'cdk-swf-terminator';

/** Bumped when the entry's meaning changes: a command refuses an entry of a version it does not know. */
export const OPERATOR_METADATA_VERSION = 1;

/** The functions an operator's command calls. */
export const OPERATOR_FUNCTION_ROLES = ['handler', 'control', 'verifier', 'restore'] as const;
export type OperatorFunctionRole = (typeof OPERATOR_FUNCTION_ROLES)[number];

/** What a deployed policy is, as the command lists it. */
export interface PolicyManifest {
  readonly name: string;
  /** `schedule`: a sweep on a schedule; `event`: reacts to SWF's events (with a backstop sweep, if any). */
  readonly trigger: 'schedule' | 'event';
  /** The sweep's (or the backstop's) schedule expression, e.g. `rate(1 hour)`. */
  readonly schedule?: string;
  /** The SWF event types an event policy reacts to. */
  readonly eventTypes?: readonly string[];
  /** An event policy's circuit breaker: at most `cap` executions acted on per `windowSeconds`. */
  readonly breaker?: { readonly cap: number; readonly windowSeconds: number };
  /** The request each run sends (domain, selector, action, dryRun, maxExecutions...), as the rule carries it. */
  readonly request: Readonly<Record<string, unknown>>;
}

/** The metadata entry on one of a terminator's functions. */
export interface OperatorMetadata {
  readonly version: number;
  /** The terminator's construct path: a stack may hold more than one. */
  readonly terminator: string;
  readonly role: OperatorFunctionRole;
  /** The terminating function's entry only: the domains it may act in. */
  readonly domains?: readonly string[];
  /** The terminating function's entry only: the deployed policies. */
  readonly policies?: readonly PolicyManifest[];
}

/** A template resource the construct marked, with its entry. */
export interface MarkedResource {
  readonly logicalId: string;
  readonly metadata: OperatorMetadata;
}

/**
 * The resources of a template (its `Resources`, as JSON) that carry the operator's metadata entry: how the
 * command finds a terminator's functions, and how the local deployment (local/) runs them.
 */
export function markedResources(
  resources: Readonly<Record<string, { readonly Metadata?: Readonly<Record<string, unknown>> }>>,
): MarkedResource[] {
  return Object.entries(resources).flatMap(([logicalId, resource]) => {
    const metadata = resource.Metadata?.[OPERATOR_METADATA_KEY] as OperatorMetadata | undefined;
    return metadata === undefined ? [] : [{ logicalId, metadata }];
  });
}

/**
 * The payload that previews policy `name` now, whatever its dryRun: a sweep of its match that acts on nothing.
 * The construct publishes it (`TerminationPolicy.previewPayload`) and the command sends it.
 */
export function policyPreviewPayload(name: string, request: unknown): string {
  return JSON.stringify({ [POLICY_EVENT_KEY]: { name, trigger: 'schedule', request }, preview: true });
}
