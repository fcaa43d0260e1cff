/** The coefficient path's pure parts: what each mark may change, loading the addon, open() over a stand-in for it. (The addon itself: __tests__/layer/jpeg-lossless/.) */
import { createLosslessEditor, JPEG_LOSSLESS_INTERFACE, JPEG_LOSSLESS_PACKAGE, LosslessRefused, loadJpegLossless, markFootprints, pixelCells, type JpegLosslessAddon } from '../../../../functions/detect-faces/output/lossless';
import { paddedRegion, pixelCell } from '../../../../functions/detect-faces/output/redact-plan';
import { tinyJpeg } from '../../../helpers/tiny-jpeg';

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

test('an addon that does not load, or speaks another interface, is a reason, not a crash', () => {
  const result = loadJpegLossless(() => {
    throw new Error("Cannot find module '@facedetect/jpeg-lossless'\nRequire stack: ...");
  });
  expect(result).toEqual({ unavailable: "@facedetect/jpeg-lossless did not load: Cannot find module '@facedetect/jpeg-lossless'" });
  const addon = { open: () => undefined, interface: JPEG_LOSSLESS_INTERFACE };
  expect(loadJpegLossless(() => addon)).toBe(addon);
  // A layer built from older code (its open() would not fill detection's pixels): re-encoded instead.
  expect(loadJpegLossless(() => ({ open: () => undefined }))).toEqual({ unavailable: `${JPEG_LOSSLESS_PACKAGE} speaks interface 1, this code ${JPEG_LOSSLESS_INTERFACE}: the layer was built from other code` });
  // The default loader asks for the package the layer puts on NODE_PATH (absent here: no layer on this path).
  expect(loadJpegLossless()).toEqual({ unavailable: expect.stringContaining(`Cannot find module '${JPEG_LOSSLESS_PACKAGE}'`) });
});

test('pixelation cells on the coefficient path: whole MCUs, about as many as a re-encode makes, covering the region grown to whole MCUs', () => {
  const image = { width: 4000, height: 3000 };
  // 450 px from x 105: grown to 96-560 (464 px), a re-encode's cells of 225 px -> 2 cells of 240.
  expect(pixelCells({ x: 105, y: 40, width: 450, height: 450 }, { width: 16, height: 16 }, image)).toEqual({ width: 240, height: 240 });
  // 4:2:2 (16x8 MCUs), a tall face: cells of about the re-encode's 300 px, not square (464 px in 2 of 240 wide, 608 in 2 of 304 high).
  expect(pixelCells({ x: 0, y: 4, width: 450, height: 600 }, { width: 16, height: 8 }, image)).toEqual({ width: 240, height: 304 });
  // A small face: cells of one MCU, never smaller.
  expect(pixelCells({ x: 3, y: 3, width: 20, height: 20 }, { width: 16, height: 16 }, image)).toEqual({ width: 16, height: 16 });
  // Clipped at the image's edge: the grown region ends there.
  expect(pixelCells({ x: 3900, y: 2900, width: 100, height: 100 }, { width: 8, height: 8 }, image)).toEqual({ width: 56, height: 56 });
  for (const r of [{ x: 7, y: 9, width: 333, height: 123 }, { x: 1000, y: 2000, width: 61, height: 999 }]) {
    const cell = pixelCells(r, { width: 16, height: 8 }, image);
    const grownWidth = Math.ceil((r.x + r.width) / 16) * 16 - Math.floor(r.x / 16) * 16;
    expect(cell.width % 16).toBe(0);
    expect(cell.height % 8).toBe(0);
    expect(Math.ceil(grownWidth / cell.width)).toBeLessThanOrEqual(Math.max(1, Math.round(grownWidth / pixelCell(r))));
  }
});

test('open() takes the orientation its caller read: the addon gets it and the image reports it (the marks and the output follow it); absent, it is read from the file', () => {
  const given: unknown[] = [];
  // Stored 800x600; only the calls open() makes.
  const addon = {
    open: (_jpeg: Buffer, level?: number, orientation?: number) => (given.push([level, orientation]), {}),
    info: () => ({ width: 800, height: 600, components: 3, mcuWidth: 16, mcuHeight: 16, restartInterval: 0, progressive: false }),
    close: () => undefined,
  } as unknown as JpegLosslessAddon;
  const editor = createLosslessEditor(addon);
  const untagged = tinyJpeg('photo'); // no EXIF: read from the file, its orientation is 1
  const opened = editor.open(untagged, { width: 600, height: 800 }, 1, 6);
  expect(opened.orientation).toBe(6);
  expect(given).toEqual([[1, 6]]);
  opened.close();
  expect(() => editor.open(untagged, { width: 600, height: 800 }, 1)).toThrow(LosslessRefused);
  expect(editor.open(untagged, { width: 800, height: 600 }).orientation).toBe(1);
});
