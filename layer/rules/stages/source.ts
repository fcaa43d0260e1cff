/** OpenCV's source tarball from the Debian archive, checked against its pinned sha256. */
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { sha256File } from '../../build-kit/cache';
import type { StageContext } from '../../build-kit/stages';

export interface SourceInputs {
  /** Path under the mirror, e.g. pool/main/o/opencv/opencv_4.10.0+dfsg.orig.tar.xz. */
  poolFile: string;
  sha256: string;
}

export async function downloadSource(ctx: StageContext, inputs: SourceInputs): Promise<void> {
  const url = `${ctx.mirror()}/${inputs.poolFile}`;
  ctx.log(`GET ${url}`);
  const res = await fetch(url, { signal: AbortSignal.timeout(15 * 60_000) });
  if (!res.ok || !res.body) throw new Error(`GET ${url} answered HTTP ${res.status}`);
  await pipeline(Readable.fromWeb(res.body as ReadableStream), fs.createWriteStream(ctx.out));
  const actual = sha256File(ctx.out);
  if (actual !== inputs.sha256) {
    fs.rmSync(ctx.out, { force: true });
    throw new Error(`sha256 of ${url} is ${actual}, expected ${inputs.sha256}`);
  }
}
