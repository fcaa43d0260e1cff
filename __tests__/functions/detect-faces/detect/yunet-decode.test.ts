/** YuNet 2023mar decoding on synthetic network outputs, checked against the formulas by hand. */
import { decodeYunet, YUNET_OUTPUT_NAMES } from '../../../../functions/detect-faces/detect/yunet-decode';

/** All-zero outputs for an input of w x h, with helpers to light up one grid cell. */
function outputs(w: number, h: number) {
  const out: Record<string, Float32Array> = {};
  for (const s of [8, 16, 32]) {
    const cells = (w / s) * (h / s);
    out[`cls_${s}`] = new Float32Array(cells);
    out[`obj_${s}`] = new Float32Array(cells);
    out[`bbox_${s}`] = new Float32Array(cells * 4);
    out[`kps_${s}`] = new Float32Array(cells * 10);
  }
  const set = (s: number, row: number, col: number, cls: number, obj: number, bbox: number[], kps: number[] = new Array(10).fill(0)) => {
    const i = row * (w / s) + col;
    out[`cls_${s}`][i] = cls;
    out[`obj_${s}`][i] = obj;
    out[`bbox_${s}`].set(bbox, i * 4);
    out[`kps_${s}`].set(kps, i * 10);
  };
  return { out, set };
}

test('output names are the 12 of YuNet 2023mar', () => {
  expect(YUNET_OUTPUT_NAMES).toEqual(['cls_8', 'obj_8', 'bbox_8', 'kps_8', 'cls_16', 'obj_16', 'bbox_16', 'kps_16', 'cls_32', 'obj_32', 'bbox_32', 'kps_32']);
});

test('one face: box, score and landmarks from the cell, its stride and the regressions', () => {
  const { out, set } = outputs(64, 64);
  set(16, 1, 2, 0.9, 0.8, [0.5, 0.5, Math.log(2), Math.log(3)], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]);
  const [face, ...rest] = decodeYunet(out, { inputWidth: 64, inputHeight: 64, scoreThreshold: 0.6 });
  expect(rest).toEqual([]);
  expect(face.x).toBeCloseTo(24); // cx = (2 + 0.5) * 16 = 40, w = 2 * 16 = 32
  expect(face.y).toBeCloseTo(0); // cy = (1 + 0.5) * 16 = 24, h = 3 * 16 = 48
  expect(face.width).toBeCloseTo(32);
  expect(face.height).toBeCloseTo(48);
  expect(face.score).toBeCloseTo(Math.sqrt(0.72));
  expect(face.landmarks[0][0]).toBeCloseTo((0.1 + 2) * 16);
  expect(face.landmarks[0][1]).toBeCloseTo((0.2 + 1) * 16);
  expect(face.landmarks[4][1]).toBeCloseTo((1.0 + 1) * 16);
});

test('scores are clamped to [0, 1] before the square root, and thresholded', () => {
  const { out, set } = outputs(32, 32);
  set(8, 0, 0, 1.7, 1.2, [0, 0, 0, 0]);
  set(8, 3, 3, 0.5, 0.5, [0, 0, 0, 0]); // sqrt(0.25) = 0.5 < 0.6
  const faces = decodeYunet(out, { inputWidth: 32, inputHeight: 32, scoreThreshold: 0.6 });
  expect(faces).toHaveLength(1);
  expect(faces[0].score).toBe(1);
  expect(decodeYunet(out, { inputWidth: 32, inputHeight: 32, scoreThreshold: 0.4 })).toHaveLength(2);
});

test('a cell whose outputs are not numbers is no face: a NaN score, or a box that decodes to NaN or Infinity', () => {
  const { out, set } = outputs(64, 64);
  set(8, 0, 0, Number.NaN, 0.9, [0, 0, 0, 0]);
  set(8, 2, 2, 0.9, 0.9, [Number.NaN, 0, 0, 0]);
  set(16, 1, 1, 0.9, 0.9, [0, 0, 1000, 0]); // exp(1000): Infinity
  set(32, 1, 1, 0.9, 0.9, [0.5, 0.5, 0, 0]); // a real one
  let cells: unknown[] = [];
  const faces = decodeYunet(out, { inputWidth: 64, inputHeight: 64, scoreThreshold: 0.1, cells: (all) => (cells = all) });
  expect(cells).toHaveLength(1);
  expect(faces.map((f) => [f.x, f.y, f.width, f.height])).toEqual([[32, 32, 32, 32]]);
});

test('overlapping detections from different strides are merged by NMS, the best kept', () => {
  const { out, set } = outputs(64, 64);
  set(16, 1, 1, 0.95, 0.95, [0.5, 0.5, Math.log(2), Math.log(2)]); // 16..48 square
  set(8, 3, 3, 0.8, 0.8, [0.5, 0.5, Math.log(4), Math.log(4)]); // 12..44 square
  let cells: { score: number }[] = [];
  const faces = decodeYunet(out, { inputWidth: 64, inputHeight: 64, scoreThreshold: 0.6, cells: (all) => (cells = all) });
  expect(faces).toHaveLength(1);
  expect(faces[0].score).toBeCloseTo(0.95);
  // `cells` sees both before the NMS (the bench's miss tracing).
  expect(cells.map((c) => c.score).sort()).toEqual([expect.closeTo(0.8), expect.closeTo(0.95)]);
});

test('inputs that are not padded to 32, or outputs of the wrong size, are errors', () => {
  expect(() => decodeYunet(outputs(64, 64).out, { inputWidth: 60, inputHeight: 64, scoreThreshold: 0.6 })).toThrow(/multiples of 32/);
  const { out } = outputs(64, 64);
  out.cls_8 = new Float32Array(3);
  expect(() => decodeYunet(out, { inputWidth: 64, inputHeight: 64, scoreThreshold: 0.6 })).toThrow(/cls_8 has 3 values, expected 64/);
});
