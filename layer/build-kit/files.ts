/** Files under a folder, as the layer build and its checks list them. */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Every file (not folder) under `root`, as sorted `/`-separated relative paths. */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else out.push(child);
    }
  };
  walk('');
  return out.sort();
}
