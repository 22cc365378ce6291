/**
 * `npm run bench`: the handler's speed figures, each as a ratio against a baseline measured in the same run
 * (absolute times vary with the machine; the ratios are the figures to quote). Never asserted in tests.
 *
 * 1. Cold start (bench/cold-start.ts): module-load time of the handler bundle the package ships / the bare
 *    SWF client bundled the same way (goal <= 1.3).
 * 2. Bulk (bench/bulk.ts): 10,000 executions through one selector request against a local SWF that enforces
 *    SWF's token buckets (time-scaled) with 30 ms latency: achieved rate / configured and / SWF's limit
 *    (goal >= 0.95), throttling and failures (goal 0), speedup over a sequential loop, peak memory for 10,000
 *    and 100,000 matches (goal <= 1.5x).
 * 3. Jobs (bench/job.ts): a job of 10,000 executions on the synthesized state machine (run locally by
 *    aws-local-stepfunctions): achieved / configured rate (goal >= 0.95), throttling (goal 0), memory against
 *    a job of 1,000 (goal <= 1.5x), and an abort: terminations after it (goal <= rate x 2 s).
 *
 * 4. Policy sweep (bench/sweep.ts): a schedule policy over a domain of 100,000 open executions, 1% matching
 *    its tag: one invocation (goal), List calls / the tag filter's pages (goal <= 1), memory against a domain of
 *    10,000 with the same matches (goal <= 1.5x).
 *
 * 5. Restore (bench/restore.ts): 10,000 runs terminated by one job, restored against a local SWF that enforces
 *    SWF's token buckets (time-scaled): simulated time / least time SWF's Start quota and the binding quota
 *    (history reads) allow, / restore's configured pace (goal ~1), throttling (goal 0), every workflowId started
 *    exactly once (a failure exits non-zero), and a naive sequential SDK loop over the same runs as baseline.
 *
 * Knobs: BENCH_COLD_RUNS (default 30 samples per variant), BENCH_BULK_* (see bench/bulk.ts), BENCH_JOB_*
 * (see bench/job.ts), BENCH_SWEEP_* (see bench/sweep.ts), BENCH_RESTORE_* (see bench/restore.ts),
 * BENCH_SKIP (comma-separated: cold, bulk, jobs, sweep, restore).
 *
 * There is no per-request micro-benchmark: against SWF's tens of milliseconds per call, the handler's own
 * fraction of a millisecond is noise; what users feel is the rate, the memory, the cold start and the abort.
 * Exits non-zero only on a crash (or a handler that throws in the bulk run, or a restore that does not start
 * every run exactly once), never for a goal not met.
 */
import * as os from 'node:os';
import { commandLine, printBulk, runBulk } from './bulk';
import { runColdStart } from './cold-start';
import { runJobs } from './job';
import { printRestore, runRestore } from './restore';
import { runSweep } from './sweep';
import { table } from './stats';

async function main(): Promise<void> {
  const started = Date.now();
  console.log(
    `swf-terminator benchmarks: node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}`,
  );
  console.log(new Date().toISOString());
  console.log(`command: ${commandLine()}\n`);
  const skip = new Set((process.env.BENCH_SKIP ?? '').split(',').map((x) => x.trim()));
  const secs = (since: number) => `${((Date.now() - since) / 1000).toFixed(0)} s`;

  if (!skip.has('cold')) {
    const t = Date.now();
    console.log('== Cold start: module-load time, shipped handler bundle vs bundled bare SWF client ==');
    const cold = await runColdStart();
    console.log(table(cold.rows));
    for (const n of cold.notes) console.log(`- ${n}`);
    console.log(`(cold start ${secs(t)})\n`);
  }

  let bulkFailed = false;
  if (!skip.has('bulk')) {
    console.log(
      '== Bulk: one selector request over many executions, local SWF enforcing its token buckets ==',
    );
    const bulk = await runBulk();
    printBulk(bulk);
    bulkFailed = bulk.status !== 'ok';
    console.log('');
  }

  if (!skip.has('jobs')) {
    const t = Date.now();
    console.log('== Jobs: requests too large for one invocation, on the synthesized state machine ==');
    const jobs = await runJobs();
    console.log(table(jobs.rows));
    for (const n of jobs.notes) console.log(`- ${n}`);
    console.log(`(jobs ${secs(t)})\n`);
  }

  if (!skip.has('sweep')) {
    const t = Date.now();
    console.log('== Policy sweep: a schedule policy over 100,000 open executions, 1% matching ==');
    const sweep = await runSweep();
    console.log(table(sweep.rows));
    for (const n of sweep.notes) console.log(`- ${n}`);
    console.log(`(sweep ${secs(t)})\n`);
  }

  let restoreFailed = false;
  if (!skip.has('restore')) {
    const t = Date.now();
    console.log(
      '== Restore 10,000: a job of terminated runs restarted, local SWF enforcing its token buckets ==',
    );
    const restore = await runRestore();
    printRestore(restore);
    restoreFailed = restore.status !== 'ok';
    console.log(`(restore ${secs(t)})\n`);
  }

  console.log(`total ${secs(started)}`);
  if (bulkFailed || restoreFailed) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
