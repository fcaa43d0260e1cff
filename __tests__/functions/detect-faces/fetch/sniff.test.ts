/** Format, size and completeness from bytes; real files from the fixtures and hand-made headers. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspectImage, sniffFormat } from '../../../../functions/detect-faces/fetch/sniff';
import { FACES_DIR as FACES } from '../../../helpers/paths';

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
});

test.each([
  ['empty', Buffer.alloc(0), /empty \(0 bytes\)/],
  ['HTML page', Buffer.from('<!doctype html><html><body>hi</body></html>'), /HTML\/XML document/],
  ['GIF', Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1'), /JPEG, PNG or WebP/],
  ['truncated JPEG', read('grace_hopper_512x512.jpg').subarray(0, 20_000), /jpeg file is truncated/],
  ['JPEG cut inside its headers', read('grace_hopper_512x512.jpg').subarray(0, 300), /jpeg file is truncated/],
  ['truncated PNG', read('astronaut.png').subarray(0, 50_000), /png file is truncated/],
])('%s is UnsupportedImage', (_name, data, message) => {
  expect(() => inspectImage(data, 40e6)).toThrow(expect.objectContaining({ code: 'UnsupportedImage', message: expect.stringMatching(message) }));
});

test('too many pixels is TooLarge, decided from the header alone', () => {
  // A PNG header claiming 100000 x 100000, with nothing behind it but an IEND.
  const png = Buffer.alloc(64);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(png);
  png.writeUInt32BE(13, 8);
  png.write('IHDR', 12, 'latin1');
  png.writeUInt32BE(100_000, 16);
  png.writeUInt32BE(100_000, 20);
  png.write('IEND', 50, 'latin1');
  expect(() => inspectImage(png, 40e6)).toThrow(expect.objectContaining({ code: 'TooLarge', message: expect.stringMatching(/100000x100000/) }));
  expect(() => inspectImage(read('grace_hopper_512x512.jpg'), 512 * 512 - 1)).toThrow(expect.objectContaining({ code: 'TooLarge' }));
});

test('sniffFormat ignores what is not an image', () => {
  expect(sniffFormat(Buffer.from('%PDF-1.7'))).toBeUndefined();
  expect(sniffFormat(Buffer.from([0xff, 0xd8]))).toBeUndefined();
});
