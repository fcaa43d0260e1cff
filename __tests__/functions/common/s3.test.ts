/** The functions' S3 client (common/s3.ts): a stalled attempt ends at the attempt timeout and is retried. */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { s3ClientFromEnv } from '../../../functions/common/s3';

test('an attempt S3 never answers ends after S3_ATTEMPT_TIMEOUT_MS and the next attempt is sent, well within the call deadline', async () => {
  const held: http.ServerResponse[] = [];
  let requests = 0;
  // The first request is read and never answered (a held connection); later ones get an answer.
  const server = http.createServer((req, res) => {
    req.resume();
    if (requests++ === 0) held.push(res);
    else res.writeHead(200, { etag: '"abc"', 'content-length': '0' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = s3ClientFromEnv(
    { S3_ENDPOINT: endpoint, AWS_REGION: 'us-east-1', S3_ATTEMPT_TIMEOUT_MS: '200' },
    { credentials: { accessKeyId: 'k', secretAccessKey: 's' }, logger: { debug() {}, info() {}, warn() {}, error() {} } },
  );
  try {
    // The call's own deadline is far longer: only an attempt timeout that ends the attempt lets it answer.
    const out = await client.send(new HeadObjectCommand({ Bucket: 'b', Key: 'k' }), { abortSignal: AbortSignal.timeout(10_000) });
    expect(out.ETag).toBe('"abc"');
    expect(requests).toBe(2);
    // The client gave up on the held attempt: its connection is closed, not left open.
    expect(held[0].socket?.destroyed ?? true).toBe(true);
  } finally {
    client.destroy();
    for (const res of held) res.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
