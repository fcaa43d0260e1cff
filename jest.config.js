/** Type-checking is `tsc --noEmit` (npm test runs it first); jest only transpiles, with swc. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2023' } }] },
  setupFilesAfterEnv: ['<rootDir>/__tests__/setup-cdktf.ts'],
  testTimeout: 30000,
  snapshotFormat: { escapeString: false, printBasicPrototype: false },
};
