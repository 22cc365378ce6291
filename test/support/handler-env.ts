/**
 * Environment for handler tests. Import it FIRST: the handler reads its configuration once, at module load.
 */
process.env.ALLOWED_DOMAINS = 'orders,billing';
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'AKIDTEST';
process.env.AWS_SECRET_ACCESS_KEY = 'test-secret';
process.env.POWERTOOLS_SERVICE_NAME = 'swf-terminator-test';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
delete process.env.DRY_RUN;
delete process.env.DEFAULT_CHILD_POLICY;
delete process.env.MAX_EXECUTIONS;
delete process.env.AWS_ENDPOINT_URL_SWF;

// Keep EMF metric documents (one per invocation) out of the test output; captureEmf() still sees them.
const write = process.stdout.write.bind(process.stdout);
const quiet = (chunk: string | Uint8Array, ...rest: never[]): boolean =>
  typeof chunk === 'string' && chunk.startsWith('{"_aws"') ? true : write(chunk, ...rest);
process.stdout.write = quiet;

export {};
