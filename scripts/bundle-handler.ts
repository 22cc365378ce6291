/**
 * Bundles the package's Lambda code: `lambda/handler.ts` (and `lambda/verify/handler.ts`, the verifier) with
 * every module it imports (the AWS SDK clients, Powertools, zod), at the versions package-lock.json pins, each
 * into one CommonJS file in `assets/<name>/`, which the package ships and the construct deploys with
 * `Code.fromAsset`. A consumer's synth therefore never bundles: it needs neither esbuild nor Docker.
 *
 * Deterministic: the same sources and lockfile give the same bytes (no timestamps, source paths relative
 * to the repository), so the asset's hash, and a deployment, change only when the handler does.
 *
 * Also bundles the operator's command line (cli/main.ts) into assets/cli/swf-terminator.js, package.json's `bin`.
 *
 * Run by `npm run build` (and so by `prepack`); `npx tsx scripts/bundle-handler.ts [assets dir]`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build, type BuildOptions, type Plugin } from 'esbuild';

const ROOT = path.resolve(__dirname, '..');

/**
 * The bundles the package ships, by the directory under assets/ that lib/handler-asset.ts reads: the handler,
 * the least-privilege verifier, and restore (each a function of its own, with none of the handler's permissions).
 */
export const ASSET_ENTRIES = {
  handler: 'lambda/handler.ts',
  verifier: 'lambda/verify/handler.ts',
  restore: 'lambda/restore/handler.ts',
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

/**
 * Modules the handler loads only when it needs them (an `import()` of their path), bundled apart into files of
 * their own beside `index.js` so that no cold start parses their code: by the path the handler imports them
 * with, the file they are built from. The CloudWatch Logs client (a job's status reads the log group), and
 * the DynamoDB client (an event policy's circuit breaker).
 */
export const LAZY_MODULES: Readonly<Record<string, string>> = {
  './logs-client': 'lambda/aws/logs-client.ts',
  './dynamodb-client': 'lambda/aws/dynamodb-client.ts',
};

/** Leaves each import of one of `modules` (by the path it is imported with) to a `require` of its own file. */
function lazy(modules: Readonly<Record<string, string>>): Plugin {
  return {
    name: 'lazy-modules',
    setup(b) {
      const paths = Object.keys(modules).map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
      b.onResolve({ filter: new RegExp(`^(${paths.join('|')})$`) }, (args) => ({
        path: `${args.path}.js`,
        external: true,
      }));
    },
  };
}
const lazyModules = lazy(LAZY_MODULES);

/**
 * Bundles `entry` (a path from the repository root) into `outdir/index.js` (+ `index.js.map`), and, when the
 * bundle loads any, each lazy module into `outdir/<name>.js` (+ map).
 */
export async function bundle(entry: string, outdir: string): Promise<void> {
  fs.rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    ...BUNDLE_OPTIONS,
    entryPoints: [entry],
    outfile: path.join(outdir, 'index.js'),
    plugins: [lazyModules],
    metafile: true,
  });
  const imported = new Set(
    Object.values(result.metafile.outputs).flatMap((o) =>
      o.imports.filter((i) => i.external).map((i) => i.path),
    ),
  );
  for (const [name, source] of Object.entries(LAZY_MODULES)) {
    if (!imported.has(`${name}.js`)) continue;
    await build({ ...BUNDLE_OPTIONS, entryPoints: [source], outfile: path.join(outdir, `${name}.js`) });
  }
}

/** The operator's command, as package.json's `bin` names it: one file, every library it uses inside. */
export const CLI_ENTRY = 'cli/main.ts';
export const CLI_FILE = 'cli/swf-terminator.js';

/**
 * Bundles the command line into `<assets>/cli/swf-terminator.js`: CommonJS for Node.js 20 (the oldest
 * Node.js the package supports: an operator's machine, not Lambda's runtime), with a shebang, so that
 * `npx swf-terminator` runs it with nothing more installed.
 */
export async function bundleCli(assets: string): Promise<void> {
  const outfile = path.join(assets, CLI_FILE);
  fs.rmSync(path.dirname(outfile), { recursive: true, force: true });
  const options = { ...BUNDLE_OPTIONS, target: 'node20', sourcemap: false } as const;
  await build({
    ...options,
    entryPoints: [CLI_ENTRY],
    outfile,
    banner: { js: '#!/usr/bin/env node' },
    plugins: [lazy(CLI_LAZY_MODULES)],
  });
  fs.chmodSync(outfile, 0o755);
  for (const [name, source] of Object.entries(CLI_LAZY_MODULES)) {
    await build({
      ...options,
      entryPoints: [source],
      outfile: path.join(path.dirname(outfile), `${name}.js`),
    });
  }
}

/**
 * The command's modules loaded only by the subcommand that needs them, each bundled into a file of its own
 * beside the command: `demo` (the local servers it runs a terminator on, the Step Functions interpreter).
 */
const CLI_LAZY_MODULES: Readonly<Record<string, string>> = { './demo': 'cli/demo.ts' };

if (require.main === module) {
  const assets = path.resolve(process.argv[2] ?? path.join(ROOT, 'assets'));
  Promise.all([
    ...Object.entries(ASSET_ENTRIES).map(([dir, entry]) => bundle(entry, path.join(assets, dir))),
    bundleCli(assets),
  ]).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
