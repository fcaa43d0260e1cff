/**
 * One build at a time per cache folder. The lock is the kernel's: an exclusive flock on
 * `<cache>/.lock`, taken by flock(1) (util-linux, which the build already needs for unshare) on a
 * descriptor this process opened. The kernel holds such a lock for as long as any process has that
 * descriptor open, and drops it when the last one exits, however it exits. Every command a build
 * step runs is given the descriptor (steps.ts), so a build whose Node process was killed keeps the
 * lock until its debootstrap or make has ended too, and there is never a stale lock to judge and
 * take over, the step where a lock made of files lets two builds in. The descriptor is read-only:
 * a command can hold the lock, not write the file. (A command could still unlock it with flock -u;
 * the compile sandbox inherits it too, which in-root.sh would close at the sandbox's edge, a change
 * that moves every compile stage's key: due with the next change that rebuilds the layers.)
 * Node has no flock of its own; a helper process that locks the shared descriptor is the small price.
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

/** A held lock: `fd` to hand to the commands that must hold it too; `release` closes it (twice is harmless). */
export interface BuildLock {
  readonly fd: number;
  release(): void;
}

/**
 * Takes the cache's lock without waiting: resolves once held, rejects with LockBusy naming the
 * holder when another build has it.
 */
export function acquireLock(cacheDir: string): Promise<BuildLock> {
  fs.mkdirSync(cacheDir, { recursive: true });
  const lockFile = path.resolve(cacheDir, '.lock');
  const holderFile = path.join(cacheDir, '.lock-holder');
  // Node opens files close-on-exec: only the commands given this descriptor inherit it.
  const fd = fs.openSync(lockFile, fs.constants.O_RDONLY | fs.constants.O_CREAT, 0o644);
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => {
      fs.closeSync(fd);
      reject(err);
    };
    // flock on the descriptor as the child's fd 3: the lock belongs to the open file, which this
    // process shares, so it outlives the helper.
    const child = spawn('flock', ['--exclusive', '--nonblock', '--conflict-exit-code', String(BUSY), '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
    let stderr = '';
    let settled = false;
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => {
      if (settled) return;
      settled = true;
      fail(new Error(`cannot take the build lock ${lockFile}: flock (util-linux) did not start: ${err.message}`));
    });
    child.on('close', (code) => {
      if (settled) return;
      settled = true;
      if (code === 0) {
        try {
          fs.writeFileSync(holderFile, `${process.pid}\n`);
        } catch (err) {
          fail(new Error(`cannot write the build lock's holder ${holderFile}: ${(err as Error).message}`));
          return;
        }
        let released = false;
        resolve({
          fd,
          release() {
            if (released) return;
            released = true;
            fs.closeSync(fd);
          },
        });
      } else if (code === BUSY) fail(new LockBusy(busyMessage(cacheDir, fs.fstatSync(fd), readOr(holderFile, '').trim())));
      else fail(new Error(`cannot take the build lock ${lockFile}: flock exited with ${code}: ${stderr.trim()}`));
    });
  });
}

/** Who holds the lock: the build that wrote the holder file, or, once it is gone, the commands it left running. */
function busyMessage(cacheDir: string, lock: fs.Stats, holder: string): string {
  const pid = Number(holder);
  if (Number.isInteger(pid) && pid > 0 && !alive(pid)) {
    const left = holdersOf(lock).filter((p) => p !== process.pid);
    return (
      `a layer build (pid ${pid}) was stopped, and commands it started still hold ${cacheDir}` +
      (left.length > 0 ? ` (pid ${left.join(', ')})` : '') +
      '; wait for them to finish, or stop them'
    );
  }
  return `another layer build${holder ? ` (pid ${holder})` : ''} is using ${cacheDir}; wait for it to finish, or stop it`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Processes with the file `lock` open, from /proc (those this user may see), compared by device and inode: whatever path reached it. */
function holdersOf(lock: fs.Stats): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return pids;
  }
  for (const pid of entries) {
    try {
      const fds = fs.readdirSync(`/proc/${pid}/fd`);
      if (fds.some((f) => sameFile(`/proc/${pid}/fd/${f}`, lock))) pids.push(Number(pid));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

function sameFile(fdLink: string, lock: fs.Stats): boolean {
  try {
    const s = fs.statSync(fdLink);
    return s.dev === lock.dev && s.ino === lock.ino;
  } catch {
    return false;
  }
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}
