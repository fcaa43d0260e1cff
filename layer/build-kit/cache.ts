/** Content-addressed cache entries for the layer build: a stage's output is reused only if complete. */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A stable hash of JSON-able values (object keys sorted), shortened for folder names. */
export function cacheKey(...parts: unknown[]): string {
  return createHash('sha256').update(stableJson(parts)).digest('hex').slice(0, 16);
}

export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function sha256File(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    let n: number;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * A folder that is either complete or absent: built under `<dir>.partial`, renamed when done,
 * so an interrupted build never leaves something that looks reusable.
 */
export class CacheEntry {
  constructor(readonly dir: string) {}

  get partial(): string {
    return `${this.dir}.partial`;
  }

  exists(): boolean {
    return fs.existsSync(this.dir);
  }

  /** Clears any leftover partial folder and returns a fresh one to build into. */
  begin(): string {
    fs.rmSync(this.partial, { recursive: true, force: true });
    fs.mkdirSync(this.partial, { recursive: true });
    return this.partial;
  }

  commit(): string {
    fs.rmSync(this.dir, { recursive: true, force: true });
    fs.renameSync(this.partial, this.dir);
    return this.dir;
  }
}

/** One build at a time per cache: a second one waits for nothing and says who holds the lock. */
export function acquireLock(cacheDir: string): () => void {
  fs.mkdirSync(cacheDir, { recursive: true });
  const lock = path.join(cacheDir, '.lock');
  try {
    fs.mkdirSync(lock);
  } catch {
    const holder = Number(readOr(path.join(lock, 'pid'), '0'));
    if (holder && isAlive(holder)) {
      throw new Error(`another layer build (pid ${holder}) is using ${cacheDir}; wait for it or stop it`);
    }
    fs.rmSync(lock, { recursive: true, force: true });
    fs.mkdirSync(lock);
  }
  fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
  return () => fs.rmSync(lock, { recursive: true, force: true });
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
