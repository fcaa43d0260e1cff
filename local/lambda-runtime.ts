/**
 * Runs a bundled function locally the way Lambda does: a long-lived process (a warm container)
 * with the function's environment, the unpacked layer on NODE_PATH, one invocation at a time,
 * a deadline from the configured timeout, and the invocation's log lines collected.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { LAMBDA_RUNTIME } from '../layer/inputs';
import { regionOf } from '../functions/common/contract';
import { endLine, stderrEndMark } from './runtime-log';

/** How long a failed init's process may take to close its output (its INIT_REPORT line) before the invocation reports it. */
const INIT_OUTPUT_WAIT_MS = 1000;

export interface FunctionRuntimeOptions {
  readonly name: string;
  /** The bundled index.js. */
  readonly bundle: string;
  readonly environment: Record<string, string>;
  readonly timeoutSeconds: number;
  readonly memoryMb?: number;
  /** The unpacked layer's node_modules (what /opt/nodejs/node_modules is on Lambda). */
  readonly layerNodeModules?: string;
}

export interface InvocationResult {
  readonly requestId: string;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: { errorType: string; errorMessage: string };
  /** Everything the invocation wrote to stdout/stderr. */
  readonly log: string;
  readonly durationMs: number;
}

interface Pending {
  id: string;
  /** The process this invocation runs in (a late exit of an older one must not end it). */
  child: ChildProcess;
  resolve: (r: InvocationResult) => void;
  started: number;
  timer: NodeJS.Timeout;
  /** The result, held until both of its output's ends are read (runtime-log.ts). */
  outcome?: Pick<InvocationResult, 'ok' | 'result' | 'error'>;
  readonly ended: Set<'stdout' | 'stderr'>;
}

export class FunctionRuntime {
  private child?: ChildProcess;
  private ready?: Promise<void>;
  private queue: Promise<unknown> = Promise.resolve();
  private current?: Pending;
  private log = '';
  /** Processes whose output pipes have closed (all they wrote has been read). */
  private readonly closed = new WeakSet<ChildProcess>();
  /** The process whose output the log collects: the latest started, also after it exits (its last lines may come after). */
  private logOwner?: ChildProcess;

  constructor(readonly options: FunctionRuntimeOptions) {}

  /** The process id of the function's process while it runs (benches read its memory). */
  get pid(): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined;
  }

  /** Queues an invocation; invocations run one after another, like one container. */
  invoke(event: unknown): Promise<InvocationResult> {
    const run = this.queue.then(() => this.invokeNow(event));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Starts the function's process and runs its init now, not at the first invocation (a warm
   * container, as in a deployment that has been running; the load benches measure warm throughput).
   * An init that fails is reported by the next invocation, as Lambda does.
   */
  warm(): Promise<void> {
    const run = this.queue.then(() => this.ready ?? this.start());
    this.queue = run.catch(() => undefined);
    return run.then(
      () => undefined,
      () => undefined,
    );
  }

  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.ready = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  private start(): Promise<void> {
    const o = this.options;
    const nodePath = [o.layerNodeModules, process.env.NODE_PATH].filter(Boolean).join(path.delimiter);
    const layerLib = o.layerNodeModules ? path.resolve(o.layerNodeModules, '..', '..', 'lib') : undefined;
    const child = fork(path.join(__dirname, 'runtime-child.ts'), [path.resolve(o.bundle)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TZ: 'UTC',
        NODE_PATH: nodePath,
        ...(layerLib ? { LD_LIBRARY_PATH: layerLib } : {}),
        // The variables Lambda's runtime sets that code may read.
        AWS_EXECUTION_ENV: LAMBDA_RUNTIME.executionEnv,
        AWS_LAMBDA_FUNCTION_NAME: o.name,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(o.memoryMb ?? 128),
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        // Powertools reports a cold start only for on-demand containers, as Lambda labels them.
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${o.name}`,
        AWS_LAMBDA_LOG_STREAM_NAME: `local/[$LATEST]${randomUUID().replace(/-/g, '')}`,
        LAMBDA_TASK_ROOT: path.dirname(path.resolve(o.bundle)),
        _HANDLER: 'index.handler',
        AWS_REGION: regionOf(process.env),
        AWS_DEFAULT_REGION: regionOf(process.env),
        AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
        AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
        ...o.environment,
      },
    });
    this.child = child;
    this.logOwner = child;
    // Whole lines only, each stream's last partial line held until its newline: the two pipes are
    // read apart, and a line is one log event, as in CloudWatch.
    const partial = { stdout: '', stderr: '' };
    const collect = (stream: 'stdout' | 'stderr') => (chunk: string) => {
      // Output of a process that was already replaced does not belong to the current log.
      if (this.logOwner !== child) return;
      const pending = this.current?.child === child ? this.current : undefined;
      const read = partial[stream] + chunk;
      const cut = read.lastIndexOf('\n') + 1;
      partial[stream] = read.slice(cut);
      let text = read.slice(0, cut);
      // An end after a line the handler left open closes that line first.
      const atEnd = (mark: string, rest: string) => {
        const at = text.indexOf(mark);
        if (at < 0) return false;
        text = `${text.slice(0, at)}${at > 0 && text[at - 1] !== '\n' ? '\n' : ''}${rest}${text.slice(at + mark.length)}`;
        return true;
      };
      if (stream === 'stderr' && pending && atEnd(stderrEndMark(pending.id), '')) pending.ended.add('stderr');
      if (stream === 'stdout' && pending && atEnd(endLine(pending.id), endLine(pending.id))) pending.ended.add('stdout');
      this.log += text;
      this.settle();
    };
    // Decoded as text across chunks (a character may be split between two reads).
    child.stdout!.setEncoding('utf8').on('data', collect('stdout'));
    child.stderr!.setEncoding('utf8').on('data', collect('stderr'));
    child.once('close', () => {
      this.closed.add(child);
      // What a process wrote without a final newline.
      if (this.logOwner === child) this.log += [partial.stdout, partial.stderr].filter(Boolean).map((line) => `${line}\n`).join('');
    });
    this.ready = new Promise<void>((resolve, reject) => {
      child.on('message', (m: { type: string; id?: string; ok?: boolean; result?: unknown; error?: InvocationResult['error'] }) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'init-error') reject(Object.assign(new Error(m.error!.errorMessage), { name: m.error!.errorType }));
        else if (m.type === 'result' && this.current?.id === m.id && this.current?.child === child) {
          this.current.outcome = { ok: Boolean(m.ok), result: m.result, error: m.error };
          this.settle();
        }
      });
      child.once('exit', (code, signal) => {
        if (this.child === child) {
          this.child = undefined;
          this.ready = undefined;
        }
        reject(new Error(`${o.name} exited during init (${signal ?? code})`));
        if (this.current?.child === child) {
          // A result already sent stands, whatever of its output was not read.
          this.finish(this.current.outcome ?? { ok: false, error: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${this.current.id} Error: Runtime exited (${signal ?? `code ${code}`})` } });
        }
      });
    });
    // Callers handle the rejection through invokeNow; this keeps it from counting as unhandled.
    this.ready.catch(() => undefined);
    return this.ready;
  }

  private async invokeNow(event: unknown): Promise<InvocationResult> {
    const id = randomUUID();
    const started = Date.now();
    try {
      if (!this.child || !this.ready) {
        this.log = '';
        await this.start();
      } else await this.ready;
    } catch (err) {
      // Init failed: report it as Lambda does; the next invocation tries a fresh container.
      const e = err as Error;
      const child = this.child;
      this.child = undefined;
      this.ready = undefined;
      // The process ends itself after a failed init; its output (INIT_REPORT) is read by the time it closes.
      if (child && !this.closed.has(child)) await Promise.race([once(child, 'close'), new Promise((resolve) => setTimeout(resolve, INIT_OUTPUT_WAIT_MS).unref())]);
      child?.kill('SIGKILL');
      return { requestId: id, ok: false, error: { errorType: e.name === 'Error' ? 'Runtime.InitError' : e.name, errorMessage: e.message }, log: this.log, durationMs: Date.now() - started };
    }
    const child = this.child;
    // Closed while this invocation waited for the container: nothing runs it (and no deadline timer is left).
    if (!child) return { requestId: id, ok: false, error: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${id} Error: Runtime closed` }, log: this.log, durationMs: Date.now() - started };
    const timeoutMs = this.options.timeoutSeconds * 1000;
    this.log = `START RequestId: ${id} Version: $LATEST\n`;
    return new Promise<InvocationResult>((resolve) => {
      const timer = setTimeout(() => {
        // Like Lambda: the container is discarded; the next invocation starts a fresh one.
        if (this.child === child) {
          this.child = undefined;
          this.ready = undefined;
        }
        child.kill('SIGKILL');
        this.finish({ ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${this.options.timeoutSeconds.toFixed(2)} seconds` } });
      }, timeoutMs);
      this.current = { id, child, resolve, started: Date.now(), timer, ended: new Set() };
      child.send({ type: 'invoke', id, event, deadline: Date.now() + timeoutMs, memoryMb: this.options.memoryMb ?? 128 });
    });
  }

  /** Answers the current invocation once its result and both ends of its output are in. */
  private settle(): void {
    const pending = this.current;
    if (pending?.outcome && pending.ended.size === 2) this.finish(pending.outcome);
  }

  private finish(outcome: Pick<InvocationResult, 'ok' | 'result' | 'error'>): void {
    const pending = this.current;
    if (!pending) return;
    this.current = undefined;
    clearTimeout(pending.timer);
    pending.resolve({ requestId: pending.id, durationMs: Date.now() - pending.started, log: this.log, ...outcome });
  }
}
