/**
 * `npm run serve`: the system on loopback, in one process tree that stops on Ctrl-C:
 *   - the embedded S3 server holding the bucket (data in local/.data/s3, kept across restarts);
 *   - a Lambda Invoke API for detect-faces and cleanup (the unmodified `aws lambda invoke` works
 *     with --endpoint-url), running the real bundles with the real layer;
 *   - the cleanup schedule, at the configured rate (FACE_LOCAL_CLEANUP_RATE for a short local one);
 *   - uploads under the input prefix processed on their own, as on AWS (local/queue.ts, local/event-source-mapping.ts), dead
 *     letters in local/.data/dead-letters (FACE_LOCAL_UPLOAD_VISIBILITY_SECONDS: the retry delay);
 *   - a web page at / to try images by URL or by dropping a file;
 *   - the web app at /app with its API (web-api behind local/http-api.ts, as API Gateway runs it)
 *     and a local sign-in at /local-auth (local/oidc-issuer.ts) with test users (FACE_LOCAL_USERS).
 * Ports: FACE_LOCAL_PORT (API + pages, 9001), FACE_LOCAL_S3_PORT (4569), FACE_LOCAL_FILES_PORT (9002).
 */
import * as http from 'node:http';
import * as path from 'node:path';
import { lambdaApiHandler } from './lambda-api';
import { listenOnLoopback, PortInUseError } from './listen';
import { refuseForeign } from './loopback-guard';
import { startLocalStack, type LocalStack, type LocalUploadOptions } from './local-stack';
import { pageHtml } from './page';
import { APP_PATH } from '../functions/web-api/contract';
import { localHttpApi } from './http-api';
import { createLocalIssuer, DEFAULT_LOCAL_USERS, ISSUER_PATH, parseLocalUsers, type LocalIssuer, type LocalUser } from './oidc-issuer';
import type { InvocationResult } from './lambda-runtime';
import { CRON, rateMs } from '../stack/schedule';
import { DECIMAL } from '../functions/common/schema';

export interface ServeOptions {
  readonly port?: number;
  readonly s3Port?: number;
  readonly filesPort?: number;
  readonly dataDir?: string;
  /** rate(N minute[s]|hour[s]|day[s]); cron is not run locally. */
  readonly cleanupRate?: string;
  /** Overrides the rate with milliseconds (tests). */
  readonly cleanupEveryMs?: number;
  readonly cleanupEnvironment?: Record<string, string>;
  /** The upload trigger's local settings (retry delay, concurrency, dead-letter folder). */
  readonly uploads?: LocalUploadOptions;
  /** Who may sign in to the web app. @default DEFAULT_LOCAL_USERS */
  readonly users?: readonly LocalUser[];
  readonly log?: (line: string) => void;
}

export interface RunningServe {
  readonly stack: LocalStack;
  readonly endpoint: string;
  readonly cleanupEveryMs: number | undefined;
  /** The web app's local sign-in. */
  readonly issuer: LocalIssuer;
  readonly users: readonly LocalUser[];
  close(): Promise<void>;
}

/** The app client's id locally (on AWS, Cognito makes one). */
const LOCAL_CLIENT_ID = 'local-web-app';

export async function serve(options: ServeOptions = {}): Promise<RunningServe> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // The server listens first: the web app's sign-in and the bucket's CORS need its address.
  const router: { handle?: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> } = {};
  const server = http.createServer((req, res) => {
    if (router.handle) return void router.handle(req, res);
    res.writeHead(503, { 'content-type': 'text/plain' }).end('starting\n');
  });
  const endpoint = `http://127.0.0.1:${await listenOnLoopback(server, options.port ?? 9001)}`;
  const users = options.users ?? DEFAULT_LOCAL_USERS;
  const issuer = await createLocalIssuer({ issuer: `${endpoint}${ISSUER_PATH}`, clientId: LOCAL_CLIENT_ID, redirectUri: `${endpoint}${APP_PATH}`, users });

  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      dataDir: options.dataDir ?? path.resolve('local', '.data', 's3'),
      s3Port: options.s3Port ?? 4569,
      filesPort: options.filesPort ?? 9002,
      cleanupEnvironment: options.cleanupEnvironment,
      webApp: {
        origin: endpoint,
        signIn: { issuer: issuer.issuer, clientId: LOCAL_CLIENT_ID, authorizeUrl: issuer.authorizeUrl, tokenUrl: issuer.tokenUrl, logoutUrl: issuer.logoutUrl },
      },
      uploads: {
        testEvent: true,
        // Kept beside the default bucket data; a scratch data folder (tests) keeps them in memory.
        deadLetterDir: options.dataDir ? undefined : path.resolve('local', '.data', 'dead-letters'),
        ...options.uploads,
        onBatch: (report) => {
          const r = report.invocation;
          const outcome = r.ok ? `ok, ${report.failedIds.length} to retry` : `${r.error?.errorType}: ${r.error?.errorMessage}`;
          log(`${new Date().toISOString()} ${report.functionName} (SQS, ${report.messageIds.length} message${report.messageIds.length === 1 ? '' : 's'}) ${outcome} ${r.durationMs} ms`);
          options.uploads?.onBatch?.(report);
        },
        onError: (err) => log(`upload delivery failed (its messages come back): ${String(err)}`),
      },
    });
  } catch (err) {
    server.close();
    throw err;
  }
  const functions = new Map([
    [stack.detect.options.name, stack.detect],
    [stack.cleanup.options.name, stack.cleanup],
  ]);
  const onInvocation = (name: string, type: string, r: InvocationResult) =>
    log(`${new Date().toISOString()} ${name} (${type}) ${r.ok ? 'ok' : `${r.error?.errorType}: ${r.error?.errorMessage}`} ${r.durationMs} ms`);
  const api = lambdaApiHandler({ functions, region: stack.config.region, onInvocation });
  const webApi = localHttpApi({
    runtime: stack.webApi!,
    // The root is the local try-a-URL page here; on AWS it sends you to the app.
    exclude: ['GET /'],
    onRequest: (route, status, ms) => log(`${new Date().toISOString()} ${stack.webApi!.options.name} (HTTP ${route}) ${status} ${ms} ms`),
  });
  const maxUpload = stack.config.maxImageBytes;
  // The app signs in at one origin, the endpoint's (the issuer's redirect URI and the bucket's CORS
  // name it, and the sign-in's state lives in that origin's sessionStorage): a page opened as
  // localhost, or as another loopback address, moves there before it starts.
  const endpointHost = new URL(endpoint).host;
  const movesToEndpoint = (req: http.IncomingMessage, url: string) =>
    (req.method === 'GET' || req.method === 'HEAD') && (url === '/' || url === APP_PATH) && req.headers.host?.toLowerCase() !== endpointHost;

  router.handle = async (req, res) => {
    try {
      if (refuseForeign(req, res, { checkOrigin: req.method !== 'GET' && req.method !== 'HEAD' })) return;
      const url = (req.url ?? '/').split('?')[0];
      if (movesToEndpoint(req, url)) {
        res.writeHead(308, { location: `${endpoint}${req.url ?? '/'}` }).end();
        return;
      }
      if (await api(req, res)) return;
      if (await issuer.handle(req, res)) return;
      if (await webApi(req, res)) return;
      if (req.method === 'GET' && url === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(pageHtml({ detect: stack.detect.options.name, app: APP_PATH }));
        return;
      }
      if (req.method === 'POST' && url === '/api/files') {
        // A dropped file: served to the handler from the loopback file server, nothing else.
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of req) {
          size += (chunk as Buffer).length;
          if (size <= maxUpload) chunks.push(chunk as Buffer);
        }
        if (size > maxUpload) {
          res.writeHead(413, { 'content-type': 'application/json' }).end(JSON.stringify({ errorType: 'TooLarge', errorMessage: `files up to ${maxUpload} bytes` }));
          return;
        }
        const name = String(req.headers['x-file-name'] ?? 'upload');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ imageUrl: stack.files.add(Buffer.concat(chunks), name) }));
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    }
  };

  const rate = options.cleanupRate ?? stack.config.cleanupSchedule;
  // A cron schedule runs only on AWS. Node's timers hold 2^31-1 ms (24.8 days) at most; longer would fire at once.
  const period = rateMs(rate);
  const cleanupEveryMs = options.cleanupEveryMs ?? (period === undefined ? undefined : Math.min(period, 2 ** 31 - 1));
  let cleanupRunning = false;
  const runCleanup = () => {
    // Like a schedule with no concurrency: a tick while a run is still going is skipped.
    if (cleanupRunning) return;
    cleanupRunning = true;
    stack.cleanup
      .invoke({})
      .then((r) => onInvocation(stack.cleanup.options.name, 'Scheduled', r))
      .catch((err: unknown) => log(`scheduled cleanup failed: ${String(err)}`))
      .finally(() => (cleanupRunning = false));
  };
  const timer = cleanupEveryMs ? setInterval(runCleanup, cleanupEveryMs) : undefined;
  if (!cleanupEveryMs) log(`note: ${rate} is not a rate(...) expression; the cleanup schedule runs only on AWS (invoke cleanup by hand)`);

  return {
    stack,
    endpoint,
    cleanupEveryMs,
    issuer,
    users,
    close: async () => {
      if (timer) clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stack.close();
    },
  };
}

/** The commands printed at start, ready to paste. */
export function usage(s: RunningServe): string {
  const { stack, endpoint } = s;
  const b = stack.bucket;
  const s3 = stack.s3.endpoint;
  const detect = stack.detect.options.name;
  const u = stack.uploads;
  const inputs = stack.config.inputPrefix;
  const photo = `${s3}/${b}/${inputs}photo.jpg`;
  const results = stack.config.resultPrefix;
  const outputs = stack.config.outputPrefix;
  return [
    'Local face detection (Ctrl-C stops everything)',
    `  page        ${endpoint}/`,
    `  web app     ${endpoint}${APP_PATH}   sign in as ${s.users.map((u) => `${u.username} / ${u.password}`).join(', ')}`,
    `  Lambda API  ${endpoint}   functions: ${detect}, ${stack.cleanup.options.name}`,
    `  S3          ${s3}   bucket ${b}`,
    `  cleanup     ${s.cleanupEveryMs ? `every ${s.cleanupEveryMs / 1000} s` : 'by hand only'}, images older than ${stack.config.cleanupMaxAgeSeconds} s`,
    `  uploads     s3://${b}/${inputs} -> s3://${b}/${outputs} + s3://${b}/${results}  (batches of ${stack.config.uploadBatchSize}, ${u.runtimes.length} at once, retried after ${u.queue.options.visibilityTimeoutMs / 1000} s, dead letters after ${u.queue.options.maxReceiveCount} receives${u.queue.options.deadLetterDir ? `: ${path.relative(process.cwd(), u.queue.options.deadLetterDir) || '.'}` : ''})`,
    '',
    `Upload a photo (options as metadata, named like the CLI flags): its redacted image appears under ${outputs}, its record under ${results}:`,
    `  aws s3 cp photo.jpg s3://${b}/${inputs} --endpoint-url ${s3}`,
    `  aws s3 cp photo.jpg s3://${b}/${inputs}fill.jpg --metadata mark=fill,padding=0.5,min-face-size=24 --endpoint-url ${s3}`,
    `  aws s3 ls s3://${b}/${results} --recursive --endpoint-url ${s3}`,
    `  aws s3 cp s3://${b}/${results}photo.jpg.json - --endpoint-url ${s3}`,
    `  aws s3 cp s3://${b}/${outputs}photo.jpg photo-redacted.jpg --endpoint-url ${s3}`,
    '',
    'Or invoke detect-faces directly, here on that photo (any credentials and region work):',
    `  aws lambda invoke --function-name ${detect} --payload '{"imageUrl":"${photo}"}' --cli-binary-format raw-in-base64-out --endpoint-url ${endpoint} out.json && cat out.json`,
    `  aws s3 ls s3://${b}/tmp/ --endpoint-url ${s3}`,
    `  aws lambda invoke --function-name ${stack.cleanup.options.name} --endpoint-url ${endpoint} cleanup.json && cat cleanup.json`,
    '',
  ].join('\n');
}

/** The ports' settings and defaults (docs/local.md). */
const PORT_SETTINGS = { FACE_LOCAL_PORT: 9001, FACE_LOCAL_S3_PORT: 4569, FACE_LOCAL_FILES_PORT: 9002 } as const;

/** Each port setting's value: its default, or a whole number from 0 (any free port) to 65535; no two the same but 0. */
export function portSettings(env: NodeJS.ProcessEnv): Record<keyof typeof PORT_SETTINGS, number> {
  const ports = Object.fromEntries(
    Object.entries(PORT_SETTINGS).map(([name, fallback]) => {
      const text = env[name]?.trim();
      if (!text) return [name, fallback];
      if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new Error(`${name}=${env[name]}: expected a port, a whole number from 0 (any free one) to 65535`);
      return [name, Number(text)];
    }),
  ) as Record<keyof typeof PORT_SETTINGS, number>;
  // Two servers of serve's own on one port: the second would fail as if another program held it.
  const entries = Object.entries(ports).filter(([, port]) => port !== 0);
  const shared = entries.find(([name, port]) => entries.some(([other, p]) => other !== name && p === port));
  if (shared) throw new Error(`${entries.filter(([, p]) => p === shared[1]).map(([n]) => n).join(' and ')} are both ${shared[1]}: each local server needs its own port`);
  return ports;
}

/**
 * FACE_LOCAL_CLEANUP_RATE (a schedule expression: a rate runs here, a cron only on AWS) and
 * FACE_LOCAL_UPLOAD_VISIBILITY_SECONDS (above 0), checked: a typo stopped the local cleanup or
 * made every retry immediate, silently.
 */
export function localSchedules(env: NodeJS.ProcessEnv): { cleanupRate?: string; visibilityTimeoutMs?: number } {
  const rate = env.FACE_LOCAL_CLEANUP_RATE?.trim();
  if (rate && rateMs(rate) === undefined && !CRON.test(rate)) throw new Error(`FACE_LOCAL_CLEANUP_RATE=${env.FACE_LOCAL_CLEANUP_RATE}: expected rate(N minute[s]|hour[s]|day[s]) with N above 0, or cron(six fields)`);
  const seconds = env.FACE_LOCAL_UPLOAD_VISIBILITY_SECONDS?.trim();
  if (seconds && !(DECIMAL.test(seconds) && Number(seconds) > 0)) throw new Error(`FACE_LOCAL_UPLOAD_VISIBILITY_SECONDS=${env.FACE_LOCAL_UPLOAD_VISIBILITY_SECONDS}: expected seconds, a number above 0`);
  return { cleanupRate: rate || undefined, visibilityTimeoutMs: seconds ? Number(seconds) * 1000 : undefined };
}

/** What serve says when it cannot start: a taken port names the setting that moves it. */
export function startFailure(err: unknown, ports: Record<keyof typeof PORT_SETTINGS, number>): string {
  if (err instanceof PortInUseError) {
    const setting = Object.entries(ports).find(([, port]) => port === err.port)?.[0];
    return `${err.message}${setting ? `: stop it, or set ${setting} to another port (0 picks a free one)` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}

async function main(): Promise<void> {
  const ports = portSettings(process.env);
  const { cleanupRate, visibilityTimeoutMs } = localSchedules(process.env);
  // Ctrl-C signals the whole process group (npm passes it on too): the signals after the first are
  // ignored while the stack closes (a second default SIGINT killed it mid-close, leaving the
  // function bundles in the temp folder). It runs under `node --import tsx`, not tsx's CLI, whose
  // relay kills a child that has not answered a signal within 30 ms. One during the start stops the stack once the
  // start has ended (a failed start closes what it had started). A close that hangs ends after 10 s.
  let stopping = false;
  // Set once the start has ended.
  const state: { running?: RunningServe } = {};
  const close = (started: RunningServe) => {
    setTimeout(() => process.exit(1), 10_000).unref();
    started.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`serve: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  const stop = () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(state.running ? 'stopping...\n' : 'stopping once the start ends...\n');
    if (state.running) close(state.running);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const running = await serve({
    port: ports.FACE_LOCAL_PORT,
    s3Port: ports.FACE_LOCAL_S3_PORT,
    filesPort: ports.FACE_LOCAL_FILES_PORT,
    cleanupRate,
    users: process.env.FACE_LOCAL_USERS ? parseLocalUsers(process.env.FACE_LOCAL_USERS) : undefined,
    uploads: visibilityTimeoutMs === undefined ? undefined : { visibilityTimeoutMs },
  }).catch((err: unknown) => {
    // Stopped during the start, the S3 server's child (in the same process group) may be what failed.
    throw new Error(stopping ? 'stopped during the start' : startFailure(err, ports));
  });
  state.running = running;
  if (stopping) return close(running);
  process.stdout.write(usage(running));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`serve: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
