/** detect-faces settings from its environment (set by the stack, or by the local runner). */
import { configurationError } from '../common/errors';
import { imagePrefix, oneOf, optionalInt, requiredString } from '../common/settings';
import type { DetectorKind } from './detect/detectors';
import type { DetectSettings } from './pipeline';

export interface DetectConfig extends DetectSettings {
  readonly detector: DetectorKind;
  readonly modelsDir: string;
  /** OpenCV worker threads; 0 keeps OpenCV's default. */
  readonly threads: number;
}

export function detectConfigFromEnv(env: Record<string, string | undefined> = process.env): DetectConfig {
  return {
    bucket: requiredString(env, 'BUCKET_NAME'),
    imagePrefix: imagePrefix(env),
    outputAccess: oneOf(env, 'OUTPUT_ACCESS', 'public', ['public', 'presigned'] as const),
    presignExpiresSeconds: optionalInt(env, 'PRESIGN_EXPIRES_SECONDS', 3600, 60, 43200),
    publicBaseUrl: env.PUBLIC_BASE_URL || undefined,
    jpegQuality: optionalInt(env, 'JPEG_QUALITY', 90, 1, 100),
    maxImageBytes: optionalInt(env, 'MAX_IMAGE_BYTES', 10 * 1024 * 1024, 1024, 100 * 1024 * 1024),
    maxImagePixels: optionalInt(env, 'MAX_IMAGE_PIXELS', 40_000_000, 1024, 200_000_000),
    downloadTimeoutMs: optionalInt(env, 'DOWNLOAD_TIMEOUT_MS', 10_000, 100, 120_000),
    // Tests and the local server only; the deployed stack never sets it.
    allowedLoopbackPrefixes: loopbackPrefixes(env.ALLOW_LOOPBACK_PREFIXES),
    detector: oneOf(env, 'DETECTOR', 'yunet', ['yunet', 'haar'] as const),
    modelsDir: env.MODELS_DIR || '/opt/models',
    threads: optionalInt(env, 'OPENCV_THREADS', 0, 0, 64),
  };
}

/** Comma-separated http(s) URL prefixes ending with "/"; anything else is a configuration error. */
function loopbackPrefixes(raw: string | undefined): string[] {
  const prefixes = (raw ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  for (const p of prefixes) {
    if (!/^https?:\/\/[^/]+\/.*$/.test(p) || !p.endsWith('/')) {
      throw configurationError(`ALLOW_LOOPBACK_PREFIXES: ${JSON.stringify(p)} must be an http(s) URL prefix ending with "/"`);
    }
  }
  return prefixes;
}
