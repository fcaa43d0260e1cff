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

describe('uploads: detect-faces reads only inputs, writes and deletes only outputs and results, lists only those prefixes, receives only from its queue', () => {
  const { parsed } = synthStack();
  const base = { principal: roleArn('face-detection-detect-faces-role'), identityPolicy: rolePolicy(parsed, 'face-detection-detect-faces-role') };
  const queue = `arn:aws:sqs:us-east-1:${ACCOUNT}:face-detection-uploads`;

  test.each([
    ['s3:GetObject', 'inputs/a/b.jpg', 'Allowed'],
    ['s3:GetObject', 'inputsfoo/b.jpg', 'ImplicitlyDenied'],
    // Conditional writes read what is there (HeadObject) first.
    ['s3:GetObject', 'results/a/b.jpg.json', 'Allowed'],
    ['s3:GetObject', 'outputs/a/b.jpg', 'Allowed'],
    ['s3:GetObject', 'tmp/x.jpg', 'ImplicitlyDenied'],
    ['s3:PutObject', 'results/a/b.jpg.json', 'Allowed'],
    ['s3:PutObject', 'outputs/a/b.jpg', 'Allowed'],
    ['s3:PutObject', 'tmp/2026-x.jpg', 'Allowed'],
    ['s3:PutObject', 'inputs/a/b.jpg', 'ImplicitlyDenied'],
    ['s3:PutObject', 'resultsfoo/x.json', 'ImplicitlyDenied'],
    ['s3:PutObject', 'outputsfoo/x.jpg', 'ImplicitlyDenied'],
    ['s3:DeleteObject', 'inputs/a/b.jpg', 'ImplicitlyDenied'],
    ['s3:DeleteObject', 'results/a/b.jpg.json', 'Allowed'],
    ['s3:DeleteObject', 'outputs/a/b.jpg', 'Allowed'],
    ['s3:DeleteObject', 'tmp/x.jpg', 'ImplicitlyDenied'],
  ])('%s %s -> %s', async (action, key, expected) => {
    expect(await decide({ ...base, action, resource: `${BUCKET_ARN}/${key}` })).toBe(expected);
  });

  // With ListBucket S3 answers a missing key with 404 (gone), not 403 (a failure to retry).
  test.each([
    ['inputs/', 'Allowed'],
    ['inputs/a/b.jpg', 'Allowed'],
    ['outputs/a/', 'Allowed'],
    ['results/a/b.jpg.json', 'Allowed'],
    ['tmp/', 'ImplicitlyDenied'],
    ['', 'ImplicitlyDenied'],
    ['artifacts/', 'ImplicitlyDenied'],
  ])('s3:ListBucket with prefix %j -> %s', async (prefix, expected) => {
    expect(await decide({ ...base, action: 's3:ListBucket', resource: BUCKET_ARN, context: { 's3:prefix': prefix } })).toBe(expected);
  });

  test.each([
    ['sqs:ReceiveMessage', queue, 'Allowed'],
    ['sqs:DeleteMessage', queue, 'Allowed'],
    ['sqs:GetQueueAttributes', queue, 'Allowed'],
    // A failed message is given when it comes back, on its own queue only.
    ['sqs:ChangeMessageVisibility', queue, 'Allowed'],
    ['sqs:ChangeMessageVisibility', `${queue}-dead-letters`, 'ImplicitlyDenied'],
    // A deferred message goes back as a new one; a poison one to the dead letters, once.
    ['sqs:SendMessage', queue, 'Allowed'],
    ['sqs:SendMessage', `${queue}-dead-letters`, 'Allowed'],
    ['sqs:SendMessage', `arn:aws:sqs:us-east-1:${ACCOUNT}:face-detection-cleanup-dead-letters`, 'ImplicitlyDenied'],
    ['sqs:ReceiveMessage', `${queue}-dead-letters`, 'ImplicitlyDenied'],
    ['sqs:PurgeQueue', queue, 'ImplicitlyDenied'],
  ])('%s on %s -> %s', async (action, resource, expected) => {
    expect(await decide({ ...base, action, resource })).toBe(expected);
  });
});

describe('upload queue policy: only S3, for this bucket in this account, may send', () => {
  const { parsed } = synthStack();
  const queue = `arn:aws:sqs:us-east-1:${ACCOUNT}:face-detection-uploads`;
  const queuePolicy = policyFromRef(parsed, only(parsed, 'aws_sqs_queue_policy').policy);
  const send = (principal: Ask['principal'], context: Ask['context'] = {}, identityPolicy?: object) =>
    decide({ principal, action: 'sqs:SendMessage', resource: queue, resourcePolicy: queuePolicy, identityPolicy, context });

  test('S3 notifying for this bucket, from this account: allowed', async () => {
    expect(await send('s3.amazonaws.com', { 'aws:SourceArn': BUCKET_ARN, 'aws:SourceAccount': ACCOUNT })).toBe('Allowed');
  });

  test.each([
    ['S3 for another bucket', 's3.amazonaws.com', { 'aws:SourceArn': 'arn:aws:s3:::someone-elses-bucket', 'aws:SourceAccount': ACCOUNT }],
    ['S3 for a bucket of this name in another account', 's3.amazonaws.com', { 'aws:SourceArn': BUCKET_ARN, 'aws:SourceAccount': '444455556666' }],
    ['S3 without a source', 's3.amazonaws.com', {}],
    ['another service', 'sns.amazonaws.com', { 'aws:SourceArn': BUCKET_ARN, 'aws:SourceAccount': ACCOUNT }],
    ['a role of another account', 'arn:aws:iam::444455556666:role/anyone', {}],
  ])('%s: denied', async (_name, principal, context) => {
    expect(await send(principal, context)).not.toBe('Allowed');
  });

  test('anonymous: denied', async () => {
    expect(await send(anonymousPrincipal)).not.toBe('Allowed');
  });

  test.each(['face-detection-cleanup-role', 'face-detection-cleanup-scheduler-role'])('%s (every other role of the stack): denied', async (role) => {
    expect(await send(roleArn(role), {}, rolePolicy(parsed, role))).toBe('ImplicitlyDenied');
  });

  test('detect-faces: allowed by its own role (a deferred message goes back as a new one), only over TLS', async () => {
    const role = 'face-detection-detect-faces-role';
    expect(await send(roleArn(role), {}, rolePolicy(parsed, role))).toBe('Allowed');
    expect(await send(roleArn(role), { 'aws:SecureTransport': 'false' }, rolePolicy(parsed, role))).toBe('ExplicitlyDenied');
  });

  test('plain HTTP is refused, even to S3', async () => {
    expect(await send('s3.amazonaws.com', { 'aws:SourceArn': BUCKET_ARN, 'aws:SourceAccount': ACCOUNT, 'aws:SecureTransport': 'false' })).toBe('ExplicitlyDenied');
  });
});

describe('web-api role: presigns uploads under inputs/, reads results/ and outputs/, lists those prefixes, nothing else', () => {
  const { parsed } = synthStack();
  const base = { principal: roleArn('face-detection-web-api-role'), identityPolicy: rolePolicy(parsed, 'face-detection-web-api-role') };
  const U = '3f1c2a9e-1b2c-4d5e-8f90-123456789abc';

  test.each([
    ['s3:PutObject', `inputs/${U}/a.jpg`, 'Allowed'],
    ['s3:PutObject', `results/${U}/a.jpg.json`, 'ImplicitlyDenied'],
    ['s3:PutObject', `outputs/${U}/a.jpg`, 'ImplicitlyDenied'],
    ['s3:PutObject', 'tmp/a.jpg', 'ImplicitlyDenied'],
    ['s3:PutObject', 'inputsx/a.jpg', 'ImplicitlyDenied'],
    ['s3:GetObject', `results/${U}/a.jpg.json`, 'Allowed'],
    ['s3:GetObject', `outputs/${U}/a.jpg`, 'Allowed'],
    ['s3:GetObject', `inputs/${U}/a.jpg`, 'ImplicitlyDenied'],
    ['s3:GetObject', 'tmp/a.jpg', 'ImplicitlyDenied'],
    ['s3:GetObject', 'artifacts/layers/x.zip', 'ImplicitlyDenied'],
    ['s3:DeleteObject', `inputs/${U}/a.jpg`, 'ImplicitlyDenied'],
    ['s3:DeleteObject', `outputs/${U}/a.jpg`, 'ImplicitlyDenied'],
    ['s3:PutObjectAcl', `inputs/${U}/a.jpg`, 'ImplicitlyDenied'],
  ])('%s %s -> %s', async (action, key, expected) => {
    expect(await decide({ ...base, action, resource: `${BUCKET_ARN}/${key}` })).toBe(expected);
  });

  test.each([
    [`inputs/${U}/`, 'Allowed'],
    [`results/${U}/a.jpg.json`, 'Allowed'],
    ['outputs/', 'ImplicitlyDenied'],
    ['tmp/', 'ImplicitlyDenied'],
    ['', 'ImplicitlyDenied'],
    ['inputsx/', 'ImplicitlyDenied'],
  ])('ListBucket with prefix %j -> %s', async (prefix, expected) => {
    expect(await decide({ ...base, action: 's3:ListBucket', resource: BUCKET_ARN, context: { 's3:prefix': prefix } })).toBe(expected);
  });

  test('ListBucket without a prefix, and any other service, are denied', async () => {
    expect(await decide({ ...base, action: 's3:ListBucket', resource: BUCKET_ARN })).toBe('ImplicitlyDenied');
    expect(await decide({ ...base, action: 'lambda:InvokeFunction', resource: functionArn('face-detection-detect-faces') })).toBe('ImplicitlyDenied');
    expect(await decide({ ...base, action: 'cognito-idp:AdminCreateUser', resource: `arn:aws:cognito-idp:us-east-1:${ACCOUNT}:userpool/us-east-1_x` })).toBe('ImplicitlyDenied');
  });
});
