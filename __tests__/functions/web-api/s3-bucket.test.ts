/**
 * The presigned POST as S3 receives it: the policy createPresignedPost signs, decoded. The client
 * has fixed credentials and signs locally: no request leaves the process.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { postConditions, s3UploadBucket } from '../../../functions/web-api/s3-bucket';

const KEY = 'inputs/3f1c2a9e-1b2c-4d5e-8f90-123456789abc/01901234-5678-8abc-8def-0123456789ab.jpg';
const policy = { key: KEY, contentType: 'image/jpeg' as const, maxBytes: 10_485_760, metadata: { mark: 'fill', 'min-face-size': '24' }, expiresSeconds: 300 };
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

test('conditions: size range from 1 byte; content type and metadata as fields', () => {
  expect(postConditions(policy)).toEqual({
    Fields: { 'Content-Type': 'image/jpeg', 'x-amz-meta-mark': 'fill', 'x-amz-meta-min-face-size': '24' },
    Conditions: [['content-length-range', 1, 10_485_760]],
  });
});

test('the signed policy: this bucket, this key exactly, the type and metadata exactly, the size range, 5 minutes', async () => {
  const s3 = new S3Client({ region: 'eu-west-1', credentials });
  const before = Date.now();
  const { url, fields } = await s3UploadBucket(s3, 'my-bucket').presignPost(policy);
  s3.destroy();
  expect(url).toBe('https://my-bucket.s3.eu-west-1.amazonaws.com/');
  expect(fields).toMatchObject({ key: KEY, 'Content-Type': 'image/jpeg', 'x-amz-meta-mark': 'fill', 'x-amz-meta-min-face-size': '24', 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256' });
  expect(fields['X-Amz-Credential']).toMatch(/^AKIDEXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request$/);
  expect(fields['X-Amz-Signature']).toMatch(/^[0-9a-f]{64}$/);
  const signed = JSON.parse(Buffer.from(fields.Policy, 'base64').toString('utf8')) as { expiration: string; conditions: unknown[] };
  expect(signed.conditions).toEqual(
    expect.arrayContaining([
      ['content-length-range', 1, 10_485_760],
      { bucket: 'my-bucket' },
      { key: KEY },
      { 'Content-Type': 'image/jpeg' },
      { 'x-amz-meta-mark': 'fill' },
      { 'x-amz-meta-min-face-size': '24' },
    ]),
  );
  // Nothing else is let through: no starts-with condition, which would let the form choose a key or a type.
  expect(signed.conditions.filter((c) => Array.isArray(c) && c[0] === 'starts-with')).toEqual([]);
  const expires = Date.parse(signed.expiration);
  expect(expires - before).toBeGreaterThanOrEqual(299_000);
  expect(expires - before).toBeLessThanOrEqual(301_000);
});

test('against a local endpoint (npm run serve): the path-style URL of the bucket', async () => {
  const s3 = new S3Client({ region: 'us-east-1', credentials, endpoint: 'http://127.0.0.1:4569', forcePathStyle: true });
  const { url } = await s3UploadBucket(s3, 'face-detection-local').presignPost(policy);
  s3.destroy();
  expect(url).toBe('http://127.0.0.1:4569/face-detection-local');
});

test('where presigned URLs point, as CSP sources: the regional bucket; for path-style addresses only the bucket\'s path, never the endpoint every bucket shares', async () => {
  const aws = new S3Client({ region: 'eu-west-1', credentials });
  await expect(s3UploadBucket(aws, 'my-bucket').cspSources()).resolves.toBe('https://my-bucket.s3.eu-west-1.amazonaws.com');
  // A name with dots is addressed path-style (its certificate would not cover the host).
  await expect(s3UploadBucket(aws, 'photos.example.com').cspSources()).resolves.toBe('https://s3.eu-west-1.amazonaws.com/photos.example.com https://s3.eu-west-1.amazonaws.com/photos.example.com/');
  aws.destroy();
  const local = new S3Client({ region: 'us-east-1', credentials, endpoint: 'http://127.0.0.1:4569', forcePathStyle: true });
  await expect(s3UploadBucket(local, 'face-detection-local').cspSources()).resolves.toBe('http://127.0.0.1:4569/face-detection-local http://127.0.0.1:4569/face-detection-local/');
  local.destroy();
});

test('a presigned GET as an attachment names the file', async () => {
  const s3 = new S3Client({ region: 'us-east-1', credentials });
  const url = new URL(await s3UploadBucket(s3, 'my-bucket').presignGet('outputs/u/a.jpg', { expiresSeconds: 300, attachmentName: 'a-redacted.jpg' }));
  s3.destroy();
  expect(url.pathname).toBe('/outputs/u/a.jpg');
  expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
  expect(url.searchParams.get('response-content-disposition')).toBe('attachment; filename="a-redacted.jpg"');
});

describe('reading a result record', () => {
  /** A client that answers GetObject and ListObjectsV2 as scripted. */
  const client = (get: () => unknown, listed: string[] = []) => {
    const sent: string[] = [];
    const s3 = {
      sent,
      send: async (command: { constructor: { name: string }; input: { Key?: string; Prefix?: string } }) => {
        sent.push(command.constructor.name);
        if (command.constructor.name === 'ListObjectsV2Command') return { Contents: listed.filter((k) => k.startsWith(command.input.Prefix!)).map((Key) => ({ Key })) };
        return get();
      },
    };
    return s3 as unknown as S3Client & { sent: string[] };
  };
  const s3Error = (name: string) => () => {
    throw Object.assign(new Error(name), { name });
  };

  test('the JSON of the object', async () => {
    const s3 = client(() => ({ Body: { transformToString: async () => '{"faces":2}' } }));
    await expect(s3UploadBucket(s3, 'b').readJson('results/u/a.jpg.json')).resolves.toEqual({ faces: 2 });
  });

  test('NoSuchKey: no record (undefined)', async () => {
    await expect(s3UploadBucket(client(s3Error('NoSuchKey')), 'b').readJson('results/u/a.jpg.json')).resolves.toBeUndefined();
  });

  test('AccessDenied for a key that a listing does not show: no record; for one it shows: StorageFailed', async () => {
    const missing = client(s3Error('AccessDenied'), ['results/u/other.jpg.json']);
    await expect(s3UploadBucket(missing, 'b').readJson('results/u/a.jpg.json')).resolves.toBeUndefined();
    expect(missing.sent).toEqual(['GetObjectCommand', 'ListObjectsV2Command']);
    const denied = client(s3Error('AccessDenied'), ['results/u/a.jpg.json']);
    await expect(s3UploadBucket(denied, 'b').readJson('results/u/a.jpg.json')).rejects.toMatchObject({ code: 'StorageFailed' });
  });

  test('other failures and a record that is not JSON: StorageFailed', async () => {
    await expect(s3UploadBucket(client(s3Error('SlowDown')), 'b').readJson('k')).rejects.toMatchObject({ code: 'StorageFailed', message: expect.stringContaining('SlowDown') });
    await expect(s3UploadBucket(client(() => ({ Body: { transformToString: async () => '{' } })), 'b').readJson('k')).rejects.toMatchObject({ code: 'StorageFailed', message: 'the result record is not JSON' });
  });
});
