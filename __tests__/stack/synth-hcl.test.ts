/**
 * The real synth command (`npm run synth`'s script) on fixture artifacts: HCL that terraform fmt
 * accepts, byte-identical across runs, with no path of this machine in it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixtureZips } from '../helpers/stack-fixture';
import { tempDir } from '../helpers/temp';

const ROOT = path.resolve(__dirname, '..', '..');
/** What a synth reads: the app, its constructs, the bundler and the functions it bundles, the Node version (.nvmrc). */
const SOURCES = ['main.ts', 'cdktf.json', 'package.json', 'tsconfig.json', '.nvmrc', 'stack', 'bundling', 'functions', 'layer', 'scripts'];

/** A bare checkout in a scratch folder: sources only, no built artifacts, the project's node_modules. */
function copySources(dir: string): void {
  for (const entry of SOURCES) {
    fs.cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true, filter: (src) => !src.includes(`${path.sep}dist`) });
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
}

/** Synthesizes with the project's own script in a scratch copy (so tests never touch cdktf.out). */
function synthIn(dir: string): string {
  copySources(dir);
  const zips = fixtureZips();
  const env = {
    ...process.env,
    FACE_LAYER_ZIP: zips.layerZip,
    FACE_DETECT_ZIP: zips.detectZip,
    FACE_CLEANUP_ZIP: zips.cleanupZip,
    FACE_WEB_API_ZIP: zips.webApiZip,
    FACE_BUCKET_NAME: '',
    FACE_STATE_BUCKET: '',
  };
  const result = spawnSync(path.join(ROOT, 'node_modules/.bin/tsx'), ['scripts/synth.ts'], { cwd: dir, env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`synth failed:\n${result.stdout}\n${result.stderr}`);
  return fs.readFileSync(path.join(dir, 'cdktf.out/stacks/face-detection/cdk.tf'), 'utf8');
}

describe('npm run synth', () => {
  const dirs = [0, 1].map(() => tempDir('synth'));
  let first = '';
  let second = '';

  beforeAll(() => {
    first = synthIn(dirs[0]);
    second = synthIn(dirs[1]);
  }, 240_000);

  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  test('two synths of the same tree in different folders are byte-identical', () => {
    expect(first.length).toBeGreaterThan(1000);
    expect(second).toBe(first);
  });

  test('no absolute path of the build machine appears', () => {
    for (const dir of [...dirs, ROOT, os.homedir(), path.dirname(fixtureZips().layerZip)]) expect(first).not.toContain(dir);
  });

  test('terraform fmt -check accepts it', () => {
    const result = spawnSync('terraform', ['fmt', '-check', '-diff', 'cdktf.out/stacks/face-detection/cdk.tf'], {
      cwd: dirs[0],
      encoding: 'utf8',
      env: { ...process.env, CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: '' },
    });
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  test('the HCL has every resource of the system', () => {
    for (const type of [
      'aws_s3_bucket',
      'aws_s3_bucket_policy',
      'aws_s3_bucket_public_access_block',
      'aws_s3_bucket_ownership_controls',
      'aws_s3_bucket_server_side_encryption_configuration',
      'aws_s3_bucket_lifecycle_configuration',
      'aws_lambda_layer_version',
      'aws_lambda_function',
      'aws_iam_role',
      'aws_cloudwatch_log_group',
      'aws_scheduler_schedule',
      'aws_sqs_queue',
      'aws_cognito_user_pool',
      'aws_cognito_user_pool_client',
      'aws_apigatewayv2_api',
      'aws_apigatewayv2_authorizer',
      'aws_apigatewayv2_route',
      'aws_s3_bucket_cors_configuration',
    ]) {
      expect(first).toContain(`resource "${type}"`);
    }
  });
});

describe('cdktf synth on a checkout without functions/dist', () => {
  const dirs = [0, 1].map(() => tempDir('synth-bare'));
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  const cdktfSynth = (dir: string, env: Record<string, string>) => {
    const result = spawnSync(path.join(ROOT, 'node_modules/.bin/cdktf'), ['synth', '--hcl'], {
      cwd: dir,
      env: { ...process.env, CHECKPOINT_DISABLE: '1', CDKTF_DISABLE_PLUGIN_CACHE_ENV: '1', FACE_BUCKET_NAME: '', FACE_STATE_BUCKET: '', FACE_LAYER_ZIP: fixtureZips().layerZip, ...env },
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`cdktf synth failed:\n${result.stdout}\n${result.stderr}`);
    return fs.readFileSync(path.join(dir, 'cdktf.out/stacks/face-detection/cdk.tf'), 'utf8');
  };

  test('bundles each function while synthesizing: the same HCL as zips built beforehand', () => {
    const [bare, prebuilt] = dirs;
    for (const dir of dirs) copySources(dir);
    expect(fs.existsSync(path.join(bare, 'functions', 'dist'))).toBe(false);
    const bundledAtSynth = cdktfSynth(bare, {});
    expect(fs.readdirSync(path.join(bare, 'functions', 'dist')).sort()).toEqual(['cleanup.zip', 'detect-faces.zip', 'web-api.zip']);

    const build = spawnSync(path.join(ROOT, 'node_modules/.bin/tsx'), ['bundling/functions.ts'], { cwd: prebuilt, encoding: 'utf8' });
    expect(build.status).toBe(0);
    const zips = path.join(prebuilt, 'functions', 'dist');
    for (const name of ['cleanup.zip', 'detect-faces.zip', 'web-api.zip']) expect(fs.readFileSync(path.join(zips, name))).toEqual(fs.readFileSync(path.join(bare, 'functions', 'dist', name)));
    const fromPrebuilt = cdktfSynth(prebuilt, { FACE_DETECT_ZIP: path.join(zips, 'detect-faces.zip'), FACE_CLEANUP_ZIP: path.join(zips, 'cleanup.zip'), FACE_WEB_API_ZIP: path.join(zips, 'web-api.zip') });
    expect(bundledAtSynth).toContain('detect-faces.zip');
    expect(bundledAtSynth).toBe(fromPrebuilt);
  }, 240_000);
});

test('a missing artifact fails the synth with one line naming the command that builds it', () => {
  const dir = tempDir('synth-missing');
  try {
    const result = spawnSync(path.join(ROOT, 'node_modules/.bin/tsx'), [path.join(ROOT, 'main.ts')], {
      cwd: dir,
      env: { ...process.env, CDKTF_OUTDIR: path.join(dir, 'out'), FACE_LAYER_ZIP: path.join(dir, 'missing.zip') },
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toMatch(/^missing .*missing\.zip: build it with `npm run build:layer`$/);
  }
  finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
