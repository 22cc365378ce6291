/**
 * Reads a role whole with IAM's read APIs: its trust policy (GetRole), every inline policy
 * (ListRolePolicies, GetRolePolicy) and every attached managed policy, the account's or AWS's, at its default
 * version (ListAttachedRolePolicies, GetPolicy, GetPolicyVersion). Lists are followed page by page. IAM hands
 * the documents back URL-encoded; they are decoded and read (lambda/verify/policy-document.ts) for
 * lambda/verify/audit-roles.ts to judge.
 *
 * A role has no other identity policies: roles are in no group; a permissions boundary and a session policy
 * only take away. Throttling is retried with the project's backoff; anything else fails the run.
 */
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { retryThrottled } from '../aws/swf-client';
import { describeError } from '../errors';
import type { RolePolicyRead, RoleRead } from './audit-roles';
import { ReadFailedError } from './errors';
import { everyPage, type Page } from './paging';
import { type ReadDocument, readDocument } from './policy-document';

/** The most items IAM gives on a page of a list (its `MaxItems` range is 1-1000). */
export const LIST_MAX_ITEMS = 1000;

export interface ReadOptions {
  /** The wait between throttled attempts (tests make it instant). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** A role's name: the last part of its ARN (`arn:...:role/PATH/NAME`). */
export function roleNameOf(roleArn: string): string {
  return roleArn.slice(roleArn.lastIndexOf('/') + 1);
}

/** An IAM document's text, URL-encoded (RFC 3986), read. */
function readEncoded(text: string | undefined): ReadDocument {
  if (text === undefined) return { ok: false, problem: 'IAM gave no document' };
  let json: string;
  try {
    json = decodeURIComponent(text);
  } catch {
    return { ok: false, problem: 'its URL encoding is broken' };
  }
  return readDocument(json);
}

/**
 * An IAM list page as {@link everyPage} follows it: IAM says `IsTruncated` and gives the `Marker` of the next
 * page; truncated without a marker is an answer that cannot be followed.
 */
function iamPage<T>(
  items: readonly T[] | undefined,
  isTruncated: boolean | undefined,
  marker: string | undefined,
): Page<T> {
  if (isTruncated === true && (marker === undefined || marker === '')) {
    throw new Error('IAM said the list was truncated but gave no Marker');
  }
  return { items: items ?? [], next: isTruncated === true ? marker : undefined };
}

/** Reads `roleArn`'s trust policy and every policy that applies to it. */
export async function readRole(
  iam: IAMClient,
  roleArn: string,
  options: ReadOptions = {},
): Promise<RoleRead> {
  const RoleName = roleNameOf(roleArn);
  const what = `the policies of ${roleArn}`;
  const send = <T>(call: () => Promise<T>) => retryThrottled(call, options.sleep);
  try {
    const role = await send(() => iam.send(new GetRoleCommand({ RoleName })));
    const inlineNames = await everyPage(async (Marker) => {
      const page = await send(() =>
        iam.send(new ListRolePoliciesCommand({ RoleName, MaxItems: LIST_MAX_ITEMS, Marker })),
      );
      return iamPage(page.PolicyNames, page.IsTruncated, page.Marker);
    });
    const policies: RolePolicyRead[] = [];
    for (const PolicyName of inlineNames) {
      const inline = await send(() => iam.send(new GetRolePolicyCommand({ RoleName, PolicyName })));
      policies.push({
        policy: `inline policy "${PolicyName}"`,
        document: readEncoded(inline.PolicyDocument),
      });
    }
    const attached = await everyPage(async (Marker) => {
      const page = await send(() =>
        iam.send(new ListAttachedRolePoliciesCommand({ RoleName, MaxItems: LIST_MAX_ITEMS, Marker })),
      );
      return iamPage(page.AttachedPolicies, page.IsTruncated, page.Marker);
    });
    for (const { PolicyArn } of attached) {
      if (PolicyArn === undefined)
        throw new ReadFailedError(what, 'IAM listed an attached policy without its ARN');
      const policy = await send(() => iam.send(new GetPolicyCommand({ PolicyArn })));
      const VersionId = policy.Policy?.DefaultVersionId;
      if (VersionId === undefined)
        throw new ReadFailedError(what, `IAM gave no default version of ${PolicyArn}`);
      const version = await send(() => iam.send(new GetPolicyVersionCommand({ PolicyArn, VersionId })));
      policies.push({
        policy: `managed policy ${PolicyArn} (version ${VersionId})`,
        document: readEncoded(version.PolicyVersion?.Document),
      });
    }
    return { roleArn, trust: readEncoded(role.Role?.AssumeRolePolicyDocument), policies };
  } catch (error: unknown) {
    if (error instanceof ReadFailedError) throw error;
    throw new ReadFailedError(what, describeError(error));
  }
}
