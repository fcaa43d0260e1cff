/**
 * Uploads processed on their own, locally, driven by the real AWS CLI as a user would: photos
 * copied under inputs/ become result records under results/ (the real bundle and layer, through
 * S3 events -> queue -> detect-faces batches); typed failures are recorded once and never retried;
 * an unexpected failure is retried and then processed; one that never stops failing ends in the
 * dead-letter queue while the rest go on.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { AWS_CLI } from '../helpers/clients';
import { FACES_DIR, readLabels } from '../helpers/image-server';
import { listKeys, localS3Client, type TestS3 } from '../helpers/s3';
import { serve, usage, type RunningServe } from '../../local/serve';
import type { BatchReport } from '../../local/event-source-mapping';
import { decodeEventKey } from '../../functions/detect-faces/uploads/events';
import { tempDir } from '../helpers/temp';
import { recallPrecision } from '../../bench/detection-quality';
import type { Box, Rect } from '../../functions/detect-faces/detect/boxes';

jest.setTimeout(180_000);

const MAX_RECEIVES = 3;
// Longer than a batch takes here, cold start and a machine under load included (a shorter one would deliver a slow batch twice, as SQS would).
const VISIBILITY_MS = 10_000;
let local: RunningServe;
let dataDir: string;
let work: string;
let client: S3Client;
let s3: TestS3;
const reports: BatchReport[] = [];
const logs: string[] = [];

function aws(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      AWS_CLI,
      [...args, '--endpoint-url', local.stack.s3.endpoint],
      {
        cwd: work,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: work, AWS_ACCESS_KEY_ID: 'AKIDLOCALEXAMPLE', AWS_SECRET_ACCESS_KEY: 'local-secret', AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' },
      },
      (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Every delivery of the upload with this key (from the batches the mapping reported). */
function deliveries(key: string): { receiveCount: number; failed: boolean }[] {
  const out: { receiveCount: number; failed: boolean }[] = [];
  for (const r of reports) {
    for (const m of r.messages) {
      const body = JSON.parse(m.body);
      if (body.Records?.some((x: { s3: { object: { key: string } } }) => decodeEventKey(x.s3.object.key) === key)) out.push({ receiveCount: m.receiveCount, failed: r.failedIds.includes(m.messageId) });
    }
  }
  return out;
}

/** The queue messages that carried the upload with this key. */
function messageIds(key: string): Set<string> {
  const ids = new Set<string>();
  for (const r of reports) {
    for (const m of r.messages) if (JSON.parse(m.body).Records?.some((x: { s3: { object: { key: string } } }) => decodeEventKey(x.s3.object.key) === key)) ids.add(m.messageId);
  }
  return ids;
}

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function readJson(key: string): Promise<any> {
  const out = await client.send(new GetObjectCommand({ Bucket: local.stack.bucket, Key: key }));
  return JSON.parse(await out.Body!.transformToString());
}

const md5 = (file: string) => createHash('md5').update(fs.readFileSync(file)).digest('hex');

/** A plain file where S3 would need a folder: s3rver then answers 500 to every PUT under it, as a failing S3 would. */
function breakPrefix(prefix: string): () => void {
  const blocker = path.join(dataDir, local.stack.bucket, ...prefix.replace(/\/$/, '').split('/'));
  const aside = `${blocker}.aside`;
  const existed = fs.existsSync(blocker);
  if (existed) fs.renameSync(blocker, aside);
  fs.mkdirSync(path.dirname(blocker), { recursive: true });
  fs.writeFileSync(blocker, 'not a folder');
  return () => {
    fs.rmSync(blocker);
    if (existed) fs.renameSync(aside, blocker);
  };
}

beforeAll(async () => {
  process.env.FACE_UPLOAD_MAX_RECEIVE_COUNT = String(MAX_RECEIVES);
  dataDir = tempDir('uploads-s3', { memory: true });
  work = tempDir('uploads-cli');
  local = await serve({ port: 0, s3Port: 0, filesPort: 0, dataDir, uploads: { visibilityTimeoutMs: VISIBILITY_MS, onBatch: (r) => reports.push(r) }, log: (l) => logs.push(l) });
  client = localS3Client(local.stack.s3.endpoint);
  s3 = { server: local.stack.s3, client, directory: dataDir, bucket: local.stack.bucket, close: async () => undefined };
});

afterAll(async () => {
  delete process.env.FACE_UPLOAD_MAX_RECEIVE_COUNT;
  client?.destroy();
  await local?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

test('the banner says how to upload and where the results appear', () => {
  const text = usage(local);
  expect(text).toContain(`aws s3 cp photo.jpg s3://${local.stack.bucket}/inputs/ --endpoint-url ${local.stack.s3.endpoint}`);
  expect(text).toContain(`aws s3 ls s3://${local.stack.bucket}/results/ --recursive --endpoint-url ${local.stack.s3.endpoint}`);
  expect(text).toMatch(/dead letters after 3 receives/);
});

test("S3's test event is acknowledged and ignored", async () => {
  await until('the test event', () => reports.find((r) => r.messages.some((m) => m.body.includes('s3:TestEvent'))));
  const report = reports.find((r) => r.messages.some((m) => m.body.includes('s3:TestEvent')))!;
  expect(report.invocation.ok).toBe(true);
  expect(report.failedIds).toEqual([]);
});

test('20 labelled photos copied with aws s3 cp --recursive: 20 result records, each finding its photo\'s labelled faces, each processed once', async () => {
  const labels = readLabels();
  expect(labels).toHaveLength(4);
  const folder = path.join(work, 'album');
  const expected = new Map<string, { truth: readonly Rect[]; eTag: string }>();
  for (let i = 0; i < 20; i++) {
    const label = labels[i % labels.length];
    const name = `${i < 10 ? 'day one' : 'day-two'}/${String(i).padStart(2, '0')}-${label.file}`;
    const file = path.join(folder, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.copyFileSync(path.join(FACES_DIR, label.file), file);
    expected.set(name, { truth: label.boxes, eTag: md5(file) });
  }
  const cp = await aws('s3', 'cp', folder, `s3://${local.stack.bucket}/inputs/album/`, '--recursive');
  expect(cp.stderr).toBe('');
  expect(cp.status).toBe(0);

  const keys = await until('20 result records', async () => {
    const k = await listKeys(s3, 'results/album/');
    return k.length === 20 ? k : undefined;
  });
  expect(keys).toEqual([...expected.keys()].map((n) => `results/album/${n}.json`).sort());
  for (const [name, { truth, eTag }] of expected) {
    const record = await readJson(`results/album/${name}.json`);
    // Every labelled face of the photo, and no more boxes than the record counts. The labels leave
    // out some small background faces the detector finds (a 15x20 face behind a bar in 2008_002079).
    expect([name, recallPrecision([{ found: record.boxes as Box[], truth }]).recall]).toEqual([name, 1]);
    expect([name, record]).toEqual([
      name,
      expect.objectContaining({
        faces: (record.boxes as Box[]).length,
        width: expect.any(Number),
        outputKey: `outputs/album/${name}`,
        options: {},
        source: { bucket: local.stack.bucket, key: `inputs/album/${name}`, eTag, sequencer: expect.stringMatching(/^[0-9A-F]+$/) },
      }),
    ]);
    expect(deliveries(`inputs/album/${name}`)).toEqual([{ receiveCount: 1, failed: false }]);
  }
  // The CLI lists them too.
  const ls = await aws('s3', 'ls', `s3://${local.stack.bucket}/results/album/`, '--recursive');
  expect(ls.stdout.trim().split('\n')).toHaveLength(20);
  // One redacted image per photo, beside its input's path, none under the cleanup's tmp/.
  expect(await listKeys(s3, 'outputs/album/')).toEqual([...expected.keys()].map((n) => `outputs/album/${n}`).sort());
});

test('a repeated upload of the same bytes rewrites the same redacted image and record (the newer event)', async () => {
  const file = path.join(FACES_DIR, 'grace_hopper_512x512.jpg');
  const first = await aws('s3', 'cp', file, `s3://${local.stack.bucket}/inputs/again/grace.jpg`);
  expect(first.status).toBe(0);
  const one = await until('the first record', async () => ((await listKeys(s3, 'results/again/')).length ? readJson('results/again/grace.jpg.json') : undefined));
  const tmpBefore = (await listKeys(s3, 'tmp/')).length;
  expect((await aws('s3', 'cp', file, `s3://${local.stack.bucket}/inputs/again/grace.jpg`)).status).toBe(0);
  await until('the second delivery', () => deliveries('inputs/again/grace.jpg').length === 2 || undefined);
  const two = await readJson('results/again/grace.jpg.json');
  expect({ ...two, source: { ...two.source, sequencer: 'x' } }).toEqual({ ...one, source: { ...one.source, sequencer: 'x' } });
  expect(two.source.sequencer > one.source.sequencer).toBe(true);
  expect((await listKeys(s3, 'tmp/')).length).toBe(tmpBefore);
  expect(await listKeys(s3, 'outputs/again/')).toEqual(['outputs/again/grace.jpg']);
});

test('a non-image and a truncated JPEG: typed error records, never retried', async () => {
  const text = path.join(work, 'notes.txt');
  fs.writeFileSync(text, 'these are my notes, not a photo\n'.repeat(10));
  const truncated = path.join(work, 'cut.jpg');
  fs.writeFileSync(truncated, fs.readFileSync(path.join(FACES_DIR, 'grace_hopper_512x512.jpg')).subarray(0, 20_000));
  expect((await aws('s3', 'cp', text, `s3://${local.stack.bucket}/inputs/bad/notes.txt`)).status).toBe(0);
  expect((await aws('s3', 'cp', truncated, `s3://${local.stack.bucket}/inputs/bad/cut.jpg`)).status).toBe(0);
  await until('two error records', async () => (await listKeys(s3, 'results/bad/')).length === 2 || undefined);
  expect(await readJson('results/bad/notes.txt.json')).toEqual({
    errorType: 'UnsupportedImage',
    errorMessage: expect.any(String),
    source: { bucket: local.stack.bucket, key: 'inputs/bad/notes.txt', eTag: md5(text), sequencer: expect.any(String) },
  });
  expect(await listKeys(s3, 'outputs/bad/')).toEqual([]);
  expect(await readJson('results/bad/cut.jpg.json')).toMatchObject({ errorType: 'UnsupportedImage', source: { key: 'inputs/bad/cut.jpg', eTag: md5(truncated) } });
  // No waiting out a visibility timeout: a delivery reported as not failed has had its message
  // deleted (the mapping deletes before it reports), and a deleted message never comes back.
  await until('both deliveries reported', () => (deliveries('inputs/bad/notes.txt').length && deliveries('inputs/bad/cut.jpg').length) || undefined);
  expect(deliveries('inputs/bad/notes.txt')).toEqual([{ receiveCount: 1, failed: false }]);
  expect(deliveries('inputs/bad/cut.jpg')).toEqual([{ receiveCount: 1, failed: false }]);
  const ids = [...messageIds('inputs/bad/notes.txt'), ...messageIds('inputs/bad/cut.jpg')];
  expect(ids).toHaveLength(2);
  for (const id of ids) expect(local.stack.uploads.queue.has(id)).toBe(false);
});

test('S3 refusing the result record once: retried after the visibility timeout, then processed', async () => {
  const repair = breakPrefix('results/flaky/');
  expect((await aws('s3', 'cp', path.join(FACES_DIR, 'grace_hopper_512x512.jpg'), `s3://${local.stack.bucket}/inputs/flaky/once.jpg`)).status).toBe(0);
  await until('a failed delivery', () => deliveries('inputs/flaky/once.jpg').some((d) => d.failed) || undefined);
  repair();
  const record = await until('the record', async () => ((await listKeys(s3, 'results/flaky/')).length ? readJson('results/flaky/once.jpg.json') : undefined));
  expect(record).toMatchObject({ faces: 1, source: { key: 'inputs/flaky/once.jpg' } });
  expect(deliveries('inputs/flaky/once.jpg')).toEqual([
    { receiveCount: 1, failed: true },
    { receiveCount: 2, failed: false },
  ]);
});

test('S3 refusing the redacted image once: retried after the visibility timeout, then processed', async () => {
  const repair = breakPrefix('outputs/flaky/');
  expect((await aws('s3', 'cp', path.join(FACES_DIR, 'grace_hopper_512x512.jpg'), `s3://${local.stack.bucket}/inputs/flaky/marked.jpg`)).status).toBe(0);
  await until('a failed delivery', () => deliveries('inputs/flaky/marked.jpg').some((d) => d.failed) || undefined);
  repair();
  const record = await until('the record', async () => ((await listKeys(s3, 'results/flaky/')).includes('results/flaky/marked.jpg.json') ? readJson('results/flaky/marked.jpg.json') : undefined));
  expect(record).toMatchObject({ faces: 1, source: { key: 'inputs/flaky/marked.jpg' } });
  expect(deliveries('inputs/flaky/marked.jpg')).toEqual([
    { receiveCount: 1, failed: true },
    { receiveCount: 2, failed: false },
  ]);
  expect((await client.send(new GetObjectCommand({ Bucket: local.stack.bucket, Key: record.outputKey }))).ContentType).toBe('image/jpeg');
});

test('a photo that always fails ends in the dead-letter queue after the receive limit; the others are unaffected', async () => {
  breakPrefix('results/poison/');
  const photo = path.join(FACES_DIR, 'grace_hopper_512x512.jpg');
  expect((await aws('s3', 'cp', photo, `s3://${local.stack.bucket}/inputs/poison/never.jpg`)).status).toBe(0);
  for (const n of ['a', 'b', 'c']) expect((await aws('s3', 'cp', photo, `s3://${local.stack.bucket}/inputs/fine/${n}.jpg`)).status).toBe(0);
  const letter = await until('a dead letter', () => local.stack.uploads.queue.deadLetters.find((d) => d.body.includes('inputs/poison/never.jpg')));
  expect(letter.receiveCount).toBe(MAX_RECEIVES);
  expect(deliveries('inputs/poison/never.jpg')).toEqual([1, 2, 3].map((receiveCount) => ({ receiveCount, failed: true })));
  await until('the others', async () => (await listKeys(s3, 'results/fine/')).length === 3 || undefined);
  for (const n of ['a', 'b', 'c']) expect(deliveries(`inputs/fine/${n}.jpg`)).toEqual([{ receiveCount: 1, failed: false }]);
  expect(await listKeys(s3, 'results/poison/')).toEqual([]);
  // What the server said about it.
  expect(logs.some((l) => /face-detection-detect-faces \(SQS, \d+ messages?\) ok, 1 to retry/.test(l))).toBe(true);
});

test('options as metadata named like the CLI flags: aws s3 cp --metadata mark=fill,padding=0.5,min-face-size=24', async () => {
  const photo = path.join(FACES_DIR, 'grace_hopper_512x512.jpg');
  const cp = await aws('s3', 'cp', photo, `s3://${local.stack.bucket}/inputs/options/filled.jpg`, '--metadata', 'mark=fill,padding=0.5,min-face-size=24');
  expect(cp.status).toBe(0);
  const record = await until('the record', async () => ((await listKeys(s3, 'results/options/')).includes('results/options/filled.jpg.json') ? readJson('results/options/filled.jpg.json') : undefined));
  expect(record).toMatchObject({ faces: 1, mark: 'fill', minFaceSize: 24, options: { mark: 'fill', padding: 0.5, minFaceSize: 24 }, outputKey: 'outputs/options/filled.jpg' });
  const output = await client.send(new GetObjectCommand({ Bucket: local.stack.bucket, Key: 'outputs/options/filled.jpg' }));
  expect(output.ContentType).toBe('image/jpeg');
  expect(output.Metadata).toMatchObject({ mark: 'fill', 'source-etag': md5(photo) });
});

test('an invalid metadata value: a refused record naming the field and its range, no output, not retried', async () => {
  const photo = path.join(FACES_DIR, 'grace_hopper_512x512.jpg');
  expect((await aws('s3', 'cp', photo, `s3://${local.stack.bucket}/inputs/options/bad.jpg`, '--metadata', 'padding=2,mark=blur')).status).toBe(0);
  const record = await until('the record', async () => ((await listKeys(s3, 'results/options/')).includes('results/options/bad.jpg.json') ? readJson('results/options/bad.jpg.json') : undefined));
  expect(record).toMatchObject({ errorType: 'InvalidInput', errorMessage: 'metadata padding must be a number from 0 to 1, got "2"' });
  expect(await listKeys(s3, 'outputs/options/')).toEqual(['outputs/options/filled.jpg']);
  await until('its delivery reported', () => deliveries('inputs/options/bad.jpg').length || undefined);
  expect(deliveries('inputs/options/bad.jpg')).toEqual([{ receiveCount: 1, failed: false }]);
});

test('overwrites racing their own processing: after the queue drains, the record and the output are the last version', async () => {
  const [a, b] = ['grace_hopper_512x512.jpg', readLabels().find((l) => l.boxes.length > 1)!.file].map((f) => path.join(FACES_DIR, f));
  // Five versions one after another, as fast as the CLI puts them: their events overtake each other's processing.
  for (const photo of [a, b, a, b, a]) expect((await aws('s3', 'cp', photo, `s3://${local.stack.bucket}/inputs/race/k.jpg`)).status).toBe(0);
  await until('every version delivered and the queue drained', () => {
    const depth = local.stack.uploads.queue.depth();
    return (deliveries('inputs/race/k.jpg').length >= 5 && depth.visible === 0 && depth.inFlight === 0) || undefined;
  });
  const record = await readJson('results/race/k.jpg.json');
  expect(record.source.eTag).toBe(md5(a));
  const output = await client.send(new HeadObjectCommand({ Bucket: local.stack.bucket, Key: 'outputs/race/k.jpg' }));
  expect(output.Metadata?.['source-etag']).toBe(md5(a));
  expect(output.Metadata?.['source-sequencer']).toBe(record.source.sequencer);
});

test('deleted while in flight, or right after: neither a record nor an output is left', async () => {
  const photo = path.join(FACES_DIR, 'grace_hopper_512x512.jpg');
  for (const n of ['1', '2', '3']) expect((await aws('s3', 'cp', photo, `s3://${local.stack.bucket}/inputs/gone/${n}.jpg`)).status).toBe(0);
  // One deleted at once (probably before it is read), one once it is being processed, one after its record exists.
  expect((await aws('s3', 'rm', `s3://${local.stack.bucket}/inputs/gone/1.jpg`)).status).toBe(0);
  await until('the second one received', () => deliveries('inputs/gone/2.jpg').length || local.stack.uploads.queue.receives.size || undefined);
  expect((await aws('s3', 'rm', `s3://${local.stack.bucket}/inputs/gone/2.jpg`)).status).toBe(0);
  await until('the third record', async () => (await listKeys(s3, 'results/gone/')).includes('results/gone/3.jpg.json') || undefined);
  expect((await aws('s3', 'rm', `s3://${local.stack.bucket}/inputs/gone/3.jpg`)).status).toBe(0);
  await until('all cleaned up', async () => ((await listKeys(s3, 'results/gone/')).length === 0 && (await listKeys(s3, 'outputs/gone/')).length === 0) || undefined);
  await until('the queue drained', () => {
    const depth = local.stack.uploads.queue.depth();
    return (depth.visible === 0 && depth.inFlight === 0) || undefined;
  });
  expect(await listKeys(s3, 'results/gone/')).toEqual([]);
  expect(await listKeys(s3, 'outputs/gone/')).toEqual([]);
  expect(local.stack.uploads.queue.deadLetters.filter((d) => d.body.includes('inputs/gone/'))).toEqual([]);
});

test('an unreadable message goes to the dead-letter queue once, with its reason', async () => {
  local.stack.uploads.queue.send('this is not an S3 event');
  const letter = await until('the dead letter', () => local.stack.uploads.queue.deadLetters.find((d) => d.body === 'this is not an S3 event'));
  expect(letter).toMatchObject({ reason: 'the message is not JSON' });
  expect(reports.filter((r) => r.messages.some((m) => m.body === 'this is not an S3 event')).map((r) => r.failedIds)).toEqual([[]]);
});

test('a direct invocation still works as before', async () => {
  expect((await aws('s3', 'cp', path.join(FACES_DIR, 'grace_hopper_512x512.jpg'), `s3://${local.stack.bucket}/inputs/direct.jpg`)).status).toBe(0);
  const r = await local.stack.detect.invoke({ imageUrl: `${local.stack.s3.endpoint}/${local.stack.bucket}/inputs/direct.jpg` });
  expect(r.result).toMatchObject({ faces: 1, outputUrl: expect.stringMatching(/\/tmp\/\d{4}-/) });
});
