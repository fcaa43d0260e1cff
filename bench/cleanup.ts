/**
 * `npm run bench:cleanup`: wall time and S3 calls of one cleanup run over 10,000 old marked images
 * in the embedded S3 server (s3rver, in its own process), plus a dry run for the listing alone.
 * Prints figures; asserts nothing about time.
 */
import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import { runCleanup } from '../functions/cleanup/cleanup';
import { createLogger } from '../functions/common/logger';
import { listKeys, seedObjects, startLocalS3 } from '../local/s3-fixtures';

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 10_000);
  const s3 = await startLocalS3('bench-cleanup');
  try {
    const keys = Array.from({ length: count }, (_, i) => `tmp/${String(i).padStart(6, '0')}.jpg`);
    const young = Array.from({ length: 100 }, (_, i) => `tmp/young-${i}.jpg`);
    const outside = Array.from({ length: 100 }, (_, i) => `photos/${i}.jpg`);
    seedObjects(s3, [...keys, ...outside], 7200);
    seedObjects(s3, young, 60);

    const calls = { list: 0, delete: 0 };
    const counting: Pick<S3Client, 'send'> = {
      send: ((command: unknown) => {
        if (command instanceof DeleteObjectsCommand) calls.delete++;
        else calls.list++;
        return s3.client.send(command as never);
      }) as S3Client['send'],
    };
    const log = createLogger({}, { level: 'error' });
    const deps = { s3: counting, log, now: () => new Date(), remainingMs: () => 900_000 };
    const options = { bucket: s3.bucket, prefix: 'tmp/', maxAgeMs: 3600_000 };

    const dry = await runCleanup({ ...options, dryRun: true }, deps);
    const dryCalls = { ...calls };
    calls.list = 0;
    calls.delete = 0;
    const real = await runCleanup({ ...options, dryRun: false }, deps);
    const left = await listKeys(s3);

    const rows = [
      ['run', 'objects listed', 'deleted', 'kept', 'List calls', 'Delete calls', 'wall time'],
      ['dry run', String(dry.scanned), `(${dry.wouldDelete} would be)`, String(dry.kept), String(dryCalls.list), String(dryCalls.delete), `${dry.durationMs} ms`],
      ['cleanup', String(real.scanned), String(real.deleted), String(real.kept), String(calls.list), String(calls.delete), `${real.durationMs} ms`],
    ];
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    console.log(`cleanup of ${count} old objects (+${young.length} young under tmp/, +${outside.length} outside it), s3rver on loopback, ${new Date().toISOString()}`);
    for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
    console.log(`left in the bucket: ${left.length} (${left.filter((k) => k.startsWith('tmp/young-')).length} young, ${left.filter((k) => k.startsWith('photos/')).length} outside tmp/)`);
    if (left.length !== young.length + outside.length) process.exitCode = 1;
  } finally {
    await s3.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
