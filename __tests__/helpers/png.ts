/** Hand-made PNG files for tests of what is read from their chunks (no CRC: only the decoder checks it). */

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** One chunk: length, type, body, and four zero bytes where the CRC goes. */
export function pngChunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body, Buffer.alloc(4)]);
}

/** The signature, an IHDR of `colourType` (sizes 0), `chunks`, and IEND. */
export function pngWith(chunks: readonly Buffer[], colourType = 2): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr[9] = colourType;
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr), ...chunks, pngChunk('IEND', Buffer.alloc(0))]);
}
