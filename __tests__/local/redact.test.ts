/** The batch redaction CLI without OpenCV: arguments, the folder walk, output paths, result lines, progress. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { unsupportedImage } from '../../functions/common/errors';
import type { PipelinePorts, PipelineSettings } from '../../functions/detect-faces/pipeline';
import { listImages, outputPath, parseRedactArgs, progressLine, redactFolder, RESULTS_FILE, UsageError } from '../../local/redact';
import { recordingLogger } from '../helpers/log';
import { tempDir } from '../helpers/temp';
import { tinyJpeg, tinyJpegText } from '../helpers/tiny-jpeg';
import { userCwd } from '../../local/user-cwd';

let root: string;
let inDir: string;
beforeEach(() => {
  root = tempDir('redact');
  inDir = path.join(root, 'in');
  for (const f of ['a.jpg', 'b/c.PNG', 'b/d/e.webp', 'notes.txt', 'bad.jpeg']) {
    fs.mkdirSync(path.dirname(path.join(inDir, f)), { recursive: true });
    fs.writeFileSync(path.join(inDir, f), f === 'bad.jpeg' ? 'not an image' : `image ${f}`);
  }
});

describe('arguments', () => {
  test('two folders and the request flags, validated as a request; the mark defaults to fill', () => {
    expect(parseRedactArgs(['in', 'out'], root)).toEqual({ inDir, outDir: path.join(root, 'out'), options: { mark: 'fill', maxFaces: 1000, output: 'lossless' } });
    expect(parseRedactArgs(['--mark', 'pixelate', 'in', 'out', '--min-face-size=24', '--padding', '0.2', '--shape', 'rect'], root).options).toEqual({ mark: 'pixelate', minFaceSize: 24, padding: 0.2, shape: 'rect', maxFaces: 1000, output: 'lossless' });
    expect(parseRedactArgs(['in', 'out', '--mark', 'box'], root).options).toEqual({ mark: 'box', maxFaces: 1000, output: 'lossless' });
    // The same value twice is no conflict.
    expect(parseRedactArgs(['in', 'out', '--mark', 'blur', '--mark=blur', '--max-faces', '5', '--max-faces', '5.0'], root).options).toEqual({ mark: 'blur', maxFaces: 5, output: 'lossless' });
  });

  test.each([
    [[], /IN_DIR and OUT_DIR are needed\nusage: npm run redact -- IN_DIR OUT_DIR \[--min-face-size V\]/],
    [['in'], /IN_DIR and OUT_DIR are needed/],
    [['in', 'out', 'more'], /two folders only/],
    [['missing', 'out'], /IN_DIR missing is not a folder/],
    [['in', 'in'], /OUT_DIR must differ from IN_DIR/],
    [['in', 'out', '--fast'], /unknown option --fast/],
    [['in', 'out', '--mark'], /--mark needs a value/],
    [['in', 'out', '--mark', 'smudge'], /^mark must be one of box, fill, pixelate, blur, got "smudge"$/],
    [['in', 'out', '--min-score', '0.05'], /^minScore must be a number from/],
    [['in', 'out', '--min-score=0x1'], /^minScore must be a number from .*, got "0x1"$/],
    [['in', 'out', '--max-faces', '0b11'], /^maxFaces must be .*, got "0b11"$/],
    [['in', 'out', '--max-faces=0o7'], /^maxFaces must be .*, got "0o7"$/],
    [['in', 'out', '--mark', 'box', '--shape', 'rect'], /^shape applies only to a redaction/],
    [['in', 'out', '--mark', 'box', '--padding', '0.5'], /^padding applies only to a redaction/],
    // A flag twice with two values: named, not the last taken (the last would leave faces unredacted here).
    [['in', 'out', '--mark', 'fill', '--mark', 'box'], /^--mark is given twice, as fill and box$/],
    [['in', 'out', '--min-face-size=24', '--min-face-size', '30'], /^--min-face-size is given twice, as 24 and 30$/],
    [['in', 'in/a.jpg'], /^OUT_DIR in\/a.jpg is not a folder/],
    [['in', 'in/a.jpg/out'], /^OUT_DIR in\/a.jpg\/out is not a folder/],
    [['in/b', 'in'], /^IN_DIR must not be inside OUT_DIR/],
  ])('%j: a usage error saying what is wrong', (args, message) => {
    const run = () => parseRedactArgs(args as string[], root);
    expect(run).toThrow(UsageError);
    expect(run).toThrow(message);
  });

  test('folders are compared as the file system resolves them: a link to IN_DIR is IN_DIR, and IN_DIR reached through a link is inside its OUT_DIR', () => {
    fs.symlinkSync(inDir, path.join(root, 'link'));
    expect(() => parseRedactArgs(['in', 'link'], root)).toThrow(/^OUT_DIR must differ from IN_DIR/);
    expect(() => parseRedactArgs(['link', 'in/'], root)).toThrow(/^OUT_DIR must differ from IN_DIR/);
    fs.symlinkSync(path.join(inDir, 'b'), path.join(root, 'b-link'));
    expect(() => parseRedactArgs(['b-link', 'in'], root)).toThrow(/^IN_DIR must not be inside OUT_DIR/);
    // An OUT_DIR inside IN_DIR is allowed (skipped when reading), through a link too.
    expect(parseRedactArgs(['link', 'in/out'], root).outDir).toBe(path.join(inDir, 'out'));
    fs.symlinkSync(path.join(root, 'nowhere'), path.join(root, 'dangling'));
    expect(() => parseRedactArgs(['in', 'dangling/out'], root)).toThrow(/^OUT_DIR dangling\/out is not a folder \(.*dangling is a link that leads nowhere\)$/);
  });
});

test('an OUT_DIR that holds files is taken only when it is an earlier run\'s (its results.jsonl): outputs replace the files of their names', () => {
  // Photos in a folder inside IN_DIR: outputs would replace them, and the walk would skip them.
  expect(() => parseRedactArgs(['in', 'in/b'], root)).toThrow(/^OUT_DIR in\/b holds files but no results\.jsonl: the outputs would replace files of the same names there/);
  fs.mkdirSync(path.join(root, 'pictures'));
  fs.writeFileSync(path.join(root, 'pictures', 'a.jpg'), 'someone\'s photo');
  expect(() => parseRedactArgs(['in', 'pictures'], root)).toThrow(UsageError);
  fs.mkdirSync(path.join(root, 'empty'));
  expect(parseRedactArgs(['in', 'empty'], root).outDir).toBe(path.join(root, 'empty'));
  fs.writeFileSync(path.join(root, 'pictures', RESULTS_FILE), '');
  expect(parseRedactArgs(['in', 'pictures'], root).outDir).toBe(path.join(root, 'pictures'));
});

test('relative folders are the user\'s: npm runs scripts in the package root and says where it was started in INIT_CWD', () => {
  const npm = { INIT_CWD: root, npm_package_json: path.join(inDir, 'package.json') };
  // The script npm started, in the package's root: the folder the user was in.
  expect(userCwd(npm, inDir)).toBe(root);
  // A process started elsewhere that inherited the variables (a test, another script): its own folder.
  expect(userCwd(npm, path.join(root, 'elsewhere'))).toBe(path.join(root, 'elsewhere'));
  expect(userCwd({}, inDir)).toBe(inDir);
  expect(userCwd({ INIT_CWD: root }, inDir)).toBe(inDir);
});

test('a link to IN_DIR or to a folder above it is not followed (it would read the folders beside IN_DIR)', () => {
  fs.mkdirSync(path.join(root, 'beside'));
  fs.writeFileSync(path.join(root, 'beside', 'x.jpg'), 'image x');
  fs.symlinkSync(root, path.join(inDir, 'b', 'up'));
  fs.symlinkSync(inDir, path.join(inDir, 'self'));
  expect(listImages(inDir)).toEqual(['a.jpg', 'b/c.PNG', 'b/d/e.webp', 'bad.jpeg']);
});

test('images under the folder, sub-folders too, by extension in any case, sorted; an output folder inside it is skipped', () => {
  fs.mkdirSync(path.join(inDir, 'out'));
  fs.writeFileSync(path.join(inDir, 'out', 'a.jpg'), 'an earlier output');
  expect(listImages(inDir, path.join(inDir, 'out'))).toEqual(['a.jpg', 'b/c.PNG', 'b/d/e.webp', 'bad.jpeg']);
});

test('links are followed, to files and folders; a folder reached twice is read once; a link that leads nowhere is listed (its line says so); a file named .jpg counts', () => {
  const outside = path.join(root, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'o.jpg'), 'image o');
  fs.symlinkSync(path.join(inDir, 'a.jpg'), path.join(inDir, 'link.jpg'));
  fs.symlinkSync(outside, path.join(inDir, 'linked'));
  fs.symlinkSync(inDir, path.join(inDir, 'b', 'loop'));
  fs.symlinkSync(path.join(root, 'nowhere.jpg'), path.join(inDir, 'broken.jpg'));
  fs.symlinkSync(path.join(inDir, 'notes.txt'), path.join(inDir, 'notes-link.txt'));
  fs.writeFileSync(path.join(inDir, '.jpg'), 'image dot');
  expect(listImages(inDir)).toEqual(['.jpg', 'a.jpg', 'b/c.PNG', 'b/d/e.webp', 'bad.jpeg', 'broken.jpg', 'link.jpg', 'linked/o.jpg']);
});

test('a folder under IN_DIR is read at its own place, even when a link to it comes first in order', () => {
  fs.symlinkSync(path.join(inDir, 'b'), path.join(inDir, 'a-link'));
  expect(listImages(inDir)).toEqual(['a.jpg', 'b/c.PNG', 'b/d/e.webp', 'bad.jpeg']);
});

test('an output folder inside IN_DIR is skipped however it is reached', () => {
  fs.mkdirSync(path.join(inDir, 'out'));
  fs.writeFileSync(path.join(inDir, 'out', 'x.jpg'), 'an earlier output');
  fs.symlinkSync(inDir, path.join(root, 'link'));
  expect(listImages(path.join(root, 'link'), path.join(inDir, 'out'))).toEqual(['a.jpg', 'b/c.PNG', 'b/d/e.webp', 'bad.jpeg']);
  expect(listImages(inDir, path.join(root, 'link', 'out'))).toEqual(['a.jpg', 'b/c.PNG', 'b/d/e.webp', 'bad.jpeg']);
});

test('outputs keep the relative path; a PNG or WebP gets .jpg added (the output is a JPEG)', () => {
  expect(['a.jpg', 'x/y.JPEG', 'b/c.PNG', 'e.webp'].map(outputPath)).toEqual(['a.jpg', 'x/y.JPEG', 'b/c.PNG.jpg', 'e.webp.jpg']);
});

test('the progress bar: done of total and the file, fitted to the terminal', () => {
  expect(progressLine(5, 10, 'a/b.jpg')).toBe('[##########----------] 5/10 a/b.jpg');
  expect(progressLine(0, 0, '')).toBe('[####################] 0/0 ');
  const long = progressLine(1, 4, 'x'.repeat(200), 60);
  expect(long).toHaveLength(59);
  expect(long).toMatch(/^\[#####-+\] 1\/4 \.\.\.x+$/);
});

describe('a folder through the pipeline (fake codec and detector)', () => {
  function ports(): Omit<PipelinePorts<{ name: string }>, 'store' | 'fetch'> & { detected: unknown[] } {
    const detected: unknown[] = [];
    return {
      detected,
      codec: {
        decode: (bytes) => {
          if (!bytes.toString().startsWith('image')) throw unsupportedImage('the image could not be decoded; it may be corrupt');
          return { name: bytes.toString() };
        },
        size: () => ({ width: 64, height: 48 }),
        mark: () => undefined,
        encode: (image) => tinyJpeg(`marked ${image.name}`),
        release: () => undefined,
      },
      detector: {
        kind: 'fake',
        detect: (_image, options) => {
          detected.push(options);
          return { boxes: [{ x: 1, y: 2, width: 20, height: 20, score: 0.9 }], minFaceSize: 20 };
        },
      },
      log: recordingLogger().log,
      metrics: () => undefined,
      now: () => new Date(),
    };
  }
  const settings: PipelineSettings = { imagePrefix: 'tmp/', jpegQuality: 90, maxImageBytes: 1000, maxImagePixels: 1e6, downloadTimeoutMs: 1000, allowedLoopbackPrefixes: [], maxNetworkPixels: 1e6 };

  test('each image marked under its relative path, one result line each, a typed error for the one that fails; the options reach the detector', async () => {
    // The fake "images" pass the byte sniffing only as PNG headers: give them one.
    for (const f of ['a.jpg', 'b/c.PNG', 'b/d/e.webp']) fs.writeFileSync(path.join(inDir, f), Buffer.concat([PNG_HEADER, Buffer.from(`image ${f}IEND`)]));
    const p = ports();
    p.codec.decode = (bytes) => {
      const text = bytes.subarray(PNG_HEADER.length, bytes.length - 4).toString();
      if (!text.startsWith('image')) throw unsupportedImage('the image could not be decoded; it may be corrupt');
      return { name: text };
    };
    const out = path.join(root, 'out');
    const progress: string[] = [];
    const summary = await redactFolder({ inDir, outDir: out, options: { mark: 'fill', minFaceSize: 24 } }, p, settings, (l) => progress.push(l));
    expect(summary).toEqual({ images: 4, failed: 1, faces: 3 });
    expect(tinyJpegText(fs.readFileSync(path.join(out, 'b', 'c.PNG.jpg')))).toBe('marked image b/c.PNG');
    expect(tinyJpegText(fs.readFileSync(path.join(out, 'a.jpg')))).toBe('marked image a.jpg');
    const lines = fs.readFileSync(path.join(out, RESULTS_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.file)).toEqual(['a.jpg', 'b/c.PNG', 'b/d/e.webp', 'bad.jpeg']);
    expect(lines[1]).toEqual({ file: 'b/c.PNG', outputFile: 'b/c.PNG.jpg', faces: 1, boxes: [{ x: 1, y: 2, width: 20, height: 20, score: 0.9 }], width: 64, height: 48, minFaceSize: 20, mark: 'fill', output: 'reencoded' });
    expect(lines[3]).toEqual({ file: 'bad.jpeg', errorType: 'UnsupportedImage', errorMessage: expect.stringMatching(/not.*a JPEG, PNG or WebP image/) });
    expect(fs.existsSync(path.join(out, 'bad.jpeg'))).toBe(false);
    expect(p.detected).toEqual(Array(3).fill(expect.objectContaining({ mark: 'fill', minFaceSize: 24 })));
    expect(progress[0]).toMatch(/^\[-+\] 0\/4 a\.jpg$/);
    expect(progress.at(-1)).toMatch(/^\[#+\] 4\/4 $/);
  });

  test('two images with one output path: the first writes it, the second is an InvalidInput line; a link to nowhere is DownloadFailed; a write that fails is StorageFailed; the others still run', async () => {
    for (const f of ['a.jpg', 'b/c.PNG', 'b/d/e.webp']) fs.writeFileSync(path.join(inDir, f), Buffer.concat([PNG_HEADER, Buffer.from(`image ${f}IEND`)]));
    // Another case of the same name: one file on a disk that ignores case.
    fs.writeFileSync(path.join(inDir, 'b', 'c.png.jpg'), Buffer.concat([PNG_HEADER, Buffer.from('image b/c.png.jpgIEND')]));
    fs.symlinkSync(path.join(root, 'nowhere.jpg'), path.join(inDir, 'broken.jpg'));
    const p = ports();
    p.codec.decode = (bytes) => ({ name: bytes.subarray(PNG_HEADER.length, bytes.length - 4).toString() });
    const out = path.join(root, 'out');
    // A file where the folder b/d/ of an output must go.
    fs.mkdirSync(path.join(out, 'b'), { recursive: true });
    fs.writeFileSync(path.join(out, 'b', 'd'), 'in the way');
    const summary = await redactFolder({ inDir, outDir: out, options: { mark: 'fill' } }, p, settings);
    const lines = fs.readFileSync(path.join(out, RESULTS_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const byFile = Object.fromEntries(lines.map((l) => [l.file, l]));
    expect(byFile['b/c.PNG']).toMatchObject({ outputFile: 'b/c.PNG.jpg', faces: 1 });
    expect(byFile['b/c.png.jpg']).toEqual({ file: 'b/c.png.jpg', errorType: 'InvalidInput', errorMessage: "its output b/c.png.jpg is already b/c.PNG's; rename one of the two" });
    expect(tinyJpegText(fs.readFileSync(path.join(out, 'b', 'c.PNG.jpg')))).toBe('marked image b/c.PNG');
    expect(byFile['broken.jpg']).toEqual({ file: 'broken.jpg', errorType: 'DownloadFailed', errorMessage: expect.stringMatching(/^could not read the file: ENOENT/) });
    expect(byFile['b/d/e.webp']).toEqual({ file: 'b/d/e.webp', errorType: 'StorageFailed', errorMessage: expect.stringMatching(/^could not write b\/d\/e\.webp\.jpg in OUT_DIR: (ENOTDIR|EEXIST)/) });
    expect(fs.readdirSync(path.join(out, 'b'))).toEqual(['c.PNG.jpg', 'd']);
    expect(byFile['a.jpg']).toMatchObject({ outputFile: 'a.jpg' });
    expect(summary).toEqual({ images: 6, failed: 4, faces: 2 });
  });

  test('an image that fails takes its earlier output with it: an earlier run\'s box must not pass for this run\'s redaction', async () => {
    for (const f of ['a.jpg', 'b/c.PNG']) fs.writeFileSync(path.join(inDir, f), Buffer.concat([PNG_HEADER, Buffer.from(`image ${f}IEND`)]));
    fs.writeFileSync(path.join(inDir, 'b', 'c.png.jpg'), Buffer.concat([PNG_HEADER, Buffer.from('image b/c.png.jpgIEND')]));
    const p = ports();
    p.codec.decode = (bytes) => ({ name: bytes.subarray(PNG_HEADER.length, bytes.length - 4).toString() });
    const out = path.join(root, 'out');
    await redactFolder({ inDir, outDir: out, options: { mark: 'box' } }, p, settings);
    expect(fs.existsSync(path.join(out, 'a.jpg'))).toBe(true);
    // Now a.jpg fails (over the byte limit); b/c.png.jpg fails again (its output is b/c.PNG's).
    fs.writeFileSync(path.join(inDir, 'a.jpg'), Buffer.alloc(2000));
    await redactFolder({ inDir, outDir: out, options: { mark: 'fill' } }, p, settings);
    const lines = fs.readFileSync(path.join(out, RESULTS_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.find((l) => l.file === 'a.jpg')).toMatchObject({ errorType: 'TooLarge' });
    expect(lines.find((l) => l.file === 'b/c.png.jpg')).toMatchObject({ errorType: 'InvalidInput' });
    expect(fs.existsSync(path.join(out, 'a.jpg'))).toBe(false);
    // The output of the other name stays: it is b/c.PNG's, made by this run.
    expect(tinyJpegText(fs.readFileSync(path.join(out, 'b', 'c.PNG.jpg')))).toBe('marked image b/c.PNG');
  });

  test('an unexpected error says its own words, not a request id to look up', async () => {
    const p = ports();
    p.codec.decode = () => ({ name: 'a' });
    p.detector.detect = () => {
      throw new Error('the detector broke');
    };
    fs.writeFileSync(path.join(inDir, 'a.jpg'), Buffer.concat([PNG_HEADER, Buffer.from('image aIEND')]));
    const out = path.join(root, 'out');
    await redactFolder({ inDir, outDir: out, options: { mark: 'fill' } }, p, settings);
    const first = JSON.parse(fs.readFileSync(path.join(out, RESULTS_FILE), 'utf8').split('\n')[0]);
    expect(first).toEqual({ file: 'a.jpg', errorType: 'Internal', errorMessage: 'internal error: the detector broke' });
  });

  test('an image over the byte limit: TooLarge, and the others still run', async () => {
    fs.writeFileSync(path.join(inDir, 'a.jpg'), Buffer.alloc(2000));
    const out = path.join(root, 'out');
    await redactFolder({ inDir, outDir: out, options: { mark: 'fill' } }, ports(), settings);
    const first = JSON.parse(fs.readFileSync(path.join(out, RESULTS_FILE), 'utf8').split('\n')[0]);
    expect(first).toEqual({ file: 'a.jpg', errorType: 'TooLarge', errorMessage: 'the image is 2000 bytes, over the limit of 1000' });
  });
});

/** A PNG signature and IHDR claiming 64x48 (an IEND after it completes it): what the pipeline's byte sniffing reads. */
const PNG_HEADER = (() => {
  const b = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]).copy(b, 0);
  b.writeUInt32BE(64, 16);
  b.writeUInt32BE(48, 20);
  return b;
})();
