/** Format, size and completeness from bytes; real files from the fixtures and hand-made headers. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ServiceError } from '../../../../functions/common/errors';
import { inspectImage, MAX_JPEG_SCANS, mayHaveAlpha, sniffFormat } from '../../../../functions/detect-faces/fetch/sniff';
import { parseJpeg, segment, SOS, writeJpeg } from '../../../../functions/detect-faces/output/jpeg-segments';
import { FACES_DIR as FACES } from '../../../helpers/paths';
import { pngChunk, pngWith } from '../../../helpers/png';
import { pngBomb } from '../../../helpers/image-server';

const read = (name: string) => fs.readFileSync(path.join(FACES, name));

test('real JPEG and PNG files: format and size from the header', () => {
  expect(inspectImage(read('grace_hopper_512x512.jpg'), 40e6)).toEqual({ format: 'jpeg', width: 512, height: 512 });
  expect(inspectImage(read('astronaut.png'), 40e6)).toEqual({ format: 'png', width: 512, height: 512 });
  expect(inspectImage(read('dogs.jpg'), 40e6).format).toBe('jpeg');
});

test('WebP headers (lossy, lossless, extended)', () => {
  const riff = (chunk: string, body: Buffer) => {
    const b = Buffer.alloc(30 + body.length);
    b.write('RIFF', 0, 'latin1');
    b.writeUInt32LE(b.length - 8, 4);
    b.write('WEBP', 8, 'latin1');
    b.write(chunk, 12, 'latin1');
    body.copy(b, 20);
    return b;
  };
  const vp8 = Buffer.alloc(10);
  vp8.set([0x9d, 0x01, 0x2a], 3);
  vp8.writeUInt16LE(640, 6);
  vp8.writeUInt16LE(480, 8);
  expect(inspectImage(riff('VP8 ', vp8), 40e6)).toEqual({ format: 'webp', width: 640, height: 480 });
  const vp8l = Buffer.alloc(10);
  vp8l[0] = 0x2f;
  vp8l.writeUInt32LE((800 - 1) | ((600 - 1) << 14), 1);
  expect(inspectImage(riff('VP8L', vp8l), 40e6)).toEqual({ format: 'webp', width: 800, height: 600 });
  const vp8x = Buffer.alloc(10);
  vp8x.writeUIntLE(4000 - 1, 4, 3);
  vp8x.writeUIntLE(3000 - 1, 7, 3);
  expect(inspectImage(riff('VP8X', vp8x), 40e6)).toEqual({ format: 'webp', width: 4000, height: 3000 });
  // The same with the animation flag: refused by name before the decoder fails on it.
  vp8x[0] = 0x02;
  expect(() => inspectImage(riff('VP8X', vp8x), 40e6)).toThrow(expect.objectContaining({ code: 'UnsupportedImage', message: 'the image is an animated WebP; send a still image (JPEG, PNG or WebP)' }));
});

test.each([
  ['empty', Buffer.alloc(0), /empty \(0 bytes\)/],
  ['HTML page', Buffer.from('<!doctype html><html><body>hi</body></html>'), /HTML\/XML document/],
  ['GIF', Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1'), /^the image is a GIF; send a JPEG, PNG or WebP image$/],
  ['BMP', Buffer.from('BM\x36\x00\x0c\x00\x00\x00\x00\x00\x36\x00', 'latin1'), /^the image is a BMP;/],
  ['text that starts with BM', Buffer.from('BMW parts list, 2026'), /^the bytes are not a JPEG, PNG or WebP image/],
  ['TIFF, little-endian', Buffer.from('II*\x00\x08\x00\x00\x00', 'latin1'), /^the image is a TIFF;/],
  ['TIFF, big-endian', Buffer.from('MM\x00*\x00\x00\x00\x08', 'latin1'), /^the image is a TIFF;/],
  ['HEIC', Buffer.from('\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic', 'latin1'), /^the image is a HEIC\/HEIF photo \(an iPhone/],
  ['HEIF (mif1)', Buffer.from('\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00', 'latin1'), /^the image is a HEIC\/HEIF/],
  ['AVIF', Buffer.from('\x00\x00\x00\x20ftypavif\x00\x00\x00\x00', 'latin1'), /^the image is an AVIF;/],
  // Some AVIF encoders write the generic HEIF brand first and name AVIF among the compatible ones.
  ['AVIF under mif1', Buffer.from('\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avifmiaf', 'latin1'), /^the image is an AVIF;/],
  ['HEIC under mif1', Buffer.from('\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00heic', 'latin1'), /^the image is a HEIC/],
  ['an MP4 video', Buffer.from('\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2', 'latin1'), /^the bytes are not a JPEG, PNG or WebP image/],
  ['PDF', Buffer.from('%PDF-1.7\n'), /^the image is a PDF;/],
  ['other bytes', Buffer.from('just some text'), /^the bytes are not a JPEG, PNG or WebP image/],
  ['truncated JPEG', read('grace_hopper_512x512.jpg').subarray(0, 20_000), /jpeg file is truncated/],
  ['JPEG cut inside its headers', read('grace_hopper_512x512.jpg').subarray(0, 300), /jpeg file is truncated/],
  ['truncated PNG', read('astronaut.png').subarray(0, 50_000), /png file is truncated/],
])('%s is UnsupportedImage', (_name, data, message) => {
  expect(() => inspectImage(data, 40e6)).toThrow(expect.objectContaining({ code: 'UnsupportedImage', message: expect.stringMatching(message) }));
});

test('too many pixels is TooLarge, decided from the header alone', () => {
  // A PNG header claiming 100000 x 100000, with nothing behind it but an IEND.
  expect(() => inspectImage(pngBomb(100_000, 100_000), 40e6)).toThrow(expect.objectContaining({ code: 'TooLarge', message: expect.stringMatching(/100000x100000/) }));
  expect(() => inspectImage(read('grace_hopper_512x512.jpg'), 512 * 512 - 1)).toThrow(expect.objectContaining({ code: 'TooLarge' }));
});

test('a side over 65,500 px is TooLarge within the pixel limit: every output is a JPEG, and libjpeg writes no longer side', () => {
  expect(() => inspectImage(pngBomb(70_000, 400), 40e6)).toThrow(expect.objectContaining({ code: 'TooLarge', message: 'the image is 70000x400; a side may be at most 65500 px (the output is a JPEG)' }));
  expect(() => inspectImage(pngBomb(300, 65_501), 40e6)).toThrow(expect.objectContaining({ code: 'TooLarge' }));
  expect(inspectImage(pngBomb(65_500, 300), 40e6)).toMatchObject({ width: 65_500, height: 300 });
});

test('transparency from the header: PNG colour types 4 and 6 or a tRNS chunk before the data; WebP by its extended flag or lossless alpha bit', () => {
  const chunk = pngChunk;
  const png = (colourType: number, ...chunks: Buffer[]) => pngWith([...chunks, chunk('IDAT', Buffer.alloc(4))], colourType);
  expect([0, 2, 3, 4, 6].map((t) => mayHaveAlpha(png(t), 'png'))).toEqual([false, false, false, true, true]);
  expect(mayHaveAlpha(png(3, chunk('PLTE', Buffer.alloc(6)), chunk('tRNS', Buffer.alloc(1))), 'png')).toBe(true);
  expect(mayHaveAlpha(png(2, chunk('tRNS', Buffer.alloc(6))), 'png')).toBe(true);
  expect(mayHaveAlpha(png(0, chunk('tRNS', Buffer.alloc(2))), 'png')).toBe(false);
  expect(mayHaveAlpha(read('astronaut.png'), 'png')).toBe(false);
  const riff = (chunkName: string, body: Buffer) => Buffer.concat([Buffer.from('RIFF\0\0\0\0WEBP', 'latin1'), Buffer.from(chunkName, 'latin1'), Buffer.alloc(4), body]);
  const vp8x = (flags: number) => riff('VP8X', Buffer.from([flags, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  expect([vp8x(0), vp8x(0x10), vp8x(0x02)].map((w) => mayHaveAlpha(w, 'webp'))).toEqual([false, true, false]);
  const vp8l = (bits: number) => riff('VP8L', Buffer.concat([Buffer.from([0x2f]), Buffer.from(new Uint32Array([bits]).buffer)]));
  expect([vp8l(0), vp8l(1 << 28)].map((w) => mayHaveAlpha(w, 'webp'))).toEqual([false, true]);
  expect(mayHaveAlpha(riff('VP8 ', Buffer.alloc(10)), 'webp')).toBe(false);
  expect(mayHaveAlpha(read('grace_hopper_512x512.jpg'), 'jpeg')).toBe(false);
});

test('JPEG processes the layer\'s libjpeg does not decode (12-bit, lossless, hierarchical) are refused by name, before any decode', () => {
  const { segments } = parseJpeg(read('dogs.jpg'));
  const sof = segments.findIndex((s) => s.marker === 0xc0 || s.marker === 0xc2);
  const withFrame = (marker: number, precision = 8) => {
    const payload = Buffer.from(segments[sof].payload);
    payload[0] = precision;
    return writeJpeg(segments.map((s, k) => (k === sof ? segment(marker, payload) : s)));
  };
  const refusal = (jpeg: Buffer) => {
    try {
      inspectImage(jpeg, 40e6);
      return 'taken';
    } catch (err) {
      return `${(err as ServiceError).code}: ${(err as Error).message}`;
    }
  };
  expect(refusal(withFrame(0xc0, 12))).toBe('UnsupportedImage: the jpeg file has 12 bits per sample; the service decodes 8-bit JPEGs (save it as a baseline or progressive JPEG)');
  expect(refusal(withFrame(0xc3))).toBe('UnsupportedImage: the jpeg file is a lossless JPEG (SOF3), which the service does not decode; save it as a baseline or progressive JPEG');
  expect(refusal(withFrame(0xc5))).toMatch(/a hierarchical JPEG \(SOF5\)/);
  expect(refusal(withFrame(0xf7))).toBe('UnsupportedImage: the jpeg file is JPEG-LS (SOF55), which the service does not decode; save it as a baseline or progressive JPEG');
  // What it decodes: baseline, extended, progressive, and arithmetic-coded sequential and progressive.
  for (const marker of [0xc0, 0xc1, 0xc2, 0xc9, 0xca]) expect(refusal(withFrame(marker))).toBe('taken');
});

test('an animated PNG (acTL before its image data) is refused as animated WebP and GIF are; an acTL after the data is no animation', () => {
  const idat = pngChunk('IDAT', Buffer.alloc(4));
  const actl = pngChunk('acTL', Buffer.alloc(8));
  // 10x10 in the header (the sniff reads no CRC).
  const png = (chunks: Buffer[]) => {
    const out = pngWith(chunks, 2);
    out.writeUInt32BE(10, 16);
    out.writeUInt32BE(10, 20);
    return out;
  };
  expect(() => inspectImage(png([actl, idat]), 40e6)).toThrow(expect.objectContaining({ code: 'UnsupportedImage', message: 'the image is an animated PNG; send a still image (JPEG, PNG or WebP)' }));
  expect(inspectImage(png([idat, actl]), 40e6).format).toBe('png');
  expect(inspectImage(png([idat]), 40e6).format).toBe('png');
});

describe('a JPEG of many scans is refused before decoding: libjpeg decodes each over the whole image', () => {
  // grace_hopper_512x512.jpg is progressive: 10 scans, as libjpeg's progressive script writes them.
  const progressive = parseJpeg(read('grace_hopper_512x512.jpg'));
  const scans = progressive.segments.filter((s) => s.marker === SOS);
  /** The photo with its last scan repeated until it has `total` scans (libjpeg decodes a repeat with a warning). */
  const withScans = (total: number, between: Buffer = Buffer.alloc(0)) => {
    const last = scans[scans.length - 1];
    const copy = { ...last, scanData: Buffer.concat([last.scanData!, between]) };
    return writeJpeg([...progressive.segments, ...Array.from({ length: total - scans.length }, () => copy)]);
  };

  test('the limit, and one more', () => {
    expect(scans).toHaveLength(10);
    expect(inspectImage(withScans(MAX_JPEG_SCANS), 40e6)).toEqual({ format: 'jpeg', width: 512, height: 512 });
    expect(() => inspectImage(withScans(MAX_JPEG_SCANS + 1), 40e6)).toThrow(
      expect.objectContaining({ code: 'UnsupportedImage', message: `the jpeg file has more than ${MAX_JPEG_SCANS} scans (a progressive photo has about 10, and each is decoded over the whole image); save it again as a baseline or progressive JPEG` }),
    );
    // 10,000 scans of 31 bytes: refused as soon as the count passes the limit.
    expect(() => inspectImage(withScans(10_000), 40e6)).toThrow(expect.objectContaining({ code: 'UnsupportedImage' }));
  });

  test("only markers count: SOS bytes inside a segment's payload, and junk between scans, do not", () => {
    const sosInPayload = segment(0xfe, Buffer.alloc(2000, Buffer.from([0xff, SOS])));
    const commented = writeJpeg([...progressive.segments.slice(0, -1), sosInPayload, progressive.segments[progressive.segments.length - 1]]);
    expect(inspectImage(commented, 40e6)).toMatchObject({ width: 512, height: 512 });
    // libjpeg skips bytes that are no marker with a warning; so does the count (but 0xFF, which starts one).
    expect(inspectImage(withScans(MAX_JPEG_SCANS, Buffer.from('junk between scans')), 40e6)).toMatchObject({ width: 512 });
  });

  test('a file cut after its first scan is still truncated', () => {
    const cut = writeJpeg(progressive.segments.slice(0, progressive.segments.indexOf(scans[0]) + 1)).subarray(0, -2);
    expect(() => inspectImage(cut, 40e6)).toThrow(expect.objectContaining({ message: expect.stringMatching(/jpeg file is truncated/) }));
  });
});

test('sniffFormat ignores what is not an image', () => {
  expect(sniffFormat(Buffer.from('%PDF-1.7'))).toBeUndefined();
  expect(sniffFormat(Buffer.from([0xff, 0xd8]))).toBeUndefined();
});

describe('mutated files at the download boundary: a size, or a typed refusal, never anything else', () => {
  // Seeded, so a failure names a case that reproduces.
  const random = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const seeds = ['grace_hopper_512x512.jpg', '2008_001322.jpg', 'astronaut.png'].map(read);
  // A progressive-free WebP header is enough: the sniffer reads only the RIFF and first chunk.
  const webp = Buffer.concat([Buffer.from('RIFF\0\0\0\0WEBPVP8 ', 'latin1'), Buffer.alloc(4), Buffer.from([0, 0, 0, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]), Buffer.alloc(64)]);
  webp.writeUInt32LE(webp.length - 8, 4);
  seeds.push(webp);

  function mutate(source: Buffer, r: () => number): Buffer {
    const b = Buffer.from(source);
    switch (Math.floor(r() * 5)) {
      case 0: // a few bytes anywhere, most often in the headers
        for (let k = 0; k < 1 + r() * 8; k++) b[Math.floor((r() < 0.7 ? Math.min(b.length, 700) : b.length) * r())] = Math.floor(r() * 256);
        return b;
      case 1: // cut anywhere
        return b.subarray(0, Math.floor(b.length * r()));
      case 2: // a length or size field at its extremes
        for (let k = 0; k < 3; k++) b.writeUInt16BE(r() < 0.5 ? 0 : 0xffff, Math.floor(Math.min(b.length - 2, 700) * r()));
        return b;
      case 3: // bytes inserted into the headers
        return Buffer.concat([b.subarray(0, Math.floor(Math.min(b.length, 700) * r())), Buffer.from(Array.from({ length: 1 + Math.floor(r() * 16) }, () => (r() < 0.5 ? 0xff : Math.floor(r() * 256)))), b.subarray(Math.floor(Math.min(b.length, 700) * r()))]);
      default: // a header repeated or spliced from another format
        return Buffer.concat([b.subarray(0, Math.floor(64 * r())), seeds[Math.floor(r() * seeds.length)].subarray(0, 800), b.subarray(Math.floor(b.length * r()))]);
    }
  }

  test('4,000 mutations of JPEG, PNG and WebP files', () => {
    const r = random(20261202);
    const outcomes: Record<string, number> = {};
    for (let i = 0; i < 4000; i++) {
      const input = mutate(seeds[i % seeds.length], r);
      let outcome: string;
      try {
        const info = inspectImage(input, 40e6);
        // Accepted: a known format and a whole, positive size within the limit.
        expect({ i, ok: ['jpeg', 'png', 'webp'].includes(info.format) && Number.isInteger(info.width) && Number.isInteger(info.height) && info.width >= 1 && info.height >= 1 && info.width * info.height <= 40e6 }).toEqual({ i, ok: true });
        outcome = 'accepted';
      } catch (err) {
        const code = (err as ServiceError).code;
        expect({ i, code }).toEqual({ i, code: expect.stringMatching(/^(UnsupportedImage|TooLarge)$/) });
        expect((err as Error).message.length).toBeGreaterThan(10);
        outcome = code;
      }
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    // The mutations reach every outcome: the test is not passing by refusing everything.
    expect(Object.keys(outcomes).sort()).toEqual(['TooLarge', 'UnsupportedImage', 'accepted']);
  });
});
