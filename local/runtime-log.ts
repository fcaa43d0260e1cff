/**
 * How the local function process (runtime-child.ts) ends an invocation's output. Its stdout, its
 * stderr and its IPC channel are three pipes that the runner (lambda-runtime.ts) reads apart, so a
 * result can arrive before the lines written ahead of it: the runner answers only once it has read
 * both ends.
 */

/** On stdout, as Lambda's runtime writes it. */
export const endLine = (id: string): string => `END RequestId: ${id}\n`;

/** On stderr; the runner removes it from the log. */
export const stderrEndMark = (id: string): string => `\u001eEND RequestId: ${id}\n`;
