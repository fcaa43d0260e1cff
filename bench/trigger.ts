/**
 * `npm run bench:trigger [-- --count 500 --overwrites 50 --deletes 25 --faults 0.2 --concurrency P --scale S]`:
 * the upload trigger under load, on the local stack (s3rver with S3's conditional requests, the real
 * bundle and layer, the local queue and event source mapping, P warm function processes: by default
 * the deployment's uploadMaxConcurrency). `count` photos go under inputs/bench/: copies of the
 * labelled ones enlarged S times (default 4: 2000x1500 and the like, the size of the photos a
 * deployment redacts; --scale 1 keeps the 0.2-0.3 MP originals, where a photo is mostly S3 calls).
 * While the queue is busy, some are overwritten with another photo and some deleted. Once the queue
 * drains, everything is checked from S3 alone:
 *   every remaining key has exactly one record and one output, both of its current ETag, with the
 *   photo's face count; deleted keys have neither; nothing else is under outputs/ or results/;
 * plus the dead letters (how many, with reasons), the throughput, and the function processes' RSS
 * (after warm-up vs at the end). With --faults, the same run without faults goes first and both are
 * printed side by side (throughput with faults / without). Exits 1 when a check fails; asserts
 * nothing about time.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { FACES_DIR, readLabels } from './labelled-photos';
import { listKeys, localS3Client } from '../local/s3-fixtures';
import { outputKey, resultKey } from '../functions/detect-faces/uploads/keys';
import { unquoteETag, VERSION_METADATA } from '../functions/detect-faces/uploads/versions';
import { startLocalStack } from '../local/local-stack';
import { loadConfig } from '../stack/config';
import type { BatchReport } from '../local/event-source-mapping';
import { median } from '../layer/rules/checks';
import { decodeImage, encodeJpeg } from '../functions/detect-faces/output/image';
import { loadAddon } from './real-size';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

interface Photo {
  readonly file: string;
  readonly bytes: Buffer;
  /** The labelled face count; undefined for an enlarged copy (it shows faces too small to label at the original's size). */
  readonly faces?: number;
}

interface RunOptions {
  readonly count: number;
  readonly overwrites: number;
  readonly deletes: number;
  readonly faults: number;
  readonly concurrency: number;
}

interface RunFigures {
  readonly label: string;
  readonly drainS: number;
  readonly photosPerS: number;
  readonly lines: string[];
  readonly ok: boolean;
}

async function run(photos: readonly Photo[], o: RunOptions): Promise<RunFigures> {
  const dataDir = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'bench-trigger-'));
  const reports: (BatchReport & { at: number })[] = [];
  const stack = await startLocalStack({ dataDir, uploads: { s3Faults: o.faults, concurrency: o.concurrency, onBatch: (r) => reports.push({ ...r, at: performance.now() }) } });
  const client: S3Client = localS3Client(stack.s3.endpoint);
  const s3 = { client, bucket: stack.bucket };
  const prefixes = stack.config;
  const lines: string[] = [];
  try {
    const keys = Array.from({ length: o.count }, (_, i) => `inputs/bench/${String(i).padStart(4, '0')}-${photos[i % photos.length].file}`);
    // What each key holds now (undefined: deleted), as this bench last put it.
    const current = new Map<string, Photo | undefined>();
    const put = async (key: string, photo: Photo) => {
      await client.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: photo.bytes }));
      current.set(key, photo);
    };
    const pool = async <T>(items: readonly T[], work: (item: T) => Promise<void>, width = 16) => {
      let next = 0;
      await Promise.all(Array.from({ length: width }, async () => {
        while (next < items.length) await work(items[next++]);
      }));
    };

    // Warm containers, as in a deployment that has been running: no process start or init in the figures.
    await Promise.all(stack.uploads.runtimes.map((r) => r.warm()));
    const t0 = performance.now();
    await pool(keys, (key) => put(key, photos[keys.indexOf(key) % photos.length]));
    const uploaded = performance.now();
    // While the queue is busy: every 10th key overwritten with the next photo, every 10th from the 5th deleted.
    const overwritten = keys.filter((_, i) => i % 10 === 0).slice(0, o.overwrites);
    const deleted = keys.filter((_, i) => i % 10 === 5).slice(0, o.deletes);
    const depthAtChanges = stack.uploads.queue.depth();
    await Promise.all([
      pool(overwritten, (key) => put(key, photos[(photos.indexOf(current.get(key)!) + 1) % photos.length]), 4),
      pool(deleted, async (key) => {
        await client.send(new DeleteObjectCommand({ Bucket: stack.bucket, Key: key }));
        current.set(key, undefined);
      }, 4),
    ]);

    // Drained: nothing visible or in flight, and nothing sent back for a while (a requeued message arrives as a new one).
    let quietSince = performance.now();
    let lastBatches = -1;
    for (;;) {
      const depth = stack.uploads.queue.depth();
      if (depth.visible || depth.inFlight || reports.length !== lastBatches) {
        quietSince = performance.now();
        lastBatches = reports.length;
      } else if (performance.now() - quietSince > 2_000) break;
      if (performance.now() - t0 > 45 * 60_000) throw new Error('not drained after 45 minutes');
      await new Promise((r) => setTimeout(r, 100));
    }
    const drained = Math.max(...reports.map((r) => r.at));

    // From S3 alone.
    const problems: string[] = [];
    const outputs = new Set(await listKeys(s3, `${prefixes.outputPrefix}bench/`));
    const results = new Set(await listKeys(s3, `${prefixes.resultPrefix}bench/`));
    let faces = 0;
    let labelled = 0;
    const found = new Map<Photo, number | undefined>();
    for (const key of keys) {
      const photo = current.get(key);
      const out = outputKey(key, prefixes);
      const res = resultKey(key, prefixes);
      if (!photo) {
        if (outputs.has(out) || results.has(res)) problems.push(`${key}: deleted, but ${[outputs.has(out) && out, results.has(res) && res].filter(Boolean).join(' and ')} remain`);
        continue;
      }
      const eTag = unquoteETag((await client.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key }))).ETag);
      if (eTag !== md5(photo.bytes)) problems.push(`${key}: holds ${eTag}, not what was put last`);
      if (!results.has(res)) {
        problems.push(`${key}: no record`);
        continue;
      }
      const record = JSON.parse(await (await client.send(new GetObjectCommand({ Bucket: stack.bucket, Key: res }))).Body!.transformToString());
      if (record.source?.eTag !== eTag) problems.push(`${key}: record of ${record.source?.eTag}, key holds ${eTag}`);
      if (record.errorType) problems.push(`${key}: refused, ${record.errorType}: ${record.errorMessage}`);
      // Without a label, every record of one photo must give the same count as the first.
      if (!found.has(photo)) found.set(photo, record.faces);
      const expected = photo.faces ?? found.get(photo);
      if (record.faces !== expected) problems.push(`${key}: ${record.faces} faces, ${photo.faces === undefined ? 'another copy' : 'labelled'} ${expected}`);
      faces += record.faces ?? 0;
      labelled += expected ?? 0;
      if (!outputs.has(out)) {
        problems.push(`${key}: no output`);
        continue;
      }
      const made = (await client.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: out }))).Metadata?.[VERSION_METADATA.eTag];
      if (made !== eTag) problems.push(`${key}: output of ${made}, key holds ${eTag}`);
    }
    const expectedOutputs = new Set(keys.filter((k) => current.get(k)).map((k) => outputKey(k, prefixes)));
    const expectedResults = new Set(keys.filter((k) => current.get(k)).map((k) => resultKey(k, prefixes)));
    for (const k of outputs) if (!expectedOutputs.has(k)) problems.push(`stray output ${k}`);
    for (const k of results) if (!expectedResults.has(k)) problems.push(`stray record ${k}`);

    // Dead letters: only messages that used up their receives (or poison, with its reason).
    const letters = stack.uploads.queue.deadLetters;
    const reasons = new Map<string, number>();
    for (const l of letters) reasons.set(l.reason ?? `receive limit (${l.receiveCount})`, (reasons.get(l.reason ?? `receive limit (${l.receiveCount})`) ?? 0) + 1);
    // A dead letter is fine only for a key whose current state is nevertheless right (a later event covered it).
    const outcomes = new Map<string, number>();
    const rss = new Map<number, number[]>();
    for (const r of reports) {
      for (const line of r.invocation.log.split('\n')) {
        const at = line.indexOf('{');
        if (at < 0) continue;
        let fields: { message?: string; outcome?: string; rssMb?: number };
        try {
          fields = JSON.parse(line.slice(at));
        } catch {
          continue;
        }
        if (fields.message === 'upload done' && fields.outcome) outcomes.set(fields.outcome, (outcomes.get(fields.outcome) ?? 0) + 1);
        if (fields.message === 'upload deferred') outcomes.set('deferred', (outcomes.get('deferred') ?? 0) + 1);
        if (fields.message === 'upload batch done' && fields.rssMb) rss.set(r.runtime, [...(rss.get(r.runtime) ?? []), fields.rssMb]);
      }
    }
    const drainS = (drained - t0) / 1000;
    const photosPerS = (o.count + overwritten.length) / drainS;
    const retried = reports.reduce((n, r) => n + r.failedIds.length, 0);
    lines.push(`local stack: batch size ${stack.config.uploadBatchSize}, ${stack.uploads.runtimes.length} function processes, visibility ${stack.uploads.queue.options.visibilityTimeoutMs / 1000} s, dead letters after ${stack.uploads.queue.options.maxReceiveCount} receives, S3 faults ${o.faults}`);
    lines.push(`put ${o.count} in ${((uploaded - t0) / 1000).toFixed(1)} s; then ${overwritten.length} overwrites and ${deleted.length} deletes with ${depthAtChanges.visible + depthAtChanges.inFlight} messages queued`);
    lines.push(`load average at the end ${os.loadavg()[0].toFixed(1)}; drained ${drainS.toFixed(1)} s after the first upload: ${photosPerS.toFixed(1)} photos/s (uploads and overwrites)`);
    const durations = reports.map((r) => r.invocation.durationMs).sort((a, b) => a - b);
    const at = (q: number) => durations[Math.min(durations.length - 1, Math.floor(q * durations.length))];
    // How much of the drain the function processes spent in invocations (the rest: waiting for messages).
    const busy = durations.reduce((a, b) => a + b, 0) / 1000 / (stack.uploads.runtimes.length * drainS);
    lines.push(`batches: ${reports.length} (median ${median(reports.map((r) => r.messages.length))} messages; ms median ${median(durations)}, p90 ${at(0.9)}, p99 ${at(0.99)}, max ${durations.at(-1)}; processes busy ${(busy * 100).toFixed(0)}%), function errors ${reports.filter((r) => !r.invocation.ok).length}, messages back for a retry ${retried}`);
    lines.push(`outcomes: ${[...outcomes].sort().map(([k, n]) => `${k} ${n}`).join(', ')}`);
    lines.push(`dead letters: ${letters.length}${letters.length ? ` (${[...reasons].map(([k, n]) => `${n} ${k}`).join('; ')})` : ''}`);
    lines.push(`from S3: ${outputs.size} outputs, ${results.size} records for ${expectedResults.size} remaining keys (${deleted.length} deleted); faces ${faces} (${photos[0].faces === undefined ? 'as the first record of each photo' : 'labelled'} ${labelled}); problems ${problems.length}`);
    for (const p of problems.slice(0, 20)) lines.push(`  ${p}`);
    // Per process: RSS after its first batch; after warm-up (the first fifth of its batches, at least 3)
    // and at the end, each the highest of a fifth of its batches. A batch's RSS is the photo it held
    // (read before the handler's collection): with the enlarged photos about 107-145 MB for some and
    // 205 MB for others, so a median follows which photos a process happened to get, and a leak
    // raises the peaks.
    const perProcess = [...rss.values()].map((xs) => {
      const w = Math.max(3, Math.floor(xs.length / 5));
      return { first: xs[0], warm: Math.max(...xs.slice(w, 2 * w)), last: Math.max(...xs.slice(-w)), batches: xs.length };
    });
    if (perProcess.length) {
      const growth = perProcess.map((p) => (p.last - p.warm) / p.warm);
      const pctText = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
      lines.push(
        `function processes' RSS (medians of ${perProcess.length}, ${median(perProcess.map((p) => p.batches))} batches each): after batch 1 ${median(perProcess.map((p) => p.first))} MB, after warm-up ${median(perProcess.map((p) => p.warm))} MB, at the end ${median(perProcess.map((p) => p.last))} MB (the highest of a fifth of each process's batches); growth after warm-up median ${pctText(median(growth))}, largest ${pctText(Math.max(...growth))}`,
      );
    }
    return { label: o.faults ? `faults ${o.faults}` : 'fault-free', drainS, photosPerS, lines, ok: problems.length === 0 };
  } finally {
    client.destroy();
    await stack.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { count: { type: 'string' }, overwrites: { type: 'string' }, deletes: { type: 'string' }, faults: { type: 'string' }, concurrency: { type: 'string' }, scale: { type: 'string' } },
    allowPositionals: true,
  });
  const count = Number(values.count ?? positionals[0] ?? 500);
  const faults = Number(values.faults ?? 0);
  const scale = Number(values.scale ?? 4);
  if (!(count > 0) || !(faults >= 0 && faults <= 1) || !(scale >= 1 && scale <= 8)) throw new Error('usage: npm run bench:trigger -- [--count N] [--overwrites N] [--deletes N] [--faults 0..1] [--concurrency N] [--scale 1..8]');
  // As many function processes as the deployment runs invocations at once (uploadMaxConcurrency,
  // default 10), whatever this machine's CPUs: a process waiting out a fault leaves its CPU to another.
  const o = { count, overwrites: Number(values.overwrites ?? Math.round(count / 10)), deletes: Number(values.deletes ?? Math.round(count / 20)), concurrency: Number(values.concurrency ?? loadConfig({}, process.env).uploadMaxConcurrency) };
  const photos: Photo[] = readLabels().map((l) => ({ file: l.file, bytes: fs.readFileSync(path.join(FACES_DIR, l.file)), faces: l.boxes.length }));
  if (scale !== 1) {
    // Enlarged in this process with the layer's OpenCV (bilinear, JPEG quality 90); no label count (see Photo.faces).
    const { cv } = loadAddon();
    for (const [i, p] of photos.entries()) {
      const mat = decodeImage(cv, p.bytes);
      photos[i] = { file: p.file, bytes: encodeJpeg(cv, mat.resize(Math.round(mat.rows * scale), Math.round(mat.cols * scale)), 90) };
    }
  }
  const sizes = photos.map((p) => `${(p.bytes.length / 2 ** 20).toFixed(1)} MB`).join(', ');
  console.log(`bench:trigger, ${count} uploads (copies of ${photos.length} labelled photos${scale !== 1 ? `, enlarged ${scale}x` : ''}: ${sizes}), ${o.overwrites} overwrites, ${o.deletes} deletes; ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), load average ${os.loadavg()[0].toFixed(1)}, ${new Date().toISOString()}`);
  const runs: RunFigures[] = [];
  for (const rate of faults ? [0, faults] : [0]) {
    const figures = await run(photos, { ...o, faults: rate });
    runs.push(figures);
    console.log(`\n${figures.label}:`);
    for (const line of figures.lines) console.log(`  ${line}`);
  }
  if (runs.length === 2) console.log(`\nthroughput with faults ${faults}: ${runs[1].photosPerS.toFixed(1)} photos/s, fault-free ${runs[0].photosPerS.toFixed(1)}: ${(runs[1].photosPerS / runs[0].photosPerS).toFixed(2)}x`);
  const ok = runs.every((r) => r.ok);
  console.log(ok ? 'every remaining key: one record and one output of its current version; deleted keys: none' : 'WRONG: see the problems above');
  if (!ok) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
