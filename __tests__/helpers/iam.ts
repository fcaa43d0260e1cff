/**
 * Turns the synthesized `aws_iam_policy_document` data sources into IAM JSON policies, with
 * Terraform references replaced by concrete ARNs, so a policy simulator can evaluate them.
 * The conversion is the one the AWS provider does (actions -> Action, condition blocks -> Condition, ...).
 */
import type { SynthesizedStack } from './stack-fixture';

export const ACCOUNT = '111122223333';
export const REGION = 'us-east-1';

type Doc = Record<string, any>;

export function resolveRefs(stack: SynthesizedStack, value: string): string {
  const out = value.replace(/\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}/g, (whole, isData, type, id, attr) => {
    const block = isData ? stack.data[type]?.[id] : stack.resource[type]?.[id];
    if (!block) throw new Error(`unresolvable reference ${whole}`);
    const key = `${type}.${attr}`;
    switch (key) {
      case 'aws_s3_bucket.arn':
        return `arn:aws:s3:::${block.bucket}`;
      case 'aws_s3_bucket.id':
        return block.bucket;
      case 'aws_cloudwatch_log_group.arn':
        return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${block.name}`;
      case 'aws_lambda_function.arn':
        return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${block.function_name}`;
      case 'aws_sqs_queue.arn':
        return `arn:aws:sqs:${REGION}:${ACCOUNT}:${block.name}`;
      case 'aws_caller_identity.account_id':
        return ACCOUNT;
      default:
        throw new Error(`no test value for ${whole}`);
    }
  });
  if (out.includes('${')) throw new Error(`unresolved expression left in ${out}`);
  return out;
}

export function toIamPolicy(stack: SynthesizedStack, doc: Doc): { Version: string; Statement: any[] } {
  const r = (v: string) => resolveRefs(stack, v);
  return {
    Version: '2012-10-17',
    Statement: (doc.statement as any[]).map((s) => {
      const statement: Record<string, unknown> = { Sid: s.sid, Effect: s.effect ?? 'Allow', Action: s.actions };
      if (s.resources?.length) statement.Resource = s.resources.map(r);
      if (s.principals?.length) {
        const p = s.principals[0];
        statement.Principal = p.type === '*' ? '*' : { [p.type]: p.identifiers };
      }
      if (s.condition?.length) {
        const condition: Record<string, Record<string, string[]>> = {};
        for (const c of s.condition) (condition[c.test] ??= {})[c.variable] = c.values.map(r);
        statement.Condition = condition;
      }
      return statement;
    }),
  };
}

/** Follows `"${data.aws_iam_policy_document.X.json}"` to the data source it names. */
export function policyFromRef(stack: SynthesizedStack, ref: string): { Version: string; Statement: any[] } {
  const m = /^\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json\}$/.exec(ref);
  if (!m) throw new Error(`not a policy document reference: ${ref}`);
  return toIamPolicy(stack, stack.data.aws_iam_policy_document[m[1]]);
}

/** The inline policy attached to the role with this name. */
export function rolePolicy(stack: SynthesizedStack, roleName: string): { Version: string; Statement: any[] } {
  const [roleId] = Object.entries(stack.resource.aws_iam_role).find(([, role]) => role.name === roleName) ?? [];
  if (!roleId) throw new Error(`no role named ${roleName}`);
  const attached = Object.values(stack.resource.aws_iam_role_policy).filter((p) => p.role === `\${aws_iam_role.${roleId}.id}`);
  if (attached.length !== 1) throw new Error(`expected one inline policy on ${roleName}, found ${attached.length}`);
  return policyFromRef(stack, attached[0].policy);
}
