/** Hostile inputs for the layer build's argv builders (roots.test.ts, in-root.test.ts). */

/** Values a caller might pass, each meant to arrive as it is. */
export const HOSTILE_VALUES: [string, string][] = [
  ['spaces', 'a b  c'],
  ['single quotes', "it's 'quoted'"],
  ['double quotes', 'say "hi"'],
  ['command substitution', '$(touch /tmp/pwned)'],
  ['backticks', '`id`'],
  ['variable', '$HOME ${PATH}'],
  ['newline', 'line one\nline two'],
  ['equals signs', 'a=b=c'],
  ['leading dash', '-rf'],
  ['double dash', '--'],
  ['a value with -- inside', 'x -- y'],
  ['comma', 'a,b'],
  ['colon', 'a:b'],
  ['glob', '*'],
  ['semicolon and pipe', '; rm -rf / | cat'],
  ['empty', ''],
  ['non-ASCII', 'café ☕'],
  ['backslash', 'a\\b'],
  ['tab', 'a\tb'],
];
