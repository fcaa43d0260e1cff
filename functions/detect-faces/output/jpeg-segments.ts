/**
 * A JPEG file as the list of its marker segments and entropy-coded runs, from SOI to EOI (bytes
 * after EOI are reported, not parsed). Pure: no decoding. Used to rewrite what a file carries
 * besides its image (output/metadata.ts) and to tell which JPEGs the coefficient path can take.
 */
import { unsupportedImage } from '../../common/errors';

export interface JpegSegment {
  /** The marker byte after 0xFF (0xE1 for APP1). */
  readonly marker: number;
  /** The whole segment, marker and length included (for SOS: the header only). */
  readonly bytes: Buffer;
  /** The payload after the two length bytes. */
  readonly payload: Buffer;
  /** For SOS: the entropy-coded data that follows, restart markers included, up to the next marker. */
  readonly scanData?: Buffer;
}

export interface JpegStructure {
  readonly segments: readonly JpegSegment[];
  /** Bytes after EOI (a motion photo's video, an MPF secondary image, padding). */
  readonly trailing: Buffer;
}

export const SOI = 0xd8;
export const EOI = 0xd9;
export const SOS = 0xda;
export const APP0 = 0xe0;

const corrupt = () => unsupportedImage('the jpeg file is truncated or corrupt; upload the complete image');

/** Markers that stand alone (no length): TEM, RST0-7. SOI and EOI are handled by the walker. */
const standalone = (m: number) => m === 0x01 || (m >= 0xd0 && m <= 0xd7);

/** Splits a JPEG into segments; UnsupportedImage when the marker structure is broken before EOI. */
export function parseJpeg(data: Buffer): JpegStructure {
  if (data.length < 4 || data[0] !== 0xff || data[1] !== SOI) throw corrupt();
  const segments: JpegSegment[] = [];
  let i = 2;
  for (;;) {
    if (i + 2 > data.length || data[i] !== 0xff) throw corrupt();
    let marker = data[i + 1];
    while (marker === 0xff && i + 2 < data.length) marker = data[++i + 1]; // fill bytes before a marker
    if (marker === EOI) return { segments, trailing: data.subarray(i + 2) };
    if (marker === 0xff || marker === SOI || standalone(marker)) throw corrupt();
    if (i + 4 > data.length) throw corrupt();
    const length = data.readUInt16BE(i + 2);
    const end = i + 2 + length;
    if (length < 2 || end > data.length) throw corrupt();
    const bytes = data.subarray(i, end);
    const payload = data.subarray(i + 4, end);
    if (marker !== SOS) {
      segments.push({ marker, bytes, payload });
      i = end;
      continue;
    }
    let j = entropyEnd(data, end);
    if (j < 0) throw corrupt();
    while (data[j - 1] === 0xff && j - 1 >= end) j--; // fill bytes belong to the marker, not the scan
    segments.push({ marker, bytes, payload, scanData: data.subarray(end, j) });
    i = j;
  }
}

/**
 * Where entropy-coded data (or bytes that are no marker, which libjpeg skips) from `from` ends: the
 * index of the next marker's 0xFF, passing over stuffed 0xFF00s, restart markers and fill bytes
 * (the 0xFF returned is the last before its marker byte); -1 when the data ends first.
 */
export function entropyEnd(data: Buffer, from: number): number {
  for (let j = from; ; ) {
    j = data.indexOf(0xff, j);
    if (j < 0 || j + 1 >= data.length) return -1;
    const next = data[j + 1];
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) j += 2;
    else if (next === 0xff) j += 1;
    else return j;
  }
}

/** Writes segments back into a file: SOI, each segment (scan data after its SOS), EOI. */
export function writeJpeg(segments: readonly JpegSegment[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0xff, SOI])];
  for (const s of segments) {
    parts.push(s.bytes);
    if (s.scanData) parts.push(s.scanData);
  }
  parts.push(Buffer.from([0xff, EOI]));
  return Buffer.concat(parts);
}

/** A marker segment around a payload; throws past the 65,533-byte limit of a segment. */
export function segment(marker: number, payload: Buffer): JpegSegment {
  if (payload.length > 0xffff - 2) throw new RangeError(`a JPEG segment holds at most 65533 bytes, got ${payload.length}`);
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  const bytes = Buffer.concat([head, payload]);
  return { marker, bytes, payload: bytes.subarray(4) };
}

/** Whether a segment's payload starts with `signature` (e.g. `Exif\0\0`, `ICC_PROFILE\0`). */
export function startsWith(s: JpegSegment, signature: string): boolean {
  return s.payload.length >= signature.length && s.payload.toString('latin1', 0, signature.length) === signature;
}

export interface JpegFrame {
  /** SOF marker: C0 baseline, C1 extended, C2 progressive, C3 lossless, C9-CB/CD-CF arithmetic. */
  readonly sof: number;
  readonly precision: number;
  readonly width: number;
  readonly height: number;
  readonly components: readonly { id: number; h: number; v: number; table: number }[];
}

/** The frame header (first SOF), or undefined when there is none. */
export function jpegFrame(structure: JpegStructure): JpegFrame | undefined {
  const sof = structure.segments.find((s) => s.marker >= 0xc0 && s.marker <= 0xcf && s.marker !== 0xc4 && s.marker !== 0xc8 && s.marker !== 0xcc);
  if (!sof || sof.payload.length < 6) return undefined;
  const p = sof.payload;
  const count = p[5];
  if (p.length < 6 + 3 * count) return undefined;
  const components = Array.from({ length: count }, (_, k) => ({ id: p[6 + 3 * k], h: p[7 + 3 * k] >> 4, v: p[7 + 3 * k] & 15, table: p[8 + 3 * k] }));
  return { sof: sof.marker, precision: p[0], height: p.readUInt16BE(1), width: p.readUInt16BE(3), components };
}

/** Segments that set how scans are coded, by marker. */
const CODING_SEGMENTS: Readonly<Record<number, string>> = { 0xc4: 'Huffman tables (DHT)', 0xcc: 'arithmetic coding conditions (DAC)', 0xdd: 'a restart interval (DRI)' };

/**
 * Why the coefficient path must not take this file although libjpeg reads it: tables or a restart
 * interval defined after the last scan. libjpeg takes them without a warning and reports them as
 * the file's, so a save would code the scan with what it was not coded with (an output that does
 * not decode). Undefined when there are none.
 */
export function lateCodingSegment(structure: JpegStructure): string | undefined {
  const lastScan = structure.segments.map((s) => s.marker).lastIndexOf(SOS);
  if (lastScan < 0) return undefined;
  const late = structure.segments.slice(lastScan + 1).find((s) => s.marker in CODING_SEGMENTS);
  return late && `the file defines ${CODING_SEGMENTS[late.marker]} after its last scan`;
}
