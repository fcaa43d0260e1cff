/**
 * EXIF orientation as geometry: where a rectangle the viewer sees (the photo shown upright, as the
 * boxes are reported) lies in the pixels as stored. The coefficient path marks the stored pixels
 * and keeps the Orientation tag, so viewers turn the marks with the photo. Pure.
 */
import type { Orientation } from './metadata';
import type { Region } from './redact-plan';

/** Whether the orientation swaps width and height (5-8 turn the photo a quarter). */
export function swapsAxes(orientation: Orientation): boolean {
  return orientation >= 5;
}

/**
 * The stored point at the viewer's point (u, v), in continuous coordinates (a pixel is a unit
 * square); `width` and `height` are the stored size. TIFF's definitions: 2 mirrors, 3 turns a half,
 * 4 flips, 5 transposes, 6 is shown turned a quarter clockwise, 7 transverses, 8 is shown turned a
 * quarter counter-clockwise.
 */
export function storedPoint(u: number, v: number, orientation: Orientation, width: number, height: number): [number, number] {
  switch (orientation) {
    case 1:
      return [u, v];
    case 2:
      return [width - u, v];
    case 3:
      return [width - u, height - v];
    case 4:
      return [u, height - v];
    case 5:
      return [v, u];
    case 6:
      return [v, height - u];
    case 7:
      return [width - v, height - u];
    case 8:
      return [width - v, u];
  }
}

/** The stored rectangle under the viewer's rectangle. */
export function storedRect(rect: Region, orientation: Orientation, width: number, height: number): Region {
  const [ax, ay] = storedPoint(rect.x, rect.y, orientation, width, height);
  const [bx, by] = storedPoint(rect.x + rect.width, rect.y + rect.height, orientation, width, height);
  return { x: Math.min(ax, bx), y: Math.min(ay, by), width: Math.abs(bx - ax), height: Math.abs(by - ay) };
}
