/** The README stays a ten-minute read, and every link between it and docs/ leads somewhere. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fromRoot } from './helpers/paths';

const README_MAX_LINES = 300;

const docPages = () => ['README.md', ...fs.readdirSync(fromRoot('docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces as hyphens. */
const anchor = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

/** Relative link targets of a Markdown page (images included), without external URLs. */
function relativeLinks(text: string): string[] {
  const withoutCode = text.replace(/```[\s\S]*?```/g, '');
  return [...withoutCode.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((t) => !/^[a-z]+:/i.test(t));
}

test(`README.md has at most ${README_MAX_LINES} lines`, () => {
  expect(fs.readFileSync(fromRoot('README.md'), 'utf8').trimEnd().split('\n').length).toBeLessThanOrEqual(README_MAX_LINES);
});

test.each(docPages())('%s: every relative link names a file that exists, and a heading there when it has an anchor', (page) => {
  const text = fs.readFileSync(fromRoot(page), 'utf8');
  const links = relativeLinks(text);
  for (const link of links) {
    const [file, hash] = link.split('#');
    const target = file ? path.join(path.dirname(page), file) : page;
    expect({ link, exists: fs.existsSync(fromRoot(target)) }).toEqual({ link, exists: true });
    if (hash) {
      const headings = [...fs.readFileSync(fromRoot(target), 'utf8').matchAll(/^#+ (.*)$/gm)].map((m) => anchor(m[1]));
      expect(headings).toContain(hash);
    }
  }
});

test('every page in docs/ is linked from the README', () => {
  const readme = fs.readFileSync(fromRoot('README.md'), 'utf8');
  const linked = new Set(relativeLinks(readme).map((l) => l.split('#')[0]));
  const pages = docPages().filter((p) => p !== 'README.md');
  expect(pages.filter((p) => !linked.has(p))).toEqual([]);
});
