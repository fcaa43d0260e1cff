/**
 * The batch redaction CLI when a sub-folder cannot be read (no permission: a folder another user
 * made). Tests run as root in CI, where no folder is unreadable, so the file system's readdir is
 * made to refuse one folder by name.
 */
import * as path from 'node:path';

const LOCKED = 'locked';
jest.mock('node:fs', () => {
  const actual = jest.requireActual<typeof import('node:fs')>('node:fs');
  return {
    ...actual,
    readdirSync: (folder: import('node:fs').PathLike, options?: unknown) => {
      if (path.basename(String(folder)) === LOCKED) throw Object.assign(new Error(`EACCES: permission denied, scandir '${String(folder)}'`), { code: 'EACCES' });
      return (actual.readdirSync as (f: import('node:fs').PathLike, o?: unknown) => unknown)(folder, options);
    },
  };
});

import * as fs from 'node:fs';
import type { PipelinePorts, PipelineSettings } from '../../functions/detect-faces/pipeline';
import { listImages, redactFolder, RESULTS_FILE } from '../../local/redact';
import { recordingLogger } from '../helpers/log';
import { tempDir } from '../helpers/temp';
import { tinyJpeg } from '../helpers/tiny-jpeg';

let inDir: string;
let root: string;
beforeEach(() => {
  root = tempDir('redact-unreadable');
  inDir = path.join(root, 'in');
  for (const f of ['a.jpg', `b/${LOCKED}/c.jpg`, 'b/d.jpg']) {
    fs.mkdirSync(path.dirname(path.join(inDir, f)), { recursive: true });
    fs.writeFileSync(path.join(inDir, f), f);
  }
});

test('the listing hands an unreadable sub-folder to its caller and lists the rest; without a handler it throws', () => {
  const unreadable: string[] = [];
  expect(listImages(inDir, undefined, (folder, err) => unreadable.push(`${folder} ${(err as NodeJS.ErrnoException).code}`))).toEqual(['a.jpg', 'b/d.jpg']);
  expect(unreadable).toEqual([`b/${LOCKED}/ EACCES`]);
  expect(() => listImages(inDir)).toThrow(/EACCES/);
});

test('a folder run: the unreadable sub-folder is a DownloadFailed line of its own, counted as failed; the other images still run', async () => {
  const ports: Omit<PipelinePorts<{ name: string }>, 'store' | 'fetch'> = {
    codec: { decode: () => ({ name: 'x' }), size: () => ({ width: 64, height: 48 }), mark: () => undefined, encode: () => tinyJpeg('marked'), release: () => undefined },
    detector: { kind: 'fake', detect: () => ({ boxes: [], minFaceSize: 20 }) },
    log: recordingLogger().log,
    metrics: () => undefined,
    now: () => new Date(),
  };
  const settings: PipelineSettings = { imagePrefix: 'tmp/', jpegQuality: 90, maxImageBytes: 1000, maxImagePixels: 1e6, downloadTimeoutMs: 1000, allowedLoopbackPrefixes: [], maxNetworkPixels: 1e6 };
  const out = path.join(root, 'out');
  const summary = await redactFolder({ inDir, outDir: out, options: { mark: 'fill' } }, ports, settings);
  const lines = fs.readFileSync(path.join(out, RESULTS_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { file: string });
  expect(lines[0]).toEqual({ file: `b/${LOCKED}/`, errorType: 'DownloadFailed', errorMessage: expect.stringMatching(/^could not read the folder: EACCES/) });
  // The two images are read (these are not images: each its own typed error line).
  expect(lines.slice(1).map((l) => l.file)).toEqual(['a.jpg', 'b/d.jpg']);
  expect(summary).toEqual({ images: 2, failed: 3, faces: 0 });
});
