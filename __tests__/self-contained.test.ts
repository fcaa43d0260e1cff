/**
 * A clone with nothing beside it must install, test and build: no source, test, script or build
 * file may read the team machines' `../shared` folder (prose in Markdown may mention it). And two
 * runs cannot collide: tests take their temporary folders from helpers/temp.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from './helpers/paths';

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'cdktf.out', '.gen', 'coverage', '.data', 'results']);
const TEXT = /\.(ts|js|mjs|cjs|sh|json|ya?ml|xml)$|^(help|run)$/;
/** `../shared`, `'..', 'shared'` (path.join/resolve), or a `shared/faces|models` path. */
const READS_SHARED = /\.\.\/shared\b|['"]\.\.['"]\s*,\s*['"]shared['"]|\bshared\/(faces|models)\b/;

/** The project's text files under `dir` (`also`: more names to take). */
function projectFiles(dir: string, also?: RegExp): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return SKIP_DIRS.has(e.name) ? [] : projectFiles(full, also);
    return e.isFile() && (TEXT.test(e.name) || also?.test(e.name)) && !e.name.endsWith('package-lock.json') ? [full] : [];
  });
}

test('the detector really matches each way of naming ../shared (so the scan below means something)', () => {
  for (const text of ["path.resolve('..', 'shared', 'faces')", 'cp ../shared/models/x .', '"$root/../shared/models"', 'const d = "shared/faces";']) {
    expect(text).toMatch(READS_SHARED);
  }
  expect("const shared = (header) => 1; // shared address space").not.toMatch(READS_SHARED);
});

test('no project file reads ../shared', () => {
  // This file names the patterns it looks for.
  const files = projectFiles(PROJECT_ROOT).filter((f) => f !== __filename);
  expect(files.length).toBeGreaterThan(50);
  const offenders = files.filter((f) => READS_SHARED.test(fs.readFileSync(f, 'utf8'))).map((f) => path.relative(PROJECT_ROOT, f));
  expect(offenders).toEqual([]);
});

test('every fixture the tests name is in the repository', () => {
  const faces = path.join(PROJECT_ROOT, '__tests__', 'fixtures', 'faces');
  for (const name of ['training.xml', '2007_007763.jpg', '2008_001009.jpg', '2008_001322.jpg', '2008_002079.jpg', 'dogs.jpg', 'grace_hopper_512x512.jpg', 'astronaut.png', 'bald_guys.jpg', '2008_001322_separate_scans.jpg']) {
    expect(fs.statSync(path.join(faces, name)).size).toBeGreaterThan(1000);
  }
});

/** A test choosing its own place in the system temp folder (os.tmpdir(), mkdtemp, /dev/shm). */
const OWN_TEMP = /\btmpdir\(\)|\bmkdtemp(Sync)?\(|\/dev\/shm\b/;

test('the temp-folder detector matches each way of choosing a folder (so the scan below means something)', () => {
  for (const text of ["path.join(os.tmpdir(), 'fixture-zips')", "fs.mkdtempSync('x-')", "await mkdtemp(p)", "'/dev/shm'"]) expect(text).toMatch(OWN_TEMP);
  expect("tempDir('zip'); const key = '/tmp/a.jpg';").not.toMatch(OWN_TEMP);
});

test('every test takes its temporary folders from helpers/temp.ts (fresh, and removed after its file)', () => {
  // The helper, its own test and this file name the system temp folder.
  const allowed = new Set([path.join(PROJECT_ROOT, '__tests__', 'helpers', 'temp.ts'), path.join(PROJECT_ROOT, '__tests__', 'helpers', 'temp.test.ts'), __filename]);
  const files = projectFiles(path.join(PROJECT_ROOT, '__tests__')).filter((f) => f.endsWith('.ts') && !allowed.has(f));
  expect(files.length).toBeGreaterThan(50);
  const offenders = files.filter((f) => OWN_TEMP.test(fs.readFileSync(f, 'utf8'))).map((f) => path.relative(PROJECT_ROOT, f));
  expect(offenders).toEqual([]);
});

/** Git's conflict markers, each at the start of a line: what a careless merge or rebase leaves. */
const CONFLICT = /^(<{7} |={7}$|>{7} )/m;

test('the conflict detector matches what git leaves (so the scan below means something)', () => {
  expect('a\n<<<<<<< HEAD\nb\n=======\nc\n>>>>>>> 1234abc (squash)\n').toMatch(CONFLICT);
  expect('a\n=======\n').toMatch(CONFLICT);
  expect('Title\n=======  \n// <<<<<<<< not eight\n').not.toMatch(CONFLICT);
});

test('no project file holds a merge conflict', () => {
  const files = projectFiles(PROJECT_ROOT, /\.(md|c|h|txt|html|css)$/).filter((f) => f !== __filename);
  expect(files.length).toBeGreaterThan(100);
  const offenders = files.filter((f) => CONFLICT.test(fs.readFileSync(f, 'utf8'))).map((f) => path.relative(PROJECT_ROOT, f));
  expect(offenders).toEqual([]);
});
