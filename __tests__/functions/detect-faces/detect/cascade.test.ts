/**
 * The cascade's second look through stand-ins for the addon and for YuNet 2022mar: where its faces
 * land in the input, which it keeps, which first-look faces it never saw, what it releases.
 */
import type { Box } from '../../../../functions/detect-faces/detect/boxes';
import { cascadeLook } from '../../../../functions/detect-faces/detect/cascade';
import { planDetection, YUNET_PLAN } from '../../../../functions/detect-faces/detect/plan';
import { yunetCandidates } from '../../../../functions/detect-faces/detect/yunet';
import { fakeOpenCv } from '../../../helpers/fake-opencv';
import { fakeYunet2022, priorIndex } from '../../../helpers/fake-yunet-2022';

const face = (x: number, y: number, side: number, score: number): Box => ({ x, y, width: side, height: side, score });

// A 640x480 input. A: strong, crop 3x its 40 px = 120 px around it, at (160, 160), padded to 128.
// B: too weak for a crop, far from A's. C: too weak for its own, held whole by A's crop.
const A = face(200, 200, 40, 0.9);
const B = face(500, 50, 20, 0.1);
const C = face(190, 190, 30, 0.15);
// In the crop's 128x128 input: a 32-px prior at stride 16, cell (3, 3), centre (56, 56): box 40-72, whole;
// and one at cell (3, 7), centre (120, 56): box 104-136, past the crop's right side (120) inside the input.
const WHOLE = priorIndex(128, 128, 1, 3, 3, 0);
const CUT = priorIndex(128, 128, 1, 3, 7, 0);

test('faces of the crop in the input\'s pixels, those the crop cuts dropped, and which first-look faces no crop held', () => {
  const f = fakeOpenCv();
  const { net, seen } = fakeYunet2022([
    [WHOLE, 0.81, 0.81],
    [CUT, 0.64, 0.64],
  ]);
  let cells: Box[] = [];
  const input = f.mat(480, 640, 'input');
  const { faces, unseen } = cascadeLook(f.cv, net, input, [A, B, C], (all) => (cells = all));
  // One crop, one look of the network at it padded to 128.
  expect(seen).toEqual([[1, 3, 128, 128]]);
  expect(faces.map((g) => [g.x, g.y, g.width, g.height, g.score])).toEqual([[200, 200, 32, 32, expect.closeTo(0.81)]]);
  expect(faces[0].landmarks).toHaveLength(5);
  expect(unseen).toEqual([false, true, false]);
  // Every candidate of the crop, cut or whole, in the input's pixels.
  expect(cells.map((g) => [g.x, g.y]).sort((p, q) => p[0] - q[0])).toEqual([
    [200, 200],
    [264, 200],
  ]);
  expect(f.live().sort()).toEqual(['input']);
});

test('no face strong enough for a crop: the second network is never run, and no face was seen', () => {
  const f = fakeOpenCv();
  const { net, seen } = fakeYunet2022([[WHOLE, 0.9, 0.9]]);
  expect(cascadeLook(f.cv, net, f.mat(480, 640), [B, C])).toEqual({ faces: [], unseen: [true, true] });
  expect(seen).toEqual([]);
});

test('two crops: the faces of each in their own crop\'s place, YuNet\'s NMS across them', () => {
  const f = fakeOpenCv();
  const { net, seen } = fakeYunet2022([[WHOLE, 0.81, 0.81]]);
  const far = face(480, 300, 40, 0.8); // its crop at (440, 260)
  const { faces } = cascadeLook(f.cv, net, f.mat(480, 640), [A, far]);
  expect(seen).toHaveLength(2);
  expect(faces.map((g) => [g.x, g.y]).sort((p, q) => p[0] - q[0])).toEqual([
    [200, 200],
    [480, 300],
  ]);
});

test('crops are looked at a padded shape at a time; what comes back is in the crops\' order', () => {
  const f = fakeOpenCv();
  const { net, seen } = fakeYunet2022([[WHOLE, 0.81, 0.81]]);
  // Strongest first: A's crop (120 px, padded 128), D's (180 px, padded 192), E's (120 px, padded 128).
  const D = face(450, 60, 60, 0.85);
  const E = face(480, 350, 40, 0.8);
  let cells: Box[] = [];
  const { faces, unseen } = cascadeLook(f.cv, net, f.mat(480, 640), [A, D, E], (all) => (cells = all));
  expect(seen).toEqual([
    [1, 3, 128, 128],
    [1, 3, 128, 128],
    [1, 3, 192, 192],
  ]);
  // The lit prior in each crop; the cells in the crops' order (A's, D's, E's), not the looks'. In
  // D's 192x192 input (its crop at (390, 0)) the same index is a 10-px prior of stride 8, row 11, column 10: box at (79, 87).
  expect(cells.map((g) => [g.x, g.y])).toEqual([
    [200, 200],
    [469, 87],
    [480, 350],
  ]);
  expect(faces.map((g) => [g.x, g.y]).sort((p, q) => p[0] - q[0])).toEqual([
    [200, 200],
    [469, 87],
    [480, 350],
  ]);
  expect(unseen).toEqual([false, false, false]);
});

test('the cascade needs its second network', () => {
  const f = fakeOpenCv();
  const plan = planDetection(640, 480, {}, YUNET_PLAN);
  expect(() => yunetCandidates(f.cv, f.cv.readNetFromONNX('yunet.onnx'), f.mat(480, 640), plan, YUNET_PLAN, { looks: 'cascade', rawThreshold: 0.5 })).toThrow(TypeError);
});
