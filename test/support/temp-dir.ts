/**
 * Jest's global setup and teardown: every test run writes its temporary files (each synth's cdk.out, the
 * consumer test's apps) under one directory of its own, removed when the run ends. A CDK App given no outdir
 * synthesizes into a fresh temporary directory and never removes it (a copy of the handler asset each, about
 * 4 MB): a thousand synths a run filled this machine's disk.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const KEY = 'SWF_TERMINATOR_TEST_TMPDIR';

/** Before the run: a directory of its own, as every worker's TMPDIR (os.tmpdir() reads it). */
export function setup(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swf-terminator-test-'));
  process.env[KEY] = dir;
  process.env.TMPDIR = dir;
}

/** After the run: the directory, and everything the tests left in it, removed. */
export function teardown(): void {
  const dir = process.env[KEY];
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
}
