/**
 * The stage runner: keys derived from the table (as properties: each input changes its stage's key
 * and those after it, nothing else changes any), what runs and what is cached, numbering, logs,
 * the mirror resolved only when needed, the time left; a failing stage names itself, its log and
 * the log's last lines.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { codeClosure, planStages, runGoals, runStages, stageKeys, type StageDef } from '../../../layer/build-kit/stages';
import { formatDuration, StepFailed } from '../../../layer/build-kit/steps';
import { tempDir } from '../../helpers/temp';

const tmp = () => tempDir('stages');

/** root -> compile -> link, plus a pinned download; outputs under `cache`. */
function table(cache: string, runs: string[], overrides: Partial<Record<string, Partial<StageDef>>> = {}): StageDef[] {
  const dir = (name: string) => ({ kind: 'dir' as const, at: (key: string) => path.join(cache, name, key) });
  const stages: StageDef[] = [
    {
      id: 'root',
      title: 'root',
      keyPrefix: 'root-',
      inputs: { suite: 'bullseye' },
      network: 'debian',
      output: dir('roots'),
      async run(ctx) {
        runs.push('root');
        fs.writeFileSync(path.join(ctx.out, 'made-with'), ctx.mirror());
      },
    },
    {
      id: 'download',
      title: 'download',
      pin: 'ab'.repeat(32),
      network: 'debian',
      output: { kind: 'file', at: () => path.join(cache, 'downloads', 'src.tar') },
      async run(ctx) {
        runs.push('download');
        fs.writeFileSync(ctx.out, 'source');
      },
    },
    {
      id: 'compile',
      title: 'compile',
      dependsOn: ['root', 'download'],
      inputs: { flags: ['-O2'], cross: undefined },
      files: ['/src/build.sh'],
      output: dir('objects'),
      async run(ctx) {
        runs.push('compile');
        await ctx.exec(['sh', '-c', 'echo building one; echo building two']);
        fs.writeFileSync(path.join(ctx.out, 'a.o'), fs.readFileSync(ctx.input('download')));
      },
    },
    {
      id: 'link',
      title: 'link',
      dependsOn: ['root', 'compile'],
      inputs: { mode: 'static' },
      files: ['/src/link.sh', '/src/ld.conf'],
      output: { kind: 'file', at: (key) => path.join(cache, 'out', `${key}.bin`) },
      async run(ctx) {
        runs.push('link');
        fs.writeFileSync(ctx.out, fs.readFileSync(path.join(ctx.input('compile'), 'a.o')));
      },
    },
  ];
  return stages.map((s) => ({ ...s, ...overrides[s.id] }) as StageDef);
}

/** The files the test table's stages run, by content (the key reads them through this). */
const FILES: Record<string, string> = { '/src/build.sh': 'cc -c "$@"', '/src/link.sh': 'ld "$@"', '/src/ld.conf': 'static' };
const read = (changed: Record<string, string> = {}) => (file: string) => ({ ...FILES, ...changed })[file] ?? fs.readFileSync(file);
const keysOf = (t: StageDef[], changed: Record<string, string> = {}) => stageKeys(t, { root: '/src', read: read(changed) });
/** Stage id -> the ids that read it, directly or through others. */
const DOWNSTREAM: Record<string, string[]> = { root: ['compile', 'link'], download: ['compile', 'link'], compile: ['link'], link: [] };

/** Every key of the table, and which stages' keys differ from `before`. */
function changedKeys(before: Map<string, unknown>, after: Map<string, unknown>): string[] {
  return [...before.keys()].filter((id) => JSON.stringify(before.get(id)) !== JSON.stringify(after.get(id)));
}

describe('keys', () => {
  const base = table('/c', []);
  const before = keysOf(base);

  // Each named input of each stage, changed in three ways (value, type, nesting).
  const inputCases = base.flatMap((def) =>
    Object.keys(def.inputs ?? {}).flatMap((name) =>
      [(v: unknown) => `${JSON.stringify(v)}x`, () => 0, (v: unknown) => [v]].map((change, i) => [def.id, name, i, change] as const),
    ),
  );
  test.each(inputCases)('changing %s\'s input %s (variant %d) changes its key and those of the stages after it, nothing else', (id, name, _, change) => {
    const changed = base.map((def) => (def.id === id ? { ...def, inputs: { ...def.inputs, [name]: change(def.inputs![name]) } } : def));
    expect(changedKeys(before, keysOf(changed))).toEqual([id, ...DOWNSTREAM[id]]);
  });

  test.each(base.flatMap((def) => (def.files ?? []).map((f) => [def.id, f] as const)))('changing %s\'s file %s changes its key and those after it, nothing else', (id, file) => {
    expect(changedKeys(before, keysOf(base, { [file]: `${FILES[file]} # edited` }))).toEqual([id, ...DOWNSTREAM[id]]);
  });

  test('a pinned stage\'s key is its pin: changing the pin changes its key and those after it', () => {
    const changed = base.map((def) => (def.id === 'download' ? { ...def, pin: 'cd'.repeat(32) } : def));
    expect(keysOf(changed).get('download')).toBe('cd'.repeat(32));
    expect(changedKeys(before, keysOf(changed))).toEqual(['download', 'compile', 'link']);
  });

  test('nothing else changes a key: titles, outputs, commands, network, root, durations, how it runs, files it does not read, the checkout\'s place', () => {
    const other = base.map((def) => ({
      ...def,
      title: `${def.title} (again)`,
      output: def.output ? { kind: def.output.kind, at: (key: string) => path.join('/elsewhere', key) } : undefined,
      commands: ['something-else'],
      network: def.network === 'debian' ? ('npm' as const) : undefined,
      root: !def.root,
      expectedMs: 123_456,
      run: async () => 'other',
    }));
    expect(changedKeys(before, keysOf(other, { '/src/unread.sh': 'anything', '/elsewhere/x': 'y' }))).toEqual([]);
    // File names enter keys relative to the root: the same tree elsewhere has the same keys.
    const moved = base.map((def) => ({ ...def, files: def.files?.map((f) => f.replace('/src/', '/other/checkout/')) }));
    const movedRead = (file: string) => FILES[file.replace('/other/checkout/', '/src/')];
    expect(changedKeys(before, stageKeys(moved, { root: '/other/checkout', read: movedRead }))).toEqual([]);
  });

  test('named inputs are read as values: the order of their names does not matter', () => {
    const reordered = base.map((def) => ({ ...def, inputs: def.inputs && Object.fromEntries(Object.entries(def.inputs).reverse()) }));
    expect(changedKeys(before, keysOf(reordered))).toEqual([]);
  });

  test('reading one more stage that a dependency already covers leaves the key as it was', () => {
    const after = keysOf(table('/c', [], { link: { dependsOn: ['root', 'compile', 'download'] } }));
    expect(after.get('link')).toBe(before.get('link'));
  });

  test('a root\'s prefix stays in front of its key; a stage whose code changes changes key, with what that code imports', () => {
    expect(before.get('root')).toMatch(/^root-[0-9a-f]{16}$/);
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'helper.ts'), 'export const flags = ["-O2"];\n');
    fs.writeFileSync(path.join(dir, 'unused.ts'), 'export const nothing = 1;\n');
    fs.writeFileSync(path.join(dir, 'types.ts'), 'export interface Options { flags: string[] }\n');
    fs.writeFileSync(path.join(dir, 'impl.ts'), "import { flags } from './helper';\nimport type { Options } from './types';\nexport const o: Options = { flags };\n");
    expect(codeClosure(path.join(dir, 'impl.ts'))).toEqual([path.join(dir, 'helper.ts'), path.join(dir, 'impl.ts')]);
    const withCode = base.map((def) => (def.id === 'compile' ? { ...def, code: [path.join(dir, 'impl.ts')] } : def));
    const k0 = stageKeys(withCode, { root: dir, read: read() });
    const k1 = stageKeys(withCode, { root: dir, read: read({ [path.join(dir, 'helper.ts')]: 'export const flags = ["-O3"];\n' }) });
    const k2 = stageKeys(withCode, { root: dir, read: read({ [path.join(dir, 'unused.ts')]: 'export const nothing = 2;\n', [path.join(dir, 'types.ts')]: 'changed' }) });
    expect(changedKeys(k0, k1)).toEqual(['compile', 'link']);
    expect(changedKeys(k0, k2)).toEqual([]);
  });

  test('a table that depends on a later or unknown stage, or declares one twice, is refused', () => {
    const t = table('/c', []);
    expect(() => keysOf([t[2], t[0], t[1]])).toThrow('stage compile depends on root, which is not declared before it');
    expect(() => keysOf([...t, t[0]])).toThrow('stage root is declared twice');
    expect(() => keysOf([{ ...t[1], inputs: { x: 1 } }])).toThrow(/pinned by checksum/);
  });
});

describe('planning', () => {
  test('from the goal backwards: what only cached stages need is not needed', () => {
    const cache = tmp();
    const link = planStages(table(cache, []), ['link'], { read: read() }).stages.find((s) => s.def.id === 'link')!;
    fs.mkdirSync(path.dirname(link.output), { recursive: true });
    fs.writeFileSync(link.output, 'cached');
    const plan = planStages(table(cache, []), ['link'], { read: read() });
    expect(plan.stages.map((s) => [s.def.id, s.status])).toEqual([
      ['root', 'not needed'],
      ['download', 'not needed'],
      ['compile', 'not needed'],
      ['link', 'cached'],
    ]);
    expect(plan.runs).toBe(false);
    expect(plan.needs.network).toEqual([]);
  });

  test('the network, root and commands needed are those of the stages that run', () => {
    const cache = tmp();
    const t = table(cache, [], { compile: { root: true, commands: ['cc'] }, link: { commands: ['ld', 'cc'] } });
    const cold = planStages(t, ['link'], { read: read(), exists: () => false });
    expect(cold.needs).toEqual({ root: true, commands: ['cc', 'ld'], network: ['debian'] });
    // root and the download cached: compile and link run, and nothing needs the archive.
    const warm = planStages(t, ['link'], { read: read(), exists: (f) => f.includes('roots') || f.includes('downloads') });
    expect(warm.stages.map((s) => s.status)).toEqual(['cached', 'cached', 'run', 'run']);
    expect(warm.needs.network).toEqual([]);
  });

  test('N is the number of stages the goals reach', () => {
    expect(planStages(table('/c', []), ['link'], { read: read(), exists: () => false }).stages).toHaveLength(4);
    expect(planStages(table('/c', []), ['compile'], { read: read(), exists: () => false }).stages.map((s) => s.def.id)).toEqual(['root', 'download', 'compile']);
    expect(planStages(table('/c', []), ['root'], { read: read(), exists: () => false }).stages).toHaveLength(1);
    expect(() => planStages(table('/c', []), ['nope'], { read: read() })).toThrow('no stage nope');
  });
});

describe('running', () => {
  test('a cached step is skipped, a run step is logged, a failing step names itself and its log', async () => {
    const cache = tmp();
    const logDir = path.join(cache, 'logs');
    const runs: string[] = [];
    const lines: string[] = [];
    const failing = table(cache, runs, {
      link: { run: (ctx) => ctx.exec(['sh', '-c', 'echo "undefined reference to cv::foo" >&2; exit 3']) },
    });
    // The root is cached; the mirror is then never resolved.
    const root = planStages(failing, ['link'], { read: read() }).stages[0];
    fs.mkdirSync(root.output, { recursive: true });
    const mirror = jest.fn(async () => 'http://mirror.example/debian');
    const plan = planStages(failing, ['link'], { read: read() });
    const failure = runStages(plan, { logDir, scratchDir: path.join(cache, 'scratch'), mirror, out: (l) => lines.push(l) });
    await expect(failure).rejects.toBeInstanceOf(StepFailed);
    const error = (await failure.catch((e: StepFailed) => e)) as StepFailed;

    expect(lines[0]).toBe('✓ [1/4] root: cached');
    expect(lines).toContainEqual(expect.stringMatching(/^✓ \[3\/4\] compile: \d+s$/));
    expect(runs).toEqual(['download', 'compile']);
    expect(error.step).toBe('link');
    expect(error.message).toMatch(/^✗ \[4\/4\] link failed after \d+s: sh exited with code 3\n {2}log: /);
    expect(error.message).toContain(`log: ${path.join(logDir, 'link.log')}`);
    expect(error.message).toContain('undefined reference to cv::foo');
    expect(fs.readFileSync(path.join(logDir, 'compile.log'), 'utf8')).toContain('$ sh -c');
    expect(fs.readFileSync(path.join(logDir, 'compile.log'), 'utf8')).toContain('building two');
    // Download stage needed the archive, so the mirror was resolved (once, before anything ran).
    expect(mirror).toHaveBeenCalledTimes(1);
    // Nothing half-made is left where a later run would take it for a cached output.
    const link = plan.stages[3];
    expect(fs.existsSync(link.output)).toBe(false);
    expect(fs.readdirSync(path.join(cache, 'scratch'))).toEqual([]);
  });

  test('outputs are renamed into place only when complete; a second run finds them all cached', async () => {
    const cache = tmp();
    const runs: string[] = [];
    const opts = { logDir: path.join(cache, 'logs'), scratchDir: path.join(cache, 'scratch'), mirror: async () => 'http://m/debian', out: () => {} };
    const first = await runStages(planStages(table(cache, runs), ['link'], { read: read() }), opts);
    expect(runs).toEqual(['root', 'download', 'compile', 'link']);
    expect(fs.readFileSync(first.get('link')!, 'utf8')).toBe('source');
    expect(fs.readFileSync(path.join(first.get('root')!, 'made-with'), 'utf8')).toBe('http://m/debian');
    const mirror = jest.fn(async () => 'http://m/debian');
    const second = await runStages(planStages(table(cache, runs), ['link'], { read: read() }), { ...opts, mirror });
    expect(runs).toHaveLength(4);
    expect(second.get('link')).toBe(first.get('link'));
    expect(mirror).not.toHaveBeenCalled();
  });

  test('a stage reads only what it declares', async () => {
    const cache = tmp();
    const t = table(cache, [], { compile: { run: async (ctx) => void ctx.input('link') } });
    await expect(
      runStages(planStages(t, ['compile'], { read: read() }), { logDir: path.join(cache, 'logs'), scratchDir: path.join(cache, 's'), mirror: async () => 'm', out: () => {} }),
    ).rejects.toThrow('stage compile reads link, which it does not declare in dependsOn');
  });
});

test('the time left: the measured durations of the stages that run, printed before and after each', async () => {
  const cache = tmp();
  const lines: string[] = [];
  const t = table(cache, [], { root: { expectedMs: 60_000 }, compile: { expectedMs: 420_000 }, link: { expectedMs: 90_000 } });
  const cold = planStages(t, ['link'], { read: read() });
  expect(cold.expectedMs).toBe(570_000);
  await runStages(cold, { logDir: path.join(cache, 'logs'), scratchDir: path.join(cache, 's'), mirror: async () => 'http://m/debian', out: (l) => lines.push(l) });
  expect(lines[0]).toBe('cold stages to run: about 9m30s (their durations measured on 2 cores; more under load)');
  expect(lines.filter((l) => l.includes('left'))).toEqual(['  about 8m30s left', '  about 1m30s left']);
  // Once the root is there, only what still runs counts.
  expect(planStages(t, ['compile'], { read: read(), exists: (f) => f.includes('roots') || f.includes('downloads') || f.includes('objects') }).expectedMs).toBe(0);
});

test('a command that cannot start fails its step with a StepFailed naming it (the log closed once)', async () => {
  const cache = tmp();
  const t = table(cache, [], { link: { run: (ctx) => ctx.exec(['/nonexistent/linker', '-o', 'x']) } });
  const failure = runStages(planStages(t, ['link'], { read: read() }), { logDir: path.join(cache, 'logs'), scratchDir: path.join(cache, 's'), mirror: async () => 'http://m/debian', out: () => {} });
  await expect(failure).rejects.toBeInstanceOf(StepFailed);
  await expect(failure).rejects.toThrow(/link failed after \d+s: cannot start \/nonexistent\/linker: spawn \/nonexistent\/linker ENOENT/);
  // The process is still fine: nothing threw EBADF later from a second close.
  await new Promise((r) => setTimeout(r, 50));
});

test('every command a build runs holds the build lock (its fd 3), so a killed build stays locked while they run', async () => {
  const cache = tmp();
  // It holds the lock; it cannot write the lock's file.
  const t = table(cache, [], { compile: { run: (ctx) => ctx.exec(['sh', '-c', 'readlink /proc/self/fd/3; if (echo planted >&3) 2>/dev/null; then echo wrote; else echo read-only; fi']) } });
  const lockDir = path.join(cache, 'lock');
  const opts = { logDir: path.join(cache, 'logs'), scratchDir: path.join(cache, 's'), mirror: async () => 'http://m/debian', out: () => {}, lockDir };
  await runGoals(() => planStages(t, ['compile'], { read: read() }), opts);
  expect(fs.readFileSync(path.join(cache, 'logs', 'compile.log'), 'utf8')).toContain(`${path.join(lockDir, '.lock')}\nread-only\n`);
  expect(fs.readFileSync(path.join(lockDir, '.lock'), 'utf8')).toBe('');
});

test('durations read as people say them', () => {
  expect([formatDuration(900), formatDuration(59_400), formatDuration(61_000), formatDuration(13 * 60_000 + 14_000)]).toEqual(['1s', '59s', '1m01s', '13m14s']);
});
