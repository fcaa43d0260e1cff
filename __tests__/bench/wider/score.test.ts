/** WIDER-format scoring on a hand-made folder: categories, bands, precision, the official AP. */
import { operatingFigures, thresholdForPrecision, widerAp, type WiderFace, type WiderImage } from '../../../bench/wider/score';
import { widerFace as face } from '../../helpers/wider';


const LABELS: WiderImage[] = [
  {
    file: 'a/1.jpg',
    width: 1000,
    height: 800,
    faces: [
      face(0, 0, 100), // clean, 80-160
      face(200, 0, 30, { occlusion: 1, inEasy: false }), // occluded, 20-40
      face(400, 0, 50, { pose: 1, blur: 2, inEasy: false }), // pose and blurred, 40-80
      face(600, 0, 15, { inEasy: false, inMedium: false }), // under 20 px: not counted
      face(700, 0, 60, { invalid: 1, inEasy: false, inMedium: false, inHard: false }), // invalid: not counted
    ],
  },
];
const hit = (f: WiderFace, score: number) => ({ x: f.x, y: f.y, width: f.w, height: f.h, score });

test('recall per category and size band, precision over detections >= 20 px matching any labelled face', () => {
  const [clean, occluded, turned, tiny, invalid] = LABELS[0].faces;
  const predictions = [[hit(clean, 0.9), hit(occluded, 0.4), hit(tiny, 0.8), hit(invalid, 0.7), { x: 900, y: 700, width: 40, height: 40, score: 0.95 }, { x: 900, y: 0, width: 10, height: 10, score: 0.99 }]];
  void turned;
  const high = operatingFigures(LABELS, predictions, 0.5);
  expect(high.recall).toEqual({ clean: 1, occluded: 0, pose: 0, blurred: 0, all: 1 / 3 });
  expect(high.bands.map((b) => [b.faces, b.recall])).toEqual([
    [1, 0],
    [1, 0],
    [1, 1],
    [0, 0],
  ]);
  // >= 20 px at >= 0.5: clean (face), invalid (a labelled face: counts as one), the 40-px miss. The tiny ones are not counted.
  expect(high.predictions).toBe(3);
  expect(high.precision).toBeCloseTo(2 / 3);
  const low = operatingFigures(LABELS, predictions, 0.3);
  expect(low.recall.occluded).toBe(1);
  expect(low.recall.all).toBeCloseTo(2 / 3);
});

test('thresholdForPrecision: the lowest min score whose predictions >= 20 px are at least that precise, ties judged together', () => {
  const [clean, occluded, turned] = LABELS[0].faces;
  const miss = (score: number) => ({ x: 900, y: 700, width: 40, height: 40, score });
  // By score: face 0.9, miss 0.8, face 0.6, miss 0.5, face 0.4 (3 faces of 5); a tiny miss does not count.
  const predictions = [[hit(clean, 0.9), miss(0.8), hit(occluded, 0.6), miss(0.5), hit(turned, 0.4), { x: 900, y: 0, width: 10, height: 10, score: 0.95 }]];
  expect(thresholdForPrecision(LABELS, predictions, 1)).toBe(0.9);
  // 0.6 keeps 2 of 3; 0.4 keeps 3 of 5 (60%): the lowest at 2/3 is 0.6.
  expect(thresholdForPrecision(LABELS, predictions, 0.66)).toBe(0.6);
  expect(thresholdForPrecision(LABELS, predictions, 0.6)).toBe(0.4);
  // A miss tied with the top face: no min score keeps the face without it.
  expect(thresholdForPrecision(LABELS, [[hit(clean, 0.9), miss(0.9)]], 1)).toBeUndefined();
  expect(thresholdForPrecision(LABELS, [[]], 0.5)).toBeUndefined();
});

test('WIDER AP: every face of a setting found first, nothing else: 1; found below a false detection: less; faces outside the setting neither count nor miss', () => {
  const faces = LABELS[0].faces;
  const perfect = [faces.map((f, i) => hit(f, 1 - i * 0.01))];
  expect(widerAp(LABELS, perfect)).toEqual({ easy: 1, medium: 1, hard: 1 });
  const withFalse = [[{ x: 900, y: 700, width: 40, height: 40, score: 1 }, ...faces.map((f) => hit(f, 0.5))]];
  const ap = widerAp(LABELS, withFalse);
  expect(ap.easy).toBeLessThan(1);
  expect(ap.easy).toBeGreaterThan(0);
  // Nothing found: 0.
  expect(widerAp(LABELS, [[{ x: 900, y: 700, width: 40, height: 40, score: 1 }, { x: 950, y: 700, width: 40, height: 40, score: 0.1 }]]).hard).toBe(0);
});
