/** The generated settings and request tables (README, docs/configuration.md, `help`) are what the contracts and the stack's table say. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DOC_FILES, generatedSections, regenerate } from '../../scripts/docs';
import { PROJECT_ROOT } from '../helpers/paths';

test.each(DOC_FILES)('%s is up to date (npm run docs)', (file) => {
  const text = fs.readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
  expect(regenerate(text)).toBe(text);
});

test('every section is present somewhere, and a changed contract shows as drift', () => {
  const texts = DOC_FILES.map((f) => fs.readFileSync(path.join(PROJECT_ROOT, f), 'utf8')).join('\n');
  const sections = generatedSections();
  for (const name of Object.keys(sections)) expect(texts).toMatch(new RegExp(`generated:${name}\\b`));
  const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const drifted = regenerate(readme, { ...sections, 'stack-settings': sections['stack-settings'].replace('`90`', '`85`') });
  expect(drifted).not.toBe(readme);
});

test('the tables carry each setting\'s variable, default and bounds', () => {
  const { 'stack-settings': stack, 'detect-env': env, 'detect-request': request } = generatedSections();
  expect(stack).toContain('| `jpegQuality` | `FACE_JPEG_QUALITY` | `90` | a whole number from 1 to 100 |');
  expect(env).toContain('| `PRESIGN_EXPIRES_SECONDS` | `3600` | a whole number from 60 to 43200 |');
  expect(request).toContain('| `minFaceSize` | (unset) | a whole number from 10 to 100000 |');
});
