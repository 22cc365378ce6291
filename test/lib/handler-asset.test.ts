/**
 * The handler as the package ships it (assets/handler, built by scripts/bundle-handler.ts): complete,
 * deterministic, and current with the sources.
 */
import * as fs from 'node:fs';
import { isBuiltin } from 'node:module';
import * as path from 'node:path';
import { FileSystem } from 'aws-cdk-lib';
import { HANDLER_ASSET_DIR, HANDLER_RUNTIME, VERIFIER_ASSET_DIR } from '../../lib/handler-asset';
import { ASSET_ENTRIES, BUNDLE_OPTIONS, bundle } from '../../scripts/bundle-handler';

const ROOT = path.resolve(__dirname, '..', '..');
/** Rebuilds land at the same depth as assets/handler, so the source map's relative paths are the same. */
const CHECK_DIR = path.join(ROOT, '.asset-check');

afterAll(() => {
  fs.rmSync(CHECK_DIR, { recursive: true, force: true });
});

describe('the shipped handler asset', () => {
  test.each([
    ['handler', ASSET_ENTRIES.handler, HANDLER_ASSET_DIR],
    ['verifier', ASSET_ENTRIES.verifier, VERIFIER_ASSET_DIR],
  ])(
    'the %s: building twice from the same sources gives the same asset hash, that of the shipped asset',
    async (name, entry, shippedDir) => {
      // GIVEN two fresh builds of the same sources
      const first = path.join(CHECK_DIR, `${name}-first`);
      const second = path.join(CHECK_DIR, `${name}-second`);
      await bundle(entry, first);
      await bundle(entry, second);
      // THEN CDK fingerprints them alike, and alike the shipped asset (which is therefore current)
      const hash = FileSystem.fingerprint(first);
      expect(FileSystem.fingerprint(second)).toBe(hash);
      expect(FileSystem.fingerprint(shippedDir)).toBe(hash);
    },
  );

  test('holds one CommonJS bundle with every dependency inside, its lazily loaded modules, and their source maps', () => {
    expect(fs.readdirSync(HANDLER_ASSET_DIR).sort()).toEqual([
      'dynamodb-client.js',
      'dynamodb-client.js.map',
      'index.js',
      'index.js.map',
      'logs-client.js',
      'logs-client.js.map',
    ]);
    const code = fs.readFileSync(path.join(HANDLER_ASSET_DIR, 'index.js'), 'utf8');
    // Nothing is left to the runtime's copy of a package: no require of a bare module but Node's own, and the
    // SDK's optional CRT signer, which it loads (in a try) only for SigV4a, a signature SWF does not use.
    const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!);
    const external = new Set(required.filter((m) => !m.startsWith('node:') && !isBuiltin(m)));
    expect([...external]).toEqual(['@aws-sdk/signature-v4-crt']);
    // The CloudWatch Logs and DynamoDB clients are the modules imported on demand, each from its own file.
    const imported = [...code.matchAll(/import\("([^"]+)"\)/g)].map((m) => m[1]!);
    expect([...new Set(imported.filter((m) => !m.startsWith('node:')))].sort()).toEqual([
      './dynamodb-client.js',
      './logs-client.js',
    ]);
    expect(code).not.toContain('FilterLogEventsCommand extends');
    expect(code).not.toContain('GetItemCommand extends');
    // The source map names the sources (stack traces point at lambda/*.ts) without carrying their text.
    const map = JSON.parse(fs.readFileSync(path.join(HANDLER_ASSET_DIR, 'index.js.map'), 'utf8')) as {
      sources: string[];
      sourcesContent?: unknown;
    };
    expect(map.sources).toContain('../../lambda/handler.ts');
    expect(map.sourcesContent).toBeUndefined();
  });

  test("targets the construct's runtime, so no syntax is down-levelled for an older Node.js", () => {
    expect(HANDLER_RUNTIME.name).toBe(`nodejs${BUNDLE_OPTIONS.target.replace('node', '')}.x`);
  });
});
