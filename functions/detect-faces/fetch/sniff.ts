/**
 * What an image really is, from its bytes (never from Content-Type): format, dimensions from the
 * header (so a decompression bomb is refused before decoding), and whether the file is complete.
 * Pure: no OpenCV.
 */
import { tooLarge, unsupportedImage } from '../../common/errors';
import { entropyEnd } from '../output/jpeg-segments';

export type ImageFormat = 'jpeg' | 'png' | 'webp';

export interface ImageInfo {
  format: ImageFormat;
  width: number;
  height: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Format from the first bytes, or undefined. Needs at most 12 bytes. */
export function sniffFormat(head: Uint8Array): ImageFormat | undefined {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b.subarray(0, 8).equals(PNG_SIGNATURE)) return 'png';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  return undefined;
}

/**
 * Formats people send that this service does not read, by their first bytes, for an error that
 * names them (HEIC is what iPhones take photos in).
 */
const OTHER_FORMATS: readonly [RegExp, string][] = [
  [/^GIF8[79]a/, 'a GIF'],
  [/^BM.{4}\0\0\0\0/s, 'a BMP'],
  [/^(II\*\0|MM\0\*)/, 'a TIFF'],
  [/^%PDF-/, 'a PDF'],
];
const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs', 'mif1', 'msf1']);

/** An ISO media file's kind from its `ftyp` box (major brand, then the compatible ones): AVIF names itself among them even under `mif1`. */
function isoMediaKind(b: Buffer): string | undefined {
  if (b.length < 16 || b.toString('latin1', 4, 8) !== 'ftyp') return undefined;
  const end = Math.min(b.length, b.readUInt32BE(0));
  const brands = [b.toString('latin1', 8, 12)];
  for (let i = 16; i + 4 <= end; i += 4) brands.push(b.toString('latin1', i, i + 4));
  if (brands.some((brand) => brand === 'avif' || brand === 'avis')) return 'an AVIF';
  if (brands.some((brand) => HEIF_BRANDS.has(brand))) return 'a HEIC/HEIF photo (an iPhone takes these unless its camera is set to Most Compatible)';
  return undefined;
}

/**
 * The longest side an image may have: every output is a JPEG, and libjpeg reads and writes at most
 * 65,500 px a side (JPEG_MAX_DIMENSION). A longer PNG or WebP within the pixel limit (70,000 x 400)
 * would be decoded and searched before its encode failed.
 */
export const MAX_IMAGE_SIDE = 65_500;

/** Describes a complete image or throws UnsupportedImage (unknown, truncated, malformed) / TooLarge (pixels, or a side over MAX_IMAGE_SIDE). */
export function inspectImage(data: Buffer, maxPixels: number): ImageInfo {
  if (data.length === 0) throw unsupportedImage('the image is empty (0 bytes); expected a JPEG, PNG or WebP image');
  const format = sniffFormat(data.subarray(0, 12));
  if (!format) {
    const head = data.subarray(0, 64).toString('latin1');
    const other = OTHER_FORMATS.find(([pattern]) => pattern.test(head))?.[1] ?? isoMediaKind(data.subarray(0, 64));
    throw unsupportedImage(
      other
        ? `the image is ${other}; send a JPEG, PNG or WebP image`
        : /^\s*</.test(head)
          ? 'the bytes are an HTML/XML document, not an image; for a URL, link to the image file itself'
          : 'the bytes are not a JPEG, PNG or WebP image (checked from the bytes, not the name or Content-Type)',
    );
  }
  const info = format === 'jpeg' ? jpegInfo(data) : format === 'png' ? pngInfo(data) : webpInfo(data);
  if (info.width < 1 || info.height < 1) throw unsupportedImage(`the ${format} header gives an empty size ${info.width}x${info.height}`);
  if (info.width * info.height > maxPixels) {
    throw tooLarge(`the image is ${info.width}x${info.height} (${((info.width * info.height) / 1e6).toFixed(1)} MP); the limit is ${(maxPixels / 1e6).toFixed(1)} MP`);
  }
  if (Math.max(info.width, info.height) > MAX_IMAGE_SIDE) {
    throw tooLarge(`the image is ${info.width}x${info.height}; a side may be at most ${MAX_IMAGE_SIDE} px (the output is a JPEG)`);
  }
  return info;
}

function truncated(format: ImageFormat): Error {
  return unsupportedImage(`the ${format} file is truncated or corrupt; upload the complete image`);
}

/**
 * JPEG processes libjpeg(-turbo), as the layer builds it, does not decode, by their SOF marker:
 * it takes baseline, extended sequential and progressive, Huffman- or arithmetic-coded, of 8 bits.
 */
const JPEG_PROCESSES_UNDECODED: Readonly<Record<number, string>> = {
  0xc3: 'a lossless JPEG (SOF3)',
  0xc5: 'a hierarchical JPEG (SOF5)',
  0xc6: 'a hierarchical JPEG (SOF6)',
  0xc7: 'a hierarchical lossless JPEG (SOF7)',
  0xcb: 'a lossless JPEG (SOF11)',
  0xcd: 'a hierarchical JPEG (SOF13)',
  0xce: 'a hierarchical JPEG (SOF14)',
  0xcf: 'a hierarchical lossless JPEG (SOF15)',
};

function jpegInfo(d: Buffer): ImageInfo {
  let i = 2;
  let size: { width: number; height: number } | undefined;
  while (i + 4 <= d.length) {
    if (d[i] !== 0xff) throw truncated('jpeg');
    const marker = d[i + 1];
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2;
      continue;
    }
    const length = d.readUInt16BE(i + 2);
    if (length < 2 || i + 2 + length > d.length) throw truncated('jpeg');
    // JPEG-LS (SOF55) is a JPEG in name only to libjpeg.
    if (marker === 0xf7) throw unsupportedImage('the jpeg file is JPEG-LS (SOF55), which the service does not decode; save it as a baseline or progressive JPEG');
    // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (length < 7) throw truncated('jpeg');
      const unsupported = JPEG_PROCESSES_UNDECODED[marker];
      if (unsupported) throw unsupportedImage(`the jpeg file is ${unsupported}, which the service does not decode; save it as a baseline or progressive JPEG`);
      if (d[i + 4] !== 8) throw unsupportedImage(`the jpeg file has ${d[i + 4]} bits per sample; the service decodes 8-bit JPEGs (save it as a baseline or progressive JPEG)`);
      size = { height: d.readUInt16BE(i + 5), width: d.readUInt16BE(i + 7) };
    }
    if (marker === 0xda) {
      // Start of scan: entropy-coded data follows; a complete file ends with EOI (FF D9).
      if (!size) throw truncated('jpeg');
      if (scansToEnd(d, i) > MAX_JPEG_SCANS) {
        throw unsupportedImage(`the jpeg file has more than ${MAX_JPEG_SCANS} scans (a progressive photo has about 10, and each is decoded over the whole image); save it again as a baseline or progressive JPEG`);
      }
      return { format: 'jpeg', ...size };
    }
    i += 2 + length;
  }
  throw truncated('jpeg');
}

/**
 * Scans a JPEG may hold. libjpeg decodes every scan over the whole image and only warns at one
 * that repeats another, so scans, not bytes or pixels, bound the decode time: a 4000x4000
 * progressive JPEG with its last 31-byte scan copied 300 times (100 KB) took 10-16x its own 10
 * scans' decode (djpeg, libjpeg-turbo 2.1.5, three runs). libjpeg's progressive script writes 10 scans (6 for
 * grey); at 100, a file decodes in at most about 10x a progressive photo's time.
 */
export const MAX_JPEG_SCANS = 100;

/**
 * The scans from the SOS at `from` to the first EOI, counted up to one past MAX_JPEG_SCANS;
 * truncated when no EOI follows. Bytes that are no marker (entropy-coded data, or junk that libjpeg
 * skips with a warning and parseJpeg refuses) are passed over; a marker segment's payload is
 * skipped by its length.
 */
function scansToEnd(d: Buffer, from: number): number {
  let scans = 0;
  for (let i = from; ; ) {
    i = entropyEnd(d, i);
    if (i < 0) throw truncated('jpeg');
    const marker = d[i + 1];
    if (marker === 0xd9) return scans;
    // SOI or TEM: no length follows.
    if (marker === 0xd8 || marker === 0x01) {
      i += 2;
      continue;
    }
    if (marker === 0xda && ++scans > MAX_JPEG_SCANS) return scans;
    if (i + 4 > d.length) throw truncated('jpeg');
    i += 2 + d.readUInt16BE(i + 2);
  }
}

function pngInfo(d: Buffer): ImageInfo {
  if (d.length < 33 || d.toString('latin1', 12, 16) !== 'IHDR') throw truncated('png');
  // A complete PNG ends with the IEND chunk (possibly followed by junk some encoders add).
  if (d.lastIndexOf(Buffer.from('IEND', 'latin1')) < 33) throw truncated('png');
  // An animated PNG says so (acTL) before its first image data; the decoder reads its default
  // image only, which may be no frame of the animation the user saw.
  for (const { type } of pngChunks(d)) {
    if (type === 'acTL') throw unsupportedImage('the image is an animated PNG; send a still image (JPEG, PNG or WebP)');
    if (type === 'IDAT') break;
  }
  return { format: 'png', width: d.readUInt32BE(16), height: d.readUInt32BE(20) };
}

function webpInfo(d: Buffer): ImageInfo {
  if (d.length < 30) throw truncated('webp');
  const riffSize = d.readUInt32LE(4);
  if (riffSize + 8 > d.length) throw truncated('webp');
  const chunk = d.toString('latin1', 12, 16);
  if (chunk === 'VP8 ') {
    if (d[23] !== 0x9d || d[24] !== 0x01 || d[25] !== 0x2a) throw truncated('webp');
    return { format: 'webp', width: d.readUInt16LE(26) & 0x3fff, height: d.readUInt16LE(28) & 0x3fff };
  }
  if (chunk === 'VP8L') {
    if (d[20] !== 0x2f) throw truncated('webp');
    const bits = d.readUInt32LE(21);
    return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') {
    // The extended header's flags: bit 1 says animation, which the decoder does not read.
    if (d[20] & 0x02) throw unsupportedImage('the image is an animated WebP; send a still image (JPEG, PNG or WebP)');
    return { format: 'webp', width: d.readUIntLE(24, 3) + 1, height: d.readUIntLE(27, 3) + 1 };
  }
  throw unsupportedImage(`unsupported WebP chunk ${JSON.stringify(chunk)}`);
}

/**
 * Whether a PNG or WebP (complete, as inspectImage passed it) may hold transparency, from its
 * header: a PNG of colour type 4 or 6 or a colour one with a `tRNS` chunk, a WebP whose extended header or
 * lossless bitstream says alpha. A JPEG never does.
 */
export function mayHaveAlpha(d: Buffer, format: ImageFormat): boolean {
  if (format === 'png') {
    if (d[25] === 4 || d[25] === 6) return true;
    // A grey PNG's tRNS hides one grey value; OpenCV decodes it without alpha all the same.
    if (d[25] === 0) return false;
    for (const { type } of pngChunks(d)) {
      if (type === 'tRNS') return true;
      if (type === 'IDAT') return false;
    }
    return false;
  }
  if (format === 'webp') {
    const chunk = d.toString('latin1', 12, 16);
    if (chunk === 'VP8X') return (d[20] & 0x10) !== 0;
    if (chunk === 'VP8L') return ((d.readUInt32LE(21) >>> 28) & 1) === 1;
  }
  return false;
}

/** A PNG's chunks after the signature, in order, up to IEND or the first that the data cuts short. */
export function* pngChunks(d: Buffer): Generator<{ readonly type: string; readonly body: Buffer }> {
  for (let i = 8; i + 12 <= d.length; ) {
    const length = d.readUInt32BE(i);
    const type = d.toString('latin1', i + 4, i + 8);
    if (i + 12 + length > d.length || type === 'IEND') return;
    yield { type, body: d.subarray(i + 8, i + 8 + length) };
    i += 12 + length;
  }
}
