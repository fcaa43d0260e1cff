/** Detector models for the layer: found locally or downloaded, and always checked by sha256. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ModelInput } from '../inputs';
import { sha256File } from './cache';

export class ModelChecksumMismatch extends Error {
  constructor(file: string, from: string, expected: string, actual: string) {
    super(`sha256 mismatch for ${file} from ${from}: expected ${expected}, got ${actual}; refusing to build with it`);
    this.name = 'ModelChecksumMismatch';
  }
}

export function verifyModel(model: ModelInput, file: string, from: string = file): void {
  const actual = sha256File(file);
  if (actual !== model.sha256) throw new ModelChecksumMismatch(model.file, from, model.sha256, actual);
}

/**
 * A downloadable model: the path in its environment variable if set, else the cached download,
 * else a fresh download from its upstream URL. Returns a verified local path.
 */
export async function resolveDownloadableModel(
  model: ModelInput,
  downloadsDir: string,
  env: NodeJS.ProcessEnv = process.env,
  fetchImpl: typeof fetch = fetch,
): Promise<string> {
  if (!('url' in model.source)) throw new Error(`${model.file} is not a downloadable model`);
  const local = env[model.source.localPathEnv];
  if (local) {
    if (!fs.existsSync(local)) throw new Error(`${model.source.localPathEnv}=${local}: no such file`);
    verifyModel(model, local);
    return local;
  }
  const cached = path.join(downloadsDir, model.file);
  if (fs.existsSync(cached)) {
    verifyModel(model, cached);
    return cached;
  }
  fs.mkdirSync(downloadsDir, { recursive: true });
  let res: Response;
  try {
    res = await fetchImpl(model.source.url, { redirect: 'follow', signal: AbortSignal.timeout(120_000) });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(
      `cannot download ${model.file} from ${model.source.url} (${why}); without internet, set ${model.source.localPathEnv} to a local copy`,
    );
  }
  if (!res.ok) {
    throw new Error(`download of ${model.file} from ${model.source.url} answered HTTP ${res.status}; set ${model.source.localPathEnv} to a local copy`);
  }
  const partial = `${cached}.partial`;
  fs.writeFileSync(partial, Buffer.from(await res.arrayBuffer()));
  try {
    verifyModel(model, partial, model.source.url);
  } catch (err) {
    fs.rmSync(partial, { force: true });
    throw err;
  }
  fs.renameSync(partial, cached);
  return cached;
}
