/**
 * The system on this machine, started together: the embedded S3 server with the bucket, both
 * bundled functions in Lambda-like processes (detect-faces with the real layer), the upload
 * trigger (S3 events -> queue -> detect-faces: local/s3-notifications.ts, queue.ts, event-source-mapping.ts), and a loopback file server for
 * local images. Each function gets the environment the stack gives it, pointed at
 * the local services. Function processes start on their first invocation.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { bundleFunctionAsync, stopBundler, FUNCTION_BUNDLES, type FunctionBundle } from '../bundling/functions';
import { loadConfig, type StackConfig } from '../stack/config';
import { cleanupEnvironment } from '../stack/cleanup-function';
import { detectEnvironment } from '../stack/detect-function';
import { DEFAULT_REGION, S3_CLIENT_ENV } from '../functions/common/contract';
import { toEnvironment } from '../functions/common/schema';
import { DETECT_ENV } from '../functions/detect-faces/contract';
import { PutBucketCorsCommand, S3Client } from '@aws-sdk/client-s3';
import { bucketCorsRules, WEB_API_MEMORY_MB, WEB_API_TIMEOUT_SECONDS, webApiEnvironment, type SignInService } from '../stack/web-app';
import { closeInStages, type ClosingStep } from './close';
import { startFileServer, type LocalFileServer } from './file-server';
import { FunctionRuntime } from './lambda-runtime';
import { layerZipPath } from '../layer/inputs';
import { unpackLayer } from './layer';
import { S3RVER_KEY, spawnS3Server, type RunningS3Server } from './s3-server';
import { startSqsApi, type LocalSqsApi } from './sqs-api';
import { SQS_CLIENT_ENV } from '../functions/common/contract';
import { LocalEventSourceMapping, type BatchReport } from './event-source-mapping';
import { LocalQueue } from './queue';
import { s3TestEvent, toS3Notification } from './s3-notifications';

export interface LocalStack {
  readonly config: StackConfig;
  readonly bucket: string;
  readonly s3: RunningS3Server;
  readonly files: LocalFileServer;
  /** SendMessage into the local queues (the function's requeue and dead letters). */
  readonly sqs: LocalSqsApi;
  readonly detect: FunctionRuntime;
  readonly cleanup: FunctionRuntime;
  /** web-api, when the web app is on (LocalStackOptions.webApp). */
  readonly webApi?: FunctionRuntime;
  /** Uploads under the input prefix, processed on their own (local/queue.ts, local/event-source-mapping.ts). */
  readonly uploads: LocalUploads;
  close(): Promise<void>;
}

export interface LocalUploads {
  readonly queue: LocalQueue;
  readonly queueArn: string;
  readonly mapping: LocalEventSourceMapping;
  /** detect-faces processes for the queue, besides the one behind the Invoke API. */
  readonly runtimes: readonly FunctionRuntime[];
}

export interface LocalUploadOptions {
  /** How long a received message stays invisible. @default the function timeout (AWS: 6x it, 180 s; shorter here to see retries, never shorter than a batch may run) */
  readonly visibilityTimeoutMs?: number;
  /** Function processes for the queue. @default the stack's uploadMaxConcurrency, at most the machine's CPUs (at least 2) */
  readonly concurrency?: number;
  /** Folder the dead letters are also written to. @default memory only */
  readonly deadLetterDir?: string;
  /**
   * Fraction of the functions' S3 requests that fail (503 SlowDown, 500, a reset, or a timeout),
   * local/s3-faults.ts. @default FACE_LOCAL_S3_FAULTS, else 0
   */
  readonly s3Faults?: number;
  /** Send S3's s3:TestEvent at start, as S3 does when the notification is configured. @default false */
  readonly testEvent?: boolean;
  readonly onBatch?: (report: BatchReport) => void;
  readonly onError?: (err: unknown) => void;
}

export interface LocalStackOptions {
  /** Folder of the S3 server's data. @default local/.data/s3 */
  readonly dataDir?: string;
  /** Extra environment for detect-faces (tests: e.g. DETECTOR, DOWNLOAD_TIMEOUT_MS). */
  readonly environment?: Record<string, string>;
  /** Extra environment for cleanup (e.g. MAX_AGE_SECONDS for a short local age). */
  readonly cleanupEnvironment?: Record<string, string>;
  /** Loopback URL prefixes (ending with "/") the function may fetch besides the local bucket and dropped files. */
  readonly extraLoopbackPrefixes?: readonly string[];
  readonly s3Port?: number;
  /** Port of the file server for local images. @default 0 (any) */
  readonly filesPort?: number;
  readonly uploads?: LocalUploadOptions;
  /** The web app: its sign-in service and the page's origin (the only origin the bucket's CORS lets POST uploads). */
  readonly webApp?: { readonly signIn: SignInService; readonly origin: string };
}

export const LOCAL_BUCKET = 'face-detection-local';

/** s3rver on loopback answers in milliseconds: a stalled attempt is retried after 1 s (on AWS, 3 s). */
const LOCAL_S3_ATTEMPT_TIMEOUT_MS = 1_000;

/** What points a function's S3 client (functions/common/s3.ts) at the embedded server. */
function localS3Environment(endpoint: string): Record<string, string> {
  // s3rver's built-in credentials.
  return { ...toEnvironment(S3_CLIENT_ENV, { s3Endpoint: endpoint, s3AttemptTimeoutMs: LOCAL_S3_ATTEMPT_TIMEOUT_MS }), AWS_ACCESS_KEY_ID: S3RVER_KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_KEY.secretAccessKey };
}

/**
 * OpenCV threads for each of `processes` function processes on `cpus` CPUs: its share, at least one.
 * Lambda gives each invocation CPUs of its own; here they share the machine's, and more threads than
 * cores per process only spin and switch.
 */
export function threadsPerProcess(cpus: number, processes: number): number {
  return Math.max(1, Math.floor(cpus / processes));
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const config = loadConfig({}, process.env);
  const bucket = config.bucketName ?? LOCAL_BUCKET;
  // This machine runs x86_64: an arm64 deployment setting still runs the x86_64 layer locally.
  const layer = unpackLayer(config.architecture === 'x86_64' ? config.artifacts.layerZip : layerZipPath('x86_64'));
  const bundles = await unpackedBundles();
  const bundleDirs = Object.values(bundles).map((file) => path.dirname(file));
  // What has started, closed again (the bundles removed) when a later part fails to start: a port
  // another process holds, say.
  const started: ClosingStep[] = [['function bundles', () => removeDirs(bundleDirs)]];
  try {
    return await startParts(options, config, bucket, layer, bundles, bundleDirs, started);
  } catch (err) {
    await closeInStages('the local stack after its start failed', started.map((step) => [step])).catch(() => undefined);
    throw err;
  }
}

async function startParts(
  options: LocalStackOptions,
  config: StackConfig,
  bucket: string,
  layer: ReturnType<typeof unpackLayer>,
  bundles: Record<FunctionBundle['name'], string>,
  bundleDirs: readonly string[],
  started: ClosingStep[],
): Promise<LocalStack> {
  const uploadOptions = options.uploads ?? {};
  const queueName = `${config.stackName}-uploads`;
  const queue = new LocalQueue({
    name: queueName,
    visibilityTimeoutMs: uploadOptions.visibilityTimeoutMs ?? config.detectTimeoutSeconds * 1000,
    maxReceiveCount: config.uploadMaxReceiveCount,
    deadLetterDir: uploadOptions.deadLetterDir,
  });
  // The bucket notification: what S3 would send to the queue for this event, if anything.
  const onEvent = (event: Parameters<typeof toS3Notification>[0]) => {
    const body = toS3Notification(event, { bucket, prefix: config.inputPrefix, region: config.region });
    if (body) queue.send(body);
  };
  const faultRate = uploadOptions.s3Faults ?? Number(process.env.FACE_LOCAL_S3_FAULTS ?? 0);
  if (!(faultRate >= 0 && faultRate <= 1)) throw new Error(`FACE_LOCAL_S3_FAULTS=${process.env.FACE_LOCAL_S3_FAULTS}: expected a fraction from 0 to 1`);
  const s3 = await spawnS3Server({
    directory: options.dataDir ?? path.resolve('local', '.data', 's3'),
    buckets: [bucket],
    port: options.s3Port,
    browserOrigins: options.webApp ? [options.webApp.origin] : [],
    onEvent,
    // A held request outlasts the functions' attempt timeout (below), then resets.
    ...(faultRate > 0 ? { faults: { rate: faultRate, holdMs: LOCAL_S3_ATTEMPT_TIMEOUT_MS + 500 } } : {}),
  });
  started.unshift(['S3 server', () => s3.close()]);
  if (options.webApp) await allowBrowserUploads(s3.endpoint, bucket, options.webApp.origin);
  const deadLetterName = `${queueName}-dead-letters`;
  const sqs = await startSqsApi({
    [queueName]: { send: (body) => queue.send(body), changeVisibility: (handle, seconds) => queue.changeVisibility(handle, seconds * 1000) },
    [deadLetterName]: { send: (body, attributes) => queue.deadLetter(body, attributes.reason, Number(attributes.receiveCount) || 0) },
  });
  started.unshift(['SQS API', () => sqs.close()]);
  const functionS3 = s3.faultEndpoint ?? s3.endpoint;
  const files = await startFileServer(options.filesPort);
  started.unshift(['file server', () => files.close()]);
  const detect = new FunctionRuntime({
    name: `${config.stackName}-detect-faces`,
    bundle: bundles['detect-faces'],
    timeoutSeconds: config.detectTimeoutSeconds,
    memoryMb: config.detectMemoryMb,
    layerNodeModules: layer.nodeModules,
    environment: {
      ...detectEnvironment(config, bucket),
      ...toEnvironment(DETECT_ENV, {
        modelsDir: layer.modelsDir,
        publicBaseUrl: `${s3.endpoint}/${bucket}`,
        // The local exception to the download guard: the local bucket's objects and dropped files only.
        allowLoopbackPrefixes: [`${s3.endpoint}/${bucket}/`, `${files.origin}/files/`, ...(options.extraLoopbackPrefixes ?? [])].join(','),
      }),
      ...localS3Environment(functionS3),
      ...toEnvironment(DETECT_ENV, { uploadQueueUrl: sqs.url(queueName), deadLetterQueueUrl: sqs.url(deadLetterName) }),
      ...toEnvironment(SQS_CLIENT_ENV, { sqsEndpoint: sqs.endpoint }),
      ...options.environment,
    },
  });
  const concurrency = uploadOptions.concurrency ?? Math.min(config.uploadMaxConcurrency, Math.max(2, os.availableParallelism()));
  const uploadEnvironment = { ...toEnvironment(DETECT_ENV, { threads: threadsPerProcess(os.availableParallelism(), concurrency) }), ...detect.options.environment };
  const runtimes = Array.from({ length: concurrency }, () => new FunctionRuntime({ ...detect.options, environment: uploadEnvironment }));
  const queueArn = `arn:aws:sqs:${config.region}:000000000000:${queueName}`;
  const mapping = new LocalEventSourceMapping({ queue, queueArn, region: config.region, runtimes, batchSize: config.uploadBatchSize, onBatch: uploadOptions.onBatch, onError: uploadOptions.onError });
  if (uploadOptions.testEvent) queue.send(s3TestEvent(bucket));
  const cleanup = new FunctionRuntime({
    name: `${config.stackName}-cleanup`,
    bundle: bundles.cleanup,
    timeoutSeconds: config.cleanupTimeoutSeconds,
    memoryMb: config.cleanupMemoryMb,
    environment: {
      ...cleanupEnvironment(config, bucket),
      ...localS3Environment(s3.endpoint),
      ...options.cleanupEnvironment,
    },
  });
  let webApi: FunctionRuntime | undefined;
  if (options.webApp) {
    webApi = new FunctionRuntime({
      name: `${config.stackName}-web-api`,
      bundle: bundles['web-api'],
      timeoutSeconds: WEB_API_TIMEOUT_SECONDS,
      memoryMb: WEB_API_MEMORY_MB,
      environment: { ...webApiEnvironment(config, bucket, options.webApp.signIn), ...localS3Environment(s3.endpoint) },
    });
  }
  return {
    config,
    bucket,
    s3,
    files,
    sqs,
    detect,
    cleanup,
    webApi,
    uploads: { queue, queueArn, mapping, runtimes },
    close: () => closeLocalStack({ mapping, detect, cleanup, webApi, runtimes, files, sqs, s3, bundleDirs }),
  };
}

/** What closeLocalStack closes. */
export interface LocalStackParts {
  readonly mapping: Pick<LocalEventSourceMapping, 'stop'>;
  readonly detect: Pick<FunctionRuntime, 'close'>;
  readonly cleanup: Pick<FunctionRuntime, 'close'>;
  readonly webApi?: Pick<FunctionRuntime, 'close'>;
  readonly runtimes: readonly Pick<FunctionRuntime, 'close'>[];
  readonly files: Pick<LocalFileServer, 'close'>;
  readonly sqs: Pick<LocalSqsApi, 'close'>;
  readonly s3: Pick<RunningS3Server, 'close'>;
  /** The unpacked function bundles' folders, removed last. */
  readonly bundleDirs: readonly string[];
}

/**
 * Closes every part, even after one fails (a server left open keeps the process, and jest, alive):
 * the upload mapping and the function processes first (no new calls to the servers), then the file
 * server, the SQS API, the S3 server, and the bundles' folders; then throws what failed (local/close.ts).
 */
export function closeLocalStack(parts: LocalStackParts): Promise<void> {
  const { mapping, detect, cleanup, webApi, runtimes, files, sqs, s3, bundleDirs } = parts;
  return closeInStages('the local stack', [
    [
      ['upload mapping', () => mapping.stop()],
      ['detect-faces', () => detect.close()],
      ['cleanup', () => cleanup.close()],
      ...(webApi ? [['web-api', () => webApi.close()] as const] : []),
      ...runtimes.map((r, i) => [`detect-faces for uploads #${i + 1}`, () => r.close()] as const),
    ],
    [['file server', () => files.close()]],
    [['SQS API', () => sqs.close()]],
    [['S3 server', () => s3.close()]],
    [['function bundles', () => removeDirs(bundleDirs)]],
  ]);
}

/** The bucket's CORS as the stack sets it (stack/web-app.ts): the app's origin may POST uploads and GET outputs. */
async function allowBrowserUploads(endpoint: string, bucket: string, origin: string): Promise<void> {
  const s3 = new S3Client({ region: DEFAULT_REGION, endpoint, forcePathStyle: true, credentials: S3RVER_KEY });
  try {
    const rules = bucketCorsRules(origin).map((r) => ({ AllowedOrigins: [r.origin], AllowedMethods: [r.method], MaxAgeSeconds: r.maxAgeSeconds }));
    await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: rules } }));
  } finally {
    s3.destroy();
  }
}

/**
 * Bundles a function as it ships (same esbuild settings, same zip) into a folder of this process,
 * and unpacks the zip's index.js to run that same file. functions/dist, the deploy artifacts, is
 * left alone.
 */
async function unpackedBundle(bundle: FunctionBundle): Promise<string> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), `local-${bundle.name}-`));
  try {
    const { zip } = await bundleFunctionAsync(bundle, out);
    execFileSync('unzip', ['-o', '-q', zip, '-d', out]);
    return path.join(out, 'index.js');
  } catch (err) {
    removeDirs([out]);
    throw err;
  }
}

/** Every function's unpacked bundle by name; when one fails, the others' folders are removed too. */
async function unpackedBundles(): Promise<Record<FunctionBundle['name'], string>> {
  const made = await Promise.allSettled(Object.values(FUNCTION_BUNDLES).map(async (b) => [b.name, await unpackedBundle(b)] as const));
  await stopBundler();
  const failed = made.find((m) => m.status === 'rejected');
  if (failed) {
    removeDirs(made.flatMap((m) => (m.status === 'fulfilled' ? [path.dirname(m.value[1])] : [])));
    throw failed.reason;
  }
  return Object.fromEntries(made.map((m) => (m as PromiseFulfilledResult<readonly [FunctionBundle['name'], string]>).value)) as Record<FunctionBundle['name'], string>;
}

function removeDirs(dirs: readonly string[]): void {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
}
