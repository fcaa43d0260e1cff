/** The GitHub Actions workflow cannot run here; its schema and expressions are checked by action-validator. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const WORKFLOW = path.resolve('.github/workflows/infra.yml');

function validate(file: string) {
  return spawnSync(path.resolve('node_modules/.bin/action-validator'), [file], { encoding: 'utf8' });
}

test('infra workflow is valid', () => {
  const result = validate(WORKFLOW);
  expect(result.stderr + result.stdout).toBe('');
  expect(result.status).toBe(0);
});

test('the validator does reject a broken workflow (so the check above means something)', () => {
  const broken = fs.readFileSync(WORKFLOW, 'utf8').replace('runs-on: ubuntu-24.04', 'runs_on: ubuntu-24.04');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wf-')), 'broken.yml');
  fs.writeFileSync(file, broken);
  expect(validate(file).status).not.toBe(0);
});

test('pull requests plan and main deploys with OIDC, never with stored keys', () => {
  const text = fs.readFileSync(WORKFLOW, 'utf8');
  expect(text).toMatch(/pull_request:/);
  expect(text).toMatch(/terraform plan/);
  expect(text).toMatch(/createComment/);
  expect(text).toMatch(/cdktf deploy/);
  expect(text).toMatch(/id-token: write/);
  expect(text).toMatch(/role-to-assume:/);
  expect(text).not.toMatch(/aws-access-key-id|AWS_SECRET_ACCESS_KEY/);
});
