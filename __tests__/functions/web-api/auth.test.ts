/** The caller check: only an access token of this issuer, for this app client, unexpired, signed by the issuer's key. */
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { remoteKeys, verifyCaller, type TokenCheck } from '../../../functions/web-api/auth';
import { ACCESS_TOKEN_SECONDS } from '../../../functions/web-api/contract';

const ISSUER = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example';
const CLIENT = 'client-123';
const SUB = '3f1c2a9e-1b2c-4d5e-8f90-123456789abc';

let check: TokenCheck;
let issuerKey: CryptoKeyPair;
let sign: (claims?: JWTPayload, options?: { key?: CryptoKey; kid?: string; issuer?: string; expiresIn?: string | number }) => Promise<string>;
let otherKey: CryptoKey;

beforeAll(async () => {
  issuerKey = await generateKeyPair('RS256');
  otherKey = (await generateKeyPair('RS256')).privateKey;
  const jwk: JWK = { ...(await exportJWK(issuerKey.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  check = { issuer: ISSUER, clientId: CLIENT, keys: createLocalJWKSet({ keys: [jwk] }) };
  sign = async (claims = {}, options = {}) =>
    new SignJWT({ token_use: 'access', client_id: CLIENT, username: 'alice', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? 'k1' })
      .setSubject(SUB)
      .setIssuer(options.issuer ?? ISSUER)
      .setIssuedAt()
      .setExpirationTime(options.expiresIn ?? '1h')
      .sign(options.key ?? issuerKey.privateKey);
});

const refused = async (authorization: string | undefined, message: RegExp) =>
  expect(verifyCaller(authorization, check)).rejects.toMatchObject({ status: 401, code: 'Unauthorized', message: expect.stringMatching(message) });

test('a valid access token gives its subject', async () => {
  await expect(verifyCaller(`Bearer ${await sign()}`, check)).resolves.toEqual({ sub: SUB, username: 'alice' });
  // The scheme is case-insensitive (RFC 9110).
  await expect(verifyCaller(`bearer ${await sign()}`, check)).resolves.toEqual({ sub: SUB, username: 'alice' });
});

test('no header, another scheme, or not a JWT: 401', async () => {
  await refused(undefined, /sign in first/);
  await refused('', /sign in first/);
  await refused(`Basic ${Buffer.from('a:b').toString('base64')}`, /not "Bearer <access token>"/);
  await refused('Bearer not-a-token', /not "Bearer <access token>"/);
});

test('expired, from another issuer, or for another app client: 401', async () => {
  await refused(`Bearer ${await sign({}, { expiresIn: Math.floor(Date.now() / 1000) - 60 })}`, /expired/);
  await refused(`Bearer ${await sign({}, { issuer: 'https://evil.example' })}`, /refused \(ERR_JWT_CLAIM_VALIDATION_FAILED\)/);
  await refused(`Bearer ${await sign({ client_id: 'another-client' })}`, /another app client/);
});

test('a token with no expiry, no issue time, one from the future, or one issued longer ago than a sign-in lasts: 401', async () => {
  const now = Math.floor(Date.now() / 1000);
  const signed = (build: (jwt: SignJWT) => SignJWT) => build(new SignJWT({ token_use: 'access', client_id: CLIENT }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject(SUB).setIssuer(ISSUER)).sign(issuerKey.privateKey);
  await refused(`Bearer ${await signed((t) => t.setIssuedAt())}`, /refused \(ERR_JWT_CLAIM_VALIDATION_FAILED\)/);
  await refused(`Bearer ${await signed((t) => t.setExpirationTime('1h'))}`, /refused \(ERR_JWT_CLAIM_VALIDATION_FAILED\)/);
  await refused(`Bearer ${await signed((t) => t.setIssuedAt(now + 3600).setExpirationTime(now + 7200))}`, /refused \(ERR_JWT_CLAIM_VALIDATION_FAILED\)/);
  await refused(`Bearer ${await signed((t) => t.setIssuedAt(now - ACCESS_TOKEN_SECONDS - 60).setExpirationTime(now + 3600))}`, /expired/);
  // Within the 5 s of clock skew allowed, and at the edge of a sign-in's life: taken.
  await expect(verifyCaller(`Bearer ${await signed((t) => t.setIssuedAt(now + 2).setExpirationTime(now + 3600))}`, check)).resolves.toMatchObject({ sub: SUB });
  await expect(verifyCaller(`Bearer ${await signed((t) => t.setIssuedAt(now - ACCESS_TOKEN_SECONDS + 30).setExpirationTime(now + 30))}`, check)).resolves.toMatchObject({ sub: SUB });
});

test('an ID token is not an access token', async () => {
  await refused(`Bearer ${await sign({ token_use: 'id' })}`, /access token is needed/);
});

test('signed by a key that is not the issuer\'s, or under an unknown kid: 401', async () => {
  await refused(`Bearer ${await sign({}, { key: otherKey })}`, /refused \(ERR_JWS_SIGNATURE_VERIFICATION_FAILED\)/);
  await refused(`Bearer ${await sign({}, { key: otherKey, kid: 'k2' })}`, /refused \(ERR_JWKS_NO_MATCHING_KEY\)/);
});

test('"alg": "none" and HMAC tokens are refused (only RS256)', async () => {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const payload = b64({ sub: SUB, iss: ISSUER, client_id: CLIENT, token_use: 'access', exp: Math.floor(Date.now() / 1000) + 600 });
  await refused(`Bearer ${b64({ alg: 'none', kid: 'k1' })}.${payload}.x`, /refused/);
  const hs = await new SignJWT({ token_use: 'access', client_id: CLIENT }).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).setSubject(SUB).setIssuer(ISSUER).setExpirationTime('1h').sign(new TextEncoder().encode('a'.repeat(32)));
  await refused(`Bearer ${hs}`, /refused/);
});

test('a token without a subject, or with an empty one, signed by the issuer: 401', async () => {
  const signed = (sub?: string) => {
    const jwt = new SignJWT({ token_use: 'access', client_id: CLIENT }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(ISSUER).setIssuedAt().setExpirationTime('1h');
    return (sub === undefined ? jwt : jwt.setSubject(sub)).sign(issuerKey.privateKey);
  };
  await refused(`Bearer ${await signed()}`, /names no subject/);
  await refused(`Bearer ${await signed('')}`, /names no subject/);
});

test('a token fault is told by its code, so a second copy of jose (its own classes) still gives 401; any other failure 503', async () => {
  const throwing = (err: Error): TokenCheck => ({ ...check, keys: async () => Promise.reject(err) });
  const foreign = Object.assign(new Error('no applicable key found in the JSON Web Key Set'), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
  await expect(verifyCaller(`Bearer ${await sign()}`, throwing(foreign))).rejects.toMatchObject({ status: 401, message: 'the access token was refused (ERR_JWKS_NO_MATCHING_KEY)' });
  const expired = Object.assign(new Error('"exp" claim timestamp check failed'), { code: 'ERR_JWT_EXPIRED' });
  await expect(verifyCaller(`Bearer ${await sign()}`, throwing(expired))).rejects.toMatchObject({ status: 401, message: 'the access token has expired: sign in again' });
  const timeout = Object.assign(new Error('request timed out'), { code: 'ERR_JWKS_TIMEOUT' });
  await expect(verifyCaller(`Bearer ${await sign()}`, throwing(timeout))).rejects.toMatchObject({ status: 503 });
});

test('keys that cannot be read are 503, not the caller\'s fault', async () => {
  const failing: TokenCheck = { ...check, keys: async () => Promise.reject(new TypeError('fetch failed')) };
  await expect(verifyCaller(`Bearer ${await sign()}`, failing)).rejects.toMatchObject({ status: 503, code: 'ServiceUnavailable' });
});

describe('the issuer\'s key set answering badly (jose\'s fetch): 503, so that the page keeps the session', () => {
  let server: Server;
  let issuer: string;
  let answer = { status: 503, body: 'Service Unavailable' };
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  test.each([
    [503, 'Service Unavailable'],
    [429, '{"message":"Too Many Requests"}'],
    [200, '<html>gateway error</html>'],
    [200, '{"keys": "not a list"}'],
  ])('%d %s', async (status, body) => {
    answer = { status, body };
    const fetched: TokenCheck = { issuer, clientId: CLIENT, keys: remoteKeys(issuer) };
    await expect(verifyCaller(`Bearer ${await sign({}, { issuer })}`, fetched)).rejects.toMatchObject({ status: 503, code: 'ServiceUnavailable' });
  });
});
