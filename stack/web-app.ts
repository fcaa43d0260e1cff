/**
 * The web app (setting `webApp`): who may sign in, the HTTPS API they call, and its function.
 *   - a Cognito user pool in which only an administrator creates users (no self-sign-up), its
 *     managed login at `https://<authDomainPrefix>.auth.<region>.amazoncognito.com`, and one public
 *     app client: authorization-code flow (the page adds PKCE), callback and logout to the app only;
 *   - an API Gateway HTTP API: the page at APP_PATH (the only route without a token besides the
 *     root's redirect to it), every other route behind a JWT authorizer on that pool and client;
 *     throttled by `webApiRateLimit` / `webApiBurstLimit`;
 *   - web-api, the function behind every route: it may presign uploads under the input prefix, read
 *     result records and outputs, and list those two prefixes; nothing else in the bucket;
 *   - the bucket's CORS: the app's origin alone may POST uploads and GET outputs from a browser.
 * The page and its API share one origin (the API's address), so the API itself answers no
 * cross-origin request: browsers refuse any other origin's reads of it.
 */
import { Apigatewayv2Api } from '@cdktf/provider-aws/lib/apigatewayv2-api';
import { Apigatewayv2Authorizer } from '@cdktf/provider-aws/lib/apigatewayv2-authorizer';
import { Apigatewayv2Integration } from '@cdktf/provider-aws/lib/apigatewayv2-integration';
import { Apigatewayv2Route } from '@cdktf/provider-aws/lib/apigatewayv2-route';
import { Apigatewayv2Stage } from '@cdktf/provider-aws/lib/apigatewayv2-stage';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CognitoManagedLoginBranding } from '@cdktf/provider-aws/lib/cognito-managed-login-branding';
import { CognitoUserPool } from '@cdktf/provider-aws/lib/cognito-user-pool';
import { CognitoUserPoolClient } from '@cdktf/provider-aws/lib/cognito-user-pool-client';
import { CognitoUserPoolDomain } from '@cdktf/provider-aws/lib/cognito-user-pool-domain';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { S3BucketCorsConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-cors-configuration';
import { Construct } from 'constructs';
import { FUNCTION_BUNDLES } from '../bundling/functions';
import { toEnvironment } from '../functions/common/schema';
import { ACCESS_TOKEN_SECONDS, APP_PATH, UPLOAD_URL_SECONDS, WEB_API_ENV, WEB_API_ROUTES } from '../functions/web-api/contract';
import { defaultAuthDomainPrefix, type StackConfig } from './config';
import { NodejsFunction, type FunctionConstructProps } from './nodejs-function';

/** The stack settings the web app is built from. */
export const WEB_APP_SETTINGS = [
  'stackName', 'region', 'architecture', 'logRetentionDays', 'logLevel', 'inputPrefix', 'resultPrefix', 'outputPrefix', 'maxImageBytes', 'uploadMark',
  'webApiRateLimit', 'webApiBurstLimit', 'authDomainPrefix',
] as const satisfies readonly (keyof StackConfig)[];
export type WebAppSettings = Pick<StackConfig, (typeof WEB_APP_SETTINGS)[number]>;

/** `prebuiltZip`: web-api's. */
export interface WebAppProps extends FunctionConstructProps<WebAppSettings> {
  /** The deploying account's id (the stack looks it up once). */
  readonly accountId: string;
}

/** web-api answers in milliseconds (it signs and reads small records): a small function, a short timeout. */
export const WEB_API_MEMORY_MB = 256;
export const WEB_API_TIMEOUT_SECONDS = 10;
/** The stage's access log line (API Gateway's $context variables); the user as the token's subject, never the token. */
const ACCESS_LOG_FORMAT = {
  requestId: '$context.requestId',
  time: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  route: '$context.routeKey',
  status: '$context.status',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  sub: '$context.authorizer.claims.sub',
  authorizerError: '$context.authorizer.error',
  error: '$context.error.message',
};

/** How long a sign-in lasts before the page asks for another (the access token's validity). */
const ACCESS_TOKEN_MINUTES = ACCESS_TOKEN_SECONDS / 60;
/** Cognito's shortest refresh token validity. */
const REFRESH_TOKEN_MINUTES = 60;

export class WebApp extends Construct {
  readonly userPool: CognitoUserPool;
  readonly client: CognitoUserPoolClient;
  readonly domain: CognitoUserPoolDomain;
  readonly api: Apigatewayv2Api;
  readonly stage: Apigatewayv2Stage;
  readonly accessLogs: CloudwatchLogGroup;
  readonly fn: NodejsFunction;
  /** The page's address, `https://<api>.execute-api.<region>.amazonaws.com/app`. */
  readonly appUrl: string;
  /** Sign-in page base, `https://<prefix>.auth.<region>.amazoncognito.com`. */
  readonly authBaseUrl: string;

  constructor(scope: Construct, id: string, props: WebAppProps) {
    super(scope, id);
    const { settings: config } = props;
    const name = `${config.stackName}-web`;

    this.userPool = new CognitoUserPool(this, 'users', {
      name: `${name}-users`,
      // No self-sign-up: an administrator invites each user (the stack's invite_command output).
      adminCreateUserConfig: { allowAdminCreateUserOnly: true },
      autoVerifiedAttributes: ['email'],
      accountRecoverySetting: { recoveryMechanism: [{ name: 'verified_email', priority: 1 }] },
      passwordPolicy: { minimumLength: 12, requireLowercase: true, requireUppercase: true, requireNumbers: true, requireSymbols: false, temporaryPasswordValidityDays: 7 },
      deletionProtection: 'ACTIVE',
    });

    this.api = new Apigatewayv2Api(this, 'api', { name: `${config.stackName}-web-app`, protocolType: 'HTTP', description: 'The face-redaction web app: its page and the uploads API' });
    this.appUrl = `${this.api.apiEndpoint}${APP_PATH}`;

    this.client = new CognitoUserPoolClient(this, 'client', {
      name: `${name}-app`,
      userPoolId: this.userPool.id,
      // A browser app cannot keep a secret: a public client, with PKCE from the page.
      generateSecret: false,
      allowedOauthFlowsUserPoolClient: true,
      allowedOauthFlows: ['code'],
      allowedOauthScopes: ['openid'],
      supportedIdentityProviders: ['COGNITO'],
      callbackUrls: [this.appUrl],
      logoutUrls: [this.appUrl],
      // Sign-in happens only on the managed login page; tokens are refreshed by signing in again.
      // The page never uses the refresh token the code exchange returns: it lives Cognito's
      // shortest (60 minutes), not its default 30 days.
      explicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
      preventUserExistenceErrors: 'ENABLED',
      enableTokenRevocation: true,
      accessTokenValidity: ACCESS_TOKEN_MINUTES,
      idTokenValidity: ACCESS_TOKEN_MINUTES,
      refreshTokenValidity: REFRESH_TOKEN_MINUTES,
      tokenValidityUnits: [{ accessToken: 'minutes', idToken: 'minutes', refreshToken: 'minutes' }],
    });

    this.domain = new CognitoUserPoolDomain(this, 'domain', {
      domain: config.authDomainPrefix ?? defaultAuthDomainPrefix(config.stackName, props.accountId),
      userPoolId: this.userPool.id,
      managedLoginVersion: 2,
    });
    // Managed login (version 2) shows a client's page only once it has a style: Cognito's own.
    new CognitoManagedLoginBranding(this, 'login-style', { userPoolId: this.userPool.id, clientId: this.client.id, useCognitoProvidedValues: true });
    this.authBaseUrl = `https://${this.domain.domain}.auth.${config.region}.amazoncognito.com`;
    const issuer = `https://cognito-idp.${config.region}.amazonaws.com/${this.userPool.id}`;

    const uploads = `${props.bucketArn}/${config.inputPrefix}*`;
    this.fn = new NodejsFunction(this, 'web-api', {
      functionName: `${config.stackName}-web-api`,
      description: 'The web app: its page, presigned uploads, results and listings of the signed-in user',
      bundle: FUNCTION_BUNDLES.webApi,
      prebuiltZip: props.prebuiltZip,
      architecture: config.architecture,
      memoryMb: WEB_API_MEMORY_MB,
      timeoutSeconds: WEB_API_TIMEOUT_SECONDS,
      logRetentionDays: config.logRetentionDays,
      logLevel: config.logLevel,
      statements: [
        // A presigned POST is only as good as the signer's own permission to put the object.
        { sid: 'PresignUploads', actions: ['s3:PutObject'], resources: [uploads] },
        { sid: 'ReadResultsAndOutputs', actions: ['s3:GetObject'], resources: [`${props.bucketArn}/${config.resultPrefix}*`, `${props.bucketArn}/${config.outputPrefix}*`] },
        {
          // Listing a user's uploads, and telling a missing result (404) from a refused read.
          sid: 'ListUploadsAndResults',
          actions: ['s3:ListBucket'],
          resources: [props.bucketArn],
          conditions: [{ test: 'StringLike', variable: 's3:prefix', values: [`${config.inputPrefix}*`, `${config.resultPrefix}*`] }],
        },
      ],
      environment: webApiEnvironment(config, props.bucketName, {
        issuer,
        clientId: this.client.id,
        authorizeUrl: `${this.authBaseUrl}/oauth2/authorize`,
        tokenUrl: `${this.authBaseUrl}/oauth2/token`,
        logoutUrl: `${this.authBaseUrl}/logout`,
      }),
    });

    const authorizer = new Apigatewayv2Authorizer(this, 'authorizer', {
      apiId: this.api.id,
      name: 'signed-in',
      authorizerType: 'JWT',
      identitySources: ['$request.header.Authorization'],
      // Cognito's access tokens name their app client in client_id, which API Gateway compares with the audience.
      jwtConfiguration: { issuer, audience: [this.client.id] },
    });
    const integration = new Apigatewayv2Integration(this, 'integration', {
      apiId: this.api.id,
      integrationType: 'AWS_PROXY',
      integrationUri: this.fn.function.invokeArn,
      payloadFormatVersion: '2.0',
      timeoutMilliseconds: WEB_API_TIMEOUT_SECONDS * 1000,
    });
    for (const route of WEB_API_ROUTES) {
      new Apigatewayv2Route(this, `route-${route.key.replace(/[^A-Za-z]+/g, '-').replace(/-$/, '')}`, {
        apiId: this.api.id,
        routeKey: route.key,
        target: `integrations/${integration.id}`,
        ...(route.auth ? { authorizationType: 'JWT', authorizerId: authorizer.id } : { authorizationType: 'NONE' }),
      });
    }
    this.accessLogs = new CloudwatchLogGroup(this, 'access-logs', { name: `/aws/apigateway/${config.stackName}-web-app`, retentionInDays: config.logRetentionDays });
    this.stage = new Apigatewayv2Stage(this, 'stage', {
      apiId: this.api.id,
      name: '$default',
      autoDeploy: true,
      defaultRouteSettings: { throttlingRateLimit: config.webApiRateLimit, throttlingBurstLimit: config.webApiBurstLimit },
      // One JSON line per request, refused ones included (throttled: 429; no or bad token: 401 with the authorizer's reason).
      accessLogSettings: { destinationArn: this.accessLogs.arn, format: JSON.stringify(ACCESS_LOG_FORMAT) },
    });
    new LambdaPermission(this, 'invoke', {
      statementId: 'AllowThisHttpApi',
      action: 'lambda:InvokeFunction',
      functionName: this.fn.function.functionName,
      principal: 'apigateway.amazonaws.com',
      // This API's routes only, on any stage.
      sourceArn: `${this.api.executionArn}/*`,
    });

    new S3BucketCorsConfiguration(this, 'bucket-cors', {
      bucket: props.bucketName,
      corsRule: bucketCorsRules(this.api.apiEndpoint).map((r) => ({ allowedOrigins: [r.origin], allowedMethods: [r.method], maxAgeSeconds: r.maxAgeSeconds })),
    });
  }
}

/** The bucket's CORS for the app's origin (the stack's, and the local bucket's in `npm run serve`). */
export function bucketCorsRules(origin: string): { origin: string; method: 'POST' | 'GET'; maxAgeSeconds: number }[] {
  return [
    // The page's form POST of an upload; S3 reads the fields, no header needs allowing.
    { origin, method: 'POST', maxAgeSeconds: UPLOAD_URL_SECONDS },
    // The redacted image through its presigned GET.
    { origin, method: 'GET', maxAgeSeconds: 3600 },
  ];
}

/** Who signs users in, as web-api needs to know it: Cognito on AWS, the local issuer in `npm run serve`. */
export interface SignInService {
  readonly issuer: string;
  readonly clientId: string;
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  readonly logoutUrl?: string;
}

/** The environment web-api runs with, written by its contract; the local runner uses the same. */
export function webApiEnvironment(config: Pick<WebAppSettings, 'inputPrefix' | 'resultPrefix' | 'outputPrefix' | 'maxImageBytes' | 'uploadMark'>, bucketName: string, signIn: SignInService): Record<string, string> {
  return toEnvironment(WEB_API_ENV, {
    bucket: bucketName,
    inputPrefix: config.inputPrefix,
    resultPrefix: config.resultPrefix,
    outputPrefix: config.outputPrefix,
    maxImageBytes: config.maxImageBytes,
    uploadMark: config.uploadMark,
    ...signIn,
  });
}
