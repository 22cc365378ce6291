/**
 * The package as a user installs it: `npm pack`, then two fresh apps in a temporary directory that install
 * only aws-cdk-lib, constructs and the tarball (the TypeScript one also TypeScript and ts-node, as `cdk init`
 * sets it up), with neither esbuild nor Docker on the path, synthesize offline. Then the handler bundle the
 * tarball ships, invoked directly, terminates an execution on the local SWF server.
 *
 * Needs `npm run build` first (the README's test command runs it); installs come from npm's cache, which
 * `npm ci` filled.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { HANDLER_ASSET_DIR } from '../../lib/handler-asset';
import { FakeSwfServer, makeExecutions } from '../support/fake-swf';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};
/** The versions this repository pins, so every install is served from npm's cache. */
const pinned = (name: string) => `${name}@${manifest.devDependencies[name] ?? 'latest'}`;

/** The temporary directory everything happens in ('' until beforeAll made it). */
let work = '';
let tarball: string;
let packedFiles: string[];
/** The environment every consumer command runs in: node and npm on the path, nothing else of ours. */
let env: NodeJS.ProcessEnv;

/** Runs a command in a consumer app; its output is returned, and shown when it fails. */
async function sh(cwd: string, file: string, args: string[], extra: NodeJS.ProcessEnv = {}) {
  try {
    return await run(file, args, { cwd, env: { ...env, ...extra }, maxBuffer: 64 * 1024 * 1024 });
  } catch (error: unknown) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${file} ${args.join(' ')} failed in ${cwd}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`,
      { cause: error },
    );
  }
}

/** npm install of exactly these packages, from the cache first. */
function install(cwd: string, packages: string[]) {
  return sh(cwd, 'npm', [
    'install',
    '--prefer-offline',
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
    ...packages,
  ]);
}

function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
}

const JS_APP = `const { App, Stack } = require('aws-cdk-lib');
const { ChildPolicy, SwfTerminator } = require('cdk-swf-terminator');

const app = new App();
const stack = new Stack(app, 'ConsumerJs');
new SwfTerminator(stack, 'Terminator', { domains: ['orders'], childPolicy: ChildPolicy.ABANDON });
app.synth();
`;

/** The first TypeScript sample under a README heading, exactly as printed there. */
function readmeSample(heading: string): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(heading));
  const sample = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (sample === undefined) throw new Error(`README.md: no \`\`\`ts sample under '${heading}'`);
  return sample;
}

/**
 * What `cdk init app --language typescript` writes (its tsconfig), with the README's samples as two apps:
 * the construct, and the three termination policies.
 */
const TS_APP = {
  'bin/ts-app.ts': readmeSample('## Using the construct in your own app'),
  'bin/policies.ts': readmeSample('## Termination policies'),
  'tsconfig.json': JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['es2022'],
        declaration: true,
        strict: true,
        noImplicitAny: true,
        strictNullChecks: true,
        noImplicitThis: true,
        alwaysStrict: true,
        noImplicitReturns: true,
        inlineSourceMap: true,
        inlineSources: true,
        experimentalDecorators: true,
        strictPropertyInitialization: false,
        skipLibCheck: true,
        typeRoots: ['./node_modules/@types'],
        noEmit: true,
        types: ['node'],
      },
      exclude: ['node_modules', 'cdk.out'],
    },
    null,
    2,
  ),
};

/** The code a synthesized function deploys (its asset's index.js), by the function's logical id. */
function deployedCode(app: string, stackName: string): Map<string, { handler: string; code: Buffer }> {
  const out = path.join(app, 'cdk.out');
  const template = JSON.parse(fs.readFileSync(path.join(out, `${stackName}.template.json`), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string }; Handler?: string } }>;
  };
  const deployed = new Map<string, { handler: string; code: Buffer }>();
  for (const [id, fn] of Object.entries(template.Resources)) {
    if (fn.Type !== 'AWS::Lambda::Function') continue;
    const file = path.join(
      out,
      `asset.${fn.Properties.Code?.S3Key?.replace(/\.zip$/, '') ?? ''}`,
      'index.js',
    );
    if (fs.existsSync(file))
      deployed.set(id, { handler: fn.Properties.Handler ?? '', code: fs.readFileSync(file) });
  }
  return deployed;
}

/**
 * The terminator's three functions deploy the bundles the tarball ships, byte for byte: the handler (the
 * terminating and the control function) and the verifier.
 */
function expectShippedBundles(app: string, stackName: string): void {
  const shipped = (name: string) =>
    fs.readFileSync(path.join(app, 'node_modules', 'cdk-swf-terminator', 'assets', name, 'index.js'));
  const deployed = deployedCode(app, stackName);
  const byId = (prefix: string) => [...deployed].filter(([id]) => id.startsWith(prefix)).map(([, d]) => d);
  const handlers = [...byId('TerminatorHandler'), ...byId('TerminatorControlHandler')];
  const verifiers = byId('TerminatorVerifierFunction');
  expect(handlers).toHaveLength(2);
  expect(verifiers).toHaveLength(1);
  for (const fn of [...handlers, ...verifiers]) expect(fn.handler).toBe('index.handler');
  for (const fn of handlers) expect(fn.code.equals(shipped('handler'))).toBe(true);
  expect(verifiers[0]!.code.equals(shipped('verifier'))).toBe(true);
}

beforeAll(async () => {
  for (const built of ['lib/index.js', '.jsii', 'assets/handler/index.js']) {
    if (!fs.existsSync(path.join(ROOT, built)))
      throw new Error(`${built} is missing: run npm run build first`);
  }
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'swf-terminator-consumer-'));
  // Only node, npm and npx on the path (in a directory of their own), plus the system's /usr/bin:/bin.
  const bin = path.join(work, 'bin');
  fs.mkdirSync(bin);
  for (const tool of ['node', 'npm', 'npx']) {
    fs.symlinkSync(path.join(path.dirname(process.execPath), tool), path.join(bin, tool));
  }
  env = {
    PATH: `${bin}:/usr/bin:/bin`,
    HOME: process.env.HOME,
    npm_config_update_notifier: 'false',
    CDK_DISABLE_VERSION_CHECK: 'true',
  };
  const { stdout } = await sh(ROOT, 'npm', [
    'pack',
    '--ignore-scripts',
    '--json',
    '--pack-destination',
    work,
  ]);
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  tarball = path.join(work, packed!.filename);
  packedFiles = packed!.files.map((f) => f.path).sort();

  // Both apps install at once: each its own directory, the same cache.
  const jsApp = path.join(work, 'js-app');
  const tsApp = path.join(work, 'ts-app');
  writeFiles(jsApp, { 'package.json': '{ "name": "js-app", "private": true }\n', 'app.js': JS_APP });
  writeFiles(tsApp, {
    'package.json': '{ "name": "ts-app", "version": "0.1.0", "private": true }\n',
    ...TS_APP,
  });
  await Promise.all([
    install(jsApp, [pinned('aws-cdk-lib'), pinned('constructs'), tarball]),
    install(tsApp, [
      pinned('aws-cdk-lib'),
      pinned('constructs'),
      tarball,
      pinned('typescript'),
      pinned('ts-node'),
      pinned('@types/node'),
    ]),
  ]);
}, 120_000);

afterAll(() => {
  if (work !== '') fs.rmSync(work, { recursive: true, force: true });
});

describe('the package as a consumer installs it', () => {
  test('the tarball holds the compiled library, the prebuilt handler, the command, the assembly and docs, nothing else', () => {
    expect(packedFiles).toEqual(
      [
        '.jsii',
        'API.md',
        'LICENSE',
        'README.md',
        'assets/cli/demo.js',
        'assets/cli/swf-terminator.js',
        'assets/handler/dynamodb-client.js',
        'assets/handler/dynamodb-client.js.map',
        'assets/handler/index.js',
        'assets/handler/index.js.map',
        'assets/handler/logs-client.js',
        'assets/handler/logs-client.js.map',
        'assets/restore/index.js',
        'assets/restore/index.js.map',
        'assets/verifier/index.js',
        'assets/verifier/index.js.map',
        'package.json',
        ...fs
          .readdirSync(path.join(ROOT, 'lib'))
          .filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'))
          .map((f) => `lib/${f}`),
      ].sort(),
    );
    // The shipped handler is the one this repository built.
    expect(packedFiles).toContain('assets/handler/index.js');
    expect(fs.readdirSync(HANDLER_ASSET_DIR).sort()).toEqual([
      'dynamodb-client.js',
      'dynamodb-client.js.map',
      'index.js',
      'index.js.map',
      'logs-client.js',
      'logs-client.js.map',
    ]);
  });

  test('the installed command runs from the app (npx swf-terminator --help), with nothing more installed', async () => {
    const app = path.join(work, 'js-app');
    const { stdout } = await sh(app, 'npx', ['--no-install', 'swf-terminator', '--help']);
    expect(stdout).toContain('Usage: swf-terminator [options] [command]');
    expect(stdout).toMatch(/terminate \[options\]\s+preview, confirm, then terminate/);
    expect(stdout).toContain('Exit codes:');
    // Bundled: the command's libraries are inside it, none is in the app.
    for (const library of ['commander', '@clack/prompts', 'cli-progress', 'cli-table3', 'picocolors']) {
      expect(fs.existsSync(path.join(app, 'node_modules', library))).toBe(false);
    }
  });

  test('the installed command runs its demo: a terminator on this machine, a job, its abort, what was left', async () => {
    const app = path.join(work, 'js-app');
    const { stdout } = await sh(app, 'npx', ['--no-install', 'swf-terminator', 'demo', '--yes']);
    expect(stdout).toContain('Preview in domain demo: 600 matched');
    expect(stdout).toMatch(/Job \S+ ABORTED: terminated \d+/);
    expect(stdout).toContain('live:     400 of 400 still open: never matched, never touched');
  }, 120_000);

  test('neither esbuild nor Docker is on the path or in either app', async () => {
    await expect(sh(work, 'sh', ['-c', 'command -v esbuild'])).rejects.toThrow();
    await expect(sh(work, 'sh', ['-c', 'command -v docker'])).rejects.toThrow();
    for (const app of ['js-app', 'ts-app']) {
      expect(fs.existsSync(path.join(work, app, 'node_modules', 'esbuild'))).toBe(false);
    }
  });

  test('a plain JavaScript app (node app.js) synthesizes offline, deploying the shipped handler', async () => {
    const app = path.join(work, 'js-app');
    await sh(app, 'node', ['app.js'], { CDK_OUTDIR: 'cdk.out' });
    expectShippedBundles(app, 'ConsumerJs');
    const shipped = path.join(app, 'node_modules', 'cdk-swf-terminator', 'assets', 'handler', 'index.js');
    expect(fs.readFileSync(shipped).equals(fs.readFileSync(path.join(HANDLER_ASSET_DIR, 'index.js')))).toBe(
      true,
    );
  });

  test("a TypeScript app, the README's sample, type-checks and synthesizes run as cdk init runs it (ts-node)", async () => {
    const app = path.join(work, 'ts-app');
    await sh(app, 'npx', ['tsc', '--noEmit']);
    await sh(app, 'npx', ['ts-node', '--prefer-ts-exts', 'bin/ts-app.ts'], { CDK_OUTDIR: 'cdk.out' });
    expectShippedBundles(app, 'Operations');
  });

  test("the README's three termination policies synthesize: their rules, dry run where unset, IAM per need", async () => {
    const app = path.join(work, 'ts-app');
    await sh(app, 'npx', ['ts-node', '--prefer-ts-exts', 'bin/policies.ts'], { CDK_OUTDIR: 'cdk.out' });
    const template = JSON.parse(
      fs.readFileSync(path.join(app, 'cdk.out', 'Reapers.template.json'), 'utf8'),
    ) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
      Outputs: Record<string, { Value: string }>;
    };
    const rules = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Events::Rule');
    const policyOf = (rule: (typeof rules)[number]) => {
      const targets = rule.Properties.Targets as { InputTransformer?: { InputTemplate: string } }[];
      const input = targets[0]?.InputTransformer?.InputTemplate;
      // The template's placeholders (<id>, <detail> ...) stand for JSON values: any JSON value parses the same.
      return input === undefined
        ? undefined
        : (
            JSON.parse(input.replace(/<[a-z-]+>/g, 'null')) as {
              swfTerminatorPolicy: { name: string; trigger: string; request: { dryRun: boolean } };
            }
          ).swfTerminatorPolicy;
    };
    const policies = rules.flatMap((rule) => {
      const policy = policyOf(rule);
      return policy === undefined ? [] : [[policy.name, policy.trigger, policy.request.dryRun]];
    });
    expect(policies.sort()).toEqual(
      [
        ['RetireCheckoutV1', 'backstop', false],
        ['RetireCheckoutV1', 'event', false],
        ['Stalled', 'schedule', true],
        ['StuckImports', 'schedule', false],
      ].sort(),
    );
    const preview = JSON.parse(template.Outputs.PreviewStuckImports!.Value) as { preview: boolean };
    expect(preview.preview).toBe(true);
    const statements = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: { Sid?: string }[] }).Statement)
      .map((statement) => statement.Sid);
    expect(statements).toEqual(expect.arrayContaining(['CancelInChosenDomains', 'DescribeInChosenDomains']));
  });

  test('the shipped handler bundle, invoked directly, terminates an execution on the local SWF server', async () => {
    const [execution] = makeExecutions(1, { domain: 'orders', prefix: 'consumer-' });
    const server = await FakeSwfServer.start({ domains: ['orders'], executions: [execution!] });
    try {
      const bundle = path.join(
        work,
        'js-app',
        'node_modules',
        'cdk-swf-terminator',
        'assets',
        'handler',
        'index.js',
      );
      const invoke = `require(process.argv[1]).handler(JSON.parse(process.argv[2]), { awsRequestId: 'consumer-1' })
        .then((report) => process.stdout.write(JSON.stringify(report)))`;
      const request = {
        domain: 'orders',
        workflowId: execution!.workflowId,
        runId: execution!.runId,
        reason: 'consumer test',
      };
      const { stdout } = await sh(work, 'node', ['-e', invoke, bundle, JSON.stringify(request)], {
        ALLOWED_DOMAINS: 'orders',
        AWS_ENDPOINT_URL_SWF: server.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIDTEST',
        AWS_SECRET_ACCESS_KEY: 'test-secret',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      });
      const report = JSON.parse(stdout.slice(stdout.lastIndexOf('{"dryRun"'))) as { terminated: number };
      expect(report.terminated).toBe(1);
      expect(server.terminations.map((t) => [t.workflowId, t.runId, t.reason])).toEqual([
        [execution!.workflowId, execution!.runId, 'consumer test'],
      ]);
    } finally {
      await server.close();
    }
  });
});
