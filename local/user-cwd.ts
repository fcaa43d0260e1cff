/**
 * The folder the user typed the command in. npm runs a package's scripts in the package's root
 * (`npm run redact -- photos out` from ~/trip would read the project's photos/) and says where it
 * was started in INIT_CWD; a tool started directly has it as its own working folder.
 */
export function userCwd(env: NodeJS.ProcessEnv = process.env): string {
  return env.INIT_CWD ?? process.cwd();
}
