/** Intervals over photos: resampling whole photos, seeded, and the share of resamples meeting a target. */
import { bootstrapIntervals, meets, TARGETS } from '../../../bench/wider/interval';
import { figuresOf, operatingFigures, photoCounts, type WiderImage } from '../../../bench/wider/score';
import { widerFace as face } from '../../helpers/wider';

const photo = (file: string, faces: WiderImage['faces']): WiderImage => ({ file, width: 1000, height: 800, faces });
const box = (x: number, y: number, side: number, score = 0.9) => ({ x, y, width: side, height: side, score });

describe('photoCounts and figuresOf', () => {
  it("count a photo's faces per category and its predictions, and sum photos as whole counts", () => {
    const labels = [photo('a', [face(0, 0, 50), face(200, 0, 50, { occlusion: 1 })]), photo('b', [face(0, 0, 30, { pose: 1 })])];
    const predictions = [[box(0, 0, 50), box(500, 500, 40)], [box(0, 0, 30, 0.2)]];
    expect(photoCounts(labels[0], predictions[0], 0.5)).toMatchObject({ tp: 1, n: 2, categories: { clean: { found: 1, faces: 1 }, occluded: { found: 0, faces: 1 }, all: { found: 1, faces: 2 } } });
    // At 0.1 the second photo's turned face is found too: 2 of 3 faces, 2 of 3 predictions; at 0.5 1 of 3, 1 of 2.
    const at = (t: number) => figuresOf(labels.map((l, i) => photoCounts(l, predictions[i], t)), t);
    expect(at(0.1)).toMatchObject({ recall: { all: 2 / 3, pose: 1, occluded: 0, clean: 1 }, precision: 2 / 3, predictions: 3 });
    expect(at(0.5)).toMatchObject({ recall: { all: 1 / 3, pose: 0 }, precision: 0.5, predictions: 2 });
  });
});

describe('bootstrapIntervals', () => {
  // Ten photos of one face each: found in the first seven, missed in the last three; one false box in the first.
  const labels = Array.from({ length: 10 }, (_, i) => photo(String(i), [face(0, 0, 50)]));
  const predictions = labels.map((_, i) => [...(i < 7 ? [box(0, 0, 50)] : []), ...(i === 0 ? [box(500, 500, 50)] : [])]);
  const counts = labels.map((l, i) => photoCounts(l, predictions[i], 0.5));

  it('brackets the folder\'s own figure, within what the photos allow', () => {
    const { recall, precision } = bootstrapIntervals(counts);
    const point = operatingFigures(labels, predictions, 0.5);
    expect(recall.all[0]).toBeLessThanOrEqual(point.recall.all);
    expect(recall.all[1]).toBeGreaterThanOrEqual(point.recall.all);
    // Seven of ten found: a resample of ten photos rarely finds under three or all ten.
    expect(recall.all[0]).toBeGreaterThanOrEqual(0.3);
    expect(recall.all[0]).toBeLessThan(0.7);
    expect(recall.all[1]).toBeGreaterThan(0.7);
    expect(precision[0]).toBeGreaterThanOrEqual(0.5);
    expect(precision[1]).toBe(1);
  });

  it('is the figure itself when every photo counts the same', () => {
    const same = Array.from({ length: 5 }, () => counts[0]);
    expect(bootstrapIntervals(same).recall.all).toEqual([1, 1]);
    expect(bootstrapIntervals(same).precision).toEqual([0.5, 0.5]);
  });

  it('draws the same resamples for the same seed, and others for another', () => {
    expect(bootstrapIntervals(counts, { seed: 5 })).toEqual(bootstrapIntervals(counts, { seed: 5 }));
    const shares = [1, 2, 3, 4].map((seed) => bootstrapIntervals(counts, { seed, rounds: 50, target: { recall: { all: 0.75 }, precision: 0.5 } }).meeting);
    expect(new Set(shares).size).toBeGreaterThan(1);
  });

  it('says how often a resample meets a target', () => {
    // Recall 0.7 at precision 0.875: the box target (all 80% at 95%) is met only by resamples that never draw the
    // first photo (its false box caps precision at 0.9) and draw at least 8 found faces: about one in ten.
    const share = bootstrapIntervals(counts, { target: TARGETS.precision }).meeting!;
    expect(share).toBeGreaterThan(0);
    expect(share).toBeLessThan(0.5);
    expect(bootstrapIntervals(counts, { target: { recall: { all: 0 }, precision: 0 } }).meeting).toBe(1);
  });

  it('refuses nothing to resample and a bad number of rounds', () => {
    expect(() => bootstrapIntervals([])).toThrow(/no photos/);
    expect(() => bootstrapIntervals(counts, { rounds: 0 })).toThrow(/rounds/);
  });
});

describe('meets', () => {
  it('needs every recall of the target and its precision', () => {
    const f = { threshold: 0, recall: { clean: 0.99, occluded: 0.7, pose: 0.7, blurred: 0, all: 0.89 }, bands: [], precision: 0.7, predictions: 1 };
    expect(meets(f, TARGETS.recall)).toBe(true);
    expect(meets({ ...f, recall: { ...f.recall, clean: 0.988 } }, TARGETS.recall)).toBe(false);
    expect(meets({ ...f, precision: 0.69 }, TARGETS.recall)).toBe(false);
  });
});
