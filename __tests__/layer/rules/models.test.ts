/** The layer's models: each committed YuNet copy (or an override) used only with its pinned sha256, no network. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sha256File } from '../../../layer/build-kit/cache';
import { MODEL_FILES } from '../../../functions/detect-faces/detect/detectors';
import { models } from '../../../layer/inputs';
import { isCommittedModel, modelStageId, ModelChecksumMismatch, resolveCommittedModel } from '../../../layer/rules/models';
import { PROJECT_ROOT } from '../../helpers/paths';
import { tempDir } from '../../helpers/temp';

const committed = models.filter(isCommittedModel);

test('the committed models are YuNet 2023mar, 2022mar and YuNet_n, each with its own override and build stage', () => {
  expect(committed.map((m) => m.file)).toEqual(['face_detection_yunet_2023mar.onnx', 'face_detection_yunet_2022mar.onnx', 'yunet_n_640_640.onnx']);
  expect(committed.map((m) => m.source.localPathEnv)).toEqual(['LAYER_YUNET_MODEL', 'LAYER_YUNET_2022_MODEL', 'LAYER_YUNET_N_MODEL']);
  expect(new Set(committed.map((m) => modelStageId(m.file))).size).toBe(committed.length);
  for (const m of committed) expect(m.source.repoPath).toBe(path.join('layer', 'models', m.file));
});

test('each committed model has its licence file in the repository, of the licence its entry names', () => {
  const opening: Record<string, RegExp> = { MIT: /^MIT License\n\nCopyright \(c\) \d{4} \S/, 'Apache-2.0': /^(Copyright .*\n)+\n\s+Apache License\n\s+Version 2\.0, January 2004\n/ };
  for (const m of committed) {
    const text = fs.readFileSync(path.join(PROJECT_ROOT, m.source.licenseRepoPath), 'utf8');
    expect(opening[m.license]).toBeDefined();
    expect(text).toMatch(opening[m.license]);
  }
});

describe.each(committed.map((m) => [m.file, m] as const))('%s source', (_file, yunet) => {
  const envName = yunet.source.localPathEnv;
  const tmp = () => tempDir('models');

  test('the committed copy is used, verified, with no network', () => {
    expect(resolveCommittedModel(yunet, PROJECT_ROOT, {})).toBe(path.join(PROJECT_ROOT, yunet.source.repoPath));
    expect(sha256File(path.join(PROJECT_ROOT, yunet.source.repoPath))).toBe(yunet.sha256);
  });

  test('an override with the pinned sha256 is used as is', () => {
    const copy = path.join(tmp(), 'copy.onnx');
    fs.copyFileSync(path.join(PROJECT_ROOT, yunet.source.repoPath), copy);
    expect(resolveCommittedModel(yunet, PROJECT_ROOT, { [envName]: copy })).toBe(copy);
  });

  test('an override with another sha256 stops the build', () => {
    const wrong = path.join(tmp(), 'wrong.onnx');
    fs.writeFileSync(wrong, 'not the model');
    expect(() => resolveCommittedModel(yunet, PROJECT_ROOT, { [envName]: wrong })).toThrow(ModelChecksumMismatch);
  });

  test('a tampered committed copy stops the build, naming the file', () => {
    const root = tmp();
    fs.mkdirSync(path.join(root, path.dirname(yunet.source.repoPath)), { recursive: true });
    fs.writeFileSync(path.join(root, yunet.source.repoPath), 'tampered bytes');
    expect(() => resolveCommittedModel(yunet, root, {})).toThrow(new RegExp(`sha256 mismatch.*layer/models/${yunet.file}.*expected ${yunet.sha256.slice(0, 8)}`));
  });

  test('a missing committed copy says how to restore it', () => {
    expect(() => resolveCommittedModel(yunet, tmp(), {})).toThrow(new RegExp(`missing from the checkout.*set ${envName}`));
  });
});

test('the layer ships exactly the models the detectors load, nothing unused', () => {
  expect(models.map((m) => m.file).sort()).toEqual(Object.values(MODEL_FILES).sort());
});
