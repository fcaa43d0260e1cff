/**
 * What an output file carries besides its image: only what a viewer needs to show the photo right.
 * Kept: the colour profile (ICC) and, where the pixels are stored rotated, an EXIF Orientation tag
 * alone. Everything else is dropped, because a redacted photo must not hand back what the redaction
 * took away (docs/output-metadata.md: one row per kind, and why): EXIF (GPS, serials, maker notes, the
 * IFD1 thumbnail showing the unredacted face), XMP (face regions with names), IPTC, MPF secondary
 * images, comments, other APPn segments and any bytes after the end-of-image marker.
 * Pure: markers only, no decoding.
 */
import { inflateSync } from 'node:zlib';
import { pngChunks, type ImageFormat } from '../fetch/sniff';
import { APP0, jpegFrame, lateCodingSegment, parseJpeg, segment, startsWith, writeJpeg, type JpegSegment, type JpegStructure } from './jpeg-segments';
import { colourOnlyIcc } from './icc';

/** EXIF orientation, 1 (upright) to 8, as TIFF defines it. */
export type Orientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

/** What the source file carries that an output may keep. */
export interface KeptMetadata {
  /** The ICC profile, whole (undefined: none, or one that is malformed). */
  readonly icc?: Buffer;
  /** The source's EXIF orientation (1 when it has none). */
  readonly orientation: Orientation;
}

const ICC_SIGNATURE = 'ICC_PROFILE\0';
const EXIF_SIGNATURE = 'Exif\0\0';
/** Profile bytes per APP2 chunk: 65,533 payload bytes less the signature and the two counters. */
const ICC_CHUNK = 0xffff - 2 - ICC_SIGNATURE.length - 2;
/** An inflated PNG profile larger than this is refused (a zlib bomb; real profiles are < 1 MB). */
const MAX_ICC_BYTES = 4 << 20;

/** Reads the ICC profile and orientation of a source image; anything malformed reads as absent. */
export function readKeptMetadata(data: Buffer, format: ImageFormat): KeptMetadata {
  try {
    if (format === 'jpeg') return readJpegMetadata(data).kept;
    return { icc: format === 'png' ? pngIcc(data) : webpIcc(data), orientation: 1 };
  } catch {
    return { orientation: 1 };
  }
}

/**
 * What a JPEG carries that an output may keep, from one parse of its segments, and why the
 * coefficient path must refuse it, if it must: segments that do not parse (then nothing is kept,
 * orientation 1), or coding segments after the last scan (lateCodingSegment).
 */
export function readJpegMetadata(data: Buffer): { kept: KeptMetadata; notForCoefficients?: string } {
  let structure: JpegStructure;
  try {
    structure = parseJpeg(data);
  } catch (err) {
    return { kept: { orientation: 1 }, notForCoefficients: (err as Error).message };
  }
  const kept = { icc: jpegIcc(structure), orientation: jpegOrientation(structure) };
  const late = lateCodingSegment(structure);
  return late === undefined ? { kept } : { kept, notForCoefficients: late };
}

/**
 * The JPEG rewritten to carry only `kept`: the codec's segments (tables, frame, scans, restart
 * interval), a JFIF header without its thumbnail and Adobe's colour-transform flag where the encoder
 * wrote them, the ICC profile when it fits the output's colour space, an EXIF block with nothing but
 * the Orientation when it is not 1, and nothing after EOI. UnsupportedImage when `jpeg` is not a JPEG.
 */
export function withOnlyKeptMetadata(jpeg: Buffer, kept: KeptMetadata): Buffer {
  const structure = parseJpeg(jpeg);
  const frame = jpegFrame(structure);
  const head: JpegSegment[] = [];
  const codec: JpegSegment[] = [];
  for (const s of structure.segments) {
    if (s.marker === APP0 && startsWith(s, 'JFIF\0') && s.payload.length >= 14 && head.length === 0) {
      // Version, density units and density; the thumbnail's size set to 0x0 and its pixels dropped.
      head.push(segment(APP0, Buffer.concat([s.payload.subarray(0, 12), Buffer.from([0, 0])])));
    } else if (s.marker === 0xee && startsWith(s, 'Adobe') && s.payload.length >= 12) {
      // Says whether the 3 components are YCbCr or RGB (the decoder needs it); 12 bytes, no content.
      head.push(segment(0xee, s.payload.subarray(0, 12)));
    } else if (isCodecSegment(s.marker)) {
      codec.push(s);
    }
    // Anything else (APPn, COM, the reserved JPGn) is dropped.
  }
  if (kept.orientation !== 1) head.push(segment(0xe1, orientationExif(kept.orientation)));
  const space = frame?.components.length === 1 ? 'GRAY' : frame?.components.length === 3 ? 'RGB ' : undefined;
  if (kept.icc && space && iccColourSpace(kept.icc) === space) head.push(...iccSegments(kept.icc));
  return writeJpeg([...head, ...codec]);
}

/** Segments a decoder needs: SOFn, DHT and DAC (C0-CF), DQT, DRI, SOS, DNL. */
function isCodecSegment(marker: number): boolean {
  return (marker >= 0xc0 && marker <= 0xcf) || marker === 0xdb || marker === 0xdd || marker === 0xda || marker === 0xdc;
}

/** The EXIF orientation of a JPEG (from the first APP1 `Exif` block), 1 when absent or unreadable. */
export function jpegOrientation(structure: JpegStructure): Orientation {
  const exif = structure.segments.find((s) => s.marker === 0xe1 && startsWith(s, EXIF_SIGNATURE));
  return exif ? tiffOrientation(exif.payload.subarray(EXIF_SIGNATURE.length)) : 1;
}

/** The EXIF orientation of a PNG (its `eXIf` chunk, a TIFF structure as a JPEG's APP1 holds), 1 when absent or unreadable. */
export function pngOrientation(d: Buffer): Orientation {
  for (const { type, body } of pngChunks(d)) if (type === 'eXIf') return tiffOrientation(body);
  return 1;
}

/** Tag 0x0112 of a TIFF structure's first IFD, 1 when absent or unreadable. */
function tiffOrientation(tiff: Buffer): Orientation {
  if (tiff.length < 8) return 1;
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return 1;
  const le = order === 'II';
  const u16 = (at: number) => (le ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (le ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  if (u16(2) !== 42) return 1;
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return 1;
  const count = u16(ifd);
  for (let k = 0; k < count; k++) {
    const entry = ifd + 2 + 12 * k;
    if (entry + 12 > tiff.length) return 1;
    // Tag 0x0112, type SHORT (3), one value, stored in the first two bytes of the value field.
    if (u16(entry) === 0x0112 && u16(entry + 2) === 3) {
      const value = u16(entry + 8);
      return value >= 1 && value <= 8 ? (value as Orientation) : 1;
    }
  }
  return 1;
}

/** An EXIF block (APP1 payload) with one entry: the Orientation. Big-endian TIFF, 32 bytes. */
export function orientationExif(orientation: Orientation): Buffer {
  const b = Buffer.alloc(EXIF_SIGNATURE.length + 8 + 2 + 12 + 4);
  b.write(EXIF_SIGNATURE, 0, 'latin1');
  const t = EXIF_SIGNATURE.length;
  b.write('MM', t, 'latin1');
  b.writeUInt16BE(42, t + 2);
  b.writeUInt32BE(8, t + 4); // IFD0 right after the header
  b.writeUInt16BE(1, t + 8); // one entry
  b.writeUInt16BE(0x0112, t + 10);
  b.writeUInt16BE(3, t + 12); // SHORT
  b.writeUInt32BE(1, t + 14); // one value
  b.writeUInt16BE(orientation, t + 18);
  b.writeUInt32BE(0, t + 22); // no IFD1: no thumbnail
  return b;
}

/** The profile from APP2 `ICC_PROFILE` chunks, joined in their sequence order; undefined when a chunk is missing or repeated. */
export function jpegIcc(structure: JpegStructure): Buffer | undefined {
  const chunks = structure.segments.filter((s) => s.marker === 0xe2 && startsWith(s, ICC_SIGNATURE) && s.payload.length > ICC_SIGNATURE.length + 2);
  if (chunks.length === 0) return undefined;
  const total = chunks[0].payload[ICC_SIGNATURE.length + 1];
  const bySeq = new Map<number, Buffer>();
  for (const c of chunks) {
    const seq = c.payload[ICC_SIGNATURE.length];
    if (c.payload[ICC_SIGNATURE.length + 1] !== total || seq < 1 || seq > total || bySeq.has(seq)) return undefined;
    bySeq.set(seq, c.payload.subarray(ICC_SIGNATURE.length + 2));
  }
  if (bySeq.size !== total) return undefined;
  return colourOnlyIcc(Buffer.concat(Array.from({ length: total }, (_, k) => bySeq.get(k + 1)!)));
}

/** APP2 segments carrying `icc` in chunks, numbered from 1. */
export function iccSegments(icc: Buffer): JpegSegment[] {
  const total = Math.ceil(icc.length / ICC_CHUNK);
  if (total > 255) return []; // more than the format can number: left out rather than cut
  return Array.from({ length: total }, (_, k) =>
    segment(0xe2, Buffer.concat([Buffer.from(ICC_SIGNATURE, 'latin1'), Buffer.from([k + 1, total]), icc.subarray(k * ICC_CHUNK, (k + 1) * ICC_CHUNK)])),
  );
}

/** The colour space an ICC profile describes (header bytes 16-19: `RGB `, `GRAY`, `CMYK`, ...). */
export function iccColourSpace(icc: Buffer): string {
  return icc.toString('latin1', 16, 20);
}


/** A PNG's `iCCP` chunk: a name, a NUL, compression method 0, a zlib stream. */
function pngIcc(d: Buffer): Buffer | undefined {
  for (const { type, body } of pngChunks(d)) {
    if (type === 'IDAT') return undefined; // iCCP comes before the image data
    if (type === 'iCCP') {
      const nul = body.indexOf(0);
      if (nul < 1 || nul > 79 || body[nul + 1] !== 0) return undefined;
      return colourOnlyIcc(inflateSync(body.subarray(nul + 2), { maxOutputLength: MAX_ICC_BYTES }));
    }
  }
  return undefined;
}

/** A WebP's `ICCP` chunk (extended format), the profile as is. */
function webpIcc(d: Buffer): Buffer | undefined {
  for (let i = 12; i + 8 <= d.length; ) {
    const type = d.toString('latin1', i, i + 4);
    const length = d.readUInt32LE(i + 4);
    if (i + 8 + length > d.length) return undefined;
    if (type === 'ICCP') return colourOnlyIcc(Buffer.from(d.subarray(i + 8, i + 8 + length)));
    i += 8 + length + (length & 1);
  }
  return undefined;
}
