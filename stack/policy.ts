/** IAM policy documents as Terraform data sources: readable statements in the HCL a reviewer sees. */
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { Construct } from 'constructs';

export interface PolicyStatement {
  readonly sid: string;
  /** @default "Allow" */
  readonly effect?: 'Allow' | 'Deny';
  readonly actions: string[];
  /** Absent for trust policies, whose subject is the role itself. */
  readonly resources?: string[];
  readonly principals?: { type: string; identifiers: string[] }[];
  readonly conditions?: { test: string; variable: string; values: string[] }[];
}

export function policyDocument(scope: Construct, id: string, statements: PolicyStatement[]): DataAwsIamPolicyDocument {
  return new DataAwsIamPolicyDocument(scope, id, {
    statement: statements.map((s) => ({
      sid: s.sid,
      effect: s.effect ?? 'Allow',
      actions: s.actions,
      resources: s.resources,
      principals: s.principals,
      condition: s.conditions,
    })),
  });
}

/** Trust policy letting one AWS service assume a role, optionally only on behalf of this account. */
export function assumeRolePolicy(scope: Construct, id: string, service: string, sourceAccount?: string): DataAwsIamPolicyDocument {
  return policyDocument(scope, id, [
    {
      sid: 'AssumeByService',
      actions: ['sts:AssumeRole'],
      principals: [{ type: 'Service', identifiers: [service] }],
      conditions: sourceAccount ? [{ test: 'StringEquals', variable: 'aws:SourceAccount', values: [sourceAccount] }] : undefined,
    },
  ]);
}
