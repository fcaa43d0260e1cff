/**
 * `npm run redact` end to end: a folder of the fixture photos (one in a sub-folder, one corrupt)
 * through the CLI with the built layer's addon, as a user runs it. Needs the built layer.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspectImage } from '../../functions/detect-faces/fetch/sniff';
import { FACES_DIR } from '../helpers/image-server';
import { fromRoot } from '../helpers/paths';
import { tempDir } from '../helpers/temp';

jest.setTimeout(180_000);

let root: string;
beforeAll(() => {
  root = tempDir('redact-cli');
  const inDir = path.join(root, 'in');
  fs.mkdirSync(path.join(inDir, 'group'), { recursive: true });
  fs.copyFileSync(path.join(FACES_DIR, 'grace_hopper_512x512.jpg'), path.join(inDir, 'hopper.jpg'));
  fs.copyFileSync(path.join(FACES_DIR, '2008_001322.jpg'), path.join(inDir, 'group', '2008_001322.jpg'));
  fs.copyFileSync(path.join(FACES_DIR, 'astronaut.png'), path.join(inDir, 'astronaut.png'));
  fs.copyFileSync(path.join(FACES_DIR, 'dogs.jpg'), path.join(inDir, 'dogs.jpg'));
  fs.writeFileSync(path.join(inDir, 'broken.jpg'), fs.readFileSync(path.join(FACES_DIR, 'dogs.jpg')).subarray(0, 3000));
});

test('every photo redacted under its relative path, one result line each, the corrupt one a typed error; stdout is the summary alone', () => {
  const run = spawnSync(process.execPath, [fromRoot('node_modules', 'tsx', 'dist', 'cli.mjs'), fromRoot('local', 'redact.ts'), 'in', 'out', '--padding', '0.3'], { cwd: root, encoding: 'utf8' });
  expect(run.status).toBe(1);
  expect(run.stdout).toMatch(/^5 images, \d+ faces marked \(fill\), 1 failed, [\d.]+ s; results: .*results\.jsonl\n$/);
  const lines = fs.readFileSync(path.join(root, 'out', 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const byFile = Object.fromEntries(lines.map((l) => [l.file, l]));
  expect(Object.keys(byFile)).toEqual(['astronaut.png', 'broken.jpg', 'dogs.jpg', 'group/2008_001322.jpg', 'hopper.jpg']);
  expect(byFile['broken.jpg']).toEqual({ file: 'broken.jpg', errorType: 'UnsupportedImage', errorMessage: expect.any(String) });
  expect(byFile['hopper.jpg']).toMatchObject({ outputFile: 'hopper.jpg', faces: 1, width: 512, height: 512, mark: 'fill' });
  expect(byFile['astronaut.png']).toMatchObject({ outputFile: 'astronaut.png.jpg', faces: 1, mark: 'fill' });
  expect(byFile['group/2008_001322.jpg'].faces).toBeGreaterThanOrEqual(3);
  // Four dogs, and nobody: YuNet fed BGR takes dogs' faces for faces (as OpenCV's FaceDetectorYN
  // does), and the recall-first point of a redaction patches up to all four of them, nothing else.
  expect(byFile['dogs.jpg'].faces).toBeLessThanOrEqual(4);
  for (const l of lines.filter((x) => x.outputFile)) {
    const out = fs.readFileSync(path.join(root, 'out', l.outputFile));
    expect(inspectImage(out, 40e6)).toEqual({ format: 'jpeg', width: l.width, height: l.height });
    for (const b of l.boxes) expect(b).toEqual({ x: expect.any(Number), y: expect.any(Number), width: expect.any(Number), height: expect.any(Number), score: expect.any(Number), landmarks: expect.any(Object) });
  }
  expect(fs.existsSync(path.join(root, 'out', 'broken.jpg'))).toBe(false);
});

test('a usage error: exit status 2 and the usage on stderr, nothing written', () => {
  const run = spawnSync(process.execPath, [fromRoot('node_modules', 'tsx', 'dist', 'cli.mjs'), fromRoot('local', 'redact.ts'), 'in'], { cwd: root, encoding: 'utf8' });
  expect(run.status).toBe(2);
  expect(run.stderr).toMatch(/IN_DIR and OUT_DIR are needed\nusage: npm run redact -- IN_DIR OUT_DIR/);
  expect(run.stdout).toBe('');
});
