/**
 * Two lanes (npm test runs both; type-checking is `tsc --noEmit`, which npm test runs first; jest
 * only transpiles, with swc):
 *   unit    npm run test:unit   Node and the npm packages only: no layer, no root, no S3 server
 *   system  npm run test:system what needs more; each entry says what (README "Tests", docs/testing.md)
 */
const SYSTEM_TESTS = {
  '<rootDir>/__tests__/integration/': 'the built layer and an S3 server (s3rver), the AWS CLI',
  '<rootDir>/__tests__/local/page.test.ts': 'the built layer, s3rver and Chromium',
  '<rootDir>/__tests__/local/web-app.test.ts': 'the built layer, s3rver and Chromium (the web app: sign-in, uploads, results)',
  '<rootDir>/__tests__/layer/build-kit/in-root.test.ts': 'root, the smoke roots the layer build makes, and qemu-user-static (the arm64 one)',
  '<rootDir>/__tests__/layer/smoke/bundle.test.ts': 'the built x86_64 layer (the smoke script run outside a root, as the bench does)',
  '<rootDir>/__tests__/layer/verify.test.ts': 'both built layers, root (the smoke tests run in a chroot) and qemu-user-static (arm64 runs emulated)',
  '<rootDir>/__tests__/functions/detect-faces/detect/yunet.test.ts': "the built x86_64 layer (the project's YuNet path against OpenCV.js's FaceDetectorYN)",
  '<rootDir>/__tests__/scripts/loopback-only.test.ts': 'root (the loopback-only network namespace it checks)',
};

const common = {
  // Node's, plus removing each file's temporary folders after it (helpers/temp.ts).
  testEnvironment: '<rootDir>/__tests__/test-environment.js',
  roots: ['<rootDir>/__tests__'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2023' } }],
    // jose ships ES modules only; Node loads them as they are, jest's module system needs CommonJS.
    '/node_modules/jose/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  setupFilesAfterEnv: ['<rootDir>/__tests__/setup-cdktf.ts'],
  snapshotFormat: { escapeString: false, printBasicPrototype: false },
};
const escapeRegExp = (p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

module.exports = {
  testTimeout: 30000,
  // No forceExit: a run ends on its own once every test has closed what it started (a run held open
  // is a leak to find, e.g. with --detectOpenHandles or by test file with --runTestsByPath).
  projects: [
    { ...common, displayName: 'unit', testMatch: ['**/*.test.ts'], testPathIgnorePatterns: Object.keys(SYSTEM_TESTS).map(escapeRegExp) },
    { ...common, displayName: 'system', testMatch: Object.keys(SYSTEM_TESTS).map((p) => (p.endsWith('/') ? `${p}**/*.test.ts` : p)) },
  ],
};
