/**
 * One long build step at a time: progress with elapsed time, one log file per step, and on failure
 * a message naming the step, its log and the log's last lines. The stage runner (stages.ts) decides
 * which steps run and how they are numbered and named.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export class StepFailed extends Error {
  constructor(
    readonly step: string,
    readonly logFile: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StepFailed';
  }
}

/** A prerequisite the machine lacks: reported as one line with its fix, never a stack trace. */
export class MissingPrerequisite extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingPrerequisite';
  }
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export interface StepContext {
  /** The step's log file: commands run with `exec` append to it. */
  readonly logFile: string;
  /** Runs one command (argv, never a shell string) with its output going to the step's log. */
  exec(argv: readonly string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<void>;
  log(line: string): void;
}

/**
 * Runs `body` as the step `label` (e.g. `[3/7] OpenCV build`), its log in `logFile` (emptied first).
 * Prints one line when the step starts and one when it ends, and a heartbeat with the log's last
 * line every 30 s between. `lockFd`, when given, is every command's fd 3: the build's lock
 * (lock.ts) is then held for as long as any command the step started lives, even if this process
 * is killed first.
 */
export async function runStep<T>(
  step: string,
  label: string,
  logFile: string,
  out: (line: string) => void,
  body: (ctx: StepContext) => Promise<T>,
  lockFd?: number,
): Promise<T> {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  fs.writeFileSync(logFile, '');
  const started = Date.now();
  out(`▶ ${label} (log: ${logFile})`);
  const heartbeat = setInterval(() => {
    out(`  … ${label}: ${formatDuration(Date.now() - started)} elapsed${lastLine(logFile)}`);
  }, 30_000);
  const ctx: StepContext = {
    logFile,
    log: (line) => fs.appendFileSync(logFile, `${line}\n`),
    exec: (argv, options) => execLogged(argv, logFile, { ...options, lockFd }),
  };
  try {
    const result = await body(ctx);
    out(`✓ ${label}: ${formatDuration(Date.now() - started)}`);
    return result;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const tail = tailLines(logFile, 15);
    throw new StepFailed(
      step,
      logFile,
      `✗ ${label} failed after ${formatDuration(Date.now() - started)}: ${reason}\n  log: ${logFile}` +
        (tail ? `\n  last lines:\n${tail.replace(/^/gm, '    ')}` : ''),
      { cause: err },
    );
  } finally {
    clearInterval(heartbeat);
  }
}

/** argv as a reader of the log can paste it: plain words as they are, anything else single-quoted. */
export function displayArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function execLogged(
  argv: readonly string[],
  logFile: string,
  options: { cwd?: string; env?: NodeJS.ProcessEnv; lockFd?: number } = {},
): Promise<void> {
  const [cmd, ...args] = argv;
  const fd = fs.openSync(logFile, 'a');
  fs.writeSync(fd, `$ ${displayArgv(argv)}\n`);
  return new Promise<void>((resolve, reject) => {
    // A command that cannot start emits 'error' and then 'close': the log is closed, and the
    // promise settled, once.
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      fs.closeSync(fd);
      if (err) reject(err);
      else resolve();
    };
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: options.lockFd === undefined ? ['ignore', fd, fd] : ['ignore', fd, fd, options.lockFd] });
    child.on('error', (err) => finish(new Error(`cannot start ${cmd}: ${err.message}`)));
    child.on('close', (code, signal) => finish(code === 0 ? undefined : new Error(`${path.basename(cmd)} exited with ${signal ?? `code ${code}`}`)));
  });
}

function tailLines(file: string, count: number): string {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd();
    return text.split('\n').slice(-count).join('\n');
  } catch {
    return '';
  }
}

function lastLine(file: string): string {
  const line = tailLines(file, 1).trim();
  return line ? ` — ${line.slice(0, 120)}` : '';
}
