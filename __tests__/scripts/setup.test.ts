/**
 * scripts/setup.sh stops at the first failed step, also when sourced on the left of `&&` as the
 * README runs it (bash ignores `set -e` there unless the steps run in a process of their own).
 * A copy of the script in a temporary project whose `npm` fails; every other command it checks for
 * is a stub, so nothing is installed and no network is used.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fromRoot } from '../helpers/paths';
import { tempDir } from '../helpers/temp';

function project(npmExit: number): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = tempDir('setup-');
  fs.mkdirSync(path.join(dir, 'scripts'));
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.copyFileSync(fromRoot('scripts', 'setup.sh'), path.join(dir, 'scripts', 'setup.sh'));
  fs.copyFileSync(fromRoot('.nvmrc'), path.join(dir, '.nvmrc'));
  fs.writeFileSync(path.join(dir, 'package-lock.json'), '{}\n');
  const stub = (name: string, body: string) => fs.writeFileSync(path.join(dir, 'bin', name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  for (const name of ['debootstrap', 'readelf', 'unzip', 'xz', 'unshare', 'setpriv', 'flock', 'terraform']) stub(name, 'exit 0');
  // `npm ci` fails as a registry the machine cannot reach makes it fail; a working one makes node_modules.
  stub('npm', npmExit === 0 ? 'mkdir -p node_modules; exit 0' : `echo "npm error code SELF_SIGNED_CERT_IN_CHAIN" >&2; exit ${npmExit}`);
  const env = { PATH: `${path.join(dir, 'bin')}:${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: dir, FACE_SETUP_SKIP_LAYER: '1' };
  return { dir, env };
}

const sourced = (dir: string, env: NodeJS.ProcessEnv) => spawnSync('bash', ['-c', '. scripts/setup.sh && echo "NEXT COMMAND RAN"'], { cwd: dir, env, encoding: 'utf8' });

test('a failed npm ci fails the sourced setup: the command after && does not run', () => {
  const { dir, env } = project(1);
  const run = sourced(dir, env);
  expect(run.stdout).not.toContain('NEXT COMMAND RAN');
  expect(run.status).not.toBe(0);
  expect(run.stderr).toContain('SELF_SIGNED_CERT_IN_CHAIN');
  expect(run.stderr).toMatch(/\[setup\] failed \(exit 1\)/);
  expect(fs.existsSync(path.join(dir, 'node_modules', '.setup-stamp'))).toBe(false);
});

test('when every step succeeds the command after && runs, and a second run skips npm ci', () => {
  const { dir, env } = project(0);
  const first = sourced(dir, env);
  expect(first.stderr).toContain('[setup] npm ci');
  expect(first.stdout).toContain('NEXT COMMAND RAN');
  expect(first.status).toBe(0);
  const second = sourced(dir, env);
  expect(second.stderr).not.toContain('[setup] npm ci');
  expect(second.stdout).toContain('NEXT COMMAND RAN');
});
