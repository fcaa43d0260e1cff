/** The miss classification on a hand-made photo: one face lost at each stage of the detector. */
import type { Box } from '../../../functions/detect-faces/detect/boxes';
import { CAUSES, missCause, missTable, type ImageRun } from '../../../bench/wider/misses';
import { halves } from '../../../bench/wider/run';
import type { WiderFace, WiderImage } from '../../../bench/wider/score';

const face = (x: number, attrs: Partial<WiderFace> = {}): WiderFace => ({ x, y: 0, w: 40, h: 40, blur: 0, occlusion: 0, pose: 0, invalid: 0, inEasy: true, inMedium: true, inHard: true, ...attrs });
const box = (x: number, score: number, y = 0, side = 40): Box => ({ x, y, width: side, height: side, score });

// Faces 100 px apart, but for a pair 18 px apart (IoU 0.38: a box on one is not on the other).
const FACES = {
  found: face(0),
  never: face(100),
  misplaced: face(200),
  crowdA: face(300),
  crowdB: face(318),
  fusion: face(500),
  border: face(600),
  far: face(700),
  near: face(800),
  merged: face(900),
};
const IMAGE: WiderImage = { file: 'e/p_1.jpg', width: 1000, height: 100, faces: [...Object.values(FACES), face(1000, { w: 10, h: 10 }), face(1100, { invalid: 1 })] };
const THRESHOLD = 0.5;

// A box over the face's box but 15 px lower: IoU 0.45 with it, 0.45 with the face's own cell.
const misplacedBox = box(200, 0.6, 15);
const RUN: ImageRun = {
  tiles: [
    {
      looks: [
        {
          cells: [box(0, 0.9), box(200, 0.4), misplacedBox, box(300, 0.3), box(318, 0.8), box(500, 0.7), box(600, 0.7), box(700, 0.2), box(800, 0.3), box(900, 0.6)],
          kept: [box(0, 0.9), misplacedBox, box(318, 0.8), box(500, 0.7), box(600, 0.7), box(700, 0.2), box(800, 0.3), box(900, 0.6)],
        },
      ],
      // The fusion moved the face at 500 off it.
      fused: [box(0, 0.9), misplacedBox, box(318, 0.8), box(525, 0.7), box(600, 0.7), box(700, 0.2), box(800, 0.3), box(900, 0.6)],
    },
  ],
  // The tile border dropped the face at 600.
  calibrated: [box(0, 0.9), misplacedBox, box(318, 0.8), box(525, 0.7), box(700, 0.2), box(800, 0.3), box(900, 0.6), box(905, 0.95, 20)],
  // The merge kept a stronger box over the face at 900 that is on no face.
  answer: [box(0, 0.9), misplacedBox, box(318, 0.8), box(525, 0.7), box(700, 0.2), box(800, 0.3), box(905, 0.95, 20)],
  scale: 0.8,
};

test('each face is lost at the first stage that has no box on it', () => {
  const cause = (f: WiderFace) => missCause(IMAGE, f, RUN, THRESHOLD);
  expect(cause(FACES.found)).toBe('found');
  expect(cause(FACES.never)).toBe('never proposed');
  expect(cause(FACES.misplaced)).toBe('suppressed by NMS, under a box matching no face');
  expect(cause(FACES.crowdA)).toBe('suppressed by NMS, under another face');
  expect(cause(FACES.crowdB)).toBe('found');
  expect(cause(FACES.fusion)).toBe('lost in the fusion of the looks');
  expect(cause(FACES.border)).toBe('dropped at a tile border');
  expect(cause(FACES.far)).toBe('below the threshold, under half of it');
  expect(cause(FACES.near)).toBe('below the threshold, at least half of it');
  expect(cause(FACES.merged)).toBe('suppressed in the merge, under a box matching no face');
});

test('the table counts each counted face once per column it falls in; small and invalid faces are not counted', () => {
  const t = missTable([IMAGE], [RUN], THRESHOLD);
  expect([...t.rows.keys()]).toEqual([...CAUSES]);
  const column = (name: string) => [...t.rows.values()].reduce((n, counts) => n + counts[t.columns.indexOf(name)], 0);
  expect(column('all')).toBe(10);
  expect(column('clean')).toBe(10);
  expect(column('20-40 px')).toBe(0);
  expect(column('40-80 px')).toBe(10);
  // 40 px at a scale of 0.8: 32 px at the network's input.
  expect(column('32-48 at input')).toBe(10);
  expect(t.rows.get('found')![t.columns.indexOf('all')]).toBe(2);
  // Each clean face missed, by name, for a reader to look at.
  expect(t.cleanMisses.map((m) => [m.face.x, m.cause])).toEqual([
    [100, 'never proposed'],
    [200, 'suppressed by NMS, under a box matching no face'],
    [300, 'suppressed by NMS, under another face'],
    [500, 'lost in the fusion of the looks'],
    [600, 'dropped at a tile border'],
    [700, 'below the threshold, under half of it'],
    [800, 'below the threshold, at least half of it'],
    [900, 'suppressed in the merge, under a box matching no face'],
  ]);
  expect(t.cleanMisses[0]).toEqual({ file: 'e/p_1.jpg', face: { x: 100, y: 0, width: 40, height: 40 }, cause: 'never proposed', atInput: 32 });
});

test('only clean faces are listed: an occluded face missed is counted, not named', () => {
  const image: WiderImage = { ...IMAGE, faces: [face(100, { occlusion: 1 })] };
  const t = missTable([image], [RUN], THRESHOLD);
  expect(t.rows.get('never proposed')![t.columns.indexOf('all')]).toBe(1);
  expect(t.cleanMisses).toEqual([]);
});

test('halves by the parity of the photo number', () => {
  const files = ['a/x_1.jpg', 'a/x_2.jpg', 'b/y_13.jpg', 'b/none.jpg'].map((file) => ({ file, width: 1, height: 1, faces: [] }));
  expect(halves(files)).toEqual({ even: [1, 3], odd: [0, 2] });
});
