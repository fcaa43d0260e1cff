/** Object keys of marked images: `<prefix><UTC date-time>-<uuid>.jpg`, sortable by time. */
import { randomUUID } from 'node:crypto';

/** 2026-11-25T16:30:00.123Z -> 2026-11-25T16-30-00-123Z (no colons: keys stay URL- and shell-friendly). */
export function timestampForKey(date: Date): string {
  return date.toISOString().replace(/:/g, '-').replace('.', '-');
}

export function markedImageKey(prefix: string, now: Date, uuid: string = randomUUID()): string {
  return `${prefix}${timestampForKey(now)}-${uuid}.jpg`;
}

export const MARKED_KEY_PATTERN = /^(?<prefix>.+\/)(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z)-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jpg$/;
