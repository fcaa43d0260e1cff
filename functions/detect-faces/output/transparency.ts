/**
 * Transparency, flattened onto white as a page shows it: an output is a JPEG, which has none, and
 * the colour a transparent pixel holds (often what an editor cut away) must not show in it. Pure:
 * the pixels come from OpenCV's own decode (output/image.ts).
 */

/**
 * BGRA pixels (4 channels, 8 or 16 bits each, native byte order as OpenCV holds them) over white,
 * as 8-bit BGR: each channel c * a + 255 * (1 - a), rounded.
 */
export function flattenOnWhite(bgra: Buffer, sixteenBit: boolean): Buffer {
  const pixels = bgra.length / (sixteenBit ? 8 : 4);
  if (!Number.isInteger(pixels)) throw new RangeError(`expected whole BGRA pixels, got ${bgra.length} bytes`);
  const out = Buffer.allocUnsafe(pixels * 3);
  // 16-bit values to 8 bits as OpenCV's convertTo does (v / 257, rounded).
  const words = sixteenBit ? new Uint16Array(bgra.buffer, bgra.byteOffset, pixels * 4) : undefined;
  const eight = words ? Uint8Array.from(words, (v) => Math.round(v / 257)) : bgra;
  for (let p = 0, i = 0, o = 0; p < pixels; p++, i += 4, o += 3) {
    const a = eight[i + 3];
    if (a === 255) {
      out[o] = eight[i];
      out[o + 1] = eight[i + 1];
      out[o + 2] = eight[i + 2];
    } else {
      const white = 255 * (255 - a) + 127;
      out[o] = ((eight[i] * a + white) / 255) | 0;
      out[o + 1] = ((eight[i + 1] * a + white) / 255) | 0;
      out[o + 2] = ((eight[i + 2] * a + white) / 255) | 0;
    }
  }
  return out;
}
