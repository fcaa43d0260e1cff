/**
 * The routes' logic over a fake bucket that keeps objects by key like S3: every key comes from the
 * caller's subject, ids from elsewhere never reach another folder, listings hold only the caller's uploads.
 */
import { createUpload, getUpload, listUploads, type ApiDeps, type UploadBucket, type UploadPolicy } from '../../../functions/web-api/api';
import { UPLOAD_ID } from '../../../functions/web-api/ids';
import { uploadRequest } from '../../../functions/detect-faces/uploads/request';

const ALICE = '3f1c2a9e-1b2c-4d5e-8f90-123456789abc';
const BOB = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';
const NOW = new Date('2026-12-02T16:00:00.000Z');

class FakeBucket implements UploadBucket {
  readonly objects = new Map<string, { body: string; lastModified: Date }>();
  readonly policies: UploadPolicy[] = [];
  readonly reads: string[] = [];
  readonly signed: { key: string; attachmentName?: string; expiresSeconds: number }[] = [];
  readonly listings: { prefix: string; startAfter?: string; limit: number }[] = [];

  async cspSources() {
    return 'https://bucket.s3.amazonaws.com';
  }
  put(key: string, body: unknown, lastModified = NOW) {
    this.objects.set(key, { body: JSON.stringify(body), lastModified });
  }
  async presignPost(policy: UploadPolicy) {
    this.policies.push(policy);
    return { url: 'https://bucket.s3.amazonaws.com/', fields: { key: policy.key } };
  }
  async readJson(key: string) {
    this.reads.push(key);
    const o = this.objects.get(key);
    return o ? JSON.parse(o.body) : undefined;
  }
  async presignGet(key: string, options: { expiresSeconds: number; attachmentName?: string }) {
    this.signed.push({ key, ...options });
    return `https://signed/${key}${options.attachmentName ? `?as=${options.attachmentName}` : ''}`;
  }
  async list(prefix: string, options: { startAfter?: string; limit: number }) {
    this.listings.push({ prefix, ...options });
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix) && (!options.startAfter || k > options.startAfter)).sort();
    return {
      objects: keys.slice(0, options.limit).map((key) => ({ key, lastModified: this.objects.get(key)!.lastModified, size: this.objects.get(key)!.body.length })),
      truncated: keys.length > options.limit,
    };
  }
}

let bucket: FakeBucket;
let deps: ApiDeps;
beforeEach(() => {
  bucket = new FakeBucket();
  deps = {
    bucket,
    now: () => NOW,
    settings: { inputPrefix: 'inputs/', resultPrefix: 'results/', outputPrefix: 'outputs/', maxImageBytes: 10 * 1024 * 1024, downloadUrlSeconds: 300, pageSize: 3 },
  };
});

describe('POST /uploads', () => {
  test('a presigned POST for inputs/<sub>/<uuid>.<ext>: content type, size limit, 5 minutes, options as metadata', async () => {
    const ticket = await createUpload(ALICE, { contentType: 'image/png', size: 1234, options: { mark: 'fill', minFaceSize: 24 } }, deps);
    expect(ticket.id).toMatch(UPLOAD_ID);
    expect(ticket.id).toMatch(/\.png$/);
    expect(bucket.policies).toEqual([{ key: `inputs/${ALICE}/${ticket.id}`, contentType: 'image/png', maxBytes: 10 * 1024 * 1024, metadata: { mark: 'fill', 'min-face-size': '24' }, expiresSeconds: 300 }]);
    expect(ticket).toMatchObject({ url: 'https://bucket.s3.amazonaws.com/', expiresAt: '2026-12-02T16:05:00.000Z', maxBytes: 10 * 1024 * 1024 });
    // The id's UUID carries the time it was made, counted down from 2^48 - 1: uploads list newest first.
    expect(parseInt(ticket.id.replace(/-/g, '').slice(0, 12), 16)).toBe(2 ** 48 - 1 - NOW.getTime());
  });

  test('the user part is the caller\'s subject: a body naming a key or user is refused', async () => {
    await expect(createUpload(ALICE, { contentType: 'image/jpeg', key: `inputs/${BOB}/x.jpg`, user: BOB, sub: BOB, options: {} }, deps)).rejects.toMatchObject({ code: 'InvalidInput', message: expect.stringMatching(/^unknown field key, user, sub; /) });
    expect(bucket.policies).toEqual([]);
    await createUpload(ALICE, { contentType: 'IMAGE/JPEG' }, deps);
    expect(bucket.policies[0].key).toMatch(new RegExp(`^inputs/${ALICE}/[^/]+\\.jpg$`));
  });

  test('numbers travel as the metadata parser reads them back, small ones too', async () => {
    await createUpload(ALICE, { contentType: 'image/jpeg', options: { mark: 'fill', padding: 1e-7, minScore: 0.5 } }, deps);
    expect(uploadRequest(bucket.policies[0].metadata, {})).toEqual({ mark: 'fill', padding: 1e-7, minScore: 0.5 });
  });

  test.each([
    [{ contentType: 'image/gif' }, 415, 'UnsupportedImage', /contentType must be one of image\/jpeg, image\/png, image\/webp, got "image\/gif"/],
    [{}, 415, 'UnsupportedImage', /got null/],
    [{ contentType: 'image/jpeg', size: 10 * 1024 * 1024 + 1 }, 413, 'TooLarge', /the file is 10485761 bytes; uploads are at most 10485760 bytes/],
    [{ contentType: 'image/jpeg', size: '12' }, 400, 'InvalidInput', /size must be the file's size in bytes/],
    [{ contentType: 'image/jpeg', size: 0 }, 400, 'InvalidInput', /size must be/],
    [{ contentType: 'image/jpeg', options: { mark: 'sparkle' } }, 400, 'InvalidInput', /^options\.mark must be one of/],
    // A redaction option outside options: refused, not ignored (ignored, the photo came back unredacted).
    [{ contentType: 'image/jpeg', mark: 'fill' }, 400, 'InvalidInput', /^unknown field mark; the body has contentType, size, options \(options such as mark go in options\)$/],
    // Refused once uploaded: refused before anything is signed.
    [{ contentType: 'image/jpeg', options: { mark: 'box', shape: 'rect' } }, 400, 'InvalidInput', /^shape applies only to a redaction/],
    [[], 400, 'InvalidInput', /body must be a JSON object/],
    [null, 400, 'InvalidInput', /body must be a JSON object/],
  ])('%j -> %d %s, nothing signed', async (body, status, code, message) => {
    const failure = await createUpload(ALICE, body, deps).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code, message: expect.stringMatching(message) });
    if ('status' in (failure as object)) expect((failure as { status: number }).status).toBe(status);
    expect(bucket.policies).toEqual([]);
  });
});

describe('GET /uploads/{id}', () => {
  const ID = '01901234-5678-8abc-8def-0123456789ab.png';
  const record = { faces: 1, boxes: [{ x: 1, y: 2, width: 30, height: 40, score: 0.9 }], width: 100, height: 80, minFaceSize: 20, mark: 'fill', outputKey: `outputs/${ALICE}/${ID}.jpg` };

  test('404 while there is no result record', async () => {
    await expect(getUpload(ALICE, ID, deps)).rejects.toMatchObject({ status: 404, code: 'NotFound' });
    expect(bucket.reads).toEqual([`results/${ALICE}/${ID}.json`]);
  });

  test('the result with short-lived links to the caller\'s own output, inline and as an attachment', async () => {
    bucket.put(`results/${ALICE}/${ID}.json`, record);
    const status = await getUpload(ALICE, ID, deps);
    expect(status).toEqual({
      id: ID,
      status: 'done',
      faces: 1,
      boxes: record.boxes,
      width: 100,
      height: 80,
      minFaceSize: 20,
      mark: 'fill',
      outputUrl: `https://signed/outputs/${ALICE}/${ID}.jpg`,
      downloadUrl: `https://signed/outputs/${ALICE}/${ID}.jpg?as=01901234-5678-8abc-8def-0123456789ab-redacted.jpg`,
    });
    expect(bucket.signed.map((s) => s.expiresSeconds)).toEqual([300, 300]);
  });

  test('the output signed is the one the key rule gives, not what the record names', async () => {
    bucket.put(`results/${ALICE}/${ID}.json`, { ...record, outputKey: `outputs/${BOB}/secret.jpg` });
    await getUpload(ALICE, ID, deps);
    expect(bucket.signed.map((s) => s.key)).toEqual([`outputs/${ALICE}/${ID}.jpg`, `outputs/${ALICE}/${ID}.jpg`]);
  });

  test('a refused upload: its code and message', async () => {
    bucket.put(`results/${ALICE}/${ID}.json`, { errorType: 'UnsupportedImage', errorMessage: 'not a JPEG, PNG or WebP image' });
    await expect(getUpload(ALICE, ID, deps)).resolves.toEqual({ id: ID, status: 'failed', error: { code: 'UnsupportedImage', message: 'not a JPEG, PNG or WebP image' } });
    expect(bucket.signed).toEqual([]);
  });

  test('another user\'s id is looked up in the caller\'s own folder only: 404, nothing of theirs read or signed', async () => {
    bucket.put(`results/${BOB}/${ID}.json`, record);
    await expect(getUpload(ALICE, ID, deps)).rejects.toMatchObject({ status: 404 });
    expect(bucket.reads).toEqual([`results/${ALICE}/${ID}.json`]);
    expect(bucket.signed).toEqual([]);
  });

  test.each([[`../${BOB}/${ID}`], [`..%2F${BOB}%2F${ID}`], [`${BOB}/${ID}`], ['..'], ['%2e%2e']])('path tricks (%j) are 400 before any read', async (id) => {
    bucket.put(`results/${BOB}/${ID}.json`, record);
    await expect(getUpload(ALICE, id, deps)).rejects.toMatchObject({ code: 'InvalidInput' });
    expect(bucket.reads).toEqual([]);
  });
});

describe('GET /uploads', () => {
  const ids = ['0190a000-0000-8000-8000-000000000001.jpg', '0190a000-0000-8000-8000-000000000002.png', '0190a000-0000-8000-8000-000000000003.jpg', '0190a000-0000-8000-8000-000000000004.webp'];
  beforeEach(() => {
    ids.forEach((id, i) => bucket.put(`inputs/${ALICE}/${id}`, 'x', new Date(NOW.getTime() + i * 1000)));
    bucket.put(`inputs/${BOB}/0190a000-0000-8000-8000-00000000000b.jpg`, 'x');
    // A neighbour whose subject starts with the caller's: the listing's prefix ends with "/".
    bucket.put(`inputs/${ALICE}x/0190a000-0000-8000-8000-00000000000c.jpg`, 'x');
  });

  test('only the caller\'s folder, in key order (newest first), paged', async () => {
    const first = await listUploads(ALICE, {}, deps);
    expect(bucket.listings[0]).toEqual({ prefix: `inputs/${ALICE}/`, startAfter: undefined, limit: 3 });
    expect(first.uploads.map((u) => u.id)).toEqual(ids.slice(0, 3));
    expect(first.uploads[1]).toEqual({ id: ids[1], uploadedAt: '2026-12-02T16:00:01.000Z', size: 3 });
    expect(first.next).toBe(ids[2]);
    const second = await listUploads(ALICE, { after: first.next }, deps);
    expect(bucket.listings[1]).toEqual({ prefix: `inputs/${ALICE}/`, startAfter: `inputs/${ALICE}/${ids[2]}`, limit: 3 });
    expect(second).toEqual({ uploads: [expect.objectContaining({ id: ids[3] })] });
    expect((await listUploads(BOB, {}, deps)).uploads.map((u) => u.id)).toEqual(['0190a000-0000-8000-8000-00000000000b.jpg']);
  });

  test('a smaller page on request; limits outside 1..pageSize are 400', async () => {
    expect((await listUploads(ALICE, { limit: '1' }, deps)).uploads).toHaveLength(1);
    await expect(listUploads(ALICE, { limit: '4' }, deps)).rejects.toMatchObject({ code: 'InvalidInput', message: expect.stringMatching(/^limit must be a whole number from 1 to 3/) });
    await expect(listUploads(ALICE, { limit: '0' }, deps)).rejects.toMatchObject({ code: 'InvalidInput' });
  });

  test('after= cannot leave the folder: a "/" is 400, and the listing\'s prefix stays the caller\'s', async () => {
    await expect(listUploads(ALICE, { after: `../${BOB}/` }, deps)).rejects.toMatchObject({ code: 'InvalidInput' });
    const page = await listUploads(ALICE, { after: '..' }, deps);
    expect(bucket.listings.at(-1)!.prefix).toBe(`inputs/${ALICE}/`);
    expect(page.uploads.every((u) => ids.includes(u.id))).toBe(true);
  });

  test('objects in the folder that this API did not make are not listed', async () => {
    bucket.put(`inputs/${ALICE}/holiday.jpg`, 'x');
    // A page large enough to reach it (it sorts after the UUIDs): S3 lists it, the API leaves it out.
    const all = await listUploads(ALICE, {}, { ...deps, settings: { ...deps.settings, pageSize: 10 } });
    expect(bucket.listings.at(-1)!.limit).toBe(10);
    expect(all.uploads.map((u) => u.id)).toEqual(ids);
  });
});
