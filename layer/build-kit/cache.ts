/** Content-addressed cache entries for the layer build: a stage's output is reused only if complete. */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

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

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
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
