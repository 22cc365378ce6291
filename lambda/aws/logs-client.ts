/**
 * The CloudWatch Logs client, in a file of its own: the package bundles it apart from the handler
 * (scripts/bundle-handler.ts, LAZY_MODULES) and the handler loads it on first use, when a job's status reads
 * the log group (lambda/aws/job-logs.ts). Every cold start of both functions is spared its code.
 */
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';

export { FilterLogEventsCommand };

/** A client on the SDK's standard configuration (region, credentials, AWS_ENDPOINT_URL_CLOUDWATCH_LOGS). */
export function createLogsClient(): CloudWatchLogsClient {
  return new CloudWatchLogsClient({});
}
