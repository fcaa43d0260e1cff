/**
 * The cache's lock: exactly one build holds it, whatever the lock's files say, and it is free again
 * the moment its holder exits, however it exits. Holders here are separate Node processes (the
 * lock module runs in Node 24 as it is: it has only erasable types).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { acquireLock, LockBusy } from '../../../layer/build-kit/lock';
import { fromRoot } from '../../helpers/paths';
import { tempDir } from '../../helpers/temp';

const LOCK_MODULE = fromRoot('layer', 'build-kit', 'lock.ts');
const tmp = () => tempDir('lock');

/**
 * A process that tries to take the lock, prints `held` or `busy`, holds it `holdMs`, then exits (or
 * is killed). With `command`, once it holds the lock it starts that command with the lock's
 * descriptor as a build step does, and prints `held <pid of the command>`.
 */
function contender(dir: string, holdMs: number, command?: string[]) {
  const script = `
    const { spawn } = require('node:child_process');
    const { acquireLock } = require(${JSON.stringify(LOCK_MODULE)});
    const command = ${JSON.stringify(command ?? null)};
    acquireLock(${JSON.stringify(dir)}).then(
      (lock) => {
        if (command) {
          const step = spawn(command[0], command.slice(1), { stdio: ['ignore', 'ignore', 'ignore', lock.fd], detached: true });
          console.log('held ' + step.pid);
        } else console.log('held');
        setTimeout(() => { lock.release(); }, ${holdMs});
      },
      (err) => { console.log(err.name === 'LockBusy' ? 'busy' : 'error ' + err.message); },
    );`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const said = new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return { child, said, exited };
}

test('of several builds starting at once, exactly one holds the lock; the others are told it is busy', async () => {
  const dir = tmp();
  // A lock left by a build that died long ago, with a holder file naming a pid that is gone.
  fs.writeFileSync(path.join(dir, '.lock'), '');
  fs.writeFileSync(path.join(dir, '.lock-holder'), '999999\n');
  // The holder keeps the lock until every racer has answered, however slowly a loaded machine starts them.
  const racers = Array.from({ length: 6 }, () => contender(dir, 60_000));
  const said = await Promise.all(racers.map((r) => r.said));
  for (const r of racers) r.child.kill('SIGKILL');
  await Promise.all(racers.map((r) => r.exited));
  expect(said.sort()).toEqual(['busy', 'busy', 'busy', 'busy', 'busy', 'held']);
});

test('a live holder blocks even before it has written who it is; a holder that is killed frees the lock at once', async () => {
  const dir = tmp();
  const holder = contender(dir, 60_000);
  expect(await holder.said).toBe('held');
  // What a lock made of files would read as "nobody holds it": no holder file.
  fs.rmSync(path.join(dir, '.lock-holder'), { force: true });
  await expect(acquireLock(dir)).rejects.toBeInstanceOf(LockBusy);
  holder.child.kill('SIGKILL');
  await holder.exited;
  const lock = await acquireLock(dir);
  lock.release();
  lock.release();
});

test('a build killed while a command it started runs keeps the lock until that command ends, and busy names the command', async () => {
  const dir = tmp();
  const holder = contender(dir, 60_000, ['sleep', '60']);
  const said = await holder.said;
  expect(said).toMatch(/^held \d+$/);
  const step = Number(said.split(' ')[1]);
  try {
    holder.child.kill('SIGKILL');
    await holder.exited;
    // Asked through a link to the cache (a linked ~/.cache): the same file, the same holders.
    const link = path.join(tmp(), 'cache');
    fs.symlinkSync(dir, link);
    await expect(acquireLock(link)).rejects.toThrow(
      new RegExp(`a layer build \\(pid ${holder.child.pid}\\) was stopped, and commands it started still hold ${link}.* \\(pid ${step}\\); wait for them to finish, or stop them`),
    );
  } finally {
    process.kill(step, 'SIGKILL');
  }
  // The kernel drops the lock with the command's exit; a new build takes it then.
  let lock;
  for (let i = 0; i < 50 && !lock; i++) lock = await acquireLock(dir).catch(() => new Promise<undefined>((r) => setTimeout(() => r(undefined), 100)));
  expect(lock).toBeDefined();
  lock!.release();
});

test('busy names the holder and says what to do', async () => {
  const dir = tmp();
  const lock = await acquireLock(dir);
  try {
    const other = contender(dir, 0);
    expect(await other.said).toBe('busy');
    await other.exited;
    await expect(acquireLock(dir)).rejects.toThrow(`another layer build (pid ${process.pid}) is using ${dir}; wait for it to finish, or stop it`);
  } finally {
    lock.release();
  }
});
