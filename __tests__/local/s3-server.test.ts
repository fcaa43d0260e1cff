/**
 * The s3rver quirks local/s3-server.ts corrects without a server: event names as S3 gives them, and
 * a taken port reported rather than crashing the child. The server itself: the integration tests.
 */
import * as net from 'node:net';
import { listenOnLoopback } from '../../local/listen';
import { s3EventName, spawnS3Server } from '../../local/s3-server';
import { tempDir } from '../helpers/temp';

test("s3rver's Post (a multipart upload's completion) is S3's CompleteMultipartUpload; every other name passes unchanged", () => {
  expect(s3EventName('ObjectCreated:Post')).toBe('ObjectCreated:CompleteMultipartUpload');
  for (const name of ['ObjectCreated:Put', 'ObjectCreated:Copy', 'ObjectRemoved:Delete', 'ObjectCreated:CompleteMultipartUpload', 'Post']) expect(s3EventName(name)).toBe(name);
});

test('a taken port: spawnS3Server rejects with PortInUseError naming it (s3rver alone ended the child with a stack trace)', async () => {
  const holder = net.createServer();
  const port = await listenOnLoopback(holder, 0);
  try {
    await expect(spawnS3Server({ directory: tempDir('s3-taken'), buckets: ['b'], port })).rejects.toMatchObject({ name: 'PortInUseError', port });
  } finally {
    await new Promise((resolve) => holder.close(resolve));
  }
});
