/**
 * The long run of the at-least-once property test (test/lambda/flows/deliveries.test.ts): many more random
 * sequences, shrunk to the smallest failing one when a promise breaks. Prints the seed and path fast-check
 * reports, to replay a failure exactly.
 *
 *   npm run soak                                   # 200 sequences, a random seed
 *   SOAK_RUNS=1000 npm run soak
 *   SOAK_SEED=123 SOAK_PATH=4:2 npm run soak       # replay one failure
 *   SOAK_IGNORE=status,grace npm run soak          # set promises aside, to look for others
 */
import '../test/support/handler-env';
import fc from 'fast-check';
import { commands, runSequence } from '../test/support/delivery-world';

async function main(): Promise<void> {
  const runs = Number(process.env.SOAK_RUNS ?? '200');
  const seed = process.env.SOAK_SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.SOAK_SEED);
  const path = process.env.SOAK_PATH;
  const started = Date.now();
  console.log(`soak: ${runs} sequences, seed ${seed}${path === undefined ? '' : `, path ${path}`}`);
  const result = await fc.check(
    fc.asyncProperty(commands, (cmds) => runSequence(cmds)),
    { numRuns: runs, seed, ...(path === undefined ? {} : { path }) },
  );
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (!result.failed) {
    console.log(`soak: ${result.numRuns} sequences kept every promise (${seconds} s)`);
    return;
  }
  console.log(`soak: a promise broke after ${result.numRuns} sequences (${seconds} s)`);
  console.log(`  seed ${result.seed}, path ${result.counterexamplePath ?? '?'}`);
  console.log(`  smallest sequence: ${fc.stringify(result.counterexample?.[0])}`);
  console.log(
    `  ${String(result.errorInstance instanceof Error ? result.errorInstance.message : result.errorInstance)}`,
  );
  process.exitCode = 1;
}

void main();
