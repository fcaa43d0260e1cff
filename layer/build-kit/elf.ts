/** What an ELF file asks of the system: its NEEDED libraries, RUNPATH and versioned symbols (via readelf). */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

export interface ElfInfo {
  needed: string[];
  soname?: string;
  runpath?: string;
  /** Highest version required per symbol family, e.g. { GLIBC: '2.14', GLIBCXX: '3.4.21' }. */
  maxVersions: Record<string, string>;
}

export function isElf(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const magic = Buffer.alloc(4);
    return fs.readSync(fd, magic, 0, 4, 0) === 4 && magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    fs.closeSync(fd);
  }
}

export function readElf(file: string): ElfInfo {
  const text = execFileSync('readelf', ['--dynamic', '--version-info', '--wide', file], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return parseReadelf(text);
}

/** Parses `readelf --dynamic --version-info --wide` output (kept pure so it is tested on its own). */
export function parseReadelf(text: string): ElfInfo {
  const needed: string[] = [];
  let soname: string | undefined;
  let runpath: string | undefined;
  for (const m of text.matchAll(/\((NEEDED|SONAME|RUNPATH|RPATH)\)\s+[^[]*\[([^\]]+)\]/g)) {
    if (m[1] === 'NEEDED') needed.push(m[2]);
    else if (m[1] === 'SONAME') soname = m[2];
    else runpath = m[2];
  }
  const maxVersions: Record<string, string> = {};
  // Only the "version needs" section says what the file requires; definitions are what it offers.
  const needsStart = text.indexOf(".gnu.version_r'");
  if (needsStart >= 0) {
    const needs = text.slice(needsStart);
    for (const m of needs.matchAll(/Name:\s+(GLIBC|GLIBCXX|CXXABI)_(\d+(?:\.\d+)*)\b/g)) {
      const [, family, version] = m;
      if (!maxVersions[family] || compareVersions(version, maxVersions[family]) > 0) maxVersions[family] = version;
    }
  }
  return { needed, soname, runpath, maxVersions };
}

/** Numeric dotted-version comparison: 2.34 > 2.4, 3.4.29 > 3.4.3. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** ELF e_machine values of the architectures Lambda runs. */
export const ELF_MACHINES: Record<number, string> = { 62: 'x86-64', 183: 'AArch64' };

/** e_machine from an ELF header (bytes 18-19, in the byte order EI_DATA names); undefined if not ELF. */
export function parseElfMachine(header: Buffer): number | undefined {
  if (header.length < 20 || !header.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) return undefined;
  return header[5] === 2 ? header.readUInt16BE(18) : header.readUInt16LE(18);
}

export function readElfMachine(file: string): number | undefined {
  const fd = fs.openSync(file, 'r');
  try {
    const header = Buffer.alloc(20);
    return parseElfMachine(header.subarray(0, fs.readSync(fd, header, 0, 20, 0)));
  } finally {
    fs.closeSync(fd);
  }
}
