/**
 * Node's test environment, plus one duty: after a test file, its hooks included, the temporary
 * folders it took from helpers/temp.ts are removed (the helper records them on the file's global).
 */
const fs = require('node:fs');
const { TestEnvironment } = require('jest-environment-node');

class FaceDetectionEnvironment extends TestEnvironment {
  async teardown() {
    for (const dir of this.global.__faceDetectionTempDirs ?? []) fs.rmSync(dir, { recursive: true, force: true });
    await super.teardown();
  }
}

module.exports = FaceDetectionEnvironment;
