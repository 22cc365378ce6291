/**
 * The dashboard's Logs Insights queries (lib/dashboard.ts), kept apart so that a test can run them over the
 * log lines the shipped handler writes (test/package/monitoring-seams.test.ts): every field they read and every
 * message they filter on must be in those lines.
 */

/** The Logs Insights query of the latest terminations, with who asked and why (fields the handler writes). */
export const LATEST_TERMINATIONS_QUERY = [
  'fields @timestamp, domain, workflowId, runId, reason, requestedBy.via, jobId',
  'filter message = "execution terminated"',
  'sort @timestamp desc',
  'limit 50',
];
/** The Logs Insights query of the latest executions that could not be terminated, with the error. */
export const LATEST_FAILURES_QUERY = [
  'fields @timestamp, domain, workflowId, runId, error, reason, jobId',
  'filter message = "execution failed"',
  'sort @timestamp desc',
  'limit 50',
];
