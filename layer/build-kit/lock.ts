/**
 * One build at a time per cache folder. The lock is the kernel's: flock(1) (util-linux, which the
 * build already needs for unshare) holds an exclusive flock on `<cache>/.lock` for as long as this
 * process lives, and the kernel drops it when the holder exits, however it exits. So there is never
 * a stale lock to judge and take over, the step where a lock made of files lets two builds in.
 * Node has no flock of its own; a helper process holding it is the small price.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** flock's exit code when the lock is held (chosen here: 75 is EX_TEMPFAIL). */
const BUSY = 75;

export class LockBusy extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LockBusy';
  }
}

/**
 * Takes the cache's lock without waiting: resolves to its release once held, rejects with LockBusy
 * naming the holder when another process has it. Releasing twice is harmless.
 */
export function acquireLock(cacheDir: string): Promise<() => void> {
  fs.mkdirSync(cacheDir, { recursive: true });
  const lockFile = path.join(cacheDir, '.lock');
  const holderFile = path.join(cacheDir, '.lock-holder');
  return new Promise((resolve, reject) => {
    // flock prints "held" once it has the lock, then waits on its stdin: closing stdin (or this
    // process exiting) ends it and releases the lock.
    const child = spawn('flock', ['--exclusive', '--nonblock', '--conflict-exit-code', String(BUSY), lockFile, 'sh', '-c', 'echo held; exec cat >/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    let settled = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      if (settled || !d.toString().includes('held')) return;
      settled = true;
      fs.writeFileSync(holderFile, `${process.pid}\n`);
      // The helper must not keep this process alive: the lock lives as long as the process, no longer.
      child.unref();
      child.stdout.destroy();
      child.stderr.destroy();
      (child.stdin as unknown as { unref(): void }).unref();
      let released = false;
      resolve(() => {
        if (released) return;
        released = true;
        child.stdin.end();
      });
    });
    child.on('error', (err) => {
      if (settled) return;
      settled = true;
      reject(new Error(`cannot take the build lock ${lockFile}: flock (util-linux) did not start: ${err.message}`));
    });
    child.on('close', (code) => {
      if (settled) return;
      settled = true;
      if (code === BUSY) {
        const holder = readOr(holderFile, '').trim();
        reject(new LockBusy(`another layer build${holder ? ` (pid ${holder})` : ''} is using ${cacheDir}; wait for it to finish, or stop it`));
      } else reject(new Error(`cannot take the build lock ${lockFile}: flock exited with ${code}: ${stderr.trim()}`));
    });
  });
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}
