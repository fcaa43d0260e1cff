import 'cdktf/lib/testing/adapters/jest';
/** The web app as synthesized: who may sign in and how, the API's routes behind the authorizer, throttling, CORS, outputs. */
import { Apigatewayv2Api } from '@cdktf/provider-aws/lib/apigatewayv2-api';
import { Apigatewayv2Authorizer } from '@cdktf/provider-aws/lib/apigatewayv2-authorizer';
import { Apigatewayv2Integration } from '@cdktf/provider-aws/lib/apigatewayv2-integration';
import { Apigatewayv2Stage } from '@cdktf/provider-aws/lib/apigatewayv2-stage';
import { CognitoUserPool } from '@cdktf/provider-aws/lib/cognito-user-pool';
import { CognitoUserPoolClient } from '@cdktf/provider-aws/lib/cognito-user-pool-client';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { settingsFromEnv } from '../../functions/common/settings';
import { ACCESS_TOKEN_SECONDS, APP_PATH, WEB_API_ENV, WEB_API_ROUTES } from '../../functions/web-api/contract';
import { only, synthStack } from '../helpers/stack-fixture';

const { json, parsed } = synthStack();
const ref = (type: string) => {
  const [id] = Object.keys(parsed.resource[type]);
  return id;
};
const api = () => ref('aws_apigatewayv2_api');
const webApi = () => Object.values(parsed.resource.aws_lambda_function).find((f) => f.function_name === 'face-detection-web-api')!;

test('the user pool: only administrators create users', () => {
  expect(json).toHaveResourceWithProperties(CognitoUserPool, { name: 'face-detection-web-users', admin_create_user_config: { allow_admin_create_user_only: true } });
});

test('the app client: public, code flow only (the page adds PKCE), openid, callback and logout to the app alone', () => {
  expect(json).toHaveResourceWithProperties(CognitoUserPoolClient, {
    generate_secret: false,
    allowed_oauth_flows_user_pool_client: true,
    allowed_oauth_flows: ['code'],
    allowed_oauth_scopes: ['openid'],
    supported_identity_providers: ['COGNITO'],
    callback_urls: [`\${aws_apigatewayv2_api.${api()}.api_endpoint}${APP_PATH}`],
    logout_urls: [`\${aws_apigatewayv2_api.${api()}.api_endpoint}${APP_PATH}`],
    explicit_auth_flows: ['ALLOW_REFRESH_TOKEN_AUTH'],
    prevent_user_existence_errors: 'ENABLED',
    // A sign-in lasts ACCESS_TOKEN_SECONDS (web-api refuses older tokens); the refresh token the
    // page never uses lives Cognito's shortest, not 30 days.
    access_token_validity: ACCESS_TOKEN_SECONDS / 60,
    id_token_validity: ACCESS_TOKEN_SECONDS / 60,
    refresh_token_validity: 60,
    token_validity_units: [{ access_token: 'minutes', id_token: 'minutes', refresh_token: 'minutes' }],
  });
  const client = only(parsed, 'aws_cognito_user_pool_client');
  expect(client.allowed_oauth_flows).not.toContain('implicit');
  expect(only(parsed, 'aws_cognito_user_pool_domain')).toMatchObject({ managed_login_version: 2, domain: expect.stringMatching(/^face-detection-\$\{data\.aws_caller_identity\..*\.account_id\}$/) });
  expect(only(synthStack({ authDomainPrefix: 'faces-team' }).parsed, 'aws_cognito_user_pool_domain').domain).toBe('faces-team');
  expect(() => synthStack({ authDomainPrefix: 'my-cognito-app' })).toThrow(/invalid authDomainPrefix .*without "aws", "amazon" or "cognito"/);
});

test('the HTTP API: a JWT authorizer on the pool and the app client', () => {
  expect(json).toHaveResourceWithProperties(Apigatewayv2Api, { name: 'face-detection-web-app', protocol_type: 'HTTP' });
  expect(json).toHaveResourceWithProperties(Apigatewayv2Authorizer, {
    authorizer_type: 'JWT',
    identity_sources: ['$request.header.Authorization'],
    jwt_configuration: {
      issuer: `https://cognito-idp.us-east-1.amazonaws.com/\${aws_cognito_user_pool.${ref('aws_cognito_user_pool')}.id}`,
      audience: [`\${aws_cognito_user_pool_client.${ref('aws_cognito_user_pool_client')}.id}`],
    },
  });
  expect(json).toHaveResourceWithProperties(Apigatewayv2Integration, { integration_type: 'AWS_PROXY', payload_format_version: '2.0', integration_uri: expect.stringMatching(/^\$\{aws_lambda_function\.web-app_web-api.*\.invoke_arn\}$/) });
});

test('every route of the contract; all but the page and its redirect need a signed-in user', () => {
  const routes = Object.values(parsed.resource.aws_apigatewayv2_route);
  const authorizer = `\${aws_apigatewayv2_authorizer.${ref('aws_apigatewayv2_authorizer')}.id}`;
  expect(routes.map((r) => r.route_key).sort()).toEqual(WEB_API_ROUTES.map((r) => r.key).sort());
  for (const r of routes) {
    const signedIn = r.route_key.includes('/uploads');
    expect(r).toMatchObject(signedIn ? { authorization_type: 'JWT', authorizer_id: authorizer } : { authorization_type: 'NONE' });
    expect(r.target).toMatch(/^integrations\/\$\{aws_apigatewayv2_integration\./);
  }
});

test('access logs: one JSON line per request to the API\'s own log group, kept as long as the functions\' logs', () => {
  const stage = only(parsed, 'aws_apigatewayv2_stage');
  const [groupId, group] = Object.entries(parsed.resource.aws_cloudwatch_log_group).find(([, g]) => g.name === '/aws/apigateway/face-detection-web-app')!;
  expect(group.retention_in_days).toBe(14);
  expect(stage.access_log_settings.destination_arn).toBe(`\${aws_cloudwatch_log_group.${groupId}.arn}`);
  const format = JSON.parse(stage.access_log_settings.format) as Record<string, string>;
  expect(format).toMatchObject({ route: '$context.routeKey', status: '$context.status', sub: '$context.authorizer.claims.sub', authorizerError: '$context.authorizer.error' });
  expect(Object.values(format).join(' ')).not.toMatch(/authorization|header/i);
});

test('throttling: rate and burst from the settings', () => {
  expect(json).toHaveResourceWithProperties(Apigatewayv2Stage, { name: '$default', auto_deploy: true, default_route_settings: { throttling_rate_limit: 20, throttling_burst_limit: 40 } });
  expect(synthStack({ webApiRateLimit: 5, webApiBurstLimit: 7 }).json).toHaveResourceWithProperties(Apigatewayv2Stage, { default_route_settings: { throttling_rate_limit: 5, throttling_burst_limit: 7 } });
  expect(() => synthStack({ webApiRateLimit: 0 })).toThrow(/invalid webApiRateLimit/);
});

test('CORS: the bucket lets the app\'s origin alone POST uploads and GET outputs; the API answers no other origin', () => {
  const cors = only(parsed, 'aws_s3_bucket_cors_configuration');
  const origin = `\${aws_apigatewayv2_api.${api()}.api_endpoint}`;
  expect(cors.cors_rule).toEqual([
    expect.objectContaining({ allowed_origins: [origin], allowed_methods: ['POST'] }),
    expect.objectContaining({ allowed_origins: [origin], allowed_methods: ['GET'] }),
  ]);
  expect(only(parsed, 'aws_apigatewayv2_api').cors_configuration).toBeUndefined();
});

test('API Gateway may invoke web-api for this API only', () => {
  expect(json).toHaveResourceWithProperties(LambdaPermission, { principal: 'apigateway.amazonaws.com', action: 'lambda:InvokeFunction', source_arn: `\${aws_apigatewayv2_api.${api()}.execution_arn}/*` });
});

test('web-api: small and quick, no layer; its environment parses back with its contract', () => {
  const fn = webApi();
  expect(fn).toMatchObject({ runtime: 'nodejs24.x', memory_size: 256, timeout: 10, handler: 'index.handler' });
  expect(fn.layers).toBeUndefined();
  const env = settingsFromEnv(WEB_API_ENV, fn.environment.variables);
  expect(env).toMatchObject({ inputPrefix: 'inputs/', resultPrefix: 'results/', outputPrefix: 'outputs/', maxImageBytes: 10485760, downloadUrlSeconds: 300 });
  expect(env.authorizeUrl).toMatch(/^https:\/\/\$\{aws_cognito_user_pool_domain\..*\.domain\}\.auth\.us-east-1\.amazoncognito\.com\/oauth2\/authorize$/);
});

test('outputs: the app\'s address and the command that invites a user', () => {
  expect(parsed.output.app_url.value).toBe(`\${aws_apigatewayv2_api.${api()}.api_endpoint}${APP_PATH}`);
  expect(parsed.output.invite_command.value).toMatch(/^aws cognito-idp admin-create-user --region us-east-1 --user-pool-id \$\{aws_cognito_user_pool\..*\.id\} --username NAME /);
});

test('webApp=false: none of it', () => {
  const off = synthStack({ webApp: false }).parsed;
  const types = Object.keys(off.resource);
  for (const type of ['aws_cognito_user_pool', 'aws_cognito_user_pool_client', 'aws_apigatewayv2_api', 'aws_s3_bucket_cors_configuration', 'aws_lambda_permission']) expect(types).not.toContain(type);
  expect(Object.values(off.resource.aws_lambda_function).map((f) => f.function_name)).not.toContain('face-detection-web-api');
});

test('the upload prefixes reach web-api\'s environment and its role', () => {
  const custom = synthStack({ inputPrefix: 'in/', resultPrefix: 'done/', outputPrefix: 'redacted/' }).parsed;
  const fn = Object.values(custom.resource.aws_lambda_function).find((f) => f.function_name === 'face-detection-web-api')!;
  expect(settingsFromEnv(WEB_API_ENV, fn.environment.variables)).toMatchObject({ inputPrefix: 'in/', resultPrefix: 'done/', outputPrefix: 'redacted/' });
  const statements = Object.values(custom.data.aws_iam_policy_document).flatMap((d) => d.statement as { sid: string; resources?: string[]; condition?: { values: string[] }[] }[]);
  expect(statements.find((s) => s.sid === 'PresignUploads')!.resources).toEqual([expect.stringMatching(/\/in\/\*$/)]);
  expect(statements.find((s) => s.sid === 'ReadResultsAndOutputs')!.resources).toEqual([expect.stringMatching(/\/done\/\*$/), expect.stringMatching(/\/redacted\/\*$/)]);
  expect(statements.find((s) => s.sid === 'ListUploadsAndResults')!.condition![0].values).toEqual(['in/*', 'done/*']);
});
