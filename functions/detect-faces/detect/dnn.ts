/**
 * What both YuNet networks (yunet.ts, yunet-2022.ts) share at cv.dnn's edge: the input padded to
 * the size a network takes, the input blob, and a network output's values.
 */
import type { Mat, OpenCv } from '../opencv';

/**
 * The network's input: the BGR pixels as they are, 0-255, no mean, no scaling, as OpenCV's
 * FaceDetectorYN feeds YuNet. Every argument is explicit: the addon's blobFromImage defaults to
 * swapRB = true (a BGR pixel (10, 20, 30) comes out as (30, 20, 10)), and YuNet fed RGB loses a
 * quarter of its AP on WIDER FACE's hard set.
 */
/**
 * `input` grown to `width` x `height` with black on the right and bottom, so that its pixels keep
 * their coordinates; `input` itself when it is that size already (the caller releases only a new Mat).
 */
export function padBottomRight(cv: OpenCv, input: Mat, width: number, height: number): Mat {
  return width === input.cols && height === input.rows ? input : input.copyMakeBorder(0, height - input.rows, 0, width - input.cols, cv.BORDER_CONSTANT, new cv.Vec3(0, 0, 0));
}

export function yunetBlob(cv: OpenCv, input: Mat): Mat {
  return cv.blobFromImage(input, 1, new cv.Size(0, 0), new cv.Vec3(0, 0, 0), false, false);
}

/** Float data of a network output, whatever its dimensions (getData refuses > 2-D Mats). */
export function floats(mat: Mat): Float32Array {
  const total = mat.sizes.reduce((a, b) => a * b, 1);
  const flat = mat.sizes.length > 2 ? mat.flattenFloat(total, 1) : mat;
  let data: Buffer;
  try {
    data = flat.getData();
  } finally {
    // getData copies the values: the flattened Mat made here is released at once, not left to the GC.
    if (flat !== mat) flat.release();
  }
  // A Float32Array view needs 4-byte alignment; copy in the rare case the buffer is not aligned.
  if (data.byteOffset % 4 !== 0) return new Float32Array(new Uint8Array(data).buffer);
  return new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4);
}
