/** Settings from the environment through the contracts (common/settings.ts over common/schema.ts): parsed once, failing by name. */
import { DETECT_ENV } from '../../../functions/detect-faces/contract';
import { bool, int, oneOf, str } from '../../../functions/common/schema';
import { s3ClientFromEnv } from '../../../functions/common/s3';
import { settingsFromEnv } from '../../../functions/common/settings';
import { detectConfigFromEnv } from '../../../functions/detect-faces/settings';

describe('function settings fail at cold start with the variable named', () => {
  const prefix = { p: DETECT_ENV.imagePrefix };
  test('image prefix: never empty or "/", always a folder', () => {
    expect(settingsFromEnv(prefix, {}).p).toBe('tmp/');
    expect(settingsFromEnv(prefix, { IMAGE_PREFIX: 'marked/2026/' }).p).toBe('marked/2026/');
    for (const bad of ['', '/', 'tmp', '/tmp/', '../', 'a/../', 'a//', '*/']) {
      expect(() => settingsFromEnv(prefix, { IMAGE_PREFIX: bad })).toThrow(expect.objectContaining({ code: 'ConfigurationError', message: expect.stringMatching(/^IMAGE_PREFIX=/) }));
    }
  });

  test('required, numbers, choices and flags', () => {
    expect(() => settingsFromEnv({ b: { env: 'BUCKET_NAME', ...str({ required: true, doc: '' }) } }, {})).toThrow(/BUCKET_NAME is required/);
    const n = (d: number, min: number, max: number) => ({ n: { env: 'N', ...int(d, min, max, '') } });
    expect(settingsFromEnv(n(1, 1, 10), { N: '5' }).n).toBe(5);
    expect(settingsFromEnv(n(3, 1, 10), {}).n).toBe(3);
    expect(() => settingsFromEnv(n(1, 1, 10), { N: '11' })).toThrow(/N="11": expected a whole number from 1 to 10/);
    expect(() => settingsFromEnv(n(1, 1, 10_000), { N: '1e3' })).toThrow(/whole number/);
    const m = { m: { env: 'M', ...oneOf(['a', 'b'] as const, 'a', '') } };
    expect(settingsFromEnv(m, { M: 'b' }).m).toBe('b');
    expect(() => settingsFromEnv(m, { M: 'c' })).toThrow(/expected one of a, b/);
    const f = { f: { env: 'F', ...bool(false, '') } };
    expect([settingsFromEnv(f, {}).f, settingsFromEnv(f, { F: 'true' }).f, settingsFromEnv(f, { F: '0' }).f]).toEqual([false, true, false]);
    expect(() => settingsFromEnv(f, { F: 'maybe' })).toThrow(/expected true or false/);
  });

  test('loopback prefixes: http(s) URL prefixes ending with "/", or nothing', () => {
    const l = { l: DETECT_ENV.allowLoopbackPrefixes };
    expect(settingsFromEnv(l, { ALLOW_LOOPBACK_PREFIXES: 'http://127.0.0.1:9000/bucket/, http://127.0.0.1:1/files/' }).l).toBeDefined();
    expect(settingsFromEnv(l, { ALLOW_LOOPBACK_PREFIXES: '' }).l).toBe('');
    for (const bad of ['127.0.0.1/', 'ftp://h/', 'http://h/x', 'http://h/a/,nope']) {
      expect(() => settingsFromEnv(l, { ALLOW_LOOPBACK_PREFIXES: bad })).toThrow(/^ALLOW_LOOPBACK_PREFIXES=.*ending with "\/"/);
    }
  });

  test('variables read by a library, not by our code, are in the contracts too (a bad endpoint fails by name)', async () => {
    const env = { BUCKET_NAME: 'b' };
    expect(detectConfigFromEnv({ ...env, OPENCV_LOG_LEVEL: 'ERROR', S3_ENDPOINT: 'http://127.0.0.1:4569' })).toMatchObject({ opencvLogLevel: 'ERROR', s3Endpoint: 'http://127.0.0.1:4569' });
    // OpenCV's own forms pass through untouched.
    expect(detectConfigFromEnv({ ...env, OPENCV_LOG_LEVEL: 'dnn:DEBUG' }).opencvLogLevel).toBe('dnn:DEBUG');
    expect(() => s3ClientFromEnv({ S3_ENDPOINT: 'localhost:4569' })).toThrow(/^S3_ENDPOINT="localhost:4569": expected an http\(s\) URL/);
    expect(() => s3ClientFromEnv({ S3_ENDPOINT: 'http://' })).toThrow(/^S3_ENDPOINT=/);
    const client = s3ClientFromEnv({ S3_ENDPOINT: 'http://127.0.0.1:4569' });
    try {
      expect(client.config.forcePathStyle).toBe(true);
      expect((await client.config.endpoint!()).hostname).toBe('127.0.0.1');
    } finally {
      client.destroy();
    }
  });
});
