/** Configuration: defaults, sources, and a clear error naming the setting for every bad value. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, loadConfig, pickSettings, projectContext, validateBucketName } from '../../stack/config';
import { tempDir } from '../helpers/temp';
import { rateMs } from '../../stack/schedule';

describe('defaults', () => {
  test('match the original design', () => {
    const config = loadConfig({}, {});
    expect(config).toMatchObject({
      stackName: 'face-detection',
      region: 'us-east-1',
      bucketName: undefined,
      imagePrefix: 'tmp/',
      outputAccess: 'public',
      detector: 'yunet',
      cleanupSchedule: 'rate(1 hour)',
      cleanupMaxAgeSeconds: 3600,
      lifecycleExpirationDays: 1,
      detectMemoryMb: 1769,
      backend: undefined,
    });
    expect(config.artifacts.layerZip).toBe('layer/dist/opencv-layer-x86_64.zip');
  });
});

describe('sources', () => {
  test('context wins over environment, environment over defaults', () => {
    expect(loadConfig({ region: 'eu-west-1' }, { AWS_REGION: 'us-west-2' }).region).toBe('eu-west-1');
    expect(loadConfig({}, { AWS_REGION: 'us-west-2' }).region).toBe('us-west-2');
    expect(loadConfig({}, { FACE_OUTPUT_ACCESS: 'presigned', FACE_PRESIGN_EXPIRES_SECONDS: '600' })).toMatchObject({
      outputAccess: 'presigned',
      presignExpiresSeconds: 600,
    });
  });

  test("the project's cdktf.json context is what the synth reads: a tool outside the app (layer/needs.ts) takes the same architecture", () => {
    expect(projectContext()).toEqual(JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdktf.json'), 'utf8')).context);
    const file = path.join(tempDir('cdktf-json'), 'cdktf.json');
    fs.writeFileSync(file, JSON.stringify({ app: 'x', context: { architecture: 'arm64' } }));
    expect(loadConfig(projectContext(file), { FACE_ARCHITECTURE: 'x86_64' }).architecture).toBe('arm64');
    fs.writeFileSync(file, JSON.stringify({ app: 'x' }));
    expect(projectContext(file)).toEqual({});
  });

  test('numbers from context may be numbers or strings', () => {
    expect(loadConfig({ detectMemoryMb: 2048 }, {}).detectMemoryMb).toBe(2048);
    expect(loadConfig({ detectMemoryMb: '2048' }, {}).detectMemoryMb).toBe(2048);
  });

  test("a state bucket switches to the S3 backend, in the stack region unless set, at a key of the stack's own", () => {
    expect(loadConfig({ stateBucket: 'my-state', region: 'eu-central-1' }, {}).backend).toEqual({
      bucket: 'my-state',
      key: 'face-detection/terraform.tfstate',
      region: 'eu-central-1',
    });
    // Two stacks in one state bucket: each its own state (one key, and each would plan over the other's resources).
    expect(loadConfig({ stateBucket: 'my-state', stackName: 'faces-staging' }, {}).backend?.key).toBe('faces-staging/terraform.tfstate');
    expect(loadConfig({ stateBucket: 'my-state', stackName: 'faces-staging', stateKey: 'face-detection/terraform.tfstate' }, {}).backend?.key).toBe('face-detection/terraform.tfstate');
  });
});

describe('invalid values fail with the setting, the value and what is accepted', () => {
  test.each([
    [{ bucketName: 'My_Bucket' }, /bucketName \(context\) \/ FACE_BUCKET_NAME \(env\): "My_Bucket"/],
    [{ bucketName: 'ab' }, /"ab".*3-63 characters/],
    [{ bucketName: '192.168.1.1' }, /not an IP address/],
    [{ bucketName: 'a..b-bucket' }, /adjacent dots/],
    [{ bucketName: 'xn--bucket' }, /reserved prefix/],
    [{ bucketPrefix: 'xn--faces-' }, /bucketPrefix.*"xn--faces-".*no reserved prefix/],
    [{ bucketPrefix: 'faces..' }, /bucketPrefix.*adjacent dots/],
    [{ bucketPrefix: 'faces.-' }, /bucketPrefix.*dot-hyphen/],
    [{ bucketPrefix: 'faces.' }, undefined],
    [{ stackName: 'a'.repeat(41) }, undefined],
    [{ stackName: 'a'.repeat(42) }, /stackName.*at most 41/],
    [{ stackName: 'FaceDetection' }, undefined],
    [{ stackName: 'aws-faces' }, /stackName.*"aws-faces".*the sign-in domain aws-faces-<account id> would hold it/],
    [{ stackName: 'MyCognitoFaces' }, /stackName.*the sign-in domain mycognitofaces-<account id>/],
    [{ stackName: 'aws-faces', authDomainPrefix: 'faces-login' }, undefined],
    [{ stackName: 'aws-faces', webApp: false }, undefined],
    [{ outputAccess: 'open' }, /outputAccess.*"open".*one of public, presigned/],
    [{ detector: 'dlib' }, /detector.*one of yunet, haar/],
    [{ region: 'mars-1' }, /region.*"mars-1"/],
    [{ imagePrefix: '' }, undefined],
    [{ imagePrefix: '/' }, /imagePrefix.*"\/".*never empty or "\/"/],
    [{ imagePrefix: 'tmp' }, /imagePrefix.*"tmp"/],
    [{ imagePrefix: '../x/' }, /imagePrefix/],
    [{ imagePrefix: 'a/../' }, /imagePrefix/],
    [{ imagePrefix: 'a/./' }, /imagePrefix/],
    [{ cleanupSchedule: 'every hour' }, /cleanupSchedule.*"every hour".*rate\(/],
    [{ cleanupSchedule: 'rate(1 hours)' }, /matching unit/],
    [{ cleanupSchedule: 'rate(0 minutes)' }, /positive rate/],
    [{ cleanupSchedule: 'rate(2 minute)' }, /matching unit/],
    [{ cleanupSchedule: 'rate(5 weeks)' }, /cleanupSchedule.*rate\(N minute/],
    [{ detectMemoryMb: 64 }, /detectMemoryMb.*"64".*128 to 10240/],
    [{ detectMemoryMb: '1.5' }, /whole number/],
    [{ jpegQuality: 101 }, /jpegQuality.*1 to 100/],
    [{ logRetentionDays: 10 }, /logRetentionDays.*CloudWatch's periods/],
    [{ presignExpiresSeconds: 50000 }, /presignExpiresSeconds.*43200/],
    [{ outputAccess: 'presigned', presignExpiresSeconds: 7200 }, /presignExpiresSeconds.*"7200".*at most cleanupMaxAgeSeconds \(3600\)/],
    [{ cleanupMaxAgeSeconds: 432_000, lifecycleExpirationDays: 1 }, /lifecycleExpirationDays.*"1".*at least cleanupMaxAgeSeconds \(432000 s\)/],
    [{ stateBucket: 'Bad Bucket' }, /stateBucket/],
  ])('%j', (context, message) => {
    const run = () => loadConfig(context as Record<string, unknown>, {});
    if (message === undefined) {
      // An empty value counts as unset: the default applies.
      expect(run().imagePrefix).toBe('tmp/');
      return;
    }
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
  });
});

test('a presigned link may live as long as cleanup keeps its image, not longer; a public URL has no such limit', () => {
  expect(loadConfig({ outputAccess: 'presigned', presignExpiresSeconds: 7200, cleanupMaxAgeSeconds: 7200 }, {}).presignExpiresSeconds).toBe(7200);
  expect(loadConfig({ outputAccess: 'public', presignExpiresSeconds: 7200 }, {}).presignExpiresSeconds).toBe(7200);
});

describe('bucket names', () => {
  test.each(['face-detection-images', 'a1b', 'my.bucket.name', 'x'.repeat(63)])('accepts %s', (name) => {
    expect(() => validateBucketName(name)).not.toThrow();
  });
  test.each(['UPPER', 'x'.repeat(64), '-start', 'end-', 'under_score', 'bucket-s3alias', 'sthree-x'])('refuses %s', (name) => {
    expect(() => validateBucketName(name)).toThrow(ConfigError);
  });
});

describe('schedules', () => {
  test.each([
    ['rate(1 minute)', 60_000],
    ['rate(5 minutes)', 300_000],
    ['rate(1 hour)', 3_600_000],
    ['rate(2 hours)', 7_200_000],
    ['rate(1 day)', 86_400_000],
    ['rate(7 days)', 604_800_000],
    ['rate(0 hours)', undefined],
    ['rate(1 hours)', undefined],
    ['rate(3 hour)', undefined],
    ['cron(0 * * * ? *)', undefined],
  ])('%s: period %p ms (what npm run serve runs cleanup at; a cron runs only on AWS)', (expression, ms) => {
    expect(rateMs(expression)).toBe(ms);
  });

  test('a cron expression is a valid schedule', () => {
    expect(loadConfig({ cleanupSchedule: 'cron(0 3 * * ? *)' }, {}).cleanupSchedule).toBe('cron(0 3 * * ? *)');
  });
});

test('a construct gets exactly the settings it names', () => {
  const config = loadConfig({ jpegQuality: 70 }, {});
  expect(pickSettings(config, ['jpegQuality', 'stackName'])).toEqual({ jpegQuality: 70, stackName: 'face-detection' });
});
