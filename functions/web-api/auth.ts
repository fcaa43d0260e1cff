/**
 * Who is calling: the access token in `Authorization: Bearer ...`, checked with jose against the
 * issuer's published keys, as API Gateway's JWT authorizer checks it in front of this function
 * (signature by a key of the issuer, RS256, `iss`, `exp`/`nbf`, and the app client), plus what a
 * Cognito access token says of itself (`token_use: access`). The function checks it again rather
 * than trusting the request's claims: the same code then guards the API on AWS and in
 * `npm run serve`, whose issuer is local, and a route added without the authorizer is still closed.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { ACCESS_TOKEN_SECONDS } from './contract';
import { ApiFailure } from './failures';

export interface TokenCheck {
  readonly issuer: string;
  readonly clientId: string;
  /** The issuer's signing keys (remoteKeys on Lambda; a local key set in tests). */
  readonly keys: JWTVerifyGetKey;
}

/** The issuer's JSON Web Key Set, fetched on first use and cached by jose for the container's life. */
export function remoteKeys(issuer: string): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`), { timeoutDuration: 3_000 });
}

export interface Caller {
  /** The token's subject: the one thing that says whose uploads these are. */
  readonly sub: string;
  readonly username?: string;
}

const unauthorized = (message: string) => new ApiFailure(401, 'Unauthorized', message);

/**
 * jose's errors that are the token's own fault: its form, algorithm, signature, claims, or a key id
 * the issuer's set does not hold. Any other failure is in reading the issuer's keys (a timeout, a
 * 5xx or 429, a page that is not a key set: jose says ERR_JOSE_GENERIC or ERR_JWKS_INVALID) and is
 * not the caller's: a 401 would make the page drop a good session. Told apart by their codes, not
 * by class: two copies of jose in one process (ESM and CommonJS) have classes of their own.
 */
const TOKEN_FAULTS: ReadonlySet<string> = new Set([
  errors.JWTClaimValidationFailed,
  errors.JWTExpired,
  errors.JWTInvalid,
  errors.JWSInvalid,
  errors.JWSSignatureVerificationFailed,
  errors.JOSEAlgNotAllowed,
  errors.JOSENotSupported,
  errors.JWKSNoMatchingKey,
  errors.JWKSMultipleMatchingKeys,
].map((fault) => fault.code));

export async function verifyCaller(authorization: string | undefined, check: TokenCheck): Promise<Caller> {
  const match = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)\s*$/i.exec(authorization ?? '');
  if (!match) throw unauthorized(authorization ? 'the Authorization header is not "Bearer <access token>"' : 'sign in first: the request carries no access token');
  let payload: Record<string, unknown>;
  try {
    // exp and iat required: a token that never expires, or claims to be from the future, is refused.
    ({ payload } = await jwtVerify(match[1], check.keys, { issuer: check.issuer, algorithms: ['RS256'], clockTolerance: 5, requiredClaims: ['exp', 'iat'], maxTokenAge: ACCESS_TOKEN_SECONDS }));
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === errors.JWTExpired.code) throw unauthorized('the access token has expired: sign in again');
    if (typeof code === 'string' && TOKEN_FAULTS.has(code)) throw unauthorized(`the access token was refused (${code})`);
    // The key set could not be read: not the caller's fault.
    throw new ApiFailure(503, 'ServiceUnavailable', 'the sign-in keys could not be read; try again', err);
  }
  if (payload.token_use !== 'access') throw unauthorized('an access token is needed (not an ID token)');
  if (payload.client_id !== check.clientId) throw unauthorized('the access token was issued to another app client');
  if (typeof payload.sub !== 'string' || payload.sub === '') throw unauthorized('the access token names no subject');
  return { sub: payload.sub, username: typeof payload.username === 'string' ? payload.username : undefined };
}
