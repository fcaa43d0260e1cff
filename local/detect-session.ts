/**
 * Everything a local detect-faces run needs, started together: the embedded S3 server with the
 * bucket, the bundled function in a Lambda-like process with the real layer, and a loopback file
 * server for local images. The function gets the environment the stack gives it, pointed at the
 * local services.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundleFunction, FUNCTION_BUNDLES } from '../stack/bundle';
import { loadConfig, type StackConfig } from '../stack/config';
import { detectEnvironment } from '../stack/detect-function';
import { startFileServer, type LocalFileServer } from './file-server';
import { FunctionRuntime } from './lambda-runtime';
import { unpackLayer } from './layer';
import { spawnS3Server, type RunningS3Server } from './s3-server';

export interface DetectSession {
  readonly config: StackConfig;
  readonly bucket: string;
  readonly s3: RunningS3Server;
  readonly files: LocalFileServer;
  readonly detect: FunctionRuntime;
  close(): Promise<void>;
}

export interface DetectSessionOptions {
  /** Folder of the S3 server's data. @default local/.data/s3 */
  readonly dataDir?: string;
  /** Extra environment for the function (tests: e.g. ALLOW_LOOPBACK_ORIGINS of their own server). */
  readonly environment?: Record<string, string>;
  /** Loopback origins the function may fetch besides the session's own servers. */
  readonly extraLoopbackOrigins?: readonly string[];
  readonly s3Port?: number;
}

export const LOCAL_BUCKET = 'face-detection-local';

export async function startDetectSession(options: DetectSessionOptions = {}): Promise<DetectSession> {
  const config = loadConfig({}, process.env);
  const bucket = config.bucketName ?? LOCAL_BUCKET;
  const layer = unpackLayer(config.artifacts.layerZip);
  const bundle = FUNCTION_BUNDLES.find((b) => b.name === 'detect-faces')!;
  const { zip } = await bundleFunction(bundle);
  const bundleDir = path.join(path.dirname(zip), 'detect-faces');
  fs.mkdirSync(bundleDir, { recursive: true });
  // The zip holds one file, index.js; run that same file.
  const { execFileSync } = await import('node:child_process');
  execFileSync('unzip', ['-o', '-q', zip, '-d', bundleDir]);

  const s3 = await spawnS3Server({ directory: options.dataDir ?? path.resolve('local', '.data', 's3'), buckets: [bucket], port: options.s3Port });
  const files = await startFileServer();
  const detect = new FunctionRuntime({
    name: `${config.stackName}-detect-faces`,
    bundle: path.join(bundleDir, 'index.js'),
    timeoutSeconds: config.detectTimeoutSeconds,
    memoryMb: config.detectMemoryMb,
    layerNodeModules: layer.nodeModules,
    environment: {
      ...detectEnvironment(config, bucket),
      MODELS_DIR: layer.modelsDir,
      S3_ENDPOINT: s3.endpoint,
      // s3rver's built-in credentials.
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      PUBLIC_BASE_URL: `${s3.endpoint}/${bucket}`,
      ALLOW_LOOPBACK_ORIGINS: [files.origin, s3.endpoint, ...(options.extraLoopbackOrigins ?? [])].join(','),
      ...options.environment,
    },
  });
  return {
    config,
    bucket,
    s3,
    files,
    detect,
    close: async () => {
      await detect.close();
      await files.close();
      await s3.close();
    },
  };
}
