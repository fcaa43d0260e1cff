/** OpenCV steps of the pipeline: decode (EXIF orientation applied), mark (boxes or redaction), encode JPEG. */
import { unsupportedImage } from '../../common/errors';
import { mayHaveAlpha, sniffFormat } from '../fetch/sniff';
import { pngOrientation, readKeptMetadata, type Orientation } from './metadata';
import { flattenOnWhite } from './transparency';
import type { FaceBox } from '../contract';
import type { Mat, OpenCv } from '../opencv';
import type { ImageCodec } from '../pipeline';
import { blurPlan, paddedRegion, pixelCell, redactionShape, type MarkSpec, type Region } from './redact-plan';

/**
 * Decodes to 3-channel BGR, turned upright as the EXIF orientation says. For a JPEG the orientation
 * is the pipeline's own reading (jpegOrientation: what the coefficient path marks by and the output
 * keeps; `orientation` when the caller has read it) and OpenCV is told to ignore the tag: OpenCV
 * reads some tags otherwise (an Orientation stored as a LONG, little-endian, it applies; ours takes
 * SHORT only, as EXIF defines it), and then detection would see one photo and the marks land on
 * another. Other formats: as OpenCV reads them, but for transparency: a PNG or WebP that may have
 * some is decoded with its alpha and flattened onto white (output/transparency.ts), turned as its
 * `eXIf` says for a PNG (as OpenCV's own decode would; it ignores a WebP's).
 * `level` 1-3, for a JPEG: decoded at 1/2^level of its size by libjpeg's DCT scaling (sides
 * ceil(n / 2^level); a smaller inverse DCT, no upsampling pass at full size). OpenCV decodes other
 * formats whole and shrinks them (sides rounded down): the pipeline asks a level of JPEGs only.
 */
export function decodeImage(cv: OpenCv, data: Buffer, level = 0, orientation?: Orientation): Mat {
  // Levels 0-3 (the pipeline's MAX_DECODE_LEVEL): libjpeg scales by 1/2, 1/4 or 1/8.
  const flags = [cv.IMREAD_COLOR, cv.IMREAD_REDUCED_COLOR_2, cv.IMREAD_REDUCED_COLOR_4, cv.IMREAD_REDUCED_COLOR_8][level];
  if (flags === undefined) throw new RangeError(`decode level must be 0-3, got ${level}`);
  const format = sniffFormat(data);
  if (level === 0 && (format === 'png' || format === 'webp') && mayHaveAlpha(data, format)) {
    const flat = decodeOnWhite(cv, data);
    if (flat) return format === 'png' ? upright(cv, flat, pngOrientation(data)) : flat;
  }
  // Segments that do not parse read as orientation 1 (readKeptMetadata); the coefficient path refuses those too.
  const turn = format === 'jpeg' ? (orientation ?? readKeptMetadata(data, 'jpeg').orientation) : undefined;
  let image: Mat;
  try {
    image = cv.imdecode(data, turn === undefined ? flags : flags | cv.IMREAD_IGNORE_ORIENTATION);
  } catch (err) {
    throw unsupportedImage('the image could not be decoded; it may be corrupt', err);
  }
  if (!image || image.empty || image.rows === 0 || image.cols === 0) throw unsupportedImage('the image could not be decoded; it may be corrupt');
  return turn === undefined ? image : upright(cv, image, turn);
}

/** The image with its alpha, flattened onto white; undefined when it decodes without 4 channels (no transparency after all). */
function decodeOnWhite(cv: OpenCv, data: Buffer): Mat | undefined {
  let raw: Mat;
  try {
    raw = cv.imdecode(data, cv.IMREAD_UNCHANGED);
  } catch (err) {
    throw unsupportedImage('the image could not be decoded; it may be corrupt', err);
  }
  let copy: { width: number; height: number; bgra: Buffer; sixteenBit: boolean };
  try {
    if (!raw || raw.empty || raw.rows === 0 || raw.cols === 0) throw unsupportedImage('the image could not be decoded; it may be corrupt');
    if (raw.channels !== 4) return undefined;
    copy = { width: raw.cols, height: raw.rows, bgra: raw.getData(), sixteenBit: raw.depth === cv.CV_16U };
  } finally {
    // Freed before the flattening: the copy is all it needs.
    raw?.release();
  }
  return bgrMat(cv, { width: copy.width, height: copy.height, pixels: flattenOnWhite(copy.bgra, copy.sixteenBit) });
}

/** The stored pixels turned as the viewer sees them (output/orientation.ts gives the geometry); the stored Mat is released. */
export function upright(cv: OpenCv, stored: Mat, orientation: Orientation): Mat {
  if (orientation === 1) return stored;
  const turn = (m: Mat, step: (m: Mat) => Mat) => {
    const out = step(m);
    m.release();
    return out;
  };
  switch (orientation) {
    case 2:
      return turn(stored, (m) => m.flip(1));
    case 3:
      return turn(stored, (m) => m.rotate(cv.ROTATE_180));
    case 4:
      return turn(stored, (m) => m.flip(0));
    case 5:
      return turn(stored, (m) => m.transpose());
    case 6:
      return turn(stored, (m) => m.rotate(cv.ROTATE_90_CLOCKWISE));
    case 7:
      return turn(turn(stored, (m) => m.transpose()), (m) => m.flip(-1));
    case 8:
      return turn(stored, (m) => m.rotate(cv.ROTATE_90_COUNTERCLOCKWISE));
  }
}

/**
 * BGR pixels (`width` x `height` x 3 bytes, row by row) copied into a Mat of OpenCV's own, which
 * release() frees (the pixels may be freed as soon as this returns): detection's image on the
 * coefficient path, made by libjpeg as it reads the JPEG's coefficients (LosslessImage.reduced).
 */
export function bgrMat(cv: OpenCv, { width, height, pixels }: { width: number; height: number; pixels: Buffer }): Mat {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || pixels.length !== width * height * 3) {
    throw new RangeError(`expected ${width} x ${height} BGR pixels (${width * height * 3} bytes), got ${pixels.length} bytes`);
  }
  return new cv.Mat(pixels, height, width, cv.CV_8UC3);
}

/** Line width that stays visible on large photos and thin on small ones. */
export function boxThickness(width: number, height: number): number {
  return Math.max(2, Math.round(Math.min(width, height) / 250));
}

/** Draws a green rectangle around every face, on the full-size image, in place. */
type Box = Pick<FaceBox, 'x' | 'y' | 'width' | 'height'>;

/** The boxes' colour: green. BGR. */
export const BOX_BGR = [0, 255, 0] as const;

/** `thickness` defaults to the image's own; a part of a larger image passes the whole image's. */
export function drawBoxes(cv: OpenCv, image: Mat, boxes: readonly Box[], thickness = boxThickness(image.cols, image.rows)): void {
  const green = new cv.Vec3(...BOX_BGR);
  for (const b of boxes) {
    image.drawRectangle(new cv.Point2(b.x, b.y), new cv.Point2(b.x + b.width - 1, b.y + b.height - 1), green, thickness, cv.LINE_AA);
  }
}

export function encodeJpeg(cv: OpenCv, image: Mat, quality: number): Buffer {
  return cv.imencode('.jpg', image, [cv.IMWRITE_JPEG_QUALITY, quality]);
}

/** Solid fill colour of `fill`: black, the usual redaction bar. BGR. */
export const FILL_BGR = [0, 0, 0] as const;

/**
 * Redacts every face in place: each padded region (clipped to the image) is filled, pixelated or
 * blurred, inside an inscribed ellipse or the whole rectangle. Pixels outside the regions are untouched.
 */
export function redactFaces(cv: OpenCv, image: Mat, boxes: readonly Box[], spec: MarkSpec): void {
  for (const box of boxes) {
    const region = paddedRegion(box, spec.padding, image.cols, image.rows);
    if (!region) continue;
    // Every Mat made here is released before the next face: the addon frees native memory only
    // when the JS object is collected, which a warm container may not do for a long time.
    const made: Mat[] = [];
    const keep = (m: Mat) => (made.push(m), m);
    try {
      const roi = keep(image.getRegion(new cv.Rect(region.x, region.y, region.width, region.height)));
      const mask = redactionShape(box, spec, image.cols, image.rows) === 'ellipse' ? keep(ellipseMask(cv, region.width, region.height)) : undefined;
      // The addon refuses an explicit undefined mask: pass one only for the ellipse.
      // setTo and copyTo return a new Mat over the image's pixels: released too, or it holds the
      // whole image until the garbage collector finds it.
      if (spec.mode === 'fill') {
        const colour = new cv.Vec3(...FILL_BGR);
        keep(mask ? roi.setTo(colour, mask) : roi.setTo(colour));
        continue;
      }
      const redacted = spec.mode === 'pixelate' ? pixelated(cv, roi, pixelCell(region), keep) : blurred(cv, roi, region, keep);
      keep(mask ? redacted.copyTo(roi, mask) : redacted.copyTo(roi));
    } finally {
      releaseAll(made);
    }
  }
}

/** Releases each Mat once (a region of a released Mat keeps its pixels until it is released too). */
export function releaseAll(mats: readonly Mat[]): void {
  for (const m of new Set(mats)) m.release();
}

/** 255 inside the ellipse inscribed in a `width` x `height` rectangle, 0 outside: where an ellipse-shaped redaction goes. */
export function ellipseMask(cv: OpenCv, width: number, height: number): Mat {
  // Allocated then cleared: the addon's fill-value constructor fills element by element (11 ms for 300x300).
  const mask = new cv.Mat(height, width, cv.CV_8UC1);
  try {
    mask.setTo(0).release(); // the returned Mat shares the mask's pixels
    const center = new cv.Point2((width - 1) / 2, (height - 1) / 2);
    mask.drawEllipse(new cv.RotatedRect(center, new cv.Size(width, height), 0), new cv.Vec3(255, 255, 255), cv.FILLED, cv.LINE_8);
    return mask;
  } catch (err) {
    mask.release();
    throw err;
  }
}

/**
 * OpenCV's INTER_NEAREST_EXACT (4.5+; the addon exports no name for it). Plain INTER_NEAREST is not
 * exact at every integer factor: a 4 -> 196 upscale (cells of 49) puts its borders at 50, 99, 148.
 */
const INTER_NEAREST_EXACT = 6;

/** Cells of `cell` x `cell` pixels from the region's corner, each the area average of its pixels. `keep` collects every Mat made, for release. */
function pixelated(cv: OpenCv, roi: Mat, cell: number, keep: (m: Mat) => Mat): Mat {
  const nx = Math.ceil(roi.cols / cell);
  const ny = Math.ceil(roi.rows / cell);
  // Averages per cell (the region padded to whole cells by replicating its edge), then each cell
  // spread back at an exact integer factor, so every cell is one constant colour.
  const padded = keep(roi.copyMakeBorder(0, ny * cell - roi.rows, 0, nx * cell - roi.cols, cv.BORDER_REPLICATE));
  const small = keep(padded.resize(ny, nx, 0, 0, cv.INTER_AREA));
  const spread = keep(small.resize(ny * cell, nx * cell, 0, 0, INTER_NEAREST_EXACT));
  return keep(spread.getRegion(new cv.Rect(0, 0, roi.cols, roi.rows)));
}

/** Two Gaussian passes sized to the face (one leaves eye and mouth contrast a detector still finds), on a shrunk copy. */
function blurred(cv: OpenCv, roi: Mat, region: Region, keep: (m: Mat) => Mat): Mat {
  const { factor, smallSigma, size } = blurPlan(region);
  const small = keep(roi.resize(Math.max(1, Math.round(roi.rows / factor)), Math.max(1, Math.round(roi.cols / factor)), 0, 0, cv.INTER_AREA));
  const k = new cv.Size(size, size);
  const once = keep(small.gaussianBlur(k, smallSigma, smallSigma, cv.BORDER_REPLICATE));
  const soft = keep(once.gaussianBlur(k, smallSigma, smallSigma, cv.BORDER_REPLICATE));
  return keep(soft.resize(roi.rows, roi.cols, 0, 0, cv.INTER_LINEAR));
}

/** The pipeline's image codec, backed by OpenCV (the one module that decodes, marks and encodes). */
export function createOpenCvCodec(cv: OpenCv): ImageCodec<Mat> {
  return {
    decode: (bytes, level, orientation) => decodeImage(cv, bytes, level, orientation),
    size: (image) => ({ width: image.cols, height: image.rows }),
    mark: (image, boxes, spec) => (spec.mode === 'box' ? drawBoxes(cv, image, boxes) : redactFaces(cv, image, boxes, spec)),
    encode: (image, quality) => encodeJpeg(cv, image, quality),
    release: (image) => image.release(),
    fromBgr: (bgr) => bgrMat(cv, bgr),
  };
}
