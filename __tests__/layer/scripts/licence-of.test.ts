/**
 * licence-of.sh, which build-addon.sh runs for every library it ships: the owning package's
 * copyright file is copied, or the build fails. A fake `dpkg` answers as dpkg does on a merged-/usr
 * root (it knows /lib/..., not the /usr/lib/... the library resolves to).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fromRoot } from '../../helpers/paths';
import { tempDir } from '../../helpers/temp';

const SCRIPT = fromRoot('layer', 'scripts', 'licence-of.sh');

function setup(owners: Record<string, string>) {
  const dir = tempDir('licence');
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const cases = Object.entries(owners)
    .map(([file, pkg]) => `  ${JSON.stringify(file)}) echo "${pkg}:amd64: $2" ;;`)
    .join('\n');
  fs.writeFileSync(path.join(bin, 'dpkg'), `#!/bin/sh\n[ "$1" = -S ] || exit 2\ncase "$2" in\n${cases}\n  *) echo "dpkg-query: no path found matching pattern $2" >&2; exit 1 ;;\nesac\n`, { mode: 0o755 });
  const docs = path.join(dir, 'doc');
  const out = path.join(dir, 'out');
  const run = (file: string) =>
    spawnSync('bash', [SCRIPT, file, out], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin`, DOC_ROOT: docs } });
  return { dir, docs, out, run };
}

test('copies the owner\'s copyright, found under the name dpkg recorded (merged /usr: /lib, not /usr/lib)', () => {
  // ldd names the library /usr/lib/...; dpkg on a merged-/usr root knows it as /lib/...
  const t = setup({ '/lib/no-such-triplet/libz.so.1': 'zlib1g' });
  try {
    fs.mkdirSync(path.join(t.docs, 'zlib1g'), { recursive: true });
    fs.writeFileSync(path.join(t.docs, 'zlib1g', 'copyright'), 'zlib licence');
    const res = t.run('/usr/lib/no-such-triplet/libz.so.1');
    expect([res.status, res.stderr]).toEqual([0, '']);
    expect(fs.readFileSync(path.join(t.out, 'zlib1g.txt'), 'utf8')).toBe('zlib licence');
  } finally {
    fs.rmSync(t.dir, { recursive: true, force: true });
  }
});

test('a package without a copyright file fails the build, naming both', () => {
  const t = setup({ '/usr/lib/x86_64-linux-gnu/libpng16.so.16': 'libpng16-16' });
  try {
    const res = t.run('/usr/lib/x86_64-linux-gnu/libpng16.so.16');
    expect(res.status).toBe(1);
    expect(res.stderr).toContain(`/usr/lib/x86_64-linux-gnu/libpng16.so.16 comes from libpng16-16, which has no ${t.docs}/libpng16-16/copyright`);
    expect(fs.existsSync(t.out)).toBe(false);
  } finally {
    fs.rmSync(t.dir, { recursive: true, force: true });
  }
});

test('a library no package owns fails the build', () => {
  const t = setup({});
  try {
    const res = t.run('/usr/lib/x86_64-linux-gnu/libmystery.so.1');
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('no Debian package owns /usr/lib/x86_64-linux-gnu/libmystery.so.1');
  } finally {
    fs.rmSync(t.dir, { recursive: true, force: true });
  }
});

test('build-addon.sh ships each library\'s licence through it (no silent skip left)', () => {
  const script = fs.readFileSync(fromRoot('layer', 'scripts', 'build-addon.sh'), 'utf8');
  expect(script).toContain('bash /work/licence-of.sh "$file" "$out/licenses"');
  expect(script).not.toMatch(/\[ -f [^\]]*copyright" \] &&/);
});
