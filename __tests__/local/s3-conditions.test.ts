/** S3's conditional requests and the fault mode, as the local S3 adds them to s3rver: the decisions, without a server (the server: __tests__/integration/local-s3.test.ts). */
import { conditionOutcome, objectOf } from '../../local/s3-conditions';
import { FAULT_KINDS, pickFault } from '../../local/s3-faults';

test('object requests are told from bucket requests, multipart steps and sub-resources', () => {
  expect(objectOf({ method: 'PUT', url: '/b/inputs/a%20b.jpg?x-id=PutObject' })).toEqual({ bucket: 'b', key: 'inputs/a b.jpg' });
  expect(objectOf({ method: 'GET', url: '/b/k' })).toEqual({ bucket: 'b', key: 'k' });
  expect(objectOf({ method: 'GET', url: '/b/?list-type=2' })).toBeUndefined();
  expect(objectOf({ method: 'GET', url: '/b' })).toBeUndefined();
  expect(objectOf({ method: 'PUT', url: '/b/k?partNumber=1&uploadId=u' })).toBeUndefined();
  expect(objectOf({ method: 'POST', url: '/b/k?uploads' })).toBeUndefined();
  expect(objectOf({ method: 'PUT', url: '/b/%E0%A4%A' })).toBeUndefined();
});

test.each([
  // method, If-Match, If-None-Match, current ETag, outcome
  ['PUT', undefined, '*', undefined, 'proceed'],
  ['PUT', undefined, '*', '"e1"', 'precondition-failed'],
  ['PUT', '"e1"', undefined, '"e1"', 'proceed'],
  ['PUT', '"e1"', undefined, '"e2"', 'precondition-failed'],
  ['PUT', '"e1"', undefined, undefined, 'no-such-key'],
  ['DELETE', '"e1"', undefined, '"e1"', 'proceed'],
  ['DELETE', '"e1"', undefined, '"e2"', 'precondition-failed'],
  ['DELETE', '"e1"', undefined, undefined, 'no-such-key'],
  ['GET', '"e1"', undefined, '"e2"', 'precondition-failed'],
  ['HEAD', '"e1"', undefined, '"e1"', 'proceed'],
  // A missing key on a read: s3rver's own 404.
  ['GET', '"e1"', undefined, undefined, 'proceed'],
  ['GET', '*', undefined, '"e2"', 'proceed'],
] as const)('%s If-Match %s If-None-Match %s on %s: %s', (method, ifMatch, ifNoneMatch, current, outcome) => {
  expect(conditionOutcome(method, { ifMatch, ifNoneMatch }, current)).toBe(outcome);
});

test('faults: the given fraction of requests, in four equal parts', () => {
  let seed = 1;
  // A small deterministic generator (Park-Miller).
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const counts = new Map<string, number>();
  const n = 40_000;
  for (let i = 0; i < n; i++) {
    const f = pickFault(0.2, random) ?? 'none';
    counts.set(f, (counts.get(f) ?? 0) + 1);
  }
  expect((n - counts.get('none')!) / n).toBeCloseTo(0.2, 2);
  for (const kind of FAULT_KINDS) expect(counts.get(kind)! / n).toBeCloseTo(0.05, 2);
  expect(pickFault(0, () => 0)).toBeUndefined();
  expect(pickFault(1, () => 0.99)).toBe('timeout');
});
