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
import { type ReadDocument, readDocument } from './policy-document';

/** The most items IAM gives on a page of a list (its `MaxItems` range is 1-1000). */
export const LIST_MAX_ITEMS = 1000;
/** A list still truncated after this many pages is refused (IAM would be looping). */
export const MAX_LIST_PAGES = 50;

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

/** Every item of a paged IAM list. */
async function everyPage<T>(
  what: string,
  page: (
    marker: string | undefined,
  ) => Promise<{ items: T[]; isTruncated: boolean | undefined; marker: string | undefined }>,
): Promise<T[]> {
  const items: T[] = [];
  let marker: string | undefined;
  for (let pages = 1; ; pages++) {
    const answer = await page(marker);
    items.push(...answer.items);
    if (answer.isTruncated !== true) return items;
    if (answer.marker === undefined || answer.marker === '') {
      throw new ReadFailedError(what, 'IAM said the list was truncated but gave no Marker');
    }
    if (pages >= MAX_LIST_PAGES)
      throw new ReadFailedError(what, `the list was still truncated after ${pages} pages`);
    marker = answer.marker;
  }
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
    const inlineNames = await everyPage(what, async (Marker) => {
      const page = await send(() =>
        iam.send(new ListRolePoliciesCommand({ RoleName, MaxItems: LIST_MAX_ITEMS, Marker })),
      );
      return { items: page.PolicyNames ?? [], isTruncated: page.IsTruncated, marker: page.Marker };
    });
    const policies: RolePolicyRead[] = [];
    for (const PolicyName of inlineNames) {
      const inline = await send(() => iam.send(new GetRolePolicyCommand({ RoleName, PolicyName })));
      policies.push({
        policy: `inline policy "${PolicyName}"`,
        document: readEncoded(inline.PolicyDocument),
      });
    }
    const attached = await everyPage(what, async (Marker) => {
      const page = await send(() =>
        iam.send(new ListAttachedRolePoliciesCommand({ RoleName, MaxItems: LIST_MAX_ITEMS, Marker })),
      );
      return { items: page.AttachedPolicies ?? [], isTruncated: page.IsTruncated, marker: page.Marker };
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
