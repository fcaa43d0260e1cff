/**
 * The folder the user typed the command in. npm runs a package's scripts in the package's root
 * (`npm run redact -- photos out` from ~/trip would read the project's photos/) and says where it
 * was started in INIT_CWD. A process that another one started elsewhere (a test, a script) inherits
 * INIT_CWD with the rest of the environment, so it is believed only by a process running in the
 * root of the package npm ran (npm_package_json); any other has its own working folder.
 */
import * as path from 'node:path';

export function userCwd(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  const root = env.npm_package_json ? path.dirname(env.npm_package_json) : undefined;
  return env.INIT_CWD && root !== undefined && path.resolve(root) === path.resolve(cwd) ? env.INIT_CWD : cwd;
}
