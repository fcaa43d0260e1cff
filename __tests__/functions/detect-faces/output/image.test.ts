/**
 * Native memory of the marking step: every Mat that redactFaces makes is released before it
 * returns, for each mode and shape, also when OpenCV throws midway. A recording stand-in for the
 * addon counts Mats made and released (the pixels themselves are tested against the layer in
 * __tests__/integration/redaction.test.ts).
 */
import type { Mat, OpenCv } from '../../../../functions/detect-faces/opencv';
import { createOpenCvCodec, redactFaces } from '../../../../functions/detect-faces/output/image';
import type { MarkSpec } from '../../../../functions/detect-faces/output/redact-plan';

function recordingCv(failOn?: string) {
  const live = new Set<FakeMat>();
  let made = 0;
  class FakeMat {
    constructor(
      readonly rows: number,
      readonly cols: number,
    ) {
      made += 1;
      live.add(this);
    }
    readonly sizes = [];
    get empty() {
      return !live.has(this);
    }
    private derive(op: string, rows = this.rows, cols = this.cols): FakeMat {
      if (op === failOn) throw new Error(`${op} failed`);
      return new FakeMat(rows, cols);
    }
    resize(rows: number, cols: number) {
      return this.derive('resize', rows, cols);
    }
    copyMakeBorder(top: number, bottom: number, left: number, right: number) {
      return this.derive('copyMakeBorder', this.rows + top + bottom, this.cols + left + right);
    }
    getRegion(rect: { width: number; height: number }) {
      return this.derive('getRegion', rect.height, rect.width);
    }
    gaussianBlur() {
      return this.derive('gaussianBlur');
    }
    copyTo(dst: FakeMat) {
      return dst;
    }
    setTo() {
      return this;
    }
    drawEllipse() {}
    drawRectangle() {}
    release() {
      live.delete(this);
    }
  }
  const cv = {
    Mat: FakeMat,
    Rect: class {
      constructor(
        readonly x: number,
        readonly y: number,
        readonly width: number,
        readonly height: number,
      ) {}
    },
    Vec3: class {},
    Point2: class {},
    Size: class {},
    RotatedRect: class {},
  } as unknown as OpenCv;
  return { cv, image: () => new FakeMat(600, 800) as unknown as Mat, live: () => live.size, made: () => made };
}

const boxes = [
  { x: 100, y: 100, width: 120, height: 150 },
  { x: 500, y: 300, width: 60, height: 60 },
  { x: 900, y: 900, width: 10, height: 10 }, // outside the image: nothing made for it
];

describe.each<MarkSpec['mode']>(['fill', 'pixelate', 'blur'])('%s', (mode) => {
  test.each<MarkSpec['shape']>(['ellipse', 'rect'])('%s: only the image is left', (shape) => {
    const { cv, image, live, made } = recordingCv();
    const photo = image();
    redactFaces(cv, photo, boxes, { mode, shape, padding: 0.4 });
    expect(made()).toBeGreaterThan(1);
    expect(live()).toBe(1);
    createOpenCvCodec(cv).release(photo);
    expect(live()).toBe(0);
  });
});

test.each(['resize', 'gaussianBlur', 'copyMakeBorder'])('a throw in %s midway still releases what was made', (op) => {
  const { cv, image, live } = recordingCv(op);
  const mode = op === 'copyMakeBorder' ? 'pixelate' : 'blur';
  expect(() => redactFaces(cv, image(), boxes, { mode, shape: 'ellipse', padding: 0.4 })).toThrow(`${op} failed`);
  expect(live()).toBe(1);
});
