/**
 * An ICC profile cut down to what renders colour, so that the one piece of metadata an output
 * keeps carries nothing else. A profile is a 128-byte header, a tag table and tag data; a camera or
 * an editor may put anything in it: text in `desc`, `cprt`, `dmnd` or `dmdd` (a calibrated monitor's
 * profile can name its owner), private tags, v4.3 `meta` dictionaries, bytes past its declared size.
 * The profile is written anew: the header with its colour facts alone (assemble: the size set,
 * the MD5 profile ID zeroed as the spec allows once the bytes change, the rest that is not colour
 * cleared), the tags of COLOUR_TAGS with their data as they were (cut to what their type holds),
 * and the two tags the spec requires, `desc` and `cprt`, with a fixed text of ours. Pure; written here because the npm registry's ICC packages read a profile's header and
 * text but write none, and the job is a walk over one table.
 */

/**
 * Tags that say how colour is rendered (ICC.1:2022, section 9.2): matrix/TRC (`rXYZ`..`bTRC`, `kTRC`
 * for grey), LUT transforms (`A2B*`, `B2A*`, float `D2B*`/`B2D*`), white and black point, chromatic
 * adaptation, gamut, preview, the colorant table and its order, and coding-independent code points
 * (`cicp`: HDR photos). Every other tag is dropped.
 */
export const COLOUR_TAGS: ReadonlySet<string> = new Set([
  'rXYZ', 'gXYZ', 'bXYZ', 'rTRC', 'gTRC', 'bTRC', 'kTRC',
  'A2B0', 'A2B1', 'A2B2', 'A2B3', 'B2A0', 'B2A1', 'B2A2', 'B2A3',
  'D2B0', 'D2B1', 'D2B2', 'D2B3', 'B2D0', 'B2D1', 'B2D2', 'B2D3',
  'wtpt', 'bkpt', 'chad', 'gamt', 'pre0', 'pre1', 'pre2', 'clrt', 'clro', 'cicp', 'lumi',
]);

/** The text of the `desc` and `cprt` tags an output's profile carries. */
export const ICC_TEXT = { desc: 'colour profile of the source photo', cprt: 'no copyright information' } as const;

const HEADER = 128;

/**
 * `icc` with only its colour tags (COLOUR_TAGS) and our own `desc` and `cprt`, or undefined when it is
 * not a profile this can read: shorter than its header, without the `acsp` signature, a declared
 * size past its bytes, a tag table past its size, a tag's data outside the profile, no colour tag,
 * or a colour tag whose data overlaps a dropped tag's.
 */
export function colourOnlyIcc(icc: Buffer): Buffer | undefined {
  if (icc.length < HEADER + 4 || icc.toString('latin1', 36, 40) !== 'acsp') return undefined;
  const declared = icc.readUInt32BE(0);
  if (declared < HEADER + 4 || declared > icc.length) return undefined;
  const profile = icc.subarray(0, declared);
  const count = profile.readUInt32BE(HEADER);
  if (HEADER + 4 + count * 12 > declared) return undefined;
  const kept: { signature: string; data: Buffer; shared: string; offset: number; size: number }[] = [];
  const dropped: { offset: number; size: number }[] = [];
  for (let i = 0; i < count; i++) {
    const at = HEADER + 4 + i * 12;
    const signature = profile.toString('latin1', at, at + 4);
    const offset = profile.readUInt32BE(at + 4);
    const size = profile.readUInt32BE(at + 8);
    if (offset < HEADER + 4 || offset + size > declared || size < 8) return undefined;
    if (COLOUR_TAGS.has(signature) && !kept.some((t) => t.signature === signature)) kept.push({ signature, data: ownLength(signature, profile.subarray(offset, offset + size)), shared: `${offset}:${size}`, offset, size });
    else dropped.push({ offset, size });
  }
  if (kept.length === 0) return undefined;
  const major = profile[8];
  // iccMAX (version 5) puts the spectral PCS in bytes the earlier versions reserve: not cut down here.
  if (major >= 5) return undefined;
  // A kept tag whose bytes reach into a dropped tag's would carry that tag's text out (tags may
  // share data only whole): such a profile is not one this can cut down.
  const overlaps = (a: { offset: number; size: number }, b: { offset: number; size: number }) =>
    a.offset < b.offset + b.size && b.offset < a.offset + a.size && !(a.offset === b.offset && a.size === b.size);
  if (kept.some((k) => dropped.some((d) => overlaps(k, d)))) return undefined;
  const tags = [
    ...kept,
    { signature: 'desc', data: major >= 4 ? mluc(ICC_TEXT.desc) : textDescription(ICC_TEXT.desc), shared: 'desc' },
    { signature: 'cprt', data: major >= 4 ? mluc(ICC_TEXT.cprt) : text(ICC_TEXT.cprt), shared: 'cprt' },
  ];
  return assemble(profile.subarray(0, HEADER), tags);
}

/** The tags that hold one XYZ number (ICC.1:2022, 9.2): 20 bytes as an XYZType. */
const ONE_XYZ = new Set(['rXYZ', 'gXYZ', 'bXYZ', 'wtpt', 'bkpt', 'lumi']);
/** parametricCurveType's parameter count by function type (ICC.1:2022, 10.18). */
const PARA_PARAMETERS = [1, 3, 4, 5, 7];

/**
 * A colour tag's data cut to what its type says it holds, where the type says it plainly (one XYZ
 * number, a curve's count of entries, a parametric curve's parameters, a 3x3 matrix, cicp's four
 * bytes): a tag whose declared size reaches past that carries nothing else out. LUT types keep
 * their declared size.
 */
function ownLength(signature: string, data: Buffer): Buffer {
  const type = data.toString('latin1', 0, 4);
  let length: number | undefined;
  if (type === 'XYZ ' && ONE_XYZ.has(signature)) length = 20;
  else if (type === 'curv' && data.length >= 12) length = 12 + 2 * data.readUInt32BE(8);
  else if (type === 'para' && data.length >= 10) length = 12 + 4 * (PARA_PARAMETERS[data.readUInt16BE(8)] ?? 0);
  else if (type === 'sf32' && signature === 'chad') length = 44;
  else if (type === 'cicp') length = 12;
  return length !== undefined && length < data.length ? data.subarray(0, length) : data;
}

/**
 * A header and tags as one profile: the tag table, then each tag's data on a 4-byte boundary (as
 * the spec asks). Tags that shared their data in the source (`shared`: its offset and size; the
 * three TRCs of most RGB profiles, a LUT for several intents) share it again.
 */
function assemble(header: Buffer, tags: readonly { signature: string; data: Buffer; shared: string }[]): Buffer {
  const table = Buffer.alloc(4 + tags.length * 12);
  table.writeUInt32BE(tags.length, 0);
  const parts: Buffer[] = [];
  const written = new Map<string, number>();
  let offset = HEADER + table.length;
  tags.forEach((tag, i) => {
    table.write(tag.signature, 4 + i * 12, 'latin1');
    table.writeUInt32BE(written.get(tag.shared) ?? offset, 8 + i * 12);
    table.writeUInt32BE(tag.data.length, 12 + i * 12);
    if (written.has(tag.shared)) return;
    written.set(tag.shared, offset);
    const padded = Buffer.alloc(Math.ceil(tag.data.length / 4) * 4);
    tag.data.copy(padded);
    parts.push(padded);
    offset += padded.length;
  });
  const out = Buffer.concat([Buffer.from(header), table, ...parts]);
  out.writeUInt32BE(out.length, 0);
  // What is kept of the header: version, class, colour space and PCS (8-23), the signature (36-39),
  // the flags' and the device attributes' ICC bits, the rendering intent, the illuminant (68-79).
  // Zero: the preferred CMM (4-7), the creation time (24-35), the platform (40-43), the flags' and
  // attributes' vendor bits, the maker and model (48-55), the intent's high bytes, the creator
  // (80-83), the profile ID (84-99, an MD5 of the old bytes) and the reserved bytes (100-127).
  out.fill(0, 4, 8);
  out.fill(0, 24, 36);
  out.fill(0, 40, 44);
  out.writeUInt32BE(out.readUInt32BE(44) & 0x3, 44);
  out.fill(0, 48, 63);
  out[63] &= 0x0f;
  out.fill(0, 64, 66);
  out.fill(0, 80, HEADER);
  return out;
}

/** v2 `textDescriptionType`: the ASCII text with its NUL, and empty Unicode and ScriptCode parts. */
function textDescription(value: string): Buffer {
  const ascii = Buffer.from(`${value}\0`, 'latin1');
  const out = Buffer.alloc(12 + ascii.length + 8 + 3 + 67);
  out.write('desc', 0, 'latin1');
  out.writeUInt32BE(ascii.length, 8);
  ascii.copy(out, 12);
  return out;
}

/** v2 `textType`: ASCII with its NUL. */
function text(value: string): Buffer {
  return Buffer.concat([Buffer.from('text\0\0\0\0', 'latin1'), Buffer.from(`${value}\0`, 'latin1')]);
}

/** v4 `multiLocalizedUnicodeType` with one record, en-US, UTF-16BE. */
function mluc(value: string): Buffer {
  const utf16 = Buffer.from(value, 'utf16le').swap16();
  const out = Buffer.alloc(28 + utf16.length);
  out.write('mluc', 0, 'latin1');
  out.writeUInt32BE(1, 8); // records
  out.writeUInt32BE(12, 12); // record size
  out.write('enUS', 16, 'latin1');
  out.writeUInt32BE(utf16.length, 20);
  out.writeUInt32BE(28, 24);
  utf16.copy(out, 28);
  return out;
}
