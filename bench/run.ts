/**
 * `npm run bench`: the handler's speed figures, each as a ratio against a baseline measured in the same run
 * (absolute times vary with the machine; the ratios are the figures to quote). Never asserted in tests.
 *
 * 1. Cold start (bench/cold-start.ts): module-load time of the bundled handler / the bare SWF client
 *    bundled the same way (goal <= 1.15), bundled SDK vs `@aws-sdk/*` external.
 * 2. Per request (bench/per-request.ts): one termination through the handler / the raw SDK call against a
 *    local zero-latency SWF (goal <= 1.2).
 *
 * Knobs: BENCH_COLD_RUNS (default 30 samples per variant), BENCH_CALLS (default 2000 calls of each kind).
 */
import * as os from 'node:os';
import { runColdStart } from './cold-start';
import { runPerRequest } from './per-request';
import { table } from './stats';

async function main(): Promise<void> {
  const started = Date.now();
  console.log(
    `swf-terminator benchmarks: node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}`,
  );
  console.log(`${new Date().toISOString()}\n`);

  console.log('== Cold start: module-load time, bundled handler vs bundled bare SWF client ==');
  const cold = await runColdStart();
  console.log(table(cold.rows));
  for (const n of cold.notes) console.log(`- ${n}`);
  console.log('');

  console.log('== Per request: one termination, handler vs raw SDK, local zero-latency SWF ==');
  const per = await runPerRequest();
  if (per.rows.length > 0) console.log(table(per.rows));
  for (const n of per.notes) console.log(`- ${n}`);
  console.log('');

  console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
