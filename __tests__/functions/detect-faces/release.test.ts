/**
 * Native memory of detection and of the coefficient path's marks: every Mat the detectors (their
 * pyramid levels, tiles, blobs, outputs, flattened copies, the mirrored look) and the lossless
 * editor (its masks) make, and the Mat of the coefficients' reduced image (bgrMat), are released
 * before they return, whatever the plan, also when OpenCV throws midway. The addon frees a Mat's pixels only when it is released or its wrapper collected,
 * which a warm container may not do for a long time. A stand-in for the addon with its ownership
 * rules (helpers/fake-opencv.ts) says which pixels are still held.
 */
import { LOOKS } from '../../../functions/detect-faces/contract';
import { CALIBRATION } from '../../../functions/detect-faces/detect/calibration';
import { createHaarDetector } from '../../../functions/detect-faces/detect/haar';
import { createYunetDetector, isCascade } from '../../../functions/detect-faces/detect/yunet';
import { bgrMat } from '../../../functions/detect-faces/output/image';
import { createLosslessEditor, JPEG_LOSSLESS_INTERFACE, type JpegHandle, type JpegLosslessAddon } from '../../../functions/detect-faces/output/lossless';
import type { MarkSpec } from '../../../functions/detect-faces/output/redact-plan';
import { fakeOpenCv } from '../../helpers/fake-opencv';
import { tinyJpeg } from '../../helpers/tiny-jpeg';

const MODELS = { yunet: 'yunet.onnx', yunet2022: 'yunet-2022.onnx', yunetN: 'yunet-n.onnx' };

describe('YuNet', () => {
  test('a calibration without a table some look needs is refused when the detector is made, naming it', () => {
    const f = fakeOpenCv();
    const { cascade, ...rest } = CALIBRATION;
    const partial = { ...cascade };
    delete partial.unseen;
    expect(() => createYunetDetector(f.cv, MODELS, { calibration: { ...rest, cascade: partial } })).toThrow(new TypeError("the calibration has no table for faces whose looks agreed as 'unseen'"));
    expect(() => createYunetDetector(f.cv, MODELS, { calibration: CALIBRATION })).not.toThrow();
  });

  // 4000x3000 down to 20 px faces: tiled passes over several pyramid levels; 640x480: one tile at the photo's size.
  test.each([
    ['one look, one tile', 'box', 640, 480, undefined],
    ['two looks, one tile', 'fill', 640, 480, undefined],
    ['two looks, tiles over pyramid levels', 'blur', 4000, 3000, 20],
  ] as const)('%s: only the photo is left', (_name, mark, width, height, minFaceSize) => {
    const f = fakeOpenCv();
    const detector = createYunetDetector(f.cv, MODELS);
    const photo = f.mat(height, width);
    detector.detect(photo, { mark, minFaceSize });
    expect(f.made()).toBeGreaterThan(10);
    expect(f.live()).toEqual(['photo']);
  });

  test.each(LOOKS)('looks %s, tiles over pyramid levels: every look ran and only the photo is left', (looks) => {
    const f = fakeOpenCv();
    const detector = createYunetDetector(f.cv, MODELS);
    const photo = f.mat(3000, 4000);
    const { boxes } = detector.detect(photo, { looks, minFaceSize: 20, minScore: 0.1 });
    // The fake network's one face per tile (calibrated high enough to be kept), merged across tiles and scales.
    expect(boxes.length).toBeGreaterThan(0);
    expect(f.made()).toBeGreaterThan(10);
    expect(f.live()).toEqual(['photo']);
  });

  test('after a reduced decode: only the photo is left', () => {
    const f = fakeOpenCv();
    const detector = createYunetDetector(f.cv, MODELS);
    const level = detector.finestLevel(4000, 3000, { mark: 'pixelate' });
    expect(level).toBeGreaterThan(0);
    const photo = f.mat(Math.ceil(3000 / 2 ** level), Math.ceil(4000 / 2 ** level));
    detector.detect(photo, { mark: 'pixelate', reduced: { level, width: 4000, height: 3000 } });
    expect(f.live()).toEqual(['photo']);
  });

  test.each(['resize', 'getRegion', 'blobFromImage', 'setInput', 'forward', 'flattenFloat', 'getData', 'flip', 'copyMakeBorder'].flatMap((op) => LOOKS.map((looks) => [op, looks] as const)).filter(([op, looks]) => (op === 'flip' ? looks === 'flip' : op === 'copyMakeBorder' ? isCascade(looks) : true)))(
    'a throw in %s midway (looks %s) still releases what was made',
    (op, looks) => {
      const f = fakeOpenCv();
      const detector = createYunetDetector(f.cv, MODELS);
      f.failOn.add(op);
      expect(() => detector.detect(f.mat(3000, 4000), { looks, minFaceSize: 20 })).toThrow(`${op} failed`);
      expect(f.live()).toEqual(['photo']);
    },
  );
});

describe('Haar', () => {
  test.each([undefined, 'detectMultiScale', 'bgrToGray', 'resize'])('%s throwing or not: only the photo is left', (op) => {
    const f = fakeOpenCv();
    const detector = createHaarDetector(f.cv, 'cascade.xml');
    if (op) f.failOn.add(op);
    const run = () => detector.detect(f.mat(3000, 4000), { minFaceSize: 20 });
    if (op) expect(run).toThrow(`${op} failed`);
    else run();
    expect(f.live()).toEqual(['photo']);
  });
});

describe('the coefficient path', () => {
  /** The addon's calls, recorded; `fails` throws from that call. The photo is `width` x `height`. */
  function fakeAddon(fails?: string, { width, height } = { width: 800, height: 600 }): JpegLosslessAddon {
    const call = (name: string) => {
      if (name === fails) throw new Error(`${name} failed`);
      return 1;
    };
    return {
      open: (_jpeg, _level, _orientation, pixels) => (pixels?.fill(128), {}) as JpegHandle,
      info: () => ({ width, height, components: 3, mcuWidth: 16, mcuHeight: 16, restartInterval: 0, progressive: false }),
      read: () => ({ x: 0, y: 0, width: 0, height: 0, pixels: Buffer.alloc(0) }),
      write: () => call('write'),
      fill: () => call('fill'),
      pixelate: () => call('pixelate'),
      blur: () => call('blur'),
      box: () => call('box'),
      save: () => tinyJpeg('saved'),
      close: () => undefined,
      releaseFreeMemory: () => false,
      jpegLibVersion: 62,
      interface: JPEG_LOSSLESS_INTERFACE,
    };
  }
  const boxes = [
    { x: 100, y: 100, width: 120, height: 150 },
    { x: 500, y: 300, width: 60, height: 60 },
  ];
  const specs: MarkSpec[] = [
    { mode: 'box', shape: 'rect', padding: 0 },
    ...(['fill', 'pixelate', 'blur'] as const).flatMap((mode) => (['ellipse', 'rect'] as const).map((shape) => ({ mode, shape, padding: 0.4 }))),
  ];

  test.each(specs.map((s) => [`${s.mode} ${s.shape}`, s] as const))('%s: nothing is left', (_name, spec) => {
    const f = fakeOpenCv();
    const image = createLosslessEditor(fakeAddon()).open(tinyJpeg('photo'), { width: 800, height: 600 });
    image.mark(boxes, spec);
    image.close();
    expect(f.live()).toEqual([]);
  });

  test.each([
    ['box', 'box'],
    ['fill', 'fill'],
    ['pixelate', 'pixelate'],
    ['blur', 'blur'],
  ] as const)('%s, a throw in %s: nothing is left', (mode, op) => {
    const f = fakeOpenCv();
    const image = createLosslessEditor(fakeAddon(op)).open(tinyJpeg('photo'), { width: 800, height: 600 });
    f.failOn.add(op);
    expect(() => image.mark(boxes, { mode, shape: mode === 'box' ? 'rect' : 'ellipse', padding: 0.4 })).toThrow(`${op} failed`);
    expect(f.live()).toEqual([]);
  });

  test.each([undefined, 'Mat', 'resize', 'blobFromImage', 'forward'])(
    "detection on the reduced image from the coefficients (bgrMat's copy of the addon's pixels), %s throwing or not: nothing is left",
    (op) => {
      const f = fakeOpenCv();
      const detector = createYunetDetector(f.cv, MODELS);
      // 4000x3000 at the default smallest face: the plan reads a reduced level and coarser ones.
      const level = detector.finestLevel(4000, 3000, { mark: 'fill' });
      expect(level).toBeGreaterThan(0);
      const opened = createLosslessEditor(fakeAddon(undefined, { width: 4000, height: 3000 })).open(tinyJpeg('photo'), { width: 4000, height: 3000 }, level);
      if (op) f.failOn.add(op);
      const run = () => {
        const image = opened.reduced((bgr) => bgrMat(f.cv, bgr));
        try {
          expect([image.cols, image.rows]).toEqual([4000 / 2 ** level, 3000 / 2 ** level]);
          detector.detect(image, { mark: 'fill', reduced: { level, width: 4000, height: 3000 } });
        } finally {
          image.release();
        }
      };
      try {
        if (op) expect(run).toThrow(`${op} failed`);
        else run();
      } finally {
        opened.close();
      }
      if (!op) expect(f.made()).toBeGreaterThan(2);
      expect(f.live()).toEqual([]);
    },
  );
});
