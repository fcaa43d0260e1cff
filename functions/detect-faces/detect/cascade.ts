/**
 * The cascade's second look: YuNet 2022mar (yunet-2022.ts) on crops of a look's input around the
 * first look's strong faces (crops.ts). yunet.ts fuses what it finds with the first look (flip.ts).
 */
import { nonMaxSuppression, type Box } from './boxes';
import { cropsAround, fromCrop, heldByCrops, keepInsideCrop, lookOrder } from './crops';
import { yunet2022Look } from './yunet-2022';
import { YUNET_NMS_THRESHOLD, YUNET_TOP_K, type FaceCandidate } from './yunet-decode';
import type { Mat, Net, OpenCv } from '../opencv';

/**
 * Lowest score of the second network's faces in the cascade. Its thousands of weak boxes cost the
 * full curve's WIDER AP on the hard set (0.704 from 0.05, 0.780 from 0.3, against the plain look's
 * 0.772, on the development subset, measured when a face one look saw was fused at half its
 * score). Weak boxes only to pair with the first look's faces (from 0.05 or 0.15) found no more
 * faces at 70% precision (89.3% and 89.3%, against 89.2%) and slowed the second look.
 */
export const CASCADE_SECOND_FLOOR = 0.3;

/**
 * The cascade's second look at `input` (a tile's network input, BGR): YuNet 2022mar on crops
 * around `first`'s strong faces (cropsAround, CROP_DEFAULTS), its faces from CASCADE_SECOND_FLOOR
 * that a crop holds whole, in input pixels, after YuNet's NMS across the crops; and for each face
 * of `first`, whether no crop held it (`unseen`: the second network never saw it whole, which is
 * no evidence against it). `cells`, when given, receives every candidate of every crop before the
 * crop's filter and the NMS. Each crop's region is released, also when OpenCV throws.
 */
export function cascadeLook(cv: OpenCv, net: Net, input: Mat, first: readonly Box[], cells?: (all: FaceCandidate[]) => void): { faces: FaceCandidate[]; unseen: boolean[] } {
  const size = { inputWidth: input.cols, inputHeight: input.rows };
  const crops = cropsAround(first, size);
  // Looked at a shape at a time (lookOrder), gathered in the crops' order: the answer is the same in any order.
  const whole: FaceCandidate[][] = crops.map(() => []);
  const every: FaceCandidate[][] = crops.map(() => []);
  for (const i of lookOrder(crops)) {
    const crop = crops[i];
    const region = input.getRegion(new cv.Rect(crop.x, crop.y, crop.width, crop.height));
    try {
      const found = yunet2022Look(cv, net, region, CASCADE_SECOND_FLOOR, cells && ((all) => (every[i] = fromCrop(all, crop, size))));
      whole[i] = keepInsideCrop(found, crop, size);
    } finally {
      region.release();
    }
  }
  cells?.(every.flat());
  return { faces: nonMaxSuppression(whole.flat(), YUNET_NMS_THRESHOLD, YUNET_TOP_K), unseen: heldByCrops(first, crops, size).map((held) => !held) };
}
