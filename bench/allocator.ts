/**
 * `npm run bench -- --allocator`: detect in a warm process that takes photos of different sizes in
 * turn, as a Lambda container does, with the function's allocator settings (DETECT_ALLOCATOR_ENV,
 * stack/detect-function.ts) and without them. Each setting runs in fresh processes, alternately
 * (unset, set, unset, set); each process takes the 1080p, 12 MP groups and 12 MP crowd mosaics in
 * turn, every round one look and then the redaction default on each. Prints, per photo and look,
 * the median detect time after the first two rounds (and the first round's: a fresh process), the
 * redaction default against one look under each setting, and each process's RSS at the end.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DETECT_ENV, QUIET_OPENCV_LOG_LEVEL } from '../functions/detect-faces/contract';
import { createDetector } from '../functions/detect-faces/detect/detectors';
import { decodeImage, encodeJpeg } from '../functions/detect-faces/output/image';
import { DETECT_ALLOCATOR_ENV } from '../stack/detect-function';
import { withoutAllocatorEnv } from '../local/allocator';
import { median } from '../layer/rules/checks';
import { buildMosaic, MOSAICS, trainingPhotos } from './mosaic';
import { loadAddon, statusMb, table, vmHwmMb } from './real-size';

const CHILD_FLAG = '--allocator-child';
/** Rounds a process runs; the first WARM_ROUNDS are left out of the medians. */
const ROUNDS = 12;
const WARM_ROUNDS = 2;
const LOOKS = ['one look', 'redaction default'] as const;
type Look = (typeof LOOKS)[number];

/** What one process measured: per photo and look, detect ms per round; RSS at the end and its peak, MB. */
interface ChildResult {
  readonly ms: Record<string, Record<Look, number[]>>;
  readonly rssMb: number;
  readonly peakMb: number;
}

/** A child process's work: every round, each photo in turn, one look then the redaction default. */
function child(files: readonly string[]): void {
  const { cv, modelsDir } = loadAddon();
  cv.setNumThreads(1);
  const detector = createDetector(cv, 'yunet', modelsDir);
  const jpegs = files.map((f) => fs.readFileSync(f));
  const ms: ChildResult['ms'] = Object.fromEntries(files.map((f) => [path.basename(f), { 'one look': [], 'redaction default': [] }]));
  for (let round = 0; round < ROUNDS; round++) {
    jpegs.forEach((jpeg, i) => {
      for (const look of LOOKS) {
        const image = decodeImage(cv, jpeg);
        try {
          const start = performance.now();
          detector.detect(image, look === 'one look' ? { mark: 'fill', looks: 'single' } : { mark: 'fill' });
          ms[path.basename(files[i])][look].push(performance.now() - start);
        } finally {
          image.release();
        }
      }
    });
  }
  const result: ChildResult = { ms, rssMb: statusMb('VmRSS'), peakMb: vmHwmMb() };
  console.log(JSON.stringify(result));
}

function runChild(files: readonly string[], allocator: boolean): ChildResult {
  const env = allocator ? { ...process.env, ...DETECT_ALLOCATOR_ENV } : withoutAllocatorEnv(process.env);
  const res = spawnSync(process.execPath, [...process.execArgv, __filename, CHILD_FLAG, ...files], { encoding: 'utf8', env: { ...env, [DETECT_ENV.opencvLogLevel.env]: QUIET_OPENCV_LOG_LEVEL } });
  if (res.status !== 0) throw new Error(`allocator child failed: ${res.stderr}`);
  return JSON.parse(res.stdout.trim().split('\n').pop()!) as ChildResult;
}

const r0 = (n: number) => String(Math.round(n));
const r2 = (n: number) => (Math.round(n * 100) / 100).toFixed(2);

export function benchAllocator(processes = 2): string {
  const { cv } = loadAddon();
  const photos = trainingPhotos(cv);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-allocator-'));
  try {
    const files = [MOSAICS.hd1080, MOSAICS.groups4000, MOSAICS.crowd4000].map((spec) => {
      const m = buildMosaic(cv, spec, photos);
      const file = path.join(dir, `${spec.name.replace(/\W+/g, '-')}.jpg`);
      fs.writeFileSync(file, encodeJpeg(cv, m.image, 90));
      return file;
    });
    const runs: Record<'unset' | 'set', ChildResult[]> = { unset: [], set: [] };
    for (let i = 0; i < processes; i++) {
      runs.unset.push(runChild(files, false));
      runs.set.push(runChild(files, true));
    }
    const warm = (side: 'unset' | 'set', photo: string, look: Look) => median(runs[side].flatMap((r) => r.ms[photo][look].slice(WARM_ROUNDS)));
    const first = (side: 'unset' | 'set', photo: string, look: Look) => runs[side].map((r) => r0(r.ms[photo][look][0])).join(', ');
    const rows: string[][] = [];
    for (const photo of files.map((f) => path.basename(f))) {
      for (const look of LOOKS) {
        const unset = warm('unset', photo, look);
        const set = warm('set', photo, look);
        rows.push([photo.replace(/\.jpg$/, ''), look, r0(unset), first('unset', photo, look), r0(set), first('set', photo, look), r2(set / unset)]);
      }
      rows.push([photo.replace(/\.jpg$/, ''), 'redaction default / one look', r2(warm('unset', photo, 'redaction default') / warm('unset', photo, 'one look')), '', r2(warm('set', photo, 'redaction default') / warm('set', photo, 'one look')), '', '']);
    }
    const rss = (side: 'unset' | 'set') => runs[side].map((r) => `${r.rssMb} (peak ${r.peakMb})`).join(', ');
    return [
      `Allocator settings (${Object.entries(DETECT_ALLOCATOR_ENV).map(([k, v]) => `${k}=${v}`).join(' ')}): ${processes} processes each, alternately; each takes the three photos in turn for ${ROUNDS} rounds (one look, then the redaction default); ms: median after ${WARM_ROUNDS} rounds, and each process's first call. ${os.cpus()[0]?.model ?? 'cpu'}, 1 OpenCV thread, load ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')}.`,
      '',
      table(['photo', 'detect', 'unset, ms', 'first calls', 'set, ms', 'first calls', 'set / unset'], rows),
      '',
      `RSS at the end, MB: unset ${rss('unset')}; set ${rss('set')}`,
      '',
    ].join('\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const i = process.argv.indexOf(CHILD_FLAG);
  if (i >= 0) child(process.argv.slice(i + 1));
  else console.log(benchAllocator());
}
