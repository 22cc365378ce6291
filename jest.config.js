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
};
