/**
 * Transparency with the real OpenCV layer: a face hidden under alpha 0 is neither shown nor looked
 * for; what is opaque decodes as without the alpha; a PNG's eXIf turns it as OpenCV's own decode
 * does. Needs the built layer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { createDetector } from '../../functions/detect-faces/detect/detectors';
import type { Mat } from '../../functions/detect-faces/opencv';
import { decodeImage } from '../../functions/detect-faces/output/image';
import { FACES_DIR } from '../helpers/image-server';
import { layerOpenCv } from '../helpers/opencv';

jest.setTimeout(120_000);

const { cv, modelsDir } = layerOpenCv();
/** The addon's own constants beyond the project's OpenCv type. */
const CV_8UC4 = (cv as unknown as { CV_8UC4: number }).CV_8UC4;
const face = cv.imdecode(fs.readFileSync(path.join(FACES_DIR, 'grace_hopper_512x512.jpg')));

/** A 1024x512 BGRA image: the face on the left, opaque; the same face on the right under alpha 0. */
function halfHidden(photo: Mat): { bgra: Buffer; width: number; height: number } {
  const bgr = photo.getData();
  const width = photo.cols * 2;
  const height = photo.rows;
  const bgra = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const src = (y * photo.cols + (x % photo.cols)) * 3;
      const dst = (y * width + x) * 4;
      bgr.copy(bgra, dst, src, src + 3);
      bgra[dst + 3] = x < photo.cols ? 255 : 0;
    }
  }
  return { bgra, width, height };
}

const encoded = (ext: '.png' | '.webp', flags: number[] = []) => {
  const { bgra, width, height } = halfHidden(face);
  return cv.imencode(ext, new cv.Mat(bgra, height, width, CV_8UC4), flags);
};

test.each([
  ['PNG', () => encoded('.png'), true],
  // Quality above 100: OpenCV writes lossless WebP, with its alpha. libwebp drops the colour of
  // pixels under alpha 0 (it keeps it only when told to), so the hidden face is not in the file.
  ['WebP, lossless', () => encoded('.webp', [(cv as unknown as { IMWRITE_WEBP_QUALITY: number }).IMWRITE_WEBP_QUALITY, 101]), false],
])('%s: the hidden half decodes white and holds no face; the opaque half is the photo', (_name, make, hiddenInFile) => {
  const data = make();
  // What the decode without alpha gives: the hidden face in full.
  const plain = cv.imdecode(data, cv.IMREAD_COLOR);
  const image = decodeImage(cv, data);
  expect([image.cols, image.rows]).toEqual([1024, 512]);
  const right = image.getRegion(new cv.Rect(512, 0, 512, 512)).copy().getData();
  expect(right.every((v) => v === 255)).toBe(true);
  expect(plain.getRegion(new cv.Rect(512, 0, 512, 512)).copy().getData().every((v) => v === 255)).toBe(false);
  expect(image.getRegion(new cv.Rect(0, 0, 512, 512)).copy().getData().equals(plain.getRegion(new cv.Rect(0, 0, 512, 512)).copy().getData())).toBe(true);
  const { boxes } = createDetector(cv, 'yunet', modelsDir).detect(image, { mark: 'fill' });
  expect(boxes.length).toBeGreaterThan(0);
  expect(boxes.every((b) => b.x + b.width <= 512)).toBe(true);
  // Without the flattening, the hidden face (where the file holds it) is found.
  expect(createDetector(cv, 'yunet', modelsDir).detect(plain, { mark: 'fill' }).boxes.some((b) => b.x > 512)).toBe(hiddenInFile);
});

test('a PNG with alpha and an eXIf orientation is turned as OpenCV turns the same PNG without alpha', () => {
  const png = encoded('.png');
  // An eXIf chunk (orientation 6) after IHDR, with the CRC libpng checks.
  const tiff = Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0]);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(tiff.length, 0);
  head.write('eXIf', 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), tiff])), 0);
  const turned = Buffer.concat([png.subarray(0, 33), head, tiff, crc, png.subarray(33)]);
  const ours = decodeImage(cv, turned);
  const opencv = cv.imdecode(turned, cv.IMREAD_COLOR);
  expect([ours.cols, ours.rows]).toEqual([opencv.cols, opencv.rows]);
  expect([ours.cols, ours.rows]).toEqual([512, 1024]);
  // The opaque half is where OpenCV puts it (the top, turned clockwise), pixel for pixel.
  const top = new cv.Rect(0, 0, 512, 512);
  expect(ours.getRegion(top).copy().getData().equals(opencv.getRegion(top).copy().getData())).toBe(true);
  expect(ours.getRegion(new cv.Rect(0, 512, 512, 512)).copy().getData().every((v) => v === 255)).toBe(true);
});

