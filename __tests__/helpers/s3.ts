/** A real S3-protocol server (s3rver) per test file: local/s3-fixtures.ts with its folder made by tempDir (removed after the file even if a test never closes it). */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startLocalS3, type LocalS3 } from '../../local/s3-fixtures';
import { tempDir } from './temp';

export { ageObjects, listKeys, localS3Client, seedObjects } from '../../local/s3-fixtures';
export type TestS3 = LocalS3;

export function startTestS3(bucket = 'test-bucket'): Promise<TestS3> {
  return startLocalS3(bucket, tempDir('s3rver', { memory: true }));
}

/** PUTs each key (holding its own name) through the S3 API, `concurrency` at a time. */
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
