/** The cascade's crops around a look's strong faces, and the second network's faces brought back from a crop. */
import type { Box, Rect } from '../../../../functions/detect-faces/detect/boxes';
import { CROP_DEFAULTS, CROP_EDGE_TOLERANCE, cropsAround, heldByCrops, keepInsideCrop, lookOrder } from '../../../../functions/detect-faces/detect/crops';

const VGA = { inputWidth: 640, inputHeight: 480 };
const face = (x: number, y: number, width: number, height: number, score = 0.9): Box => ({ x, y, width, height, score });
/** No limit on the crops' area, to test the shapes alone. */
const unlimited = { maxArea: Number.POSITIVE_INFINITY };

test('the defaults are the measured cascade\'s, with crops covering at most 0.6 of the input', () => {
  expect(CROP_DEFAULTS).toEqual({ minScore: 0.2, sideFactor: 3, minSide: 64, maxArea: 0.6, align: 64 });
  expect(CROP_EDGE_TOLERANCE).toBe(1);
});

test('a crop is a square of 3x the face\'s larger side, centred on it, in whole pixels, at least 64 px', () => {
  // Larger side 40: a 120 px square around the centre (315, 220).
  expect(cropsAround([face(300, 200, 30, 40)], VGA)).toEqual([{ x: 255, y: 160, width: 120, height: 120 }]);
  // 3 x 40.3 = 120.9: 121 px; centre (315, 220.15) - 60.5 rounds to (255, 160).
  expect(cropsAround([face(300, 200, 30, 40.3)], VGA)).toEqual([{ x: 255, y: 160, width: 121, height: 121 }]);
  expect(cropsAround([face(300, 200, 10, 12)], VGA)).toEqual([{ x: 273, y: 174, width: 64, height: 64 }]);
  expect(cropsAround([face(300, 200, 30, 40)], VGA, { sideFactor: 2, minSide: 100 })).toEqual([{ x: 265, y: 170, width: 100, height: 100 }]);
});

test('only faces scoring at least minScore get a crop', () => {
  const faces = [face(100, 100, 30, 30, 0.19), face(400, 300, 30, 30, 0.2)];
  expect(cropsAround(faces, VGA)).toEqual([{ x: 370, y: 270, width: 90, height: 90 }]);
  expect(cropsAround(faces, VGA, { minScore: 0.1 })).toHaveLength(2);
  expect(cropsAround(faces, VGA, { minScore: 0.3 })).toEqual([]);
  expect(cropsAround([], VGA)).toEqual([]);
});

test('crops are shifted inside the input, and clipped to it where they are larger', () => {
  // At the top-left corner, and a face the network placed partly outside the input.
  expect(cropsAround([face(0, 0, 40, 40)], VGA)).toEqual([{ x: 0, y: 0, width: 120, height: 120 }]);
  expect(cropsAround([face(-20, -10, 40, 40)], VGA)).toEqual([{ x: 0, y: 0, width: 120, height: 120 }]);
  // At the bottom-right corner.
  expect(cropsAround([face(620, 460, 40, 40)], VGA)).toEqual([{ x: 520, y: 360, width: 120, height: 120 }]);
  // Larger than the input's height: as high as the input, square otherwise; larger than both: the input.
  expect(cropsAround([face(300, 100, 200, 200)], { inputWidth: 640, inputHeight: 320 }, unlimited)).toEqual([{ x: 40, y: 0, width: 600, height: 320 }]);
  expect(cropsAround([face(100, 100, 300, 200)], { inputWidth: 640, inputHeight: 320 }, unlimited)).toEqual([{ x: 0, y: 0, width: 640, height: 320 }]);
  // Boxes that are not numbers get no crop.
  expect(cropsAround([face(Number.NaN, 0, 40, 40), face(0, 0, Number.POSITIVE_INFINITY, 40)], VGA)).toEqual([]);
});

test('overlapping crops merge into their bounding box only when it costs no more pixels than the two', () => {
  // Two 120 px crops side by side, 60 px apart: their 180x120 box (21,600 px) is less than 2 x 14,400.
  expect(cropsAround([face(40, 40, 40, 40), face(100, 40, 40, 40, 0.8)], VGA)).toEqual([{ x: 0, y: 0, width: 180, height: 120 }]);
  // Diagonal neighbours overlapping by a corner: their 220 px box (48,400 px) costs more; both stay.
  expect(cropsAround([face(40, 40, 40, 40), face(140, 140, 40, 40, 0.8)], VGA)).toEqual([
    { x: 0, y: 0, width: 120, height: 120 },
    { x: 100, y: 100, width: 120, height: 120 },
  ]);
  // Touching edges is not overlapping, even when the box would cost exactly the two.
  expect(cropsAround([face(40, 40, 40, 40), face(160, 40, 40, 40, 0.8)], VGA)).toEqual([
    { x: 0, y: 0, width: 120, height: 120 },
    { x: 120, y: 0, width: 120, height: 120 },
  ]);
  // A face inside another's crop adds nothing.
  expect(cropsAround([face(40, 40, 40, 40), face(50, 50, 10, 10, 0.8)], VGA)).toEqual([{ x: 0, y: 0, width: 120, height: 120 }]);
});

test('a merge that makes a crop mergeable with a third merges again; each crop in its strongest face\'s place', () => {
  // A (strongest) and C do not merge (a 300x120 box for two 120 px squares); B, weakest, between them merges with both.
  const a = face(40, 40, 40, 40, 0.9);
  const c = face(220, 40, 40, 40, 0.8);
  const b = face(130, 40, 40, 40, 0.7);
  const far = face(500, 300, 40, 40, 0.85);
  expect(cropsAround([a, c], VGA)).toHaveLength(2);
  expect(cropsAround([b, far, c, a], VGA)).toEqual([
    { x: 0, y: 0, width: 300, height: 120 },
    { x: 460, y: 260, width: 120, height: 120 },
  ]);
});

test('maxArea: the crops add up to at most that fraction of the input, the strongest faces served first', () => {
  // Counted as they are (align 1); the default counts each padded to 64 (below).
  const budget = 0.1 * 640 * 480; // 30,720 px
  const strong = face(40, 40, 40, 40, 0.9); // 120 px: 14,400
  const middle = face(400, 40, 50, 50, 0.8); // 150 px: 22,500, over the rest of the budget
  const weak = face(300, 300, 30, 30, 0.7); // 90 px: 8,100, fits
  const inside = face(50, 50, 10, 10, 0.6); // inside the strong face's crop: free
  const crops = cropsAround([inside, weak, middle, strong], VGA, { maxArea: 0.1, align: 1 });
  expect(crops).toEqual([
    { x: 0, y: 0, width: 120, height: 120 },
    { x: 270, y: 270, width: 90, height: 90 },
  ]);
  expect(crops.reduce((sum, r) => sum + r.width * r.height, 0)).toBeLessThanOrEqual(budget);
  // With room for all three, the middle face gets its crop.
  expect(cropsAround([inside, weak, middle, strong], VGA, { maxArea: 0.2, align: 1 })).toHaveLength(3);
  // Room for one of two 120 px crops: the stronger face's, wherever it is in the list.
  const weaker = face(400, 300, 40, 40, 0.6);
  expect(cropsAround([weaker, strong], VGA, { maxArea: 0.05, align: 1 })).toEqual([{ x: 0, y: 0, width: 120, height: 120 }]);
  // A crop larger than the limit on its own is never made.
  expect(cropsAround([face(100, 100, 300, 300)], VGA)).toEqual([]);
});

test('maxArea counts each crop padded to multiples of align (64 by default): the pixels the second network is fed', () => {
  const strong = face(40, 40, 40, 40, 0.9); // 120 px, padded to 128: 16,384
  const weak = face(300, 300, 30, 30, 0.7); // 90 px, padded to 128: 16,384
  // 0.1 of VGA is 30,720: both fit as they are (22,500), not padded (32,768).
  expect(cropsAround([weak, strong], VGA, { maxArea: 0.1, align: 1 })).toHaveLength(2);
  expect(cropsAround([weak, strong], VGA, { maxArea: 0.1 })).toEqual([{ x: 0, y: 0, width: 120, height: 120 }]);
  expect(cropsAround([weak, strong], VGA, { maxArea: 0.11 })).toHaveLength(2);
  expect(() => cropsAround([strong], VGA, { align: 0 })).toThrow('align must be a whole number of pixels, got 0');
});

test('whatever the faces: whole pixels inside the input, within maxArea, no two crops left that would merge', () => {
  // A fixed pseudo-random sequence (mulberry32), so a failure repeats.
  let seed = 22;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let run = 0; run < 200; run++) {
    const input = { inputWidth: 32 + Math.floor(random() * 1200), inputHeight: 32 + Math.floor(random() * 1200) };
    const maxArea = [0.2, 0.6, 1, Number.POSITIVE_INFINITY][run % 4];
    const faces = Array.from({ length: Math.floor(random() * 30) }, () => {
      const side = 5 + random() * 300;
      return face(random() * input.inputWidth - side / 2, random() * input.inputHeight - side / 2, side, side * (0.8 + random() * 0.6), random());
    });
    const crops = cropsAround(faces, input, { maxArea });
    let total = 0;
    for (const r of crops) {
      expect([r.x, r.y, r.width, r.height].every(Number.isInteger)).toBe(true);
      expect(r.x >= 0 && r.y >= 0 && r.width >= 1 && r.height >= 1).toBe(true);
      expect(r.x + r.width <= input.inputWidth && r.y + r.height <= input.inputHeight).toBe(true);
      total += Math.ceil(r.width / 64) * 64 * Math.ceil(r.height / 64) * 64;
    }
    expect(total).toBeLessThanOrEqual(maxArea * input.inputWidth * input.inputHeight);
    for (let i = 0; i < crops.length; i++) {
      for (let j = i + 1; j < crops.length; j++) {
        const [p, q] = [crops[i], crops[j]];
        const overlap = p.x < q.x + q.width && q.x < p.x + p.width && p.y < q.y + q.height && q.y < p.y + p.height;
        const union = (Math.max(p.x + p.width, q.x + q.width) - Math.min(p.x, q.x)) * (Math.max(p.y + p.height, q.y + q.height) - Math.min(p.y, q.y));
        expect(overlap && union <= p.width * p.height + q.width * q.height).toBe(false);
      }
    }
  }
});

test('options and inputs that make no crops are errors', () => {
  expect(() => cropsAround([], { inputWidth: 0, inputHeight: 480 })).toThrow('cropsAround: the input must be whole pixels wide and high, got 0x480');
  expect(() => cropsAround([], { inputWidth: 640.5, inputHeight: 480 })).toThrow(RangeError);
  expect(() => cropsAround([], VGA, { sideFactor: 0 })).toThrow('sideFactor must be positive, got 0');
  expect(() => cropsAround([], VGA, { minSide: 0.5 })).toThrow('minSide must be at least 1 pixel, got 0.5');
  expect(() => cropsAround([], VGA, { maxArea: Number.NaN })).toThrow('maxArea must be positive, got NaN');
  // An option left undefined is its default.
  expect(cropsAround([face(300, 200, 10, 12)], VGA, { minSide: undefined })).toEqual([{ x: 273, y: 174, width: 64, height: 64 }]);
});

describe('keepInsideCrop', () => {
  const crop: Rect = { x: 100, y: 50, width: 200, height: 150 };
  const found = (x: number, y: number, width: number, height: number) => ({ x, y, width, height, score: 0.8, inputWidth: width });

  test('a face the crop holds: in the input\'s pixels, landmarks too, other fields as they are', () => {
    const f = { ...found(10, 20, 50, 60), landmarks: [[20, 30], [40, 30], [30, 45], [22, 60], [38, 60]] as [number, number][] };
    expect(keepInsideCrop([f], crop, VGA)).toEqual([
      { x: 110, y: 70, width: 50, height: 60, score: 0.8, inputWidth: 50, landmarks: [[120, 80], [140, 80], [130, 95], [122, 110], [138, 110]] },
    ]);
  });

  test('a face cut by a side of the crop inside the input is dropped; within a pixel of it, kept', () => {
    const faces = [
      found(170, 20, 40, 40), // right edge at 210, past 200
      found(-5, 20, 40, 40), // past the left side
      found(20, -5, 40, 40), // past the top
      found(20, 120, 40, 40), // bottom at 160, past 150
      found(160.9, 20, 40, 40), // right edge at 200.9: within the tolerance
      found(-1, 109, 40, 41.9), // left at -1, bottom at 150.9: within it
    ];
    expect(keepInsideCrop(faces, crop, VGA).map((f) => [f.x, f.y])).toEqual([
      [expect.closeTo(260.9), 70],
      [99, expect.closeTo(159)],
    ]);
  });

  test('past a side on the input\'s border, nothing is cut', () => {
    // Crops at the input's top-left and bottom-right corners; a box may run past the input (into YuNet's padding).
    expect(keepInsideCrop([found(-8, -6, 40, 40)], { x: 0, y: 0, width: 200, height: 150 }, VGA)).toEqual([found(-8, -6, 40, 40)]);
    expect(keepInsideCrop([found(180, 130, 40, 40)], { x: 440, y: 330, width: 200, height: 150 }, VGA)).toEqual([{ ...found(620, 460, 40, 40) }]);
    // The same boxes in a crop whose sides are all inside the input are cut.
    expect(keepInsideCrop([found(-8, -6, 40, 40), found(180, 130, 40, 40)], crop, VGA)).toEqual([]);
    // A crop as large as the input cuts nothing.
    expect(keepInsideCrop([found(-50, -50, 800, 600)], { x: 0, y: 0, width: 640, height: 480 }, VGA)).toHaveLength(1);
  });
});

test('heldByCrops: whether some crop holds a face whole (the second network looked at it), as keepInsideCrop judges', () => {
  const strong = face(40, 40, 40, 40, 0.9); // crop 0,0 120x120
  const skipped = face(400, 300, 40, 40, 0.6); // its crop does not fit maxArea 0.05
  const inside = face(60, 60, 20, 20, 0.1); // too weak for a crop of its own, inside the strong face's
  const cut = face(100, 40, 30, 30, 0.1); // reaches x 130, past the crop's right side at 120
  const atEdge = face(-6, -4, 30, 30, 0.1); // past the input's border: the crop's left and top sides are it
  const within = face(90.5, 0, 30, 30, 0.1); // right edge at 120.5: within the tolerance
  const faces = [strong, skipped, inside, cut, atEdge, within];
  const crops = cropsAround(faces, VGA, { maxArea: 0.05, align: 1 });
  expect(crops).toEqual([{ x: 0, y: 0, width: 120, height: 120 }]);
  expect(heldByCrops(faces, crops, VGA)).toEqual([true, false, true, false, true, true]);
  // Each face against what keepInsideCrop keeps of it, in the crop's pixels.
  expect(faces.map((f) => keepInsideCrop([f], crops[0], VGA).length === 1)).toEqual(heldByCrops(faces, crops, VGA));
  // With room for the skipped face's crop, it is held too; with no crops, none is.
  expect(heldByCrops(faces, cropsAround(faces, VGA, { maxArea: 0.1, align: 1 }), VGA)).toEqual([true, true, true, false, true, true]);
  expect(heldByCrops(faces, [], VGA)).toEqual(faces.map(() => false));
});

describe('lookOrder', () => {
  const rect = (width: number, height: number, x = 0): Rect => ({ x, y: 0, width, height });

  test('crops of one padded shape together, the shapes in the order they first appear', () => {
    // Padded to 64: 128x128, 192x192, 128x128 (120 px), 192x128, 192x192 (150 px).
    const crops = [rect(128, 128), rect(192, 192), rect(120, 120), rect(192, 128), rect(150, 150)];
    expect(lookOrder(crops)).toEqual([0, 2, 1, 4, 3]);
  });

  test('a width and a height are not interchangeable, and another alignment gives other shapes', () => {
    expect(lookOrder([rect(64, 128), rect(128, 64), rect(60, 100)])).toEqual([0, 2, 1]);
    // Aligned to 32: 120 and 128 are both 128 (one shape), 60x100 is 64x128.
    expect(lookOrder([rect(120, 120), rect(60, 100), rect(128, 128)], 32)).toEqual([0, 2, 1]);
  });

  test('every crop once, whatever the crops', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 50; round++) {
      const crops = Array.from({ length: Math.floor(rand() * 30) }, () => rect(1 + Math.floor(rand() * 300), 1 + Math.floor(rand() * 300)));
      const order = lookOrder(crops);
      expect([...order].sort((a, b) => a - b)).toEqual(crops.map((_, i) => i));
      // Each shape's crops are consecutive in the order.
      const shapes = order.map((i) => `${Math.ceil(crops[i].width / 64)}x${Math.ceil(crops[i].height / 64)}`);
      expect(new Set(shapes.filter((s, k) => k === 0 || s !== shapes[k - 1])).size).toBe(new Set(shapes).size);
    }
  });
});
