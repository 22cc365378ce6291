/**
 * Reads who may make the terminator act: each function's resource-based policy, and each of its versions' and
 * aliases' (a permission may be added to any one of them, and invoking that qualifier reaches the same code),
 * with Lambda's GetPolicy, ListVersionsByFunction and ListAliases; and the request bus's policy with
 * EventBridge's DescribeEventBus. lambda/verify/audit-invokers.ts judges them.
 *
 * A function or bus without a policy is answered so (Lambda: ResourceNotFoundException; EventBridge: no
 * `Policy`). Throttling is retried with the project's backoff; anything else fails the run.
 */
import { DescribeEventBusCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  GetPolicyCommand,
  type LambdaClient,
  ListAliasesCommand,
  ListVersionsByFunctionCommand,
} from '@aws-sdk/client-lambda';
import { retryThrottled } from '../aws/swf-client';
import { describeError } from '../errors';
import type { ResourcePolicyRead } from './audit-invokers';
import { ReadFailedError } from './errors';
import { readDocument } from './policy-document';
import { everyPage } from './paging';
import type { ReadOptions } from './read-roles';

/** Items asked for per page of Lambda's lists. */
export const LAMBDA_PAGE_ITEMS = 1000;

/** One qualified or unqualified name of a function whose policy is read. */
interface Qualifier {
  readonly qualifier?: string;
  /** How a report names it: `(version 3)`, `(alias live)`. */
  readonly label: string;
}

/** Every version (but $LATEST, which is the function itself) and alias of a function. */
async function qualifiersOf(
  lambda: LambdaClient,
  FunctionName: string,
  options: ReadOptions,
): Promise<Qualifier[]> {
  const paged = <T>(call: () => Promise<T>) => retryThrottled(call, options.sleep);
  const versions = await everyPage(async (Marker) => {
    const page = await paged(() =>
      lambda.send(new ListVersionsByFunctionCommand({ FunctionName, Marker, MaxItems: LAMBDA_PAGE_ITEMS })),
    );
    const items = (page.Versions ?? [])
      .map((v) => v.Version)
      .filter((v): v is string => v !== undefined && v !== '$LATEST')
      .map((version) => ({ qualifier: version, label: ` (version ${version})` }));
    return { items, next: page.NextMarker };
  });
  const aliases = await everyPage(async (Marker) => {
    const page = await paged(() =>
      lambda.send(new ListAliasesCommand({ FunctionName, Marker, MaxItems: LAMBDA_PAGE_ITEMS })),
    );
    const items = (page.Aliases ?? [])
      .map((a) => a.Name)
      .filter((a): a is string => a !== undefined)
      .map((alias) => ({ qualifier: alias, label: ` (alias ${alias})` }));
    return { items, next: page.NextMarker };
  });
  return [...versions, ...aliases];
}

const isNotFound = (error: unknown) => error instanceof Error && error.name === 'ResourceNotFoundException';

/**
 * The resource-based policies of `functionArn` and of each of its versions and aliases; `label` names the
 * function in a report (`the terminating function`).
 */
export async function readFunctionPolicies(
  lambda: LambdaClient,
  functionArn: string,
  label: string,
  options: ReadOptions = {},
): Promise<ResourcePolicyRead[]> {
  const what = `the resource-based policies of ${functionArn}`;
  try {
    const qualifiers: Qualifier[] = [{ label: '' }, ...(await qualifiersOf(lambda, functionArn, options))];
    const reads: ResourcePolicyRead[] = [];
    for (const { qualifier, label: which } of qualifiers) {
      const subject = `${label} ${functionArn}${which}`;
      try {
        const answer = await retryThrottled(
          () => lambda.send(new GetPolicyCommand({ FunctionName: functionArn, Qualifier: qualifier })),
          options.sleep,
        );
        reads.push({
          subject,
          document:
            answer.Policy === undefined
              ? { ok: false, problem: 'Lambda gave no document' }
              : readDocument(answer.Policy),
        });
      } catch (error: unknown) {
        if (!isNotFound(error)) throw error;
        reads.push({ subject });
      }
    }
    return reads;
  } catch (error: unknown) {
    throw new ReadFailedError(what, describeError(error));
  }
}

/** The policy of the bus at `busArn` (undefined document when it has none). */
export async function readBusPolicy(
  events: EventBridgeClient,
  busArn: string,
  options: ReadOptions = {},
): Promise<ResourcePolicyRead> {
  const subject = `the request bus ${busArn}`;
  try {
    const bus = await retryThrottled(
      () => events.send(new DescribeEventBusCommand({ Name: busArn })),
      options.sleep,
    );
    return bus.Policy === undefined || bus.Policy === ''
      ? { subject }
      : { subject, document: readDocument(bus.Policy) };
  } catch (error: unknown) {
    throw new ReadFailedError(`the policy of ${busArn}`, describeError(error));
  }
}
