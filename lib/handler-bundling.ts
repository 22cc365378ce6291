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

/** The runtime of the handler: the newest Node.js that aws-cdk-lib names (and cdk-nag's L1 accepts). */
export const HANDLER_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** esbuild's target for {@link HANDLER_RUNTIME}: the same Node.js major, so no syntax is down-levelled. */
export const HANDLER_ESBUILD_TARGET = 'node24';

/** The handler's source file, bundled by esbuild at synth time. */
export const HANDLER_ENTRY = path.join(__dirname, '..', 'lambda', 'handler.ts');

/**
 * Bundling options for the handler: local esbuild only (synth never needs Docker), minified, with source
 * maps, CommonJS, and the AWS SDK bundled or not per {@link BUNDLE_AWS_SDK}.
 */
export function handlerBundlingOptions(): nodejs.BundlingOptions {
  return {
    minify: true,
    sourceMap: true,
    target: HANDLER_ESBUILD_TARGET,
    format: nodejs.OutputFormat.CJS,
    forceDockerBundling: false,
    // Keep `cdk synth` quiet: esbuild reports only warnings and errors.
    logLevel: nodejs.LogLevel.WARNING,
    // NodejsFunction leaves '@aws-sdk/*' external by default on Node.js 18+; an empty list bundles it.
    externalModules: BUNDLE_AWS_SDK ? [] : ['@aws-sdk/*'],
  };
}
