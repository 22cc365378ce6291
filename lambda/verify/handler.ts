/**
 * The verifier's Lambda entry: its collaborators created once, at cold start: the configuration (VERIFY_CONFIG,
 * lambda/verify/config.ts; a bad one fails the init, naming the field), the clients, the logger and the metrics;
 * the verification itself is lambda/verify/run.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '../../lib/contract';
import { createEventBridgeClient, createIamClient, createLambdaClient } from './clients';
import { parseVerifyConfig } from './config';
import { createVerifyHandler, type VerifyHandler } from './run';

export { SETTLE_DELAYS_MS } from './run';

// Cold start: the configuration checked (a bad one fails the init, naming the field), the client created once.
const config = parseVerifyConfig(process.env);
const logger = new Logger();
const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE });

/** The Lambda entry point. */
export const handler: VerifyHandler = createVerifyHandler({
  config,
  iam: createIamClient(),
  lambda: createLambdaClient(),
  events: createEventBridgeClient(),
  logger,
  metrics,
});
