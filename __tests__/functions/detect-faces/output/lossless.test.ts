/** The coefficient path's pure parts: what each mark may change, and loading the addon. (The addon itself: __tests__/layer/jpeg-lossless/.) */
import { JPEG_LOSSLESS_PACKAGE, loadJpegLossless, markFootprints } from '../../../../functions/detect-faces/output/lossless';
import { paddedRegion } from '../../../../functions/detect-faces/output/redact-plan';

const spec = (mode: 'box' | 'fill') => ({ mode, shape: 'ellipse', padding: 0.4 }) as const;

test('a redaction changes its padded region, clipped to the image', () => {
  const box = { x: 100, y: 50, width: 40, height: 60 };
  expect(markFootprints(box, spec('fill'), 2, 500, 400)).toEqual([paddedRegion(box, 0.4, 500, 400)]);
  expect(markFootprints({ x: 0, y: 0, width: 40, height: 60 }, spec('fill'), 2, 500, 400)).toEqual([{ x: 0, y: 0, width: 56, height: 84 }]);
});

test('a box changes four strips along its edges (a line reaches half its thickness and a pixel beyond), never its inside', () => {
  const box = { x: 100, y: 50, width: 40, height: 60 };
  const strips = markFootprints(box, spec('box'), 4, 500, 400);
  // reach = ceil(4 / 2) + 2 = 4 around the edge pixels x 100 and 139, y 50 and 109.
  expect(strips).toEqual([
    { x: 96, y: 46, width: 48, height: 9 },
    { x: 96, y: 105, width: 48, height: 9 },
    { x: 96, y: 46, width: 9, height: 68 },
    { x: 135, y: 46, width: 9, height: 68 },
  ]);
  const inside = (x: number, y: number) => strips.some((s) => x >= s.x && x < s.x + s.width && y >= s.y && y < s.y + s.height);
  expect(inside(120, 80)).toBe(false);
  expect([inside(100, 80), inside(139, 80), inside(120, 50), inside(120, 109)]).toEqual([true, true, true, true]);
  // At the image's corner the strips are clipped; one outside the image vanishes.
  expect(markFootprints({ x: 0, y: 0, width: 10, height: 10 }, spec('box'), 2, 12, 12)).toEqual([
    { x: 0, y: 0, width: 12, height: 4 },
    { x: 0, y: 6, width: 12, height: 6 },
    { x: 0, y: 0, width: 4, height: 12 },
    { x: 6, y: 0, width: 6, height: 12 },
  ]);
});

test('an addon that does not load is a reason, not a crash', () => {
  const result = loadJpegLossless(() => {
    throw new Error("Cannot find module '@facedetect/jpeg-lossless'\nRequire stack: ...");
  });
  expect(result).toEqual({ unavailable: "@facedetect/jpeg-lossless did not load: Cannot find module '@facedetect/jpeg-lossless'" });
  const addon = { open: () => undefined };
  expect(loadJpegLossless(() => addon)).toBe(addon);
  // The default loader asks for the package the layer puts on NODE_PATH (absent here: no layer on this path).
  expect(loadJpegLossless()).toEqual({ unavailable: expect.stringContaining(`Cannot find module '${JPEG_LOSSLESS_PACKAGE}'`) });
});
