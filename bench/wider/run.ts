/**
 * `npm run bench:wider -- DIR [--fit] [--reuse] [--misses] [--limit N]`: the service's detector on a
 * WIDER-format folder (DIR/labels.json and DIR/images/<event>/<name>.jpg), one OpenCV
 * thread, the layer's addon. WIDER FACE is for non-commercial research: the bench reads it from
 * the path given and never copies it into the repository (its results go to bench/results/, which
 * git ignores).
 *
 * For the plain look (one look at the photo's own size, raw scores, as YuNet's published figures)
 * and for each operating point (operating-points.ts) at its default: recall per category and per
 * size band, precision, WIDER AP easy/medium/hard of the full score curve, ms per image (and the
 * operating points on each half of the folder, by the parity of the photo's number: a setting chosen
 * on one half is checked on the other), the share of faces the redaction default's marks hide
 * (hidden.ts: all of, or 90% of, the labelled box under the padded marks, each shape); then for
 * each calibrated configuration the score sweep that operating points are chosen from, and the
 * reliability curve (reported score against the measured face fraction).
 *
 *   --fit     re-fit the score calibration on this folder and write
 *             functions/detect-faces/detect/calibration.ts (then the figures use the new tables)
 *   --reuse   take the detections from the last run's bench/results/wider-detections.json
 *             instead of running the network (same folder, same code)
 *   --misses  also classify each operating point's missed faces by the stage of the detector that
 *             lost them (misses.ts), from a traced run of the network
 *   --limit N the first N images only
 *
 * It runs with the detect function's allocator settings (DETECT_ALLOCATOR_ENV), starting itself
 * again with them when they are not set.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Box } from '../../functions/detect-faces/detect/boxes';
import { CALIBRATION } from '../../functions/detect-faces/detect/calibration';
import { mergeFaces } from '../../functions/detect-faces/detect/merge';
import { planDetection, YUNET_PLAN } from '../../functions/detect-faces/detect/plan';
import { RAW_SCORE_FLOOR, type CalibrationTable, type LookCalibration } from '../../functions/detect-faces/detect/score';
import { LOOK_AGREEMENTS } from '../../functions/detect-faces/detect/flip';
import { MODEL_FILES } from '../../functions/detect-faces/detect/detectors';
import { calibrated, LOOK_FIRST_NETWORK, yunetCandidates, type TileTrace, type YunetCandidate } from '../../functions/detect-faces/detect/yunet';
import { LOOKS, LOOKS_TEXT, OPERATING_POINTS, REDACT_SHAPES, REDACTION_DEFAULTS, type Looks, type OperatingPointName } from '../../functions/detect-faces/contract';
import { decodeImage } from '../../functions/detect-faces/output/image';
import type { Net, OpenCv } from '../../functions/detect-faces/opencv';
import { loadYunet, plainLook } from '../plain-look';
import { loadAddon, table } from '../real-size';
import { rerunUnderAllocatorEnv } from '../../local/allocator';
import { fitCalibration, reliability, type LabelledDetection } from './calibrate';
import { formatCalibration, CALIBRATION_FILE, CALIBRATION_GRID } from './calibration-file';
import { hiddenShare } from './hidden';
import { countMisses, emptyMissTable, type MissTable } from './misses';
import { CATEGORIES, isFace, operatingFigures, photoCounts, thresholdForPrecision, widerAp, type Predictions, type WiderImage } from './score';
import { BOOTSTRAP_ROUNDS, BOOTSTRAP_SEED, bootstrapIntervals, TARGETS } from './interval';

const RESULTS = path.join(__dirname, '..', 'results');
const DETECTIONS = path.join(RESULTS, 'wider-detections.json');
/** Multiples of each default's min score at which the share of resamples meeting the targets is printed. */
const SHARE_SWEEP = [0.8, 0.9, 0.95, 1, 1.05, 1.1, 1.2] as const;
/** The operating points, by name. */
const POINTS = Object.entries(OPERATING_POINTS) as [OperatingPointName, (typeof OPERATING_POINTS)[OperatingPointName]][];
/** The published protocol's lowest score (opencv_zoo's eval: 0.02), for the plain look's full curve. */
const PLAIN_FLOOR = 0.02;
/** The plain look's raw thresholds shown beside the operating points (issue 22's reference rows). */
const PLAIN_THRESHOLDS = [0.7, 0.3];
/** How much of a face's labelled box its marks must cover for the hidden-faces table: all of it, and 90%. */
const HIDDEN_AT_LEAST = [1, 0.9];
const SWEEP = [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9];

/** Per image: the plain look's raw detections, and the service's candidates (before calibration) with each kind of look. */
type Detections = { readonly dir: string; readonly files: string[]; readonly plain: Box[][] } & Record<Looks, YunetCandidate[][]> & {
  /** Detect milliseconds per image, summed. */
  readonly ms: Record<'plain' | Looks, number>;
};

/** The networks, from the layer's models folder; `first` gives each kind of look's first network. */
function loadNetworks(): { cv: OpenCv; net: Net; second: Net; first: (looks: Looks) => Net } {
  const { cv, modelsDir } = loadAddon();
  cv.setNumThreads(1);
  const firsts = { yunet: loadYunet(cv, modelsDir), yunetN: cv.readNetFromONNX(path.join(modelsDir, MODEL_FILES.yunetN)) };
  return { cv, net: firsts.yunet, second: cv.readNetFromONNX(path.join(modelsDir, MODEL_FILES.yunet2022)), first: (looks) => firsts[LOOK_FIRST_NETWORK[looks]] };
}

export function parseArgs(argv: readonly string[]): { dir: string; fit: boolean; reuse: boolean; misses: boolean; limit?: number } {
  const out: { dir?: string; fit: boolean; reuse: boolean; misses: boolean; limit?: number } = { fit: false, reuse: false, misses: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--fit') out.fit = true;
    else if (a === '--reuse') out.reuse = true;
    else if (a === '--misses') out.misses = true;
    else if (a === '--limit') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--limit needs a whole number of images, got ${JSON.stringify(argv[i])}`);
      out.limit = n;
    } else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else if (out.dir === undefined) out.dir = a;
    else throw new Error(`one folder only, got ${out.dir} and ${a}`);
  }
  if (out.dir === undefined) throw new Error('usage: npm run bench:wider -- DIR [--fit] [--reuse] [--misses] [--limit N]   (DIR holds labels.json and images/)');
  return { ...out, dir: path.resolve(out.dir) };
}

export function readWider(dir: string, limit?: number): WiderImage[] {
  const file = path.join(dir, 'labels.json');
  if (!fs.existsSync(file)) throw new Error(`${file} not found: DIR must hold labels.json and images/ (WIDER format)`);
  const labels = JSON.parse(fs.readFileSync(file, 'utf8')) as WiderImage[];
  if (!Array.isArray(labels) || labels.some((l) => typeof l.file !== 'string' || !Array.isArray(l.faces))) throw new Error(`${file}: expected [{file, width, height, faces: [...]}]`);
  return labels.slice(0, limit ?? labels.length);
}

function detectAll(dir: string, labels: readonly WiderImage[]): Detections {
  const { cv, net, second, first } = loadNetworks();
  const out: Detections = { dir, files: labels.map((l) => l.file), plain: [], single: [], flip: [], cascade: [], 'cascade-n': [], ms: { plain: 0, single: 0, flip: 0, cascade: 0, 'cascade-n': 0 } };
  const timed = <T>(key: keyof Detections['ms'], work: () => T): T => {
    const t0 = performance.now();
    const result = work();
    out.ms[key] += performance.now() - t0;
    return result;
  };
  const started = performance.now();
  labels.forEach((label, i) => {
    const image = decodeImage(cv, fs.readFileSync(path.join(dir, 'images', label.file)));
    const plan = planDetection(image.cols, image.rows, {}, YUNET_PLAN);
    out.plain.push(timed('plain', () => plainLook(cv, net, image, PLAIN_FLOOR)));
    for (const looks of LOOKS) out[looks].push(timed(looks, () => yunetCandidates(cv, first(looks), image, plan, YUNET_PLAN, { looks, rawThreshold: RAW_SCORE_FLOOR, second })));
    image.release();
    if (process.stderr.isTTY || (i + 1) % 50 === 0 || i + 1 === labels.length) {
      const eta = ((performance.now() - started) / (i + 1)) * (labels.length - i - 1);
      process.stderr.write(`${process.stderr.isTTY ? '\r' : ''}  ${i + 1}/${labels.length} images, ${Math.round(eta / 1000)} s left${process.stderr.isTTY ? '' : '\n'}`);
    }
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  return out;
}

/**
 * The operating points' miss tables, from a traced run (the candidates of every stage of every
 * tile): each photo's trace is classified as soon as it is made, so memory stays one photo's.
 */
function traceMisses(dir: string, labels: readonly WiderImage[], tables: Readonly<Record<Looks, LookCalibration>>): Record<OperatingPointName, MissTable> {
  const { cv, second, first } = loadNetworks();
  const out = Object.fromEntries(POINTS.map(([name]) => [name, emptyMissTable()])) as Record<OperatingPointName, MissTable>;
  labels.forEach((label, i) => {
    const image = decodeImage(cv, fs.readFileSync(path.join(dir, 'images', label.file)));
    const plan = planDetection(image.cols, image.rows, {}, YUNET_PLAN);
    for (const looks of new Set(POINTS.map(([, point]) => point.looks))) {
      const tiles: TileTrace[] = [];
      const candidates = yunetCandidates(cv, first(looks), image, plan, YUNET_PLAN, { looks, rawThreshold: RAW_SCORE_FLOOR, second, trace: (t) => tiles.push(t) });
      const scored = calibrated(candidates, tables[looks], 0);
      const run = { tiles, calibrated: scored, answer: mergeFaces(scored, { width: label.width, height: label.height, dropInside: dropsInside(looks) }), scale: plan.passes[0].scale };
      for (const [name, point] of POINTS) if (point.looks === looks) countMisses(out[name], label, run, point.minScore);
    }
    image.release();
    if ((i + 1) % 50 === 0 || i + 1 === labels.length) process.stderr.write(`  traced ${i + 1}/${labels.length} images\n`);
  });
  return out;
}

/** Image indices of each half of the folder: the photo's number (the file name's last digits) even, and odd. */
export function halves(labels: readonly WiderImage[]): { even: number[]; odd: number[] } {
  const out = { even: [] as number[], odd: [] as number[] };
  labels.forEach((l, i) => {
    const digits = /(\d+)\D*$/.exec(l.file);
    (digits && Number(digits[1]) % 2 === 1 ? out.odd : out.even).push(i);
  });
  return out;
}

/** Whether the service merges this kind of look's answers dropping boxes inside sure faces: as its operating point does (OperatingPoint.dropInside). */
function dropsInside(looks: Looks): boolean {
  return POINTS.some(([, point]) => point.looks === looks && point.dropInside);
}

/** The detector's answer from its candidates: calibrated, every score kept (the full curve), merged as the service merges that kind of look's. */
function answers(labels: readonly WiderImage[], candidates: readonly YunetCandidate[][], calibration: LookCalibration, looks: Looks): Box[][] {
  const dropInside = dropsInside(looks);
  return labels.map((l, i) => mergeFaces(calibrated(candidates[i], calibration, 0), { width: l.width, height: l.height, dropInside }));
}

function labelled(labels: readonly WiderImage[], candidates: readonly YunetCandidate[][]): (LabelledDetection & Pick<YunetCandidate, 'agreement'>)[] {
  return labels.flatMap((l, i) => candidates[i].map((c) => ({ raw: c.score, width: c.inputWidth, face: isFace(l, c), agreement: c.agreement })));
}

/**
 * Detections' worth of its agreement's own score curve (all widths together) that each cell of an
 * agreement's table starts from (CalibrationPrior): where a width has few detections of an
 * agreement, its cells lean to what that agreement's raw scores mean at any width.
 */
export const AGREEMENT_PRIOR_WEIGHT = 5;

/**
 * A kind of look's calibration fitted on its labelled candidates: a table per agreement it gives,
 * each cell starting from that agreement's score curve over all widths (AGREEMENT_PRIOR_WEIGHT), so
 * its sparse cells (the widest rows hold a handful of one agreement) follow the agreement rather
 * than a handful of misplaced boxes. An agreement no candidate had (a folder of a few photos) gets
 * the curve of all the look's candidates.
 */
export function fitLook(looks: Looks, detections: readonly (LabelledDetection & Pick<YunetCandidate, 'agreement'>)[]): LookCalibration {
  const { widths, raws } = CALIBRATION_GRID;
  // One row for every width: the detections' face fraction by raw score alone.
  const curve = (ds: readonly LabelledDetection[]): CalibrationTable => {
    const row = fitCalibration(ds.map((d) => ({ ...d, width: 1 })), [1], raws).scores[0];
    return { widths: [...widths], raws: [...raws], scores: widths.map(() => row) };
  };
  return Object.fromEntries(
    LOOK_AGREEMENTS[looks].map((agreement) => {
      const own = detections.filter((d) => d.agreement === agreement);
      return [agreement, fitCalibration(own, widths, raws, { table: curve(own.length > 0 ? own : detections), weight: AGREEMENT_PRIOR_WEIGHT })];
    }),
  );
}

const pct = (x: number) => (100 * x).toFixed(1);

function figuresRow(name: string, labels: readonly WiderImage[], predictions: Predictions, threshold: number, ap: string, ms: string): string[] {
  const f = operatingFigures(labels, predictions, threshold);
  return [name, String(threshold), ...Object.keys(CATEGORIES).map((c) => pct(f.recall[c as keyof typeof CATEGORIES])), ...f.bands.map((b) => pct(b.recall)), pct(f.precision), String(f.predictions), ap, ms];
}

export async function benchWider(argv: readonly string[]): Promise<string> {
  const args = parseArgs(argv);
  const labels = readWider(args.dir, args.limit);
  let detections: Detections;
  if (args.reuse) {
    detections = JSON.parse(fs.readFileSync(DETECTIONS, 'utf8')) as Detections;
    if (detections.dir !== args.dir || detections.files.length !== labels.length || detections.files.some((f, i) => f !== labels[i].file)) {
      throw new Error(`${DETECTIONS} holds another folder's detections (${detections.dir}, ${detections.files.length} images): run without --reuse`);
    }
    // An older bench's file: a kind of look missing, or candidates without their agreement.
    const missing = LOOKS.filter((looks) => !Array.isArray(detections[looks]) || detections[looks].some((image) => image.some((c) => c.agreement === undefined)));
    if (missing.length > 0) throw new Error(`${DETECTIONS} has no detections, or none with their looks' agreement, of the ${missing.join(', ')} looks (an older bench's): run without --reuse`);
  } else {
    detections = detectAll(args.dir, labels);
    fs.mkdirSync(RESULTS, { recursive: true });
    fs.writeFileSync(DETECTIONS, JSON.stringify(detections));
  }
  let tables = CALIBRATION;
  const out: string[] = [];
  if (args.fit) {
    tables = Object.fromEntries(LOOKS.map((looks) => [looks, fitLook(looks, labelled(labels, detections[looks]))])) as Record<Looks, LookCalibration>;
    fs.writeFileSync(CALIBRATION_FILE, formatCalibration(tables, `${labels.length} images of ${path.basename(args.dir)}`));
    out.push(`calibration re-fitted on ${labels.length} images: ${path.relative(process.cwd(), CALIBRATION_FILE)} written`, '');
  }
  const n = labels.length;
  const apText = (p: Predictions) => {
    const ap = widerAp(labels, p);
    return `${ap.easy.toFixed(3)} / ${ap.medium.toFixed(3)} / ${ap.hard.toFixed(3)}`;
  };
  const predictions = Object.fromEntries(LOOKS.map((looks) => [looks, answers(labels, detections[looks], tables[looks], looks)])) as Record<Looks, Box[][]>;
  const msOf = (k: keyof Detections['ms']) => (detections.ms[k] / n).toFixed(0);
  const header = ['detector', 'min score', ...Object.keys(CATEGORIES).map((c) => `recall ${c}`), '20-40 px', '40-80', '80-160', '160+', 'precision', 'detections >= 20 px', 'WIDER AP easy / medium / hard', 'ms / image'];
  const rows: string[][] = [];
  const plainAp = apText(detections.plain);
  for (const t of PLAIN_THRESHOLDS) rows.push(figuresRow('plain look (raw score)', labels, detections.plain, t, plainAp, msOf('plain')));
  for (const [name, point] of POINTS) {
    rows.push(figuresRow(`${name} default (${LOOKS_TEXT[point.looks]})`, labels, predictions[point.looks], point.minScore, apText(predictions[point.looks]), msOf(point.looks)));
  }
  // Every kind of look at the min score that gives it 95% and 70% precision on this folder: what an operating point is chosen from.
  for (const looks of LOOKS) {
    for (const target of Object.values(TARGETS).map((t) => t.precision)) {
      const t = thresholdForPrecision(labels, predictions[looks], target);
      if (t !== undefined) rows.push(figuresRow(`${LOOKS_TEXT[looks]} at ${Math.round(target * 100)}% precision`, labels, predictions[looks], t, apText(predictions[looks]), msOf(looks)));
    }
  }
  out.push(`WIDER-format folder ${args.dir}: ${n} images, ${labels.reduce((k, l) => k + l.faces.length, 0)} labelled faces; ${os.cpus()[0]?.model ?? 'cpu'}, 1 OpenCV thread, load ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')}`);
  out.push('recall: faces >= 20 px, annotator-invalid left out, IoU >= 0.5; precision: detections >= 20 px matching any labelled face; AP: the full score curve; ms: detect stage, full curve', '');
  out.push(table(header, rows), '');
  const half = halves(labels);
  const halfRows: string[][] = [];
  for (const [name, point] of POINTS) {
    const looks = point.looks;
    for (const [which, indices] of Object.entries(half)) {
      const sub = <T>(xs: readonly T[]) => indices.map((i) => xs[i]);
      halfRows.push(figuresRow(`${name} default, ${which} half (${indices.length} photos)`, sub(labels), sub(predictions[looks]), point.minScore, '', '').slice(0, -2));
    }
  }
  out.push('the operating points on each half of the folder (the photo number\'s parity):', table(header.slice(0, -2), halfRows), '');
  // How far the figures may move on another subset of as many photos (interval.ts).
  const intervalRows = POINTS.map(([name, point]) => {
    const counts = labels.map((l, i) => photoCounts(l, predictions[point.looks][i], point.minScore));
    const iv = bootstrapIntervals(counts, { target: TARGETS[name] });
    const range = ([lo, hi]: readonly [number, number]) => `${pct(lo)}-${pct(hi)}`;
    return [`${name} default`, String(point.minScore), ...Object.keys(CATEGORIES).map((c) => range(iv.recall[c as keyof typeof CATEGORIES])), range(iv.precision), `${pct(iv.meeting!)}%`];
  });
  // The same share around each default: whether a nearby min score would meet the targets more often.
  const shareRows = POINTS.map(([name, point]) => [
    `${name} default`,
    ...SHARE_SWEEP.map((k) => {
      const t = Number((point.minScore * k).toPrecision(3));
      return `${t}: ${pct(bootstrapIntervals(labels.map((l, i) => photoCounts(l, predictions[point.looks][i], t)), { target: TARGETS[name] }).meeting!)}%`;
    }),
  ]);
  out.push(
    `95% intervals over photos (bootstrap: ${BOOTSTRAP_ROUNDS} resamples of the folder's ${n} photos, seed ${BOOTSTRAP_SEED}), and the share of resamples meeting issue 22's targets (optimistic for a fresh subset: the points were chosen on this one):`,
    table(['detector', 'min score', ...Object.keys(CATEGORIES).map((c) => `recall ${c}`), 'precision', 'resamples meeting the targets'], intervalRows),
    '',
    'the share of resamples meeting the targets at min scores around each default (min score: share):',
    table(['detector', ...SHARE_SWEEP.map((k) => `x${k}`)], shareRows),
    '',
  );
  // What a redaction leaves visible: the share of faces whose labelled box its marks cover (hidden.ts).
  const recall = OPERATING_POINTS.recall;
  const hiddenRows: string[][] = [];
  for (const shape of REDACT_SHAPES) {
    for (const least of HIDDEN_AT_LEAST) {
      const share = hiddenShare(labels, predictions[recall.looks], recall.minScore, REDACTION_DEFAULTS.padding, shape, least);
      hiddenRows.push([`recall default, ${shape}${shape === REDACTION_DEFAULTS.shape ? ' (default)' : ''}, padding ${REDACTION_DEFAULTS.padding}`, `${Math.round(least * 100)}%`, ...Object.keys(CATEGORIES).map((c) => pct(share[c as keyof typeof CATEGORIES]))]);
    }
  }
  out.push(
    'faces the redaction default hides: the share of counted faces with at least this much of the labelled box under the marks (each detection padded as a redaction pads it)',
    table(['marks', 'of the box', ...Object.keys(CATEGORIES)], hiddenRows),
    '',
  );
  if (args.misses) {
    const misses = traceMisses(args.dir, labels, tables);
    for (const [name, point] of POINTS) {
      const t = misses[name];
      out.push(`${name} default (min score ${point.minScore}, ${LOOKS_TEXT[point.looks]}): counted faces by where the detector lost them (misses.ts; "at input": the face's side at the plan's finest pass)`);
      out.push(table(['stage', ...t.columns], [...t.rows].map(([cause, counts]) => [cause, ...counts.map(String)])), '');
      out.push(`${name} default: the clean faces it misses, to look at (WIDER's attributes can call a face clean that a visor, an arm or the photo's edge hides)`);
      out.push(table(['photo', 'labelled box x, y, w, h', 'side at input', 'stage'], t.cleanMisses.map((m) => [m.file, `${m.face.x}, ${m.face.y}, ${m.face.width}, ${m.face.height}`, m.atInput.toFixed(0), m.cause])), '');
    }
  }
  for (const looks of LOOKS) {
    out.push(`score sweep, calibrated, ${LOOKS_TEXT[looks]}:`);
    out.push(table(header.slice(0, -2), SWEEP.map((t) => figuresRow(looks, labels, predictions[looks], t, '', '').slice(0, -2))), '');
    const rel = reliability(labels.flatMap((l, i) => predictions[looks][i].map((p) => ({ score: p.score, face: isFace(l, p) }))));
    out.push(`reliability, ${looks}: reported score against the fraction of detections that are faces (all sizes)`);
    out.push(table(['score', 'detections', 'mean score', 'faces'], rel.map((b) => [`${b.from.toFixed(1)}-${b.to.toFixed(1)}`, String(b.detections), b.meanScore.toFixed(3), b.faceFraction.toFixed(3)])), '');
  }
  const report = out.join('\n');
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.writeFileSync(path.join(RESULTS, 'wider.md'), report);
  return report;
}

if (require.main === module) {
  // Timed with the detect function's allocator settings, as it runs (local/allocator.ts).
  rerunUnderAllocatorEnv()
    .then(async (status) => (status !== undefined ? process.exit(status) : console.log(await benchWider(process.argv.slice(2)))))
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
