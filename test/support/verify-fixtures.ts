/**
 * Shared fixtures of the verifier's tests: a configuration in the IAM tests' concrete environment, and an IAM
 * client (the real one, the verifier's settings) on a local fake IAM server.
 */
import type { IAMClient } from '@aws-sdk/client-iam';
import type { VerifyConfig } from '../../lambda/verify/checks';
import { createIamClient } from '../../lambda/verify/simulate';
import { FakeIamServer } from './fake-iam';
import { ACCOUNT, REGION } from './iam-simulation';

export { ACCOUNT, REGION };

/** A role of the account, by name. */
export const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

/** The terminating function's role alone, two domains, no cancel or Describe grant; `overrides` over it. */
export function verifyConfig(overrides: Partial<VerifyConfig> = {}): VerifyConfig {
  return {
    partition: 'aws',
    region: REGION,
    account: ACCOUNT,
    domains: ['orders', 'billing'],
    handlerRoleArn: roleArn('TerminatorRole'),
    cancelDomains: [],
    describeDomains: [],
    ...overrides,
  };
}

/** A fake IAM server and the verifier's IAM client on it. */
export interface FakeIam {
  readonly fake: FakeIamServer;
  readonly iam: IAMClient;
  close(): Promise<void>;
}

export async function startFakeIam(options: { pageSize?: number } = {}): Promise<FakeIam> {
  const fake = await FakeIamServer.start(options);
  const iam = createIamClient({
    endpoint: fake.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
  });
  return {
    fake,
    iam,
    close: async () => {
      iam.destroy();
      await fake.close();
    },
  };
}
