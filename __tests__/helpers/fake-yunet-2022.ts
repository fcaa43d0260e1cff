/** A stand-in for YuNet 2022mar in cv.dnn, and its outputs built prior by prior (tests of yunet-2022.ts and cascade.ts). */
import type { Mat, Net } from '../../functions/detect-faces/opencv';
import { yunet2022PriorCount } from '../../functions/detect-faces/detect/yunet-2022';

/** Prior index of (level, row, column, side) for an input `width` wide and `height` high (OpenCV's order: level, row, column, side). */
export function priorIndex(width: number, height: number, level: number, row: number, col: number, side: number): number {
  const strides = [8, 16, 32, 64];
  const sides = [3, 2, 2, 3];
  let k = 0;
  for (let l = 0; l < level; l++) k += (width / strides[l]) * (height / strides[l]) * sides[l];
  return k + (row * (width / strides[level]) + col) * sides[level] + side;
}

/** All-zero outputs for a padded input of w x h, with a helper to light up one prior. */
export function outputs(w: number, h: number) {
  const n = yunet2022PriorCount(w, h);
  const out = { loc: new Float32Array(n * 14), conf: new Float32Array(n * 2), iou: new Float32Array(n) };
  const set = (k: number, face: number, iou: number, loc: number[] = new Array(14).fill(0)) => {
    out.conf[2 * k] = 1 - face;
    out.conf[2 * k + 1] = face;
    out.iou[k] = iou;
    out.loc.set(loc, 14 * k);
  };
  return { out, set };
}

/**
 * A stand-in for YuNet 2022mar in cv.dnn: the outputs of `faces` (prior index, face probability,
 * IoU) for the blob's size, as 3-D Mats like the network's ([1, priors, 14] etc.); records the
 * blob's sizes and every Mat it made, to check what the look released.
 */
export function fakeYunet2022(faces: [number, number, number][], failForward = false) {
  const made: { released: boolean; name: string }[] = [];
  const seen: number[][] = [];
  const mat = (name: string, data: Float32Array, sizes: number[]): Mat => {
    const state = { released: false, name };
    made.push(state);
    return {
      sizes,
      rows: sizes[0],
      cols: sizes[1],
      flattenFloat: (rows: number, cols: number) => mat(`${name} flat`, data, [rows, cols]),
      getData: () => {
        if (sizes.length > 2) throw new Error('getData: more than 2 dimensions');
        return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      },
      release: () => {
        state.released = true;
      },
    } as unknown as Mat;
  };
  let input: Mat | undefined;
  const net: Net = {
    setInput: (blob) => {
      input = blob;
    },
    forward: (names) => {
      if (failForward) throw new Error('forward failed');
      const [, , h, w] = input!.sizes;
      seen.push(input!.sizes);
      const { out, set } = outputs(w, h);
      for (const [k, face, iou] of faces) set(k, face, iou);
      const n = yunet2022PriorCount(w, h);
      const widths = { loc: 14, conf: 2, iou: 1 } as Record<string, number>;
      return names.map((name) => mat(name, out[name as keyof typeof out], [1, n, widths[name]]));
    },
  };
  return { net, made, seen };
}

