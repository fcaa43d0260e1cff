/** The local tools' allocator settings: which variables, and the one re-run that sets them. */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import * as os from 'node:os';
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
        'void rerunUnderAllocatorEnv().then((status) => {',
        "  if (status !== undefined) { process.stdout.write(`parent: ${status}\\n`); process.exit(status); }",
        "  process.stdout.write(`${JSON.stringify({ mmap: process.env.MALLOC_MMAP_THRESHOLD_, trim: process.env.MALLOC_TRIM_THRESHOLD_, args: process.argv.slice(2), pid: process.pid })}\\n`);",
        "  if (process.argv.includes('--wait')) setInterval(() => undefined, 1000);",
        '  else process.exit(3);',
        '});',
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

  test('a signal to the first process is passed on: the re-run stops with it, and the status says which signal', async () => {
    const parent = spawn(process.execPath, [fromRoot('node_modules', 'tsx', 'dist', 'cli.mjs'), script, '--wait'], { env: withoutAllocatorEnv(process.env), stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    parent.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    // The re-run's first line says it is running, and its pid.
    while (!out.includes('\n')) await new Promise((resolve) => setTimeout(resolve, 50));
    const childPid = (JSON.parse(out.split('\n')[0]) as { pid: number }).pid;
    parent.kill('SIGTERM');
    const [code] = await once(parent, 'exit');
    expect(out.trim().split('\n')[1]).toBe(`parent: ${128 + os.constants.signals.SIGTERM}`);
    expect(code).toBe(128 + os.constants.signals.SIGTERM);
    // The re-run is gone too (kill 0 only asks whether it is there).
    expect(() => process.kill(childPid, 0)).toThrow();
  }, 60_000);

  test('with them (a user\'s own values): no second run, the values kept', () => {
    const res = run({ ...withoutAllocatorEnv(process.env), MALLOC_MMAP_THRESHOLD_: '4194304', MALLOC_TRIM_THRESHOLD_: '0' });
    expect(res.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(res.stdout)).toMatchObject({ mmap: '4194304', trim: '0', args: ['a', '--b'] });
    expect(res.status).toBe(3);
  });
});
