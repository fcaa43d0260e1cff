/**
 * The order of an upload's versions, from S3's event `sequencer`: for one key, the event with the
 * greater sequencer happened later. Sequencers are hex strings of varying length: the shorter is
 * right-padded with zeros before a plain comparison (S3's documented rule). A version without one
 * (an event that carried none) comes before every version that has one. Dependency-free.
 */

export interface Version {
  readonly eTag: string;
  readonly sequencer?: string;
}

/** < 0: a happened before b; 0: the same event; > 0: a happened after b. */
export function compareSequencers(a: string | undefined, b: string | undefined): number {
  const x = (a ?? '').toUpperCase();
  const y = (b ?? '').toUpperCase();
  const n = Math.max(x.length, y.length);
  const px = x.padEnd(n, '0');
  const py = y.padEnd(n, '0');
  return px < py ? -1 : px > py ? 1 : 0;
}

/** S3 user metadata on every product (output image, result record): the version it was made from. */
export const VERSION_METADATA = { eTag: 'source-etag', sequencer: 'source-sequencer' } as const;

export function versionMetadata(v: Version): Record<string, string> {
  return { [VERSION_METADATA.eTag]: v.eTag, ...(v.sequencer ? { [VERSION_METADATA.sequencer]: v.sequencer } : {}) };
}

export function versionFromMetadata(metadata: Readonly<Record<string, string>> | undefined): Version {
  return { eTag: metadata?.[VERSION_METADATA.eTag] ?? '', sequencer: metadata?.[VERSION_METADATA.sequencer] };
}

/** ETags as S3 sends them are quoted: `"abc"` -> `abc` (one place for every reader). */
export function unquoteETag(eTag: string | undefined): string {
  return (eTag ?? '').replace(/"/g, '');
}

/** Lambda's and SQS's `ApproximateReceiveCount` as a number (1 when absent or unreadable). */
export function receiveCount(attributes: { ApproximateReceiveCount?: string } | undefined): number {
  const n = Number(attributes?.ApproximateReceiveCount);
  return Number.isSafeInteger(n) && n > 0 ? n : 1;
}
