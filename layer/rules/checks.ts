/** The layer's acceptance rules, as pure functions over what was read from the zip (tested on their own). */
import { compareVersions, ELF_MACHINES, type ElfInfo } from '../build-kit/elf';
import { iou } from '../../functions/detect-faces/detect/boxes';

export interface ElfRow {
  file: string;
  bytes: number;
  /** Architecture from the ELF header ('-' when not read). */
  machine: string;
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
  /** The e_machine every file must carry (the layer's architecture). */
  machine?: { code: number; name: string };
}

/** Decides every ELF file: version ceilings, and each NEEDED library in lib/ or on the allowlist. */
export function checkElfFiles(
  files: { file: string; bytes: number; info: ElfInfo; machine?: number }[],
  layerLibs: ReadonlySet<string>,
  rules: ElfRules,
): ElfRow[] {
  return files.map(({ file, bytes, info, machine }) => {
    const problems: string[] = [];
    const machineName = machine === undefined ? '-' : (ELF_MACHINES[machine] ?? `e_machine ${machine}`);
    if (rules.machine && machine !== rules.machine.code) problems.push(`is ${machineName}, not ${rules.machine.name}`);
    const glibc = info.maxVersions.GLIBC ?? '-';
    const glibcxx = info.maxVersions.GLIBCXX ?? '-';
    if (glibc !== '-' && compareVersions(glibc, rules.maxGlibc) > 0) problems.push(`needs GLIBC_${glibc} > ${rules.maxGlibc}`);
    if (glibcxx !== '-' && compareVersions(glibcxx, rules.maxGlibcxx) > 0) problems.push(`needs GLIBCXX_${glibcxx} > ${rules.maxGlibcxx}`);
    const needed = info.needed.map((name) => {
      const from = layerLibs.has(name) ? ('layer' as const) : rules.systemLibraries.includes(name) ? ('system' as const) : ('MISSING' as const);
      if (from === 'MISSING') problems.push(`needs ${name}, which is neither in lib/ nor provided by Amazon Linux 2023`);
      return { name, from };
    });
    return { file, bytes, machine: machineName, glibc, glibcxx, needed, problems };
  });
}

export function formatElfTable(rows: readonly ElfRow[]): string {
  const header = ['file', 'KB', 'arch', 'GLIBC', 'GLIBCXX', 'NEEDED (from)', 'verdict'];
  const body = rows.map((r) => [
    r.file,
    String(Math.round(r.bytes / 1024)),
    r.machine,
    r.glibc,
    r.glibcxx,
    r.needed.map((n) => `${n.name}(${n.from})`).join(' '),
    r.problems.length ? `FAIL: ${r.problems.join('; ')}` : 'ok',
  ]);
  const widths = header.map((h, i) => Math.min(i === 5 ? 200 : 80, Math.max(h.length, ...body.map((row) => row[i].length))));
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

/** libc.so.6 and libc-2.31.so -> "libc"; ld-linux-x86-64.so.2, ld-linux-aarch64.so.1 and ld-2.31.so -> "ld". */
export function libraryFamily(fileName: string): string {
  const family = fileName.replace(/(-\d[\d.]*)?\.so(\.[\d.]+)?$/, '');
  return family.startsWith('ld-linux') ? 'ld' : family;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Pairs each box of `a` with the closest unused box of `b` and reports the largest difference of
 * any coordinate: how far two runs (e.g. x86_64 and arm64) disagree, in pixels.
 */
export interface BoxComparison {
  pairs: number;
  /** Boxes of either side left without a partner. */
  unpaired: number;
  maxDeltaPx: number;
}

export function compareBoxes(a: readonly FaceBox[], b: readonly FaceBox[]): BoxComparison {
  const unused = [...b];
  let maxDeltaPx = 0;
  let pairs = 0;
  for (const box of a) {
    if (!unused.length) break;
    const delta = (o: FaceBox) => Math.max(Math.abs(box.x - o.x), Math.abs(box.y - o.y), Math.abs(box.width - o.width), Math.abs(box.height - o.height));
    let best = 0;
    for (let i = 1; i < unused.length; i++) if (delta(unused[i]) < delta(unused[best])) best = i;
    maxDeltaPx = Math.max(maxDeltaPx, delta(unused[best]));
    unused.splice(best, 1);
    pairs += 1;
  }
  return { pairs, unpaired: a.length - pairs + unused.length, maxDeltaPx };
}

/** How many labelled faces some detected box covers (IoU >= minIou): the smoke test's recall on a labelled photo. */
export function labelsFound(labels: readonly FaceBox[], detected: readonly FaceBox[], minIou = 0.3): number {
  return labels.filter((label) => detected.some((box) => iou(label, box) >= minIou)).length;
}

/** One image of a training.xml and its labelled faces. */
export interface LabelledImage {
  file: string;
  boxes: FaceBox[];
}

/**
 * Every image of a training.xml in dlib's imglab format:
 * `<image file='...'><box top='' left='' width='' height=''/>...</image>` (other attributes and
 * `<part>`/`<label>` children are ignored; `width` is not read from the tail of a longer word such as `maxwidth`).
 */
export function parseImglab(xml: string): LabelledImage[] {
  return [...xml.matchAll(/<image\s+file=['"]([^'"]+)['"][^>]*>([\s\S]*?)<\/image>/g)].map(([, file, body]) => ({
    file,
    boxes: [...body.matchAll(/<box\s+([^>]*?)\/?>/g)].map(([, attributes]) => {
      const attr = (name: string) => {
        const value = new RegExp(`\\b${name}=['"](-?\\d+)['"]`).exec(attributes);
        if (!value) throw new Error(`a box of ${file} has no integer ${name}: <box ${attributes}>`);
        return Number(value[1]);
      };
      return { x: attr('left'), y: attr('top'), width: attr('width'), height: attr('height') };
    }),
  }));
}

/** The labelled boxes of one image in a training.xml. */
export function parseLabels(xml: string, image: string): FaceBox[] {
  const labelled = parseImglab(xml).find((l) => l.file === image);
  if (!labelled) throw new Error(`${image} has no labels`);
  return labelled.boxes;
}
