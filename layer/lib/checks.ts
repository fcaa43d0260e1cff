/** The layer's acceptance rules, as pure functions over what was read from the zip (tested on their own). */
import { compareVersions, type ElfInfo } from './elf';

export interface ElfRow {
  file: string;
  bytes: number;
  glibc: string;
  glibcxx: string;
  /** Each NEEDED library and where it comes from: `layer`, `system` or `MISSING`. */
  needed: { name: string; from: 'layer' | 'system' | 'MISSING' }[];
  problems: string[];
}

export interface ElfRules {
  maxGlibc: string;
  maxGlibcxx: string;
  systemLibraries: readonly string[];
}

/** Decides every ELF file: version ceilings, and each NEEDED library in lib/ or on the allowlist. */
export function checkElfFiles(files: { file: string; bytes: number; info: ElfInfo }[], layerLibs: ReadonlySet<string>, rules: ElfRules): ElfRow[] {
  return files.map(({ file, bytes, info }) => {
    const problems: string[] = [];
    const glibc = info.maxVersions.GLIBC ?? '-';
    const glibcxx = info.maxVersions.GLIBCXX ?? '-';
    if (glibc !== '-' && compareVersions(glibc, rules.maxGlibc) > 0) problems.push(`needs GLIBC_${glibc} > ${rules.maxGlibc}`);
    if (glibcxx !== '-' && compareVersions(glibcxx, rules.maxGlibcxx) > 0) problems.push(`needs GLIBCXX_${glibcxx} > ${rules.maxGlibcxx}`);
    const needed = info.needed.map((name) => {
      const from = layerLibs.has(name) ? ('layer' as const) : rules.systemLibraries.includes(name) ? ('system' as const) : ('MISSING' as const);
      if (from === 'MISSING') problems.push(`needs ${name}, which is neither in lib/ nor provided by Amazon Linux 2023`);
      return { name, from };
    });
    return { file, bytes, glibc, glibcxx, needed, problems };
  });
}

export function formatElfTable(rows: readonly ElfRow[]): string {
  const header = ['file', 'KB', 'GLIBC', 'GLIBCXX', 'NEEDED (from)', 'verdict'];
  const body = rows.map((r) => [
    r.file,
    String(Math.round(r.bytes / 1024)),
    r.glibc,
    r.glibcxx,
    r.needed.map((n) => `${n.name}(${n.from})`).join(' '),
    r.problems.length ? `FAIL: ${r.problems.join('; ')}` : 'ok',
  ]);
  const widths = header.map((h, i) => Math.min(i === 4 ? 200 : 80, Math.max(h.length, ...body.map((row) => row[i].length))));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

export interface SizeReport {
  zippedBytes: number;
  unzippedBytes: number;
  problems: string[];
}

export function checkSizes(zippedBytes: number, unzippedBytes: number, budget: { zippedBytes: number; unzippedBytes: number }): SizeReport {
  const problems: string[] = [];
  if (unzippedBytes > budget.unzippedBytes) problems.push(`unzipped ${mb(unzippedBytes)} exceeds the budget of ${mb(budget.unzippedBytes)}`);
  if (zippedBytes > budget.zippedBytes) problems.push(`zipped ${mb(zippedBytes)} exceeds the budget of ${mb(budget.zippedBytes)}`);
  return { zippedBytes, unzippedBytes, problems };
}

export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(2)} MB`;
}

/**
 * Every library the smoke process mapped must come from the layer or be one the runtime provides.
 * Mapped paths are real file names (libc-2.31.so, libstdc++.so.6.0.28), so compare library families.
 */
export function foreignLibraries(mapped: readonly string[], systemLibraries: readonly string[]): string[] {
  const system = new Set(systemLibraries.map(libraryFamily));
  return mapped.filter((file) => !file.startsWith('/opt/') && !system.has(libraryFamily(file.split('/').pop()!)));
}

/** libc.so.6 and libc-2.31.so -> "libc"; ld-linux-x86-64.so.2 and ld-2.31.so -> "ld". */
export function libraryFamily(fileName: string): string {
  const family = fileName.replace(/(-\d[\d.]*)?\.so(\.[\d.]+)?$/, '');
  return family.startsWith('ld-linux') ? 'ld' : family;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
