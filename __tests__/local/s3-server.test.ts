/** The s3rver quirks local/s3-server.ts corrects without a server: event names as S3 gives them. The server itself: the integration tests. */
import { s3EventName } from '../../local/s3-server';

test("s3rver's Post (a multipart upload's completion) is S3's CompleteMultipartUpload; every other name passes unchanged", () => {
  expect(s3EventName('ObjectCreated:Post')).toBe('ObjectCreated:CompleteMultipartUpload');
  for (const name of ['ObjectCreated:Put', 'ObjectCreated:Copy', 'ObjectRemoved:Delete', 'ObjectCreated:CompleteMultipartUpload', 'Post']) expect(s3EventName(name)).toBe(name);
});
