/**
 * `npm run redact -- IN_DIR OUT_DIR [--mark fill] [--min-face-size N] [--min-score S] [--max-faces N]
 * [--shape ellipse|rect] [--padding P] [--output lossless|reencode]`: every image under IN_DIR (JPEG, PNG, WebP; sub-folders
 * too) through detect-faces' own pipeline and ports, in one process (the layer's addon and the
 * model loaded once), with a file-system store: each marked image lands under the same relative
 * path in OUT_DIR (a JPEG; a PNG or WebP input `a/b.png` gives `a/b.png.jpg`), and OUT_DIR/results.jsonl
 * gets one line per image, written as it goes: the result (`file` relative to IN_DIR, `outputFile`,
 * `faces`, `boxes`, `width`, `height`, `minFaceSize`, `mark`, `output`) or its typed error (`file`,
 * `errorType`, `errorMessage`). The mark defaults to `fill` (a redaction); request flags as
 * `npm start` takes them; the function's settings (MIN_SCORE, DETECT_BUDGET_MS, DETECTOR,
 * JPEG_QUALITY, MAX_IMAGE_PIXELS, ...) from the environment. A progress bar on a terminal.
 * Exit status: 0 when every image was processed, 1 when some failed (see results.jsonl), 2 for a
 * usage error. Links are followed; folders are compared as the file system resolves them
 * (docs/local.md says what is refused).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { asServiceError, downloadFailed, invalidInput, storageFailed, tooLarge } from '../functions/common/errors';
import { createLogger } from '../functions/common/logger';
import { settingsFromEnv } from '../functions/common/settings';
import { DETECT_ENV, SAFE_MARK, type DetectRequestOptions, type DetectResult } from '../functions/detect-faces/contract';
import { createDetector, networkPixelsForBudget } from '../functions/detect-faces/detect/detectors';
import type { Mat, OpenCv } from '../functions/detect-faces/opencv';
import { createOpenCvCodec } from '../functions/detect-faces/output/image';
import { processImage, type ImageStore, type PipelinePorts, type PipelineSettings } from '../functions/detect-faces/pipeline';
import { parseOptions, refuseShapeWithBox } from '../functions/detect-faces/request';
import { JPEG_LOSSLESS_PACKAGE } from '../functions/detect-faces/output/lossless-package';
import { createLosslessEditor, loadJpegLossless } from '../functions/detect-faces/output/lossless';
import { rerunUnderAllocatorEnv } from './allocator';
import { unpackLayer } from './layer';
import { REQUEST_FLAGS, takeRequestFlag } from './request-flags';
import { userCwd } from './user-cwd';

export const USAGE = `usage: npm run redact -- IN_DIR OUT_DIR [${[...REQUEST_FLAGS.keys()].map((f) => `${f} V`).join('] [')}]`;
const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp']);
export const RESULTS_FILE = 'results.jsonl';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface RedactArgs {
  readonly inDir: string;
  readonly outDir: string;
  /** Validated as a request's options are; `mark` defaults to SAFE_MARK. */
  readonly options: DetectRequestOptions;
}

export function parseRedactArgs(args: readonly string[], cwd = userCwd()): RedactArgs {
  const raw: Record<string, unknown> = {};
  const dirs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    let last: number | undefined;
    try {
      last = takeRequestFlag(args, i, raw);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (last !== undefined) i = last;
    else if (args[i].startsWith('--')) throw new UsageError(`unknown option ${args[i]}\n${USAGE}`);
    else dirs.push(args[i]);
  }
  if (dirs.length !== 2) throw new UsageError(`${dirs.length < 2 ? 'IN_DIR and OUT_DIR are needed' : `two folders only, got ${dirs.join(', ')}`}\n${USAGE}`);
  const [inDir, outDir] = dirs.map((d) => path.resolve(cwd, d));
  if (!fs.existsSync(inDir) || !fs.statSync(inDir).isDirectory()) throw new UsageError(`IN_DIR ${dirs[0]} is not a folder`);
  // Compared as the file system resolves them: a link to IN_DIR is IN_DIR, and so is Photos/ for
  // photos/ on a disk that ignores case (realpath.native gives the case on disk; realpath keeps the given one).
  const realIn = fs.realpathSync.native(inDir);
  const realOut = realFolder(outDir, dirs[1]);
  if (realOut === realIn) throw new UsageError('OUT_DIR must differ from IN_DIR (outputs would overwrite the originals)');
  if (isInside(realIn, realOut)) throw new UsageError('IN_DIR must not be inside OUT_DIR (outputs could overwrite the originals)');
  // An output replaces the file of its name: only a new or empty folder, or an earlier run's (its results.jsonl says so), takes them.
  if (fs.existsSync(outDir) && !fs.existsSync(path.join(outDir, RESULTS_FILE)) && fs.readdirSync(outDir).length > 0) {
    throw new UsageError(`OUT_DIR ${dirs[1]} holds files but no ${RESULTS_FILE}: the outputs would replace files of the same names there; give a new or empty folder, or an earlier run's OUT_DIR`);
  }
  let options: DetectRequestOptions;
  try {
    options = parseOptions({ mark: SAFE_MARK, ...raw });
    refuseShapeWithBox(options);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return { inDir, outDir, options };
}

const isInside = (child: string, parent: string) => child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);

/** `folder` as the file system resolves it, the part not yet made kept as given; a UsageError when it, or what it would be made in, is a file. */
function realFolder(folder: string, given: string): string {
  const missing: string[] = [];
  let existing = folder;
  while (!fs.existsSync(existing)) {
    if (statOrUndefined(existing, fs.lstatSync)?.isSymbolicLink()) throw new UsageError(`OUT_DIR ${given} is not a folder (${existing} is a link that leads nowhere)`);
    missing.unshift(path.basename(existing));
    existing = path.dirname(existing);
  }
  if (!fs.statSync(existing).isDirectory()) throw new UsageError(`OUT_DIR ${given} is not a folder (${existing} is a file)`);
  return path.join(fs.realpathSync.native(existing), ...missing);
}

/** Whether a file name is one of an image's (by extension in any case; `.jpg` alone counts). */
const isImageName = (name: string) => IMAGE_EXTENSIONS.has(name.slice(name.lastIndexOf('.')).toLowerCase());

/**
 * Image files under `dir`, relative to it, '/'-separated, sorted; `skip` (an output folder inside
 * it) left out. Symbolic links are followed, to files and to folders; a folder is read once, at
 * its own place when it is under `dir` (a link to it, or to `dir` or a folder above it, is not
 * followed), else through the first link in order. A link that leads nowhere is listed all the
 * same, so that its result line says so. A sub-folder that cannot be read is handed to
 * `unreadable` (relative to `dir`, with the error) and the rest listed; without it, the error is thrown.
 */
export function listImages(dir: string, skip?: string, unreadable?: (folder: string, err: Error) => void): string[] {
  const real = (folder: string) => fs.realpathSync.native(folder);
  const realDir = real(dir);
  const skipReal = skip !== undefined && fs.existsSync(skip) ? real(skip) : undefined;
  const relative = (full: string) => path.relative(dir, full).split(path.sep).join('/');
  // A sub-folder that cannot be read lists nothing; `report`: the walk hands it to `unreadable` (once: the collect pass is silent).
  const entries = (folder: string, report = false): fs.Dirent[] => {
    try {
      return fs.readdirSync(folder, { withFileTypes: true });
    } catch (err) {
      if (unreadable === undefined || folder === dir) throw err;
      if (report) unreadable(`${relative(folder)}/`, err as Error);
      return [];
    }
  };
  // First the folders under `dir` reached without a link: those are read where they are.
  const own = new Set<string>();
  const collect = (folder: string) => {
    own.add(real(folder));
    for (const entry of entries(folder)) if (entry.isDirectory()) collect(path.join(folder, entry.name));
  };
  collect(dir);
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = (folder: string, throughLink: boolean) => {
    const at = real(folder);
    if (at === skipReal || seen.has(at) || (throughLink && (own.has(at) || isInside(realDir, at)))) return;
    seen.add(at);
    for (const entry of entries(folder, true)) {
      const full = path.join(folder, entry.name);
      const link = entry.isSymbolicLink();
      const target = link ? statOrUndefined(full) : entry;
      if (target?.isDirectory()) walk(full, throughLink || link);
      else if ((target === undefined || target.isFile()) && isImageName(entry.name)) out.push(relative(full));
    }
  };
  walk(dir, false);
  return out.sort();
}

function statOrUndefined(file: string, stat: (file: string) => fs.Stats = fs.statSync): fs.Stats | undefined {
  try {
    return stat(file);
  } catch {
    return undefined;
  }
}

/** Where the marked copy of `file` goes, relative to OUT_DIR: the same path, `.jpg` added unless it is a JPEG. */
export function outputPath(file: string): string {
  return /\.jpe?g$/i.test(file) ? file : `${file}.jpg`;
}

/** A store that writes into `root`, whole files only (written beside, then renamed). Returns the path relative to `root`. */
export function createFileStore(root: string): ImageStore {
  return {
    async put(key, jpeg) {
      const target = path.join(root, key);
      const partial = `${target}.partial-${process.pid}`;
      try {
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(partial, jpeg);
        fs.renameSync(partial, target);
      } catch (err) {
        if (fs.existsSync(partial)) fs.rmSync(partial);
        throw storageFailed(`could not write ${key} in OUT_DIR: ${(err as Error).message}`, err);
      }
      return key;
    },
  };
}

/** `[#####-----] 12/40 a/b.jpg`, fitted into `columns`. */
export function progressLine(done: number, total: number, current: string, columns = 80): string {
  const width = 20;
  const filled = total > 0 ? Math.round((done / total) * width) : width;
  const head = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} `;
  const room = Math.max(0, columns - head.length - 1);
  return head + (current.length > room ? `...${current.slice(current.length - room + 3)}` : current);
}

export type ResultLine = ({ file: string; outputFile: string } & Omit<DetectResult, 'outputUrl'>) | { file: string; errorType: string; errorMessage: string };

export interface RedactSummary {
  readonly images: number;
  readonly failed: number;
  readonly faces: number;
}

/**
 * Runs every image of `args.inDir` through the pipeline on `ports` (their store is the file store
 * of `args.outDir`), appending each result line as soon as it is known.
 */
export async function redactFolder<I>(
  args: RedactArgs,
  ports: Omit<PipelinePorts<I>, 'store' | 'fetch'>,
  settings: PipelineSettings,
  progress?: (line: string) => void,
  columns?: number,
): Promise<RedactSummary> {
  // A sub-folder that cannot be read is a line of its own (DownloadFailed); the others go on.
  const folders: ResultLine[] = [];
  const files = listImages(args.inDir, args.outDir, (folder, err) => folders.push({ file: folder, errorType: 'DownloadFailed', errorMessage: `could not read the folder: ${err.message}` }));
  fs.mkdirSync(args.outDir, { recursive: true });
  const resultsFile = path.join(args.outDir, RESULTS_FILE);
  fs.writeFileSync(resultsFile, folders.map((line) => `${JSON.stringify(line)}\n`).join(''));
  const store = createFileStore(args.outDir);
  // The pipeline's download port is not used: each job reads its own file.
  const noFetch = async () => Promise.reject(new Error('redact reads files, not URLs'));
  let failed = folders.length;
  let faces = 0;
  // Each output path has one owner (`a.png` and `a.png.jpg` would both write `a.png.jpg`): the first
  // in order claims it. Compared without case, as a disk that ignores case would.
  const owners = new Map<string, string>();
  for (const [i, file] of files.entries()) {
    progress?.(progressLine(i, files.length, file, columns));
    let line: ResultLine;
    const key = outputPath(file);
    try {
      const owner = owners.get(key.toLowerCase());
      if (owner !== undefined) throw invalidInput(`its output ${key} is already ${owner}'s; rename one of the two`);
      owners.set(key.toLowerCase(), file);
      const { outputUrl, ...result } = await processImage({ ...ports, store, fetch: noFetch }, settings, () => ({
        source: file,
        key,
        options: args.options,
        fetch: async (limits) => readImageFile(path.join(args.inDir, file), limits.maxBytes),
      }));
      line = { file, outputFile: outputUrl, ...result };
      faces += result.faces;
    } catch (err) {
      const error = asServiceError(err);
      // An unexpected error's own words: this tool's log is the terminal, with no request id to look up.
      const { cause } = error;
      const message = error.code === 'Internal' ? `internal error: ${typeof cause === 'object' && cause !== null && 'message' in cause ? String(cause.message) : String(cause)}` : error.message;
      line = { file, errorType: error.code, errorMessage: message };
      failed++;
      // An earlier run's output of this image (a box where this run redacts) must not stay as if it were this run's.
      if (owners.get(key.toLowerCase()) === file) {
        try {
          fs.rmSync(path.join(args.outDir, key), { force: true });
        } catch (rmErr) {
          line.errorMessage += `; an earlier output ${key} is still in OUT_DIR (${(rmErr as Error).message})`;
        }
      }
    }
    fs.appendFileSync(resultsFile, `${JSON.stringify(line)}\n`);
  }
  progress?.(progressLine(files.length, files.length, '', columns));
  return { images: files.length, failed, faces };
}

/** The download port of a file: TooLarge before reading, DownloadFailed when it cannot be read (a link that leads nowhere, no permission). */
function readImageFile(full: string, maxBytes: number): { data: Buffer } {
  const read = <T>(step: () => T): T => {
    try {
      return step();
    } catch (err) {
      throw downloadFailed(`could not read the file: ${(err as Error).message}`, err);
    }
  };
  const size = read(() => fs.statSync(full).size);
  if (size > maxBytes) throw tooLarge(`the image is ${size} bytes, over the limit of ${maxBytes}`);
  return { data: read(() => fs.readFileSync(full)) };
}

/** The layer's addons (their loaders are silent on stdout, which is this tool's) and models; the layer is the project's, whatever the working folder. */
function loadLayer(): { cv: OpenCv; lossless: ReturnType<typeof loadJpegLossless>; modelsDir: string } {
  const layer = unpackLayer();
  return { cv: layer.load('@u4/opencv4nodejs') as OpenCv, lossless: loadJpegLossless(() => layer.load(JPEG_LOSSLESS_PACKAGE)), modelsDir: layer.modelsDir };
}

async function main(): Promise<void> {
  let args: RedactArgs;
  try {
    args = parseRedactArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`redact: ${(err as Error).message}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  }
  // The function's settings, as its environment would give them (no bucket: outputs are files).
  const schema = Object.fromEntries(Object.entries(DETECT_ENV).filter(([name]) => name !== 'bucket')) as Omit<typeof DETECT_ENV, 'bucket'>;
  const env = settingsFromEnv(schema, { OPENCV_LOG_LEVEL: 'ERROR', ...process.env });
  process.env.OPENCV_LOG_LEVEL = env.opencvLogLevel;
  const { cv, lossless, modelsDir } = loadLayer();
  if (env.threads > 0) cv.setNumThreads(env.threads);
  const ports: Omit<PipelinePorts<Mat>, 'store' | 'fetch'> = {
    codec: createOpenCvCodec(cv),
    lossless: 'unavailable' in lossless ? lossless : createLosslessEditor(lossless),
    detector: createDetector(cv, env.detector, env.modelsDir === DETECT_ENV.modelsDir.default ? modelsDir : env.modelsDir),
    // Failures are in results.jsonl; the log says only what went wrong unexpectedly.
    log: createLogger({ tool: 'redact' }, { level: 'error', write: (l) => process.stderr.write(`${l}\n`) }),
    metrics: () => undefined,
    now: () => new Date(),
  };
  const settings: PipelineSettings = { ...env, allowedLoopbackPrefixes: [], maxNetworkPixels: networkPixelsForBudget(env.detectBudgetMs) };
  const tty = process.stderr.isTTY === true;
  const started = performance.now();
  const summary = await redactFolder(args, ports, settings, tty ? (l) => process.stderr.write(`\r${l}\x1b[K`) : undefined, process.stderr.columns);
  if (tty) process.stderr.write('\n');
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`${summary.images} images, ${summary.faces} faces marked (${args.options.mark}), ${summary.failed} failed, ${seconds} s; results: ${path.join(args.outDir, RESULTS_FILE)}\n`);
  if (summary.failed > 0) process.exitCode = 1;
}

if (require.main === module) {
  // The detector's allocator settings, as the function runs with them (local/allocator.ts).
  rerunUnderAllocatorEnv()
    .then((status) => (status !== undefined ? process.exit(status) : main()))
    .catch((err: unknown) => {
      process.stderr.write(`redact: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}
