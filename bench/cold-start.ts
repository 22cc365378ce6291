/**
 * Cold-start benchmark: module-load time of the bundled handler against a bundle of the bare
 * `@aws-sdk/client-swf` client (bench/baseline-client.ts), both built the same way, measured in the same run.
 *
 * Both entries are bundled with esbuild the way the construct's NodejsFunction does (options from
 * lib/handler-bundling.ts when it loads, else the defaults below): bundle, platform node, the construct's
 * target, minify, external source map, CommonJS. Each is built in these packagings:
 *  - "bundled": as the construct deploys it: every dependency inside the bundle except the construct's
 *    `externalModules` (`@aws-sdk/client-lambda`, loaded lazily for continuations only, from the runtime);
 *  - "all-bundled" (handler only, when the construct leaves something external): nothing external, the
 *    packaging before that choice, so both are measured in the same run;
 *  - "sdk external": `@aws-sdk/*` left external, as when relying on the Lambda runtime's copy of the SDK.
 *    CAVEAT: locally the external SDK is resolved from this repo's node_modules (NODE_PATH), i.e. the pinned
 *    version loaded from many small files; the runtime's copy is another version in /var/runtime on other
 *    storage, so this only approximates what "use the runtime's SDK" costs.
 *
 * Module-load time is measured by spawning `node` once per sample and timing `require(bundle)` with
 * `process.hrtime` inside the child, with the environment the construct sets (NODE_OPTIONS
 * --enable-source-maps among it) and also without source-map support. Variants are interleaved (rotating
 * order) so that drift affects all of them alike. Figures are medians; the headline is the ratio
 * handler / baseline, never an absolute time.
 *
 * Run alone: `npx tsx bench/cold-start.ts` (BENCH_COLD_RUNS=N to change the sample count).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { fmt, median, ratio, table } from './stats';

const ROOT = path.resolve(__dirname, '..');
const HANDLER_ENTRY = path.join(ROOT, 'lambda', 'handler.ts');
const BASELINE_ENTRY = path.join(__dirname, 'baseline-client.ts');

/** The esbuild settings that matter for load time, as the construct uses them. */
export interface BundleSettings {
  target: string;
  minify: boolean;
  sourcemap: boolean;
  /** Whether the source map embeds the sources (esbuild's default: yes). */
  sourcesContent: boolean;
  /** Whether the construct deploys with `@aws-sdk/*` bundled. */
  bundlesSdk: boolean;
  /** The construct's `externalModules` when it bundles the SDK (modules left to the runtime's copy). */
  external: string[];
  /** Whether the construct's environment enables source maps (NODE_OPTIONS). */
  enableSourceMaps: boolean;
  /** Where the settings came from. */
  source: string;
}

const FALLBACK: BundleSettings = {
  target: 'node22',
  minify: true,
  sourcemap: true,
  sourcesContent: true,
  bundlesSdk: true,
  external: [],
  enableSourceMaps: true,
  source: 'bench defaults (lib/handler-bundling.ts not loadable)',
};

/** The esbuild options every benchmark bundle shares with the construct's bundling. */
export function esbuildOptionsFor(s: BundleSettings) {
  return {
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    target: s.target,
    format: 'cjs',
    minify: s.minify,
    sourcemap: s.sourcemap,
    sourcesContent: s.sourcesContent,
    logLevel: 'error',
  } as const;
}

/** Reads the construct's bundling options, so the benchmark follows them when they change. */
export async function constructBundleSettings(): Promise<BundleSettings> {
  try {
    const mod = (await import('../lib/handler-bundling')) as Record<string, unknown>;
    const options =
      typeof mod.handlerBundlingOptions === 'function' ? (mod.handlerBundlingOptions as () => unknown)() : {};
    const o = (typeof options === 'object' && options !== null ? options : {}) as Record<string, unknown>;
    const externals = Array.isArray(o.externalModules) ? (o.externalModules as unknown[]) : undefined;
    const construct = fs.readFileSync(path.join(ROOT, 'lib', 'swf-terminator.ts'), 'utf8');
    const bundlesSdk = externals ? !externals.includes('@aws-sdk/*') : mod.BUNDLE_AWS_SDK !== false;
    return {
      target: typeof o.target === 'string' ? o.target : FALLBACK.target,
      minify: o.minify === true,
      sourcemap: o.sourceMap === true,
      sourcesContent: o.sourcesContent !== false,
      bundlesSdk,
      external: bundlesSdk && externals ? externals.map(String) : [],
      enableSourceMaps: construct.includes('--enable-source-maps'),
      source: 'lib/handler-bundling.ts',
    };
  } catch {
    return FALLBACK;
  }
}

/** What a variant leaves external: the construct's list, nothing at all, or all of `@aws-sdk/*`. */
type Packaging = 'construct' | 'all-bundled' | 'sdk-external';

interface Variant {
  name: string;
  entry: 'handler' | 'baseline';
  packaging: Packaging;
  file: string;
  bytes: number;
  mapBytes: number;
}

async function bundle(
  dir: string,
  name: string,
  entry: Variant['entry'],
  packaging: Packaging,
  s: BundleSettings,
): Promise<Variant> {
  const external =
    packaging === 'sdk-external' ? ['@aws-sdk/*'] : packaging === 'construct' ? s.external : [];
  const outfile = path.join(dir, name, 'index.js');
  await build({
    ...esbuildOptionsFor(s),
    entryPoints: [entry === 'handler' ? HANDLER_ENTRY : BASELINE_ENTRY],
    external,
    outfile,
  });
  const mapFile = `${outfile}.map`;
  return {
    name,
    entry,
    packaging,
    file: outfile,
    bytes: fs.statSync(outfile).size,
    mapBytes: fs.existsSync(mapFile) ? fs.statSync(mapFile).size : 0,
  };
}

// Runs in the child: time require() of the bundle named by argv[1], print milliseconds.
const CHILD = `const t0 = process.hrtime.bigint();
require(process.argv[1]);
const t1 = process.hrtime.bigint();
process.stdout.write(String(Number(t1 - t0) / 1e6));`;

function loadOnce(file: string, sourceMaps: boolean): number {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'x',
    AWS_SECRET_ACCESS_KEY: 'x',
    ALLOWED_DOMAINS: 'bench',
    MAX_EXECUTIONS: '1000',
    DRY_RUN: 'false',
    REQUEST_DETAIL_TYPE: 'SWF Termination Request',
    POWERTOOLS_SERVICE_NAME: 'swf-terminator',
    POWERTOOLS_METRICS_NAMESPACE: 'SwfTerminator',
    // Only bundles with externals need it: resolves @aws-sdk/* from this repo.
    NODE_PATH: path.join(ROOT, 'node_modules'),
    NODE_NO_WARNINGS: '1',
    ...(sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
  };
  const r = spawnSync(process.execPath, ['-e', CHILD, file], { env, encoding: 'utf8', timeout: 30_000 });
  const ms = Number(r.stdout);
  if (r.status !== 0 || !Number.isFinite(ms)) {
    throw new Error(`loading ${file} failed (exit ${String(r.status)}): ${r.stderr.slice(0, 2000)}`);
  }
  return ms;
}

export interface ColdStartResult {
  settings: BundleSettings;
  runs: number;
  /** Median load ms per variant name and source-map mode. */
  medians: Record<string, { withMaps: number; withoutMaps: number; bytes: number; mapBytes: number }>;
  rows: string[][];
  notes: string[];
}

/**
 * Builds the bundles and measures them; `runs` samples per variant and mode. "bundled" is the construct's
 * packaging (its externalModules, e.g. `@aws-sdk/client-lambda` left to the runtime); "all-bundled" leaves
 * nothing external (the handler only: the baseline imports no module the construct leaves external, so
 * its all-bundled build is the same bundle); "sdk-external" leaves all of `@aws-sdk/*` external.
 */
export async function runColdStart(
  runs = Number(process.env.BENCH_COLD_RUNS ?? 30),
): Promise<ColdStartResult> {
  const settings = await constructBundleSettings();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swf-terminator-cold-'));
  try {
    const variants = [
      await bundle(dir, 'handler-bundled', 'handler', 'construct', settings),
      await bundle(dir, 'baseline-bundled', 'baseline', 'construct', settings),
      ...(settings.external.length > 0
        ? [await bundle(dir, 'handler-all-bundled', 'handler', 'all-bundled', settings)]
        : []),
      await bundle(dir, 'handler-sdk-external', 'handler', 'sdk-external', settings),
      await bundle(dir, 'baseline-sdk-external', 'baseline', 'sdk-external', settings),
    ];
    const modes = [true, false];
    const samples = new Map<string, number[]>();
    const key = (v: Variant, maps: boolean) => `${v.name}|${String(maps)}`;
    // Warm the file cache and node itself; discarded.
    for (const v of variants) for (const m of modes) loadOnce(v.file, m);
    const combos = variants.flatMap((v) => modes.map((m) => ({ v, m })));
    for (let i = 0; i < runs; i++) {
      for (let j = 0; j < combos.length; j++) {
        const { v, m } = combos[(i + j) % combos.length]!;
        const list = samples.get(key(v, m)) ?? [];
        list.push(loadOnce(v.file, m));
        samples.set(key(v, m), list);
      }
    }
    const medians: ColdStartResult['medians'] = {};
    for (const v of variants) {
      medians[v.name] = {
        withMaps: median(samples.get(key(v, true)) ?? []),
        withoutMaps: median(samples.get(key(v, false)) ?? []),
        bytes: v.bytes,
        mapBytes: v.mapBytes,
      };
    }
    const m = (name: string) => medians[name]!;
    /** Median of per-round ratios a/b (each round samples every variant back to back): robust to drift. */
    const paired = (a: string, b: string, maps: boolean) => {
      const xs = samples.get(`${a}|${String(maps)}`) ?? [];
      const ys = samples.get(`${b}|${String(maps)}`) ?? [];
      return median(xs.map((x, i) => x / (ys[i] ?? NaN)));
    };
    const kb = (b: number) => `${(b / 1024).toFixed(0)} KiB`;
    const deployed = settings.bundlesSdk ? 'bundled' : 'sdk-external';
    const mapsMode = settings.enableSourceMaps;
    const pick = (name: string) => (mapsMode ? m(name).withMaps : m(name).withoutMaps);
    const rows: string[][] = [
      ['variant', 'bundle', 'map', 'load ms (source maps on)', 'load ms (off)', 'ratio to baseline-bundled'],
      ...variants.map((v) => [
        v.name,
        kb(v.bytes),
        kb(v.mapBytes),
        fmt(m(v.name).withMaps),
        fmt(m(v.name).withoutMaps),
        ratio(pick(v.name) / pick('baseline-bundled')),
      ]),
    ];
    const notes = [
      `bundling settings from ${settings.source}: target ${settings.target}, minify ${String(settings.minify)}, ` +
        `sourcemap ${String(settings.sourcemap)}, sourcesContent ${String(settings.sourcesContent)}; the construct deploys the SDK ${settings.bundlesSdk ? 'bundled' : 'external'}` +
        (settings.external.length > 0 ? ` except ${settings.external.join(', ')} (runtime's copy)` : '') +
        ` ` +
        `and ${mapsMode ? 'sets' : 'does not set'} NODE_OPTIONS=--enable-source-maps (ratios use that mode)`,
      `headline (as deployed, ${deployed}): handler / baseline = ${ratio(
        pick(`handler-${deployed}`) / pick(`baseline-${deployed}`),
        1.15,
      )}; median of per-round paired ratios ${ratio(paired(`handler-${deployed}`, `baseline-${deployed}`, mapsMode))}`,
      `same-packaging ratios: bundled ${ratio(pick('handler-bundled') / pick('baseline-bundled'))}, ` +
        `sdk external ${ratio(pick('handler-sdk-external') / pick('baseline-sdk-external'))}`,
      ...(settings.external.length > 0
        ? [
            `leaving ${settings.external.join(', ')} external vs bundling everything, handler / baseline: ` +
              `${ratio(pick('handler-bundled') / pick('baseline-bundled'))} vs ` +
              `${ratio(pick('handler-all-bundled') / pick('baseline-bundled'))} (paired: ` +
              `${ratio(paired('handler-bundled', 'baseline-bundled', mapsMode))} vs ` +
              `${ratio(paired('handler-all-bundled', 'baseline-bundled', mapsMode))})`,
          ]
        : []),
      `SDK external vs bundled, handler: ${ratio(pick('handler-sdk-external') / pick('handler-bundled'))} ` +
        `(caveat: external SDK resolved from local node_modules, not the Lambda runtime's copy)`,
      `source maps on vs off, handler bundled: ${ratio(m('handler-bundled').withMaps / m('handler-bundled').withoutMaps)}`,
      `${runs} interleaved samples per variant and mode, median; node ${process.version} locally ` +
        `(Lambda runs ${settings.target}), ${os.cpus()[0]?.model ?? 'unknown CPU'}`,
    ];
    return { settings, runs, medians, rows, notes };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runColdStart()
    .then((r) => {
      console.log(table(r.rows));
      for (const n of r.notes) console.log(`- ${n}`);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
