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

/**
 * The same project for a user who is not root but has passwordless sudo: `id` says uid 1000, `sudo`
 * runs its command as this process (with root's HOME under -H) and logs it, `chown` logs, and the
 * layer step runs, its build (`npm run build:layer`) writing down the environment it was given.
 */
function sudoProject(): { dir: string; env: NodeJS.ProcessEnv; home: string } {
  const { dir, env } = project(0);
  const home = path.join(dir, 'home');
  fs.mkdirSync(home);
  const stub = (name: string, body: string) => fs.writeFileSync(path.join(dir, 'bin', name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  stub('id', 'case "$1" in -u|-g) echo 1000 ;; *) exec /usr/bin/id "$@" ;; esac');
  stub(
    'sudo',
    `echo "$*" >> ${dir}/sudo.log
while [ $# -gt 0 ]; do case "$1" in -H) HOME=${dir}/root-home; export HOME; shift ;; -n|--preserve-env=*) shift ;; *) break ;; esac; done
exec "$@"`,
  );
  stub('chown', `echo "$*" >> ${dir}/chown.log`);
  stub('apt-get', 'exit 0');
  stub('npx', 'echo "--arch x86_64"');
  stub(
    'npm',
    `case "$*" in
  "run --silent build:layer -- --arch x86_64")
    { echo "HOME=$HOME"; echo "XDG_CACHE_HOME=$XDG_CACHE_HOME"; echo "npm_config_userconfig=$npm_config_userconfig"; [ -d "$XDG_CACHE_HOME/facedetect/node" ] && echo "cache folder there"; } > ${dir}/build.env
    mkdir -p layer/dist && touch layer/dist/opencv-layer-x86_64.zip ;;
  ci*) mkdir -p node_modules ;;
esac
exit 0`,
  );
  return { dir, home, env: { ...env, HOME: home, FACE_SETUP_SKIP_LAYER: '' } };
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

test('through sudo, the layer build runs with root\'s HOME (its npm leaves nothing in the user\'s ~/.npm) but the user\'s npm settings, and the user\'s cache folder, made by the user; the zips come back to the user', () => {
  const { dir, env, home } = sudoProject();
  const run = sourced(dir, env);
  expect(run.stderr).not.toContain('[setup] failed');
  expect(run.stdout).toContain('NEXT COMMAND RAN');
  const build = fs.readFileSync(path.join(dir, 'build.env'), 'utf8').split('\n');
  expect(build).toContain(`HOME=${path.join(dir, 'root-home')}`);
  expect(build).toContain(`XDG_CACHE_HOME=${path.join(home, '.cache')}`);
  // The user's npm settings (mirror, proxy, CA) still apply to root's npm.
  expect(build).toContain(`npm_config_userconfig=${path.join(home, '.npmrc')}`);
  // The folders the build writes into (and setup's Node folder) existed before it ran: made by the user, not by root.
  expect(build).toContain('cache folder there');
  expect(fs.readFileSync(path.join(dir, 'sudo.log'), 'utf8')).toMatch(/^-H .*npm run --silent build:layer -- --arch x86_64$/m);
  expect(fs.readFileSync(path.join(dir, 'chown.log'), 'utf8').trim()).toBe('-R 1000:1000 layer/dist');
});
