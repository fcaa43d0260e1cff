/**
 * The marked image's store over a fake S3 client (no server): what PutObject carries (bucket, key,
 * bytes, content type, cache header, metadata), the URL it answers (public, path-style base, or
 * presigned), and failures as StorageFailed, with nothing stored when the URL cannot be made.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ServiceError } from '../../../../functions/common/errors';
import { createS3Store, outputUrl, publicS3Base, storeImage, type StoreOptions } from '../../../../functions/detect-faces/output/store';

const BUCKET = 'faces-out';
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);
const PUBLIC: StoreOptions = { bucket: BUCKET, access: 'public', presignExpiresSeconds: 900 };
const PRESIGNED: StoreOptions = { ...PUBLIC, access: 'presigned' };
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

/**
 * A real client (presigning reads its configuration and signs locally) whose `send` is replaced:
 * nothing leaves the process. Every client made here is destroyed after the tests.
 */
const clients: S3Client[] = [];
function fakeS3(answer: (command: { input: Record<string, unknown> }) => unknown = () => ({}), config: ConstructorParameters<typeof S3Client>[0] = {}) {
  const s3 = new S3Client({ region: 'eu-west-1', credentials: CREDENTIALS, ...config });
  clients.push(s3);
  const sent: { name: string; input: Record<string, unknown> }[] = [];
  s3.send = (async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    sent.push({ name: command.constructor.name, input: command.input });
    return answer(command);
  }) as unknown as S3Client['send'];
  return { s3, sent };
}
afterAll(() => {
  for (const s3 of clients) s3.destroy();
});

const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as ServiceError);

describe('storeImage', () => {
  test('one PutObject: bucket, key, the bytes as given, image/jpeg, an hour of caching, the metadata', async () => {
    const { s3, sent } = fakeS3();
    const url = await storeImage(s3, 'tmp/2026-a.jpg', JPEG, PUBLIC, { faces: '2', detector: 'yunet' });
    expect(sent).toHaveLength(1);
    expect(sent[0].name).toBe(PutObjectCommand.name);
    expect(sent[0].input).toEqual({
      Bucket: BUCKET,
      Key: 'tmp/2026-a.jpg',
      Body: JPEG,
      ContentType: 'image/jpeg',
      CacheControl: 'max-age=3600',
      Metadata: { faces: '2', detector: 'yunet' },
    });
    expect(url).toBe(`https://${BUCKET}.s3.eu-west-1.amazonaws.com/tmp/2026-a.jpg`);
  });

  test('no metadata given: an empty map is sent', async () => {
    const { s3, sent } = fakeS3();
    await storeImage(s3, 'tmp/b.jpg', JPEG, PUBLIC);
    expect(sent[0].input.Metadata).toEqual({});
  });

  test('a refused PutObject is StorageFailed, naming the S3 error and keeping it as the cause', async () => {
    const denied = Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    const { s3 } = fakeS3(() => {
      throw denied;
    });
    const e = await errorOf(storeImage(s3, 'tmp/c.jpg', JPEG, PUBLIC));
    expect(e).toBeInstanceOf(ServiceError);
    expect(e).toMatchObject({ code: 'StorageFailed', name: 'StorageFailed', message: expect.stringContaining('(AccessDenied)') });
    expect(e?.cause).toBe(denied);
  });

  test('signing fails: StorageFailed, and nothing is stored', async () => {
    const { s3, sent } = fakeS3(undefined, {
      credentials: async () => {
        throw new Error('no credentials here');
      },
    });
    const e = await errorOf(storeImage(s3, 'tmp/d.jpg', JPEG, PRESIGNED));
    expect(e).toMatchObject({ code: 'StorageFailed', message: 'signing the output URL failed' });
    expect(sent).toEqual([]);
  });

  test('createS3Store: the pipeline port puts through storeImage with the same options', async () => {
    const { s3, sent } = fakeS3();
    const store = createS3Store(s3, { ...PUBLIC, publicBaseUrl: 'http://127.0.0.1:4569/faces-out' });
    await expect(store.put('tmp/e.jpg', JPEG, { k: 'v' })).resolves.toBe('http://127.0.0.1:4569/faces-out/tmp/e.jpg');
    expect(sent.map((s) => [s.input.Bucket, s.input.Key, s.input.Metadata])).toEqual([[BUCKET, 'tmp/e.jpg', { k: 'v' }]]);
  });
});

describe('outputUrl', () => {
  test('public: virtual-hosted S3 in the client\'s region by default; each key segment encoded, the slashes kept', async () => {
    const { s3, sent } = fakeS3();
    expect(await outputUrl(s3, 'tmp/a b/ç?#%.jpg', PUBLIC)).toBe(`https://${BUCKET}.s3.eu-west-1.amazonaws.com/tmp/a%20b/%C3%A7%3F%23%25.jpg`);
    expect(sent).toEqual([]);
  });

  test('public, a bucket name with dots: path style on the regional host (a dotted host name would fail S3\'s TLS certificate)', async () => {
    const { s3 } = fakeS3(undefined, { region: 'us-east-2' });
    expect(await outputUrl(s3, 'tmp/x.jpg', { ...PUBLIC, bucket: 'faces.example.com' })).toBe('https://s3.us-east-2.amazonaws.com/faces.example.com/tmp/x.jpg');
  });

  test.each([
    ['faces', 'us-east-1', 'https://faces.s3.us-east-1.amazonaws.com'],
    ['my.faces', 'eu-central-1', 'https://s3.eu-central-1.amazonaws.com/my.faces'],
    ['faces', 'cn-north-1', 'https://faces.s3.cn-north-1.amazonaws.com.cn'],
  ])('publicS3Base(%s, %s) is %s', (bucket, region, base) => {
    expect(publicS3Base(bucket, region)).toBe(base);
  });

  test('public with a base URL: its trailing slashes dropped', async () => {
    const { s3 } = fakeS3();
    expect(await outputUrl(s3, 'tmp/x.jpg', { ...PUBLIC, publicBaseUrl: 'http://127.0.0.1:4569/faces-out//' })).toBe('http://127.0.0.1:4569/faces-out/tmp/x.jpg');
  });

  test('presigned: a GetObject URL for the bucket and key, expiring as configured, signed without a request', async () => {
    const { s3, sent } = fakeS3();
    const url = new URL(await outputUrl(s3, 'tmp/a b.jpg', PRESIGNED));
    expect(url.host).toBe(`${BUCKET}.s3.eu-west-1.amazonaws.com`);
    expect(url.pathname).toBe('/tmp/a%20b.jpg');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request$/);
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    // Presigning a GetObject is not a GetObject (and not a PutObject): nothing was sent.
    expect(sent).toEqual([]);
  });

  test('presigned with a path-style endpoint (local runs): the endpoint, bucket and key in the path', async () => {
    const { s3 } = fakeS3(undefined, { endpoint: 'http://127.0.0.1:4569', forcePathStyle: true });
    const url = new URL(await outputUrl(s3, 'tmp/y.jpg', { ...PRESIGNED, presignExpiresSeconds: 60 }));
    expect(`${url.origin}${url.pathname}`).toBe(`http://127.0.0.1:4569/${BUCKET}/tmp/y.jpg`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
  });
});
