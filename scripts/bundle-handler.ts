/**
 * Bundles the package's Lambda code: `lambda/handler.ts` (and `lambda/verify/handler.ts`, the verifier) with
 * every module it imports (the AWS SDK clients, Powertools, zod), at the versions package-lock.json pins, each
 * into one CommonJS file in `assets/<name>/`, which the package ships and the construct deploys with
 * `Code.fromAsset`. A consumer's synth therefore never bundles: it needs neither esbuild nor Docker.
 *
 * Deterministic: the same sources and lockfile give the same bytes (no timestamps, source paths relative
 * to the repository), so the asset's hash, and a deployment, change only when the handler does.
 *
 * Run by `npm run build` (and so by `prepack`); `npx tsx scripts/bundle-handler.ts [assets dir]`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build, type BuildOptions } from 'esbuild';

const ROOT = path.resolve(__dirname, '..');

/**
 * The bundles the package ships, by the directory under assets/ that lib/handler-asset.ts reads: the handler,
 * and the least-privilege verifier (a function of its own, with none of the handler's permissions).
 */
export const ASSET_ENTRIES = {
  handler: 'lambda/handler.ts',
  verifier: 'lambda/verify/handler.ts',
} as const;

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
  const assets = path.resolve(process.argv[2] ?? path.join(ROOT, 'assets'));
  Promise.all(
    Object.entries(ASSET_ENTRIES).map(([dir, entry]) => bundle(entry, path.join(assets, dir))),
  ).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
