/**
 * detect-faces end to end, as it ships: the bundled handler in a Lambda-like process with the
 * real layer addon (Node 24), images from a loopback HTTP server, results in a real S3-protocol
 * server (s3rver). Needs the built layer (CI builds it before the tests).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { inspectImage } from '../../functions/detect-faces/fetch/sniff';
import { parseJpeg } from '../../functions/detect-faces/output/jpeg-segments';
import { jpegOrientation } from '../../functions/detect-faces/output/metadata';
import { startLocalStack, type LocalStack } from '../../local/local-stack';
import { spawnS3Server } from '../../local/s3-server';
import { FACES_DIR, readLabels, startImageServer, type ImageServer } from '../helpers/image-server';
import { recallPrecision } from '../../bench/detection-quality';
import { localS3Client } from '../helpers/s3';
import { tempDir } from '../helpers/temp';

jest.setTimeout(120_000);

let images: ImageServer;
let yunet: LocalStack;
let haar: LocalStack;
let s3: S3Client;
const dataDirs: string[] = [];

async function session(environment: Record<string, string>): Promise<LocalStack> {
  const dataDir = tempDir('detect-s3');
  dataDirs.push(dataDir);
  return startLocalStack({ dataDir, environment, extraLoopbackPrefixes: [`${images.origin}/`] });
}

beforeAll(async () => {
  images = await startImageServer();
  yunet = await session({ DETECTOR: 'yunet', DOWNLOAD_TIMEOUT_MS: '2000' });
  haar = await session({ DETECTOR: 'haar' });
  s3 = localS3Client(yunet.s3.endpoint);
});

afterAll(async () => {
  s3?.destroy();
  await Promise.all([yunet?.close(), haar?.close()]);
  await images?.close();
  for (const d of dataDirs) fs.rmSync(d, { recursive: true, force: true });
});

async function storedKeys(): Promise<string[]> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: yunet.bucket, Prefix: 'tmp/' }));
  return (page.Contents ?? []).map((o) => o.Key!).sort();
}

type Result = { faces: number; outputUrl: string; boxes: { x: number; y: number; width: number; height: number; score: number }[]; width: number; height: number; minFaceSize: number; output: string };

async function detect(s: LocalStack, imageUrl: string): Promise<Result> {
  const run = await s.detect.invoke({ imageUrl });
  if (!run.ok) throw new Error(`${run.error!.errorType}: ${run.error!.errorMessage}\n${run.log}`);
  return run.result as Result;
}

describe('labelled images (training.xml)', () => {
  const labels = readLabels();

  test.each([
    ['yunet', 0.9],
    // Haar is the weaker, older detector: selectable, not the default.
    ['haar', 0.75],
  ])('%s: recall >= %d at IoU 0.4 (square labels)', async (kind, minRecall) => {
    const s = kind === 'yunet' ? yunet : haar;
    const results = [];
    for (const label of labels) {
      const r = await detect(s, images.url(`/faces/${label.file}`));
      results.push({ found: r.boxes, truth: label.boxes });
    }
    const { recall, precision } = recallPrecision(results);
    console.log(`${kind}: recall ${recall.toFixed(3)}, precision ${precision.toFixed(3)} on ${labels.length} images, ${labels.reduce((n, l) => n + l.boxes.length, 0)} faces`);
    expect(recall).toBeGreaterThanOrEqual(minRecall);
    expect(precision).toBeGreaterThanOrEqual(0.8);
  });
});

const POINT = { x: expect.any(Number), y: expect.any(Number) };

test('the response has the original shape plus boxes and size; the stored object is a JPEG of the input size', async () => {
  const input = fs.readFileSync(path.join(FACES_DIR, 'grace_hopper_512x512.jpg'));
  const result = await detect(yunet, images.url('/faces/grace_hopper_512x512.jpg'));
  expect(result).toEqual({
    faces: 1,
    outputUrl: expect.stringMatching(new RegExp(`^${yunet.s3.endpoint}/${yunet.bucket}/tmp/\\d{4}-\\d{2}-\\d{2}T[\\d-]+Z-[0-9a-f-]{36}\\.jpg$`)),
    boxes: [
      {
        x: expect.any(Number),
        y: expect.any(Number),
        width: expect.any(Number),
        height: expect.any(Number),
        score: expect.any(Number),
        landmarks: { eyeLeft: POINT, eyeRight: POINT, nose: POINT, mouthLeft: POINT, mouthRight: POINT },
      },
    ],
    width: 512,
    height: 512,
    mark: 'box',
    // The layer's jpeg-lossless addon: the box is drawn in the JPEG's own coefficients.
    output: 'lossless',
    // The default floor: 2% of the longer side, at least 20 px.
    minFaceSize: 20,
  });
  // A clear frontal face: not just over the box default's floor, which every reported box is.
  expect(result.boxes[0].score).toBeGreaterThan(0.9);
  const stored = Buffer.from(await (await fetch(result.outputUrl)).arrayBuffer());
  const inputInfo = inspectImage(input, 40e6);
  expect(inspectImage(stored, 40e6)).toEqual({ format: 'jpeg', width: inputInfo.width, height: inputInfo.height });
  expect(stored.equals(input)).toBe(false);
});

describe('minFaceSize', () => {
  test('below 10, above the image, or not a number: InvalidInput naming the field, nothing stored', async () => {
    const before = await storedKeys();
    for (const [minFaceSize, message] of [
      [9, /^minFaceSize must be a whole number from 10 to 100000, got 9$/],
      ['24', /^minFaceSize must be a whole number/],
      [513, /^minFaceSize must be from 10 to the image's longer side \(512 px\), got 513$/],
    ] as const) {
      const run = await yunet.detect.invoke({ imageUrl: images.url('/faces/grace_hopper_512x512.jpg'), minFaceSize });
      expect(run.ok).toBe(false);
      expect(run.error).toMatchObject({ errorType: 'InvalidInput', errorMessage: expect.stringMatching(message) });
    }
    expect(await storedKeys()).toEqual(before);
  });

  test('a request the time budget cannot serve is served at a larger size, and says which', async () => {
    const tight = await session({ DETECTOR: 'yunet', DETECT_BUDGET_MS: '100' });
    try {
      const run = await tight.detect.invoke({ imageUrl: images.url('/faces/bald_guys.jpg'), minFaceSize: 10 });
      if (!run.ok) throw new Error(JSON.stringify(run.error));
      const result = run.result as Result;
      expect(result.minFaceSize).toBeGreaterThan(10);
      const roomy = await detect(yunet, images.url('/faces/bald_guys.jpg'));
      expect(roomy.minFaceSize).toBe(Math.max(20, Math.ceil(0.02 * Math.max(roomy.width, roomy.height))));
    } finally {
      await tight.close();
    }
  });
});

test('EXIF orientation is applied: size, boxes and stored image are as a viewer sees the photo', async () => {
  // 2008_001009.jpg is 360x480; orientation 6 displays it rotated, 480x360.
  const result = await detect(yunet, images.url('/exif-rotated.jpg'));
  expect([result.width, result.height]).toEqual([480, 360]);
  for (const b of result.boxes) {
    expect(b.x + b.width).toBeLessThanOrEqual(480);
    expect(b.y + b.height).toBeLessThanOrEqual(360);
  }
  // Marked in its coefficients, it is stored as it came, 360x480 with its orientation tag: viewers show it 480x360.
  const stored = Buffer.from(await (await fetch(result.outputUrl)).arrayBuffer());
  expect(result.output).toBe('lossless');
  expect(inspectImage(stored, 40e6)).toMatchObject({ width: 360, height: 480 });
  expect(jpegOrientation(parseJpeg(stored))).toBe(6);
});

test('presigned mode returns a signed URL that fetches the marked image', async () => {
  const presigned = await session({ OUTPUT_ACCESS: 'presigned', PRESIGN_EXPIRES_SECONDS: '600' });
  try {
    const result = await detect(presigned, images.url('/faces/grace_hopper_512x512.jpg'));
    const url = new URL(result.outputUrl);
    expect(url.pathname).toMatch(/^\/face-detection-local\/tmp\/.*\.jpg$/);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('600');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    const res = await fetch(result.outputUrl);
    expect(res.status).toBe(200);
    expect(inspectImage(Buffer.from(await res.arrayBuffer()), 40e6)).toMatchObject({ format: 'jpeg', width: 512, height: 512 });
  } finally {
    await presigned.close();
  }
});

describe('storage faults give StorageFailed and the function stays usable', () => {
  test('S3 refusing the upload (no such bucket)', async () => {
    const refusing = await session({ BUCKET_NAME: 'no-such-bucket' });
    try {
      const run = await refusing.detect.invoke({ imageUrl: images.url('/faces/grace_hopper_512x512.jpg') });
      expect(run.error).toMatchObject({ errorType: 'StorageFailed', errorMessage: expect.stringMatching(/NoSuchBucket/) });
    } finally {
      await refusing.close();
    }
  });

  test('S3 unreachable, then back', async () => {
    const dataDir = tempDir('detect-s3');
    dataDirs.push(dataDir);
    const flaky = await startLocalStack({ dataDir, extraLoopbackPrefixes: [`${images.origin}/`] });
    const port = Number(new URL(flaky.s3.endpoint).port);
    let restarted: Awaited<ReturnType<typeof spawnS3Server>> | undefined;
    try {
      await flaky.s3.close();
      const down = await flaky.detect.invoke({ imageUrl: images.url('/faces/grace_hopper_512x512.jpg') });
      expect(down.error).toMatchObject({ errorType: 'StorageFailed' });
      restarted = await spawnS3Server({ directory: dataDir, buckets: [flaky.bucket], port });
      const back = await flaky.detect.invoke({ imageUrl: images.url('/faces/grace_hopper_512x512.jpg') });
      expect(back.ok).toBe(true);
      expect(back.result).toMatchObject({ faces: 1 });
    } finally {
      // The stack's own close (its first S3 server is closed already: that close just resolves),
      // which removes its bundles too; then the S3 server that replaced it.
      await flaky.close();
      await restarted?.close();
    }
  });
});

test('dogs.jpg: the two dogs\' faces, which YuNet fed BGR takes for faces (as OpenCV\'s FaceDetectorYN does), and nothing else', async () => {
  expect((await detect(yunet, images.url('/faces/dogs.jpg'))).faces).toBeLessThanOrEqual(2);
});

test('PNG input and a same-origin redirect work', async () => {
  expect((await detect(yunet, images.url('/faces/astronaut.png'))).faces).toBe(1);
  expect((await detect(yunet, images.url('/redirect-ok'))).faces).toBe(1);
});

describe('bad inputs give their error code and store nothing', () => {
  test.each([
    ['truncated JPEG', () => ({ imageUrl: images.url('/truncated.jpg') }), 'UnsupportedImage'],
    ['zero bytes', () => ({ imageUrl: images.url('/empty.jpg') }), 'UnsupportedImage'],
    ['HTML page', () => ({ imageUrl: images.url('/page.html') }), 'UnsupportedImage'],
    ['oversized body, streamed', () => ({ imageUrl: images.url('/huge.jpg') }), 'TooLarge'],
    ['oversized body, declared', () => ({ imageUrl: images.url('/declared-huge.jpg') }), 'TooLarge'],
    ['too many pixels', () => ({ imageUrl: images.url('/bomb.png') }), 'TooLarge'],
    ['redirect to the metadata address', () => ({ imageUrl: images.url('/redirect-private') }), 'UrlNotAllowed'],
    ['redirect to a mapped private address', () => ({ imageUrl: images.url('/redirect-private-ip6') }), 'UrlNotAllowed'],
    ['redirect loop', () => ({ imageUrl: images.url('/redirect-loop') }), 'DownloadFailed'],
    ['404', () => ({ imageUrl: images.url('/missing.jpg') }), 'DownloadFailed'],
    ['slow server past the time limit', () => ({ imageUrl: images.url('/slow.jpg') }), 'DownloadFailed'],
    ['loopback that is not an allowed origin', () => ({ imageUrl: 'http://127.0.0.1:9/x.jpg' }), 'UrlNotAllowed'],
    ['metadata address directly', () => ({ imageUrl: 'http://169.254.169.254/latest/meta-data/' }), 'UrlNotAllowed'],
    ['file URL', () => ({ imageUrl: 'file:///etc/passwd' }), 'InvalidInput'],
    ['no imageUrl', () => ({ url: 'https://example.com/a.jpg' }), 'InvalidInput'],
  ])('%s -> %s', async (_name, event, code) => {
    const before = await storedKeys();
    const run = await yunet.detect.invoke(event());
    expect(run.ok).toBe(false);
    expect(run.error!.errorType).toBe(code);
    expect(run.error!.errorMessage.length).toBeGreaterThan(10);
    expect(await storedKeys()).toEqual(before);
  });
});

test('one structured log line per request, with stage timings and no query string; one metrics record beside it', async () => {
  const run = await yunet.detect.invoke({ imageUrl: `${images.url('/faces/grace_hopper_512x512.jpg')}?X-Amz-Signature=secret` });
  expect(run.ok).toBe(true);
  const json = run.log.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  // CloudWatch's Embedded Metric Format: the `_aws` key marks a metrics record, not a log line.
  const metrics = json.filter((l) => '_aws' in l);
  const lines = json.filter((l) => !('_aws' in l));
  expect(metrics).toHaveLength(1);
  expect(metrics[0]).toMatchObject({ faces: 1, requests: 1, failures: 0, detector: 'yunet', outcome: 'ok', detectMs: expect.any(Number) });
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({
    level: 'info',
    message: 'detect-faces done',
    requestId: run.requestId,
    faces: 1,
    timingsMs: { download: expect.any(Number), decode: expect.any(Number), detect: expect.any(Number), annotate: expect.any(Number), encode: expect.any(Number), upload: expect.any(Number) },
  });
  expect(run.log).not.toContain('secret');
});
