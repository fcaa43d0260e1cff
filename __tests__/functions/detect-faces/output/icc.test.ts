/** The ICC profile an output keeps: its colour tags alone, written anew; nothing else a profile can carry. */
import { COLOUR_TAGS, colourOnlyIcc, ICC_TEXT } from '../../../../functions/detect-faces/output/icc';
import { leakyIccProfile, SECRETS } from '../../../helpers/leaky-jpeg';

/** The tag table of a profile: signature, offset, size. */
function tags(icc: Buffer): { signature: string; offset: number; size: number }[] {
  return Array.from({ length: icc.readUInt32BE(128) }, (_, i) => ({ signature: icc.toString('latin1', 132 + i * 12, 136 + i * 12), offset: icc.readUInt32BE(136 + i * 12), size: icc.readUInt32BE(140 + i * 12) }));
}
const data = (icc: Buffer, signature: string) => {
  const tag = tags(icc).find((t) => t.signature === signature)!;
  return icc.subarray(tag.offset, tag.offset + tag.size);
};

/** A v2 matrix/TRC profile whose three TRCs share one curve (as most sRGB profiles do), with a `dmdd` naming a device. */
function matrixProfile(): Buffer {
  const xyz = (x: number) => Buffer.concat([Buffer.from('XYZ \0\0\0\0', 'latin1'), Buffer.from([0, x, 0, 0, 0, x, 0, 0, 0, x, 0, 0])]);
  const curve = Buffer.concat([Buffer.from('curv\0\0\0\0', 'latin1'), Buffer.from([0, 0, 0, 1, 2, 0x33])]); // gamma 2.2, 14 bytes
  const dmdd = Buffer.concat([Buffer.from('desc\0\0\0\0', 'latin1'), Buffer.from([0, 0, 0, 12]), Buffer.from('SECRET-MONI\0', 'latin1')]);
  const entries: [string, Buffer][] = [['rXYZ', xyz(1)], ['gXYZ', xyz(2)], ['bXYZ', xyz(3)], ['wtpt', xyz(4)], ['rTRC', curve], ['dmdd', dmdd]];
  const table = Buffer.alloc(4 + (entries.length + 2) * 12);
  table.writeUInt32BE(entries.length + 2, 0);
  const blobs: Buffer[] = [];
  let at = 128 + table.length;
  const offsets = new Map<string, number>();
  entries.forEach(([signature, body], i) => {
    table.write(signature, 4 + i * 12, 'latin1');
    table.writeUInt32BE(at, 8 + i * 12);
    table.writeUInt32BE(body.length, 12 + i * 12);
    offsets.set(signature, at);
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    blobs.push(padded);
    at += padded.length;
  });
  // gTRC and bTRC point at rTRC's curve.
  ['gTRC', 'bTRC'].forEach((signature, k) => {
    const i = entries.length + k;
    table.write(signature, 4 + i * 12, 'latin1');
    table.writeUInt32BE(offsets.get('rTRC')!, 8 + i * 12);
    table.writeUInt32BE(14, 12 + i * 12);
  });
  const header = Buffer.alloc(128);
  header.writeUInt32BE(at, 0);
  header.writeUInt32BE(0x02100000, 8);
  header.write('mntrRGB XYZ ', 12, 'latin1');
  header.write('acsp', 36, 'latin1');
  return Buffer.concat([header, table, ...blobs]);
}

test('a profile keeps its colour tags byte for byte, and loses its text, private tags, maker and model, and bytes past its size', () => {
  const leaky = leakyIccProfile();
  for (const secret of [SECRETS.iccOwner, SECRETS.iccPrivate, SECRETS.iccTrailing, 'MAKR', 'MODL']) expect(leaky.includes(secret)).toBe(true);
  const kept = colourOnlyIcc(leaky)!;
  for (const secret of [SECRETS.iccOwner, SECRETS.iccPrivate, SECRETS.iccTrailing, 'MAKR', 'MODL']) expect([secret, kept.includes(secret)]).toEqual([secret, false]);
  expect(kept.readUInt32BE(0)).toBe(kept.length);
  expect(tags(kept).map((t) => t.signature)).toEqual(['A2B0', 'desc', 'cprt']);
  expect(data(kept, 'A2B0').equals(data(leaky, 'A2B0'))).toBe(true);
  // The header's colour facts stay: version, class, space, PCS, the signature, the rendering intent and illuminant.
  expect(kept.subarray(8, 24).equals(leaky.subarray(8, 24))).toBe(true);
  expect(kept.subarray(36, 48).equals(leaky.subarray(36, 48))).toBe(true);
  expect(kept.subarray(56, 80).equals(leaky.subarray(56, 80))).toBe(true);
  // v4: desc and cprt as mluc, our text in UTF-16.
  expect(data(kept, 'desc').toString('latin1', 0, 4)).toBe('mluc');
  expect(Buffer.from(data(kept, 'desc').subarray(28)).swap16().toString('utf16le')).toBe(ICC_TEXT.desc);
  // Every tag's data on a 4-byte boundary, inside the profile.
  for (const t of tags(kept)) expect([t.signature, t.offset % 4, t.offset + t.size <= kept.length]).toEqual([t.signature, 0, true]);
  // Written anew from what it keeps: the same again.
  expect(colourOnlyIcc(kept)?.equals(kept)).toBe(true);
});

test('a v2 matrix profile: its matrix, curves and white point kept (the shared curve shared again), desc and cprt as v2 types, a device description dropped', () => {
  const profile = matrixProfile();
  const kept = colourOnlyIcc(profile)!;
  expect(tags(kept).map((t) => t.signature)).toEqual(['rXYZ', 'gXYZ', 'bXYZ', 'wtpt', 'rTRC', 'gTRC', 'bTRC', 'desc', 'cprt']);
  for (const signature of ['rXYZ', 'gXYZ', 'bXYZ', 'wtpt', 'rTRC', 'gTRC', 'bTRC']) expect([signature, data(kept, signature).equals(data(profile, signature))]).toEqual([signature, true]);
  expect(kept.includes('SECRET-MONI')).toBe(false);
  const trc = tags(kept).filter((t) => t.signature.endsWith('TRC'));
  expect(new Set(trc.map((t) => t.offset)).size).toBe(1);
  expect(data(kept, 'desc').toString('latin1', 0, 4)).toBe('desc');
  expect(data(kept, 'desc').toString('latin1', 12, 12 + ICC_TEXT.desc.length)).toBe(ICC_TEXT.desc);
  expect(data(kept, 'cprt').toString('latin1')).toBe(`text\0\0\0\0${ICC_TEXT.cprt}\0`);
});

test('what is not a readable profile is left out: no signature, a size past its bytes, a tag outside it, a table past it, no colour tag', () => {
  const good = matrixProfile();
  const edit = (change: (b: Buffer) => void) => {
    const b = Buffer.from(good);
    change(b);
    return b;
  };
  expect(colourOnlyIcc(good)).toBeDefined();
  expect(colourOnlyIcc(edit((b) => b.write('xxxx', 36, 'latin1')))).toBeUndefined();
  expect(colourOnlyIcc(edit((b) => b.writeUInt32BE(b.length + 1, 0)))).toBeUndefined();
  expect(colourOnlyIcc(edit((b) => b.writeUInt32BE(b.length, 136 + 12)))).toBeUndefined();
  expect(colourOnlyIcc(edit((b) => b.writeUInt32BE(100_000, 128)))).toBeUndefined();
  expect(colourOnlyIcc(good.subarray(0, 100))).toBeUndefined();
  const noColour = edit((b) => {
    for (let i = 0; i < b.readUInt32BE(128); i++) b.write('zzzz', 132 + i * 12, 'latin1');
  });
  expect(colourOnlyIcc(noColour)).toBeUndefined();
});

test('the header keeps its colour facts and ICC bits only: no creation time, platform, vendor bits or reserved bytes, whatever the source put there', () => {
  const profile = matrixProfile();
  profile.write('2026-12-05', 24, 'latin1');
  profile.write('JaneDoe!', 40, 'latin1');
  profile.write('Room 4B.', 56, 'latin1');
  profile.write('Qq', 64, 'latin1');
  profile.write('OWNER=Jane Doe, room 4', 100, 'latin1');
  const kept = colourOnlyIcc(profile)!;
  for (const planted of ['2026-12', 'Jane', 'Doe', 'Room', 'Qq', 'OWNER']) expect([planted, kept.includes(planted)]).toEqual([planted, false]);
  expect(kept.subarray(24, 36).equals(Buffer.alloc(12))).toBe(true);
  expect(kept.subarray(40, 44).equals(Buffer.alloc(4))).toBe(true);
  // Flags: bits 0-1 (embedded, independent) of "eDo!"; attributes: bits 0-3 of "." (0x2e).
  expect(kept.readUInt32BE(44)).toBe(profile.readUInt32BE(44) & 3);
  expect([...kept.subarray(56, 64)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0x2e & 0x0f]);
  expect(kept.readUInt32BE(64)).toBe(profile.readUInt16BE(66));
  expect(kept.subarray(100, 128).equals(Buffer.alloc(28))).toBe(true);
  // What renders colour is there as it was: version, class, space, PCS, signature, illuminant.
  expect(kept.subarray(8, 24).equals(profile.subarray(8, 24))).toBe(true);
  expect(kept.subarray(36, 40).equals(profile.subarray(36, 40))).toBe(true);
  expect(kept.subarray(68, 80).equals(profile.subarray(68, 80))).toBe(true);
});

test('a colour tag stretched over bytes no tag claims is cut to what its type holds (one XYZ number, a curve\'s entries)', () => {
  const profile = matrixProfile();
  const entry = (signature: string) => tags(profile).findIndex((t) => t.signature === signature);
  const secret = Buffer.from('Owner: Jane Doe <jane@example.com>', 'latin1');
  // wtpt and rTRC copied to the end, each followed by the text, and pointed at there with their sizes over it.
  const wtpt = data(profile, 'wtpt');
  const trc = data(profile, 'rTRC');
  const stretched = Buffer.concat([profile, wtpt, secret, trc, secret]);
  stretched.writeUInt32BE(profile.length, 136 + entry('wtpt') * 12);
  stretched.writeUInt32BE(wtpt.length + secret.length, 140 + entry('wtpt') * 12);
  const trcAt = profile.length + wtpt.length + secret.length;
  for (const signature of ['rTRC', 'gTRC', 'bTRC']) {
    stretched.writeUInt32BE(trcAt, 136 + entry(signature) * 12);
    stretched.writeUInt32BE(trc.length + secret.length, 140 + entry(signature) * 12);
  }
  stretched.writeUInt32BE(stretched.length, 0);
  const kept = colourOnlyIcc(stretched)!;
  expect(kept.includes('Jane')).toBe(false);
  expect(data(kept, 'wtpt').equals(wtpt)).toBe(true);
  expect(data(kept, 'rTRC').equals(trc)).toBe(true);
});

test('an iccMAX (version 5) profile is left out: its header\'s later bytes are not reserved there', () => {
  const profile = matrixProfile();
  profile.writeUInt32BE(0x05000000, 8);
  expect(colourOnlyIcc(profile)).toBeUndefined();
});

test('a colour tag whose data reaches into a dropped tag\'s (which would carry its text out) leaves the profile out; data shared whole is fine', () => {
  const profile = matrixProfile();
  const entry = (signature: string) => tags(profile).findIndex((t) => t.signature === signature);
  const dmdd = tags(profile)[entry('dmdd')];
  expect(profile.includes('SECRET-MONI')).toBe(true);
  // wtpt's size stretched over the next tags, up to the end of dmdd's text.
  const wtpt = tags(profile)[entry('wtpt')];
  const stretched = Buffer.from(profile);
  stretched.writeUInt32BE(dmdd.offset + dmdd.size - wtpt.offset, 140 + entry('wtpt') * 12);
  expect(colourOnlyIcc(stretched)).toBeUndefined();
  // dmdd pointing at the white point's own bytes: those are kept anyway.
  const sharing = Buffer.from(profile);
  sharing.writeUInt32BE(wtpt.offset, 136 + entry('dmdd') * 12);
  sharing.writeUInt32BE(wtpt.size, 140 + entry('dmdd') * 12);
  expect(colourOnlyIcc(sharing)).toBeDefined();
});

test('the kept tags are the ones that render colour', () => {
  for (const signature of ['rXYZ', 'kTRC', 'A2B0', 'B2A0', 'wtpt', 'chad', 'cicp']) expect(COLOUR_TAGS.has(signature)).toBe(true);
  for (const signature of ['desc', 'cprt', 'dmnd', 'dmdd', 'meta', 'vued', 'view', 'tech', 'targ', 'ciis']) expect(COLOUR_TAGS.has(signature)).toBe(false);
});
