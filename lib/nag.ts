import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * A resource as cdk-nag names it in a finding: the resolved value with `{ Ref: X }` written `<X>` and
 * `{ Fn::GetAtt: [R, A] }` written `<R.A>`, joins joined. Acknowledging `AwsSolutions-IAM5[Resource::...]`
 * with exactly this names the one wildcard resource that is meant, and no other.
 */
function nagName(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === 'string') return `<${v.Ref}>`;
  const getAtt = v['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return `<${getAtt.join('.')}>`;
  const join = v['Fn::Join'];
  if (Array.isArray(join)) {
    const [separator, parts] = join as [string, unknown[]];
    return parts.map(nagName).join(separator);
  }
  return JSON.stringify(value);
}

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 (wildcard permission) on `scope` for `resource` only: a wildcard
 * that is meant, with the reason. Any other wildcard on the same scope is still reported.
 */
export function acknowledgeWildcardResource(scope: IConstruct, resource: string, reason: string): void {
  const name = nagName(Stack.of(scope).resolve(resource));
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${name}]`, reason });
}
