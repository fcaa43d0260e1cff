/**
 * The project's one zip writer, for the function bundles and the OpenCV layer alike: same entries
 * in, same bytes out, so `source_code_hash` and the layer version change only when content does.
 *
 * The zip format and deflate are fflate's (pinned: its deflate is JavaScript, so the bytes do not
 * depend on the zlib a Node release bundles). What is fixed here: entries sorted by name (bytewise),
 * every entry at 1980-01-01 00:00 (the earliest time a zip holds), Unix modes (0755 for shared
 * libraries and addons, 0644 for the rest, unless an entry says otherwise), deflate level 9, no
 * extra fields, no folders (unzip makes them); unsafe names are refused.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { zipSync, type Zippable } from 'fflate';

export interface ZipEntry {
  readonly name: string;
  readonly data: Uint8Array;
  /** Unix permission bits. @default modeFor(name) */
  readonly mode?: number;
}

/** 0755 for what the loader maps (shared libraries, Node addons), 0644 for everything else. */
export function modeFor(name: string): number {
  return /\.(so(\.\d+)*|node)$/.test(name) ? 0o755 : 0o644;
}

/** The one time every entry carries: 1980-01-01 00:00, read back the same in every time zone. */
const ZIP_TIME = { year: 1980, month: 1, day: 1, hours: 0, minutes: 0, seconds: 0 } as const;

/** Why a name cannot be an entry, or undefined if it can. */
export function unsafeZipName(name: string): string | undefined {
  if (!name) return 'empty';
  if (name.includes('\0')) return 'holds a NUL byte';
  if (name.includes('\\')) return 'holds a backslash';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'is absolute';
  if (name.endsWith('/')) return 'is a folder';
  const parts = name.split('/');
  if (parts.includes('..')) return 'climbs out with ..';
  if (parts.includes('.') || parts.includes('')) return 'has an empty or . segment';
  // fflate keeps entries in an object: these keys would be reordered or lost there.
  if (/^(0|[1-9]\d*)$/.test(name) || name === '__proto__') return 'is a name the zip library cannot keep in order';
  if (Buffer.byteLength(name) > 0xffff) return 'is too long';
  return undefined;
}

function byName(a: ZipEntry, b: ZipEntry): number {
  return Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));
}

export function createZip(entries: readonly ZipEntry[]): Buffer {
  const sorted = [...entries].sort(byName);
  const zippable: Zippable = {};
  // Local time fields, so that fflate (which reads local time) writes the same DOS time in every zone.
  const mtime = new Date(ZIP_TIME.year, ZIP_TIME.month - 1, ZIP_TIME.day, ZIP_TIME.hours, ZIP_TIME.minutes, ZIP_TIME.seconds);
  for (const [i, entry] of sorted.entries()) {
    const why = unsafeZipName(entry.name);
    if (why) throw new Error(`unsafe zip entry name ${JSON.stringify(entry.name)}: ${why}`);
    if (i > 0 && sorted[i - 1].name === entry.name) throw new Error(`unsafe zip entry name ${JSON.stringify(entry.name)}: given twice`);
    const mode = entry.mode ?? modeFor(entry.name);
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new Error(`zip entry ${entry.name}: mode ${mode} is not a Unix permission`);
    Object.defineProperty(zippable, entry.name, {
      value: [entry.data, { level: 9, mtime, os: 3, attrs: ((0o100000 | mode) << 16) >>> 0 }],
      enumerable: true,
    });
  }
  const bytes = Buffer.from(zipSync(zippable));
  // The order and count written are the ones given (what the determinism rests on).
  const written = readZipEntries(bytes).map((e) => e.name);
  if (written.join('\0') !== sorted.map((e) => e.name).join('\0')) throw new Error('the zip library wrote the entries in another order than given');
  return bytes;
}

/** Zips every file under `dir` (folders implied), each with `modeFor` its name: how the layer is zipped. */
export function zipFolder(dir: string): Buffer {
  const entries: ZipEntry[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const name = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(name);
      else if (entry.isFile()) entries.push({ name, data: fs.readFileSync(path.join(dir, name)) });
      else throw new Error(`${path.join(dir, name)} is neither a file nor a folder; the zip holds only files`);
    }
  };
  walk('');
  return createZip(entries);
}

export interface ZipDirectoryEntry {
  name: string;
  /** Unix mode bits from the external attributes (file type included). */
  mode: number;
  method: number;
  dosDate: number;
  dosTime: number;
  extraLength: number;
  compressedSize: number;
  size: number;
  crc32: number;
}

/** The central directory of a zip (no ZIP64, no comment): what each entry's header says. */
export function readZipEntries(zip: Buffer): ZipDirectoryEntry[] {
  const end = zip.length - 22;
  if (end < 0 || zip.readUInt32LE(end) !== 0x06054b50) throw new Error('not a zip (no end of central directory where expected)');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const out: ZipDirectoryEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`central directory entry ${i} is damaged`);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    out.push({
      name: zip.subarray(at + 46, at + 46 + nameLength).toString('utf8'),
      mode: zip.readUInt32LE(at + 38) >>> 16,
      method: zip.readUInt16LE(at + 10),
      dosTime: zip.readUInt16LE(at + 12),
      dosDate: zip.readUInt16LE(at + 14),
      crc32: zip.readUInt32LE(at + 16),
      compressedSize: zip.readUInt32LE(at + 20),
      size: zip.readUInt32LE(at + 24),
      extraLength,
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return out;
}
