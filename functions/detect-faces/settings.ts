/** detect-faces settings from its environment (set by the stack, or by the local runner), per its contract. */
import { settingsFromEnv } from '../common/settings';
import { DETECT_ENV, type DetectEnv } from './contract';

export interface DetectConfig extends Omit<DetectEnv, 'allowLoopbackPrefixes'> {
  /** Tests and the local server only; the deployed stack never sets it. */
  readonly allowedLoopbackPrefixes: readonly string[];
}

export function detectConfigFromEnv(env: Record<string, string | undefined> = process.env): DetectConfig {
  const { allowLoopbackPrefixes, ...rest } = settingsFromEnv(DETECT_ENV, env);
  return { ...rest, allowedLoopbackPrefixes: (allowLoopbackPrefixes ?? '').split(',').map((p) => p.trim()).filter(Boolean) };
}
