/** What a redaction's marks cover of each labelled face: padding, shapes, image borders, categories. */
import { hiddenFraction, hiddenShare } from '../../../bench/wider/hidden';
import type { WiderImage } from '../../../bench/wider/score';
import { widerFace as face } from '../../helpers/wider';

const IMAGE = { width: 1000, height: 800 };
const box = (x: number, y: number, side: number, score = 1) => ({ x, y, width: side, height: side, score });

describe('hiddenFraction', () => {
  it('is 1 for a box on the face, padded as a redaction pads it, in either shape', () => {
    // The label's corners lie inside the ellipse inscribed in a box padded by 0.4 (at 0.62 of its radius).
    expect(hiddenFraction(face(100, 100, 50), [box(100, 100, 50)], IMAGE, 0.4, 'ellipse')).toBe(1);
    expect(hiddenFraction(face(100, 100, 50), [box(100, 100, 50)], IMAGE, 0, 'rect')).toBe(1);
  });

  it("leaves an unpadded ellipse's corners out: pi / 4 of the box", () => {
    expect(hiddenFraction(face(100, 100, 240), [box(100, 100, 240)], IMAGE, 0, 'ellipse')).toBeCloseTo(Math.PI / 4, 1);
  });

  it('counts a box inside a larger label by the part it covers (IoU 0.25 here, half the label hidden once padded)', () => {
    // A 50-px box in the middle of a 100-px label, padded by 0.4 to 90 px: 0.81 of the label as a rect.
    expect(hiddenFraction(face(100, 100, 100), [box(125, 125, 50)], IMAGE, 0.4, 'rect')).toBeCloseTo(0.81, 1);
    expect(hiddenFraction(face(100, 100, 100), [box(125, 125, 50)], IMAGE, 0, 'rect')).toBeCloseTo(0.25, 1);
  });

  it('adds up several marks over one face, and ignores marks elsewhere', () => {
    const halves = [box(100, 100, 50), box(150, 100, 50), box(100, 150, 50), box(150, 150, 50)];
    expect(hiddenFraction(face(100, 100, 100), halves, IMAGE, 0, 'rect')).toBe(1);
    expect(hiddenFraction(face(100, 100, 100), [box(500, 500, 100)], IMAGE, 0.4, 'rect')).toBe(0);
    expect(hiddenFraction(face(100, 100, 100), [], IMAGE, 0.4, 'rect')).toBe(0);
  });

  it('measures only the part of a label inside the image (a face cut by the border)', () => {
    // Label 60 px wide, 20 of them past the right edge; the mark covers the 40 inside.
    expect(hiddenFraction(face(960, 100, 60), [{ x: 960, y: 100, width: 40, height: 60 }], IMAGE, 0, 'rect')).toBe(1);
    expect(hiddenFraction(face(960, 100, 60), [{ x: 980, y: 100, width: 20, height: 60 }], IMAGE, 0, 'rect')).toBeCloseTo(0.5, 1);
  });
});

describe('hiddenShare', () => {
  const labels: WiderImage[] = [
    {
      file: 'a/1.jpg',
      ...IMAGE,
      faces: [
        face(50, 100, 100), // clean, hidden
        face(200, 100, 40, { occlusion: 1 }), // occluded, hidden only by a weak detection
        face(400, 100, 50, { pose: 1 }), // turned, not hidden
        face(600, 100, 15), // under 20 px: not counted
        face(700, 100, 60, { invalid: 1 }), // invalid: not counted
      ],
    },
  ];
  const predictions = [[box(50, 100, 100, 0.9), box(200, 100, 40, 0.05), box(600, 100, 15, 0.9)]];

  it('gives per category the share of counted faces hidden by the marks of detections at the threshold', () => {
    expect(hiddenShare(labels, predictions, 0.09, 0.4, 'ellipse', 0.9)).toEqual({ clean: 1, occluded: 0, pose: 0, blurred: 0, all: 1 / 3 });
    expect(hiddenShare(labels, predictions, 0.01, 0.4, 'ellipse', 0.9)).toEqual({ clean: 1, occluded: 1, pose: 0, blurred: 0, all: 2 / 3 });
  });
});
