/** The local tools' allocator settings: which variables, and the one re-run that sets them. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hasAllocatorEnv, withoutAllocatorEnv } from '../../local/allocator';
import { DETECT_ALLOCATOR_ENV } from '../../stack/detect-function';
import { fromRoot } from '../helpers/paths';
import { tempDir } from '../helpers/temp';

test('every variable must be there, with any value; the unset side drops only them', () => {
  expect(hasAllocatorEnv({ ...DETECT_ALLOCATOR_ENV })).toBe(true);
  expect(hasAllocatorEnv({ MALLOC_MMAP_THRESHOLD_: '4194304', MALLOC_TRIM_THRESHOLD_: '0' })).toBe(true);
  expect(hasAllocatorEnv({ MALLOC_MMAP_THRESHOLD_: '33554432' })).toBe(false);
  expect(hasAllocatorEnv({})).toBe(false);
  expect(withoutAllocatorEnv({ ...DETECT_ALLOCATOR_ENV, PATH: '/bin', HOME: '/root' })).toEqual({ PATH: '/bin', HOME: '/root' });
});

describe('rerunUnderAllocatorEnv, in a real process started by tsx', () => {
  let script: string;
  beforeAll(() => {
    script = path.join(tempDir('allocator'), 'probe.ts');
    fs.writeFileSync(
      script,
      [
        `import { rerunUnderAllocatorEnv } from ${JSON.stringify(fromRoot('local', 'allocator'))};`,
        'const status = rerunUnderAllocatorEnv();',
        "if (status !== undefined) { process.stdout.write(`parent: ${status}\\n`); process.exit(status); }",
        "process.stdout.write(`${JSON.stringify({ mmap: process.env.MALLOC_MMAP_THRESHOLD_, trim: process.env.MALLOC_TRIM_THRESHOLD_, args: process.argv.slice(2) })}\\n`);",
        'process.exit(3);',
      ].join('\n'),
    );
  });
  const run = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, [fromRoot('node_modules', 'tsx', 'dist', 'cli.mjs'), script, 'a', '--b'], { encoding: 'utf8', env });

  test('without the variables: the script runs again with them and its arguments, and its status is the exit status', () => {
    const res = run(withoutAllocatorEnv(process.env));
    const [childLine, parentLine] = res.stdout.trim().split('\n');
    expect(JSON.parse(childLine)).toMatchObject({ mmap: DETECT_ALLOCATOR_ENV.MALLOC_MMAP_THRESHOLD_, trim: DETECT_ALLOCATOR_ENV.MALLOC_TRIM_THRESHOLD_, args: ['a', '--b'] });
    expect(parentLine).toBe('parent: 3');
    expect(res.status).toBe(3);
  });

  test('with them (a user\'s own values): no second run, the values kept', () => {
    const res = run({ ...withoutAllocatorEnv(process.env), MALLOC_MMAP_THRESHOLD_: '4194304', MALLOC_TRIM_THRESHOLD_: '0' });
    expect(res.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(res.stdout)).toMatchObject({ mmap: '4194304', trim: '0', args: ['a', '--b'] });
    expect(res.status).toBe(3);
  });
});
