/** The GitHub Actions workflow cannot run here; its schema and expressions are checked by action-validator. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { stageFiles } from '../../layer/build-kit/stages';
import { targets } from '../../layer/inputs';
import { layerStages } from '../../layer/rules/layer-stages';
import { fromRoot } from '../helpers/paths';
import { tempDir } from '../helpers/temp';

const WORKFLOW = fromRoot('.github', 'workflows', 'infra.yml');

function validate(file: string) {
  return spawnSync(fromRoot('node_modules', '.bin', 'action-validator'), [file], { encoding: 'utf8' });
}

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string>;
}
interface Job {
  if?: string;
  needs?: string | string[];
  permissions?: Record<string, string>;
  steps: Step[];
}
const workflow = parse(fs.readFileSync(WORKFLOW, 'utf8')) as { on: Record<string, unknown>; jobs: Record<string, Job>; permissions: Record<string, string> };
const runs = (job: Job) => job.steps.map((s) => s.run ?? '').join('\n');
const uses = (job: Job) => job.steps.map((s) => s.uses ?? '');

test('infra workflow is valid', () => {
  const result = validate(WORKFLOW);
  expect(result.stderr + result.stdout).toBe('');
  expect(result.status).toBe(0);
});

test('the validator does reject a broken workflow (so the check above means something)', () => {
  const broken = fs.readFileSync(WORKFLOW, 'utf8').replace('runs-on: ubuntu-24.04', 'runs_on: ubuntu-24.04');
  const file = path.join(tempDir('wf'), 'broken.yml');
  fs.writeFileSync(file, broken);
  expect(validate(file).status).not.toBe(0);
});

test('every push and pull request runs the tests and synthesizes', () => {
  expect(Object.keys(workflow.on).sort()).toEqual(['pull_request', 'push']);
  const test_ = workflow.jobs.test;
  expect(test_.if).toBeUndefined();
  expect(runs(test_)).toMatch(/^bash \.ci\/run$/m);
  expect(runs(test_)).toMatch(/^npm run synth$/m);
});

test('CI here and the workflow run one install + test script (.ci/run), which runs the README\'s test command', () => {
  expect(runs(workflow.jobs.test)).toMatch(/^bash \.ci\/run$/m);
  const readmeTest = /^(\. scripts\/setup\.sh && npm test)\s+#/m.exec(fs.readFileSync(fromRoot('README.md'), 'utf8'))?.[1];
  expect(readmeTest).toBe('. scripts/setup.sh && npm test');
  expect(fs.readFileSync(fromRoot('.ci', 'run'), 'utf8').split('\n')).toContain(readmeTest);
  // Nothing else installs or tests on its own beside the script.
  for (const job of Object.values(workflow.jobs)) expect(runs(job)).not.toMatch(/npm ci|apt-get|npm test|build:layer/);
});

test('no step relies on files beside the checkout or runs a root-only command without sudo', () => {
  const all = Object.values(workflow.jobs).map(runs).join('\n');
  expect(all).not.toMatch(/\.\.\/shared/);
  for (const line of all.split('\n')) {
    if (/\b(debootstrap|chroot|unshare|apt-get)\b/.test(line)) expect(line).toMatch(/^sudo /);
  }
});

test('pull requests get a terraform plan posted, with a read-only role', () => {
  const plan = workflow.jobs.plan;
  expect(plan.if).toBe("github.event_name == 'pull_request'");
  expect(plan.needs).toBe('test');
  expect(plan.permissions).toMatchObject({ 'id-token': 'write', 'pull-requests': 'write' });
  expect(runs(plan)).toMatch(/terraform plan .*-out=plan\.tfplan/);
  expect(plan.steps.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials'))?.with?.['role-to-assume']).toBe('${{ vars.AWS_PLAN_ROLE_ARN }}');
  expect(plan.steps.find((s) => s.uses?.startsWith('actions/github-script'))?.with?.script).toMatch(/createComment/);
});

test('main deploys with cdktf deploy through OIDC, never with stored keys', () => {
  const deploy = workflow.jobs.deploy;
  expect(deploy.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
  expect(deploy.permissions).toMatchObject({ 'id-token': 'write' });
  expect(runs(deploy)).toMatch(/cdktf deploy face-detection --auto-approve/);
  const credentials = deploy.steps.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials'))!;
  expect(credentials.with).toEqual({ 'role-to-assume': '${{ vars.AWS_DEPLOY_ROLE_ARN }}', 'aws-region': '${{ vars.AWS_REGION }}' });
  expect(uses(deploy)).toContain('actions/checkout@v4');
  for (const job of Object.values(workflow.jobs)) {
    for (const step of job.steps) expect(JSON.stringify(step)).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/);
  }
  expect(workflow.permissions).toEqual({ contents: 'read' });
});

test('the layer cache key covers every file the layer build keys its stages on (a file left out would restore a stale zip)', () => {
  const keys = Object.values(workflow.jobs).flatMap((job) => job.steps.map((s) => s.with?.key ?? '')).filter((k) => k.startsWith('opencv-layer-'));
  expect(keys.length).toBeGreaterThan(0);
  for (const key of keys) {
    const patterns = [...key.matchAll(/'([^']+)'/g)].map((m) => m[1]);
    const files = Object.values(targets).flatMap((target) => layerStages(target).flatMap(stageFiles));
    const uncovered = [...new Set(files.map((f) => path.relative(fromRoot(), f).split(path.sep).join('/')))].filter((f) => !f.startsWith('..') && !patterns.some((p) => path.matchesGlob(f, p)));
    expect(uncovered).toEqual([]);
  }
});
