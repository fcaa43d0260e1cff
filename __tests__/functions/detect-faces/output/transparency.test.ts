/** Transparency flattened onto white: opaque pixels kept, transparent ones white, the rest blended; 16-bit as OpenCV converts it. */
import { flattenOnWhite } from '../../../../functions/detect-faces/output/transparency';

test('8-bit BGRA: opaque kept, transparent white whatever colour it holds, half blended (rounded)', () => {
  const bgra = Buffer.from([10, 20, 30, 255, 0, 255, 0, 0, 0, 0, 0, 128, 200, 100, 50, 1]);
  expect([...flattenOnWhite(bgra, false)]).toEqual([10, 20, 30, 255, 255, 255, 127, 127, 127, 255, 254, 254]);
});

test('16-bit BGRA (native order, as OpenCV holds it): each value to 8 bits as libpng strips it (v >> 8), then blended', () => {
  const words = new Uint16Array([65535, 0, 257 * 30, 65535, 0, 65535, 0, 0, 0, 65535, 0, 32768]);
  expect([...flattenOnWhite(Buffer.from(words.buffer), true)]).toEqual([255, 0, 30, 255, 255, 255, 127, 255, 127]);
});

test('bytes that are not whole pixels: a RangeError', () => {
  expect(() => flattenOnWhite(Buffer.alloc(6), false)).toThrow(RangeError);
  expect(() => flattenOnWhite(Buffer.alloc(12), true)).toThrow(RangeError);
});
