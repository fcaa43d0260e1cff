/** The layer's pinned inputs agree with the machine setup that builds and runs it. */
import * as fs from 'node:fs';
import { node } from '../../layer/inputs';
import { fromRoot } from '../helpers/paths';

test('setup.sh installs the same Node version the layer is built for', () => {
  const setup = fs.readFileSync(fromRoot('scripts', 'setup.sh'), 'utf8');
  expect(setup).toContain(`FACE_NODE_VERSION=${node.version}`);
  expect(fs.readFileSync(fromRoot('.nvmrc'), 'utf8').trim()).toBe(node.version.split('.')[0]);
});
