/**
 * web-api's contract, written once: its routes, what each answers, and the environment it reads.
 * The stack builds its HTTP API routes from WEB_API_ROUTES and writes the environment from
 * WEB_API_ENV; `npm run serve` routes the same requests to the same bundle locally. Dependency-free.
 */
import { S3_CLIENT_ENV } from '../common/contract';
import { int, str, type EnvSchema, type EnvValues } from '../common/schema';
import { DETECT_ENV, UPLOAD_DEFAULTS_ENV, type DetectRequestOptions, type FaceBox, type MarkMode } from '../detect-faces/contract';

/** Where the page lives (the same path on AWS and locally, so the sign-in callback is one URL shape). */
export const APP_PATH = '/app';

/**
 * Every route of the HTTP API. `auth: false` only for the page itself (it is what signs you in) and
 * the root's redirect to it; every API route takes a signed-in user's access token.
 */
export const WEB_API_ROUTES = [
  { key: 'GET /', auth: false },
  { key: `GET ${APP_PATH}`, auth: false },
  { key: 'POST /uploads', auth: true },
  { key: 'GET /uploads', auth: true },
  { key: 'GET /uploads/{id}', auth: true },
] as const;
export type WebApiRouteKey = (typeof WEB_API_ROUTES)[number]['key'];

/** The content types an upload may have, and the extension its key gets. */
export const UPLOAD_TYPES = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' } as const;
export type UploadContentType = keyof typeof UPLOAD_TYPES;

/** A presigned POST's lifetime: long enough to send a large photo on a slow line, short enough that a leaked one is soon useless. */
export const UPLOAD_URL_SECONDS = 300;

/**
 * How long a sign-in lasts: the access token's validity. The stack sets Cognito's to it, the local
 * issuer signs for it, and web-api refuses a token issued longer ago, or with no expiry.
 */
export const ACCESS_TOKEN_SECONDS = 3600;

export const WEB_API_ENV = {
  bucket: { env: 'BUCKET_NAME', ...str({ required: true, doc: 'bucket of the uploads, their results and outputs' }) },
  inputPrefix: { ...DETECT_ENV.inputPrefix, doc: 'key prefix uploads go to, `<prefix><user>/<id>` (the user: the token\'s subject); presigned POSTs are signed for these keys only' },
  resultPrefix: { ...DETECT_ENV.resultPrefix, doc: 'key prefix of the result records read back: `inputs/<user>/<id>` -> `results/<user>/<id>.json`' },
  outputPrefix: { ...DETECT_ENV.outputPrefix, doc: 'key prefix of the redacted images read back: `inputs/<user>/<id>` -> `outputs/<user>/<id>` (`.jpg` appended to other names)' },
  // The same limit detect-faces applies when it reads the upload: a larger one is refused at the door.
  maxImageBytes: { ...DETECT_ENV.maxImageBytes, doc: 'largest upload a presigned POST accepts, bytes (S3 refuses a larger file)' },
  // The deployment's default mark of uploads, as detect-faces has it: shape or padding without a mark is refused at the door where it means box.
  uploadMark: { ...UPLOAD_DEFAULTS_ENV.uploadMark, doc: "default `mark` of uploads (detect-faces' UPLOAD_MARK): options with shape or padding but no mark are refused where it is box; unset: box" },
  downloadUrlSeconds: { env: 'DOWNLOAD_URL_SECONDS', ...int(300, 60, 3600, "lifetime of the presigned GETs of a result's redacted image, seconds") },
  issuer: {
    env: 'TOKEN_ISSUER',
    ...str({ required: true, pattern: /^https?:\/\/[^\s]+[^/\s]$/, expected: 'an http(s) URL without a trailing "/"', doc: 'issuer of the access tokens (the Cognito user pool, or the local issuer); its keys are read from <issuer>/.well-known/jwks.json' }),
  },
  clientId: { env: 'TOKEN_CLIENT_ID', ...str({ required: true, doc: "the app client whose access tokens are accepted (the token's client_id)" }) },
  authorizeUrl: { env: 'AUTHORIZE_URL', ...str({ required: true, pattern: /^https?:\/\/\S+$/, expected: 'an http(s) URL', doc: "the sign-in page's authorization endpoint (code flow with PKCE)" }) },
  tokenUrl: { env: 'TOKEN_URL', ...str({ required: true, pattern: /^https?:\/\/\S+$/, expected: 'an http(s) URL', doc: 'the token endpoint the page exchanges its code at' }) },
  logoutUrl: { env: 'LOGOUT_URL', ...str({ pattern: /^https?:\/\/\S+$/, expected: 'an http(s) URL', doc: "the sign-in service's logout endpoint; unset: signing out only forgets the session's tokens" }) },
  pageSize: { env: 'PAGE_SIZE', ...int(50, 1, 1000, 'uploads per page of GET /uploads unless the request asks fewer') },
  ...S3_CLIENT_ENV,
} as const satisfies EnvSchema;

export type WebApiEnv = EnvValues<typeof WEB_API_ENV>;

/** POST /uploads: what to upload. */
export interface CreateUploadRequest {
  readonly contentType: UploadContentType;
  /** The file's size, bytes: a file over the limit is refused before it is sent. */
  readonly size?: number;
  /** Detection options, as a direct invocation takes them; stored as the object's metadata. */
  readonly options?: DetectRequestOptions;
}

/** POST /uploads answers 201 with this: send the file as a multipart form POST to `url` with `fields` first, the file last. */
export interface UploadTicket {
  readonly id: string;
  readonly url: string;
  readonly fields: Record<string, string>;
  readonly expiresAt: string;
  readonly maxBytes: number;
}

/** GET /uploads/{id} once the upload has a result record (404 before). */
export type UploadStatus =
  | {
      readonly id: string;
      readonly status: 'done';
      readonly faces: number;
      readonly boxes: FaceBox[];
      readonly width: number;
      readonly height: number;
      readonly minFaceSize: number;
      readonly mark: MarkMode;
      /** Presigned GET of the redacted image, short-lived. */
      readonly outputUrl: string;
      /** The same object as an attachment (the browser saves it). */
      readonly downloadUrl: string;
    }
  | { readonly id: string; readonly status: 'failed'; readonly error: ApiError };

/** GET /uploads: the caller's uploads, most recent first, `next` for the following (older) page. */
export interface UploadList {
  readonly uploads: { readonly id: string; readonly uploadedAt: string; readonly size: number }[];
  readonly next?: string;
}

/** The fields of API Gateway's HTTP API event (payload 2.0) this function reads. */
export interface HttpApiEvent {
  readonly routeKey: string;
  readonly rawPath?: string;
  readonly headers?: Record<string, string | undefined>;
  readonly queryStringParameters?: Record<string, string | undefined>;
  readonly pathParameters?: Record<string, string | undefined>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly requestContext?: { readonly requestId?: string };
}

export interface HttpApiResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** Every error answer's body. */
export interface ApiError {
  readonly code: string;
  readonly message: string;
}
