/** Reads a function's settings from its environment once, at cold start, naming what is wrong. */
import { configurationError } from './errors';

type Env = Record<string, string | undefined>;

export function requiredString(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw configurationError(`environment variable ${name} is required`);
  return value;
}

export function optionalInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) throw configurationError(`${name}=${JSON.stringify(raw)}: expected a whole number from ${min} to ${max}`);
  return n;
}

export function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!allowed.includes(raw as T)) throw configurationError(`${name}=${JSON.stringify(raw)}: expected one of ${allowed.join(', ')}`);
  return raw as T;
}

export function flag(env: Env, name: string): boolean {
  const raw = (env[name] ?? '').toLowerCase();
  if (['', '0', 'false', 'no'].includes(raw)) return false;
  if (['1', 'true', 'yes'].includes(raw)) return true;
  throw configurationError(`${name}=${JSON.stringify(env[name])}: expected true or false`);
}

/** A key prefix such as "tmp/": one or more safe segments ending with "/", never "" or "/". */
export function imagePrefix(env: Env, name = 'IMAGE_PREFIX'): string {
  const raw = env[name] ?? 'tmp/';
  if (!/^(?!.*\/\.\.?\/)[A-Za-z0-9][A-Za-z0-9_.-]*\/(?:[A-Za-z0-9_.-]+\/)*$/.test(raw)) {
    throw configurationError(`${name}=${JSON.stringify(raw)}: expected a key prefix such as tmp/ (never empty or "/")`);
  }
  return raw;
}
