/** cleanup against a real S3-protocol server (s3rver): prefixes, ages, pagination, batching, time. */
import { DeleteObjectsCommand, ListObjectsV2Command, type DeleteObjectsCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { runCleanup, type CleanupOptions } from '../../functions/cleanup/cleanup';
import { memoryLogger } from '../helpers/log';
import { ageObjects, listKeys, putObjects, seedObjects, startTestS3, type TestS3 } from '../helpers/s3';

jest.setTimeout(180_000);

let s3: TestS3;
beforeAll(async () => {
  s3 = await startTestS3('cleanup-test');
});
afterAll(() => s3.close());

const options = (over: Partial<CleanupOptions> = {}): CleanupOptions => ({
  bucket: s3.bucket,
  prefix: 'tmp/',
  maxAgeMs: 3600_000,
  dryRun: false,
  ...over,
});
const deps = (over: { remainingMs?: () => number; s3?: Pick<S3Client, 'send'> } = {}) => ({
  s3: over.s3 ?? s3.client,
  log: memoryLogger().log,
  now: () => new Date(),
  remainingMs: over.remainingMs ?? (() => 900_000),
});

async function emptyBucket() {
  const keys = await listKeys(s3);
  for (let i = 0; i < keys.length; i += 1000) {
    await s3.client.send(new DeleteObjectsCommand({ Bucket: s3.bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) } }));
  }
}

beforeEach(emptyBucket);

/** The test server, but the `nth` (from 0) call of one command fails as S3's 500 does after the SDK's retries. */
function internalErrorAt(kind: typeof DeleteObjectsCommand | typeof ListObjectsV2Command, nth: number): Pick<S3Client, 'send'> {
  let calls = 0;
  return {
    send: (async (command: any) => {
      if (command instanceof kind && calls++ === nth) throw Object.assign(new Error('We encountered an internal error'), { name: 'InternalError' });
      return s3.client.send(command);
    }) as S3Client['send'],
  };
}

test('only old objects under tmp/ go; young ones and tmp siblings stay', async () => {
  const old = ['tmp/old-1.jpg', 'tmp/old-2.jpg', 'tmp/nested/old-3.jpg'];
  const young = ['tmp/young.jpg'];
  const outside = ['tmpfoo/x.jpg', 'photos/x.jpg', 'tmp.jpg', 'x.jpg'];
  await putObjects(s3, [...old, ...young, ...outside]);
  ageObjects(s3, [...old, ...outside], 2 * 3600);
  ageObjects(s3, young, 30 * 60);

  const summary = await runCleanup(options(), deps());

  expect(await listKeys(s3)).toEqual([...young, ...outside].sort());
  expect(summary).toMatchObject({ scanned: 4, deleted: 3, kept: 1, failed: 0, truncated: false, dryRun: false });
});

test('dry run lists what would go and deletes nothing', async () => {
  await putObjects(s3, ['tmp/a.jpg', 'tmp/b.jpg']);
  ageObjects(s3, ['tmp/a.jpg', 'tmp/b.jpg'], 7200);
  const summary = await runCleanup(options({ dryRun: true }), deps());
  expect(summary).toMatchObject({ wouldDelete: 2, deleted: 0, deleteCalls: 0, dryRun: true });
  expect(await listKeys(s3)).toEqual(['tmp/a.jpg', 'tmp/b.jpg']);
});

test('10,000 objects: paginated listing and 1000-key delete batches', async () => {
  const keys = Array.from({ length: 10_000 }, (_, i) => `tmp/${String(i).padStart(5, '0')}.jpg`);
  seedObjects(s3, keys, 7200);
  let listCalls = 0;
  let deleteCalls = 0;
  let largestBatch = 0;
  const counting: Pick<S3Client, 'send'> = {
    send: ((command: any) => {
      if (command instanceof DeleteObjectsCommand) {
        deleteCalls += 1;
        largestBatch = Math.max(largestBatch, command.input.Delete!.Objects!.length);
      } else listCalls += 1;
      return s3.client.send(command);
    }) as S3Client['send'],
  };

  const summary = await runCleanup(options(), deps({ s3: counting }));

  expect(summary).toMatchObject({ scanned: 10_000, deleted: 10_000, failed: 0, truncated: false, listCalls: 10, deleteCalls: 10 });
  expect([listCalls, deleteCalls, largestBatch]).toEqual([10, 10, 1000]);
  expect(await listKeys(s3, 'tmp/')).toEqual([]);
});

test('per-key failures are counted by code and the rest of the batch is deleted', async () => {
  const keys = ['tmp/a.jpg', 'tmp/locked-1.jpg', 'tmp/b.jpg', 'tmp/locked-2.jpg'];
  await putObjects(s3, keys);
  ageObjects(s3, keys, 7200);
  // S3 reports per-key failures (e.g. AccessDenied) inside a 200 response; s3rver never does, so
  // this client sends the request to s3rver without the "locked" keys and reports them as S3 would.
  const partlyDenied: Pick<S3Client, 'send'> = {
    send: (async (command: any) => {
      if (!(command instanceof DeleteObjectsCommand)) return s3.client.send(command);
      const all = command.input.Delete!.Objects!;
      const locked = all.filter((o) => o.Key!.includes('locked'));
      const rest = all.filter((o) => !o.Key!.includes('locked'));
      const out: DeleteObjectsCommandOutput = await s3.client.send(new DeleteObjectsCommand({ ...command.input, Delete: { Objects: rest, Quiet: true } }));
      return { ...out, Errors: locked.map((o) => ({ Key: o.Key, Code: 'AccessDenied', Message: 'Access Denied' })) };
    }) as S3Client['send'],
  };
  const { log, lines } = memoryLogger();

  const summary = await runCleanup(options(), { ...deps({ s3: partlyDenied }), log });

  expect(summary).toMatchObject({ deleted: 2, failed: 2, failures: { AccessDenied: 2 }, truncated: false });
  expect(await listKeys(s3)).toEqual(['tmp/locked-1.jpg', 'tmp/locked-2.jpg']);
  expect(lines.filter((l) => l.code === 'AccessDenied').map((l) => l.key).sort()).toEqual(['tmp/locked-1.jpg', 'tmp/locked-2.jpg']);
});

test('too little time left: stops early, says so, and the next run finishes', async () => {
  const keys = Array.from({ length: 2500 }, (_, i) => `tmp/t${i}.jpg`);
  seedObjects(s3, keys, 7200);
  // Plenty of time at start (the margin is 10 s); once the first batch is deleted, 5 s remain.
  let remaining = 60_000;
  const slowDelete: Pick<S3Client, 'send'> = {
    send: (async (command: any) => {
      const out = await s3.client.send(command);
      if (command instanceof DeleteObjectsCommand) remaining = 5_000;
      return out;
    }) as S3Client['send'],
  };
  const first = await runCleanup(options(), deps({ s3: slowDelete, remainingMs: () => remaining }));
  expect(first.truncated).toBe(true);
  expect(first.deleted).toBe(1000);
  expect((await listKeys(s3, 'tmp/')).length).toBe(1500);

  const second = await runCleanup(options(), deps());
  expect(second).toMatchObject({ truncated: false, deleted: 1500 });
  expect(await listKeys(s3, 'tmp/')).toEqual([]);
});

test('a run that starts with no time left does nothing and reports truncated', async () => {
  await putObjects(s3, ['tmp/a.jpg']);
  ageObjects(s3, ['tmp/a.jpg'], 7200);
  const summary = await runCleanup(options(), deps({ remainingMs: () => 1_000 }));
  expect(summary).toMatchObject({ truncated: true, scanned: 0, listCalls: 0 });
  expect(await listKeys(s3)).toEqual(['tmp/a.jpg']);
});

test('keys outside the prefix are never deleted, even if the listing returns them', async () => {
  await putObjects(s3, ['tmp/old.jpg', 'tmpfoo/old.jpg', 'photos/old.jpg']);
  ageObjects(s3, ['tmp/old.jpg', 'tmpfoo/old.jpg', 'photos/old.jpg'], 7200);
  // A listing that ignores its Prefix (a buggy or hostile endpoint): every key comes back.
  const leaky: Pick<S3Client, 'send'> = {
    send: (async (command: any) => {
      if (command instanceof ListObjectsV2Command) return s3.client.send(new ListObjectsV2Command({ ...command.input, Prefix: undefined }));
      return s3.client.send(command);
    }) as S3Client['send'],
  };
  const { log, lines } = memoryLogger();
  const summary = await runCleanup(options(), { ...deps({ s3: leaky }), log });
  expect(summary).toMatchObject({ scanned: 3, deleted: 1 });
  expect(await listKeys(s3)).toEqual(['photos/old.jpg', 'tmpfoo/old.jpg']);
  expect(lines.filter((l) => /outside the prefix/.test(l.message)).map((l) => l.key).sort()).toEqual(['photos/old.jpg', 'tmpfoo/old.jpg']);
});

test('a page that is not truncated ends the listing, whatever token comes with it', async () => {
  await putObjects(s3, ['tmp/a.jpg']);
  ageObjects(s3, ['tmp/a.jpg'], 7200);
  // A buggy or hostile endpoint: IsTruncated false with a token that would list the same page again.
  const sticky: Pick<S3Client, 'send'> = {
    send: (async (command: any) => {
      const out = await s3.client.send(command);
      return command instanceof ListObjectsV2Command ? { ...out, IsTruncated: false, NextContinuationToken: 'again' } : out;
    }) as S3Client['send'],
  };
  const summary = await runCleanup(options(), deps({ s3: sticky }));
  expect(summary).toMatchObject({ listCalls: 1, scanned: 1, deleted: 1, truncated: false });
});

test('a whole batch failing is counted and the run goes on', async () => {
  const keys = Array.from({ length: 1500 }, (_, i) => `tmp/b${i}.jpg`);
  seedObjects(s3, keys, 7200);
  const summary = await runCleanup(options(), deps({ s3: internalErrorAt(DeleteObjectsCommand, 0) }));
  expect(summary).toMatchObject({ deleted: 500, failed: 1000, failures: { InternalError: 1000 }, truncated: false });
});

test('with a short timeout the margin shrinks, so the run still gets work done', async () => {
  await putObjects(s3, ['tmp/a.jpg']);
  ageObjects(s3, ['tmp/a.jpg'], 7200);
  // 8 s left at start: below the default 10 s margin, yet a quarter of it (2 s) is the margin.
  const summary = await runCleanup(options(), deps({ remainingMs: () => 8_000 }));
  expect(summary).toMatchObject({ deleted: 1, truncated: false });
});

describe('a call that hangs is cut at the time kept to answer: the run returns its summary in time', () => {
  /** A send that never answers the given command, until its abort signal fires (as the SDK's handler would reject). */
  const hanging = (stalls: (command: unknown) => boolean): Pick<S3Client, 'send'> => ({
    send: ((command: any, opts?: { abortSignal?: AbortSignal }) =>
      stalls(command)
        ? new Promise((_resolve, reject) => opts?.abortSignal?.addEventListener('abort', () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }))))
        : s3.client.send(command)) as S3Client['send'],
  });
  /** 3 s left at the start (margin 1 s): a call is cut when 0.5 s is left. */
  const clock = () => {
    const start = Date.now();
    return { remainingMs: () => 3_000 - (Date.now() - start), elapsed: () => Date.now() - start };
  };

  test('a DeleteObjects that hangs: its keys counted as TimedOut, the run stops, within its time', async () => {
    await putObjects(s3, ['tmp/a.jpg', 'tmp/b.jpg']);
    ageObjects(s3, ['tmp/a.jpg', 'tmp/b.jpg'], 7200);
    const time = clock();
    const summary = await runCleanup(options(), deps({ s3: hanging((c) => c instanceof DeleteObjectsCommand), remainingMs: time.remainingMs }));
    expect(time.elapsed()).toBeLessThan(3_000);
    expect(summary).toMatchObject({ deleted: 0, failed: 2, failures: { TimedOut: 2 }, deleteCalls: 1 });
    expect(await listKeys(s3, 'tmp/')).toEqual(['tmp/a.jpg', 'tmp/b.jpg']);
  });

  test('a listing that hangs: listFailure TimedOut, truncated, within its time', async () => {
    const time = clock();
    const summary = await runCleanup(options(), deps({ s3: hanging((c) => c instanceof ListObjectsV2Command), remainingMs: time.remainingMs }));
    expect(time.elapsed()).toBeLessThan(3_000);
    expect(summary).toMatchObject({ truncated: true, listFailure: 'TimedOut', listCalls: 0 });
  });
});

test('a listing that fails after some pages: what was deleted stands and is counted; the summary says where it stopped', async () => {
  const keys = Array.from({ length: 1500 }, (_, i) => `tmp/l${i}.jpg`);
  seedObjects(s3, keys, 7200);
  const { log, lines } = memoryLogger();
  const summary = await runCleanup(options(), { ...deps({ s3: internalErrorAt(ListObjectsV2Command, 1) }), log });
  expect(summary).toMatchObject({ listCalls: 1, scanned: 1000, deleted: 1000, truncated: true, listFailure: 'InternalError' });
  expect(lines.some((l) => l.level === 'error' && /listing failed/.test(l.message))).toBe(true);
  expect((await listKeys(s3, 'tmp/')).length).toBe(500);
});
