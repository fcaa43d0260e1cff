/** Which listed objects a cleanup run deletes: pure, so the prefix guard is tested on its own. */

export interface ListedObject {
  readonly key?: string;
  readonly lastModified?: Date;
}

export type Verdict = 'delete' | 'keep' | 'outside-prefix';

/**
 * `delete` only for keys strictly inside `prefix` (whatever S3 returned: a listing is not trusted
 * to respect its own Prefix) and last modified at least `maxAgeMs` before `now`.
 */
export function judge(object: ListedObject, prefix: string, now: Date, maxAgeMs: number): Verdict {
  const key = object.key;
  if (!key || !key.startsWith(prefix) || key.length === prefix.length) return 'outside-prefix';
  if (!object.lastModified) return 'keep';
  return now.getTime() - object.lastModified.getTime() >= maxAgeMs ? 'delete' : 'keep';
}

/** Splits keys into DeleteObjects batches (S3 takes at most 1000 keys a call). */
export function batches<T>(items: readonly T[], size = 1000): T[][] {
  if (size < 1 || size > 1000) throw new RangeError(`batch size ${size} is outside 1..1000`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
