/** The build kit is generic: it knows nothing of the layer's rules or pinned inputs (they use it, not the reverse). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fromRoot } from '../../helpers/paths';

const KIT = fromRoot('layer', 'build-kit');

test.each(fs.readdirSync(KIT).filter((f) => f.endsWith('.ts')))('%s imports only node:, npm packages and the kit itself', (file) => {
  const text = fs.readFileSync(path.join(KIT, file), 'utf8');
  const imports = [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
  expect(imports.filter((i) => i.startsWith('.') && !i.startsWith('./'))).toEqual([]);
});

test('layer/lib is gone: the machinery is in build-kit/, the rules in rules/', () => {
  expect(fs.existsSync(fromRoot('layer', 'lib'))).toBe(false);
});
