/**
 * Tiles and scales end to end without OpenCV: a simulated detector sees, in each tile, the
 * labelled faces whose size at the tile's input is within its reach (cut faces included, as a
 * real detector may report the visible part); what comes out must be each face once, in
 * original pixels.
 */
import type { Box } from '../../../../functions/detect-faces/detect/boxes';
import { awayFromInnerEdges, dropFacesInsideFaces, facesFromTile, INSIDE_SURE, mergeFaces } from '../../../../functions/detect-faces/detect/merge';
import { planDetection, YUNET_PLAN, type DetectionPlan, type Tile } from '../../../../functions/detect-faces/detect/plan';

type Face = Omit<Box, 'score'>;

/** Image rectangle -> the tile's input pixels (the inverse of tilePointToImage). */
function toInput(tile: Tile, f: Face): Face {
  const k = 2 ** tile.level;
  const sx = tile.input.width / tile.source.width;
  const sy = tile.input.height / tile.source.height;
  return { x: (f.x / k - tile.source.x) * sx, y: (f.y / k - tile.source.y) * sy, width: (f.width / k) * sx, height: (f.height / k) * sy };
}

/**
 * What a detector with YuNet's reach reports in a tile: faces of minNetFace..maxNetFace input
 * pixels, clipped to the tile when cut by its border (if at least a third of them shows), with
 * landmarks at fixed fractions of the box.
 */
function simulatedDetector(faces: Face[], reach = { min: YUNET_PLAN.minNetFace, max: YUNET_PLAN.maxNetFace }) {
  return (tile: Tile): Box[] => {
    const out: Box[] = [];
    for (const f of faces) {
      const r = toInput(tile, f);
      if (r.width < reach.min * 0.999 || r.width > reach.max * 1.001) continue;
      const x1 = Math.max(0, r.x);
      const y1 = Math.max(0, r.y);
      const x2 = Math.min(tile.input.width, r.x + r.width);
      const y2 = Math.min(tile.input.height, r.y + r.height);
      if (x2 <= x1 || y2 <= y1 || (x2 - x1) * (y2 - y1) < (r.width * r.height) / 3) continue;
      const cut = x1 !== r.x || y1 !== r.y || x2 !== r.x + r.width || y2 !== r.y + r.height;
      out.push({
        x: x1,
        y: y1,
        width: x2 - x1,
        height: y2 - y1,
        score: cut ? 0.95 : 0.9, // a cut face scoring higher is the hard case for NMS
        landmarks: [
          [r.x + 0.3 * r.width, r.y + 0.4 * r.height],
          [r.x + 0.7 * r.width, r.y + 0.4 * r.height],
          [r.x + 0.5 * r.width, r.y + 0.6 * r.height],
          [r.x + 0.35 * r.width, r.y + 0.8 * r.height],
          [r.x + 0.65 * r.width, r.y + 0.8 * r.height],
        ],
      });
    }
    return out;
  };
}

function run(plan: DetectionPlan, faces: Face[], maxFaces?: number): Box[] {
  const detect = simulatedDetector(faces);
  const found = plan.passes.flatMap((p) => p.tiles.flatMap((t) => facesFromTile(detect(t), t, YUNET_PLAN.margin)));
  return mergeFaces(found, { width: plan.width, height: plan.height, maxFaces });
}

const sortByX = (boxes: Box[]) => [...boxes].sort((a, b) => a.x - b.x || a.y - b.y);

describe('faces across tiles and scales', () => {
  // 40-px faces in 12 MP: a fine pass of many tiles, then coarser ones.
  const plan = planDetection(4000, 3000, { minFaceSize: 40 });
  const fine = plan.passes[0];
  const tileRight = (t: Tile) => (t.source.x + t.source.width) * 2 ** t.level;
  const innerBorder = tileRight(fine.tiles[0]);

  test('the plan has inner borders to test against', () => {
    expect(fine.tiles.length).toBeGreaterThan(1);
    expect(innerBorder).toBeLessThan(4000);
  });

  test('a face straddling a tile border is reported once, where it is', () => {
    // Largest face the fine pass is responsible for, centred on the first tile's right border.
    const size = Math.floor(fine.maxFace) - 2;
    const face = { x: innerBorder - size / 2, y: 1000, width: size, height: size };
    const boxes = run(plan, [face]);
    expect(boxes).toHaveLength(1);
    expect(boxes[0]).toMatchObject({ x: Math.floor(face.x), y: 1000, width: size, height: size, score: 0.9 });
  });

  test('faces of every size along a border, each once', () => {
    const faces: Face[] = [];
    let y = 10;
    for (const size of [80, 100, 150, 200, 300, 450, 700]) {
      faces.push({ x: innerBorder - Math.round(size * 0.45), y, width: size, height: size });
      y += size + 10;
    }
    const boxes = run(plan, faces);
    expect(sortByX(boxes).map((b) => [b.width, b.height])).toEqual(sortByX(faces.map((f) => ({ ...f, score: 1 }))).map((f) => [f.width, f.height]));
  });

  test('a face larger than any tile is found by a coarse pass, beside 80-px faces', () => {
    const big = { x: 600, y: 200, width: 2600, height: 2600 };
    const small = [
      { x: 20, y: 20, width: 80, height: 80 },
      { x: 3800, y: 2800, width: 90, height: 90 },
    ];
    expect(Math.max(...fine.tiles.map((t) => t.input.width / fine.scale))).toBeLessThan(2600);
    const boxes = run(plan, [big, ...small]);
    expect(sortByX(boxes).map(({ x, y, width, height }) => ({ x, y, width, height }))).toEqual(sortByX([small[0], big, small[1]].map((f) => ({ ...f, score: 0 }))).map(({ x, y, width, height }) => ({ x, y, width, height })));
  });

  test('boxes and landmarks map back exactly to original pixels', () => {
    const face = { x: 1234, y: 567, width: 120, height: 120 };
    const [box] = run(plan, [face]);
    expect(box).toMatchObject(face);
    expect(box.landmarks).toEqual([
      [1234 + 36, 567 + 48],
      [1234 + 84, 567 + 48],
      [1234 + 60, 567 + 72],
      [1234 + 42, 567 + 96],
      [1234 + 78, 567 + 96],
    ]);
  });

  test('a crowd on a grid: every face once, wherever the borders fall', () => {
    const faces: Face[] = [];
    for (let y = 5; y + 90 < 3000; y += 127) for (let x = 3; x + 90 < 4000; x += 131) faces.push({ x, y, width: 85, height: 85 });
    const boxes = run(plan, faces);
    expect(boxes).toHaveLength(faces.length);
    expect(sortByX(boxes).map(({ x, y }) => [x, y])).toEqual(sortByX(faces.map((f) => ({ ...f, score: 1 }))).map(({ x, y }) => [x, y]));
  });

  test('maxFaces keeps the largest, best score first', () => {
    const faces = [80, 200, 120, 300].map((s, i) => ({ x: 100 + i * 600, y: 100, width: s, height: s }));
    const boxes = run(plan, faces, 2);
    expect(boxes.map((b) => b.width).sort((a, b) => a - b)).toEqual([200, 300]);
  });
});

describe('merge', () => {
  const box = (x: number, y: number, w: number, h: number, score = 0.9): Box => ({ x, y, width: w, height: h, score });

  test('duplicates from two scales become one, the best score kept; boxes rounded outwards and clipped', () => {
    const out = mergeFaces([box(10.2, 10.7, 50, 50, 0.81234), box(11, 11, 49, 49, 0.9), box(190, 190, 20, 20, 0.85)], { width: 200, height: 200 });
    expect(out).toEqual([box(11, 11, 49, 49, 0.9), box(190, 190, 10, 10, 0.85)]);
  });

  test('a box that is not all numbers is dropped, whatever its score (it would otherwise win the NMS and mark nothing or everything)', () => {
    const out = mergeFaces([box(Number.NaN, 0, 50, 50, 1), box(0, 0, Number.NaN, 50, 1), box(0, 0, 50, 50, Number.NaN), box(10, 10, 40, 40, 0.8)], { width: 200, height: 200 });
    expect(out).toEqual([box(10, 10, 40, 40, 0.8)]);
  });

  test('landmarks rounded to whole pixels and, for a face cut by the border, clamped to the image like its box', () => {
    const left: Box = { ...box(-20, 100, 70, 70, 0.9), landmarks: [[-3.4, 120.2], [24.6, 119.5], [8, 140], [-1, 155.5], [20.5, 154.4]] };
    const corner: Box = { ...box(170, 180, 40, 40, 0.8), landmarks: [[180, 190], [195, 190], [188, 199], [182, 206], [208, 226.7]] };
    const out = mergeFaces([left, corner], { width: 200, height: 200 });
    expect(out.map((b) => b.landmarks)).toEqual([
      [[0, 120], [25, 120], [8, 140], [0, 156], [21, 154]],
      [[180, 190], [195, 190], [188, 199], [182, 199], [199, 199]],
    ]);
    for (const b of out) {
      for (const [x, y] of b.landmarks!) {
        expect([x >= b.x, x <= b.x + b.width, y >= b.y, y <= b.y + b.height]).toEqual([true, true, true, true]);
      }
    }
  });

  test('maxFaces 0 gives nothing; the default keeps 1000', () => {
    const many = Array.from({ length: 1200 }, (_, i) => box((i % 40) * 10, Math.floor(i / 40) * 10, 8, 8));
    expect(mergeFaces(many, { width: 400, height: 400, maxFaces: 0 })).toEqual([]);
    expect(mergeFaces(many, { width: 400, height: 400 })).toHaveLength(1000);
  });

  test('boxes near an inner border are dropped, near an image border kept', () => {
    const tile: Tile = { level: 0, source: { x: 0, y: 0, width: 640, height: 640 }, input: { width: 640, height: 640 }, imageEdge: { left: true, top: true, right: false, bottom: false } };
    const faces = [box(0, 0, 40, 40), box(600, 10, 40, 40), box(10, 595, 40, 40), box(300, 300, 40, 40)];
    expect(awayFromInnerEdges(faces, tile, 8)).toEqual([box(0, 0, 40, 40), box(300, 300, 40, 40)]);
  });
});

describe('a box inside a sure face', () => {
  // The real-size case: a 2200-px face found at 1.00 and a 675x641 box at 0.78, 70% inside it.
  const big = { x: 532, y: 249, width: 1921, height: 2393, score: 0.9997 };
  const chin = { x: 330, y: 1692, width: 675, height: 641, score: 0.7763 };

  test('is part of that face or person: dropped by the merge for `box` (dropInside), kept for redaction', () => {
    expect(mergeFaces([chin, big], { width: 4000, height: 3000, dropInside: true })).toEqual([big]);
    expect(mergeFaces([chin, big], { width: 4000, height: 3000 })).toEqual([big, chin]);
  });

  test('a box mostly outside it, one not much smaller, or a large box that is not sure, drop nothing', () => {
    const mostlyOut = { ...chin, x: big.x - chin.width * 0.6 };
    expect(dropFacesInsideFaces([big, mostlyOut])).toEqual([big, mostlyOut]);
    const notMuchSmaller = { x: 600, y: 300, width: 1000, height: 1200, score: 0.8 };
    expect(dropFacesInsideFaces([big, notMuchSmaller])).toEqual([big, notMuchSmaller]);
    const unsure = { ...big, score: INSIDE_SURE - 0.01 };
    expect(dropFacesInsideFaces([unsure, { ...chin, score: 0.5 }])).toEqual([unsure, { ...chin, score: 0.5 }]);
  });

  test('only a stronger box suppresses: the list is read best score first, as the merge orders it', () => {
    const strongChin = { ...chin, score: 0.99 };
    expect(dropFacesInsideFaces([strongChin, { ...big, score: 0.95 }])).toHaveLength(2);
  });
});
