// The SDK warns that Node.js 20 loses support in 2027; the handler runs on Lambda's Node.js 24, and the
// warning, repeated by every test worker, would bury real output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // TypeScript first: jsii compiles lib/ in place, and a test must load the source, not a compiled copy.
  moduleFileExtensions: ['ts', 'tsx', 'js', 'mjs', 'cjs', 'jsx', 'json', 'node'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  // The example app imports the package by name, as a consumer does; tsconfig.json maps it the same way.
  moduleNameMapper: { '^cdk-swf-terminator$': '<rootDir>/lib/index.ts' },
  testTimeout: 60000,
  // Every temporary file of the run (each synth's cdk.out above all) under one directory, removed at the end.
  globalSetup: '<rootDir>/test/support/temp-dir-setup.ts',
  globalTeardown: '<rootDir>/test/support/temp-dir-teardown.ts',
  // Both cores of the CI machine (jest's default leaves one idle): the slowest files mostly wait on real time
  // (grace periods, abort latency, paced calls), so two workers overlap them with the CPU-bound synths.
  maxWorkers: 2,
  // With --coverage (npm test): what the tests reach of the product, by V8's own counters (no
  // instrumentation pass), and a floor so coverage cannot fall unnoticed.
  coverageProvider: 'v8',
  collectCoverageFrom: ['lib/**/*.ts', 'lambda/**/*.ts', '!**/*.d.ts'],
  coverageReporters: ['text-summary'],
  // Today's level (98.3% of statements and lines, 92.4% of branches, 97.4% of functions), rounded down.
  coverageThreshold: { global: { statements: 98, branches: 92, functions: 97, lines: 98 } },
};
