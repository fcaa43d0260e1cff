/** A JPEG's marker structure around a text "scan" (not decodable): what a fake codec's encode returns, so the pipeline's metadata step has markers to rewrite. */
import { segment, writeJpeg } from '../../functions/detect-faces/output/jpeg-segments';

export function tinyJpeg(scan: string, components = 3): Buffer {
  const frame = Buffer.alloc(6 + 3 * components);
  frame[0] = 8;
  frame.writeUInt16BE(8, 1);
  frame.writeUInt16BE(8, 3);
  frame[5] = components;
  for (let k = 0; k < components; k++) frame.set([k + 1, 0x11, 0], 6 + 3 * k);
  const sos = segment(0xda, Buffer.from([1, 1, 0, 0, 63, 0]));
  return writeJpeg([segment(0xe0, Buffer.from('JFIF\0\x01\x01\0\0\x01\0\x01\0\0', 'latin1')), segment(0xc0, frame), { ...sos, scanData: Buffer.from(scan, 'latin1') }]);
}

/** The text a tinyJpeg carries in its scan. */
export function tinyJpegText(jpeg: Buffer): string {
  const sos = jpeg.indexOf(Buffer.from([0xff, 0xda]));
  return jpeg.toString('latin1', sos + 2 + jpeg.readUInt16BE(sos + 2), jpeg.length - 2);
}
