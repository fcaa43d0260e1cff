/**
 * Redaction and landmarks with the real OpenCV layer: pixels outside the padded regions untouched,
 * inside filled / pixelated / blurred as promised; redacted faces not found again by our own
 * detector at its most sensitive; landmarks where faces have them. Needs the built layer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { buildMosaic, MOSAICS } from '../../bench/mosaic';
import { DETECT_REQUEST, LANDMARK_NAMES, OPERATING_POINTS, REDACTION_DEFAULTS, REDACT_SHAPES, type FaceBox, type RedactShape } from '../../functions/detect-faces/contract';
import { createDetector } from '../../functions/detect-faces/detect/detectors';
import type { Mat } from '../../functions/detect-faces/opencv';
import { decodeImage, encodeJpeg, FILL_BGR, redactFaces } from '../../functions/detect-faces/output/image';
import { parseJpeg } from '../../functions/detect-faces/output/jpeg-segments';
import { jpegOrientation } from '../../functions/detect-faces/output/metadata';
import { paddedRegion, pixelCell, type Region } from '../../functions/detect-faces/output/redact-plan';
import { namedLandmarks } from '../../functions/detect-faces/pipeline';
import { startLocalStack, type LocalStack } from '../../local/local-stack';
import { FACES_DIR, readLabels, startImageServer, withExifOrientation6, type ImageServer } from '../helpers/image-server';
import { layerOpenCv } from '../helpers/opencv';
import { findsFaceAgain } from '../../bench/found-again';
import { localS3Client } from '../helpers/s3';
import { tempDir } from '../helpers/temp';

jest.setTimeout(300_000);

const { cv, modelsDir } = layerOpenCv();
const detector = createDetector(cv, 'yunet', modelsDir);
/** The most sensitive request the contract allows. */
const SENSITIVE = { minScore: DETECT_REQUEST.minScore.min, minFaceSize: DETECT_REQUEST.minFaceSize.min };
/**
 * What a redacted face found again may not reach: the precision-first point. At the floor
 * (LOWEST_MIN_SCORE, where about 1 detection in 10 is a face) YuNet fed BGR still fires weakly on
 * some redacted faces (measured at 0.1: pixelate up to 0.52 on a 38-px detection, fill 0.25, blur
 * 0.13; docs/redaction.md).
 */
const NEVER_REPORTED = OPERATING_POINTS.precision.minScore;
const PHOTOS = [...readLabels().map((l) => l.file), 'grace_hopper_512x512.jpg'];
const read = (file: string) => decodeImage(cv, fs.readFileSync(path.join(FACES_DIR, file)));

/** BGR bytes of a continuous 3-channel Mat. */
const pixels = (m: Mat) => m.copy().getData();
const px = (buf: Buffer, width: number, x: number, y: number) => [...buf.subarray((y * width + x) * 3, (y * width + x) * 3 + 3)];

/** Pixel (x, y) of the region is inside the shape the redaction covers (the mask's own rasterising, within a pixel). */
function inside(shape: RedactShape, r: Region, x: number, y: number, margin = 0): boolean {
  if (shape === 'rect') return x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
  const nx = (x - r.x - (r.width - 1) / 2) / (r.width / 2);
  const ny = (y - r.y - (r.height - 1) / 2) / (r.height / 2);
  return nx * nx + ny * ny <= 1 - margin;
}

/** Pixel (x, y) may be changed by the redaction of `r`: its shape, grown by a pixel for the mask's rasterising. */
function touched(shape: RedactShape, r: Region, x: number, y: number): boolean {
  if (shape === 'rect') return inside('rect', r, x, y);
  const nx = (x - r.x - (r.width - 1) / 2) / (r.width / 2 + 1);
  const ny = (y - r.y - (r.height - 1) / 2) / (r.height / 2 + 1);
  return nx * nx + ny * ny <= 1;
}

/** The detector's boxes as the response carries them (landmarks named). */
function detectNamed(image: Mat, options = {}): FaceBox[] {
  return detector.detect(image, options).boxes.map(({ landmarks, ...b }) => ({ ...b, ...(landmarks ? { landmarks: namedLandmarks(landmarks) } : {}) }));
}

function facesOn(file: string): { image: Mat; boxes: FaceBox[] } {
  const image = read(file);
  return { image, boxes: detectNamed(image) };
}

describe.each(['fill', 'pixelate', 'blur'] as const)('%s', (mode) => {
  describe.each(REDACT_SHAPES)('%s', (shape) => {
    const file = '2008_001322.jpg';
    const { image: original, boxes } = facesOn(file);
    const redacted = read(file);
    const spec = { mode, shape, padding: REDACTION_DEFAULTS.padding };
    redactFaces(cv, redacted, boxes, spec);
    const before = pixels(original);
    const after = pixels(redacted);
    const regions = boxes.map((b) => paddedRegion(b, spec.padding, original.cols, original.rows)!);

    test(`pixels outside every padded ${shape} are identical to the unmarked decode`, () => {
      expect(boxes.length).toBe(3);
      let checked = 0;
      let corners = 0; // in a padded rectangle but outside its ellipse
      for (let y = 0; y < original.rows; y += 1) {
        for (let x = 0; x < original.cols; x += 1) {
          if (regions.some((r) => touched(shape, r, x, y))) continue;
          checked += 1;
          if (regions.some((r) => inside('rect', r, x, y))) corners += 1;
          if (px(before, original.cols, x, y).join() !== px(after, original.cols, x, y).join()) throw new Error(`pixel ${x},${y} changed`);
        }
      }
      expect(checked).toBeGreaterThan(original.rows * original.cols * 0.5);
      // An ellipse leaves its rectangle's corners as they were: all of them, less the pixel of
      // rasterising allowed above (and less where padded regions overlap).
      const cornerArea = regions.reduce((n, r) => n + Math.max(0, r.width * r.height - Math.PI * (r.width / 2 + 1) * (r.height / 2 + 1)), 0);
      if (shape === 'ellipse') expect(corners).toBeGreaterThan(0.5 * cornerArea);
    });

    test('inside: what the mode promises', () => {
      for (const r of regions) {
        if (mode === 'fill') {
          for (let y = r.y; y < r.y + r.height; y += 1) {
            for (let x = r.x; x < r.x + r.width; x += 1) if (inside(shape, r, x, y, 0.05)) expect(px(after, original.cols, x, y)).toEqual([...FILL_BGR]);
          }
        } else if (mode === 'pixelate') {
          // In every whole cell (from the region's corner) clear of the other faces' regions
          // (redacted after or before it), the pixels inside the shape are one colour.
          const cell = pixelCell(r);
          const others = regions.filter((o) => o !== r);
          let cells = 0;
          for (let cy = r.y; cy + cell <= r.y + r.height; cy += cell) {
            for (let cx = r.x; cx + cell <= r.x + r.width; cx += cell) {
              if (others.some((o) => o.x < cx + cell && cx < o.x + o.width && o.y < cy + cell && cy < o.y + o.height)) continue;
              const colours = new Set<string>();
              let pixelsIn = 0;
              for (let y = cy; y < cy + cell; y += 1) {
                for (let x = cx; x < cx + cell; x += 1) {
                  if (!inside(shape, r, x, y, 0.05)) continue;
                  pixelsIn += 1;
                  colours.add(px(after, original.cols, x, y).join());
                }
              }
              // A cell the shape covers a quarter of at least (an ellipse's corner cells: about 0.39 of a quadrant inside).
              if (pixelsIn < 0.25 * cell * cell) continue;
              cells += 1;
              expect([...colours]).toHaveLength(1);
            }
          }
          expect(cells).toBeGreaterThan(0);
        } else {
          // Blur: the variance of neighbouring-pixel differences (detail) inside the face drops at least 10x.
          const detail = (buf: Buffer) => {
            let sum = 0;
            let n = 0;
            for (let y = r.y + 1; y < r.y + r.height; y += 1) {
              for (let x = r.x + 1; x < r.x + r.width; x += 1) {
                if (!inside(shape, r, x, y, 0.3)) continue;
                const d = px(buf, original.cols, x, y)[1] - px(buf, original.cols, x - 1, y)[1];
                sum += d * d;
                n += 1;
              }
            }
            return sum / n;
          };
          expect(detail(before) / detail(after)).toBeGreaterThan(10);
        }
      }
    });
  });
});

/** Detections of `image` at the most sensitive request that would find one of `faces` again. */
function foundOnFaces(image: Mat, faces: readonly FaceBox[], padding: number): FaceBox[] {
  return detectNamed(image, SENSITIVE).filter((d) => findsFaceAgain(d, faces, padding, image.cols, image.rows));
}

describe('redacted faces are not found again as faces at the most sensitive request (stored JPEG, decoded)', () => {
  // The labelled photos, one with larger faces, and real-size mosaics (faces of 46-273 px); each
  // with its faces at the default request and a control: before redaction the check finds them all.
  let inputs: { name: string; image: Mat; faces: FaceBox[] }[];
  beforeAll(() => {
    const images = [
      ...[...PHOTOS, 'bald_guys.jpg'].map((file) => ({ name: file, image: read(file) })),
      ...[MOSAICS.groups2000, MOSAICS.groups4000].map((spec) => buildMosaic(cv, spec)),
    ];
    inputs = images.map(({ name, image }) => {
      const faces = detectNamed(image);
      const before = foundOnFaces(image, faces, REDACTION_DEFAULTS.padding);
      expect({ name, found: faces.every((f) => before.some((d) => overlap(d, f) > 0.5)) }).toEqual({ name, found: true });
      return { name, image, faces };
    });
  });
  test.each(['fill', 'pixelate', 'blur'] as const)('%s, each shape, default padding: none reaches the precision-first point on any photo', (mode) => {
    let strongest = 0;
    for (const { name, image, faces } of inputs) {
      for (const shape of REDACT_SHAPES) {
        const copy = image.copy();
        redactFaces(cv, copy, faces, { mode, shape, padding: REDACTION_DEFAULTS.padding });
        const stored = decodeImage(cv, encodeJpeg(cv, copy, 90));
        const again = foundOnFaces(stored, faces, REDACTION_DEFAULTS.padding);
        strongest = Math.max(strongest, ...again.map((b) => b.score));
        const left = again.filter((b) => b.score >= NEVER_REPORTED);
        expect({ name, shape, left: left.map((b) => `${b.score}@${b.width}px`) }).toEqual({ name, shape, left: [] });
      }
    }
    console.log(`${mode}: the strongest detection finding a redacted face again scores ${strongest.toFixed(2)}`);
  });
});

/** Intersection over the smaller box's area. */
function overlap(a: FaceBox, b: FaceBox): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? (w * h) / Math.min(a.width * a.height, b.width * b.height) : 0;
}

test('a face in the photo\'s corner: its ellipse is cut by the edge, so it is redacted as the rectangle, and every landmark is covered (the ellipse of the cut region left an eye)', () => {
  const grace = read('grace_hopper_512x512.jpg');
  const corner = grace.getRegion(new cv.Rect(220, 150, 292, 362)).copy();
  grace.release();
  const faces = detectNamed(corner, { mark: 'fill' });
  expect(faces.length).toBeGreaterThan(0);
  redactFaces(cv, corner, faces, { mode: 'fill', shape: 'ellipse', padding: REDACTION_DEFAULTS.padding });
  const pixels = corner.getData();
  for (const face of faces) {
    for (const [name, p] of Object.entries(face.landmarks!)) {
      const at = (p.y * corner.cols + p.x) * 3;
      expect([name, [...pixels.subarray(at, at + 3)]]).toEqual([name, [...FILL_BGR]]);
    }
  }
  corner.release();
});

describe('landmarks', () => {
  test('inside their box; eyes above the mouth; eyeLeft on the image\'s left, as Rekognition places it', () => {
    let faces = 0;
    // The labelled photos, and a 12 MP mosaic whose faces come through the tiles and scales.
    const mosaic = buildMosaic(cv, MOSAICS.groups4000).image;
    const found = [...PHOTOS.flatMap((file) => facesOn(file).boxes), ...detectNamed(mosaic)];
    {
      for (const b of found) {
        const lm = b.landmarks!;
        expect(lm).toBeDefined();
        faces += 1;
        for (const p of Object.values(lm)) {
          expect(p.x).toBeGreaterThanOrEqual(b.x - 1);
          expect(p.x).toBeLessThanOrEqual(b.x + b.width + 1);
          expect(p.y).toBeGreaterThanOrEqual(b.y - 1);
          expect(p.y).toBeLessThanOrEqual(b.y + b.height + 1);
        }
        expect(Math.max(lm.eyeLeft.y, lm.eyeRight.y)).toBeLessThan(Math.min(lm.mouthLeft.y, lm.mouthRight.y));
        expect(lm.eyeLeft.x).toBeLessThan(lm.eyeRight.x);
        expect(lm.mouthLeft.x).toBeLessThan(lm.mouthRight.x);
      }
    }
    expect(faces).toBeGreaterThanOrEqual(36);
  });

  test('Haar has none: the field is absent', () => {
    const haar = createDetector(cv, 'haar', modelsDir);
    const boxes = haar.detect(read('grace_hopper_512x512.jpg')).boxes;
    expect(boxes.length).toBeGreaterThan(0);
    for (const b of boxes) expect(b.landmarks).toBeUndefined();
  });

  test('the mapping names YuNet\'s points in order', () => {
    expect(namedLandmarks([[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]])).toEqual({
      eyeLeft: { x: 1, y: 2 },
      eyeRight: { x: 3, y: 4 },
      nose: { x: 5, y: 6 },
      mouthLeft: { x: 7, y: 8 },
      mouthRight: { x: 9, y: 10 },
    });
  });
});

describe('through the bundled function', () => {
  let images: ImageServer;
  let stack: LocalStack;
  let s3: S3Client;
  const dataDir = tempDir('redact-s3');

  beforeAll(async () => {
    images = await startImageServer();
    stack = await startLocalStack({ dataDir, extraLoopbackPrefixes: [`${images.origin}/`] });
    s3 = localS3Client(stack.s3.endpoint);
  });
  afterAll(async () => {
    s3?.destroy();
    await stack?.close();
    await images?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('the mode is in the response and on the stored object; landmarks follow the EXIF orientation to the displayed pixels', async () => {
    // A photo stored sideways with orientation 6, which viewers turn upright: the upright original is what they see.
    const upright = read('2008_001009.jpg');
    const turn = (m: Mat, code: 'ROTATE_90_COUNTERCLOCKWISE') => (m as unknown as { rotate(c: number): Mat }).rotate((cv as unknown as Record<string, number>)[code]);
    const sideways = withExifOrientation6(encodeJpeg(cv, turn(upright, 'ROTATE_90_COUNTERCLOCKWISE'), 98));
    const run = await stack.detect.invoke({ imageUrl: stack.files.add(sideways, 'sideways.jpg'), mark: 'fill' });
    if (!run.ok) throw new Error(JSON.stringify(run.error));
    const result = run.result as { mark: string; output: string; outputUrl: string; width: number; height: number; boxes: FaceBox[] };
    expect(result.mark).toBe('fill');
    // The layer's jpeg-lossless addon marks the JPEG in its coefficients (docs/lossless-jpeg.md).
    expect(result.output).toBe('lossless');
    const key = decodeURIComponent(new URL(result.outputUrl).pathname.split('/').slice(2).join('/'));
    expect((await s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }))).Metadata).toEqual({ mark: 'fill', output: 'lossless' });
    // Stored as it came, sideways with its tag kept; shown upright, each face the result reports is filled.
    const stored = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }))).Body!.transformToByteArray());
    expect(jpegOrientation(parseJpeg(stored))).toBe(6);
    const shown = decodeImage(cv, stored);
    const shownPixels = pixels(shown);
    for (const b of result.boxes) expect(Math.max(...px(shownPixels, shown.cols, b.x + (b.width >> 1), b.y + (b.height >> 1)))).toBeLessThanOrEqual(12);

    expect([result.width, result.height]).toEqual([upright.cols, upright.rows]);
    // The same operating point as the request's (fill: recall first).
    const expected = detectNamed(upright, { mark: 'fill' });
    expect(result.boxes.length).toBeGreaterThanOrEqual(2);
    expect(result.boxes).toHaveLength(expected.length);
    for (const b of result.boxes) {
      const twin = expected.find((e) => Math.abs(e.x - b.x) < 4 && Math.abs(e.y - b.y) < 4)!;
      expect(twin).toBeDefined();
      for (const name of LANDMARK_NAMES) {
        expect(Math.abs(b.landmarks![name].x - twin.landmarks![name].x)).toBeLessThanOrEqual(2);
        expect(Math.abs(b.landmarks![name].y - twin.landmarks![name].y)).toBeLessThanOrEqual(2);
      }
    }
  });

  test.each([
    [{ mark: 'sparkle' }, /^mark must be one of/],
    [{ mark: 'fill', padding: -1 }, /^padding must be a number from 0 to 1/],
    [{ mark: 'fill', padding: 2 }, /^padding must be a number from 0 to 1/],
    [{ shape: 'rect' }, /^shape applies only to a redaction/],
  ])('%j: InvalidInput naming the field', async (options, message) => {
    const run = await stack.detect.invoke({ imageUrl: images.url('/faces/grace_hopper_512x512.jpg'), ...options });
    expect(run.error).toMatchObject({ errorType: 'InvalidInput', errorMessage: expect.stringMatching(message) });
  });
});
