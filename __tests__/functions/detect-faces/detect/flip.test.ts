/** The mirrored look brought back, and two looks fused into one face each. */
import { FUSE_IOU, fuseLooks, unmirror } from '../../../../functions/detect-faces/detect/flip';
import type { Box } from '../../../../functions/detect-faces/detect/boxes';

test('unmirror: the box reflected about the image centre; landmarks reflected, the eyes and mouth corners swapped', () => {
  const seen: Box = { x: 10, y: 5, width: 20, height: 30, score: 0.9, landmarks: [[15, 10], [25, 10], [20, 20], [16, 28], [24, 28]] };
  // In the mirror the person's right eye is at x 15; in the image it is at 100 - 25 = 75... as the left of the pair.
  expect(unmirror([seen], 100)).toEqual([{ x: 70, y: 5, width: 20, height: 30, score: 0.9, landmarks: [[75, 10], [85, 10], [80, 20], [76, 28], [84, 28]] }]);
  // Twice is the identity.
  expect(unmirror(unmirror([seen], 100), 100)).toEqual([seen]);
});

test('a face in both looks: one box, score-weighted, with the mean score, agreed by both', () => {
  const a: Box = { x: 0, y: 0, width: 10, height: 10, score: 0.6, landmarks: [[1, 1], [1, 1], [1, 1], [1, 1], [1, 1]] };
  const b: Box = { x: 1, y: 0, width: 10, height: 10, score: 0.2, landmarks: [[5, 1], [5, 1], [5, 1], [5, 1], [5, 1]] };
  const [fused, ...rest] = fuseLooks([a], [b]);
  expect(rest).toEqual([]);
  expect(fused.score).toBeCloseTo(0.4);
  expect(fused.x).toBeCloseTo(0.25);
  expect(fused.landmarks![0][0]).toBeCloseTo(2);
  expect(fused.agreement).toBe('both');
});

test('a face in one look only: kept as it is, the first or the second', () => {
  const a: Box = { x: 0, y: 0, width: 10, height: 10, score: 0.8 };
  const far: Box = { x: 50, y: 50, width: 10, height: 10, score: 0.5 };
  expect(fuseLooks([a], [far])).toEqual([
    { ...a, agreement: 'first' },
    { ...far, agreement: 'second' },
  ]);
  expect(fuseLooks([a], [])).toEqual([{ ...a, agreement: 'first' }]);
});

test("a face of the first look the second did not cover is unseen; one it covered and did not find is the first's", () => {
  const a: Box = { x: 0, y: 0, width: 10, height: 10, score: 0.8 };
  const covered: Box = { x: 20, y: 0, width: 10, height: 10, score: 0.6 };
  const paired: Box = { x: 40, y: 0, width: 10, height: 10, score: 0.6 };
  const far: Box = { x: 50, y: 50, width: 10, height: 10, score: 0.5 };
  expect(fuseLooks([a, covered, paired], [far, { ...paired, score: 0.2 }], [true, false, true])).toEqual([
    { ...a, agreement: 'unseen' },
    { ...covered, agreement: 'first' },
    expect.objectContaining({ x: 40, score: expect.closeTo(0.4), agreement: 'both' }),
    { ...far, agreement: 'second' },
  ]);
  expect(() => fuseLooks([a], [], [])).toThrow(RangeError);
});

test('pairs by overlap, best first, each face once; under FUSE_IOU no pair', () => {
  const a1: Box = { x: 0, y: 0, width: 10, height: 10, score: 0.9 };
  const b1: Box = { x: 0, y: 0, width: 10, height: 10, score: 0.9 };
  const b2: Box = { x: 2, y: 0, width: 10, height: 10, score: 0.9 };
  const fused = fuseLooks([a1], [b2, b1]);
  expect(fused).toHaveLength(2);
  expect(fused[0]).toMatchObject({ x: 0, score: 0.9, agreement: 'both' });
  expect(fused[1]).toMatchObject({ x: 2, score: 0.9, agreement: 'second' });
  // IoU of boxes shifted by 4 of 10: 6/14 < FUSE_IOU.
  expect(FUSE_IOU).toBeGreaterThan(6 / 14);
  expect(fuseLooks([a1], [{ ...b1, x: 4 }]).map((f) => f.agreement)).toEqual(['first', 'second']);
});
