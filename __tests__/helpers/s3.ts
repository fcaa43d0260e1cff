/** A real S3-protocol server (s3rver) per test file, with helpers to seed and age objects. */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { paginateListObjectsV2, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3ClientFromEnv } from '../../functions/common/s3';
import { spawnS3Server, type RunningS3Server } from '../../local/s3-server';
import { tempDir } from './temp';

export interface TestS3 {
  server: RunningS3Server;
  client: S3Client;
  directory: string;
  bucket: string;
  close(): Promise<void>;
}

/** A client for a local S3 endpoint, configured as the functions configure theirs (s3rver's own key). */
export function localS3Client(endpoint: string): S3Client {
  return s3ClientFromEnv({ S3_ENDPOINT: endpoint, AWS_REGION: 'us-east-1' }, { credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
}

export async function startTestS3(bucket = 'test-bucket'): Promise<TestS3> {
  // s3rver does a file operation per key per request: memory-backed storage keeps bulk tests quick.
  const directory = tempDir('s3rver', { memory: true });
  const server = await spawnS3Server({ directory, buckets: [bucket] });
  const client = localS3Client(server.endpoint);
  return {
    server,
    client,
    directory,
    bucket,
    close: async () => {
      client.destroy();
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}

export async function putObjects(s3: TestS3, keys: readonly string[], concurrency = 32): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++];
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: Buffer.from(key) }));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * Writes objects straight into s3rver's store (object, md5, metadata), `ageSeconds` old: for bulk
 * fixtures, where 10,000 PUTs would dominate the test's time. Listing and deleting still go
 * through the S3 API.
 */
export function seedObjects(s3: TestS3, keys: readonly string[], ageSeconds: number): void {
  const when = new Date(Date.now() - ageSeconds * 1000);
  for (const key of keys) {
    const parts = key.split('/');
    const dir = path.join(s3.directory, s3.bucket, ...parts.slice(0, -1));
    const base = path.join(dir, `${parts[parts.length - 1]}._S3rver_`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(`${base}object`, key);
    fs.writeFileSync(`${base}object.md5`, createHash('md5').update(key).digest('hex'));
    fs.writeFileSync(`${base}metadata.json`, JSON.stringify({ 'content-type': 'image/jpeg' }));
    fs.utimesSync(`${base}object`, when, when);
  }
}

/** Makes objects look `ageSeconds` old: s3rver reports the stored file's mtime as LastModified. */
export function ageObjects(s3: TestS3, keys: readonly string[], ageSeconds: number): void {
  const when = new Date(Date.now() - ageSeconds * 1000);
  for (const key of keys) {
    const parts = key.split('/');
    const file = path.join(s3.directory, s3.bucket, ...parts.slice(0, -1), `${parts[parts.length - 1]}._S3rver_object`);
    fs.utimesSync(file, when, when);
  }
}

export async function listKeys(s3: TestS3, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of paginateListObjectsV2({ client: s3.client }, { Bucket: s3.bucket, Prefix: prefix })) {
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
  }
  return keys.sort();
}
