/**
 * Hostile input through the argv builders of the layer build (in-root.sh, debootstrap): every value
 * reaches the program as one argv element, unchanged; names that are not shell identifiers, NUL
 * bytes and unsafe paths are refused; nothing goes through a shell string. in-root.sh's own
 * parsing is checked with --dry-run (no root needed); for real in the cached smoke roots by
 * in-root.test.ts (system lane: root, the roots, qemu).
 *
 * Named after layer/build-kit/roots.ts (inRoot, debootstrapArgv), its main subject; it also checks
 * layer/build-kit/in-root.sh, the script inRoot's argv is for.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { targets } from '../../../layer/inputs';
import { debootstrapArgv, inRoot, IN_ROOT_SCRIPT, SANDBOX_UID } from '../../../layer/build-kit/roots';
import { HOSTILE_VALUES } from '../../helpers/hostile-values';

const ROOT = '/var/cache/roots/build-bullseye-0123456789abcdef';

/** The argv after in-root.sh's `--` (what runs inside the root). */
function commandOf(argv: string[]): string[] {
  const script = argv.indexOf(IN_ROOT_SCRIPT);
  const sep = argv.indexOf('--', script);
  return argv.slice(sep + 1);
}

describe('inRoot', () => {
  test.each(HOSTILE_VALUES)('an environment value with %s is one element NAME=value, unchanged', (_, value) => {
    const argv = inRoot(ROOT, { VALUE: value, OTHER: 'x' }, ['true']);
    expect(argv).toContain(`VALUE=${value}`);
    expect(argv.filter((a) => a.startsWith('VALUE='))).toEqual([`VALUE=${value}`]);
    expect(commandOf(argv)).toEqual(['true']);
  });

  test.each(HOSTILE_VALUES)('a command argument with %s is one element, unchanged', (_, value) => {
    expect(commandOf(inRoot(ROOT, {}, ['printf', '%s', value, value]))).toEqual(['printf', '%s', value, value]);
  });

  test('arguments that look like NAME=value, options or the separator, after the command, stay arguments', () => {
    const cmd = ['env', 'K=V', '--', '-i', 'PATH=/evil', '--bind', '/', '/x'];
    const argv = inRoot(ROOT, { A: '--' }, cmd);
    expect(commandOf(argv)).toEqual(cmd);
  });

  test.each(['', '1A', 'A-B', 'A B', 'A=B', '$(x)', 'A\nB', 'ÄB', '-i', '--'])('environment name %j is refused', (name) => {
    expect(() => inRoot(ROOT, { [name]: 'x' }, ['true'])).toThrow(/not a valid environment variable name/);
  });

  test('NUL bytes are refused wherever they are', () => {
    expect(() => inRoot(ROOT, { A: 'x\0y' }, ['true'])).toThrow(/NUL/);
    expect(() => inRoot(ROOT, {}, ['true', 'x\0y'])).toThrow(/NUL/);
    expect(() => inRoot(`${ROOT}\0`, {}, ['true'])).toThrow(/NUL/);
  });

  test('a command is required, and it is not an empty string', () => {
    expect(() => inRoot(ROOT, {}, [])).toThrow(/no command/);
    expect(() => inRoot(ROOT, {}, [''])).toThrow(/no command/);
  });

  test('paths: the root and mount sources are absolute; mount targets are absolute without ..; overlay paths have no , : or \\', () => {
    expect(() => inRoot('relative/root', {}, ['true'])).toThrow(/absolute/);
    expect(() => inRoot(ROOT, {}, ['true'], { overlay: '/s', binds: [{ from: 'rel', to: '/opt' }] })).toThrow(/absolute/);
    expect(() => inRoot(ROOT, {}, ['true'], { overlay: '/s', binds: [{ from: '/a', to: 'opt' }] })).toThrow(/absolute/);
    expect(() => inRoot(ROOT, {}, ['true'], { overlay: '/s', binds: [{ from: '/a', to: '/opt/../../etc' }] })).toThrow(/\.\./);
    expect(() => inRoot(ROOT, {}, ['true'], { binds: [{ from: '/a', to: '/opt' }] })).toThrow(/overlay/);
    for (const bad of ['/cache,x/root', '/cache:x/root', '/cache\\x/root']) {
      expect(() => inRoot(bad, {}, ['true'], { overlay: '/s' })).toThrow(/overlay/);
      expect(() => inRoot(ROOT, {}, ['true'], { overlay: bad })).toThrow(/overlay/);
    }
    // Without an overlay the root is a plain path: a comma is fine there.
    expect(() => inRoot('/cache,x/root', {}, ['true'])).not.toThrow();
  });

  test('nothing goes through a shell string: unshare runs bash on the script file, the values follow as arguments', () => {
    const argv = inRoot(ROOT, { A: '$(id)' }, ['sh', '-c', 'echo "$1"', 'sh', '$(id)'], {
      overlay: '/scratch/o',
      binds: [{ from: '/host dir/with space', to: '/work', readOnly: true }],
      emulator: '/usr/bin/qemu-aarch64-static',
    });
    expect(argv.slice(0, 7)).toEqual(['unshare', '--mount', '--propagation', 'private', '--', 'bash', IN_ROOT_SCRIPT]);
    // The only -c is the command's own, and the value reaches it as an argument of that script.
    expect(argv.filter((a) => a === '-c')).toHaveLength(1);
    expect(argv.slice(-5)).toEqual(['sh', '-c', 'echo "$1"', 'sh', '$(id)']);
    expect(argv).toContain('/host dir/with space');
  });
});

describe('debootstrapArgv', () => {
  const base = { suite: 'bullseye', variant: 'minbase' };

  test('packages joined by commas, options before the operands (debootstrap takes no --, so no operand may look like an option)', () => {
    expect(debootstrapArgv('/cache/roots/x.partial', 'http://deb.debian.org/debian', ['build-essential', 'libpng-dev', 'g++'], base)).toEqual([
      'debootstrap',
      '--variant=minbase',
      '--arch=amd64',
      '--include=build-essential,libpng-dev,g++',
      'bullseye',
      '/cache/roots/x.partial',
      'http://deb.debian.org/debian',
    ]);
    expect(debootstrapArgv('/r', 'https://mirror.example/debian', [], { ...base, debianArch: 'arm64', foreign: true })).toEqual([
      'debootstrap',
      '--variant=minbase',
      '--arch=arm64',
      '--foreign',
      'bullseye',
      '/r',
      'https://mirror.example/debian',
    ]);
  });

  test.each(['a,b', '-x', '--include=evil', 'A B', '', 'pkg;rm'])('package %j is refused', (pkg) => {
    expect(() => debootstrapArgv('/r', 'http://m/debian', [pkg], base)).toThrow(/not a Debian package name/);
  });

  test.each(['-m', 'ftp://m/debian', 'http://m/debian two', 'file:///etc'])('mirror %j is refused', (mirror) => {
    expect(() => debootstrapArgv('/r', mirror, [], base)).toThrow(/mirror/);
  });

  test('the root folder is absolute; suite, variant and architecture are plain words', () => {
    expect(() => debootstrapArgv('relative', 'http://m/debian', [], base)).toThrow(/absolute/);
    expect(() => debootstrapArgv('/r', 'http://m/debian', [], { ...base, suite: '--foreign' })).toThrow(/suite/);
    expect(() => debootstrapArgv('/r', 'http://m/debian', [], { ...base, variant: 'a b' })).toThrow(/variant/);
    expect(() => debootstrapArgv('/r', 'http://m/debian', [], { ...base, debianArch: 'amd64,arm64' })).toThrow(/architecture/);
  });

  test('the build tables\' own packages all pass', () => {
    for (const t of Object.values(targets)) {
      expect(() => debootstrapArgv('/r', 'http://m/debian', [...t.buildPackages, ...t.crossPackages], base)).not.toThrow();
    }
  });
});

/** Runs in-root.sh --dry-run: what it would mount and run, as NUL-separated argv records (count first). */
function dryRun(argv: string[]): string[][] {
  const script = argv.indexOf(IN_ROOT_SCRIPT);
  const res = spawnSync('bash', [IN_ROOT_SCRIPT, '--dry-run', ...argv.slice(script + 1)], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`in-root.sh exited ${res.status}: ${res.stderr}`);
  const parts = res.stdout.split('\0');
  const commands: string[][] = [];
  for (let i = 0; i < parts.length - 1; ) {
    const n = Number(parts[i]);
    commands.push(parts.slice(i + 1, i + 1 + n));
    i += 1 + n;
  }
  return commands;
}

/** The exec record: `env -i` VARS... /path/chroot REST... (env reads no option after -i: the first word without = is chroot). */
function splitExec(exec: string[]): { vars: string[]; rest: string[] } {
  expect(exec.slice(0, 2)).toEqual(['env', '-i']);
  const at = exec.findIndex((e, i) => i >= 2 && !e.includes('='));
  expect(path.isAbsolute(exec[at]) && path.basename(exec[at])).toBe('chroot');
  return { vars: exec.slice(2, at), rest: exec.slice(at + 1) };
}

describe('in-root.sh parses what inRoot builds', () => {
  const env = Object.fromEntries(HOSTILE_VALUES.map(([, v], i) => [`V${i}`, v]));
  const cmd = ['/usr/bin/printf', '%s\\0', 'K=V', '--', '-i', '--bind', ...HOSTILE_VALUES.map(([, v]) => v)];

  test('native: the environment is exactly PATH, HOME, LANG and the given variables; the command is exactly argv', () => {
    const commands = dryRun(inRoot(ROOT, env, cmd));
    const { vars, rest } = splitExec(commands[commands.length - 1]);
    expect(vars).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'LANG=C.UTF-8', ...Object.entries(env).map(([k, v]) => `${k}=${v}`)]);
    expect(rest).toEqual(['--', ROOT, ...cmd]);
  });

  test('emulated: the same environment, given to the emulator (not through -E, which splits on commas); the command after its --', () => {
    const commands = dryRun(inRoot(ROOT, env, cmd, { emulator: '/usr/bin/qemu-aarch64-static' }));
    const { vars, rest } = splitExec(commands[commands.length - 1]);
    expect(vars).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'LANG=C.UTF-8', ...Object.entries(env).map(([k, v]) => `${k}=${v}`)]);
    expect(rest).toEqual(['--', ROOT, '/usr/bin/qemu-aarch64-static', '-L', '/', '--', ...cmd]);
    expect(rest.slice(0, 6)).not.toContain('-E');
  });

  test('overlay and mounts: each path one argument, the overlay mounted over the root, mounts inside it, read-only where asked', () => {
    const from = '/host/a b,c/$(x)';
    const commands = dryRun(inRoot(ROOT, {}, ['true'], { overlay: '/scratch/o', binds: [{ from, to: '/work' }, { from: '/opt src', to: '/opt', readOnly: true }] }));
    expect(commands).toContainEqual(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${ROOT},upperdir=/scratch/o/upper,workdir=/scratch/o/work`, '/scratch/o/root']);
    expect(commands).toContainEqual(['mount', '--bind', from, '/scratch/o/root/work']);
    expect(commands).toContainEqual(['mount', '--bind', '/opt src', '/scratch/o/root/opt']);
    expect(commands).toContainEqual(['mount', '-o', 'remount,bind,ro', '/scratch/o/root/opt']);
    expect(commands).not.toContainEqual(['mount', '-o', 'remount,bind,ro', '/scratch/o/root/work']);
    expect(splitExec(commands[commands.length - 1]).rest).toEqual(['--', '/scratch/o/root', 'true']);
  });

  test('sandboxed: the writable mounts handed to nobody and back, no /proc of the host, then setpriv, a user, network and PID namespace, chroot last', () => {
    const commands = dryRun(
      inRoot(ROOT, { A: 'b' }, ['bash', '/work/build.sh'], {
        overlay: '/scratch/o',
        binds: [{ from: '/scratch/work', to: '/work' }, { from: '/cache/opencv', to: '/opt', readOnly: true }],
        sandbox: true,
      }),
    );
    expect(commands).not.toContainEqual(expect.arrayContaining(['-t', 'proc']));
    const chownTo = commands.findIndex((c) => c[0] === 'chown' && c[2] === `${SANDBOX_UID}:${SANDBOX_UID}`);
    const exec = commands.findIndex((c) => c[0] === 'env');
    const chownBack = commands.findIndex((c) => c[0] === 'chown' && c[2] === '0:0');
    expect([chownTo < exec, exec < chownBack]).toEqual([true, true]);
    // Only the writable mount: OpenCV (read-only) stays root's.
    expect(commands[chownTo]).toEqual(['chown', '-R', `${SANDBOX_UID}:${SANDBOX_UID}`, '--', '/scratch/o/root/work']);
    const run = commands[exec];
    expect(run.slice(0, 6)).toEqual(['env', '-i', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/tmp', 'LANG=C.UTF-8', 'A=b']);
    const rest = run.slice(6);
    expect(path.basename(rest[0])).toBe('setpriv');
    expect(rest.slice(1, 5)).toEqual([`--reuid=${SANDBOX_UID}`, `--regid=${SANDBOX_UID}`, '--clear-groups', '--']);
    expect(path.basename(rest[5])).toBe('unshare');
    expect(rest.slice(6, 15)).toEqual(['--user', '--map-root-user', '--net', '--pid', '--fork', '--kill-child', '--mount', '--mount-proc=proc', '--']);
    expect(path.basename(rest[15])).toBe('chroot');
    expect(rest.slice(16)).toEqual(['--', '.', 'bash', '/work/build.sh']);
  });

  test('a sandbox needs an overlay and a numeric user other than root', () => {
    expect(() => inRoot(ROOT, {}, ['true'], { sandbox: true })).toThrow(/overlay/);
    for (const [args, message] of [
      [['--sandbox', '0', '--overlay', '/s', ROOT, '--', 'true'], /numeric UID other than 0/],
      [['--sandbox', 'nobody', '--overlay', '/s', ROOT, '--', 'true'], /numeric UID other than 0/],
      [['--sandbox', '65534', ROOT, '--', 'true'], /--sandbox needs --overlay/],
    ] as const) {
      const res = spawnSync('bash', [IN_ROOT_SCRIPT, '--dry-run', ...args], { encoding: 'utf8' });
      expect([res.status, res.stderr]).toEqual([2, expect.stringMatching(message)]);
    }
  });

  test.each([
    [['--overlay'], /--overlay needs/],
    [['--bind', '/a'], /--bind needs/],
    [['--frobnicate', ROOT, '--', 'true'], /unknown option --frobnicate/],
    [['relative', '--', 'true'], /ROOT must be an absolute path/],
    [[ROOT, 'not-a-var', '--', 'true'], /not NAME=value: not-a-var/],
    [[ROOT, '1X=y', '--', 'true'], /not NAME=value: 1X=y/],
    [[ROOT, 'A=b'], /-- CMD/],
    [[ROOT, 'A=b', '--'], /-- CMD/],
    [['--overlay', '/s', '--bind', '/a', 'rel', ROOT, '--', 'true'], /must be an absolute path without \.\./],
    [['--bind', '/a', '/x/../y', '--overlay', '/s', ROOT, '--', 'true'], /must be an absolute path without \.\./],
    [['--bind', '/a', '/x', ROOT, '--', 'true'], /--bind needs --overlay/],
  ])('in-root.sh refuses %j', (args, message) => {
    const res = spawnSync('bash', [IN_ROOT_SCRIPT, '--dry-run', ...(args as string[])], { encoding: 'utf8' });
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(message);
  });
});
