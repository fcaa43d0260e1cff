/** OpenCV steps of the pipeline: decode (EXIF orientation applied), draw boxes, encode JPEG. */
import { unsupportedImage } from '../../common/errors';
import type { FaceBox as Box } from '../contract';
import type { Mat, OpenCv } from '../opencv';
import type { ImageCodec } from '../pipeline';

/** Decodes to 3-channel BGR, rotated as the EXIF orientation says (OpenCV's IMREAD_COLOR does). */
export function decodeImage(cv: OpenCv, data: Buffer): Mat {
  let image: Mat;
  try {
    image = cv.imdecode(data, cv.IMREAD_COLOR);
  } catch (err) {
    throw unsupportedImage('the image could not be decoded; it may be corrupt', err);
  }
  if (!image || image.empty || image.rows === 0 || image.cols === 0) throw unsupportedImage('the image could not be decoded; it may be corrupt');
  return image;
}

/** Line width that stays visible on large photos and thin on small ones. */
export function boxThickness(width: number, height: number): number {
  return Math.max(2, Math.round(Math.min(width, height) / 250));
}

/** Draws a green rectangle around every face, on the full-size image, in place. */
export function drawBoxes(cv: OpenCv, image: Mat, boxes: readonly Box[]): void {
  const thickness = boxThickness(image.cols, image.rows);
  const green = new cv.Vec3(0, 255, 0);
  for (const b of boxes) {
    image.drawRectangle(new cv.Point2(b.x, b.y), new cv.Point2(b.x + b.width - 1, b.y + b.height - 1), green, thickness, cv.LINE_AA);
  }
}

export function encodeJpeg(cv: OpenCv, image: Mat, quality: number): Buffer {
  return cv.imencode('.jpg', image, [cv.IMWRITE_JPEG_QUALITY, quality]);
}

/** The pipeline's image codec, backed by OpenCV (the one module that decodes, marks and encodes). */
export function createOpenCvCodec(cv: OpenCv): ImageCodec<Mat> {
  return {
    decode: (bytes) => decodeImage(cv, bytes),
    size: (image) => ({ width: image.cols, height: image.rows }),
    mark: (image, boxes) => drawBoxes(cv, image, boxes),
    encode: (image, quality) => encodeJpeg(cv, image, quality),
  };
}
