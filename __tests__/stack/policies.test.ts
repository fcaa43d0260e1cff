/**
 * The synthesized IAM and bucket policies, evaluated by an IAM policy simulator (not string
 * matching): each role can do exactly its job, and the public can read only marked images.
 */
import { anonymousPrincipal, runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { ACCOUNT, policyFromRef, rolePolicy } from '../helpers/iam';
import { only, synthStack, TEST_BUCKET, type SynthesizedStack } from '../helpers/stack-fixture';

const BUCKET_ARN = `arn:aws:s3:::${TEST_BUCKET}`;
const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const functionArn = (name: string) => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}`;

type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

interface Ask {
  principal: string | typeof anonymousPrincipal;
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
  identityPolicy?: object;
  resourcePolicy?: object;
  blockPublicAccess?: boolean;
}

async function decide(ask: Ask): Promise<Decision> {
  const simulation: Simulation = {
    request: {
      principal: ask.principal,
      action: ask.action,
      resource: { resource: ask.resource, accountId: ACCOUNT },
      contextVariables: { 'aws:SecureTransport': 'true', ...ask.context },
    },
    identityPolicies: ask.identityPolicy ? [{ name: 'inline', policy: ask.identityPolicy }] : [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: ask.resourcePolicy,
    additionalSettings: ask.blockPublicAccess === undefined ? undefined : { s3: { blockPublicAccess: ask.blockPublicAccess } },
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') throw new Error(`simulation rejected: ${JSON.stringify(result.errors)}`);
  return result.overallResult as Decision;
}

function bucketPolicy(stack: SynthesizedStack) {
  return policyFromRef(stack, only(stack, 'aws_s3_bucket_policy').policy);
}

/** The RestrictPublicBuckets setting the stack gives the bucket. */
function restrictPublicBuckets(stack: SynthesizedStack): boolean {
  return only(stack, 'aws_s3_bucket_public_access_block').restrict_public_buckets;
}

describe('cleanup role', () => {
  const { parsed } = synthStack();
  const policy = rolePolicy(parsed, 'face-detection-cleanup-role');
  const principal = roleArn('face-detection-cleanup-role');
  // The role's own grants, alone: in public mode the bucket policy lets everyone read tmp/*.
  const base = { principal, identityPolicy: policy };

  test.each([
    ['tmp/x.jpg', 'Allowed'],
    ['tmp/2026-01-01T00-00-00Z-abc.jpg', 'Allowed'],
    ['photos/x.jpg', 'ImplicitlyDenied'],
    ['tmpfoo/x.jpg', 'ImplicitlyDenied'],
    ['x.jpg', 'ImplicitlyDenied'],
  ])('DeleteObject %s -> %s', async (key, expected) => {
    expect(await decide({ ...base, action: 's3:DeleteObject', resource: `${BUCKET_ARN}/${key}` })).toBe(expected);
  });

  test.each([
    ['tmp/', 'Allowed'],
    ['tmp/2026', 'Allowed'],
    ['photos/', 'ImplicitlyDenied'],
    ['', 'ImplicitlyDenied'],
    ['tmpfoo/', 'ImplicitlyDenied'],
  ])('ListBucket with prefix %j -> %s', async (prefix, expected) => {
    expect(await decide({ ...base, action: 's3:ListBucket', resource: BUCKET_ARN, context: { 's3:prefix': prefix } })).toBe(expected);
  });

  test('ListBucket without any prefix is denied', async () => {
    expect(await decide({ ...base, action: 's3:ListBucket', resource: BUCKET_ARN })).toBe('ImplicitlyDenied');
  });

  test('cannot read or write images', async () => {
    expect(await decide({ ...base, action: 's3:GetObject', resource: `${BUCKET_ARN}/tmp/x.jpg` })).toBe('ImplicitlyDenied');
    expect(await decide({ ...base, action: 's3:PutObject', resource: `${BUCKET_ARN}/tmp/x.jpg` })).toBe('ImplicitlyDenied');
  });
});

describe('detect-faces role', () => {
  test.each([
    ['public', 'tmp/x.jpg', 's3:PutObject', 'Allowed'],
    ['public', 'photos/x.jpg', 's3:PutObject', 'ImplicitlyDenied'],
    ['public', 'tmp/x.jpg', 's3:GetObject', 'ImplicitlyDenied'],
    ['public', 'tmp/x.jpg', 's3:DeleteObject', 'ImplicitlyDenied'],
    ['presigned', 'tmp/x.jpg', 's3:GetObject', 'Allowed'],
    ['presigned', 'photos/x.jpg', 's3:GetObject', 'ImplicitlyDenied'],
    ['presigned', 'tmp/x.jpg', 's3:PutObject', 'Allowed'],
  ])('%s mode: %s %s -> %s', async (outputAccess, key, action, expected) => {
    const { parsed } = synthStack({ outputAccess });
    const ask = {
      principal: roleArn('face-detection-detect-faces-role'),
      identityPolicy: rolePolicy(parsed, 'face-detection-detect-faces-role'),
      action,
      resource: `${BUCKET_ARN}/${key}`,
    };
    expect(await decide(ask)).toBe(expected);
  });
});

describe('anonymous readers (bucket policy + public access block)', () => {
  test.each([
    ['public', 'tmp/a.jpg', 'Allowed'],
    ['public', 'private/a.jpg', 'ImplicitlyDenied'],
    ['public', 'tmpfoo/a.jpg', 'ImplicitlyDenied'],
    ['public', 'artifacts/layers/x.zip', 'ImplicitlyDenied'],
    ['presigned', 'tmp/a.jpg', 'ImplicitlyDenied'],
    ['presigned', 'private/a.jpg', 'ImplicitlyDenied'],
  ])('%s mode: GetObject %s -> %s', async (outputAccess, key, expected) => {
    const { parsed } = synthStack({ outputAccess });
    const ask = {
      principal: anonymousPrincipal,
      action: 's3:GetObject',
      resource: `${BUCKET_ARN}/${key}`,
      resourcePolicy: bucketPolicy(parsed),
      blockPublicAccess: restrictPublicBuckets(parsed),
    };
    expect(await decide(ask)).toBe(expected);
  });

  test('anonymous cannot list, write or delete', async () => {
    const { parsed } = synthStack();
    const base = { principal: anonymousPrincipal, resourcePolicy: bucketPolicy(parsed), blockPublicAccess: restrictPublicBuckets(parsed) };
    expect(await decide({ ...base, action: 's3:ListBucket', resource: BUCKET_ARN, context: { 's3:prefix': 'tmp/' } })).toBe('ImplicitlyDenied');
    expect(await decide({ ...base, action: 's3:PutObject', resource: `${BUCKET_ARN}/tmp/a.jpg` })).toBe('ImplicitlyDenied');
    expect(await decide({ ...base, action: 's3:DeleteObject', resource: `${BUCKET_ARN}/tmp/a.jpg` })).toBe('ImplicitlyDenied');
  });

  test('plain HTTP is refused even for public images', async () => {
    const { parsed } = synthStack();
    const ask = {
      principal: anonymousPrincipal,
      action: 's3:GetObject',
      resource: `${BUCKET_ARN}/tmp/a.jpg`,
      resourcePolicy: bucketPolicy(parsed),
      blockPublicAccess: false,
      context: { 'aws:SecureTransport': 'false' },
    };
    expect(await decide(ask)).toBe('ExplicitlyDenied');
  });
});

describe('scheduler role', () => {
  const { parsed } = synthStack();
  const base = {
    principal: roleArn('face-detection-cleanup-scheduler-role'),
    identityPolicy: rolePolicy(parsed, 'face-detection-cleanup-scheduler-role'),
  };

  test.each([
    [functionArn('face-detection-cleanup'), 'Allowed'],
    [functionArn('face-detection-detect-faces'), 'ImplicitlyDenied'],
    [functionArn('some-other-function'), 'ImplicitlyDenied'],
  ])('InvokeFunction %s -> %s', async (resource, expected) => {
    expect(await decide({ ...base, action: 'lambda:InvokeFunction', resource })).toBe(expected);
  });

  test('can send only to its dead-letter queue and touch nothing in S3', async () => {
    const queue = `arn:aws:sqs:us-east-1:${ACCOUNT}:face-detection-cleanup-dead-letters`;
    expect(await decide({ ...base, action: 'sqs:SendMessage', resource: queue })).toBe('Allowed');
    expect(await decide({ ...base, action: 'sqs:SendMessage', resource: `${queue}-other` })).toBe('ImplicitlyDenied');
    expect(await decide({ ...base, action: 's3:DeleteObject', resource: `${BUCKET_ARN}/tmp/x.jpg` })).toBe('ImplicitlyDenied');
  });
});
