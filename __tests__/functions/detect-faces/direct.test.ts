/**
 * The direct entry's one S3 call, the image write, within the invocation's time, on a fake clock:
 * through the production S3 client (s3ClientFromEnv: five attempts, the SDK's retries and backoff)
 * over a request handler that never answers in time, the write ends at the write deadline or at
 * the invocation's own (remaining time less the answer margin), whichever comes first, and the
 * caller gets StorageFailed, a typed error, not a Lambda timeout. No timer outlives the invocation.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { ServiceError } from '../../../functions/common/errors';
import { s3ClientFromEnv } from '../../../functions/common/s3';
import { ANSWER_MARGIN_MS } from '../../../functions/detect-faces/contract';
import { handleDirect, type DirectPorts, type DirectSettings } from '../../../functions/detect-faces/direct';
import { createS3Store } from '../../../functions/detect-faces/output/store';
import { recordingLogger } from '../../helpers/log';
import { tinyJpeg } from '../../helpers/tiny-jpeg';

/** A PNG header claiming 400x300: enough for the byte sniffing stage. */
function pngBytes(): Buffer {
  const b = Buffer.alloc(64);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]).copy(b, 0);
  b.writeUInt32BE(400, 16);
  b.writeUInt32BE(300, 20);
  b.write('IEND', 56);
  return b;
}

/** An S3 whose every attempt goes unanswered for the attempt timeout (3 s), then fails as a timeout would: the SDK retries it. */
function slowS3(): { s3: S3Client; attempts: () => number; aborted: () => number } {
  let attempts = 0;
  let aborted = 0;
  const requestHandler = {
    handle: (_request: unknown, options: { abortSignal?: AbortSignal } = {}) =>
      new Promise((_resolve, reject) => {
        attempts++;
        const onAbort = () => {
          aborted++;
          clearTimeout(timer);
          reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
        };
        const timer = setTimeout(() => {
          options.abortSignal?.removeEventListener('abort', onAbort);
          reject(Object.assign(new Error('no answer within the attempt timeout'), { name: 'TimeoutError' }));
        }, 3_000);
        options.abortSignal?.addEventListener('abort', onAbort, { once: true });
      }),
  };
  const s3 = s3ClientFromEnv({ AWS_REGION: 'eu-west-1' }, { credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }, requestHandler });
  return { s3, attempts: () => attempts, aborted: () => aborted };
}

const settings: DirectSettings = {
  imagePrefix: 'tmp/',
  jpegQuality: 90,
  maxImageBytes: 1 << 20,
  maxImagePixels: 40e6,
  downloadTimeoutMs: 1_000,
  allowedLoopbackPrefixes: [],
  maxNetworkPixels: 5e6,
  writeTimeoutMs: 5_000,
};

function ports(s3: S3Client): DirectPorts<{ width: number }> {
  return {
    fetch: async (url) => ({ data: pngBytes(), finalUrl: url, redirects: 0 }),
    codec: { decode: () => ({ width: 400 }), size: () => ({ width: 400, height: 300 }), mark: () => undefined, encode: () => tinyJpeg('marked'), release: () => undefined },
    detector: { kind: 'fake', detect: () => ({ boxes: [{ x: 1, y: 2, width: 30, height: 30, score: 0.9 }], minFaceSize: 20 }) },
    store: (deadline) => createS3Store(s3, { bucket: 'faces-out', access: 'public', presignExpiresSeconds: 900 }, deadline),
    log: recordingLogger().log,
    metrics: () => undefined,
    now: () => new Date('2026-12-02T12:00:00Z'),
  };
}

const event = { imageUrl: 'https://photos.example/a.png' };

/** The real clock's setTimeout, taken before any test fakes it. */
const realSetTimeout = global.setTimeout;

describe('the direct call\'s image write is bounded (a fake clock)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  /** Runs the call and reports when it settled, on the fake clock. */
  async function settle(remainingMs: number, advanceMs: number) {
    const slow = slowS3();
    let outcome: { error?: ServiceError; atMs?: number } = {};
    const start = Date.now();
    void handleDirect(event, ports(slow.s3), settings, () => remainingMs).then(
      () => (outcome = { atMs: Date.now() - start }),
      (error: ServiceError) => (outcome = { error, atMs: Date.now() - start }),
    );
    // The fake clock starts once the write is in flight: what comes before it (the SDK's reading of
    // its config files among it) takes real time, which a loaded machine stretches.
    for (let waited = 0; slow.attempts() === 0 && waited < 10_000; waited += 5) await new Promise((resolve) => realSetTimeout(resolve, 5));
    await jest.advanceTimersByTimeAsync(advanceMs);
    slow.s3.destroy();
    return { ...outcome, attempts: slow.attempts(), aborted: slow.aborted() };
  }

  test('a store that does not answer ends at the write deadline, retries included: StorageFailed, out of time', async () => {
    // Without a deadline the SDK would spend five attempts of 3 s and its backoff (over 15 s).
    const before = await settle(60_000, settings.writeTimeoutMs - 1);
    expect(before.error).toBeUndefined();
    expect(before.atMs).toBeUndefined();

    const at = await settle(60_000, settings.writeTimeoutMs);
    expect(at.error).toMatchObject({ name: 'StorageFailed', code: 'StorageFailed', message: 'storing the marked image failed (out of time); try again later' });
    expect(at.atMs).toBe(settings.writeTimeoutMs);
    // A retry had started (the first attempt timed out at 3 s) and was aborted.
    expect(at.attempts).toBe(2);
    expect(at.aborted).toBe(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  test("with less time left than the write deadline, the invocation's own deadline (remaining time less the answer margin) ends the write", async () => {
    const remainingMs = 2_000;
    const ended = await settle(remainingMs, remainingMs);
    expect(ended.error).toMatchObject({ code: 'StorageFailed', message: expect.stringContaining('out of time') });
    expect(ended.atMs).toBe(remainingMs - ANSWER_MARGIN_MS);
    expect(ended.attempts).toBe(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  test('a store that answers in time is not touched by the deadlines', async () => {
    const s3 = s3ClientFromEnv({ AWS_REGION: 'eu-west-1' }, { credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
    s3.send = (async () => ({})) as unknown as S3Client['send'];
    const result = await handleDirect(event, ports(s3), settings, () => 60_000);
    s3.destroy();
    expect(result).toMatchObject({ faces: 1, outputUrl: expect.stringMatching(/^https:\/\/faces-out\.s3\.eu-west-1\.amazonaws\.com\/tmp\/.+\.jpg$/) });
    expect(jest.getTimerCount()).toBe(0);
  });
});
