/** The upload entry over fakes (no S3, no OpenCV): outcomes per message, records, retries, batch failures. Its S3 side: s3-objects.test.ts. */
import { storageFailed } from '../../../../functions/common/errors';
import type { Logger } from '../../../../functions/common/logger';
import type { SqsEvent, SqsRecord, UploadSource } from '../../../../functions/detect-faces/contract';
import {
  decodeEventKey,
  handleUploads,
  isSqsEvent,
  resultKey,
  uploadImageKey,
  UploadSuperseded,
  type UploadPorts,
  type UploadSettings,
} from '../../../../functions/detect-faces/entries/s3-upload';
import { tinyJpeg } from '../../../helpers/tiny-jpeg';

const BUCKET = 'photos-bucket';

/** A PNG header claiming 400x300: enough for the byte sniffing stage. */
function pngBytes(): Buffer {
  const b = Buffer.alloc(64);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]).copy(b, 0);
  b.writeUInt32BE(400, 16);
  b.writeUInt32BE(300, 20);
  b.write('IEND', 56);
  return b;
}

const settings: UploadSettings = {
  bucket: BUCKET,
  inputPrefix: 'inputs/',
  resultPrefix: 'results/',
  imagePrefix: 'tmp/',
  reserveMs: 1000,
  jpegQuality: 90,
  maxImageBytes: 1 << 20,
  maxImagePixels: 40e6,
  downloadTimeoutMs: 5000,
  allowedLoopbackPrefixes: [],
  maxNetworkPixels: 640 * 480,
};

type Objects = Record<string, Buffer | ((source: UploadSource) => Buffer | Promise<Buffer>)>;

function fakes(objects: Objects, overrides: Partial<UploadPorts<{ w: number }>> = {}) {
  const records = new Map<string, unknown>();
  const images: string[] = [];
  const reads: string[] = [];
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const log: Logger = {
    debug: () => undefined,
    info: (message, fields = {}) => void lines.push({ level: 'info', message, fields }),
    warn: (message, fields = {}) => void lines.push({ level: 'warn', message, fields }),
    error: (message, fields = {}) => void lines.push({ level: 'error', message, fields }),
    child: () => log,
  };
  const ports: UploadPorts<{ w: number }> = {
    fetch: async () => {
      throw new Error('uploads never go through the URL download');
    },
    codec: { decode: () => ({ w: 400 }), size: () => ({ width: 400, height: 300 }), mark: () => undefined, encode: () => tinyJpeg('jpeg'), release: () => undefined },
    detector: { kind: 'fake', detect: () => ({ boxes: [{ x: 1, y: 2, width: 30, height: 30, score: 0.9 }], minFaceSize: 20 }) },
    store: {
      put: async (key) => {
        images.push(key);
        return `https://${BUCKET}.s3.amazonaws.com/${key}`;
      },
    },
    uploads: {
      read: async (source) => {
        reads.push(source.key);
        const o = objects[source.key];
        if (!o) throw storageFailed(`reading ${source.key} failed (NoSuchKey)`);
        return typeof o === 'function' ? o(source) : o;
      },
      writeJson: async (key, body) => void records.set(key, JSON.parse(JSON.stringify(body))),
    },
    log,
    metrics: () => undefined,
    now: () => new Date('2026-11-26T12:00:00Z'),
    ...overrides,
  };
  return { ports, records, images, reads, lines };
}

function s3Message(key: string, eTag = 'abc123', extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: BUCKET }, object: { key, eTag, size: 64 } }, ...extra }],
  });
}

let nextId = 0;
function sqs(...bodies: string[]): SqsEvent {
  return {
    Records: bodies.map((body): SqsRecord => ({ messageId: `m${++nextId}`, receiptHandle: 'r', body, eventSource: 'aws:sqs', attributes: { ApproximateReceiveCount: '1' } })),
  };
}

const plenty = () => 60_000;

test('an SQS event is told apart from a direct invocation', () => {
  expect(isSqsEvent(sqs(s3Message('inputs/a.jpg')))).toBe(true);
  expect(isSqsEvent({ imageUrl: 'https://example.com/a.jpg' })).toBe(false);
  expect(isSqsEvent({ Records: [] })).toBe(false);
  expect(isSqsEvent({ Records: [{ eventSource: 'aws:s3' }] })).toBe(false);
  expect(isSqsEvent(null)).toBe(false);
  expect(isSqsEvent('{"imageUrl":"x"}')).toBe(false);
});

test('keys: decoded as S3 encodes them; the result record mirrors the input path; the image key depends on key and ETag only', () => {
  expect(decodeEventKey('inputs/a+b/caf%C3%A9+%2B1.jpg')).toBe('inputs/a b/café +1.jpg');
  expect(resultKey('inputs/a/b.jpg', settings)).toBe('results/a/b.jpg.json');
  const src = { bucket: BUCKET, key: 'inputs/a/b.jpg', eTag: 'e1' };
  expect(uploadImageKey('tmp/', src)).toMatch(/^tmp\/upload-[0-9a-f]{40}\.jpg$/);
  expect(uploadImageKey('tmp/', src)).toBe(uploadImageKey('tmp/', { ...src }));
  expect(uploadImageKey('tmp/', { ...src, eTag: 'e2' })).not.toBe(uploadImageKey('tmp/', src));
  expect(uploadImageKey('tmp/', { ...src, key: 'inputs/a/c.jpg' })).not.toBe(uploadImageKey('tmp/', src));
});

test('a photo: the marked image under the image prefix, and the direct result plus its source under results/', async () => {
  const f = fakes({ 'inputs/a/b.jpg': pngBytes() });
  const response = await handleUploads(sqs(s3Message('inputs/a/b.jpg', '"abc123"')), f.ports, settings, plenty);
  expect(response).toEqual({ batchItemFailures: [] });
  const source = { bucket: BUCKET, key: 'inputs/a/b.jpg', eTag: 'abc123' };
  expect(f.images).toEqual([uploadImageKey('tmp/', source)]);
  // The direct invocation's result (whatever fields it has) plus the source.
  expect(f.records.get('results/a/b.jpg.json')).toMatchObject({
    faces: 1,
    outputUrl: `https://${BUCKET}.s3.amazonaws.com/${f.images[0]}`,
    boxes: [{ x: 1, y: 2, width: 30, height: 30, score: 0.9 }],
    width: 400,
    height: 300,
    minFaceSize: 20,
    source,
  });
  expect(f.lines.find((l) => l.message === 'upload done')?.fields).toMatchObject({ outcome: 'processed', key: 'inputs/a/b.jpg', faces: 1 });
  expect(f.lines.find((l) => l.message === 'upload batch done')?.fields).toMatchObject({ messages: 1, processed: 1, failed: 0, rssMb: expect.any(Number) });
});

test('a redelivered message rewrites the same two objects with the same content', async () => {
  const f = fakes({ 'inputs/x.png': pngBytes() });
  await handleUploads(sqs(s3Message('inputs/x.png')), f.ports, settings, plenty);
  const first = f.records.get('results/x.png.json');
  await handleUploads(sqs(s3Message('inputs/x.png')), f.ports, settings, plenty);
  expect(f.images).toHaveLength(2);
  expect(f.images[1]).toBe(f.images[0]);
  expect(f.records.size).toBe(1);
  expect(f.records.get('results/x.png.json')).toEqual(first);
});

test('typed errors: an error record, acknowledged (no retry); unexpected ones: retried, no record; one failure never fails the batch', async () => {
  const f = fakes({
    'inputs/ok.png': pngBytes(),
    'inputs/notes.txt': Buffer.from('not an image at all, just some text that is long enough'),
    'inputs/truncated.jpg': Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]),
    'inputs/flaky.png': () => {
      throw storageFailed('reading failed (SlowDown); it will be retried');
    },
  });
  const event = sqs(s3Message('inputs/ok.png'), s3Message('inputs/notes.txt'), s3Message('inputs/flaky.png'), s3Message('inputs/truncated.jpg'));
  const response = await handleUploads(event, f.ports, settings, plenty);
  expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[2].messageId }]);
  expect(f.records.get('results/notes.txt.json')).toEqual({
    errorType: 'UnsupportedImage',
    errorMessage: expect.any(String),
    source: { bucket: BUCKET, key: 'inputs/notes.txt', eTag: 'abc123' },
  });
  expect(f.records.get('results/truncated.jpg.json')).toMatchObject({ errorType: 'UnsupportedImage' });
  expect(f.records.has('results/flaky.png.json')).toBe(false);
  expect(f.records.get('results/ok.png.json')).toMatchObject({ faces: 1 });
  expect(f.lines.find((l) => l.message === 'upload failed, will be retried')?.fields).toMatchObject({ code: 'StorageFailed', messageId: event.Records[2].messageId });
});

test.each([
  ['the detector throws (Internal)', { detector: { kind: 'fake', detect: () => { throw new Error('boom'); } } }],
  ['the marked image cannot be stored (StorageFailed)', { store: { put: async () => { throw storageFailed('storing the marked image failed (SlowDown)'); } } }],
])('retried when %s', async (_name, overrides) => {
  const f = fakes({ 'inputs/a.png': pngBytes() }, overrides as Partial<UploadPorts<{ w: number }>>);
  const event = sqs(s3Message('inputs/a.png'));
  expect(await handleUploads(event, f.ports, settings, plenty)).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0].messageId }] });
  expect(f.records.size).toBe(0);
});

test('a failed result write is retried, for a result and for an error record alike', async () => {
  for (const key of ['inputs/a.png', 'inputs/a.txt']) {
    const f = fakes({ 'inputs/a.png': pngBytes(), 'inputs/a.txt': Buffer.from('text, not an image; long enough to sniff') });
    f.ports.uploads.writeJson = async () => {
      throw storageFailed('writing the result record failed (InternalError)');
    };
    const event = sqs(s3Message(key));
    expect((await handleUploads(event, f.ports, settings, plenty)).batchItemFailures).toHaveLength(1);
  }
});

test('a key overwritten since its event: nothing written, not retried (the newer event covers it)', async () => {
  const f = fakes({
    'inputs/a.png': () => {
      throw new UploadSuperseded('changed after the event');
    },
  });
  expect(await handleUploads(sqs(s3Message('inputs/a.png')), f.ports, settings, plenty)).toEqual({ batchItemFailures: [] });
  expect(f.records.size).toBe(0);
  expect(f.images).toHaveLength(0);
  expect(f.lines.find((l) => l.message === 'upload done')?.fields).toMatchObject({ outcome: 'superseded' });
});

test("S3's test event, deletions, folder markers, other prefixes and buckets are acknowledged and ignored", async () => {
  const f = fakes({});
  const response = await handleUploads(
    sqs(
      JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2026-11-26T12:00:00Z', Bucket: BUCKET }),
      s3Message('inputs/a.png', 'e', { eventName: 'ObjectRemoved:Delete' }),
      s3Message('inputs/folder/'),
      s3Message('tmp/marked.jpg'),
      JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'other-bucket' }, object: { key: 'inputs/a.png', eTag: 'e' } } }] }),
    ),
    f.ports,
    settings,
    plenty,
  );
  expect(response).toEqual({ batchItemFailures: [] });
  expect(f.reads).toEqual([]);
  expect(f.records.size).toBe(0);
});

test('an unreadable message is retried (and so ends in the dead-letter queue), not dropped', async () => {
  const f = fakes({});
  const event = sqs('not json', JSON.stringify({ hello: 'world' }));
  expect((await handleUploads(event, f.ports, settings, plenty)).batchItemFailures.map((x) => x.itemIdentifier)).toEqual(event.Records.map((r) => r.messageId));
});

test('with too little time left, unstarted messages go back to the queue; the first one always runs', async () => {
  const f = fakes({ 'inputs/a.png': pngBytes(), 'inputs/b.png': pngBytes(), 'inputs/c.png': pngBytes() });
  const event = sqs(s3Message('inputs/a.png'), s3Message('inputs/b.png'), s3Message('inputs/c.png'));
  const left = [900, 900];
  const response = await handleUploads(event, f.ports, settings, () => left.shift() ?? 0);
  expect(f.reads).toEqual(['inputs/a.png']);
  expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[1].messageId }, { itemIdentifier: event.Records[2].messageId }]);
  expect(f.lines.find((l) => l.message === 'upload batch done')?.fields).toMatchObject({ processed: 1, deferred: 2 });
});
