/**
 * The pipeline's three ways of serving a 12 MP JPEG (the real-size groups mosaic, 4000x3000, 45
 * faces, written at quality 90; the default request: boxes), through processImage with the real
 * codec, detector and editor, one OpenCV thread:
 *   - reencode: decoded whole, detected, marked and encoded (every output before the coefficient path)
 *   - lossless, two decodes: OpenCV's scaled decode for detection, the coefficients read after it
 *     (the codec without fromBgr: the pipeline before one decode)
 *   - lossless, one decode (the pipeline's): the coefficients read at the plan's level, detection on
 *     the image libjpeg made from them as it read them
 * Per path: the stages' medians over 9 alternating runs after a warm-up (the pipeline's own
 * timings: decode, detect, annotate = mark, encode = write), and the peak RSS of a fresh process
 * serving one request (VmHWM, and over its VmHWM after loading the addons and the model), median
 * of 3. `npx tsx bench/lossless-pipeline.ts` (timing runs under the bench lock).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from '../functions/common/logger';
import { createDetector } from '../functions/detect-faces/detect/detectors';
import type { Mat } from '../functions/detect-faces/opencv';
import { createOpenCvCodec, encodeJpeg } from '../functions/detect-faces/output/image';
import { createLosslessEditor, JPEG_LOSSLESS_PACKAGE, type JpegLosslessAddon } from '../functions/detect-faces/output/lossless';
import { processImage, type PipelinePorts } from '../functions/detect-faces/pipeline';
import { median } from '../layer/rules/checks';
import { RUNS } from './lossless';
import { buildMosaic, MOSAICS } from './mosaic';
import { loadAddon, rssChildResult, vmHwmMb } from './real-size';

const PATHS = ['reencode', 'lossless, two decodes', 'lossless, one decode'] as const;
type Path = (typeof PATHS)[number];
const STAGES = ['decode', 'detect', 'annotate', 'encode'] as const;
const PHOTO = path.join(os.tmpdir(), 'lossless-pipeline-4000x3000.jpg');

/** The layer's addons and the detector, once per process. */
function load() {
  const { cv, modelsDir } = loadAddon();
  cv.setNumThreads(1);
  const detector = createDetector(cv, 'yunet', modelsDir);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const editor = createLosslessEditor(require(JPEG_LOSSLESS_PACKAGE) as JpegLosslessAddon);
  return { cv, detector, editor, codec: createOpenCvCodec(cv) };
}

/** One request on path `p` through processImage; `timings` collects each request's stage timings. */
function server(p: Path, { detector, editor, codec }: ReturnType<typeof load>, timings: Record<string, number>[]) {
  const quiet = () => undefined;
  const log: Logger = { debug: quiet, info: quiet, warn: quiet, error: quiet, child: () => log };
  const ports: PipelinePorts<Mat> = {
    fetch: async () => {
      throw new Error('the job fetches');
    },
    codec: p === 'lossless, two decodes' ? { ...codec, fromBgr: undefined } : codec,
    detector,
    lossless: editor,
    store: { put: async () => 'https://bucket.example/out.jpg' },
    log,
    metrics: (record) => void timings.push(record.timingsMs as Record<string, number>),
    now: () => new Date(),
  };
  const settings = { imagePrefix: 'tmp/', jpegQuality: 90, maxImageBytes: 1 << 26, maxImagePixels: 40e6, downloadTimeoutMs: 1000, allowedLoopbackPrefixes: [], maxNetworkPixels: 50e6 };
  return async (data: Buffer) => {
    const result = await processImage(ports, settings, () => ({ source: 'bench', fetch: async () => ({ data }), key: 'tmp/out.jpg', options: { output: p === 'reencode' ? 'reencode' : 'lossless' } }));
    if (result.output !== (p === 'reencode' ? 'reencoded' : 'lossless')) throw new Error(`${p}: served ${result.output}`);
    return result;
  };
}

/** A fresh process serving one request on `p`: its VmHWM after loading and at the end. */
function peakRss(p: Path): { baselineMb: number; peakMb: number } {
  return rssChildResult(__filename, [p]);
}

async function rssChild(p: Path): Promise<void> {
  const loaded = load();
  const { cv, detector } = loaded;
  const serve = server(p, loaded, []);
  const data = fs.readFileSync(PHOTO);
  // Warm the network on a small input so the baseline includes the loaded model.
  detector.detect(new cv.Mat(64, 64, cv.CV_8UC3, [0, 0, 0]));
  const baselineMb = vmHwmMb();
  await serve(data);
  process.stdout.write(`${JSON.stringify({ baselineMb, peakMb: vmHwmMb() })}\n`);
}

async function main(): Promise<void> {
  const timings: Record<Path, Record<string, number>[]> = { reencode: [], 'lossless, two decodes': [], 'lossless, one decode': [] };
  const loaded = load();
  const { cv } = loaded;
  const serve = Object.fromEntries(PATHS.map((p) => [p, server(p, loaded, timings[p])])) as Record<Path, ReturnType<typeof server>>;
  const data = encodeJpeg(cv, buildMosaic(cv, MOSAICS.groups4000).image, 90);
  fs.writeFileSync(PHOTO, data);
  const loadBefore = os.loadavg()[0].toFixed(1);
  for (let i = 0; i <= RUNS; i++) for (const p of PATHS) await serve[p](data);
  const rss = Object.fromEntries(PATHS.map((p) => [p, [0, 1, 2].map(() => peakRss(p))])) as Record<Path, { baselineMb: number; peakMb: number }[]>;
  const rows = [['path', 'decode', 'detect', 'mark', 'write', 'total', 'decode / reencode decode', 'peak RSS (over loaded)']];
  const stage = (p: Path, s: string) => median(timings[p].slice(1).map((t) => t[s] ?? 0));
  const full = stage('reencode', 'decode');
  for (const p of PATHS) {
    const [decode, detect, mark, write] = STAGES.map((s) => stage(p, s));
    const peak = median(rss[p].map((r) => r.peakMb));
    const over = median(rss[p].map((r) => r.peakMb - r.baselineMb));
    rows.push([p, decode.toFixed(1), detect.toFixed(1), mark.toFixed(1), write.toFixed(1), (decode + detect + mark + write).toFixed(1), `${(decode / full).toFixed(2)}x`, `${peak} MB (${over})`]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  console.log(`12 MP groups (4000x3000, ${data.length} bytes), boxes, one thread, ms: medians of ${RUNS} alternating runs after a warm-up; peak RSS: median of 3 fresh processes (load ${loadBefore} -> ${os.loadavg()[0].toFixed(1)})`);
  console.log(rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ')).join('\n'));
}

if (require.main === module) {
  const i = process.argv.indexOf('--rss-child');
  (i >= 0 ? rssChild(process.argv[i + 1] as Path) : main()).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
