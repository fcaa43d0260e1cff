/**
 * The coefficient path: marks written into the JPEG's own quantized DCT coefficients, through our
 * jpeg-lossless addon (layer/jpeg-lossless/, built into the layer beside OpenCV). Every mark goes to
 * the addon in one call per face, and the addon draws its mask (a redaction's ellipse, or none for
 * a rectangle; a box's anti-aliased lines as opacity): no pixels or masks cross into JavaScript.
 * The blocks the mask covers wholly are set straight in their coefficients (a fill's or the box's
 * colour, a pixelation cell's mean from its blocks' DCs, a blur's smoothed block means), only the
 * blocks on the mask's edge are decoded; every other block keeps its bytes' coefficients. The marks
 * go on the pixels as stored: boxes, reported as the viewer sees the photo, are mapped through the
 * EXIF orientation, which the output keeps.
 */
import type { FaceBox } from '../contract';
import { BOX_BGR, boxThickness, FILL_BGR } from './image';
import { JPEG_LOSSLESS_PACKAGE } from './lossless-package';
import { levelSize } from '../detect/plan';
import { readJpegMetadata, type Orientation } from './metadata';

export { JPEG_LOSSLESS_PACKAGE };
import { storedRect, swapsAxes } from './orientation';
import { blurPlan, paddedRegion, pixelCell, redactionShape, type MarkSpec, type Region } from './redact-plan';

/** The addon's exports (layer/jpeg-lossless/jpeg_lossless.c says what each does). */
export interface JpegLosslessAddon {
  /** With `level`, `orientation` and `pixels` (the photo's sides at 1/2^level, rounded up, x 3 bytes): detection's reduced image is written into `pixels` while the coefficients are read. */
  open(jpeg: Buffer, level?: number, orientation?: Orientation, pixels?: Buffer): JpegHandle;
  info(handle: JpegHandle): JpegCoefficientInfo;
  read(handle: JpegHandle, x: number, y: number, width: number, height: number): Region & { pixels: Buffer };
  write(handle: JpegHandle, x: number, y: number, width: number, height: number, pixels: Buffer): number;
  fill(handle: JpegHandle, x: number, y: number, width: number, height: number, mask: PaintMask, b: number, g: number, r: number): number;
  pixelate(handle: JpegHandle, x: number, y: number, width: number, height: number, mask: PaintMask, cellWidth: number, cellHeight: number): number;
  blur(handle: JpegHandle, x: number, y: number, width: number, height: number, mask: PaintMask, sigma: number): number;
  box(handle: JpegHandle, x: number, y: number, width: number, height: number, thickness: number, b: number, g: number, r: number): number;
  save(handle: JpegHandle): Buffer;
  close(handle: JpegHandle): void;
  /** glibc's malloc_trim(0): free pages inside malloc's arenas go back to the system. Not about JPEG (the C file says why it is here); true when any did. */
  releaseFreeMemory(): boolean;
  readonly jpegLibVersion: number;
  /** The version of these calls the addon speaks (JPEG_LOSSLESS_INTERFACE). */
  readonly interface: number;
}

/** The addon's interface this code speaks; raised with the C file's whenever a call or its arguments change. */
export const JPEG_LOSSLESS_INTERFACE = 3;
/** BGR pixels, `width` x `height` x 3 bytes, row by row. */
export interface ReducedImage {
  width: number;
  height: number;
  pixels: Buffer;
}
/** Where a paint goes in its rectangle: width x height bytes of opacity (0-255), the inscribed ellipse (drawn by the addon), or all of it. */
export type PaintMask = Buffer | 'ellipse' | null;
declare const handleBrand: unique symbol;
export type JpegHandle = { readonly [handleBrand]: true };

export interface JpegCoefficientInfo {
  width: number;
  height: number;
  components: number;
  mcuWidth: number;
  mcuHeight: number;
  restartInterval: number;
  progressive: boolean;
}


/**
 * Loads the addon once per container; the reason it is unavailable otherwise (the pipeline then
 * re-encodes): it does not load, or it speaks another interface (a layer built from other code).
 * `load` stands in for tests.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export function loadJpegLossless(load: () => unknown = () => require('@facedetect/jpeg-lossless')): JpegLosslessAddon | { unavailable: string } {
  let addon: JpegLosslessAddon;
  try {
    addon = load() as JpegLosslessAddon;
  } catch (err) {
    return { unavailable: `${JPEG_LOSSLESS_PACKAGE} did not load: ${(err as Error).message.split('\n')[0]}` };
  }
  if (addon.interface !== JPEG_LOSSLESS_INTERFACE) {
    return { unavailable: `${JPEG_LOSSLESS_PACKAGE} speaks interface ${addon.interface ?? 1}, this code ${JPEG_LOSSLESS_INTERFACE}: the layer was built from other code` };
  }
  return addon;
}

/** The coefficient path refuses this file (CMYK, arithmetic coding, tables after the scan, a size that does not match the decode, ...). */
export class LosslessRefused extends Error {
  override readonly name = 'LosslessRefused';
}

/** A JPEG opened in its coefficients; marks go in one by one, then it is saved once. */
export interface LosslessImage {
  readonly orientation: Orientation;
  readonly info: JpegCoefficientInfo;
  /**
   * The photo at 1/2^reducedLevel (open's), as the viewer sees it (the EXIF orientation applied),
   * made by libjpeg while it read the coefficients: what a scaled decode by the same library
   * (OpenCV's IMREAD_REDUCED_COLOR_n) gives, without entropy-decoding the file a second time. Sides
   * ceil(n / 2^level). Once: when `take` returns or throws, the pixels' memory is released (their
   * ArrayBuffer detached), so `take` copies what it keeps (bgrMat does).
   */
  reduced<T>(take: (bgr: ReducedImage) => T): T;
  /** Marks the faces, boxes as the viewer sees the photo. */
  mark(boxes: readonly Pick<FaceBox, 'x' | 'y' | 'width' | 'height'>[], spec: MarkSpec): void;
  /** The JPEG: untouched blocks as they were, no metadata but JFIF (metadata.ts adds what is kept). */
  save(): Buffer;
  /** Frees the coefficients; again: nothing. */
  close(): void;
}

export interface LosslessEditor {
  /**
   * Opens `jpeg`, which decodes to `view` (its size as the viewer sees it); LosslessRefused when the
   * coefficient path cannot take it. `reducedLevel` (1-3): detection's image at that level is made
   * while the coefficients are read, for `reduced`. `orientation`: the file's EXIF orientation when
   * the caller has read the segments with readJpegMetadata (and taken its refusal); absent: read
   * from `jpeg` the same way, and refused as it would refuse.
   */
  open(jpeg: Buffer, view: { width: number; height: number }, reducedLevel?: number, orientation?: Orientation): LosslessImage;
}

export function createLosslessEditor(addon: JpegLosslessAddon): LosslessEditor {
  return {
    open(jpeg, view, reducedLevel, known) {
      let handle: JpegHandle;
      let orientation: Orientation;
      // The reduced image's pixels (as the viewer sees the photo, so its sides are the view's).
      const size = reducedLevel ? { width: levelSize(view.width, reducedLevel), height: levelSize(view.height, reducedLevel) } : undefined;
      let pixels = size && Buffer.allocUnsafeSlow(size.width * size.height * 3);
      try {
        if (known === undefined) {
          // A caller that knows the orientation has read the segments (readJpegMetadata) and taken its refusal.
          const read = readJpegMetadata(jpeg);
          if (read.notForCoefficients !== undefined) throw new Error(read.notForCoefficients);
          orientation = read.kept.orientation;
        } else orientation = known;
        handle = reducedLevel && pixels ? addon.open(jpeg, reducedLevel, orientation, pixels) : addon.open(jpeg);
      } catch (err) {
        if (pixels) detach(pixels);
        throw new LosslessRefused((err as Error).message, { cause: err });
      }
      const info = addon.info(handle);
      const [w, h] = swapsAxes(orientation) ? [info.height, info.width] : [info.width, info.height];
      if (w !== view.width || h !== view.height) {
        addon.close(handle);
        if (pixels) detach(pixels);
        throw new LosslessRefused(`the coefficients are ${info.width}x${info.height} with orientation ${orientation}; the decoded image is ${view.width}x${view.height}`);
      }
      let closed = false;
      return {
        orientation,
        info,
        reduced: (take) => {
          if (!size || !pixels) throw new Error(reducedLevel ? 'reduced() hands out its image once' : 'open() was not given a reduced level');
          const bgr = { ...size, pixels };
          pixels = undefined;
          try {
            return take(bgr);
          } finally {
            // Released now, not when a collection comes: detection runs next, with the coefficients held.
            detach(bgr.pixels);
          }
        },
        mark: (boxes, spec) => {
          const thickness = boxThickness(info.width, info.height);
          for (const box of boxes) {
            const stored = storedRect(box, orientation, info.width, info.height);
            if (spec.mode === 'box') boxFace(addon, handle, stored, thickness);
            else redactFace(addon, handle, stored, spec, info);
          }
        },
        save: () => addon.save(handle),
        close: () => {
          if (closed) return;
          closed = true;
          if (pixels) detach(pixels);
          pixels = undefined;
          addon.close(handle);
        },
      };
    },
  };
}

/**
 * Frees a Buffer's memory now (its ArrayBuffer detached, every view of it then empty) with ES2024's
 * ArrayBuffer.prototype.transfer (Node 22 and later; the project's TypeScript lib is ES2023).
 */
function detach(buffer: Buffer): void {
  (buffer.buffer as ArrayBuffer & { transfer(length?: number): ArrayBuffer }).transfer(0);
}

/**
 * The pixels a mark may change, as rectangles: a redaction's padded region; for a box, four strips
 * along its edges (a line of `thickness`, anti-aliased, reaches half of it and a pixel beyond each
 * side of the edge; the addon's box_mask stops a pixel short of that), so the box's inside is
 * never decoded. What the lossless test holds every mark to.
 */
export function markFootprints(box: Region, spec: MarkSpec, thickness: number, width: number, height: number): Region[] {
  if (spec.mode !== 'box') {
    const region = paddedRegion(box, spec.padding, width, height);
    return region ? [region] : [];
  }
  const reach = Math.ceil(thickness / 2) + 2;
  const x0 = box.x - reach;
  const y0 = box.y - reach;
  const x1 = box.x + box.width - 1 + reach; // last pixel column the line may touch, inclusive
  const y1 = box.y + box.height - 1 + reach;
  const strips: Region[] = [
    { x: x0, y: y0, width: x1 - x0 + 1, height: 2 * reach + 1 }, // top
    { x: x0, y: box.y + box.height - 1 - reach, width: x1 - x0 + 1, height: 2 * reach + 1 }, // bottom
    { x: x0, y: y0, width: 2 * reach + 1, height: y1 - y0 + 1 }, // left
    { x: box.x + box.width - 1 - reach, y: y0, width: 2 * reach + 1, height: y1 - y0 + 1 }, // right
  ];
  return strips.map((s) => clip(s, width, height)).filter((s): s is Region => s !== undefined);
}

function clip(r: Region, width: number, height: number): Region | undefined {
  const x = Math.max(0, r.x);
  const y = Math.max(0, r.y);
  const x1 = Math.min(width, r.x + r.width);
  const y1 = Math.min(height, r.y + r.height);
  return x1 > x && y1 > y ? { x, y, width: x1 - x, height: y1 - y } : undefined;
}

/**
 * The pixelation cells of `region` on the coefficient path: whole MCUs, from the corner of the
 * region grown to whole MCUs (clipped to the image), so that each cell's mean is its blocks' DCs'
 * and a block inside the mask is one constant. About as many cells across and down as a re-encode's
 * cells of pixelCell(region) would make (at least one, each at least one MCU), stretched to cover
 * the grown region: never smaller than an MCU, so a small face gets fewer, larger cells.
 */
export function pixelCells(region: Region, mcu: { width: number; height: number }, image: { width: number; height: number }): { width: number; height: number } {
  const target = pixelCell(region);
  const side = (start: number, length: number, step: number, limit: number) => {
    const grown = Math.min(limit, Math.ceil((start + length) / step) * step) - Math.floor(start / step) * step;
    const cells = Math.max(1, Math.round(grown / target));
    return Math.ceil(grown / cells / step) * step;
  };
  return { width: side(region.x, region.width, mcu.width, image.width), height: side(region.y, region.height, mcu.height, image.height) };
}

/**
 * A redaction in one call per face: the addon draws the ellipse inscribed in the padded region
 * itself (the pixels whose centres lie in it: OpenCV's drawn polygon give or take a few edge
 * pixels; no mask crosses into JavaScript), decodes only the MCUs on its edge (the pixels a
 * redaction keeps there are the photo's) and sets those wholly inside from their coefficients: a
 * fill from its colour, a pixelation from its cells' means (pixelCells), a blur from its blocks'
 * means smoothed by the re-encode's Gaussian (applied twice there: sigma x sqrt 2 once).
 */
function redactFace(addon: JpegLosslessAddon, handle: JpegHandle, box: Region, spec: MarkSpec, info: JpegCoefficientInfo): void {
  const region = paddedRegion(box, spec.padding, info.width, info.height);
  if (!region) return;
  const at = [handle, region.x, region.y, region.width, region.height, redactionShape(box, spec, info.width, info.height) === 'ellipse' ? 'ellipse' : null] as const;
  if (spec.mode === 'fill') addon.fill(...at, ...FILL_BGR);
  else if (spec.mode === 'pixelate') {
    const cell = pixelCells(region, { width: info.mcuWidth, height: info.mcuHeight }, info);
    addon.pixelate(...at, cell.width, cell.height);
  } else addon.blur(...at, blurPlan(region).sigma * Math.SQRT2);
}

/**
 * A box in one call: the addon strokes its outline (through its edge pixels' centres, the whole
 * image's thickness, anti-aliased, round outer corners) as opacity and paints the box's colour by
 * it, as drawBoxes draws it on pixels within a few levels. Its inside and what lies beyond the lines'
 * reach (markFootprints' strips) are not read.
 */
function boxFace(addon: JpegLosslessAddon, handle: JpegHandle, box: Region, thickness: number): void {
  addon.box(handle, box.x, box.y, box.width, box.height, thickness, ...BOX_BGR);
}
