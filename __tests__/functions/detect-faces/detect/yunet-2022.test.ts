/**
 * YuNet 2022mar: decoding synthetic outputs over the prior boxes, checked against the formulas by
 * hand, and one look through a stand-in for the addon (what it feeds the network, what it
 * releases). The network itself against real photos needs the model, which is not in the repo.
 */
import {
  decodeYunet2022,
  yunet2022InputSize,
  yunet2022Look,
  yunet2022PriorCount,
  Yunet2022ShapeError,
  YUNET_2022_OUTPUT_NAMES,
  type Yunet2022Outputs,
} from '../../../../functions/detect-faces/detect/yunet-2022';
import { fakeOpenCv } from '../../../helpers/fake-opencv';
import { fakeYunet2022, outputs, priorIndex } from '../../../helpers/fake-yunet-2022';

test('prior count and padded size: 3, 2, 2 and 3 priors per cell at strides 8, 16, 32 and 64', () => {
  expect(yunet2022PriorCount(64, 64)).toBe(64 * 3 + 16 * 2 + 4 * 2 + 1 * 3);
  expect(yunet2022PriorCount(128, 64)).toBe(128 * 3 + 32 * 2 + 8 * 2 + 2 * 3);
  expect(yunet2022InputSize(100, 64)).toEqual({ width: 128, height: 64 });
  expect(yunet2022InputSize(1, 129)).toEqual({ width: 64, height: 192 });
  expect(priorIndex(128, 64, 3, 0, 1, 2)).toBe(yunet2022PriorCount(128, 64) - 1);
});

test('one face: box, score and landmarks from its prior (centre, side) and the regressions', () => {
  const { out, set } = outputs(128, 64);
  // Stride 16, row 1, column 2, the second side (48): centre (40, 24).
  const k = priorIndex(128, 64, 1, 1, 2, 1);
  set(k, 0.9, 0.8, [0.5, -0.5, 5 * Math.log(2), 5 * Math.log(1.5), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const [face, ...rest] = decodeYunet2022(out, { inputWidth: 128, inputHeight: 64, scoreThreshold: 0.5 });
  expect(rest).toEqual([]);
  expect(face.score).toBeCloseTo(Math.sqrt(0.72));
  // cx = 40 + 0.5 * 0.1 * 48 = 42.4, w = 48 * exp(0.2 * 5 ln 2) = 96; cy = 24 - 2.4 = 21.6, h = 48 * 1.5 = 72.
  expect(face.x).toBeCloseTo(42.4 - 48);
  expect(face.y).toBeCloseTo(21.6 - 36);
  expect(face.width).toBeCloseTo(96);
  expect(face.height).toBeCloseTo(72);
  // Landmark m: the prior's centre plus loc[4 + 2m], loc[5 + 2m] x 0.1 x 48.
  const expected = [0, 1, 2, 3, 4].map((m) => [40 + (1 + 2 * m) * 4.8, 24 + (2 + 2 * m) * 4.8]);
  face.landmarks.forEach(([x, y], m) => {
    expect(x).toBeCloseTo(expected[m][0]);
    expect(y).toBeCloseTo(expected[m][1]);
  });
});

test('the face probability is conf[1] (conf[0] is the background); the IoU is clamped to [0, 1]; the threshold is inclusive', () => {
  const { out, set } = outputs(64, 64);
  set(priorIndex(64, 64, 0, 0, 0, 0), 0.81, 1.7); // sqrt(0.81 x 1) = 0.9
  set(priorIndex(64, 64, 0, 7, 7, 2), 0.9, -0.3); // the IoU clamps to 0: score 0
  const background = priorIndex(64, 64, 2, 1, 1, 0);
  out.conf[2 * background] = 1; // all background: score 0
  out.iou[background] = 1;
  expect(decodeYunet2022(out, { inputWidth: 64, inputHeight: 64, scoreThreshold: 0.9 }).map((f) => f.score)).toEqual([expect.closeTo(0.9)]);
  expect(decodeYunet2022(out, { inputWidth: 64, inputHeight: 64, scoreThreshold: 0.91 })).toEqual([]);
  expect(decodeYunet2022(out, { inputWidth: 64, inputHeight: 64, scoreThreshold: 0 })).toHaveLength(yunet2022PriorCount(64, 64));
});

test('every prior at or above the threshold is decoded, overlapping ones too (the NMS is the look\'s)', () => {
  const { out, set } = outputs(64, 64);
  set(priorIndex(64, 64, 1, 1, 1, 0), 0.9, 0.9); // 32 px at (24, 24)
  set(priorIndex(64, 64, 1, 1, 1, 1), 0.8, 0.8); // 48 px at (24, 24)
  expect(decodeYunet2022(out, { inputWidth: 64, inputHeight: 64, scoreThreshold: 0.5 }).map((f) => f.width)).toEqual([expect.closeTo(32), expect.closeTo(48)]);
});

test('an input not padded to 64, or outputs of the wrong size, are typed errors that say so', () => {
  const { out } = outputs(64, 64);
  const decode = (o: Yunet2022Outputs, w = 64, h = 64) => () => decodeYunet2022(o, { inputWidth: w, inputHeight: h, scoreThreshold: 0.5 });
  expect(decode(out, 96, 64)).toThrow(Yunet2022ShapeError);
  expect(decode(out, 96, 64)).toThrow("YuNet 2022mar's input must be padded to multiples of 64, got 96x64");
  expect(decode(out, 0, 64)).toThrow(/multiples of 64, got 0x64/);
  // The outputs of a 64x64 input decoded as a 128x64 one.
  expect(decode(out, 128, 64)).toThrow('YuNet 2022mar output loc has 3290 values, expected 6580 (14 for each of the 470 priors of a 128x64 input; sides must be multiples of 64)');
  expect(decode({ ...out, conf: new Float32Array(3) })).toThrow(/output conf has 3 values, expected 470 \(2 for each of the 235 priors/);
  expect(decode({ ...out, iou: new Float32Array(236) })).toThrow(/output iou has 236 values, expected 235/);
  expect(decode({ loc: out.loc, conf: out.conf } as unknown as Yunet2022Outputs)).toThrow(/output iou has no values, expected 235/);
});

test('a look: the input padded to 64 (bottom, right), a BGR blob, the three outputs by name, YuNet\'s NMS, everything released', () => {
  const f = fakeOpenCv();
  const blob = jest.spyOn(f.cv, 'blobFromImage');
  const photo = f.mat(70, 100);
  // Two priors on one face (IoU of 32 and 48 px squares on one centre: 0.44 > 0.3) and one apart.
  const { net, made, seen } = fakeYunet2022([
    [priorIndex(128, 128, 1, 1, 1, 0), 0.9, 0.9],
    [priorIndex(128, 128, 1, 1, 1, 1), 0.8, 0.8],
    [priorIndex(128, 128, 2, 2, 2, 0), 0.7, 0.7],
  ]);
  let cells = 0;
  const faces = yunet2022Look(f.cv, net, photo, 0.5, (all) => (cells = all.length));
  expect(seen).toEqual([[1, 3, 128, 128]]);
  // scale 1, no resize, no mean, swapRB false, crop false: the BGR pixels as they are.
  expect(blob.mock.calls[0].slice(1).map((a) => (a && typeof a === 'object' ? { ...a } : a))).toEqual([1, { width: 0, height: 0 }, { x: 0, y: 0, z: 0 }, false, false]);
  expect(cells).toBe(3);
  expect(faces.map((face) => [face.x, face.y, face.width, face.score])).toEqual([
    [8, 8, 32, expect.closeTo(0.9)],
    [48, 48, 64, expect.closeTo(0.7)],
  ]);
  expect(YUNET_2022_OUTPUT_NAMES.every((name) => made.some((m) => m.name === name))).toBe(true);
  expect(made.filter((m) => !m.released)).toEqual([]);
  expect(f.live()).toEqual(['photo']);
});

test('a look at an input already a multiple of 64 makes no padded copy', () => {
  const f = fakeOpenCv();
  const { net, seen } = fakeYunet2022([]);
  expect(yunet2022Look(f.cv, net, f.mat(64, 128), 0.5)).toEqual([]);
  expect(seen).toEqual([[1, 3, 64, 128]]);
  expect(f.made()).toBe(2); // the photo and the blob
  expect(f.live()).toEqual(['photo']);
});

test.each(['copyMakeBorder', 'blobFromImage', 'forward'])('a throw in %s releases what the look made', (op) => {
  const f = fakeOpenCv();
  if (op !== 'forward') f.failOn.add(op);
  const { net } = fakeYunet2022([], op === 'forward');
  expect(() => yunet2022Look(f.cv, net, f.mat(70, 100), 0.5)).toThrow(`${op} failed`);
  expect(f.live()).toEqual(['photo']);
});
