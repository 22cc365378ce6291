/**
 * Cold-start benchmark: module-load time of the handler bundle the package ships (assets/handler, built by
 * `npm run build`) against a bundle of the bare `@aws-sdk/client-swf` client (bench/baseline-client.ts)
 * built the same way (scripts/bundle-handler.ts's options), measured in the same run.
 *
 * Module-load time is measured by spawning `node` once per sample and timing `require(bundle)` with
 * `process.hrtime` inside the child, with the environment the construct sets (NODE_OPTIONS
 * --enable-source-maps among it), and also without source-map support. Variants are interleaved (rotating
 * order) so that drift affects all of them alike. Figures are medians; the headline is the ratio
 * handler / baseline, never an absolute time.
 *
 * Run alone: `npx tsx bench/cold-start.ts` (BENCH_COLD_RUNS=N to change the sample count).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HANDLER_ASSET_DIR } from '../lib/handler-asset';
import { BUNDLE_OPTIONS, bundle } from '../scripts/bundle-handler';
import { fmt, median, ratio, table } from './stats';

/** The handler bundle as the package ships it. */
export const SHIPPED_HANDLER = path.join(HANDLER_ASSET_DIR, 'index.js');

/** The cold-start goal: the shipped handler loads within this multiple of a bare SWF client bundle. */
const GOAL = 1.3;

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
    POWERTOOLS_SERVICE_NAME: 'swf-terminator',
    POWERTOOLS_METRICS_NAMESPACE: 'SwfTerminator',
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
  rows: string[][];
  notes: string[];
  /** The headline: shipped handler / baseline, source maps on (as deployed). */
  ratio: number;
}

/** Measures the shipped handler against the baseline; `runs` samples per variant and mode. */
export async function runColdStart(
  runs = Number(process.env.BENCH_COLD_RUNS ?? 30),
): Promise<ColdStartResult> {
  if (!fs.existsSync(SHIPPED_HANDLER)) throw new Error(`${SHIPPED_HANDLER} is missing: run npm run build`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swf-terminator-cold-'));
  try {
    await bundle(
      path.relative(BUNDLE_OPTIONS.absWorkingDir, path.join(__dirname, 'baseline-client.ts')),
      dir,
    );
    const variants = [
      { name: 'shipped handler', file: SHIPPED_HANDLER },
      { name: 'bare SWF client', file: path.join(dir, 'index.js') },
    ];
    const modes = [true, false];
    const samples = new Map<string, number[]>();
    const key = (name: string, maps: boolean) => `${name}|${String(maps)}`;
    for (const v of variants) for (const m of modes) loadOnce(v.file, m); // warm-up, discarded
    const combos = variants.flatMap((v) => modes.map((m) => ({ v, m })));
    for (let i = 0; i < runs; i++) {
      for (let j = 0; j < combos.length; j++) {
        const { v, m } = combos[(i + j) % combos.length]!;
        const list = samples.get(key(v.name, m)) ?? [];
        list.push(loadOnce(v.file, m));
        samples.set(key(v.name, m), list);
      }
    }
    const med = (name: string, maps: boolean) => median(samples.get(key(name, maps)) ?? []);
    /** Median of per-round ratios (each round samples every variant back to back): robust to drift. */
    const paired = (maps: boolean) => {
      const xs = samples.get(key('shipped handler', maps)) ?? [];
      const ys = samples.get(key('bare SWF client', maps)) ?? [];
      return median(xs.map((x, i) => x / (ys[i] ?? NaN)));
    };
    const kb = (file: string) => `${(fs.statSync(file).size / 1024).toFixed(0)} KiB`;
    const headline = med('shipped handler', true) / med('bare SWF client', true);
    return {
      ratio: headline,
      rows: [
        ['variant', 'bundle', 'map', 'load ms (source maps on)', 'load ms (off)'],
        ...variants.map((v) => [
          v.name,
          kb(v.file),
          kb(`${v.file}.map`),
          fmt(med(v.name, true)),
          fmt(med(v.name, false)),
        ]),
      ],
      notes: [
        `headline (source maps on, as deployed): shipped handler / bare SWF client = ${ratio(headline, GOAL)}; ` +
          `paired per round ${ratio(paired(true))}`,
        `source maps off: ${ratio(med('shipped handler', false) / med('bare SWF client', false))} ` +
          `(paired ${ratio(paired(false))})`,
        `both built with scripts/bundle-handler.ts (target ${BUNDLE_OPTIONS.target}, minified, every dependency ` +
          `inside); ${runs} interleaved samples per variant and mode, median; node ${process.version} locally, ` +
          (os.cpus()[0]?.model ?? 'unknown CPU'),
      ],
    };
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
