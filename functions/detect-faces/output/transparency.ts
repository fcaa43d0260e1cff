/**
 * Transparency, flattened onto white as a page shows it: an output is a JPEG, which has none, and
 * the colour a transparent pixel holds (often what an editor cut away) must not show in it. Pure:
 * the pixels come from OpenCV's own decode (output/image.ts).
 */

/**
 * BGRA pixels (4 channels, 8 or 16 bits each, native byte order as OpenCV holds them) over white,
 * as 8-bit BGR: each channel c * a + 255 * (1 - a), rounded; 16-bit values taken to 8 bits as
 * libpng strips them (v >> 8), as OpenCV's decode without alpha does. One pass, no call per value
 * (a 40 MP photo is 160 M values).
 */
export function flattenOnWhite(bgra: Buffer, sixteenBit: boolean): Buffer {
  const pixels = bgra.length / (sixteenBit ? 8 : 4);
  if (!Number.isInteger(pixels)) throw new RangeError(`expected whole BGRA pixels, got ${bgra.length} bytes`);
  const out = Buffer.allocUnsafe(pixels * 3);
  const words = sixteenBit ? new Uint16Array(bgra.buffer, bgra.byteOffset, pixels * 4) : undefined;
  for (let p = 0, i = 0, o = 0; p < pixels; p++, i += 4, o += 3) {
    const [b, g, r, a] = words ? [words[i] >> 8, words[i + 1] >> 8, words[i + 2] >> 8, words[i + 3] >> 8] : [bgra[i], bgra[i + 1], bgra[i + 2], bgra[i + 3]];
    if (a === 255) {
      out[o] = b;
      out[o + 1] = g;
      out[o + 2] = r;
    } else {
      const white = 255 * (255 - a) + 127;
      out[o] = ((b * a + white) / 255) | 0;
      out[o + 1] = ((g * a + white) / 255) | 0;
      out[o + 2] = ((r * a + white) / 255) | 0;
    }
  }
  return out;
}
