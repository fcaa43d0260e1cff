/**
 * in-root.sh for real, in the cached smoke roots (x86_64, and arm64 under qemu-aarch64-static), as
 * root: every hostile value arrives as one argv element or variable, unchanged, and the root is not
 * written. Then the addon step's sandbox (its own argv builder, with a probe for its script) in the
 * x86_64 smoke root: no network (not even the host's loopback), its own PID namespace, root mapped
 * to nobody. System lane (jest.config.js).
 * The argv builders themselves: roots.test.ts (unit lane).
 */
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inRoot, SANDBOX_UID } from '../../../layer/build-kit/roots';
import { targets } from '../../../layer/inputs';
import { planLayer } from '../../../layer/rules/layer-stages';
import { addonInRoot } from '../../../layer/rules/stages/addon';
import { HOSTILE_VALUES } from '../../helpers/hostile-values';
import { tempDir } from '../../helpers/temp';

// For real: the cached smoke roots, as root (the build and CI make them). The command prints its
// argv and environment NUL-separated; both must come back exactly.
const smokeRoot = (arch: 'x86_64' | 'arm64') => planLayer(targets[arch], ['smoke-root']).stages[0].output;
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
    const scratch = tempDir('in-root');
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

describe('the addon step\'s sandbox, in the x86_64 smoke root', () => {
  // The smoke root, not the build root: CI restores finished zips from its cache, and then builds
  // the smoke roots for the tests but never the build root.
  const root = smokeRoot('x86_64');
  let server: net.Server;
  let port = 0;
  let scratch = '';
  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error('needs root');
    if (!fs.existsSync(root)) throw new Error(`no smoke root at ${root}: run npm run build:layer`);
    // A listener on this namespace's loopback: reachable from the root unless sandboxed.
    server = net.createServer((socket) => socket.end('hello\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));
  beforeEach(() => {
    scratch = tempDir('sandbox');
    for (const d of ['work', 'opencv', 'node/bin', 'node/include']) fs.mkdirSync(path.join(scratch, d), { recursive: true });
  });
  afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

  const PROBE = [
    'bash',
    '-c',
    // Connect to the listener; then who it is, its PID, its network interfaces, what it can write.
    'if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then echo "net: reached"; else echo "net: unreachable"; fi; ' +
      'echo "uid_map: $(tr -s " " < /proc/self/uid_map | sed "s/^ //")"; echo "pid: $$"; ' +
      'echo "interfaces: $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\\n" " ")"; ' +
      'touch /work/written && echo "work: writable"; touch /opt/x 2>/dev/null || echo "opt: read-only"',
  ];
  const run = (argv: string[]) => {
    const res = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`exit ${res.status}: ${res.stderr}`);
    return res.stdout.trim().split('\n');
  };

  test('without the sandbox the probe reaches the listener (the probe works)', () => {
    const out = run(inRoot(root, { PORT: String(port) }, PROBE, { overlay: path.join(scratch, 'overlay') }));
    expect(out[0]).toBe('net: reached');
  });

  test('the addon step cannot reach the network, is PID 1 of its own namespace, and is root only inside', () => {
    const at = { root, scratch, opencv: path.join(scratch, 'opencv'), nodeDir: path.join(scratch, 'node') };
    const out = run(addonInRoot(at, { PORT: String(port) }, PROBE));
    expect(out).toEqual(['net: unreachable', `uid_map: 0 ${SANDBOX_UID} 1`, 'pid: 1', 'interfaces: lo ', 'work: writable', 'opt: read-only']);
    // What it wrote is root's again once it is done.
    expect(fs.statSync(path.join(scratch, 'work', 'written')).uid).toBe(0);
  });
});
