import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * The handler as the package ships it: bundled with every dependency by `npm run build`
 * (scripts/bundle-handler.ts), so a consumer's synth only copies a directory. The path is the same from the
 * TypeScript source and from the compiled JavaScript beside it (jsii compiles lib/ in place).
 */
export const HANDLER_ASSET_DIR = path.join(__dirname, '..', 'assets', 'handler');

/** The handler's runtime: Node.js 24, which the bundle targets (`target: 'node24'` in the build script). */
export const HANDLER_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** The least-privilege verifier, bundled the same way (lambda/verify/handler.ts). */
export const VERIFIER_ASSET_DIR = path.join(__dirname, '..', 'assets', 'verifier');

/** Restore (allowRestore), bundled the same way (lambda/restore/handler.ts). */
export const RESTORE_ASSET_DIR = path.join(__dirname, '..', 'assets', 'restore');

/** The handler's code, failing with what to do when the package was not built. */
export function handlerCode(): lambda.Code {
  return assetCode(HANDLER_ASSET_DIR, 'handler');
}

/** The verifier's code, likewise. */
export function verifierCode(): lambda.Code {
  return assetCode(VERIFIER_ASSET_DIR, 'verifier');
}

/** Restore's code, likewise. */
export function restoreCode(): lambda.Code {
  return assetCode(RESTORE_ASSET_DIR, 'restore function');
}

function assetCode(dir: string, what: string): lambda.Code {
  if (!fs.existsSync(path.join(dir, 'index.js'))) {
    throw new Error(
      `SwfTerminator: the bundled ${what} is missing from ${dir}; build the package first (npm run build)`,
    );
  }
  return lambda.Code.fromAsset(dir);
}
