/**
 * Native memory of the marking step: every Mat that redactFaces makes (the Mats setTo and copyTo
 * return included: they hold the photo's pixels) is released before it returns, for each mode and
 * shape, also when OpenCV throws midway. A stand-in for the addon with its ownership rules
 * (helpers/fake-opencv.ts) says which pixels are still held (the pixels themselves are tested
 * against the layer in __tests__/integration/redaction.test.ts).
 */
import type { OpenCv } from '../../../../functions/detect-faces/opencv';
import { createOpenCvCodec, ellipseMask, redactFaces } from '../../../../functions/detect-faces/output/image';
import type { Orientation } from '../../../../functions/detect-faces/output/metadata';
import type { MarkSpec } from '../../../../functions/detect-faces/output/redact-plan';
import { fakeOpenCv } from '../../../helpers/fake-opencv';
import { leakyJpeg } from '../../../helpers/leaky-jpeg';
import { tinyJpeg } from '../../../helpers/tiny-jpeg';

const boxes = [
  { x: 100, y: 100, width: 120, height: 150 },
  { x: 500, y: 300, width: 60, height: 60 },
  { x: 900, y: 900, width: 10, height: 10 }, // outside the image: nothing made for it
];

describe.each<MarkSpec['mode']>(['fill', 'pixelate', 'blur'])('%s', (mode) => {
  test.each<MarkSpec['shape']>(['ellipse', 'rect'])('%s: only the photo is left', (shape) => {
    const f = fakeOpenCv();
    const photo = f.mat(600, 800);
    redactFaces(f.cv, photo, boxes, { mode, shape, padding: 0.4 });
    expect(f.wrappers()).toBeGreaterThan(3);
    expect(f.live()).toEqual(['photo']);
    createOpenCvCodec(f.cv).release(photo);
    expect(f.live()).toEqual([]);
  });
});

test.each([
  ['resize', 'blur'],
  ['gaussianBlur', 'blur'],
  ['copyMakeBorder', 'pixelate'],
  ['copyTo', 'pixelate'],
  ['setTo', 'fill'],
  ['drawEllipse', 'fill'],
] as const)('a throw in %s (%s) midway still releases what was made', (op, mode) => {
  const f = fakeOpenCv();
  f.failOn.add(op);
  expect(() => redactFaces(f.cv, f.mat(600, 800), boxes, { mode, shape: 'ellipse', padding: 0.4 })).toThrow(`${op} failed`);
  expect(f.live()).toEqual(['photo']);
});

test('ellipseMask: the mask alone is left, and nothing when drawing it fails', () => {
  const f = fakeOpenCv();
  const mask = ellipseMask(f.cv, 30, 40);
  expect(f.live()).toEqual(['new Mat']);
  mask.release();
  f.failOn.add('drawEllipse');
  expect(() => ellipseMask(f.cv, 30, 40)).toThrow('drawEllipse failed');
  expect(f.live()).toEqual([]);
});

test('the codec: decode, box marks, encode and release leave nothing', () => {
  const f = fakeOpenCv();
  const codec = createOpenCvCodec(f.cv);
  const image = codec.decode(Buffer.from('photo'));
  codec.mark(image, boxes.map((b) => ({ ...b, score: 0.9 })), { mode: 'box', shape: 'rect', padding: 0 });
  codec.encode(image, 90);
  codec.release(image);
  expect(f.live()).toEqual([]);
});

test("a JPEG is turned by the orientation decode is given, else by its own tag as jpegOrientation reads it; OpenCV told to ignore the tag", () => {
  const f = fakeOpenCv();
  const IGNORE = 128;
  const flags: number[] = [];
  const cv = { ...f.cv, IMREAD_IGNORE_ORIENTATION: IGNORE, imdecode: (data: Buffer, flag: number) => (flags.push(flag), f.cv.imdecode(data, flag)) } as unknown as OpenCv;
  const codec = createOpenCvCodec(cv);
  // What each decode leaves: the stored pixels, or the mirror orientation 2 makes of them.
  const shown = (data: Buffer, orientation?: Orientation) => {
    const image = codec.decode(data, 0, orientation);
    const live = f.live();
    codec.release(image);
    return live;
  };
  const tagged = leakyJpeg(tinyJpeg('photo'), { orientation: 2 });
  expect(shown(tagged)).toEqual(['flip']);
  expect(shown(tagged, 1)).toEqual(['imdecode']);
  expect(shown(tinyJpeg('photo'), 2)).toEqual(['flip']);
  expect(shown(tinyJpeg('photo'))).toEqual(['imdecode']);
  expect(flags).toEqual([1 | IGNORE, 1 | IGNORE, 1 | IGNORE, 1 | IGNORE]);
});
