/**
 * A real JPEG dressed with everything a redacted output must not carry, each kind holding a
 * recognisable secret string, plus an ICC profile it must keep. Built from bytes, so the tests
 * show exactly what each segment is.
 */
import { segment, parseJpeg, writeJpeg, type JpegSegment } from '../../functions/detect-faces/output/jpeg-segments';
import { colourOnlyIcc } from '../../functions/detect-faces/output/icc';
import { iccSegments } from '../../functions/detect-faces/output/metadata';

/** Strings planted in the metadata; none may appear in an output. */
export const SECRETS = {
  gps: 'GPS-51.5007N-0.1246W',
  serial: 'SERIAL-CAM-0042',
  makerNote: 'MAKERNOTE-PRIVATE',
  thumbnail: 'THUMBNAIL-UNREDACTED-FACE',
  xmpName: 'Jane Q. Example',
  iptc: 'IPTC-BYLINE-Reporter',
  mpf: 'MPF-GAIN-MAP',
  comment: 'COMMENT-shot-at-home',
  photoshop: 'PHOTOSHOP-PATH',
  trailingImage: 'SECOND-IMAGE-AFTER-EOI',
  video: 'MOTION-PHOTO-VIDEO',
  iccOwner: 'ICC-CALIBRATED-FOR-Jane',
  iccPrivate: 'ICC-PRIVATE-TAG',
  iccTrailing: 'ICC-BYTES-PAST-ITS-SIZE',
} as const;

/**
 * An RGB (or other space) ICC profile of `size` bytes as a camera or a calibration tool may write
 * it: a colour tag (A2B0, patterned data standing for a LUT, so chunk order matters), a `desc` naming
 * its owner, a private tag, the maker and model in the header, and bytes past its declared size.
 */
export function leakyIccProfile(size = 70_000, space = 'RGB '): Buffer {
  const tag = (signature: string, body: Buffer) => Buffer.concat([Buffer.from(signature, 'latin1'), Buffer.alloc(4), body]);
  const desc = tag('desc', Buffer.concat([Buffer.from([0, 0, 0, SECRETS.iccOwner.length + 1]), Buffer.from(`${SECRETS.iccOwner}\0`, 'latin1'), Buffer.alloc(8 + 3 + 67)]));
  const priv = tag('zzpv', Buffer.from(SECRETS.iccPrivate, 'latin1'));
  const pad4 = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  const tableSize = 4 + 3 * 12;
  const lutSize = size - 128 - tableSize - pad4(desc).length - pad4(priv).length;
  const lut = tag('mAB ', Buffer.alloc(lutSize - 8));
  for (let i = 8; i < lut.length; i++) lut[i] = (i * 7) & 0xff;
  const header = Buffer.alloc(128);
  header.writeUInt32BE(size, 0);
  header.write('lcms', 4, 'latin1');
  header.writeUInt32BE(0x04300000, 8);
  header.write('mntr', 12, 'latin1');
  header.write(space, 16, 'latin1');
  header.write('XYZ ', 20, 'latin1');
  header.write('acsp', 36, 'latin1');
  header.write('MAKR', 48, 'latin1');
  header.write('MODL', 52, 'latin1');
  const table = Buffer.alloc(tableSize);
  table.writeUInt32BE(3, 0);
  let at = 128 + tableSize;
  [['A2B0', lut], ['desc', desc], ['zzpv', priv]].forEach(([signature, body], i) => {
    table.write(signature as string, 4 + i * 12, 'latin1');
    table.writeUInt32BE(at, 8 + i * 12);
    table.writeUInt32BE((body as Buffer).length, 12 + i * 12);
    at += pad4(body as Buffer).length;
  });
  return Buffer.concat([header, table, pad4(lut), pad4(desc), pad4(priv), Buffer.from(SECRETS.iccTrailing, 'latin1')]);
}

/** What an output keeps of leakyIccProfile(size, space): its colour tags and our own desc and cprt (colourOnlyIcc). */
export function fakeIccProfile(size = 70_000, space = 'RGB '): Buffer {
  return colourOnlyIcc(leakyIccProfile(size, space))!;
}

/** A big-endian TIFF IFD with SHORT/ASCII/LONG entries, values past 4 bytes placed after the IFD at `base`. */
function ifd(entries: { tag: number; type: 2 | 3 | 4 | 7; value: number | string | Buffer }[], base: number, next = 0): Buffer {
  const head = Buffer.alloc(2 + 12 * entries.length + 4);
  const extra: Buffer[] = [];
  let extraAt = base + head.length;
  head.writeUInt16BE(entries.length, 0);
  entries.forEach((e, k) => {
    const at = 2 + 12 * k;
    head.writeUInt16BE(e.tag, at);
    head.writeUInt16BE(e.type, at + 2);
    if (typeof e.value === 'number') {
      head.writeUInt32BE(1, at + 4);
      if (e.type === 3) head.writeUInt16BE(e.value, at + 8);
      else head.writeUInt32BE(e.value, at + 8);
      return;
    }
    const bytes = typeof e.value === 'string' ? Buffer.from(`${e.value}\0`, 'latin1') : e.value;
    head.writeUInt32BE(bytes.length, at + 4);
    head.writeUInt32BE(extraAt, at + 8);
    extra.push(bytes);
    extraAt += bytes.length;
  });
  head.writeUInt32BE(next, head.length - 4);
  return Buffer.concat([head, ...extra]);
}

/**
 * EXIF: IFD0 (orientation, make, serial, pointers to an Exif IFD with a maker note and to a GPS IFD),
 * then IFD1 pointing at a thumbnail JPEG. Offsets are from the TIFF header.
 */
export function leakyExif(orientation: number): Buffer {
  const thumbnail = Buffer.concat([Buffer.from([0xff, 0xd8]), segment(0xfe, Buffer.from(SECRETS.thumbnail)).bytes, Buffer.from([0xff, 0xd9])]);
  // Laid out in order: header (8), IFD0, Exif IFD, GPS IFD, IFD1, thumbnail. Sizes first, then offsets.
  const sizeOf = (b: Buffer) => b.length;
  const draftIfd0 = (exifAt: number, gpsAt: number, ifd1At: number) =>
    ifd(
      [
        { tag: 0x010f, type: 2, value: 'ExampleCam' },
        { tag: 0x0112, type: 3, value: orientation },
        { tag: 0x8769, type: 4, value: exifAt },
        { tag: 0x8825, type: 4, value: gpsAt },
        { tag: 0xa431, type: 2, value: SECRETS.serial },
      ],
      8,
      ifd1At,
    );
  const draftExif = (at: number) => ifd([{ tag: 0x927c, type: 7, value: Buffer.from(SECRETS.makerNote) }], at);
  const draftGps = (at: number) => ifd([{ tag: 0x0002, type: 2, value: SECRETS.gps }], at);
  const draftIfd1 = (at: number, thumbAt: number) =>
    ifd(
      [
        { tag: 0x0201, type: 4, value: thumbAt },
        { tag: 0x0202, type: 4, value: thumbnail.length },
      ],
      at,
    );
  const ifd0Size = sizeOf(draftIfd0(0, 0, 0));
  const exifAt = 8 + ifd0Size;
  const gpsAt = exifAt + sizeOf(draftExif(exifAt));
  const ifd1At = gpsAt + sizeOf(draftGps(gpsAt));
  const thumbAt = ifd1At + sizeOf(draftIfd1(ifd1At, 0));
  const header = Buffer.from([0x4d, 0x4d, 0, 42, 0, 0, 0, 8]);
  const tiff = Buffer.concat([header, draftIfd0(exifAt, gpsAt, ifd1At), draftExif(exifAt), draftGps(gpsAt), draftIfd1(ifd1At, thumbAt), thumbnail]);
  return Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
}

function xmp(): Buffer {
  const packet = `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#">
<mwg-rs:Regions><mwg-rs:RegionList><rdf:Bag><rdf:li><mwg-rs:Name>${SECRETS.xmpName}</mwg-rs:Name><mwg-rs:Type>Face</mwg-rs:Type>
<mwg-rs:Area stArea:x="0.5" stArea:y="0.4" stArea:w="0.2" stArea:h="0.3" stArea:unit="normalized"/></rdf:li></rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`;
  return Buffer.from(`http://ns.adobe.com/xap/1.0/\0${packet}`, 'latin1');
}

function iptc(): Buffer {
  // Photoshop image resource 0x0404 (IPTC-NAA) holding dataset 2:80 (By-line).
  const dataset = Buffer.concat([Buffer.from([0x1c, 2, 80, 0, SECRETS.iptc.length]), Buffer.from(SECRETS.iptc, 'latin1')]);
  const size = Buffer.alloc(4);
  size.writeUInt32BE(dataset.length);
  const resource = Buffer.concat([Buffer.from('8BIM', 'latin1'), Buffer.from([0x04, 0x04, 0, 0]), size, dataset, Buffer.alloc(dataset.length & 1)]);
  return Buffer.concat([Buffer.from('Photoshop 3.0\0', 'latin1'), resource, Buffer.from('8BIM\x07\xd0\0\0', 'latin1'), Buffer.from(SECRETS.photoshop)]);
}

function mpf(): Buffer {
  return Buffer.concat([Buffer.from('MPF\0', 'latin1'), Buffer.from([0x4d, 0x4d, 0, 42, 0, 0, 0, 8]), Buffer.from(SECRETS.mpf)]);
}

/**
 * `base` (a real JPEG) with: EXIF (orientation, GPS, serial, maker note, IFD1 thumbnail), XMP face
 * regions naming a person, IPTC, MPF, a comment, the ICC profile in chunks (out of order, as the
 * format allows), a JFIF header with a thumbnail, and after EOI a second image and video bytes.
 */
export function leakyJpeg(base: Buffer, options: { orientation?: number; icc?: Buffer } = {}): Buffer {
  const { segments } = parseJpeg(base);
  const codec = segments.filter((s) => !(s.marker >= 0xe0 && s.marker <= 0xef) && s.marker !== 0xfe);
  const jfifWithThumbnail = segment(0xe0, Buffer.concat([Buffer.from('JFIF\0\x01\x01\x00\x00\x01\x00\x01', 'latin1'), Buffer.from([2, 1]), Buffer.from('THUMB!', 'latin1')]));
  const icc = iccSegments(options.icc ?? leakyIccProfile()).reverse();
  const dressed: JpegSegment[] = [
    jfifWithThumbnail,
    segment(0xe1, leakyExif(options.orientation ?? 1)),
    segment(0xe1, xmp()),
    ...icc,
    segment(0xe2, mpf()),
    segment(0xed, iptc()),
    segment(0xeb, Buffer.from('JP\0\0JUMBF-OTHER-APP')),
    segment(0xfe, Buffer.from(SECRETS.comment)),
    ...codec,
  ];
  const second = Buffer.concat([Buffer.from([0xff, 0xd8]), segment(0xfe, Buffer.from(SECRETS.trailingImage)).bytes, Buffer.from([0xff, 0xd9])]);
  const video = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypmp42', 'latin1'), Buffer.from(SECRETS.video)]);
  return Buffer.concat([writeJpeg(dressed), second, video]);
}
