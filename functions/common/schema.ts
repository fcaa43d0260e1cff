/**
 * Settings and request fields as data: name, type, default, bounds and meaning written once, then
 * parsed (function cold start, request validation), written (the stack's and the local runner's
 * environment builders) and documented (the README's, docs/configuration.md's and `help`'s tables) from the same object.
 * Dependency-free: the stack and local/ import it through the functions' contracts.
 */

interface Base {
  /** What it means, one sentence: goes into the generated tables (npm run docs). */
  readonly doc: string;
  /** A short name for a form control (the local page). */
  readonly label?: string;
}
export interface IntSpec extends Base {
  readonly kind: 'int';
  /** Absent: optional (undefined), e.g. a request field whose default is computed. */
  readonly default?: number;
  readonly min: number;
  readonly max: number;
}
export interface NumberSpec extends Base {
  readonly kind: 'number';
  readonly default?: number;
  readonly min: number;
  readonly max: number;
}
export interface EnumSpec<V extends string = string> extends Base {
  readonly kind: 'enum';
  /** Absent: optional (undefined), e.g. a request field that only applies with another one. */
  readonly default?: V;
  readonly values: readonly V[];
}
export interface BoolSpec extends Base {
  readonly kind: 'bool';
  readonly default: boolean;
}
export interface StringSpec extends Base {
  readonly kind: 'string';
  /** Absent: the value is optional (undefined) unless `required`. */
  readonly default?: string;
  readonly required?: boolean;
  readonly pattern?: RegExp;
  /** What the pattern accepts, in words, for error messages. */
  readonly expected?: string;
}
export type ValueSpec = IntSpec | NumberSpec | EnumSpec | BoolSpec | StringSpec;

export type ValueOf<S> = S extends IntSpec | NumberSpec
  ? S extends { default: number }
    ? number
    : number | undefined
  : S extends EnumSpec<infer V>
    ? S extends { default: V }
      ? V
      : V | undefined
    : S extends BoolSpec
      ? boolean
      : S extends { required: true }
        ? string
        : S extends { default: string }
          ? string
          : string | undefined;

/** A setting read from a function's environment. */
export type EnvSetting = ValueSpec & { readonly env: string };
export type EnvSchema = Record<string, EnvSetting>;
export type EnvValues<S extends EnvSchema> = { -readonly [K in keyof S]: ValueOf<S[K]> };

/** A field's name as a flag or S3 metadata key: minFaceSize -> min-face-size (S3 keeps metadata keys lower-case). */
export const kebabCase = (field: string) => field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export const int = <D extends number | undefined>(d: D, min: number, max: number, doc: string) => ({ kind: 'int' as const, default: d, min, max, doc });
export const num = <D extends number | undefined>(d: D, min: number, max: number, doc: string) => ({ kind: 'number' as const, default: d, min, max, doc });
export const oneOf = <V extends string, D extends V | undefined = V>(values: readonly V[], d: D, doc: string) => ({ kind: 'enum' as const, values, default: d, doc });
export const bool = (d: boolean, doc: string): BoolSpec => ({ kind: 'bool', default: d, doc });
export const str = <O extends Omit<StringSpec, 'kind'>>(o: O) => ({ kind: 'string' as const, ...o });

/** What a value may be, in words ("a whole number from 1 to 100"). */
export function accepted(spec: ValueSpec): string {
  switch (spec.kind) {
    case 'int':
      return `a whole number from ${spec.min} to ${spec.max}`;
    case 'number':
      return `a number from ${spec.min} to ${spec.max}`;
    case 'enum':
      return `one of ${spec.values.join(', ')}`;
    case 'bool':
      return 'true or false';
    case 'string':
      return spec.expected ?? 'a string';
  }
}

/** A decimal number as text: 24, -1, 0.5, .5, 5., 1e-7 (not 0x1, 0b1, Infinity, which Number() also reads). */
export const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * Parses one value (a string from an environment or a setting, or a JSON value from a request).
 * `undefined` and '' give the default; anything else outside the spec calls `fail` with the accepted range.
 */
export function parseValue<S extends ValueSpec>(spec: S, raw: unknown, fail: (expected: string) => never): ValueOf<S> {
  type R = ValueOf<S>;
  // '' means unset, except where a pattern decides (an empty key prefix is an error, not the default).
  const patterned = spec.kind === 'string' && spec.pattern !== undefined;
  if (raw === undefined || raw === null || (raw === '' && !patterned)) {
    if (spec.kind === 'string' && spec.required) return fail(`${accepted(spec)} (required)`);
    return spec.default as R;
  }
  switch (spec.kind) {
    case 'int':
    case 'number': {
      const text = typeof raw === 'string' ? raw.trim() : raw;
      // A whole number in text has no exponent (N=1e3 is more likely a slip than a thousand).
      const pattern = spec.kind === 'int' ? /^[+-]?\d+(\.\d*)?$/ : DECIMAL;
      const n = typeof text === 'number' ? text : typeof text === 'string' && pattern.test(text) ? Number(text) : NaN;
      const whole = spec.kind === 'int' ? Number.isSafeInteger(n) : Number.isFinite(n);
      if (!whole || n < spec.min || n > spec.max) return fail(accepted(spec));
      return n as R;
    }
    case 'enum':
      if (typeof raw !== 'string' || !spec.values.includes(raw)) return fail(accepted(spec));
      return raw as R;
    case 'bool': {
      if (typeof raw === 'boolean') return raw as R;
      const t = String(raw).toLowerCase();
      if (['1', 'true', 'yes'].includes(t)) return true as R;
      if (['0', 'false', 'no'].includes(t)) return false as R;
      return fail(accepted(spec));
    }
    case 'string':
      if (typeof raw !== 'string' || (spec.pattern && !spec.pattern.test(raw))) return fail(accepted(spec));
      return raw as R;
  }
}

/** A function's settings from its environment, at cold start; `fail` gets a message naming the variable. */
export function parseEnv<S extends EnvSchema>(schema: S, env: Record<string, string | undefined>, fail: (message: string) => never): EnvValues<S> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const raw = env[spec.env];
    if (spec.kind === 'string' && spec.required && !raw) fail(`environment variable ${spec.env} is required`);
    out[key] = parseValue(spec, raw, (expected) => fail(`${spec.env}=${JSON.stringify(raw ?? '')}: expected ${expected}`));
  }
  return out as EnvValues<S>;
}

/** The environment that gives `values` (what the stack and the local runner set); unset optionals are left out. */
export function toEnvironment<S extends EnvSchema>(schema: S, values: Partial<EnvValues<S>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const value = (values as Record<string, unknown>)[key];
    if (value !== undefined) env[spec.env] = String(value);
  }
  return env;
}

/** The default of a spec as the tables show it. */
export function shownDefault(spec: ValueSpec): string {
  if (spec.default === undefined) return spec.kind === 'string' && spec.required ? '(required)' : '(unset)';
  return `\`${String(spec.default)}\``;
}

/** A Markdown table of settings or fields, for the docs (a test fails when it drifts). */
export function markdownTable(rows: readonly { name: string; spec: ValueSpec }[], nameHeader: string): string {
  const lines = [`| ${nameHeader} | default | accepted | meaning |`, '|---|---|---|---|'];
  for (const { name, spec } of rows) lines.push(`| \`${name}\` | ${shownDefault(spec)} | ${accepted(spec)} | ${spec.doc} |`);
  return lines.join('\n');
}
