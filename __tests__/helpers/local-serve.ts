/** `npm run serve` started in-process on free ports with a scratch data folder, for tests. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { serve, type RunningServe } from '../../local/serve';

export async function startServe(options: { cleanupEveryMs?: number } = {}): Promise<RunningServe & { dataDir: string }> {
  const dataDir = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'serve-s3-'));
  const running = await serve({ port: 0, s3Port: 0, filesPort: 0, dataDir, cleanupEveryMs: options.cleanupEveryMs, log: () => undefined });
  return {
    ...running,
    dataDir,
    close: async () => {
      await running.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
