/** A function's settings from its environment, once, at cold start: parsed by its contract's schema. */
import { configurationError } from './errors';
import { parseEnv, type EnvSchema, type EnvValues } from './schema';

/** Fails with a ConfigurationError naming the variable, its value and what is accepted. */
export function settingsFromEnv<S extends EnvSchema>(schema: S, env: Record<string, string | undefined> = process.env): EnvValues<S> {
  return parseEnv(schema, env, (message) => {
    throw configurationError(message);
  });
}
