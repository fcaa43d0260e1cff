/**
 * A Node.js 24 Lambda function, bundled from its TypeScript entry at synth, with its own role, its
 * own log group and only the permissions given.
 */
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { Construct } from 'constructs';
import { BUNDLE_DIR, bundleFunction, type FunctionBundle } from '../bundling/functions';
import type { LogLevel } from '../functions/common/contract';
import { LAMBDA_RUNTIME, type LayerArch } from '../layer/inputs';
import { Artifact } from './artifact';
import { assumeRolePolicy, policyDocument, type PolicyStatement } from './policy';

export interface NodejsFunctionProps {
  readonly functionName: string;
  readonly description: string;
  /** What to bundle (esbuild, once, while the app synthesizes), as CDK's NodejsFunction does. */
  readonly bundle: FunctionBundle;
  /** A zip built beforehand, deployed instead of bundling (tests, or a build of your own). @default bundle at synth */
  readonly prebuiltZip?: string;
  /** @default "index.handler" */
  readonly handler?: string;
  readonly memoryMb: number;
  readonly architecture: LayerArch;
  readonly timeoutSeconds: number;
  readonly environment: Record<string, string>;
  readonly layers?: string[];
  readonly logRetentionDays: number;
  /** Lambda's application log level: Lambda filters by it and hands it to the code as AWS_LAMBDA_LOG_LEVEL. */
  readonly logLevel: LogLevel;
  /** What the function may do besides writing its own logs. */
  readonly statements: PolicyStatement[];
}

/** What the stack gives a construct that deploys a function of its own: its settings, its code, the bucket. */
export interface FunctionConstructProps<Settings> {
  readonly settings: Settings;
  /** A prebuilt zip to deploy; absent: bundled from source at synth. */
  readonly prebuiltZip?: string;
  readonly bucketName: string;
  readonly bucketArn: string;
}

export class NodejsFunction extends Construct {
  readonly function: LambdaFunction;
  readonly role: IamRole;
  /** The role's permissions (what depends on them, e.g. an event source mapping, waits for it). */
  readonly policy: IamRolePolicy;
  readonly logGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: NodejsFunctionProps) {
    super(scope, id);
    const zipPath = props.prebuiltZip ?? bundleFunction(props.bundle, BUNDLE_DIR).zip;
    const code = new Artifact(this, 'code', { zipPath, buildCommand: 'npm run build:functions' });

    // Created by the stack (not by Lambda on first write) so retention applies and destroy removes it.
    this.logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: `/aws/lambda/${props.functionName}`,
      retentionInDays: props.logRetentionDays,
    });

    this.role = new IamRole(this, 'role', {
      name: `${props.functionName}-role`,
      assumeRolePolicy: assumeRolePolicy(this, 'trust', 'lambda.amazonaws.com').json,
    });
    const permissions = policyDocument(this, 'permissions', [
      {
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [`${this.logGroup.arn}:*`],
      },
      ...props.statements,
    ]);
    this.policy = new IamRolePolicy(this, 'policy', { name: `${props.functionName}-policy`, role: this.role.id, policy: permissions.json });

    this.function = new LambdaFunction(this, 'function', {
      functionName: props.functionName,
      description: props.description,
      runtime: LAMBDA_RUNTIME.name,
      architectures: [props.architecture],
      handler: props.handler ?? 'index.handler',
      filename: code.asset.path,
      sourceCodeHash: code.sourceCodeHash,
      memorySize: props.memoryMb,
      timeout: props.timeoutSeconds,
      role: this.role.arn,
      layers: props.layers,
      environment: { variables: props.environment },
      // JSON: the format in which Lambda applies a log level and hands it to the code as
      // AWS_LAMBDA_LOG_LEVEL, which the functions' logger follows (its lines are JSON either way).
      loggingConfig: { logFormat: 'JSON', applicationLogLevel: props.logLevel.toUpperCase(), logGroup: this.logGroup.name },
      dependsOn: [this.logGroup],
    });
  }
}
