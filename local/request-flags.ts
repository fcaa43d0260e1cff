/** The request's options as command-line flags (`--min-face-size 24`, `--mark=fill`), one per field of the contract. */
import { DECIMAL, kebabCase } from '../functions/common/schema';
import { DETECT_REQUEST } from '../functions/detect-faces/contract';

/** `--kebab-case` flag -> request field, for every field of DETECT_REQUEST. */
export const REQUEST_FLAGS = new Map<string, string>(Object.keys(DETECT_REQUEST).map((name) => [`--${kebabCase(name)}`, name]));

/**
 * Reads the request flag at `args[i]` into `options` (numeric values as numbers, as a JSON request
 * carries them; validation is the request parser's, whose errors name the field). Returns the index
 * of the flag's last argument, or undefined when `args[i]` is no request flag. A flag given again
 * with another value is an error.
 */
export function takeRequestFlag(args: readonly string[], i: number, options: Record<string, unknown>): number | undefined {
  const [flag, inline] = args[i].split(/=(.*)/s, 2);
  const name = REQUEST_FLAGS.get(flag);
  if (name === undefined) return undefined;
  const value = inline ?? args[i + 1];
  if (value === undefined) throw new Error(`${flag} needs a value`);
  // Decimal numbers only: anything else stays text, which the parser names.
  const parsed = DECIMAL.test(value.trim()) ? Number(value) : value;
  // Twice with two values is a mistake to name (an upload's metadata is refused the same way), not a choice of the last.
  if (name in options && options[name] !== parsed) throw new Error(`${flag} is given twice, as ${String(options[name])} and ${value}`);
  options[name] = parsed;
  return inline === undefined ? i + 1 : i;
}
