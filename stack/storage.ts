/**
 * The bucket: marked images, uploads, their redacted images and result records. Encrypted,
 * owner-enforced, private except (in public mode) a read grant on the image prefix (direct calls'
 * images; uploads' outputs stay private); lifecycle rules expire marked images (behind the hourly
 * cleanup, which touches only the image prefix), uploads, their outputs and result records.
 */
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { Construct } from 'constructs';
import type { OutputAccess } from './config';
import { policyDocument, type PolicyStatement } from './policy';

export interface StorageProps {
  /** Exact name; absent: Terraform makes a unique one from `bucketPrefix`. */
  readonly bucketName?: string;
  readonly bucketPrefix: string;
  readonly imagePrefix: string;
  readonly outputAccess: OutputAccess;
  readonly lifecycleExpirationDays: number;
  /** Uploads processed on their own, and their result records (upload-trigger.ts). */
  readonly inputPrefix: string;
  readonly resultPrefix: string;
  /** Redacted images of uploads: kept as long as their records, never touched by the hourly cleanup. */
  readonly outputPrefix: string;
  readonly inputLifecycleDays: number;
  readonly resultLifecycleDays: number;
  readonly outputLifecycleDays: number;
}

export class Storage extends Construct {
  readonly bucket: S3Bucket;
  readonly policy: S3BucketPolicy;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const isPublic = props.outputAccess === 'public';

    this.bucket = new S3Bucket(this, 'bucket', props.bucketName ? { bucket: props.bucketName } : { bucketPrefix: props.bucketPrefix });

    new S3BucketOwnershipControls(this, 'ownership', {
      bucket: this.bucket.id,
      rule: { objectOwnership: 'BucketOwnerEnforced' },
    });

    new S3BucketServerSideEncryptionConfigurationA(this, 'encryption', {
      bucket: this.bucket.id,
      // SSE-S3: anonymous readers of public objects cannot use a KMS key.
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' }, bucketKeyEnabled: true }],
    });

    // ACLs never grant anything; only the bucket policy's own grant may be public (public mode).
    const publicAccess = new S3BucketPublicAccessBlock(this, 'public-access', {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      ignorePublicAcls: true,
      blockPublicPolicy: !isPublic,
      restrictPublicBuckets: !isPublic,
    });

    new S3BucketLifecycleConfiguration(this, 'lifecycle', {
      bucket: this.bucket.id,
      rule: [
        {
          id: 'expire-marked-images',
          status: 'Enabled',
          filter: [{ prefix: props.imagePrefix }],
          expiration: [{ days: props.lifecycleExpirationDays }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
        },
        {
          id: 'expire-inputs',
          status: 'Enabled',
          filter: [{ prefix: props.inputPrefix }],
          expiration: [{ days: props.inputLifecycleDays }],
          // Large photos come as multipart uploads (the AWS CLI above 8 MB); abandoned parts cost too.
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
        },
        {
          id: 'expire-results',
          status: 'Enabled',
          filter: [{ prefix: props.resultPrefix }],
          expiration: [{ days: props.resultLifecycleDays }],
        },
        {
          id: 'expire-outputs',
          status: 'Enabled',
          filter: [{ prefix: props.outputPrefix }],
          expiration: [{ days: props.outputLifecycleDays }],
        },
      ],
    });

    const statements: PolicyStatement[] = [
      {
        sid: 'DenyInsecureTransport',
        effect: 'Deny',
        actions: ['s3:*'],
        resources: [this.bucket.arn, `${this.bucket.arn}/*`],
        principals: [{ type: '*', identifiers: ['*'] }],
        conditions: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
      },
    ];
    if (isPublic) {
      statements.push({
        sid: 'PublicReadMarkedImages',
        actions: ['s3:GetObject'],
        resources: [`${this.bucket.arn}/${props.imagePrefix}*`],
        principals: [{ type: '*', identifiers: ['*'] }],
      });
    }
    const document = policyDocument(this, 'policy-document', statements);
    this.policy = new S3BucketPolicy(this, 'policy', {
      bucket: this.bucket.id,
      policy: document.json,
      // S3 refuses a public policy while the access block still blocks it.
      dependsOn: [publicAccess],
    });
  }
}
