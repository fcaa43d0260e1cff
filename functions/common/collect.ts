/**
 * A full garbage collection after an invocation that left the process's RSS RSS_GROWTH_MB above
 * the lowest an invocation left since the last collection (or since the first invocation).
 *
 * Why ours: a photo's bytes (the download, OpenCV's copies, the output) live in ArrayBuffers
 * outside V8's heap, and V8 sizes its collections from its own heap, not from them. Measured in a
 * warm detect-faces process (`npm run bench:memory`, docs/benchmarks.md): the first full
 * collection came after ~100 invocations, with 42 MB of dead ArrayBuffers by then, and malloc kept
 * that high-water mark for the container's life: RSS after warm-up +8 to +16% over 1,000
 * invocations. With this, malloc's main arena stays flat, for 1-2% of the work (how often it
 * fires and what it costs: docs/benchmarks.md). Node exposes `gc` only under `--expose-gc` (the
 * stack's NODE_OPTIONS); without it this does nothing.
 *
 * After the collection, `trim` (glibc's malloc_trim, from our addon) hands back the free pages
 * inside malloc's arenas: the freed buffers leave holes that glibc otherwise keeps, so RSS after a
 * collection would depend on the order things were freed in.
 */

/** How far RSS may climb above its low-water mark before a collection. */
export const RSS_GROWTH_MB = 8;

export interface CollectorPorts {
  /** The process's resident set size, in bytes. @default process.memoryUsage.rss */
  rss?: () => number;
  /** A full, synchronous collection. @default globalThis.gc, when Node exposes it */
  gc?: () => void;
  /** Returns the free pages inside malloc's arenas to the system, after a collection. @default none */
  trim?: () => void;
  /** @default performance.now */
  now?: () => number;
}

export interface Collection {
  readonly rssMb: number;
  readonly afterMb: number;
  readonly ms: number;
}

export interface Collector {
  /** Called after each invocation: collects when RSS grew past the limit; says what it did. */
  afterInvocation(): Collection | undefined;
}

const MB = 1024 * 1024;

export function createCollector(ports: CollectorPorts = {}, growthMb = RSS_GROWTH_MB): Collector {
  const rss = ports.rss ?? (() => process.memoryUsage.rss());
  const gc = ports.gc ?? (globalThis as { gc?: () => void }).gc;
  const now = ports.now ?? (() => performance.now());
  // The lowest RSS an invocation has left since the last collection (or since the first invocation).
  // Not RSS right after a collection: the trim takes it below what any invocation leaves (the
  // photo's working set is in the arena again after the next one), and measured from there every
  // invocation would collect and trim, then fault its working set back in: uploads of 0.2 MP
  // photos ran at 21 photos/s against 33-36 (bench:trigger, docs/benchmarks.md).
  let base: number | undefined;
  return {
    afterInvocation() {
      if (!gc) return undefined;
      const before = rss();
      if (base === undefined || before < base) base = before;
      if (before - base < growthMb * MB) return undefined;
      const start = now();
      gc();
      ports.trim?.();
      const ms = now() - start;
      base = undefined;
      return { rssMb: Math.round(before / MB), afterMb: Math.round(rss() / MB), ms: Math.round(ms * 10) / 10 };
    },
  };
}
