/** What S3 would send to the upload queue, made from s3rver's events: keys encoded as S3 encodes them, the notification's filter, sequencers. */
import { decodeEventKey } from '../../functions/detect-faces/uploads/events';
import { compareSequencers } from '../../functions/detect-faces/uploads/versions';
import { nextSequencer } from '../../local/s3-server';
import { encodeEventKey, toS3Notification } from '../../local/s3-notifications';

test('keys: encoded as S3 encodes them in notifications, and decoded back by the function', () => {
  for (const key of ['inputs/a/b.jpg', 'inputs/my photo (1).jpg', 'inputs/café+tea.png', 'inputs/100%.jpg']) {
    expect(decodeEventKey(encodeEventKey(key))).toBe(key);
  }
  expect(encodeEventKey('inputs/my photo.jpg')).toBe('inputs/my+photo.jpg');
});

test("s3rver's events become S3 notifications for objects created or removed under the prefix of the bucket only", () => {
  const filter = { bucket: 'b', prefix: 'inputs/', region: 'us-east-1' };
  const record = (eventName: string, key: string, bucket = 'b') => ({ eventName, eventTime: 't', s3: { bucket: { name: bucket }, object: { key, eTag: 'e', size: 3, sequencer: '0A' } } });
  expect(JSON.parse(toS3Notification({ Records: [record('ObjectRemoved:Delete', 'inputs/a.jpg')] }, filter)!).Records[0]).toMatchObject({ eventName: 'ObjectRemoved:Delete', s3: { object: { key: 'inputs/a.jpg', sequencer: '0A' } } });
  expect(toS3Notification({ Records: [record('ObjectRestore:Post', 'inputs/a.jpg')] }, filter)).toBeUndefined();
  expect(toS3Notification({ Records: [record('ObjectRemoved:Delete', 'tmp/a.jpg')] }, filter)).toBeUndefined();
  expect(toS3Notification({ Records: [record('ObjectCreated:Put', 'tmp/a.jpg')] }, filter)).toBeUndefined();
  expect(toS3Notification({ Records: [record('ObjectCreated:Put', 'inputs/a.jpg', 'other')] }, filter)).toBeUndefined();
  const body = JSON.parse(toS3Notification({ Records: [record('ObjectCreated:Put', 'inputs/a b.jpg')] }, filter)!);
  expect(body.Records[0]).toMatchObject({ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b', arn: 'arn:aws:s3:::b' }, object: { key: 'inputs/a+b.jpg', eTag: 'e' } } });
  // s3rver's name for a multipart upload's completion, as S3 names it (local/s3-server.ts).
  expect(JSON.parse(toS3Notification({ Records: [record('ObjectCreated:Post', 'inputs/big.jpg')] }, filter)!).Records[0].eventName).toBe('ObjectCreated:CompleteMultipartUpload');
});

test('local sequencers increase with every event, also within one millisecond, and compare as S3 says', () => {
  const a = nextSequencer(1_700_000_000_000);
  const b = nextSequencer(1_700_000_000_000);
  const c = nextSequencer(1_700_000_000_001);
  expect(a).toMatch(/^[0-9A-F]{20}$/);
  expect(compareSequencers(a, b)).toBeLessThan(0);
  expect(compareSequencers(b, c)).toBeLessThan(0);
});
