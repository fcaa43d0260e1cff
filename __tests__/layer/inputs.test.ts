/** Facts stated once: the Node version (.nvmrc) and the cache home, and the places outside TypeScript that must agree with them. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CACHE_DIR, CACHE_HOME, LAMBDA_RUNTIME, node } from '../../layer/inputs';
import { fromRoot } from '../helpers/paths';

test('the Node version is .nvmrc\'s; the Lambda runtime, esbuild target and package.json\'s engines follow its major', () => {
  const version = fs.readFileSync(fromRoot('.nvmrc'), 'utf8').trim();
  expect(version).toMatch(/^\d+\.\d+\.\d+$/);
  expect(node.version).toBe(version);
  const major = version.split('.')[0];
  expect(LAMBDA_RUNTIME).toMatchObject({ name: `nodejs${major}.x`, esbuildTarget: `node${major}` });
  const engines = (JSON.parse(fs.readFileSync(fromRoot('package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
  expect(engines).toBe(`>=${major} <${Number(major) + 1}`);
});

test('setup.sh installs .nvmrc\'s Node into the cache home', () => {
  const setup = fs.readFileSync(fromRoot('scripts', 'setup.sh'), 'utf8');
  expect(setup).toContain('FACE_NODE_VERSION=$(cat "$(dirname "${BASH_SOURCE[0]}")/../.nvmrc")');
  expect(setup).toContain('cache=${XDG_CACHE_HOME:-$HOME/.cache}/facedetect');
  expect(path.basename(CACHE_HOME)).toBe('facedetect');
  expect(path.dirname(CACHE_HOME)).toBe(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'));
});

test('the workflow caches the layer build\'s finished zips from where the build puts them', () => {
  const workflow = fs.readFileSync(fromRoot('.github', 'workflows', 'infra.yml'), 'utf8');
  const paths = [...workflow.matchAll(/path: (~\/\.cache\/\S+)/g)].map((m) => m[1]);
  expect(paths.length).toBe(3);
  if (!process.env.LAYER_CACHE_DIR && !process.env.XDG_CACHE_HOME) {
    for (const p of paths) expect(p.replace('~', os.homedir())).toBe(path.join(CACHE_DIR, 'layers'));
  }
});
