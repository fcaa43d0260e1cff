/** What "a redacted face found again" means, for the redaction test and the scores bench. */
import { paddedRegion, type Region } from '../functions/detect-faces/output/redact-plan';

/**
 * A detection that would find one of `faces` again: face-sized (at least half the face's width) and
 * centred in that face's padded region. At the smallest face size YuNet also fires on 10-16 px
 * texture anywhere (a pixelated face's cells included, as on unredacted background: 0.90 on a
 * 12-px patch of 2008_002079's); those locate no face.
 */
export function findsFaceAgain(d: Region, faces: readonly Region[], padding: number, imageWidth: number, imageHeight: number): boolean {
  const cx = d.x + d.width / 2;
  const cy = d.y + d.height / 2;
  return faces.some((f) => {
    const r = paddedRegion(f, padding, imageWidth, imageHeight);
    return !!r && d.width >= f.width / 2 && cx >= r.x && cx < r.x + r.width && cy >= r.y && cy < r.y + r.height;
  });
}
