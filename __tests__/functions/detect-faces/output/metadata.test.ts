/** What an output keeps of its source's metadata: the ICC profile and an Orientation alone; never GPS, thumbnails, names, trailers. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { deflateSync } from 'node:zlib';
import { jpegFrame, parseJpeg, segment, writeJpeg } from '../../../../functions/detect-faces/output/jpeg-segments';
import { iccSegments, jpegIcc, jpegOrientation, orientationExif, pngOrientation, readJpegMetadata, readKeptMetadata, withOnlyKeptMetadata } from '../../../../functions/detect-faces/output/metadata';
import { pngChunk, pngWith } from '../../../helpers/png';
import { fakeIccProfile, leakyExif, leakyJpeg, SECRETS } from '../../../helpers/leaky-jpeg';
import { FACES_DIR } from '../../../helpers/paths';

const base = fs.readFileSync(path.join(FACES_DIR, 'grace_hopper_512x512.jpg')); // progressive, 3 components, with a comment

const apps = (jpeg: Buffer) => parseJpeg(jpeg).segments.filter((s) => (s.marker >= 0xe0 && s.marker <= 0xef) || s.marker === 0xfe);
const scans = (jpeg: Buffer) => parseJpeg(jpeg).segments.filter((s) => s.marker !== 0xfe && (s.marker < 0xe0 || s.marker > 0xef));

test('the leaky file carries every secret (the fixture itself is sound)', () => {
  const leaky = leakyJpeg(base, { orientation: 6 });
  for (const secret of Object.values(SECRETS)) expect(leaky.includes(secret)).toBe(true);
  const structure = parseJpeg(leaky);
  expect(structure.trailing.includes(SECRETS.video)).toBe(true);
  expect(jpegOrientation(structure)).toBe(6);
  expect(jpegIcc(structure)?.equals(fakeIccProfile())).toBe(true);
});

test.each([1, 6, 8])('output keeps the ICC profile and orientation %i, nothing else, and the image data bit for bit', (orientation) => {
  const leaky = leakyJpeg(base, { orientation });
  const kept = readKeptMetadata(leaky, 'jpeg');
  expect(kept.orientation).toBe(orientation);
  const out = withOnlyKeptMetadata(leaky, kept);
  for (const [kind, secret] of Object.entries(SECRETS)) expect([kind, out.includes(secret)]).toEqual([kind, false]);
  expect(out.includes('Exif\0\0MM')).toBe(orientation !== 1);
  const structure = parseJpeg(out);
  expect(structure.trailing.length).toBe(0);
  expect(jpegOrientation(structure)).toBe(orientation);
  expect(jpegIcc(structure)?.equals(fakeIccProfile())).toBe(true);
  // JFIF (thumbnail gone), the Orientation when needed, two ICC chunks in order; no comment.
  const kinds = apps(out).map((s) => `${s.marker.toString(16)} ${s.payload.toString('latin1', 0, 4)}${s.marker === 0xe2 ? s.payload[12] : ''}`);
  expect(kinds).toEqual(['e0 JFIF', ...(orientation !== 1 ? ['e1 Exif'] : []), 'e2 ICC_1', 'e2 ICC_2']);
  expect(apps(out)[0].payload.subarray(12)).toEqual(Buffer.from([0, 0]));
  // Tables, frame, every scan of the progressive file: the same bytes.
  const same = scans(leaky);
  expect(scans(out).map((s) => Buffer.concat([s.bytes, s.scanData ?? Buffer.alloc(0)]))).toEqual(same.map((s) => Buffer.concat([s.bytes, s.scanData ?? Buffer.alloc(0)])));
  expect(same.filter((s) => s.marker === 0xda).length).toBeGreaterThan(1);
});

test('an orientation-only EXIF is 32 bytes and reads back', () => {
  for (const o of [1, 2, 3, 4, 5, 6, 7, 8] as const) {
    const exif = orientationExif(o);
    expect(exif.length).toBe(32);
    expect(jpegOrientation({ segments: [segment(0xe1, exif)], trailing: Buffer.alloc(0) })).toBe(o);
  }
});

test('a little-endian EXIF orientation reads too; malformed EXIF reads as 1', () => {
  const le = Buffer.from('Exif\0\0II\x2a\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x08\0\0\0\0\0\0\0', 'latin1');
  const read = (payload: Buffer) => jpegOrientation({ segments: [segment(0xe1, payload)], trailing: Buffer.alloc(0) });
  expect(read(le)).toBe(8);
  expect(read(le.subarray(0, 20))).toBe(1); // cut inside the entry
  expect(read(Buffer.from('Exif\0\0XX\0\x2a', 'latin1'))).toBe(1);
  const nine = Buffer.from(le);
  nine[6 + 8 + 2 + 8] = 9;
  expect(read(nine)).toBe(1);
  expect(read(leakyExif(3))).toBe(3);
});

test('ICC chunks: a missing, repeated or miscounted chunk drops the profile; a profile without acsp is not one', () => {
  const icc = fakeIccProfile();
  const chunks = iccSegments(icc);
  expect(chunks.length).toBe(2);
  const of = (segments: typeof chunks) => jpegIcc({ segments, trailing: Buffer.alloc(0) });
  expect(of(chunks)?.equals(icc)).toBe(true);
  expect(of([chunks[1], chunks[0]])?.equals(icc)).toBe(true);
  expect(of([chunks[0]])).toBeUndefined();
  expect(of([chunks[0], chunks[0]])).toBeUndefined();
  const notIcc = Buffer.from(icc);
  notIcc.write('xxxx', 36, 'latin1');
  expect(of(iccSegments(notIcc))).toBeUndefined();
});

test('a profile that does not fit the output colour space is left out (CMYK on a YCbCr output, RGB on grayscale)', () => {
  const rgbOut = base;
  expect(jpegIcc(parseJpeg(withOnlyKeptMetadata(rgbOut, { icc: fakeIccProfile(4000, 'CMYK'), orientation: 1 })))).toBeUndefined();
  expect(jpegIcc(parseJpeg(withOnlyKeptMetadata(rgbOut, { icc: fakeIccProfile(4000, 'RGB '), orientation: 1 })))).toEqual(fakeIccProfile(4000, 'RGB '));
  // A grayscale frame: the same file with a one-component SOF (the structure is all that is read).
  const { segments } = parseJpeg(base);
  const grayFrame = segments.map((s) => (s.marker === 0xc2 ? segment(0xc2, Buffer.concat([s.payload.subarray(0, 5), Buffer.from([1]), s.payload.subarray(6, 9)])) : s));
  const gray = writeJpeg(grayFrame);
  expect(jpegFrame(parseJpeg(gray))?.components.length).toBe(1);
  expect(jpegIcc(parseJpeg(withOnlyKeptMetadata(gray, { icc: fakeIccProfile(4000, 'RGB '), orientation: 1 })))).toBeUndefined();
  expect(jpegIcc(parseJpeg(withOnlyKeptMetadata(gray, { icc: fakeIccProfile(4000, 'GRAY'), orientation: 1 })))).toEqual(fakeIccProfile(4000, 'GRAY'));
});

test('an Adobe APP14 (colour transform) is kept at its 12 bytes; other APPn go', () => {
  const { segments } = parseJpeg(base);
  const adobe = segment(0xee, Buffer.from('Adobe\0\x64\0\0\0\0\x01EXTRA-BYTES', 'latin1'));
  const out = withOnlyKeptMetadata(writeJpeg([adobe, segment(0xe3, Buffer.from('other')), ...segments]), { orientation: 1 });
  const kept = apps(out).filter((s) => s.marker === 0xee);
  expect(kept.map((s) => s.payload.length)).toEqual([12]);
  expect(out.includes('EXTRA-BYTES')).toBe(false);
  expect(out.includes('other')).toBe(false);
});

test('PNG iCCP and WebP ICCP profiles are read', () => {
  const icc = fakeIccProfile(3000);
  const chunk = pngChunk;
  const png = pngWith([chunk('iCCP', Buffer.concat([Buffer.from('Display P3\0\0', 'latin1'), deflateSync(icc)])), chunk('IDAT', Buffer.alloc(4))], 0);
  expect(readKeptMetadata(png, 'png').icc?.equals(icc)).toBe(true);
  const riffChunk = (type: string, body: Buffer) => {
    const head = Buffer.alloc(8);
    head.write(type, 0, 'latin1');
    head.writeUInt32LE(body.length, 4);
    return Buffer.concat([head, body, Buffer.alloc(body.length & 1)]);
  };
  const body = Buffer.concat([Buffer.from('WEBP', 'latin1'), riffChunk('VP8X', Buffer.alloc(10)), riffChunk('ICCP', icc), riffChunk('VP8 ', Buffer.alloc(11))]);
  const webp = Buffer.concat([Buffer.from('RIFF', 'latin1'), Buffer.alloc(4), body]);
  webp.writeUInt32LE(body.length, 4);
  expect(readKeptMetadata(webp, 'webp')).toEqual({ icc, orientation: 1 });
  // A PNG whose profile inflates past 4 MB, or a truncated one: no profile, no error.
  const bomb = Buffer.concat([png.subarray(0, 33), chunk('iCCP', Buffer.concat([Buffer.from('x\0\0', 'latin1'), deflateSync(Buffer.alloc(5 << 20))]))]);
  expect(readKeptMetadata(bomb, 'png')).toEqual({ orientation: 1 });
  expect(readKeptMetadata(png.subarray(0, 60), 'png')).toEqual({ orientation: 1 });
});

test('a PNG eXIf chunk\'s orientation, before or after the image data; absent or broken reads as 1', () => {
  const chunk = pngChunk;
  const tiff = (orientation: number) => Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0]);
  const png = (...chunks: Buffer[]) => pngWith(chunks);
  expect(pngOrientation(png(chunk('eXIf', tiff(6)), chunk('IDAT', Buffer.alloc(4))))).toBe(6);
  expect(pngOrientation(png(chunk('IDAT', Buffer.alloc(4)), chunk('eXIf', tiff(8))))).toBe(8);
  expect(pngOrientation(png(chunk('IDAT', Buffer.alloc(4))))).toBe(1);
  expect(pngOrientation(png(chunk('eXIf', tiff(9))))).toBe(1);
  expect(pngOrientation(png(chunk('eXIf', Buffer.from('garbage'))))).toBe(1);
  expect(pngOrientation(png(chunk('eXIf', tiff(6))).subarray(0, 40))).toBe(1);
});

test('parseJpeg: markers between scans, fill bytes, restart markers, and broken files', () => {
  const { segments } = parseJpeg(base);
  const sos = segments.findIndex((s) => s.marker === 0xda);
  // A comment between the first and second scan is parsed as its own segment and dropped on output.
  const withComment = writeJpeg([...segments.slice(0, sos + 1), segment(0xfe, Buffer.from(SECRETS.comment)), ...segments.slice(sos + 1)]);
  expect(parseJpeg(withComment).segments.length).toBe(segments.length + 1);
  expect(withOnlyKeptMetadata(withComment, { orientation: 1 }).includes(SECRETS.comment)).toBe(false);
  // Restart markers and stuffed bytes stay inside the scan data; fill bytes before the next marker do not.
  const rst = writeJpeg([...segments.slice(0, sos), { ...segments[sos], scanData: Buffer.from([1, 0xff, 0x00, 2, 0xff, 0xd0, 3, 0xff, 0xff]) }]);
  expect(parseJpeg(rst).segments[sos].scanData).toEqual(Buffer.from([1, 0xff, 0x00, 2, 0xff, 0xd0, 3]));
  for (const broken of [Buffer.from('not a jpeg'), base.subarray(0, 200), base.subarray(0, base.length - 2), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 1])]) {
    expect(() => parseJpeg(broken)).toThrow(expect.objectContaining({ code: 'UnsupportedImage' }));
  }
  expect(() => withOnlyKeptMetadata(Buffer.from('jpeg'), { orientation: 1 })).toThrow(expect.objectContaining({ code: 'UnsupportedImage' }));
});

test('the coefficient path is refused a file with Huffman tables, arithmetic conditions or a restart interval after its last scan; tables between scans are fine', () => {
  const { segments } = parseJpeg(base);
  // The progressive fixture defines tables between its scans, as progressive files do.
  const sos = segments.map((s) => s.marker).lastIndexOf(0xda);
  expect(segments.slice(0, sos).filter((s) => s.marker === 0xc4).length).toBeGreaterThan(1);
  expect(readJpegMetadata(base)).toEqual({ kept: { icc: undefined, orientation: 1 } });
  const dht = segments.find((s) => s.marker === 0xc4)!;
  for (const [late, named] of [
    [dht, 'Huffman tables (DHT)'],
    [segment(0xcc, Buffer.from([0x00, 0x10])), 'arithmetic coding conditions (DAC)'],
    [segment(0xdd, Buffer.from([0, 4])), 'a restart interval (DRI)'],
  ] as const) {
    const jpeg = writeJpeg([...segments, late]);
    expect(readJpegMetadata(jpeg)).toEqual({ kept: { icc: undefined, orientation: 1 }, notForCoefficients: `the file defines ${named} after its last scan` });
  }
  // What does not parse is refused too, and keeps nothing.
  expect(readJpegMetadata(base.subarray(0, 100))).toEqual({ kept: { orientation: 1 }, notForCoefficients: expect.stringMatching(/truncated or corrupt/) });
});
