/**
 * `npm run bench:memory [-- --invocations 1000 --uploads 2000]`: memory of a warm detect-faces
 * container. One function process takes N direct invocations (every 10th a bad input: not an
 * image, a truncated JPEG, a missing file), its RSS read from /proc after each; then M uploads run
 * through the local trigger, RSS from each batch's log line. Prints RSS after warm-up (the first
 * 50 invocations, the first 10% of batches) and at the end, and the growth between them, and where
 * each process's RSS lies (malloc's main arena, anonymous memory, mapped files) at both points;
 * exits 1 when a process grew by more than 5%.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { FACES_DIR, readLabels } from './labelled-photos';
import { localS3Client } from '../local/s3-fixtures';
import { startLocalStack } from '../local/local-stack';
import type { BatchReport } from '../local/event-source-mapping';
import { median } from '../layer/rules/checks';
import { statusMb } from './real-size';

const LIMIT = 0.05;

/**
 * Where a process's RSS lies, from /proc/<pid>/smaps: malloc's main arena (`[heap]`: OpenCV's and
 * the addons' native memory, Buffers' bytes), anonymous mappings (V8's heap, malloc's other arenas
 * and blocks it maps whole, thread stacks) and mapped files (code, the model).
 */
function regions(pid: number): { heap: number; anonymous: number; files: number } {
  const kb = { heap: 0, anonymous: 0, files: 0 };
  let into: keyof typeof kb = 'anonymous';
  for (const line of fs.readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) into = head[1] === '[heap]' ? 'heap' : head[1].startsWith('/') ? 'files' : 'anonymous';
    else if (line.startsWith('Rss:')) kb[into] += Number(line.replace(/\D+/g, ''));
  }
  return { heap: Math.round(kb.heap / 1024), anonymous: Math.round(kb.anonymous / 1024), files: Math.round(kb.files / 1024) };
}

const split = (from: ReturnType<typeof regions>, to: ReturnType<typeof regions>) =>
  `malloc's main arena ${from.heap} -> ${to.heap} MB, anonymous (V8's heap, other arenas) ${from.anonymous} -> ${to.anonymous} MB, files ${from.files} -> ${to.files} MB`;

const growth = (from: number, to: number) => `${from} -> ${to} MB (${(((to - from) / from) * 100).toFixed(1)}%)`;

/** Median of a window: single readings of RSS move by several MB as the GC and malloc come and go. */

/** RSS after warm-up (the window after the first `warmup` samples) and at the end (the last window), each the median of a tenth of the run. */
function windows(xs: readonly number[], warmup: number): { warm: number; end: number } {
  const w = Math.max(5, Math.floor(xs.length / 10));
  return { warm: median(xs.slice(warmup, warmup + w)), end: median(xs.slice(-w)) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { invocations: { type: 'string' }, uploads: { type: 'string' }, env: { type: 'string', multiple: true } } });
  // --env NAME=value: extra environment for detect-faces (e.g. a malloc setting to compare).
  const environment = Object.fromEntries((values.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const invocations = Number(values.invocations ?? 1000);
  const uploads = Number(values.uploads ?? 2000);
  const dataDir = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'bench-memory-'));
  const reports: BatchReport[] = [];
  const stack = await startLocalStack({ dataDir, environment, uploads: { concurrency: 1, onBatch: (r) => reports.push(r) } });
  const client = localS3Client(stack.s3.endpoint);
  let ok = true;
  try {
    const photos = readLabels().map((l) => fs.readFileSync(path.join(FACES_DIR, l.file)));
    const bad = [Buffer.from('these are notes, not a photo\n'.repeat(20)), photos[0].subarray(0, photos[0].length >> 1)];
    console.log(`bench:memory, ${invocations} direct invocations then ${uploads} uploads, one warm process each${Object.keys(environment).length ? ` (${(values.env ?? []).join(' ')})` : ''}; ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), ${new Date().toISOString()}`);

    const direct: number[] = [];
    let failures = 0;
    let warmRegions: ReturnType<typeof regions> | undefined;
    for (let i = 0; i < invocations; i++) {
      const url = i % 10 === 9 ? (i % 30 === 29 ? `${stack.files.origin}/files/missing/none.jpg` : stack.files.add(bad[i % 2], 'bad.jpg')) : stack.files.add(photos[i % photos.length], 'photo.jpg');
      const r = await stack.detect.invoke({ imageUrl: url, ...(i % 4 === 1 ? { mark: 'blur' } : i % 4 === 2 ? { mark: 'pixelate', shape: 'rect' } : {}) });
      if (!r.ok) failures++;
      direct.push(statusMb('VmRSS', stack.detect.pid!));
      if (i === 50) warmRegions = regions(stack.detect.pid!);
    }
    const d = windows(direct, 50);
    const q = (f: number) => direct[Math.min(direct.length - 1, Math.floor(f * direct.length))];
    console.log(`direct: ${invocations} invocations (${failures} refused, as meant), RSS after invocation 1 ${direct[0]} MB, after warm-up (50) ${growth(d.warm, d.end)} at the end (medians of a tenth of the run), max ${Math.max(...direct)} MB`);
    console.log(`  RSS at 25%, 50%, 75%, last: ${q(0.25)}, ${q(0.5)}, ${q(0.75)}, ${direct[direct.length - 1]} MB`);
    if (warmRegions) console.log(`  after invocation 50 -> last: ${split(warmRegions, regions(stack.detect.pid!))}`);
    if ((d.end - d.warm) / d.warm > LIMIT) ok = false;

    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < uploads) {
          const i = next++;
          await client.send(new PutObjectCommand({ Bucket: stack.bucket, Key: `inputs/memory/${i}.jpg`, Body: photos[i % photos.length], Metadata: i % 3 === 0 ? { mark: 'fill' } : {} }));
        }
      }),
    );
    const uploadPid = () => stack.uploads.runtimes[0]?.pid;
    let uploadWarm: ReturnType<typeof regions> | undefined;
    for (; uploads > 0; ) {
      const done = reports.reduce((n, r) => n + r.messages.length - r.failedIds.length, 0);
      const pid = uploadPid();
      if (!uploadWarm && done >= uploads / 10 && pid) uploadWarm = regions(pid);
      const depth = stack.uploads.queue.depth();
      if (done >= uploads && !depth.visible && !depth.inFlight) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const lines = reports
      .map((r) => r.invocation.log.split('\n').find((l) => l.includes('"upload batch done"')))
      .filter((l): l is string => !!l)
      .map((l) => JSON.parse(l.slice(l.indexOf('{'))) as { rssMb: number; heapUsedMb: number; externalMb: number });
    const batches = lines.map((l) => l.rssMb);
    if (batches.length) {
      const u = windows(batches, Math.floor(batches.length / 10));
      console.log(`uploads: ${uploads} in ${batches.length} batches, RSS after batch 1 ${batches[0]} MB, after warm-up (the first 10%) ${growth(u.warm, u.end)} at the end (medians of a tenth), max ${Math.max(...batches)} MB`);
      const at = (f: number) => lines[Math.min(lines.length - 1, Math.floor(f * lines.length))];
      console.log(`  JS heap used / external (buffers) at 10%, 50%, end: ${[0.1, 0.5, 1].map((f) => `${at(f).heapUsedMb}/${at(f).externalMb}`).join(', ')} MB`);
      const pid = uploadPid();
      if (uploadWarm && pid) console.log(`  after 10% -> last: ${split(uploadWarm, regions(pid))}`);
      if ((u.end - u.warm) / u.warm > LIMIT) ok = false;
    }
    console.log(ok ? `RSS after warm-up within ${LIMIT * 100}%` : `RSS GREW by more than ${LIMIT * 100}% after warm-up`);
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
