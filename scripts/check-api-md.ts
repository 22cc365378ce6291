/**
 * Fails when API.md is not what jsii-docgen writes for the current assembly (.jsii, from `npm run build`):
 * a public API change must come with its documentation. Fix with `npm run build && npm run docgen`.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'api-md-'));
try {
  const fresh = path.join(dir, 'API.md');
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'jsii-docgen'), ['-o', fresh], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  const expected = fs.readFileSync(fresh, 'utf8').split('\n');
  const actual = fs.existsSync(path.join(ROOT, 'API.md'))
    ? fs.readFileSync(path.join(ROOT, 'API.md'), 'utf8').split('\n')
    : [];
  const line = expected.findIndex((text, i) => text !== actual[i]);
  if (line !== -1 || actual.length !== expected.length) {
    const at = line === -1 ? Math.min(actual.length, expected.length) : line;
    console.error(
      `API.md is stale (first difference at line ${at + 1}: expected ${JSON.stringify(expected[at] ?? '<end>')}, ` +
        `found ${JSON.stringify(actual[at] ?? '<end>')}); run: npm run build && npm run docgen`,
    );
    process.exitCode = 1;
  } else {
    console.log('API.md is current');
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
