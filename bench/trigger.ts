/**
 * `npm run bench:trigger [N]`: a bounded local load run of the upload trigger. N photos (default
 * 500, copies of the labelled ones) are put under inputs/ of the local stack (s3rver, the real
 * bundle and layer, the local queue and event source mapping); it waits until the queue drains and
 * prints the time to drain, the throughput, whether every upload was processed exactly once
 * (deliveries, result records, marked images, ETags) and the function processes' RSS over the run.
 * Exits 1 when anything was lost, duplicated or wrong; asserts nothing about time.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { FACES_DIR, readLabels } from '../__tests__/helpers/image-server';
import { listKeys, localS3Client } from '../__tests__/helpers/s3';
import { decodeEventKey } from '../functions/detect-faces/uploads/events';
import { startLocalStack } from '../local/local-stack';
import type { BatchReport } from '../local/uploads';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 500);
  const dataDir = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'bench-trigger-'));
  const reports: (BatchReport & { at: number })[] = [];
  const stack = await startLocalStack({ dataDir, uploads: { onBatch: (r) => reports.push({ ...r, at: performance.now() }) } });
  const client = localS3Client(stack.s3.endpoint);
  const s3 = { server: stack.s3, client, directory: dataDir, bucket: stack.bucket, close: async () => undefined };
  try {
    const labels = readLabels();
    const photos = labels.map((l) => ({ ...l, bytes: fs.readFileSync(path.join(FACES_DIR, l.file)) }));
    const uploads = Array.from({ length: count }, (_, i) => {
      const p = photos[i % photos.length];
      return { key: `inputs/bench/${String(i).padStart(4, '0')}-${p.file}`, bytes: p.bytes, faces: p.boxes.length, eTag: createHash('md5').update(p.bytes).digest('hex') };
    });

    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < uploads.length) {
          const u = uploads[next++];
          await client.send(new PutObjectCommand({ Bucket: stack.bucket, Key: u.key, Body: u.bytes }));
        }
      }),
    );
    const uploaded = performance.now();
    const processedKeys = () => reports.flatMap((r) => (r.invocation.ok ? r.messages.filter((m) => !r.failedIds.includes(m.messageId)) : []));
    for (;;) {
      const depth = stack.uploads.queue.depth();
      if (processedKeys().length >= count && depth.visible === 0 && depth.inFlight === 0) break;
      if (performance.now() - t0 > 30 * 60_000) throw new Error('not drained after 30 minutes');
      await new Promise((r) => setTimeout(r, 100));
    }
    const drained = Math.max(...reports.map((r) => r.at));

    // Exactly once: one delivery per upload, none failed; one record and one marked image per upload, with the upload's ETag.
    const deliveries = new Map<string, number>();
    for (const r of reports) {
      for (const m of r.messages) {
        for (const rec of JSON.parse(m.body).Records ?? []) {
          const key = decodeEventKey(rec.s3.object.key) ?? rec.s3.object.key;
          deliveries.set(key, (deliveries.get(key) ?? 0) + 1);
        }
      }
    }
    const records = await listKeys(s3, 'results/bench/');
    const marked = await listKeys(s3, 'outputs/bench/');
    let wrong = 0;
    let faces = 0;
    let expectedFaces = 0;
    const images = new Set<string>();
    for (const u of uploads) {
      const body = await client.send(new GetObjectCommand({ Bucket: stack.bucket, Key: `results/bench/${u.key.slice('inputs/bench/'.length)}.json` }));
      const record = JSON.parse(await body.Body!.transformToString());
      faces += record.faces;
      expectedFaces += u.faces;
      images.add(record.outputKey);
      if (record.source?.key !== u.key || record.source?.eTag !== u.eTag || record.faces !== u.faces) wrong++;
    }
    const dup = [...deliveries.values()].filter((n) => n > 1).length;
    const failedBatches = reports.filter((r) => !r.invocation.ok || r.failedIds.length).length;

    // RSS of each function process after each batch (the entry logs it on its batch line).
    const rss = new Map<number, number[]>();
    for (const r of reports) {
      const line = r.invocation.log.split('\n').find((l) => l.includes('"upload batch done"'));
      if (line) rss.set(r.runtime, [...(rss.get(r.runtime) ?? []), JSON.parse(line.slice(line.indexOf('{'))).rssMb]);
    }
    const sizes = reports.map((r) => r.messages.length);
    const drainS = (drained - t0) / 1000;
    console.log(`bench:trigger, ${count} uploads (copies of ${photos.length} labelled photos), ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), ${new Date().toISOString()}`);
    console.log(`local stack: batch size ${stack.config.uploadBatchSize}, ${stack.uploads.runtimes.length} function processes, visibility ${stack.uploads.queue.options.visibilityTimeoutMs / 1000} s, dead letters after ${stack.uploads.queue.options.maxReceiveCount} receives`);
    console.log(`uploaded in ${((uploaded - t0) / 1000).toFixed(1)} s; drained ${drainS.toFixed(1)} s after the first upload: ${(count / drainS).toFixed(1)} photos/s`);
    console.log(`batches: ${reports.length} (median ${median(sizes)} messages, median ${median(reports.map((r) => r.invocation.durationMs))} ms), with a failure: ${failedBatches}`);
    console.log(`deliveries: ${deliveries.size} keys, ${[...deliveries.values()].reduce((a, b) => a + b, 0)} deliveries, ${dup} delivered more than once; dead letters: ${stack.uploads.queue.deadLetters.length}`);
    console.log(`result records: ${records.length}; marked images: ${marked.length} (${images.size} distinct in the records); records with a wrong key, ETag or face count: ${wrong}; faces ${faces} (labelled ${expectedFaces})`);
    for (const [i, xs] of [...rss.entries()].sort((a, b) => a[0] - b[0])) {
      const q = (f: number) => xs[Math.min(xs.length - 1, Math.floor(f * xs.length))];
      console.log(`function process ${i}: RSS after batch 1: ${xs[0]} MB, at 25%: ${q(0.25)} MB, 50%: ${q(0.5)} MB, 75%: ${q(0.75)} MB, last (${xs.length}): ${xs[xs.length - 1]} MB, max ${Math.max(...xs)} MB`);
    }
    const ok = deliveries.size === count && dup === 0 && records.length === count && marked.length === count && images.size === count && wrong === 0 && stack.uploads.queue.deadLetters.length === 0;
    console.log(ok ? 'every upload processed exactly once' : 'LOST, DUPLICATED OR WRONG: see above');
    if (!ok) process.exitCode = 1;
  } finally {
    client.destroy();
    await stack.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
