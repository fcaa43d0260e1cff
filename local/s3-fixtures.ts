/**
 * Local S3 tooling over the embedded server (local/s3-server.ts), for the benches and the tests:
 * a server with one bucket in a fresh folder, a client signed with s3rver's key, listing, and
 * objects written or aged straight in s3rver's store (its file layout is known here only).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { s3ClientFromEnv } from '../functions/common/s3';
import { S3RVER_KEY, spawnS3Server, type RunningS3Server } from './s3-server';

export interface LocalS3 {
  server: RunningS3Server;
  client: S3Client;
  /** The server's store: `<directory>/<bucket>/<key>._S3rver_object` and its siblings. */
  directory: string;
  bucket: string;
  close(): Promise<void>;
}

/** A client for a local S3 endpoint, configured as the functions configure theirs (s3rver's own key). */
export function localS3Client(endpoint: string): S3Client {
  return s3ClientFromEnv({ S3_ENDPOINT: endpoint, AWS_REGION: 'us-east-1' }, { credentials: S3RVER_KEY });
}

/**
 * An S3 server (in its own process) with `bucket`, storing in `directory`, removed on close.
 * @default directory a new folder under /dev/shm where there is one (s3rver writes a few files per
 * object: memory-backed storage keeps bulk runs quick), else under the system temp folder
 */
export async function startLocalS3(bucket: string, directory?: string): Promise<LocalS3> {
  const dir = directory ?? fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'face-detection-s3rver-'));
  const server = await spawnS3Server({ directory: dir, buckets: [bucket] });
  const client = localS3Client(server.endpoint);
  return {
    server,
    client,
    directory: dir,
    bucket,
    close: async () => {
      client.destroy();
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The files s3rver keeps for `key`: `${base}object`, `${base}object.md5`, `${base}metadata.json`. */
function storedBase(s3: Pick<LocalS3, 'directory' | 'bucket'>, key: string): string {
  const parts = key.split('/');
  return path.join(s3.directory, s3.bucket, ...parts.slice(0, -1), `${parts[parts.length - 1]}._S3rver_`);
}

/**
 * Writes objects (each holding its key) straight into s3rver's store, `ageSeconds` old: for bulk
 * fixtures, where 10,000 PUTs would dominate the run's time. Listing and deleting still go
 * through the S3 API.
 */
export function seedObjects(s3: Pick<LocalS3, 'directory' | 'bucket'>, keys: readonly string[], ageSeconds: number): void {
  const when = new Date(Date.now() - ageSeconds * 1000);
  for (const key of keys) {
    const base = storedBase(s3, key);
    fs.mkdirSync(path.dirname(base), { recursive: true });
    fs.writeFileSync(`${base}object`, key);
    fs.writeFileSync(`${base}object.md5`, createHash('md5').update(key).digest('hex'));
    fs.writeFileSync(`${base}metadata.json`, JSON.stringify({ 'content-type': 'image/jpeg' }));
    fs.utimesSync(`${base}object`, when, when);
  }
}

/** Makes objects look `ageSeconds` old: s3rver reports the stored file's mtime as LastModified. */
export function ageObjects(s3: Pick<LocalS3, 'directory' | 'bucket'>, keys: readonly string[], ageSeconds: number): void {
  const when = new Date(Date.now() - ageSeconds * 1000);
  for (const key of keys) fs.utimesSync(`${storedBase(s3, key)}object`, when, when);
}

/** Every key under `prefix`, sorted. */
export async function listKeys(s3: Pick<LocalS3, 'client' | 'bucket'>, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of paginateListObjectsV2({ client: s3.client }, { Bucket: s3.bucket, Prefix: prefix })) {
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
  }
  return keys.sort();
}
