/**
 * The local endpoint driven by the real AWS CLI v2 (helpers/clients.ts finds it) and by
 * @aws-sdk/client-lambda, exactly as against AWS but with --endpoint-url: the original tutorial's
 * invoke command, errors, not-found, dry run, event, log tail, payload limit, cleanup by hand and
 * on its schedule, and the download guard in local mode.
 */
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { inspectImage } from '../../functions/detect-faces/fetch/sniff';
import { FACES_DIR } from '../helpers/image-server';
import { startServe } from '../helpers/local-serve';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ageObjects, listKeys, localS3Client, seedObjects, type TestS3 } from '../helpers/s3';
import { AWS_CLI } from '../helpers/clients';
import { tempDir } from '../helpers/temp';

jest.setTimeout(120_000);

const AWS = AWS_CLI;
let local: Awaited<ReturnType<typeof startServe>>;
let work: string;
let lambda: LambdaClient;
const DETECT = 'face-detection-detect-faces';
const CLEANUP = 'face-detection-cleanup';

/**
 * The CLI with made-up credentials and no config of this machine's user. Asynchronous: the
 * endpoint runs in this process, so a blocking spawn would stall it.
 */
function aws(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      AWS,
      args,
      {
        cwd: work,
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          HOME: work,
          AWS_ACCESS_KEY_ID: 'AKIDLOCALEXAMPLE',
          AWS_SECRET_ACCESS_KEY: 'local-secret',
          AWS_DEFAULT_REGION: 'eu-west-3',
          AWS_PAGER: '',
        },
      },
      (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The local S3 server's store (one client for the file), for seeding objects. */
let s3Store: TestS3;
const store = () => s3Store;

/**
 * Each test that needs an image uploads its own, under its own key, outside the input prefix
 * (uploads there are processed on their own, which would add marked images the test did not ask for).
 */
async function uploadPhoto(key: string): Promise<string> {
  expect(key.startsWith(local.stack.config.inputPrefix)).toBe(false);
  await s3Store.client.send(new PutObjectCommand({ Bucket: local.stack.bucket, Key: key, Body: fs.readFileSync(path.join(FACES_DIR, 'grace_hopper_512x512.jpg')) }));
  return `${local.stack.s3.endpoint}/${local.stack.bucket}/${key}`;
}

beforeAll(async () => {
  local = await startServe();
  work = tempDir('aws-cli');
  lambda = new LambdaClient({ endpoint: local.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  const client = localS3Client(local.stack.s3.endpoint);
  s3Store = { server: local.stack.s3, client, directory: local.dataDir, bucket: local.stack.bucket, close: async () => client.destroy() };
});

afterAll(async () => {
  lambda?.destroy();
  await s3Store?.close();
  await local?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

test('the original tutorial flow: upload, aws lambda invoke, fetch the marked image with aws s3 cp', async () => {
  const s3 = ['--endpoint-url', local.stack.s3.endpoint];
  const bucket = local.stack.bucket;
  // The upload is also processed on its own (input prefix): the test ends only once that is done too.
  const uploadProcessed = local.nextLog(new RegExp(`^\\S+ ${DETECT} \\(SQS, `));
  expect((await aws('s3', 'cp', path.join(FACES_DIR, 'grace_hopper_512x512.jpg'), `s3://${bucket}/inputs/photo.jpg`, ...s3)).status).toBe(0);
  const imageUrl = `${local.stack.s3.endpoint}/${bucket}/inputs/photo.jpg`;

  const invoke = await aws('lambda', 'invoke', '--function-name', DETECT, '--payload', JSON.stringify({ imageUrl }), '--cli-binary-format', 'raw-in-base64-out', '--endpoint-url', local.endpoint, 'output.txt');
  expect(invoke.stderr).toBe('');
  expect(invoke.status).toBe(0);
  expect(JSON.parse(invoke.stdout)).toMatchObject({ StatusCode: 200, ExecutedVersion: '$LATEST' });
  const out = JSON.parse(fs.readFileSync(path.join(work, 'output.txt'), 'utf8'));
  expect(out).toMatchObject({ faces: 1, outputUrl: expect.stringContaining(`/${bucket}/tmp/`) });

  const key = new URL(out.outputUrl).pathname.replace(`/${bucket}/`, '');
  expect((await aws('s3', 'cp', `s3://${bucket}/${key}`, 'marked.jpg', ...s3)).status).toBe(0);
  expect(inspectImage(fs.readFileSync(path.join(work, 'marked.jpg')), 40e6)).toEqual({ format: 'jpeg', width: 512, height: 512 });
  const listing = await aws('s3', 'ls', `s3://${bucket}/tmp/`, ...s3);
  expect(listing.stdout).toContain(path.basename(key));
  await uploadProcessed;
});

test('a handler error: exit 0, FunctionError Unhandled, the error JSON in the output file, the log tail', async () => {
  const r = await aws('lambda', 'invoke', '--function-name', DETECT, '--payload', '{"imageUrl":"http://169.254.169.254/latest/meta-data/"}', '--cli-binary-format', 'raw-in-base64-out', '--log-type', 'Tail', '--endpoint-url', local.endpoint, 'error.json');
  expect(r.status).toBe(0);
  const meta = JSON.parse(r.stdout);
  expect(meta).toMatchObject({ StatusCode: 200, FunctionError: 'Unhandled' });
  expect(JSON.parse(fs.readFileSync(path.join(work, 'error.json'), 'utf8'))).toMatchObject({ errorType: 'UrlNotAllowed', errorMessage: expect.stringMatching(/link-local/) });
  const tail = Buffer.from(meta.LogResult, 'base64').toString('utf8');
  expect(tail).toMatch(/^START RequestId: /m);
  expect(tail).toMatch(/"code":"UrlNotAllowed"/);
  expect(tail).toMatch(/^REPORT RequestId: .*Duration: /m);
});

test('unknown function: ResourceNotFoundException', async () => {
  const r = await aws('lambda', 'invoke', '--function-name', 'no-such-function', '--endpoint-url', local.endpoint, 'x.json');
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/ResourceNotFoundException/);
  expect(r.stderr).toMatch(/Function not found: .*no-such-function/);
});

test('DryRun answers 204 and Event 202 (and the event still runs)', async () => {
  const dry = await aws('lambda', 'invoke', '--function-name', DETECT, '--invocation-type', 'DryRun', '--endpoint-url', local.endpoint, 'dry.json');
  expect(JSON.parse(dry.stdout)).toMatchObject({ StatusCode: 204 });
  const imageUrl = await uploadPhoto('direct/event.jpg');
  const before = (await listKeys(store(), 'tmp/')).length;
  const ran = local.nextLog(new RegExp(`^\\S+ ${DETECT} \\(Event\\) `));
  const event = await aws('lambda', 'invoke', '--function-name', DETECT, '--invocation-type', 'Event', '--payload', JSON.stringify({ imageUrl }), '--cli-binary-format', 'raw-in-base64-out', '--endpoint-url', local.endpoint, 'event.json');
  expect(JSON.parse(event.stdout)).toMatchObject({ StatusCode: 202 });
  expect(await ran).toMatch(/\(Event\) ok /);
  expect((await listKeys(store(), 'tmp/')).length).toBe(before + 1);
});

test('the SDK: result, function error, log tail, not found, and the 6 MB payload limit', async () => {
  const imageUrl = await uploadPhoto('direct/sdk.jpg');
  const ok = await lambda.send(new InvokeCommand({ FunctionName: DETECT, Payload: Buffer.from(JSON.stringify({ imageUrl })), LogType: 'Tail' }));
  expect(ok.StatusCode).toBe(200);
  expect(ok.FunctionError).toBeUndefined();
  expect(JSON.parse(Buffer.from(ok.Payload!).toString())).toMatchObject({ faces: 1 });
  expect(Buffer.from(ok.LogResult!, 'base64').toString()).toMatch(/"timingsMs":\{"download"/);

  const bad = await lambda.send(new InvokeCommand({ FunctionName: `arn:aws:lambda:us-east-1:000000000000:function:${DETECT}`, Payload: Buffer.from('{"imageUrl":"ftp://x/y.jpg"}') }));
  expect(bad.FunctionError).toBe('Unhandled');
  expect(JSON.parse(Buffer.from(bad.Payload!).toString())).toMatchObject({ errorType: 'InvalidInput' });

  await expect(lambda.send(new InvokeCommand({ FunctionName: 'missing' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  const huge = Buffer.from(JSON.stringify({ imageUrl: 'https://example.com/a.jpg', padding: 'x'.repeat(6 * 1024 * 1024) }));
  await expect(lambda.send(new InvokeCommand({ FunctionName: DETECT, Payload: huge }))).rejects.toMatchObject({ name: 'RequestTooLargeException', $metadata: { httpStatusCode: 413 } });
});

test('local mode keeps the download guard: only the local bucket and dropped files are loopback sources', async () => {
  // Another bucket on the same local S3 server is not the local bucket.
  const s3 = store();
  await s3.client.send(new CreateBucketCommand({ Bucket: 'other-bucket' }));
  await s3.client.send(new PutObjectCommand({ Bucket: 'other-bucket', Key: 'x.jpg', Body: fs.readFileSync(path.join(FACES_DIR, 'grace_hopper_512x512.jpg')) }));
  for (const imageUrl of [
    `${local.stack.s3.endpoint}/other-bucket/x.jpg`,
    `${local.stack.s3.endpoint}/${local.stack.bucket}/../other-bucket/x.jpg`,
    `${local.stack.s3.endpoint}/`,
    `${local.stack.files.origin}/`,
    `${local.endpoint}/`,
    `http://127.0.0.1:${new URL(local.stack.s3.endpoint).port === '1' ? 2 : 1}/x.jpg`,
    'http://169.254.169.254/latest/meta-data/iam/',
    'http://10.0.0.1/x.jpg',
    'http://[::1]/x.jpg',
  ]) {
    const r = await lambda.send(new InvokeCommand({ FunctionName: DETECT, Payload: Buffer.from(JSON.stringify({ imageUrl })) }));
    expect([imageUrl, JSON.parse(Buffer.from(r.Payload!).toString()).errorType]).toEqual([imageUrl, 'UrlNotAllowed']);
  }
});

test('cleanup invoked by hand deletes only old tmp/ objects', async () => {
  const s = store();
  seedObjects(s, ['tmp/old-a.jpg', 'tmp/old-b.jpg', 'tmpfoo/old.jpg', 'photos/old.jpg'], 7200);
  seedObjects(s, ['tmp/new.jpg'], 10);
  const r = await aws('lambda', 'invoke', '--function-name', CLEANUP, '--endpoint-url', local.endpoint, 'cleanup.json');
  expect(r.status).toBe(0);
  const summary = JSON.parse(fs.readFileSync(path.join(work, 'cleanup.json'), 'utf8'));
  expect(summary).toMatchObject({ deleted: 2, truncated: false, failed: 0 });
  const left = (await aws('s3', 'ls', `s3://${local.stack.bucket}/`, '--recursive', '--endpoint-url', local.stack.s3.endpoint)).stdout;
  expect(left).toContain('tmp/new.jpg');
  expect(left).toContain('tmpfoo/old.jpg');
  expect(left).toContain('photos/old.jpg');
  expect(left).not.toContain('tmp/old-a.jpg');
});

test('the cleanup schedule runs cleanup on its own', async () => {
  const scheduled = await startServe({ cleanupEveryMs: 300 });
  const client = localS3Client(scheduled.stack.s3.endpoint);
  try {
    const s: TestS3 = { server: scheduled.stack.s3, client, directory: scheduled.dataDir, bucket: scheduled.stack.bucket, close: async () => undefined };
    seedObjects(s, ['tmp/stale.jpg'], 7200);
    ageObjects(s, ['tmp/stale.jpg'], 7200);
    // A run may have started before the seed: wait for scheduled runs (a few at most), not for time.
    let keys = await listKeys(s);
    for (let runs = 0; runs < 5 && keys.includes('tmp/stale.jpg'); runs++) {
      expect(await scheduled.nextLog(new RegExp(`^\\S+ ${CLEANUP} \\(Scheduled\\) `))).toMatch(/\(Scheduled\) ok /);
      keys = await listKeys(s);
    }
    expect(keys).not.toContain('tmp/stale.jpg');
  } finally {
    client.destroy();
    await scheduled.close();
  }
});

/** A raw request, so the Host and Origin headers can be set to anything. */
function rawRequest(endpoint: string, options: { method?: string; path?: string; headers?: Record<string, string>; body?: string }): Promise<number> {
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('loopback only', () => {
  test('every server listens on 127.0.0.1 only', () => {
    const ports = [local.endpoint, local.stack.s3.endpoint, local.stack.files.origin].map((e) => Number(new URL(e).port));
    const listening: { address: string; port: number }[] = [];
    for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
      for (const line of fs.readFileSync(file, 'utf8').trim().split('\n').slice(1)) {
        const [, local_, , state] = line.trim().split(/\s+/);
        if (state !== '0A') continue; // LISTEN
        const [hexAddress, hexPort] = local_.split(':');
        listening.push({ address: hexAddress, port: parseInt(hexPort, 16) });
      }
    }
    for (const port of ports) {
      const mine = listening.filter((l) => l.port === port);
      expect(mine.length).toBeGreaterThan(0);
      // 127.0.0.1 is 0100007F in /proc's byte order; nothing on 0.0.0.0, :: or another address.
      for (const l of mine) expect([port, l.address]).toEqual([port, '0100007F']);
    }
  });

  test.each([
    ['page and Lambda API', () => local.endpoint],
    ['S3', () => local.stack.s3.endpoint],
    ['dropped-file server', () => local.stack.files.origin],
  ])('%s refuses a Host header that is not a loopback name (DNS rebinding)', async (_name, endpoint) => {
    expect(await rawRequest(endpoint(), { headers: { host: 'rebind.attacker.example' } })).toBe(421);
    expect(await rawRequest(endpoint(), { headers: { host: `localhost:${new URL(endpoint()).port}` } })).not.toBe(421);
  });

  test('the Lambda API refuses cross-site requests from a web page, not the CLI or the page itself', async () => {
    const path_ = `/2015-03-31/functions/${DETECT}/invocations`;
    const dryRun = { 'x-amz-invocation-type': 'DryRun', 'content-type': 'application/json' };
    expect(await rawRequest(local.endpoint, { method: 'POST', path: path_, headers: { ...dryRun, origin: 'https://evil.example' }, body: '{}' })).toBe(403);
    expect(await rawRequest(local.endpoint, { method: 'POST', path: path_, headers: { ...dryRun, origin: 'http://localhost:1' }, body: '{}' })).toBe(403);
    // A sandboxed iframe on any site sends `Origin: null`.
    expect(await rawRequest(local.endpoint, { method: 'POST', path: path_, headers: { ...dryRun, origin: 'null' }, body: '{}' })).toBe(403);
    expect(await rawRequest(local.endpoint, { method: 'POST', path: path_, headers: { ...dryRun, origin: local.endpoint }, body: '{}' })).toBe(204);
    expect(await rawRequest(local.endpoint, { method: 'POST', path: path_, headers: dryRun, body: '{}' })).toBe(204);
    expect(await rawRequest(local.endpoint, { method: 'POST', path: '/api/files', headers: { origin: 'https://evil.example' }, body: 'x' })).toBe(403);
  });

  test("S3 takes writes from the CLI and the local web app's page only (it checks no signature or POST policy), and no key leaves its folder", async () => {
    const s3 = local.stack.s3.endpoint;
    const bucket = local.stack.bucket;
    const boundary = 'local-aws-test';
    const form = (key: string) =>
      [`--${boundary}`, `Content-Disposition: form-data; name="key"`, '', key, `--${boundary}`, 'Content-Disposition: form-data; name="file"; filename="a.html"', 'Content-Type: text/html', '', '<script>alert(1)</script>', `--${boundary}--`, ''].join('\r\n');
    const post = (key: string, origin?: string) =>
      rawRequest(s3, { method: 'POST', path: `/${bucket}`, headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...(origin ? { origin } : {}) }, body: form(key) });
    // A form POST needs no preflight: any page could send it.
    expect(await post('tmp/evil.html', 'https://evil.example')).toBe(403);
    expect(await post('tmp/evil.html', 'null')).toBe(403);
    expect(await rawRequest(s3, { method: 'PUT', path: `/${bucket}/tmp/evil.html`, headers: { origin: 'http://localhost:1' }, body: 'x' })).toBe(403);
    expect(await rawRequest(s3, { method: 'DELETE', path: `/${bucket}/tmp/any.jpg`, headers: { origin: 'https://evil.example' } })).toBe(403);
    const client = localS3Client(s3);
    expect(await listKeys({ client, bucket }, 'tmp/').finally(() => client.destroy())).not.toContain('tmp/evil.html');
    // The page itself (its uploads go to S3 by a form POST) and the CLI (no Origin) pass.
    expect(await post('tmp/from-page.txt', local.endpoint)).toBe(204);
    expect(await rawRequest(s3, { method: 'PUT', path: `/${bucket}/tmp/from-cli.txt`, body: 'x' })).toBe(200);
    // s3rver joined a key's segments into a file path: `../` wrote beside the data folder.
    expect(await post('../../escaped', local.endpoint)).toBe(400);
    expect(await rawRequest(s3, { method: 'PUT', path: `/${bucket}/tmp/..%2F..%2Fescaped`, body: 'x' })).toBe(400);
    expect(await rawRequest(s3, { method: 'GET', path: `/${bucket}/..%2F..%2Fescaped` })).toBe(400);
    const beside = [local.dataDir, path.dirname(local.dataDir)].flatMap((dir) => fs.readdirSync(dir)).filter((name) => name.startsWith('escaped'));
    expect(beside).toEqual([]);
  });
});
