/**
 * Uploads under faults, driven by the real AWS CLI against `npm run serve` in fault mode
 * (FACE_LOCAL_S3_FAULTS: a fifth of the functions' S3 requests answered 503 SlowDown, 500, a
 * reset connection or nothing until past the client's timeout). Photos uploaded, some overwritten
 * and some deleted while the queue is busy: once it drains, S3 alone shows every remaining key with
 * one record and one output of its current version, and nothing for the deleted ones.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { AWS_CLI } from '../helpers/clients';
import { FACES_DIR, readLabels } from '../helpers/image-server';
import { listKeys, localS3Client, type TestS3 } from '../helpers/s3';
import { serve, type RunningServe } from '../../local/serve';
import type { BatchReport } from '../../local/event-source-mapping';
import { tempDir } from '../helpers/temp';

jest.setTimeout(240_000);

let local: RunningServe;
let dataDir: string;
let work: string;
let client: S3Client;
let s3: TestS3;
const reports: BatchReport[] = [];

function aws(...args: string[]): Promise<number> {
  return new Promise((resolve) => {
    execFile(
      AWS_CLI,
      [...args, '--endpoint-url', local.stack.s3.endpoint],
      { cwd: work, env: { PATH: process.env.PATH, HOME: work, AWS_ACCESS_KEY_ID: 'AKIDLOCALEXAMPLE', AWS_SECRET_ACCESS_KEY: 'local-secret', AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' } },
      (error) => resolve(error ? Number(error.code ?? 1) : 0),
    );
  });
}

beforeAll(async () => {
  dataDir = tempDir('uploads-faults', { memory: true });
  work = tempDir('uploads-faults-cli');
  local = await serve({ port: 0, s3Port: 0, filesPort: 0, dataDir, uploads: { s3Faults: 0.2, visibilityTimeoutMs: 8000, onBatch: (r) => reports.push(r) }, log: () => undefined });
  client = localS3Client(local.stack.s3.endpoint);
  s3 = { server: local.stack.s3, client, directory: dataDir, bucket: local.stack.bucket, close: async () => undefined };
});

afterAll(async () => {
  client?.destroy();
  await local?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

test('12 uploads, 3 overwritten and 2 deleted while the queue is busy, a fifth of S3 requests failing: the latest version of each key, nothing for the deleted', async () => {
  expect(local.stack.s3.faultEndpoint).toBeDefined();
  const labels = readLabels();
  const folder = path.join(work, 'photos');
  fs.mkdirSync(folder);
  const current = new Map<string, Buffer | undefined>();
  for (let i = 0; i < 12; i++) {
    const bytes = fs.readFileSync(path.join(FACES_DIR, labels[i % labels.length].file));
    fs.writeFileSync(path.join(folder, `${i}.jpg`), bytes);
    current.set(`inputs/faults/${i}.jpg`, bytes);
  }
  expect(await aws('s3', 'cp', folder, `s3://${local.stack.bucket}/inputs/faults/`, '--recursive')).toBe(0);
  for (const i of [0, 4, 8]) {
    const file = path.join(FACES_DIR, labels[(i + 1) % labels.length].file);
    expect(await aws('s3', 'cp', file, `s3://${local.stack.bucket}/inputs/faults/${i}.jpg`)).toBe(0);
    current.set(`inputs/faults/${i}.jpg`, fs.readFileSync(file));
  }
  for (const i of [2, 6]) {
    expect(await aws('s3', 'rm', `s3://${local.stack.bucket}/inputs/faults/${i}.jpg`)).toBe(0);
    current.set(`inputs/faults/${i}.jpg`, undefined);
  }

  // Drained: nothing queued or in flight for a while.
  let quiet = 0;
  const end = Date.now() + 200_000;
  while (quiet < 10) {
    const depth = local.stack.uploads.queue.depth();
    quiet = depth.visible || depth.inFlight ? 0 : quiet + 1;
    if (Date.now() > end) throw new Error('the queue did not drain');
    await new Promise((r) => setTimeout(r, 300));
  }

  const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
  for (const [key, bytes] of current) {
    const name = key.slice('inputs/'.length);
    if (!bytes) {
      expect([key, await listKeys(s3, `results/${name}`), await listKeys(s3, `outputs/${name}`)]).toEqual([key, [], []]);
      continue;
    }
    const record = JSON.parse(await (await client.send(new GetObjectCommand({ Bucket: local.stack.bucket, Key: `results/${name}.json` }))).Body!.transformToString());
    expect([key, record.source.eTag]).toEqual([key, md5(bytes)]);
    const output = await client.send(new HeadObjectCommand({ Bucket: local.stack.bucket, Key: `outputs/${name}` }));
    expect([key, output.Metadata?.['source-etag']]).toEqual([key, md5(bytes)]);
  }
  expect(await listKeys(s3, 'results/faults/')).toHaveLength(10);
  expect(await listKeys(s3, 'outputs/faults/')).toHaveLength(10);
  // Faults were met and retried through (by the SDK, and where a call ran out of attempts, by the queue).
  expect(reports.length).toBeGreaterThan(0);
});
