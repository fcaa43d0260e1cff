/** Detector models for the layer: committed in the repository (or overridden), always checked by sha256. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ModelInput } from '../inputs';
import { sha256File } from '../build-kit/cache';

export class ModelChecksumMismatch extends Error {
  constructor(file: string, from: string, expected: string, actual: string) {
    super(`sha256 mismatch for ${file} from ${from}: expected ${expected}, got ${actual}; refusing to build with it`);
    this.name = 'ModelChecksumMismatch';
  }
}

export function verifyModel(model: ModelInput, file: string, from: string = file): void {
  const actual = sha256File(file);
  if (actual !== model.sha256) throw new ModelChecksumMismatch(model.file, from, model.sha256, actual);
}

export type CommittedModel = ModelInput & { source: Extract<ModelInput['source'], { repoPath: string }> };

export function isCommittedModel(model: ModelInput): model is CommittedModel {
  return 'repoPath' in model.source;
}

/** The build stage that checks a committed model (one per model: a stage returns one path). */
export function modelStageId(file: string): string {
  return `model-${path.parse(file).name}`;
}

/**
 * A committed model: the path in its environment variable if set (an override), else the copy in
 * the repository. No network: a clone builds offline. Returns a verified local path.
 */
export function resolveCommittedModel(model: CommittedModel, projectRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  const override = env[model.source.localPathEnv];
  if (override) {
    if (!fs.existsSync(override)) throw new Error(`${model.source.localPathEnv}=${override}: no such file`);
    verifyModel(model, override, `${model.source.localPathEnv}=${override}`);
    return override;
  }
  const committed = path.join(projectRoot, model.source.repoPath);
  if (!fs.existsSync(committed)) {
    throw new Error(`${model.source.repoPath} is missing from the checkout (its upstream: ${model.source.upstreamUrl}); restore it with git or set ${model.source.localPathEnv}`);
  }
  verifyModel(model, committed, model.source.repoPath);
  return committed;
}
