import { createCollector, RSS_GROWTH_MB } from '../../../functions/common/collect';

const MB = 1024 * 1024;

/** A process whose RSS the test sets, and whose collections bring it back to `afterGc`. */
function fakeProcess(afterGc = 100) {
  const state = { rssMb: 100, collections: 0, clock: 0 };
  const ports = {
    rss: () => state.rssMb * MB,
    gc: () => {
      state.collections++;
      state.clock += 12.34;
      state.rssMb = afterGc;
    },
    now: () => state.clock,
  };
  return { state, ports };
}

describe('createCollector', () => {
  it('collects only once RSS has climbed the limit above its low-water mark, and says what it did', () => {
    const { state, ports } = fakeProcess(104);
    const collector = createCollector(ports, 16);
    expect(collector.afterInvocation()).toBeUndefined(); // the first reading sets the mark: 100 MB
    state.rssMb = 115.9;
    expect(collector.afterInvocation()).toBeUndefined();
    expect(state.collections).toBe(0);
    state.rssMb = 116;
    expect(collector.afterInvocation()).toEqual({ rssMb: 116, afterMb: 104, ms: 12.3 });
    expect(state.collections).toBe(1);
    // The next invocation sets the mark: RSS as it leaves it (110 MB), not as the collection left it.
    state.rssMb = 110;
    expect(collector.afterInvocation()).toBeUndefined();
    state.rssMb = 125.9;
    expect(collector.afterInvocation()).toBeUndefined();
    state.rssMb = 126;
    expect(collector.afterInvocation()).toMatchObject({ rssMb: 126 });
    expect(state.collections).toBe(2);
  });

  it('trims malloc after each collection, and only then', () => {
    const { state, ports } = fakeProcess(100);
    const order: string[] = [];
    const trim = jest.fn(() => {
      order.push(`trim after ${state.collections} collections`);
      state.rssMb -= 10;
    });
    const collector = createCollector({ ...ports, trim }, 16);
    collector.afterInvocation();
    state.rssMb = 110;
    collector.afterInvocation();
    expect(trim).not.toHaveBeenCalled();
    state.rssMb = 120;
    expect(collector.afterInvocation()).toEqual({ rssMb: 120, afterMb: 90, ms: 12.3 });
    expect(order).toEqual(['trim after 1 collections']);
    // Invocations that leave their working set in the arena again (118 MB, then no higher) do not
    // collect and trim every time: the trimmed 90 MB is not the mark.
    for (const mb of [118, 117, 118, 120]) {
      state.rssMb = mb;
      expect(collector.afterInvocation()).toBeUndefined();
    }
    expect(trim).toHaveBeenCalledTimes(1);
  });

  it('follows RSS down: growth is measured from the lowest reading since the last collection', () => {
    const { state, ports } = fakeProcess();
    const collector = createCollector(ports, 16);
    state.rssMb = 150;
    collector.afterInvocation();
    state.rssMb = 140;
    collector.afterInvocation();
    state.rssMb = 155;
    expect(collector.afterInvocation()).toBeUndefined();
    state.rssMb = 156;
    expect(collector.afterInvocation()).toBeDefined();
  });

  it('does nothing when Node does not expose gc', () => {
    const saved = (globalThis as { gc?: () => void }).gc;
    delete (globalThis as { gc?: () => void }).gc;
    try {
      const rss = jest.fn(() => 1000 * MB);
      const collector = createCollector({ rss }, 16);
      expect(collector.afterInvocation()).toBeUndefined();
      expect(rss).not.toHaveBeenCalled();
    } finally {
      if (saved) (globalThis as { gc?: () => void }).gc = saved;
    }
  });

  it('uses globalThis.gc by default (what --expose-gc gives) and RSS_GROWTH_MB', () => {
    const saved = (globalThis as { gc?: () => void }).gc;
    const gc = jest.fn();
    (globalThis as { gc?: () => void }).gc = gc;
    try {
      let rssMb = 100;
      const collector = createCollector({ rss: () => rssMb * MB });
      collector.afterInvocation();
      rssMb += RSS_GROWTH_MB - 1;
      collector.afterInvocation();
      expect(gc).not.toHaveBeenCalled();
      rssMb += 1;
      collector.afterInvocation();
      expect(gc).toHaveBeenCalledTimes(1);
    } finally {
      (globalThis as { gc?: () => void }).gc = saved;
    }
  });
});
