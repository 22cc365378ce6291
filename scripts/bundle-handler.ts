/**
 * Bundles the Lambda handler for the package: `lambda/handler.ts` and every module it imports (the AWS SDK
 * clients, Powertools, zod), at the versions package-lock.json pins, into one CommonJS file in
 * `assets/handler/`, which the package ships and the construct deploys with `Code.fromAsset`. A consumer's
 * synth therefore never bundles: it needs neither esbuild nor Docker.
 *
 * Deterministic: the same sources and lockfile give the same bytes (no timestamps, source paths relative
 * to the repository), so the asset's hash, and a deployment, change only when the handler does.
 *
 * Run by `npm run build` (and so by `prepare` and `prepack`); `npx tsx scripts/bundle-handler.ts [outdir]`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build, type BuildOptions } from 'esbuild';

const ROOT = path.resolve(__dirname, '..');

/** Where the package keeps the bundled handler (lib/handler-asset.ts reads it from there). */
export const HANDLER_ASSET_OUTDIR = path.join(ROOT, 'assets', 'handler');

/**
 * esbuild's settings for the handler, and for any bundle compared with it (bench/cold-start.ts builds a bare
 * SWF client with the same ones): CommonJS for Node.js 24 (the construct's runtime, so no syntax is
 * down-levelled), minified, with a source map that names the sources without embedding their text (stack
 * traces still point at lambda/*.ts; `--enable-source-maps` parses it at every cold start, so it is kept small).
 */
export const BUNDLE_OPTIONS = {
  absWorkingDir: ROOT,
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  legalComments: 'eof',
  logLevel: 'warning',
} as const satisfies BuildOptions;

/** Bundles `entry` (a path from the repository root) into `outdir/index.js` (+ `index.js.map`). */
export async function bundle(entry: string, outdir: string): Promise<void> {
  fs.rmSync(outdir, { recursive: true, force: true });
  await build({ ...BUNDLE_OPTIONS, entryPoints: [entry], outfile: path.join(outdir, 'index.js') });
}

if (require.main === module) {
  const outdir = path.resolve(process.argv[2] ?? HANDLER_ASSET_OUTDIR);
  bundle('lambda/handler.ts', outdir).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
