/**
 * The restore function's Lambda entry (a function of its own, with its own role: the terminating function
 * gains nothing). Created once, at cold start: the configuration (RESTORE_CONFIG; a bad one fails the init,
 * naming the field), the SWF client, the logger and the metrics; lambda/restore/runtime.ts builds the rest.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '../../lib/contract';
import { createSwfClient } from '../aws/swf-client';
import { createRestoreSwf } from '../aws/swf-restore';
import { parseRestoreConfig } from './config';
import { createRestoreHandler, type RestoreHandler } from './runtime';

const config = parseRestoreConfig(process.env);
const logger = new Logger();
const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE });

/** The Lambda entry point. */
export const handler: RestoreHandler = createRestoreHandler({
  config,
  swf: createRestoreSwf(createSwfClient()),
  logger,
  metrics,
});
