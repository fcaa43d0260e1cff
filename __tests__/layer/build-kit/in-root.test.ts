/**
 * in-root.sh for real, in the cached smoke roots (x86_64, and arm64 under qemu-aarch64-static), as
 * root: every hostile value arrives as one argv element or variable, unchanged, and the root is not
 * written. System lane (jest.config.js). The argv builders themselves: roots.test.ts (unit lane).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inRoot } from '../../../layer/build-kit/roots';
import { planStages } from '../../../layer/build-kit/stages';
import { targets } from '../../../layer/inputs';
import { layerStages } from '../../../layer/rules/layer-stages';
import { HOSTILE_VALUES } from '../../helpers/hostile-values';

// For real: the cached smoke roots, as root (the build and CI make them). The command prints its
// argv and environment NUL-separated; both must come back exactly.
const smokeRoot = (arch: 'x86_64' | 'arm64') => planStages(layerStages(targets[arch]), ['smoke-root']).stages[0].output;
const emulatorOnHost = spawnSync('sh', ['-c', 'command -v qemu-aarch64-static'], { encoding: 'utf8' }).stdout.trim();

describe.each([
  ['x86_64', undefined],
  ['arm64', '/usr/bin/qemu-aarch64-static'],
] as const)('in a real %s root', (arch, emulator) => {
  const root = smokeRoot(arch);
  beforeAll(() => {
    // The system lane has what this needs (jest.config.js): say which part is missing rather than skip.
    if (process.getuid?.() !== 0) throw new Error('needs root');
    if (!fs.existsSync(root)) throw new Error(`no smoke root at ${root}: run npm run build:layer${arch === 'arm64' ? ' -- --arch arm64' : ''}`);
    if (emulator && !emulatorOnHost) throw new Error('needs qemu-aarch64-static (Debian: qemu-user-static)');
  });
  const env = Object.fromEntries(HOSTILE_VALUES.map(([, v], i) => [`V${i}`, v]));
  const values = ['K=V', '--', '-i', ...HOSTILE_VALUES.map(([, v]) => v)];

  const run = (argv: string[]) => {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'in-root-'));
    try {
      const binds = emulator ? [{ from: emulatorOnHost, to: emulator, readOnly: true }] : [];
      const full = inRoot(root, env, argv, { overlay: path.join(scratch, 'o'), binds, emulator });
      const res = spawnSync(full[0], full.slice(1), { encoding: 'utf8' });
      if (res.status !== 0) throw new Error(`exit ${res.status}: ${res.stderr}`);
      return res.stdout.split('\0').slice(0, -1);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  };

  test('argv arrives unchanged', () => {
    expect(run(['/usr/bin/printf', '%s\\0', ...values])).toEqual(values);
  });

  test('the environment is exactly PATH, HOME, LANG and the given variables', () => {
    const seen = run(['/usr/bin/env', '-0']);
    expect(seen.sort()).toEqual(
      ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'LANG=C.UTF-8', ...Object.entries(env).map(([k, v]) => `${k}=${v}`)].sort(),
    );
  });

  test('the root is not written (the command ran in an overlay)', () => {
    run(['/bin/sh', '-c', 'echo x > /written-by-test; printf "ok\\0"']);
    expect(fs.existsSync(path.join(root, 'written-by-test'))).toBe(false);
  });
});
