/** Upload ids: time-ordered UUIDs, accepted only in the shape this API makes; keys only from the caller's subject. */
import { inputKeyOf, newUploadId, UnusableSubject, UPLOAD_ID, userFolder, newestFirstUuid, LAST_MS } from '../../../functions/web-api/ids';

const SUB = '3f1c2a9e-1b2c-4d5e-8f90-123456789abc';

test('newestFirstUuid: version 8, RFC variant, 2^48 - 1 less the millisecond time in its first 48 bits, text order = newest first', () => {
  const id = newestFirstUuid(LAST_MS - 0x0190_1234_5678, Buffer.alloc(10, 0xff));
  expect(id).toBe('01901234-5678-8fff-bfff-ffffffffffff');
  const times = [1_700_000_000_000, 1_700_000_000_001, 1_800_000_000_000];
  const ids = times.map((t) => newestFirstUuid(t));
  expect([...ids].sort()).toEqual([...ids].reverse());
  expect(parseInt(ids[0].replace(/-/g, '').slice(0, 12), 16)).toBe(LAST_MS - times[0]);
  expect(new Set(Array.from({ length: 1000 }, () => newestFirstUuid(5))).size).toBe(1000);
});

test('newUploadId: the extension of the content type, and a shape UPLOAD_ID accepts', () => {
  expect(newUploadId('image/jpeg')).toMatch(UPLOAD_ID);
  expect(newUploadId('image/png')).toMatch(/\.png$/);
  expect(newUploadId('image/webp')).toMatch(/\.webp$/);
});

test('inputKeyOf: the caller\'s folder and the id, nothing else', () => {
  const id = newUploadId('image/jpeg');
  expect(inputKeyOf('inputs/', SUB, id)).toBe(`inputs/${SUB}/${id}`);
});

const ID = '01901234-5678-8abc-8def-0123456789ab.jpg';
test.each([
  ['parent folder', `../other/${ID}`],
  ['dot-dot alone', '..'],
  ['a slash inside', `x/${ID}`],
  ['an encoded slash', `other%2F${ID}`],
  ['an encoded dot-dot', `%2E%2E%2F${ID}`],
  ['another user\'s key', `inputs/${SUB}/${ID}`],
  ['upper case', ID.toUpperCase()],
  ['a version-4 UUID', '01901234-5678-4abc-8def-0123456789ab.jpg'],
  ['another extension', ID.replace('.jpg', '.gif')],
  ['a second extension', `${ID}.json`],
  ['a trailing newline', `${ID}\n`],
  ['empty', ''],
])('inputKeyOf refuses %s as InvalidInput', (_name, id) => {
  expect(() => inputKeyOf('inputs/', SUB, id)).toThrow(expect.objectContaining({ code: 'InvalidInput' }));
});

test.each([[''], ['..'], ['a/b'], ['-x'], ['a'.repeat(129)], ['é']])('a subject that cannot be a folder name (%j) is refused, never escaped', (sub) => {
  expect(() => userFolder('inputs/', sub)).toThrow(UnusableSubject);
});

test('subjects of Cognito (UUIDs) and of other issuers (letters, digits, _ and -) make a folder', () => {
  expect(userFolder('inputs/', SUB)).toBe(`inputs/${SUB}/`);
  expect(userFolder('inputs/', 'local_alice-1')).toBe('inputs/local_alice-1/');
});
