/**
 * The layer's stage table: its keys cover everything each stage is made from, as properties over
 * the real table for both architectures. Each named input and each file a stage reads (its
 * scripts, lock files, and its code with every project module that imports) changes that stage's
 * key and the keys of the stages after it; nothing else changes any key.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { version as esbuildVersion } from 'esbuild';
import { IN_ROOT_SCRIPT, SANDBOX_UID } from '../../../layer/build-kit/roots';
import { stageFiles, stageKeys, type StageDef } from '../../../layer/build-kit/stages';
import { LAMBDA_RUNTIME, LAYER_LAYOUT, models, opencv, targets, type LayerArch } from '../../../layer/inputs';
import { BUILD_GOALS, layerStages, planLayer, PROJECT_ROOT } from '../../../layer/rules/layer-stages';
import { isCommittedModel, modelStageId } from '../../../layer/rules/models';
import { addonInRoot } from '../../../layer/rules/stages/addon';
import { fromRoot } from '../../helpers/paths';

/** Which stages read each stage's output, directly or through others. */
const DOWNSTREAM: Record<string, string[]> = {
  root: ['opencv', 'addon', 'jpeg-lossless', 'layer'],
  source: ['opencv', 'addon', 'layer'],
  opencv: ['addon', 'layer'],
  addon: ['layer'],
  'jpeg-lossless': ['layer'],
  // One check per committed model: each pinned by its sha256.
  ...Object.fromEntries(models.filter(isCommittedModel).map((m) => [modelStageId(m.file), ['layer']])),
  layer: [],
  'smoke-root': [],
};

const keysOf = (table: StageDef[], read?: (file: string) => Buffer | string) => stageKeys(table, { root: PROJECT_ROOT, read });
const changedKeys = (a: Map<string, unknown>, b: Map<string, unknown>) => [...a.keys()].filter((id) => JSON.stringify(a.get(id)) !== JSON.stringify(b.get(id)));
const rel = (f: string) => path.relative(PROJECT_ROOT, f);

describe.each(['x86_64', 'arm64'] as const)('%s', (arch: LayerArch) => {
  const table = layerStages(targets[arch]);
  const before = keysOf(table);
  const byId = new Map(table.map((d) => [d.id, d]));

  test('the table declares every stage the downstream map knows, in an order the runner accepts', () => {
    expect(table.map((d) => d.id).sort()).toEqual(Object.keys(DOWNSTREAM).sort());
  });

  const inputCases = table.flatMap((def) => Object.keys(def.inputs ?? {}).map((name) => [def.id, name] as const));
  test.each(inputCases)('changing %s\'s input %s changes its key and those of the stages after it, nothing else', (id, name) => {
    const changed = table.map((def) => (def.id === id ? { ...def, inputs: { ...def.inputs, [name]: { changed: def.inputs![name] ?? null } } } : def));
    expect(changedKeys(before, keysOf(changed))).toEqual([id, ...DOWNSTREAM[id]]);
  });

  const fileCases = table.flatMap((def) => stageFiles(def).map((file) => [def.id, rel(file)] as const));
  test.each(fileCases)('changing a byte of %s\'s file %s changes its key and those after it (and those of other stages reading it)', (id, file) => {
    const abs = path.join(PROJECT_ROOT, file);
    const read = (f: string) => (f === abs ? `${fs.readFileSync(f, 'utf8')} ` : fs.readFileSync(f));
    const readers = table.filter((d) => stageFiles(d).includes(abs)).map((d) => d.id);
    const expected = new Set(readers.flatMap((r) => [r, ...DOWNSTREAM[r]]));
    expect(changedKeys(before, keysOf(table, read))).toEqual(table.map((d) => d.id).filter((d) => expected.has(d)));
    expect(readers).toContain(id);
  });

  test('changing a file no stage reads changes no key', () => {
    const read = new Set(table.flatMap(stageFiles));
    const others = ['README.md', 'package.json', 'layer/verify.ts', 'layer/build.ts', 'layer/verify/smoke.ts', 'functions/detect-faces/contract/request.ts', 'stack/config.ts'].map((f) => fromRoot(f));
    for (const f of others) expect(read.has(f)).toBe(false);
    expect(changedKeys(before, keysOf(table, (f) => (others.includes(f) ? 'changed' : fs.readFileSync(f))))).toEqual([]);
  });

  test('keys do not depend on the job count or on where the cache is', () => {
    expect(changedKeys(before, keysOf(layerStages(targets[arch], '1')))).toEqual([]);
    expect(changedKeys(before, keysOf(layerStages(targets[arch], '64')))).toEqual([]);
    const outputs = planLayer(targets[arch], BUILD_GOALS, { exists: () => false }).stages.map((s) => path.basename(s.output));
    expect(outputs.filter(Boolean).length).toBe(7);
  });

  test('the layer zip\'s key covers the esbuild version, LAYER_LAYOUT, the models\' names and licences, the runtime, this table\'s code and the helpers that feed the manifest', () => {
    const layer = byId.get('layer')!;
    expect(layer.inputs).toMatchObject({
      esbuild: esbuildVersion,
      layout: LAYER_LAYOUT,
      models: models.map((m) => ({ file: m.file, license: m.license, sha256: m.sha256 })),
      runtime: LAMBDA_RUNTIME,
    });
    const files = stageFiles(layer).map(rel);
    expect(files).toEqual(
      expect.arrayContaining([
        'layer/rules/layer-stages.ts',
        'layer/rules/stages/layer-zip.ts',
        'layer/rules/assemble.ts',
        'layer/build-kit/elf.ts',
        'layer/build-kit/files.ts',
        'layer/build-kit/cache.ts',
        'layer/inputs.ts',
        'bundling/zip.ts',
        'layer/runtime/opencv-build-shim.js',
      ]),
    );
  });

  test('the compiling stages read no pin but their inputs: their code imports nothing of layer/inputs.ts', () => {
    for (const id of ['root', 'opencv', 'addon', 'smoke-root']) {
      expect(stageFiles(byId.get(id)!).map(rel)).not.toContain('layer/inputs.ts');
    }
  });

  test('every script a stage runs is in its key: the build scripts, the sandbox runner, the addon\'s lock files', () => {
    const opencvFiles = stageFiles(byId.get('opencv')!).map(rel);
    const addonFiles = stageFiles(byId.get('addon')!).map(rel);
    expect(opencvFiles).toEqual(expect.arrayContaining(['layer/scripts/build-opencv.sh', rel(IN_ROOT_SCRIPT), 'layer/rules/stages/opencv.ts', 'layer/build-kit/roots.ts']));
    expect(addonFiles).toEqual(
      expect.arrayContaining([
        'layer/scripts/build-addon.sh',
        'layer/scripts/licence-of.sh',
        rel(IN_ROOT_SCRIPT),
        'layer/addon/package.json',
        'layer/addon/package-lock.json',
        'layer/rules/stages/addon.ts',
        'layer/build-kit/elf.ts',
      ]),
    );
    if (arch === 'arm64') {
      expect(opencvFiles).toContain('layer/scripts/toolchain-aarch64.cmake');
      expect(addonFiles).toContain('layer/scripts/build-addon-cross.sh');
    }
  });

  test('the source download\'s path follows its pin', () => {
    const source = byId.get('source')!;
    expect(source.pin).toBe(opencv.sha256);
    const at = source.output!.at(opencv.sha256);
    expect(path.basename(at)).toBe(`${opencv.sha256.slice(0, 16)}-${opencv.file}`);
    expect(source.output!.at('0'.repeat(64))).not.toBe(at);
  });

  test('each committed model is a stage of its own, pinned by its sha256, and the zip reads every one', () => {
    const committed = models.filter(isCommittedModel);
    expect(committed.length).toBeGreaterThanOrEqual(2);
    for (const m of committed) {
      expect(byId.get(modelStageId(m.file))?.pin).toBe(m.sha256);
      expect(byId.get('layer')!.dependsOn).toContain(modelStageId(m.file));
    }
    expect(byId.get('layer')!.inputs).toMatchObject({ committedModels: committed.map((m) => m.file) });
  });

  test('each committed model\'s licence file is in the zip\'s key and handed to it, by its path in the project', () => {
    const committed = models.filter(isCommittedModel);
    const layer = byId.get('layer')!;
    expect(stageFiles(layer).map(rel)).toEqual(expect.arrayContaining(committed.map((m) => m.source.licenseRepoPath)));
    expect(layer.inputs).toMatchObject({ modelLicenses: Object.fromEntries(committed.map((m) => [m.file, m.source.licenseRepoPath])) });
  });
});

test('every script under layer/scripts is run by some stage of some architecture\'s table (and so is in its key)', () => {
  const read = new Set(Object.values(targets).flatMap((t) => layerStages(t).flatMap(stageFiles)));
  for (const f of fs.readdirSync(fromRoot('layer', 'scripts'))) expect([f, read.has(fromRoot('layer', 'scripts', f))]).toEqual([f, true]);
});

test('the addon step runs sandboxed: no network, its own PID namespace, root mapped to nobody', () => {
  const argv = addonInRoot({ root: '/cache/roots/r', scratch: '/cache/scratch/addon', opencv: '/cache/opencv/x', nodeDir: '/cache/node/24' }, { JOBS: '2' }, ['bash', '/work/build-addon.sh']);
  expect(argv.join(' ')).toContain(`--sandbox ${SANDBOX_UID}`);
  expect(argv.join(' ')).toContain('--bind-ro /cache/opencv/x /opt');
});
