/**
 * The stage runner: keys derived from the table, what runs and what is cached, numbering, logs,
 * the mirror resolved only when needed; a failing stage names itself, its log and the log's last lines.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cacheKey } from '../../../layer/build-kit/cache';
import { planStages, runStages, stageKeys, type StageDef } from '../../../layer/build-kit/stages';
import { formatDuration, StepFailed } from '../../../layer/build-kit/steps';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'stages-'));

/** root -> compile -> link, plus a pinned download; outputs under `cache`. */
function table(cache: string, runs: string[], overrides: Partial<Record<string, Partial<StageDef>>> = {}): StageDef[] {
  const dir = (name: string) => ({ kind: 'dir' as const, at: (key: string) => path.join(cache, name, key) });
  const stages: StageDef[] = [
    {
      id: 'root',
      title: 'root',
      keyPrefix: 'root-',
      inputs: ['bullseye'],
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
      inputs: ['-O2'],
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
      inputs: ['static'],
      output: { kind: 'file', at: (key) => path.join(cache, 'out', `${key}.bin`) },
      async run(ctx) {
        runs.push('link');
        fs.writeFileSync(ctx.out, fs.readFileSync(path.join(ctx.input('compile'), 'a.o')));
      },
    },
  ];
  return stages.map((s) => ({ ...s, ...overrides[s.id] }) as StageDef);
}

describe('keys', () => {
  test('a stage hashes its dependencies\' keys, then its inputs; a dependency another one covers is not hashed again', () => {
    const keys = stageKeys(table('/c', []));
    const root = `root-${cacheKey('bullseye')}`;
    expect(keys.get('root')).toBe(root);
    expect(keys.get('download')).toBe('ab'.repeat(32));
    expect(keys.get('compile')).toBe(cacheKey(root, 'ab'.repeat(32), '-O2'));
    // link depends on root and compile; compile already covers root.
    expect(keys.get('link')).toBe(cacheKey(keys.get('compile'), 'static'));
  });

  test('reading one more stage that a dependency already covers leaves the key as it was', () => {
    const before = stageKeys(table('/c', []));
    const after = stageKeys(table('/c', [], { link: { dependsOn: ['root', 'compile', 'download'] } }));
    expect(after.get('link')).toBe(before.get('link'));
  });

  test('a changed input changes its stage\'s key and every key after it, nothing before', () => {
    const before = stageKeys(table('/c', []));
    const after = stageKeys(table('/c', [], { compile: { inputs: ['-O3'] } }));
    expect(after.get('root')).toBe(before.get('root'));
    expect(after.get('download')).toBe(before.get('download'));
    expect(after.get('compile')).not.toBe(before.get('compile'));
    expect(after.get('link')).not.toBe(before.get('link'));
  });

  test('a table that depends on a later or unknown stage, or declares one twice, is refused', () => {
    const t = table('/c', []);
    expect(() => stageKeys([t[2], t[0], t[1]])).toThrow('stage compile depends on root, which is not declared before it');
    expect(() => stageKeys([...t, t[0]])).toThrow('stage root is declared twice');
    expect(() => stageKeys([{ ...t[1], inputs: ['x'] }])).toThrow(/pinned by checksum/);
  });
});

describe('planning', () => {
  test('from the goal backwards: what only cached stages need is not needed', () => {
    const cache = tmp();
    const link = planStages(table(cache, []), ['link']).stages.find((s) => s.def.id === 'link')!;
    fs.mkdirSync(path.dirname(link.output), { recursive: true });
    fs.writeFileSync(link.output, 'cached');
    const plan = planStages(table(cache, []), ['link']);
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
    const cold = planStages(t, ['link'], () => false);
    expect(cold.needs).toEqual({ root: true, commands: ['cc', 'ld'], network: ['debian'] });
    // root and the download cached: compile and link run, and nothing needs the archive.
    const warm = planStages(t, ['link'], (f) => f.includes('roots') || f.includes('downloads'));
    expect(warm.stages.map((s) => s.status)).toEqual(['cached', 'cached', 'run', 'run']);
    expect(warm.needs.network).toEqual([]);
  });

  test('N is the number of stages the goals reach', () => {
    expect(planStages(table('/c', []), ['link'], () => false).stages).toHaveLength(4);
    expect(planStages(table('/c', []), ['compile'], () => false).stages.map((s) => s.def.id)).toEqual(['root', 'download', 'compile']);
    expect(planStages(table('/c', []), ['root'], () => false).stages).toHaveLength(1);
    expect(() => planStages(table('/c', []), ['nope'])).toThrow('no stage nope');
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
    const root = planStages(failing, ['link']).stages[0];
    fs.mkdirSync(root.output, { recursive: true });
    const mirror = jest.fn(async () => 'http://mirror.example/debian');
    const plan = planStages(failing, ['link']);
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
    const first = await runStages(planStages(table(cache, runs), ['link']), opts);
    expect(runs).toEqual(['root', 'download', 'compile', 'link']);
    expect(fs.readFileSync(first.get('link')!, 'utf8')).toBe('source');
    expect(fs.readFileSync(path.join(first.get('root')!, 'made-with'), 'utf8')).toBe('http://m/debian');
    const mirror = jest.fn(async () => 'http://m/debian');
    const second = await runStages(planStages(table(cache, runs), ['link']), { ...opts, mirror });
    expect(runs).toHaveLength(4);
    expect(second.get('link')).toBe(first.get('link'));
    expect(mirror).not.toHaveBeenCalled();
  });

  test('a stage reads only what it declares', async () => {
    const cache = tmp();
    const t = table(cache, [], { compile: { run: async (ctx) => void ctx.input('link') } });
    await expect(
      runStages(planStages(t, ['compile']), { logDir: path.join(cache, 'logs'), scratchDir: path.join(cache, 's'), mirror: async () => 'm', out: () => {} }),
    ).rejects.toThrow('stage compile reads link, which it does not declare in dependsOn');
  });
});

test('durations read as people say them', () => {
  expect([formatDuration(900), formatDuration(59_400), formatDuration(61_000), formatDuration(13 * 60_000 + 14_000)]).toEqual(['1s', '59s', '1m01s', '13m14s']);
});
