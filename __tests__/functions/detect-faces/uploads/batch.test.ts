/**
 * The upload entry over an S3 that answers as S3 does (helpers/fake-s3.ts) and fakes for OpenCV
 * and the queue: outcomes per message, outputs and records in version order whatever the order of
 * processing (each race as a test), options from metadata, poison, deferral, deadlines.
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { storageFailed } from '../../../../functions/common/errors';
import type { DetectMetricsInput } from '../../../../functions/common/metrics';
import type { DetectOptions } from '../../../../functions/detect-faces/detect/detectors';
import type { MarkSpec } from '../../../../functions/detect-faces/output/redact-plan';
import { photoWorstCaseMs } from '../../../../functions/detect-faces/contract';
import { handleUploads, isSqsEvent, retryDelaySeconds, type UploadPorts, type UploadSettings } from '../../../../functions/detect-faces/uploads/batch';
import { createS3UploadStore } from '../../../../functions/detect-faces/uploads/s3-store';
import { LocalQueue } from '../../../../local/queue';
import { FakeS3 } from '../../../helpers/fake-s3';
import { recordingLogger } from '../../../helpers/log';
import { tinyJpeg, tinyJpegText } from '../../../helpers/tiny-jpeg';

const BUCKET = 'photos-bucket';

/** A PNG header claiming 400x300 (what the sniffing stage reads); a distinct tail makes distinct ETags. */
function png(tag = ''): Buffer {
  const b = Buffer.alloc(64);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]).copy(b, 0);
  b.writeUInt32BE(400, 16);
  b.writeUInt32BE(300, 20);
  b.write('IEND', 56);
  return Buffer.concat([b, Buffer.from(tag)]);
}

const settings: UploadSettings & { detectBudgetMs: number } = {
  bucket: BUCKET,
  imagePrefix: 'tmp/',
  inputPrefix: 'inputs/',
  outputPrefix: 'outputs/',
  resultPrefix: 'results/',
  jpegQuality: 90,
  maxImageBytes: 1 << 20,
  maxImagePixels: 40e6,
  downloadTimeoutMs: 2_000,
  writeTimeoutMs: 1_000,
  detectBudgetMs: 5_000,
  imageWorkMs: 1_500,
  allowedLoopbackPrefixes: [],
  maxNetworkPixels: 5e6,
  uploadDefaults: {},
  answerMarginMs: 0,
};

interface Image {
  readonly tag: string;
}

function world(options: { listBucket?: boolean } = {}) {
  const s3 = new FakeS3(options);
  const { log, lines } = recordingLogger();
  const detected: DetectOptions[] = [];
  const marks: MarkSpec[] = [];
  const metrics: DetectMetricsInput[] = [];
  const requeued: string[] = [];
  const deadLetters: { body: string; reason: string }[] = [];
  const retried: { messageId: string; seconds: number }[] = [];
  /** Runs inside detection of the photo with this tag: another writer's turn mid-processing. */
  const during = new Map<string, () => Promise<void>>();
  const ports: UploadPorts<Image> = {
    fetch: async () => {
      throw new Error('uploads never go through the URL download');
    },
    codec: {
      decode: (bytes) => ({ tag: bytes.subarray(64).toString() }),
      size: () => ({ width: 400, height: 300 }),
      mark: (_image, _boxes, spec) => void marks.push(spec),
      // The output says which upload it came from.
      encode: (image) => tinyJpeg(`jpeg of ${image.tag}`),
      release: () => undefined,
    },
    detector: {
      kind: 'fake',
      detect: (_image, opts) => {
        detected.push(opts);
        return { boxes: [{ x: 1, y: 2, width: 30, height: 30, score: 0.9 }], minFaceSize: opts.minFaceSize ?? 20 };
      },
    },
    uploads: createS3UploadStore(s3.client, BUCKET),
    queue: {
      requeue: async (record) => void requeued.push(record.body),
      deadLetter: async (record, reason) => void deadLetters.push({ body: record.body, reason }),
      retryIn: async (record, seconds) => void retried.push({ messageId: record.messageId, seconds }),
    },
    log,
    metrics: (m) => void metrics.push(m),
    now: () => new Date('2026-12-02T12:00:00Z'),
  };
  // Detection is synchronous in the port; a race's other writer runs in the read that precedes it.
  const read = ports.uploads.read;
  ports.uploads.read = async (source, limits, signal) => {
    const got = await read(source, limits, signal);
    const turn = during.get(got.data.subarray(64).toString());
    if (turn) {
      during.delete(got.data.subarray(64).toString());
      await turn();
    }
    return got;
  };
  const run = (event: SQSEvent, remainingMs: () => number = () => 60_000) => handleUploads(event, ports, settings, remainingMs);
  const record = (key: string) => {
    const o = s3.get(BUCKET, key);
    return o && JSON.parse(o.body.toString());
  };
  const outcomes = () => lines.filter((l) => l.message === 'upload done').map((l) => l.fields.outcome);
  return { s3, ports, lines, detected, marks, metrics, requeued, deadLetters, retried, during, run, record, outcomes };
}

let nextId = 0;
function sqs(...bodies: string[]): SQSEvent {
  return {
    Records: bodies.map(
      (body): SQSRecord => ({
        messageId: `m${++nextId}`,
        receiptHandle: 'r',
        body,
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 's3', ApproximateFirstReceiveTimestamp: '0' },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:111122223333:face-detection-uploads',
        awsRegion: 'us-east-1',
      }),
    ),
  };
}

/** The S3 notification of one event, key encoded as S3 encodes it. */
function notification(key: string, event: { eTag?: string; sequencer: string }, eventName = 'ObjectCreated:Put'): string {
  const encoded = encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
  return JSON.stringify({ Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', eventName, s3: { bucket: { name: BUCKET }, object: { key: encoded, eTag: event.eTag, sequencer: event.sequencer } } }] });
}

/** Uploads a photo and returns the message its event becomes. */
function put(w: ReturnType<typeof world>, key: string, tag: string, metadata: Record<string, string> = {}): string {
  return notification(key, w.s3.upload(BUCKET, key, png(tag), metadata));
}

test('an SQS event is told apart from a direct invocation', () => {
  expect(isSqsEvent(sqs('{}'))).toBe(true);
  expect(isSqsEvent({ imageUrl: 'https://example.com/a.jpg' })).toBe(false);
  expect(isSqsEvent({ Records: [] })).toBe(false);
  expect(isSqsEvent({ Records: [{ eventSource: 'aws:s3' }] })).toBe(false);
  expect(isSqsEvent(null)).toBe(false);
});

test('a photo: its redacted image under outputs/ (kept), its record under results/ with the output key, the options and the source', async () => {
  const w = world();
  const message = put(w, 'inputs/a/b.jpg', 'v1');
  expect(await w.run(sqs(message))).toEqual({ batchItemFailures: [] });
  expect(tinyJpegText(w.s3.get(BUCKET, 'outputs/a/b.jpg')!.body)).toBe('jpeg of v1');
  const eTag = w.s3.get(BUCKET, 'inputs/a/b.jpg')!.eTag;
  expect(w.record('results/a/b.jpg.json')).toEqual({
    faces: 1,
    outputKey: 'outputs/a/b.jpg',
    boxes: [{ x: 1, y: 2, width: 30, height: 30, score: 0.9 }],
    width: 400,
    height: 300,
    minFaceSize: 20,
    mark: 'box',
    output: 'reencoded',
    options: {},
    source: { bucket: BUCKET, key: 'inputs/a/b.jpg', eTag, sequencer: JSON.parse(message).Records[0].s3.object.sequencer },
  });
  // Nothing under the hourly cleanup's prefix; both products say which version made them.
  expect(w.s3.keys('tmp/')).toEqual([]);
  expect(w.s3.get(BUCKET, 'outputs/a/b.jpg')!.metadata).toMatchObject({ 'source-etag': eTag, mark: 'box' });
  expect(w.outcomes()).toEqual(['processed']);
  expect(w.lines.find((l) => l.message === 'upload batch done')?.fields).toMatchObject({ messages: 1, processed: 1, failed: 0, rssMb: expect.any(Number) });
});

test('a non-JPEG name gets .jpg appended; a key with spaces and non-ASCII is decoded as S3 encodes it', async () => {
  const w = world();
  await w.run(sqs(put(w, 'inputs/x.png', 'p'), put(w, 'inputs/a b/café +1.JPEG', 'q')));
  expect(w.s3.keys('outputs/')).toEqual([`${BUCKET}/outputs/a b/café +1.JPEG`, `${BUCKET}/outputs/x.png.jpg`]);
  expect(w.record('results/x.png.json')).toMatchObject({ outputKey: 'outputs/x.png.jpg' });
});

test('a redelivered message writes the same products again (at-least-once delivery is harmless)', async () => {
  const w = world();
  const message = put(w, 'inputs/x.jpg', 'v1');
  await w.run(sqs(message));
  const first = w.record('results/x.jpg.json');
  await w.run(sqs(message));
  expect(w.record('results/x.jpg.json')).toEqual(first);
  expect(w.outcomes()).toEqual(['processed', 'processed']);
});

describe('options: the deployment defaults, overridden per upload by metadata named like the CLI flags', () => {
  test('metadata mark=fill, padding=0.5, min-face-size=24 reach the detector and the marking, and the record says so', async () => {
    const w = world();
    await w.run(sqs(put(w, 'inputs/m.jpg', 'm', { mark: 'fill', padding: '0.5', 'min-face-size': '24' })));
    expect(w.detected[0]).toMatchObject({ minFaceSize: 24 });
    expect(w.marks).toEqual([{ mode: 'fill', shape: 'ellipse', padding: 0.5 }]);
    expect(w.record('results/m.jpg.json')).toMatchObject({ mark: 'fill', options: { mark: 'fill', padding: 0.5, minFaceSize: 24 } });
  });

  test("the deployment's defaults apply where the metadata is silent; box on a redacting deployment drops its shape and padding", async () => {
    const w = world();
    const deployment = { ...settings, uploadDefaults: { mark: 'pixelate', padding: 0.2, maxFaces: 5 } as const };
    await handleUploads(sqs(put(w, 'inputs/d.jpg', 'd'), put(w, 'inputs/b.jpg', 'b', { mark: 'box' })), w.ports, deployment, () => 60_000);
    expect(w.record('results/d.jpg.json')).toMatchObject({ mark: 'pixelate', options: { mark: 'pixelate', padding: 0.2, maxFaces: 5 } });
    expect(w.record('results/b.jpg.json')).toMatchObject({ mark: 'box', options: { mark: 'box', maxFaces: 5 } });
    expect(w.detected.map((d) => d.maxFaces)).toEqual([5, 5]);
  });

  test.each([
    [{ mark: 'sparkle' }, /^metadata mark must be one of box, fill, pixelate, blur, got "sparkle"$/],
    [{ 'min-face-size': '9' }, /^metadata min-face-size must be a whole number from 10 to 100000, got "9"$/],
    [{ padding: 'lots', mark: 'blur' }, /^metadata padding must be a number from 0 to 1, got "lots"$/],
    [{ 'min-score': '0.05' }, /^metadata min-score must be a number from 0.09 to 1/],
    [{ shape: 'rect' }, /^shape applies only to a redaction/],
  ])('invalid %j: a refused record naming the field and its range, acknowledged, no output', async (metadata, message) => {
    const w = world();
    const event = sqs(put(w, 'inputs/bad.jpg', 'bad', metadata));
    expect(await w.run(event)).toEqual({ batchItemFailures: [] });
    expect(w.record('results/bad.jpg.json')).toEqual({ errorType: 'InvalidInput', errorMessage: expect.stringMatching(message), source: expect.objectContaining({ key: 'inputs/bad.jpg' }) });
    expect(w.s3.keys('outputs/')).toEqual([]);
    expect(w.outcomes()).toEqual(['refused']);
  });
});

test('typed errors give an error record and are acknowledged; unexpected ones are retried without a record; one failure never fails the batch', async () => {
  const w = world();
  w.s3.upload(BUCKET, 'inputs/notes.txt', Buffer.from('not an image at all, just some text that is long enough'));
  const notes = notification('inputs/notes.txt', { eTag: w.s3.get(BUCKET, 'inputs/notes.txt')!.eTag, sequencer: '0A' });
  const flaky = put(w, 'inputs/flaky.jpg', 'flaky');
  w.s3.before = (call) => {
    if (call.name === 'GetObject' && call.input.Key === 'inputs/flaky.jpg') throw Object.assign(new Error('SlowDown'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
  };
  const event = sqs(put(w, 'inputs/ok.jpg', 'ok'), notes, flaky);
  const response = await w.run(event);
  expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[2].messageId }]);
  expect(w.record('results/notes.txt.json')).toMatchObject({ errorType: 'UnsupportedImage' });
  expect(w.record('results/flaky.jpg.json')).toBeUndefined();
  expect(w.record('results/ok.jpg.json')).toMatchObject({ faces: 1 });
  expect(w.lines.find((l) => l.message === 'upload failed, will be retried')?.fields).toMatchObject({ code: 'StorageFailed', messageId: event.Records[2].messageId, retryInSeconds: 2 });
  // Only the failed message is given a retry delay: the first after 2 s, not the visibility timeout.
  expect(w.retried).toEqual([{ messageId: event.Records[2].messageId, seconds: 2 }]);
});

describe('a failed message comes back after a growing delay, not its visibility timeout', () => {
  test('retryDelaySeconds: 2 s after the first receive, three times longer after each next, at most 15 min', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(retryDelaySeconds)).toEqual([2, 6, 18, 54, 162, 486, 900, 900]);
    expect(retryDelaySeconds(0)).toBe(2);
  });

  test('through the local queue on a given clock: back after 2 s, then 6 s; at the receive limit it is dead-lettered as before', async () => {
    let now = 0;
    const q = new LocalQueue({ name: 'uploads', visibilityTimeoutMs: 30_000, maxReceiveCount: 3, now: () => now });
    const w = world();
    w.ports.queue.retryIn = async (record, seconds) => {
      if (!q.changeVisibility(record.receiptHandle, seconds * 1000)) throw new Error('not in flight');
    };
    w.s3.before = (call) => {
      if (call.name === 'GetObject') throw Object.assign(new Error('SlowDown'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
    };
    q.send(put(w, 'inputs/f.jpg', 'f'));
    const deliveredAt: number[] = [];
    for (let t = 0; t <= 60_000; t += 500) {
      now = t;
      for (const m of q.receive(10)) {
        deliveredAt.push(now);
        const event = sqs(m.body);
        Object.assign(event.Records[0], { messageId: m.messageId, receiptHandle: m.receiptHandle, attributes: { ...event.Records[0].attributes, ApproximateReceiveCount: String(m.receiveCount) } });
        const response = await w.run(event);
        if (!response.batchItemFailures.length) q.delete(m.messageId, m.receiptHandle);
      }
    }
    expect(deliveredAt).toEqual([0, 2_000, 8_000]);
    // The third failure waits 18 s; then the queue's receive limit moves it to the dead letters.
    expect(q.deadLetters.map((d) => d.receiveCount)).toEqual([3]);
  });

  test('when the queue does not take the delay, the message still fails (it comes back at its visibility timeout) and a warning says so', async () => {
    const w = world();
    w.ports.queue.retryIn = async () => {
      throw new Error('AccessDenied');
    };
    w.s3.before = (call) => {
      if (call.name === 'GetObject') throw Object.assign(new Error('SlowDown'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
    };
    const event = sqs(put(w, 'inputs/f.jpg', 'f'));
    expect((await w.run(event)).batchItemFailures).toEqual([{ itemIdentifier: event.Records[0].messageId }]);
    expect(w.lines.find((l) => l.message.startsWith('retry delay not set'))?.fields).toMatchObject({ messageId: event.Records[0].messageId, error: 'AccessDenied' });
    expect(w.lines.find((l) => l.message === 'upload failed, will be retried')?.fields.retryInSeconds).toBeUndefined();
  });
});

describe('gone: deleted before it is read', () => {
  test('with s3:ListBucket (404): acknowledged once, logged as gone, not a failure, nothing written', async () => {
    const w = world();
    const message = put(w, 'inputs/g.jpg', 'g');
    w.s3.remove(BUCKET, 'inputs/g.jpg');
    expect(await w.run(sqs(message))).toEqual({ batchItemFailures: [] });
    expect(w.outcomes()).toEqual(['gone']);
    expect(w.s3.keys()).toEqual([]);
    // Not a failure anywhere: no failure log line, no failure metric.
    expect(w.lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    expect(w.metrics).toEqual([]);
  });

  test('without s3:ListBucket S3 answers 403: a permission problem, retried (the stack grants ListBucket on the prefixes)', async () => {
    const w = world({ listBucket: false });
    const message = put(w, 'inputs/g.jpg', 'g');
    w.s3.remove(BUCKET, 'inputs/g.jpg');
    expect((await w.run(sqs(message))).batchItemFailures).toHaveLength(1);
  });
});

describe('always the latest version, whatever the order of processing', () => {
  test('v1 processed after v2 was uploaded: v1 is superseded at its read (412), v2 wins', async () => {
    const w = world();
    const v1 = put(w, 'inputs/k.jpg', 'v1');
    const v2 = put(w, 'inputs/k.jpg', 'v2');
    await w.run(sqs(v1));
    expect(w.outcomes()).toEqual(['superseded']);
    expect(w.metrics).toEqual([]);
    await w.run(sqs(v2));
    expect(tinyJpegText(w.s3.get(BUCKET, 'outputs/k.jpg')!.body)).toBe('jpeg of v2');
    expect(w.record('results/k.jpg.json').source.eTag).toBe(w.s3.get(BUCKET, 'inputs/k.jpg')!.eTag);
  });

  test('v1 read, then v2 uploaded and fully processed while v1 is still working: v1 writes nothing over v2', async () => {
    const w = world();
    const v1 = put(w, 'inputs/k.jpg', 'v1');
    w.during.set('v1', async () => {
      await w.run(sqs(put(w, 'inputs/k.jpg', 'v2')));
    });
    await w.run(sqs(v1));
    expect(w.outcomes()).toEqual(['processed', 'superseded']);
    expect(tinyJpegText(w.s3.get(BUCKET, 'outputs/k.jpg')!.body)).toBe('jpeg of v2');
    expect(w.record('results/k.jpg.json').source.eTag).toBe(w.s3.get(BUCKET, 'inputs/k.jpg')!.eTag);
  });

  test('v2 refused (not an image) while an older v1 is processed: no v1 output left beside v2\'s error record', async () => {
    const w = world();
    const v1 = put(w, 'inputs/k.jpg', 'v1');
    w.during.set('v1', async () => {
      w.s3.upload(BUCKET, 'inputs/k.jpg', Buffer.from('text, not an image; long enough to be sniffed as such'));
      const v2 = notification('inputs/k.jpg', { eTag: w.s3.get(BUCKET, 'inputs/k.jpg')!.eTag, sequencer: 'FFFF000000000000' });
      await w.run(sqs(v2));
    });
    await w.run(sqs(v1));
    expect(w.outcomes()).toEqual(['refused', 'superseded']);
    expect(w.record('results/k.jpg.json')).toMatchObject({ errorType: 'UnsupportedImage' });
    expect(w.s3.keys('outputs/')).toEqual([]);
  });

  test('the same bytes uploaded twice (a retried PUT): the older version takes back its own output, not the newer one\'s identical image', async () => {
    const w = world();
    const v1 = put(w, 'inputs/k.jpg', 'same');
    const v1Sequencer = JSON.parse(v1).Records[0].s3.object.sequencer;
    // v2 (the same photo, so the same image and the same ETag) runs whole between v1's image and v1's record.
    let v2: string | undefined;
    w.s3.before = async (call) => {
      if (v2 === undefined && call.name === 'PutObject' && call.input.Key === 'results/k.jpg.json' && (call.input.Metadata as Record<string, string>)['source-sequencer'] === v1Sequencer) {
        v2 = put(w, 'inputs/k.jpg', 'same');
        await w.run(sqs(v2));
      }
    };
    await w.run(sqs(v1));
    expect(w.outcomes()).toEqual(['processed', 'superseded']);
    const v2Sequencer = JSON.parse(v2!).Records[0].s3.object.sequencer;
    expect(w.record('results/k.jpg.json').source.sequencer).toBe(v2Sequencer);
    // The image the record names is there, and is v2's.
    expect(w.s3.get(BUCKET, 'outputs/k.jpg')?.metadata['source-sequencer']).toBe(v2Sequencer);
  });

  test('a delivery that wrote its image, then failed at its record, is retried after a newer version was refused: the retry takes the image back', async () => {
    const w = world();
    const v1 = put(w, 'inputs/k.jpg', 'v1');
    // v2 (not an image) is uploaded and refused while v1 works: an error record, no image.
    w.during.set('v1', async () => {
      w.s3.upload(BUCKET, 'inputs/k.jpg', Buffer.from('text, not an image; long enough to be sniffed as such'));
      await w.run(sqs(notification('inputs/k.jpg', { eTag: w.s3.get(BUCKET, 'inputs/k.jpg')!.eTag, sequencer: 'FFFF000000000000' })));
    });
    // v1's image is written (nothing is there); its record write fails with a 500.
    let failedOnce = false;
    w.s3.before = (call) => {
      if (!failedOnce && call.name === 'PutObject' && call.input.Key === 'results/k.jpg.json' && !String(call.input.Body).includes('errorType')) {
        failedOnce = true;
        throw Object.assign(new Error('InternalError'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
      }
    };
    expect((await w.run(sqs(v1))).batchItemFailures).toHaveLength(1);
    expect(w.s3.keys('outputs/')).toEqual([`${BUCKET}/outputs/k.jpg`]);
    // The redelivery's read is refused (412: v2 is there): superseded, and v1's image goes.
    expect(await w.run(sqs(v1))).toEqual({ batchItemFailures: [] });
    expect(w.outcomes()).toEqual(['refused', 'superseded']);
    expect(w.s3.keys('outputs/')).toEqual([]);
    expect(w.record('results/k.jpg.json')).toMatchObject({ errorType: 'UnsupportedImage' });
  });

  test('a refused newer version removes the output of an older one', async () => {
    const w = world();
    await w.run(sqs(put(w, 'inputs/k.jpg', 'v1')));
    await w.run(sqs(put(w, 'inputs/k.jpg', 'v2', { mark: 'sparkle' })));
    expect(w.record('results/k.jpg.json')).toMatchObject({ errorType: 'InvalidInput' });
    expect(w.s3.keys('outputs/')).toEqual([]);
  });
});

test("S3's 409 ConditionalRequestConflict (two conditional writes at once) is read again like a 412, not a failure", async () => {
  const w = world();
  const message = put(w, 'inputs/k.jpg', 'v1');
  let conflicts = 0;
  w.s3.before = (call) => {
    if (call.name === 'PutObject' && conflicts < 2) {
      conflicts++;
      throw Object.assign(new Error('ConditionalRequestConflict'), { name: 'ConditionalRequestConflict', $metadata: { httpStatusCode: 409 } });
    }
  };
  expect(await w.run(sqs(message))).toEqual({ batchItemFailures: [] });
  expect(conflicts).toBe(2);
  expect(w.outcomes()).toEqual(['processed']);
  expect(tinyJpegText(w.s3.get(BUCKET, 'outputs/k.jpg')!.body)).toBe('jpeg of v1');
  expect(w.record('results/k.jpg.json')).toMatchObject({ faces: 1, outputKey: 'outputs/k.jpg' });
});

test('a replace refused with 404 (the product was deleted between its read and the write) reads again: the latest version is written, not failed', async () => {
  const w = world();
  await w.run(sqs(put(w, 'inputs/r.jpg', 'v1')));
  const removal = notification('inputs/r.jpg', w.s3.remove(BUCKET, 'inputs/r.jpg'), 'ObjectRemoved:Delete');
  const v2 = put(w, 'inputs/r.jpg', 'v2');
  // v2 finds v1's image and replaces it If-Match; just before that replace, the removal deletes v1's products.
  let removed = false;
  w.s3.before = async (call) => {
    if (!removed && call.name === 'PutObject' && call.input.Key === 'outputs/r.jpg' && call.input.IfMatch) {
      removed = true;
      await w.run(sqs(removal));
    }
  };
  expect(await w.run(sqs(v2))).toEqual({ batchItemFailures: [] });
  expect(removed).toBe(true);
  expect(w.outcomes()).toEqual(['processed', 'removed', 'processed']);
  expect(tinyJpegText(w.s3.get(BUCKET, 'outputs/r.jpg')!.body)).toBe('jpeg of v2');
  expect(w.record('results/r.jpg.json').source.sequencer).toBe(JSON.parse(v2).Records[0].s3.object.sequencer);
});

describe('deletes: a removed key leaves no record and no output', () => {
  test('the removal event deletes what an older version made', async () => {
    const w = world();
    await w.run(sqs(put(w, 'inputs/d.jpg', 'v1')));
    const removed = notification('inputs/d.jpg', w.s3.remove(BUCKET, 'inputs/d.jpg'), 'ObjectRemoved:Delete');
    expect(await w.run(sqs(removed))).toEqual({ batchItemFailures: [] });
    expect(w.outcomes()).toEqual(['processed', 'removed']);
    expect(w.s3.keys()).toEqual([]);
  });

  test('a late removal event leaves a newer upload of the key alone', async () => {
    const w = world();
    await w.run(sqs(put(w, 'inputs/d.jpg', 'v1')));
    const removed = notification('inputs/d.jpg', w.s3.remove(BUCKET, 'inputs/d.jpg'), 'ObjectRemoved:Delete');
    await w.run(sqs(put(w, 'inputs/d.jpg', 'v3')));
    await w.run(sqs(removed));
    expect(tinyJpegText(w.s3.get(BUCKET, 'outputs/d.jpg')!.body)).toBe('jpeg of v3');
  });

  test('deleted while a failed delivery\'s image was out (its removal ran first): the redelivery finds the key gone and removes the image', async () => {
    const w = world();
    const v1 = put(w, 'inputs/d.jpg', 'v1');
    let step = 0;
    w.s3.before = async (call) => {
      if (step === 0 && call.name === 'PutObject' && call.input.Key === 'outputs/d.jpg') {
        // The key is deleted and its removal handled just before v1's image is written: the removal finds nothing.
        step = 1;
        await w.run(sqs(notification('inputs/d.jpg', w.s3.remove(BUCKET, 'inputs/d.jpg'), 'ObjectRemoved:Delete')));
      } else if (step === 1 && call.name === 'PutObject' && call.input.Key === 'results/d.jpg.json') {
        step = 2;
        throw Object.assign(new Error('InternalError'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
      }
    };
    expect((await w.run(sqs(v1))).batchItemFailures).toHaveLength(1);
    expect(w.s3.keys()).toEqual([`${BUCKET}/outputs/d.jpg`]);
    expect(await w.run(sqs(v1))).toEqual({ batchItemFailures: [] });
    expect(w.outcomes()).toEqual(['removed', 'gone']);
    expect(w.s3.keys()).toEqual([]);
  });

  test('deleted (and its removal handled) while it was processed: the writes are taken back', async () => {
    const w = world();
    const v1 = put(w, 'inputs/d.jpg', 'v1');
    w.during.set('v1', async () => {
      await w.run(sqs(notification('inputs/d.jpg', w.s3.remove(BUCKET, 'inputs/d.jpg'), 'ObjectRemoved:Delete')));
    });
    await w.run(sqs(v1));
    expect(w.outcomes()).toEqual(['removed', 'gone']);
    expect(w.s3.keys()).toEqual([]);
  });
});

describe('poison: handled once', () => {
  test.each([
    ['not JSON', 'not json', /not JSON/],
    ['not a notification', JSON.stringify({ hello: 'world' }), /not an S3 event notification/],
    ['a malformed key', notification('x', { sequencer: '01' }).replace('"key":"x"', '"key":"inputs/100%+off.jpg"'), /not URL-encoded as S3 encodes keys/],
    ['a record without a key', JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: BUCKET }, object: {} } }] }), /without eventName, bucket or key/],
    // An input key of 1,021 bytes (S3 takes up to 1,024): results/<path>.json needs 6 more, so no record, not even a refusal, can be written.
    ['a key whose result would pass S3\'s 1,024 bytes', notification(`inputs/${'é'.repeat(505)}.jpg`, { sequencer: '01' }), /^the key "inputs\/é+\.\.\.": its products would need a key of 1027 bytes, over S3's 1024$/],
  ])('%s: dead-lettered once with its reason, acknowledged, never retried', async (_name, body, reason) => {
    const w = world();
    expect(await w.run(sqs(body))).toEqual({ batchItemFailures: [] });
    expect(w.deadLetters).toEqual([{ body, reason: expect.stringMatching(reason) }]);
    expect(w.lines.find((l) => l.message === 'upload message dead-lettered')?.fields).toMatchObject({ outcome: 'poison', reason: expect.stringMatching(reason) });
  });

  test('when the dead-letter send fails, the message is retried (and reaches the dead-letter queue by its receive limit)', async () => {
    const w = world();
    w.ports.queue.deadLetter = async () => {
      throw storageFailed('SQS refused');
    };
    expect((await w.run(sqs('not json'))).batchItemFailures).toHaveLength(1);
  });
});

test("S3's test event, other events, folder markers, other prefixes and buckets are acknowledged and ignored", async () => {
  const w = world();
  const other = JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'other-bucket' }, object: { key: 'inputs/a.png', eTag: 'e' } } }] });
  const response = await w.run(
    sqs(
      JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2026-11-26T12:00:00Z', Bucket: BUCKET }),
      notification('inputs/a.png', { sequencer: '01' }, 'ObjectRestore:Completed'),
      notification('inputs/folder/', { eTag: 'e', sequencer: '01' }),
      notification('tmp/marked.jpg', { eTag: 'e', sequencer: '01' }),
      other,
    ),
  );
  expect(response).toEqual({ batchItemFailures: [] });
  expect(w.outcomes()).toEqual(['ignored', 'ignored', 'ignored', 'ignored', 'ignored']);
  expect(w.s3.calls).toEqual([]);
});

describe('deadlines (a fake clock)', () => {
  test("a photo starts only when its worst case fits; the rest go back as new messages, so deferring never uses up a receive", async () => {
    const w = world();
    const event = sqs(put(w, 'inputs/a.jpg', 'a'), put(w, 'inputs/b.jpg', 'b'), put(w, 'inputs/c.jpg', 'c'));
    const worst = photoWorstCaseMs({ ...settings, answerMarginMs: 0 });
    // Every term counts: read 2 s + detect 5 s + image work 1.5 s + write 1 s (+ the margin, 0 here).
    expect(worst).toBe(9_500);
    // The invocation's start, then before the 2nd and 3rd photo: exactly the worst case fits, one ms less does not.
    const left = [60_000, worst, worst - 1];
    const response = await w.run(event, () => left.shift() ?? 0);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(w.outcomes()).toEqual(['processed', 'processed']);
    expect(w.requeued).toEqual([event.Records[2].body]);
    expect(w.lines.find((l) => l.message === 'upload batch done')?.fields).toMatchObject({ processed: 2, deferred: 1 });
    expect(w.lines.find((l) => l.message === 'upload deferred')?.fields).toMatchObject({ remainingMs: worst - 1, worstCaseMs: worst });
  });

  test('the work after detection counts: a photo whose read, budget and writes fit but not its image work is not started', async () => {
    const w = world();
    const event = sqs(put(w, 'inputs/a.jpg', 'a'), put(w, 'inputs/b.jpg', 'b'));
    const withoutWork = settings.downloadTimeoutMs + settings.detectBudgetMs + settings.writeTimeoutMs;
    const left = [60_000, withoutWork + settings.imageWorkMs - 1];
    await w.run(event, () => left.shift() ?? 0);
    expect(w.outcomes()).toEqual(['processed']);
    expect(w.requeued).toEqual([event.Records[1].body]);
  });

  test('the time kept to answer counts: a photo starts only when its worst case, the margin included, fits the time left', async () => {
    const w = world();
    const event = sqs(put(w, 'inputs/a.jpg', 'a'), put(w, 'inputs/b.jpg', 'b'), put(w, 'inputs/c.jpg', 'c'));
    const margin = 500;
    const worst = photoWorstCaseMs({ ...settings, answerMarginMs: margin });
    expect(worst).toBe(photoWorstCaseMs({ ...settings, answerMarginMs: 0 }) + margin);
    const left = [60_000, worst, worst - 1];
    await handleUploads(event, w.ports, { ...settings, answerMarginMs: margin }, () => left.shift() ?? 0);
    expect(w.outcomes()).toEqual(['processed', 'processed']);
    expect(w.requeued).toEqual([event.Records[2].body]);
  });

  test('deferred more times than the receive limit, a message never reaches the dead-letter queue: each deferral is a new message with receive count 1', async () => {
    // The local queue (SQS semantics: receive counts, visibility, redrive at maxReceiveCount), on a given clock.
    let now = 0;
    const q = new LocalQueue({ name: 'uploads', visibilityTimeoutMs: 1_000, maxReceiveCount: 2, now: () => now });
    const w = world();
    w.ports.queue.requeue = async (record) => void q.send(record.body);
    const late = put(w, 'inputs/late.jpg', 'late');
    q.send(late);
    const deliveriesOfLate: number[] = [];
    // Each round: a fresh photo (the first of a batch always runs), then the late one with too little time left.
    for (let round = 0; round < 5; round++) {
      q.send(put(w, `inputs/first-${round}.jpg`, `first-${round}`));
      // The late one last (it is the oldest): the first record gets all the time, every later one none.
      const received = q.receive(10).sort((a, b) => Number(a.body === late) - Number(b.body === late));
      const event = sqs(...received.map((m) => m.body));
      event.Records.forEach((r, i) => Object.assign(r, { messageId: received[i].messageId, attributes: { ...r.attributes, ApproximateReceiveCount: String(received[i].receiveCount) } }));
      const left = [60_000];
      const response = await w.run(event, () => left.shift() ?? 0);
      for (const m of received) {
        if (m.body === late) deliveriesOfLate.push(m.receiveCount);
        // What the event source mapping does: a message not reported failed is deleted.
        if (!response.batchItemFailures.some((f) => f.itemIdentifier === m.messageId)) q.delete(m.messageId, m.receiptHandle);
      }
      now += 1_000;
    }
    expect(deliveriesOfLate).toEqual([1, 1, 1, 1, 1]);
    expect(q.deadLetters).toEqual([]);
    expect(q.depth()).toEqual({ visible: 1, inFlight: 0 });
    // With time enough it runs, as any upload.
    const [last] = q.receive(1);
    expect(last.body).toBe(late);
    await w.run(sqs(last.body));
    expect(w.record('results/late.jpg.json')).toMatchObject({ outputKey: 'outputs/late.jpg' });
  });

  test('the first photo always runs; a deferral that cannot be sent goes back by batchItemFailures', async () => {
    const w = world();
    w.ports.queue.requeue = async () => {
      throw storageFailed('SQS refused');
    };
    const event = sqs(put(w, 'inputs/a.jpg', 'a'), put(w, 'inputs/b.jpg', 'b'));
    const response = await w.run(event, () => 10);
    expect(w.outcomes()).toEqual(['processed']);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[1].messageId }]);
  });

  describe('every S3 call is bounded', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());
    const hang = (w: ReturnType<typeof world>, name: string) => {
      w.s3.before = (call) =>
        call.name === name
          ? new Promise<void>((_resolve, reject) => call.signal!.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))))
          : undefined;
    };

    test('a read that hangs ends at the read deadline: StorageFailed, retried, nothing written', async () => {
      const w = world();
      hang(w, 'GetObject');
      const done = w.run(sqs(put(w, 'inputs/a.jpg', 'a')));
      await jest.advanceTimersByTimeAsync(settings.downloadTimeoutMs - 1);
      expect(w.lines.find((l) => l.message === 'upload batch done')).toBeUndefined();
      await jest.advanceTimersByTimeAsync(1);
      expect((await done).batchItemFailures).toHaveLength(1);
      expect(w.lines.find((l) => l.message === 'upload failed, will be retried')?.fields.error).toMatch(/out of time/);
      expect(w.s3.keys('outputs/')).toEqual([]);
    });

    test("a queue send that hangs (a deferral's requeue, a dead letter) ends at the invocation's deadline: the message goes back by batchItemFailures and the batch answers in time", async () => {
      const w = world();
      const hangUntilAborted = (signal: AbortSignal) =>
        new Promise<void>((_resolve, reject) => {
          if (signal.aborted) reject(storageFailed('out of time'));
          signal.addEventListener('abort', () => reject(storageFailed('out of time')));
        });
      w.ports.queue.requeue = async (_record, signal) => hangUntilAborted(signal);
      w.ports.queue.deadLetter = async (_record, _reason, signal) => hangUntilAborted(signal);
      const event = sqs('not json', put(w, 'inputs/b.jpg', 'b'));
      // 1 s left at the start: the poison one runs first (its dead letter hangs), the photo is deferred (its requeue hangs).
      let answered = false;
      const done = w.run(event, () => 1_000).then((r) => ((answered = true), r));
      await jest.advanceTimersByTimeAsync(999);
      expect(answered).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect((await done).batchItemFailures).toEqual(event.Records.map((r) => ({ itemIdentifier: r.messageId })));
      expect(jest.getTimerCount()).toBe(0);
    });

    test("a write that hangs ends at the write deadline; the invocation's own deadline bounds both", async () => {
      const w = world();
      hang(w, 'PutObject');
      const done = w.run(sqs(put(w, 'inputs/a.jpg', 'a')));
      await jest.advanceTimersByTimeAsync(settings.writeTimeoutMs);
      expect((await done).batchItemFailures).toHaveLength(1);

      const late = world();
      hang(late, 'GetObject');
      const ended = late.run(sqs(put(late, 'inputs/a.jpg', 'a')), () => 300);
      await jest.advanceTimersByTimeAsync(300);
      expect((await ended).batchItemFailures).toHaveLength(1);
      // No timer of this invocation outlives it.
      expect(jest.getTimerCount()).toBe(0);
    });
  });
});
