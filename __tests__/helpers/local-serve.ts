/** `npm run serve` started in-process on free ports with a scratch data folder, for tests. */
import { EventEmitter, once } from 'node:events';
import * as fs from 'node:fs';
import { serve, type RunningServe } from '../../local/serve';
import { tempDir } from './temp';

export interface TestServe extends RunningServe {
  dataDir: string;
  /**
   * Resolves with the next line the server logs that matches `pattern` (one per finished
   * invocation, e.g. "face-detection-cleanup (Scheduled) ok 120 ms"). Call it before the action.
   */
  nextLog(pattern: RegExp): Promise<string>;
}

export async function startServe(options: { cleanupEveryMs?: number } = {}): Promise<TestServe> {
  const dataDir = tempDir('serve-s3', { memory: true });
  // Tests wait on these lines instead of polling.
  const lines = new EventEmitter();
  const running = await serve({ port: 0, s3Port: 0, filesPort: 0, dataDir, cleanupEveryMs: options.cleanupEveryMs, log: (line) => lines.emit('line', line) });
  return {
    ...running,
    dataDir,
    nextLog: async (pattern) => {
      for (;;) {
        const [line] = (await once(lines, 'line')) as [string];
        if (pattern.test(line)) return line;
      }
    },
    close: async () => {
      await running.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
