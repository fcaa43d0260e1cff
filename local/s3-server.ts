/**
 * An embedded S3-compatible server (s3rver 3.7.1) on loopback, for local runs and tests.
 *
 * Every workaround for s3rver lives here, each with its reason:
 * - list continuation tokens are made with DES, which OpenSSL 3 refuses: `spawnS3Server` hosts it
 *   in a process started with --openssl-legacy-provider;
 * - it stores a streamed body with its aws-chunked framing: clients of a local endpoint send
 *   checksums only when required (functions/common/s3.ts; a client-side setting, so it lives with
 *   the client the functions bundle, not here);
 * - `acceptAnyAccessKey`, `fastFolderCleanup` and the loopback Host guard below;
 * - it checks no signature or POST policy, so any web page could write to it with a form POST (no
 *   preflight): a write from a browser is taken only from the local web app's page (`browserOrigins`);
 * - it joins a key's segments into a file path (`../` would leave its folder): `keysStayInBucket`;
 * - it has no conditional requests (If-Match on reads ignored, on writes ignored): added in front
 *   of it by local/s3-conditions.ts, with writes to one key in order;
 * - it names both a multipart upload's completion and a form POST upload "ObjectCreated:Post" in
 *   its event notifications: `s3EventName` below, used where local/s3-notifications.ts turns them into S3's;
 * - its event sequencer is the time in ms (ties): `nextSequencer` below;
 * - it sends no event for the keys a multi-object delete (DeleteObjects, `aws s3api delete-objects`,
 *   `aws s3 rm --recursive`) removes, where S3 sends ObjectRemoved:Delete for each: `multiDeleteNotifies`;
 * Handled outside this module, in the code that meets them:
 * - its notifications name the key as stored, where S3 URL-encodes it (spaces as "+"):
 *   `encodeEventKey` in local/s3-notifications.ts, which writes the S3 notification.
 * Evaluated as replacements (2026-11): @20minutes/s3rver 5.0 (a maintained fork) still makes DES
 * tokens and answered client-s3 3.1175's ListObjectsV2 and DeleteObjects with SignatureDoesNotMatch;
 * the other npm "S3 mocks" replace the SDK client instead of serving S3, or need Docker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type { IncomingMessage, ServerResponse } from 'node:http';
import S3rver from 's3rver';
import { listenOnLoopback, PortInUseError } from './listen';
import { refuseForeign } from './loopback-guard';
import { withConditions } from './s3-conditions';
import { withFaults, type FaultOptions } from './s3-faults';

export interface S3ServerOptions {
  /** Folder holding the buckets' data (kept across restarts). */
  readonly directory: string;
  readonly buckets: readonly string[];
  /** @default 0 (any free port) */
  readonly port?: number;
  /** Loopback only. @default "127.0.0.1" */
  readonly address?: string;
  /** s3rver's event notifications (`{Records: [...]}` after each object created or deleted), as it emits them. */
  readonly onEvent?: (notification: S3rverNotification) => void;
  /** Pages that may write (the local web app's origin); a write with any other Origin is refused. @default [] */
  readonly browserOrigins?: readonly string[];
  /** Fault mode (local/s3-faults.ts) on a second endpoint, `faultEndpoint`, for the functions. */
  readonly faults?: Pick<FaultOptions, 'rate' | 'holdMs' | 'seed'>;
}

/** What s3rver emits: S3's notification shape, with the key as stored (not URL-encoded) and the ETag without quotes. */
export interface S3rverNotification {
  readonly Records: {
    eventName: string;
    eventTime: string;
    s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; sequencer?: string } };
  }[];
}

/**
 * An s3rver event name as S3 names it. s3rver says "ObjectCreated:Post" for a multipart upload's
 * completion (the AWS CLI's way for files over 8 MB), where S3 says
 * "ObjectCreated:CompleteMultipartUpload". It says the same for a browser form POST (the local web
 * app's uploads), which S3 does call "ObjectCreated:Post"; the two cannot be told apart here, so Post
 * is read as multipart (detect-faces treats every ObjectCreated event alike). s3rver stores a form
 * POST without checking its policy's conditions (key, metadata, size): S3 does.
 */
export function s3EventName(s3rverEventName: string): string {
  return s3rverEventName === 'ObjectCreated:Post' ? 'ObjectCreated:CompleteMultipartUpload' : s3rverEventName;
}

export interface RunningS3Server {
  readonly endpoint: string;
  /** The same store behind the fault mode (only with `faults`). */
  readonly faultEndpoint?: string;
  close(): Promise<void>;
}

/** s3rver's built-in access key, what local clients sign with. */
export const S3RVER_KEY = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/**
 * s3rver knows one access key (S3RVER). Local clients (the AWS CLI with whatever profile, the
 * functions) may sign with any key: unknown keys map to s3rver's built-in account. Signatures v4
 * are not checked by s3rver in any case. Loopback-only, local use only.
 */
function acceptAnyAccessKey(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const AWSAccount = require('s3rver/lib/models/account') as { registry: Map<string, unknown>; DUMMY_ACCOUNT: unknown };
  const registry = AWSAccount.registry;
  registry.get = (key: string) => Map.prototype.get.call(registry, key) ?? AWSAccount.DUMMY_ACCOUNT;
}

/**
 * S3 takes keys with `.` or `..` segments; s3rver would join them into a path outside the bucket's
 * folder (`../../x`), so here they are refused (InvalidArgument).
 */
function keysStayInBucket(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Store = require('s3rver/lib/stores/filesystem') as { prototype: FilesystemStore & { [KEYS_CHECKED]?: true } };
  if (Store.prototype[KEYS_CHECKED]) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3Error = require('s3rver/lib/models/error') as new (code: string, message: string) => Error;
  const resourcePath = Store.prototype.getResourcePath;
  Store.prototype.getResourcePath = function getResourcePath(this: FilesystemStore, bucket: string, key = '', resource?: string) {
    if (key.split('/').some((part) => part === '.' || part === '..')) {
      throw new S3Error('InvalidArgument', `the local S3 stores keys as files and refuses a key with a "." or ".." segment: ${JSON.stringify(key)}`);
    }
    return resourcePath.call(this, bucket, key, resource);
  };
  Store.prototype[KEYS_CHECKED] = true;
}
const KEYS_CHECKED = Symbol('keysStayInBucket');

/**
 * S3 sends ObjectRemoved:Delete for each key a DeleteObjects request removes; s3rver sends none
 * (a deleted upload's output and record would stay). Its controller is wrapped: the keys its store
 * deletes for the request are collected, and an event is emitted for each, as its single delete does.
 */
function multiDeleteNotifies(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const controller = require('s3rver/lib/controllers/object') as { deleteMultipleObjects: MultiDelete & { [NOTIFIES]?: true } };
  if (controller.deleteMultipleObjects[NOTIFIES]) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3Event = require('s3rver/lib/models/event') as new (data: { bucket: string; eventType: 'Delete'; S3Item: { key: string } }, request: { reqHeaders: unknown; sourceIp: string }) => unknown;
  const original = controller.deleteMultipleObjects;
  const wrapped: MultiDelete = async (ctx) => {
    const store = ctx.store;
    const deleted: string[] = [];
    ctx.store = Object.create(store, {
      deleteObject: {
        value: async (bucket: string, key: string) => {
          await store.deleteObject(bucket, key);
          deleted.push(key);
        },
      },
    }) as FilesystemStore;
    try {
      await original(ctx);
    } finally {
      ctx.store = store;
    }
    for (const key of deleted) ctx.app.emit('event', new S3Event({ bucket: ctx.params.bucket, eventType: 'Delete', S3Item: { key } }, { reqHeaders: ctx.headers, sourceIp: ctx.ip }));
  };
  controller.deleteMultipleObjects = Object.assign(wrapped, { [NOTIFIES]: true as const });
}
const NOTIFIES = Symbol('multiDeleteNotifies');

/** The part of s3rver's Koa context its multi-object delete uses. */
type MultiDelete = (ctx: { store: FilesystemStore; params: { bucket: string }; headers: unknown; ip: string; app: { emit(name: string, event: unknown): void } }) => Promise<void>;

interface FilesystemStore {
  getResourcePath(bucket: string, key?: string, resource?: string): string;
  getBucketPath(bucket: string): string;
  deleteObject(bucket: string, key: string): Promise<void>;
}

/**
 * s3rver's deleteObject reads the key's whole folder (readdirSync) to see whether it became empty:
 * quadratic in bulk deletes (10,000 keys in one folder took ~100 s). rmdir failing with ENOTEMPTY
 * says the same in constant time; ENOENT is a folder a concurrent delete in the batch removed.
 */
function fastFolderCleanup(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Store = require('s3rver/lib/stores/filesystem') as { prototype: FilesystemStore };
  Store.prototype.deleteObject = async function deleteObject(this: FilesystemStore, bucket: string, key: string) {
    const ignoreMissing = (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    };
    await Promise.all(['object', 'object.md5', 'metadata.json'].map((r) => fs.promises.unlink(this.getResourcePath(bucket, key, r)).catch(ignoreMissing)));
    const parts = key.split('/').slice(0, -1);
    for (; parts.length; parts.pop()) {
      try {
        await fs.promises.rmdir(path.join(this.getBucketPath(bucket), ...parts));
      } catch (err) {
        if (['ENOTEMPTY', 'EEXIST', 'ENOENT'].includes((err as NodeJS.ErrnoException).code ?? '')) return;
        throw err;
      }
    }
  };
}

/**
 * S3's event sequencer: hex, increasing with each event of a key. s3rver's is the time in ms
 * (ties within a millisecond, so two quick overwrites look like one event): replaced by the
 * time in ms and a counter, in the order s3rver emits its events.
 */
let sequence = 0;
export function nextSequencer(now = Date.now()): string {
  sequence = (sequence + 1) % 0x100000000;
  return `${now.toString(16).toUpperCase().padStart(12, '0')}${sequence.toString(16).toUpperCase().padStart(8, '0')}`;
}

/** In this process (listing past 1000 keys needs --openssl-legacy-provider here). */
export async function startS3Server(options: S3ServerOptions): Promise<RunningS3Server> {
  fs.mkdirSync(options.directory, { recursive: true });
  acceptAnyAccessKey();
  fastFolderCleanup();
  keysStayInBucket();
  multiDeleteNotifies();
  const server = new S3rver({
    address: options.address ?? '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory: options.directory,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  // DNS rebinding: s3rver answers any Host; its handler (installed on listen) gets loopback names only.
  const koaCallback = server.callback.bind(server);
  let guarded: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  server.callback = () => {
    const handle = koaCallback() as (req: IncomingMessage, res: ServerResponse) => void;
    const etagOf = (bucket: string, key: string) => server.store.getMetadata(bucket, key).then((m) => m.etag, () => undefined);
    const conditional = withConditions(handle, etagOf);
    const guard = { allowedOrigins: options.browserOrigins ?? [] };
    guarded = (req, res) => {
      if (refuseForeign(req, res, { ...guard, checkOrigin: !['GET', 'HEAD', 'OPTIONS'].includes(req.method ?? '') })) return;
      // An object is data, never a page of this origin (one holding HTML could read every other).
      res.setHeader('content-security-policy', 'sandbox');
      res.setHeader('x-content-type-options', 'nosniff');
      conditional(req, res);
    };
    return guarded;
  };
  if (options.onEvent) {
    const onEvent = options.onEvent;
    server.on('event', (event) => {
      const n = event as S3rverNotification;
      onEvent({ Records: n.Records.map((r) => ({ ...r, s3: { ...r.s3, object: { ...r.s3.object, sequencer: nextSequencer() } } })) });
    });
  }
  const { address, port } = await server.run();
  const endpoint = `http://${address}:${port}`;
  if (!options.faults || !guarded) return { endpoint, close: () => server.close() };
  const faulty = http.createServer(withFaults(guarded, options.faults));
  await new Promise<void>((resolve) => faulty.listen(0, address, resolve));
  const faultPort = (faulty.address() as { port: number }).port;
  return {
    endpoint,
    faultEndpoint: `http://${address}:${faultPort}`,
    close: async () => {
      faulty.closeAllConnections();
      await new Promise<void>((resolve) => faulty.close(() => resolve()));
      await server.close();
    },
  };
}

/** In a child process started with --openssl-legacy-provider (DES list tokens); resolves once it listens. */
export async function spawnS3Server(options: S3ServerOptions): Promise<RunningS3Server & { process: ChildProcess }> {
  const tsx = path.resolve(__dirname, '..', 'node_modules', '.bin', 'tsx');
  const args = [
    __filename,
    '--dir', options.directory,
    '--port', String(options.port ?? 0),
    ...options.buckets.flatMap((b) => ['--bucket', b]),
    ...(options.onEvent ? ['--events'] : []),
    ...(options.browserOrigins ?? []).flatMap((o) => ['--browser-origin', o]),
    ...(options.faults ? ['--faults', String(options.faults.rate), '--fault-hold-ms', String(options.faults.holdMs)] : []),
    ...(options.faults?.seed !== undefined ? ['--fault-seed', String(options.faults.seed)] : []),
  ];
  const child = spawn(tsx, [...args, '--exit-with-stdin'], {
    env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --openssl-legacy-provider`.trim() },
    // stdin stays open as long as this process lives: the server stops when it closes.
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const { endpoint, faultEndpoint } = await new Promise<{ endpoint: string; faultEndpoint?: string }>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      try {
        const first = JSON.parse(line) as { endpoint: string; faultEndpoint?: string } | { error: string; portInUse?: number };
        if ('error' in first) reject(first.portInUse !== undefined ? new PortInUseError(first.portInUse) : new Error(`s3 server: ${first.error}`));
        else resolve(first);
      } catch {
        reject(new Error(`s3 server said: ${line}`));
      }
      // Every later line is one event notification (--events).
      lines.on('line', (next) => options.onEvent?.(JSON.parse(next).event));
    });
    child.once('exit', (code) => reject(new Error(`s3 server exited with ${code}`)));
  });
  return {
    endpoint,
    ...(faultEndpoint ? { faultEndpoint } : {}),
    process: child,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (name: string) => args[args.indexOf(name) + 1];
  const buckets = args.flatMap((a, i) => (a === '--bucket' ? [args[i + 1]] : []));
  const browserOrigins = args.flatMap((a, i) => (a === '--browser-origin' ? [args[i + 1]] : []));
  const onEvent = args.includes('--events') ? (event: S3rverNotification) => void process.stdout.write(`${JSON.stringify({ event })}\n`) : undefined;
  const seed = args.includes('--fault-seed') ? { seed: Number(value('--fault-seed')) } : {};
  const faults = args.includes('--faults') ? { rate: Number(value('--faults')), holdMs: Number(value('--fault-hold-ms')), ...seed } : undefined;
  const port = Number(value('--port') ?? 0);
  let server: RunningS3Server;
  try {
    // s3rver cannot report a taken port (its server's 'error' has no listener and ends the process
    // with a stack trace): the port is tried first.
    if (port !== 0) {
      const probe = net.createServer();
      await listenOnLoopback(probe, port);
      await new Promise((resolve) => probe.close(resolve));
    }
    server = await startS3Server({ directory: value('--dir'), port, buckets, browserOrigins, onEvent, faults });
  } catch (err) {
    // The first line tells the parent (spawnS3Server) what failed.
    process.stdout.write(`${JSON.stringify({ error: err instanceof Error ? err.message : String(err), portInUse: err instanceof PortInUseError ? err.port : undefined })}\n`);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify({ endpoint: server.endpoint, faultEndpoint: server.faultEndpoint })}\n`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Started by spawnS3Server: no orphan server when the parent dies without closing it.
  if (args.includes('--exit-with-stdin')) {
    process.stdin.on('end', stop);
    process.stdin.on('close', stop);
    process.stdin.resume();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`s3-server: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
