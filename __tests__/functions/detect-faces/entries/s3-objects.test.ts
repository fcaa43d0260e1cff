/**
 * The uploads' S3 side over a fake S3 client (no server): GetObject of the version the event names
 * within the size and time limits, and the result records' PutObject. Failures map to their typed
 * codes: TooLarge (a verdict on the photo), UploadSuperseded (another version), StorageFailed.
 */
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ServiceError } from '../../../../functions/common/errors';
import { createS3UploadStore, readUpload } from '../../../../functions/detect-faces/entries/s3-objects';
import { UploadSuperseded } from '../../../../functions/detect-faces/entries/s3-upload';

const BUCKET = 'photos-bucket';

interface Sent {
  readonly name: string;
  readonly input: Record<string, unknown>;
  readonly abortSignal?: AbortSignal;
}
/** Records every command (its class name, input and the abort signal it was sent with) and answers with `answer`. */
function client(answer: (input: Record<string, unknown>, options: { abortSignal?: AbortSignal }) => unknown): { s3: S3Client; sent: Sent[]; inputs: Record<string, unknown>[] } {
  const sent: Sent[] = [];
  const inputs: Record<string, unknown>[] = [];
  const s3 = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }, options: { abortSignal?: AbortSignal } = {}) => {
      sent.push({ name: command.constructor.name, input: command.input, abortSignal: options.abortSignal });
      inputs.push(command.input);
      return answer(command.input, options);
    },
  } as unknown as S3Client;
  return { s3, sent, inputs };
}
const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as ServiceError);

describe('readUpload (GetObject within limits)', () => {
  const source = { bucket: BUCKET, key: 'inputs/a.jpg', eTag: 'e1' };
  const limits = { maxBytes: 100, timeoutMs: 1000 };

  test('reads the version the event names', async () => {
    const { s3, inputs } = client(() => ({ ETag: '"e1"', ContentLength: 3, Body: Readable.from([Buffer.from('abc')]) }));
    expect((await readUpload(s3, source, limits)).toString()).toBe('abc');
    expect(inputs[0]).toEqual({ Bucket: BUCKET, Key: 'inputs/a.jpg', IfMatch: '"e1"' });
  });

  test('one GetObject, sent with an abort signal; the chunks joined in order; exactly the limit is allowed', async () => {
    const { s3, sent } = client(() => ({ ETag: '"e1"', ContentLength: 100, Body: Readable.from([Buffer.alloc(40, 1), Buffer.alloc(60, 2)]) }));
    const data = await readUpload(s3, source, limits);
    expect(data).toEqual(Buffer.concat([Buffer.alloc(40, 1), Buffer.alloc(60, 2)]));
    expect(sent.map((s) => s.name)).toEqual(['GetObjectCommand']);
    expect(sent[0].abortSignal).toBeInstanceOf(AbortSignal);
    expect(sent[0].abortSignal?.aborted).toBe(false);
  });

  test('an event without an ETag: no If-Match, and whatever version S3 sends is read', async () => {
    const { s3, inputs } = client(() => ({ ETag: '"other"', Body: Readable.from([Buffer.from('xyz')]) }));
    expect((await readUpload(s3, { ...source, eTag: '' }, limits)).toString()).toBe('xyz');
    expect(inputs[0]).toEqual({ Bucket: BUCKET, Key: 'inputs/a.jpg' });
  });

  test('over the limit by its length header, or by what arrives: TooLarge', async () => {
    const big = await errorOf(readUpload(client(() => ({ ETag: '"e1"', ContentLength: 101, Body: Readable.from([]) })).s3, source, limits));
    expect(big).toMatchObject({ code: 'TooLarge' });
    const lying = await errorOf(readUpload(client(() => ({ ETag: '"e1"', ContentLength: 10, Body: Readable.from([Buffer.alloc(60), Buffer.alloc(60)]) })).s3, source, limits));
    expect(lying).toMatchObject({ code: 'TooLarge' });
  });

  test('a refused body is not left open: the stream is destroyed', async () => {
    const byHeader = Readable.from([Buffer.alloc(10)]);
    await errorOf(readUpload(client(() => ({ ETag: '"e1"', ContentLength: 101, Body: byHeader })).s3, source, limits));
    expect(byHeader.destroyed).toBe(true);
    // Endless: only the cap ends this read.
    let sentBytes = 0;
    const endless = new Readable({
      read() {
        sentBytes += 30;
        this.push(Buffer.alloc(30));
      },
    });
    const e = await errorOf(readUpload(client(() => ({ ETag: '"e1"', Body: endless })).s3, source, limits));
    expect(e).toMatchObject({ code: 'TooLarge', message: expect.stringContaining('100 bytes') });
    expect(endless.destroyed).toBe(true);
    expect(sentBytes).toBeLessThan(1000);
  });

  test('another version: superseded, whether S3 says 412 or sends it anyway', async () => {
    expect(await errorOf(readUpload(client(() => ({ ETag: '"e2"', Body: Readable.from([]) })).s3, source, limits))).toBeInstanceOf(UploadSuperseded);
    const s3 = client(() => {
      throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
    }).s3;
    expect(await errorOf(readUpload(s3, source, limits))).toBeInstanceOf(UploadSuperseded);
  });

  test('superseded: by the 412 status alone too; the message names the object and both versions; code StorageFailed', async () => {
    const by412 = await errorOf(
      readUpload(
        client(() => {
          throw Object.assign(new Error('UnknownError'), { name: 'Unknown', $metadata: { httpStatusCode: 412 } });
        }).s3,
        source,
        limits,
      ),
    );
    expect(by412).toBeInstanceOf(UploadSuperseded);
    const sentAnyway = await errorOf(readUpload(client(() => ({ ETag: '"e2"', Body: Readable.from([Buffer.from('new')]) })).s3, source, limits));
    expect(sentAnyway).toMatchObject({ code: 'StorageFailed', message: expect.stringContaining(`s3://${BUCKET}/inputs/a.jpg changed after the event (ETag e1, now e2)`) });
  });

  test('any other failure to read is StorageFailed (retried)', async () => {
    const s3 = client(() => {
      throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    }).s3;
    const e = await errorOf(readUpload(s3, source, limits));
    expect(e).toMatchObject({ code: 'StorageFailed', message: expect.stringContaining('AccessDenied') });
    expect(e).not.toBeInstanceOf(UploadSuperseded);
  });

  test('past the time limit: the request is aborted and the error says it took too long (StorageFailed)', async () => {
    // The fake answers only when the signal it was given aborts: no race with a clock of our own.
    const { s3, sent } = client(
      (_input, { abortSignal }) =>
        new Promise((_resolve, reject) => {
          if (!abortSignal) reject(new Error('sent without an abort signal'));
          abortSignal?.addEventListener('abort', () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })), { once: true });
        }),
    );
    const e = await errorOf(readUpload(s3, source, { maxBytes: 100, timeoutMs: 1 }));
    expect(sent[0].abortSignal?.aborted).toBe(true);
    expect(e).toMatchObject({ code: 'StorageFailed', message: `reading s3://${BUCKET}/inputs/a.jpg failed (took longer than 0.001 s); it will be retried` });
    expect((e?.cause as Error).name).toBe('AbortError');
  });
});

describe('createS3UploadStore', () => {
  test('read: readUpload with the given client', async () => {
    const { s3, inputs } = client(() => ({ ETag: '"e1"', Body: Readable.from([Buffer.from('jpeg')]) }));
    const store = createS3UploadStore(s3, BUCKET);
    expect((await store.read({ bucket: 'elsewhere', key: 'inputs/b.jpg', eTag: 'e1' }, { maxBytes: 10, timeoutMs: 1000 })).toString()).toBe('jpeg');
    // The source names its bucket (the event's), not the store's.
    expect(inputs).toEqual([{ Bucket: 'elsewhere', Key: 'inputs/b.jpg', IfMatch: '"e1"' }]);
  });

  test('writeJson: one PutObject to the store\'s bucket, the JSON with a final newline, application/json', async () => {
    const { s3, sent } = client(() => ({}));
    await createS3UploadStore(s3, BUCKET).writeJson('results/a/b.jpg.json', { faces: [{ x: 1 }], source: { key: 'inputs/a/b.jpg' } });
    expect(sent.map((s) => s.name)).toEqual(['PutObjectCommand']);
    const { Body, ...rest } = sent[0].input;
    expect(rest).toEqual({ Bucket: BUCKET, Key: 'results/a/b.jpg.json', ContentType: 'application/json' });
    expect(Buffer.isBuffer(Body)).toBe(true);
    expect((Body as Buffer).toString('utf8')).toBe('{"faces":[{"x":1}],"source":{"key":"inputs/a/b.jpg"}}\n');
  });

  test('writeJson refused: StorageFailed naming the S3 error, the error kept as the cause', async () => {
    const slow = Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
    const { s3 } = client(() => {
      throw slow;
    });
    const e = await errorOf(createS3UploadStore(s3, BUCKET).writeJson('results/x.json', {}));
    expect(e).toMatchObject({ code: 'StorageFailed', message: 'writing the result record failed (SlowDown)' });
    expect(e?.cause).toBe(slow);
  });
});
