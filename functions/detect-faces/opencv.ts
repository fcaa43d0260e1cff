/**
 * The part of @u4/opencv4nodejs this service uses, typed here; the addon itself comes from the
 * Lambda layer (or the local runner's unpacked copy of it). Each signature is the package's own
 * (7.1.2, typings/), cut to what functions/, local/, bench/, scripts/, layer/smoke/ and __tests__ call.
 *
 * Why not the package's typings (measured 2026-11, npm 11.19, docs/architecture.md, "What we use"): they are
 * self-contained and our code compiles against them unchanged, but they come only with the package,
 * and a devDependency on it adds 81 packages (node-gyp, @u4/opencv-build, tar, cacache, ...), 34 MB,
 * 2,749 files; its install step (node-gyp on binding.gyp) fails `npm install` unless allowScripts
 * denies it; and an unbuilt copy in node_modules shadows the layer's for code in the repository
 * that finds the addon on NODE_PATH (Node looks in node_modules first), so bench/run.ts failed with
 * "No build found in node_modules/@u4/opencv-build". (tsc: 89 more files, no measurable time.)
 */

export interface Size {
  readonly width: number;
  readonly height: number;
}

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Mat {
  readonly rows: number;
  readonly cols: number;
  readonly sizes: number[];
  readonly empty: boolean;
  readonly channels: number;
  /** CV_8U (0), CV_16U (2), ... */
  readonly depth: number;
  resize(rows: number, cols: number, fx?: number, fy?: number, interpolation?: number): Mat;
  copyMakeBorder(top: number, bottom: number, left: number, right: number, borderType?: number, value?: number | Vec3): Mat;
  bgrToGray(): Mat;
  /** 0: around the x axis, 1: around the y axis (mirror), -1: both. */
  flip(flipCode: number): Mat;
  rotate(rotateCode: number): Mat;
  transpose(): Mat;
  flattenFloat(rows: number, cols: number): Mat;
  getData(): Buffer;
  drawRectangle(pt0: Point2, pt1: Point2, color?: Vec3, thickness?: number, lineType?: number): void;
  copy(): Mat;
  getRegion(rect: Rect): Mat;
  copyTo(dst: Mat, mask?: Mat): Mat;
  setTo(value: number | Vec3, mask?: Mat): Mat;
  gaussianBlur(kSize: Size, sigmaX: number, sigmaY?: number, borderType?: number): Mat;
  drawEllipse(box: RotatedRect, color?: Vec3, thickness?: number, lineType?: number): void;
  release(): void;
}

export interface Point2 {
  readonly x: number;
  readonly y: number;
}

export interface Vec3 {
  readonly x: number;
  readonly y: number;
  readonly z: number;
}

export interface RotatedRect {
  readonly center: Point2;
  readonly size: Size;
  readonly angle: number;
}

export interface Net {
  setInput(blob: Mat, name?: string): void;
  forward(outBlobNames: string[]): Mat[];
}

export interface CascadeClassifier {
  detectMultiScale(
    img: Mat,
    opts: { scaleFactor?: number; minNeighbors?: number; minSize?: Size },
  ): { objects: Rect[]; numDetections: number[] };
}

export interface OpenCv {
  readonly version: { major: number; minor: number; revision: number };
  readonly INTER_AREA: number;
  readonly INTER_NEAREST: number;
  readonly INTER_LINEAR: number;
  readonly BORDER_REPLICATE: number;
  readonly FILLED: number;
  readonly LINE_8: number;
  readonly CV_8UC1: number;
  readonly BORDER_CONSTANT: number;
  readonly IMREAD_COLOR: number;
  readonly IMREAD_REDUCED_COLOR_2: number;
  readonly IMREAD_REDUCED_COLOR_4: number;
  readonly IMREAD_REDUCED_COLOR_8: number;
  readonly IMREAD_IGNORE_ORIENTATION: number;
  readonly IMREAD_UNCHANGED: number;
  readonly CV_16U: number;
  readonly ROTATE_90_CLOCKWISE: number;
  readonly ROTATE_180: number;
  readonly ROTATE_90_COUNTERCLOCKWISE: number;
  readonly IMWRITE_JPEG_QUALITY: number;
  readonly LINE_AA: number;
  readonly CV_8UC3: number;
  Mat: {
    new (rows: number, cols: number, type: number, fillValue?: number | number[]): Mat;
    new (data: Buffer, rows: number, cols: number, type?: number): Mat;
  };
  Point2: new (x: number, y: number) => Point2;
  Vec3: new (x: number, y: number, z: number) => Vec3;
  Size: new (width: number, height: number) => Size;
  Rect: new (x: number, y: number, width: number, height: number) => Rect;
  RotatedRect: new (center: Point2, size: Size, angle: number) => RotatedRect;
  CascadeClassifier: new (xmlFile: string) => CascadeClassifier;
  readNetFromONNX(file: string): Net;
  blobFromImage(image: Mat, scaleFactor?: number, size?: Size, mean?: Vec3, swapRB?: boolean, crop?: boolean): Mat;
  imdecode(buffer: Buffer, flags?: number): Mat;
  imencode(ext: string, img: Mat, flags?: number[]): Buffer;
  setNumThreads(n: number): void;
  getNumThreads(): number;
}

/**
 * The addon, loaded once per container: from the layer on Lambda (NODE_PATH=/opt/nodejs/node_modules),
 * kept out of the bundle (bundling/functions.ts marks it external). `threads` 0 keeps OpenCV's default.
 */
export function loadOpenCv(threads = 0): OpenCv {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cv: OpenCv = require('@u4/opencv4nodejs');
  if (threads > 0) cv.setNumThreads(threads);
  return cv;
}
