/** Hand-made WIDER FACE labels for the bench's scoring tests. */
import type { WiderFace } from '../../bench/wider/score';

/** A labelled square face at (x, y), clean, valid and in every difficulty set unless `attrs` says otherwise. */
export const widerFace = (x: number, y: number, side: number, attrs: Partial<WiderFace> = {}): WiderFace => ({
  x,
  y,
  w: side,
  h: side,
  blur: 0,
  occlusion: 0,
  pose: 0,
  invalid: 0,
  inEasy: true,
  inMedium: true,
  inHard: true,
  ...attrs,
});
