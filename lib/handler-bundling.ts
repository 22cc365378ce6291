import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * THE place that decides how the handler is bundled. Change it here and nowhere else.
 *
 * `true`: esbuild bundles the AWS SDK v3 clients the handler imports into the function's code, so the
 * deployed code runs exactly the SDK version pinned in package-lock.json, whatever the Lambda runtime ships.
 * `false`: `@aws-sdk/*` is left external and the runtime-provided SDK is used (smaller bundle, but the
 * SDK version then changes under the function when AWS updates the runtime).
 */
export const BUNDLE_AWS_SDK: boolean = true;

/**
 * Modules left to the Lambda runtime even when {@link BUNDLE_AWS_SDK} is true: `@aws-sdk/client-lambda`,
 * which the handler needs only to send a continuation and loads lazily (`await import(...)` in
 * lambda/continuation.ts, left as `require('@aws-sdk/client-lambda')` by esbuild). Bundled, its ~150 KB
 * were parsed at every cold start although most invocations never use it; the Node.js 22/24 runtimes ship
 * AWS SDK v3 with every client, so the runtime's copy serves the rare continuation. Chosen by the numbers
 * of `npm run bench` (cold start, "handler-bundled" vs "handler-all-bundled"). The SWF client, used by
 * every invocation, stays bundled at the pinned version.
 */
export const RUNTIME_PROVIDED_MODULES: readonly string[] = ['@aws-sdk/client-lambda'];

/** The runtime of the handler: the newest Node.js that aws-cdk-lib names (and cdk-nag's L1 accepts). */
export const HANDLER_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** esbuild's target for {@link HANDLER_RUNTIME}: the same Node.js major, so no syntax is down-levelled. */
export const HANDLER_ESBUILD_TARGET = 'node24';

/** The handler's source file, bundled by esbuild at synth time. */
export const HANDLER_ENTRY = path.join(__dirname, '..', 'lambda', 'handler.ts');

/**
 * Bundling options for the handler: local esbuild only (synth never needs Docker), minified, with source
 * maps that name the sources without embedding their text (stack traces still point at lambda/*.ts lines;
 * the map is a third the size, and `--enable-source-maps` parses it at every cold start), CommonJS, and the
 * AWS SDK bundled or not per {@link BUNDLE_AWS_SDK} (bar {@link RUNTIME_PROVIDED_MODULES}).
 */
export function handlerBundlingOptions(): nodejs.BundlingOptions {
  return {
    minify: true,
    sourceMap: true,
    sourcesContent: false,
    target: HANDLER_ESBUILD_TARGET,
    format: nodejs.OutputFormat.CJS,
    forceDockerBundling: false,
    // Keep `cdk synth` quiet: esbuild reports only warnings and errors.
    logLevel: nodejs.LogLevel.WARNING,
    // NodejsFunction leaves '@aws-sdk/*' external by default on Node.js 18+; this list replaces that default.
    externalModules: BUNDLE_AWS_SDK ? [...RUNTIME_PROVIDED_MODULES] : ['@aws-sdk/*'],
  };
}
