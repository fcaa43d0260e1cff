/**
 * verify:layer makes a missing smoke root the way the build does: under the cache's lock. With
 * another build holding it, it stops at once and says so, before running debootstrap next to it.
 * The cache is a scratch one (LAYER_CACHE_DIR, set before the modules that read it load).
 */
import * as fs from 'node:fs';
import { tempDir } from '../../helpers/temp';

const cache = tempDir('verify-cache');
process.env.LAYER_CACHE_DIR = cache;
/* eslint-disable @typescript-eslint/no-require-imports -- loaded after LAYER_CACHE_DIR is set */
const { acquireLock, LockBusy } = require('../../../layer/build-kit/lock') as typeof import('../../../layer/build-kit/lock');
const { targets } = require('../../../layer/inputs') as typeof import('../../../layer/inputs');
const { smokeRoot } = require('../../../layer/verify/smoke') as typeof import('../../../layer/verify/smoke');
/* eslint-enable @typescript-eslint/no-require-imports */

afterAll(() => fs.rmSync(cache, { recursive: true, force: true }));

test('a missing smoke root is built only under the lock: another build holding it stops verify at once', async () => {
  const lock = await acquireLock(cache);
  try {
    const lines: string[] = [];
    await expect(smokeRoot(targets.x86_64, (l) => lines.push(l))).rejects.toBeInstanceOf(LockBusy);
    expect(lines).toEqual([]);
    expect(fs.readdirSync(cache).sort()).toEqual(['.lock', '.lock-holder']);
  } finally {
    lock.release();
  }
});
