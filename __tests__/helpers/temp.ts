/**
 * Temporary folders for tests. Each is made fresh under the system temp folder (never a fixed name:
 * a run as root and one as another user, or two checkouts at once, cannot collide) and removed
 * after its test file, hooks included, by the test environment (__tests__/test-environment.js).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const made: string[] = ((globalThis as { __faceDetectionTempDirs?: string[] }).__faceDetectionTempDirs ??= []);

/**
 * A new empty folder named `face-detection-<prefix>-XXXXXX`; with `memory`, under /dev/shm where
 * there is one (for S3 servers' data: many small files, written and deleted fast).
 */
export function tempDir(prefix: string, options: { memory?: boolean } = {}): string {
  const base = options.memory && fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  const dir = fs.mkdtempSync(path.join(base, `face-detection-${prefix}-`));
  made.push(dir);
  return dir;
}

/** Removes every folder tempDir made so far in this test file (the environment does it after the file). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}
