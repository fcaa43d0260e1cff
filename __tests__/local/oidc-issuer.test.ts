/**
 * The local sign-in over real HTTP on loopback: the code flow with PKCE as the page runs it, and
 * its tokens checked by web-api's own code (functions/web-api/auth.ts) against the published keys.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { remoteKeys, verifyCaller } from '../../functions/web-api/auth';
import { createLocalIssuer, localSubject, parseLocalUsers, type LocalIssuer } from '../../local/oidc-issuer';

let server: http.Server;
let issuer: LocalIssuer;
let origin: string;
const CLIENT = 'local-web-app';
const users = [{ username: 'alice', password: 'alice-pw' }, { username: 'bob', password: 'bob-pw' }];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    issuer.handle(req, res).then((done) => done || res.writeHead(404).end(), (err: unknown) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer = await createLocalIssuer({ issuer: `${origin}/local-auth`, clientId: CLIENT, redirectUri: `${origin}/app`, users });
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};
const authorizeQuery = (challenge: string, extra: Record<string, string> = {}) =>
  new URLSearchParams({ client_id: CLIENT, redirect_uri: `${origin}/app`, response_type: 'code', scope: 'openid', state: 's1', code_challenge: challenge, code_challenge_method: 'S256', ...extra });
const post = (path: string, form: URLSearchParams) => fetch(`${origin}/local-auth${path}`, { method: 'POST', body: form, redirect: 'manual' });

async function codeFor(username: string, password: string, challenge: string): Promise<Response> {
  return post('/authorize', new URLSearchParams({ ...Object.fromEntries(authorizeQuery(challenge)), username, password }));
}

test('the code flow with PKCE: a form, a code back at the app, tokens that web-api\'s own check accepts', async () => {
  const { verifier, challenge } = pkce();
  const form = await fetch(`${origin}/local-auth/authorize?${authorizeQuery(challenge)}`);
  expect(form.status).toBe(200);
  expect(await form.text()).toContain('name="password"');
  const back = await codeFor('alice', 'alice-pw', challenge);
  expect(back.status).toBe(302);
  const location = new URL(back.headers.get('location')!);
  expect(`${location.origin}${location.pathname}`).toBe(`${origin}/app`);
  expect(location.searchParams.get('state')).toBe('s1');
  const code = location.searchParams.get('code')!;
  const exchange = () => post('/token', new URLSearchParams({ grant_type: 'authorization_code', client_id: CLIENT, code, redirect_uri: `${origin}/app`, code_verifier: verifier }));
  const tokens = await exchange();
  expect(tokens.status).toBe(200);
  const body = (await tokens.json()) as { access_token: string; id_token: string; token_type: string; expires_in: number };
  expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
  const check = { issuer: issuer.issuer, clientId: CLIENT, keys: remoteKeys(issuer.issuer) };
  await expect(verifyCaller(`Bearer ${body.access_token}`, check)).resolves.toEqual({ sub: localSubject('alice'), username: 'alice' });
  // The ID token is not an access token; a code is good once.
  await expect(verifyCaller(`Bearer ${body.id_token}`, check)).rejects.toMatchObject({ status: 401 });
  expect(((await (await exchange()).json()) as { error: string }).error).toBe('invalid_grant');
});

test('a wrong password gets the form again (401), no code', async () => {
  const r = await codeFor('alice', 'bob-pw', pkce().challenge);
  expect(r.status).toBe(401);
  expect(await r.text()).toContain('Incorrect user name or password.');
  expect((await codeFor('mallory', 'x', pkce().challenge)).status).toBe(401);
});

test('a verifier that does not match the challenge, another redirect or client: invalid_grant / invalid_client', async () => {
  const { challenge } = pkce();
  const code = new URL((await codeFor('bob', 'bob-pw', challenge)).headers.get('location')!).searchParams.get('code')!;
  const exchange = (extra: Record<string, string>) =>
    post('/token', new URLSearchParams({ grant_type: 'authorization_code', client_id: CLIENT, code, redirect_uri: `${origin}/app`, code_verifier: pkce().verifier, ...extra }));
  expect(await (await exchange({})).json()).toEqual({ error: 'invalid_grant', error_description: 'code_verifier does not match the code_challenge' });
  expect(((await (await exchange({ client_id: 'other' })).json()) as { error: string }).error).toBe('invalid_client');
});

test.each([
  [{ code_challenge_method: 'plain' }, /PKCE is required/],
  [{ code_challenge: '' }, /PKCE is required/],
  [{ redirect_uri: 'https://evil.example/app' }, /redirect_uri must be/],
  [{ client_id: 'other' }, /unknown client_id/],
  [{ response_type: 'token' }, /response_type must be code/],
])('authorize refuses %j (400)', async (extra, message) => {
  const r = await fetch(`${origin}/local-auth/authorize?${authorizeQuery(pkce().challenge, extra as Record<string, string>)}`);
  expect(r.status).toBe(400);
  expect(await r.text()).toMatch(message);
});

test('discovery and keys; logout only back to the app', async () => {
  const config = (await (await fetch(`${origin}/local-auth/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  expect(config).toMatchObject({ issuer: `${origin}/local-auth`, token_endpoint: `${origin}/local-auth/token`, code_challenge_methods_supported: ['S256'] });
  const jwks = (await (await fetch(`${origin}/local-auth/.well-known/jwks.json`)).json()) as { keys: { kty: string; alg: string; d?: string }[] };
  expect(jwks.keys).toEqual([expect.objectContaining({ kty: 'RSA', alg: 'RS256' })]);
  expect(jwks.keys[0].d).toBeUndefined();
  const out = await fetch(`${origin}/local-auth/logout?logout_uri=${encodeURIComponent(`${origin}/app`)}`, { redirect: 'manual' });
  expect([out.status, out.headers.get('location')]).toEqual([302, `${origin}/app`]);
  expect((await fetch(`${origin}/local-auth/logout?logout_uri=https://evil.example/`, { redirect: 'manual' })).status).toBe(400);
});

test('subjects are stable per user and UUID-shaped; FACE_LOCAL_USERS parses name:password pairs', () => {
  expect(localSubject('alice')).toBe(localSubject('alice'));
  expect(localSubject('alice')).not.toBe(localSubject('bob'));
  expect(localSubject('alice')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  expect(parseLocalUsers('ann:pw1, ben:pw2')).toEqual([{ username: 'ann', password: 'pw1' }, { username: 'ben', password: 'pw2' }]);
  expect(() => parseLocalUsers('ann')).toThrow(/"ann" is not name:password/);
});
