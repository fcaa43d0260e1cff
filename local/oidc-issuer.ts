/**
 * The local sign-in for `npm run serve`: an OpenID issuer on loopback with test users, playing the
 * part of the Cognito user pool's managed login. The same browser flow as on AWS: the page sends
 * the user to /authorize (code flow, PKCE S256 required), a form takes a test user's name and
 * password, the page exchanges the code at /token and gets RS256 access and ID tokens shaped like
 * Cognito's (`token_use`, `client_id`, `username`), signed by a key made at start and published at
 * /.well-known/jwks.json, where web-api reads it with the same jose code that reads Cognito's.
 * Loopback only, in-memory, for trying the app: not an identity provider for anything else.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { ACCESS_TOKEN_SECONDS } from '../functions/web-api/contract';

export interface LocalUser {
  readonly username: string;
  readonly password: string;
}

export interface LocalIssuerOptions {
  /** The issuer's URL: the page's origin plus ISSUER_PATH. */
  readonly issuer: string;
  readonly clientId: string;
  /** The one redirect (and logout) address the client may use: the app's page. */
  readonly redirectUri: string;
  readonly users: readonly LocalUser[];
  /** @default ACCESS_TOKEN_SECONDS (the deployed app's) */
  readonly tokenSeconds?: number;
}

/** Where the issuer is mounted on the local server. */
export const ISSUER_PATH = '/local-auth';

/** Test users, printed by `npm run serve` (FACE_LOCAL_USERS="name:password,..." replaces them). */
export const DEFAULT_LOCAL_USERS: readonly LocalUser[] = [
  { username: 'alice', password: 'alice-local-password' },
  { username: 'bob', password: 'bob-local-password' },
];

/** "name:password,name:password" -> users; a malformed entry is named. */
export function parseLocalUsers(text: string): LocalUser[] {
  return text.split(',').map((entry) => {
    const m = /^\s*([A-Za-z0-9_.-]{1,64}):(\S{1,128})\s*$/.exec(entry);
    if (!m) throw new Error(`FACE_LOCAL_USERS: ${JSON.stringify(entry)} is not name:password (name: letters, digits, _ . -)`);
    return { username: m[1], password: m[2] };
  });
}

/** A user's subject: stable across restarts (their uploads stay theirs), UUID-shaped like Cognito's. */
export function localSubject(username: string): string {
  const h = createHash('sha256').update(`local-user\n${username}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

interface PendingCode {
  readonly user: LocalUser;
  readonly challenge: string;
  readonly expires: number;
}

/** Codes are good for one exchange within this time, as OAuth 2.0 advises. */
const CODE_SECONDS = 60;

export interface LocalIssuer {
  readonly issuer: string;
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  readonly logoutUrl: string;
  /** Answers requests under ISSUER_PATH; false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Tokens for a test user without the browser (tests, scripts). */
  tokensFor(username: string): Promise<{ access_token: string; id_token: string; token_type: 'Bearer'; expires_in: number }>;
}

export async function createLocalIssuer(options: LocalIssuerOptions): Promise<LocalIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = randomBytes(8).toString('hex');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const codes = new Map<string, PendingCode>();
  const tokenSeconds = options.tokenSeconds ?? ACCESS_TOKEN_SECONDS;
  const base = new URL(options.issuer).pathname;
  const urls = { issuer: options.issuer, authorizeUrl: `${options.issuer}/authorize`, tokenUrl: `${options.issuer}/token`, logoutUrl: `${options.issuer}/logout` };

  const sign = (claims: Record<string, unknown>, subject: string) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).setIssuer(options.issuer).setSubject(subject).setIssuedAt().setExpirationTime(`${tokenSeconds}s`).setJti(randomBytes(12).toString('hex')).sign(privateKey);

  async function tokensFor(username: string) {
    const user = options.users.find((u) => u.username === username);
    if (!user) throw new Error(`no local user ${username}`);
    const sub = localSubject(user.username);
    const authTime = Math.floor(Date.now() / 1000);
    return {
      access_token: await sign({ token_use: 'access', client_id: options.clientId, scope: 'openid', username: user.username, auth_time: authTime }, sub),
      id_token: await sign({ token_use: 'id', aud: options.clientId, 'cognito:username': user.username, auth_time: authTime }, sub),
      token_type: 'Bearer' as const,
      expires_in: tokenSeconds,
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://local');
    if (url.pathname !== base && !url.pathname.startsWith(`${base}/`)) return false;
    const route = `${req.method} ${url.pathname.slice(base.length)}`;
    switch (route) {
      case 'GET /.well-known/openid-configuration':
        return sendJson(res, 200, {
          issuer: options.issuer,
          authorization_endpoint: urls.authorizeUrl,
          token_endpoint: urls.tokenUrl,
          end_session_endpoint: urls.logoutUrl,
          jwks_uri: `${options.issuer}/.well-known/jwks.json`,
          response_types_supported: ['code'],
          grant_types_supported: ['authorization_code'],
          code_challenge_methods_supported: ['S256'],
          id_token_signing_alg_values_supported: ['RS256'],
          subject_types_supported: ['public'],
          scopes_supported: ['openid'],
        });
      case 'GET /.well-known/jwks.json':
        return sendJson(res, 200, { keys: [jwk] });
      case 'GET /authorize': {
        const problem = authorizeProblem(url.searchParams);
        if (problem) return sendHtml(res, 400, page('Sign-in refused', `<p class="error">${escape(problem)}</p>`));
        return sendHtml(res, 200, loginForm(url.searchParams));
      }
      case 'POST /authorize': {
        const form = new URLSearchParams(await readBody(req));
        const problem = authorizeProblem(form);
        if (problem) return sendHtml(res, 400, page('Sign-in refused', `<p class="error">${escape(problem)}</p>`));
        const user = options.users.find((u) => u.username === form.get('username') && same(u.password, form.get('password') ?? ''));
        if (!user) return sendHtml(res, 401, loginForm(form, 'Incorrect user name or password.'));
        const code = randomBytes(24).toString('base64url');
        codes.set(code, { user, challenge: form.get('code_challenge')!, expires: Date.now() + CODE_SECONDS * 1000 });
        const back = new URL(form.get('redirect_uri')!);
        back.searchParams.set('code', code);
        if (form.get('state')) back.searchParams.set('state', form.get('state')!);
        res.writeHead(302, { location: back.toString(), 'cache-control': 'no-store' }).end();
        return true;
      }
      case 'POST /token': {
        const form = new URLSearchParams(await readBody(req));
        const code = form.get('code') ?? '';
        const pending = codes.get(code);
        codes.delete(code);
        const fail = (error: string, description: string) => sendJson(res, 400, { error, error_description: description });
        if (form.get('grant_type') !== 'authorization_code') return fail('unsupported_grant_type', 'only authorization_code');
        if (form.get('client_id') !== options.clientId) return fail('invalid_client', 'unknown client_id');
        if (form.get('redirect_uri') !== options.redirectUri) return fail('invalid_grant', 'redirect_uri differs from the authorization request');
        if (!pending || pending.expires < Date.now()) return fail('invalid_grant', 'the code is unknown, used or expired');
        const verifier = form.get('code_verifier') ?? '';
        if (createHash('sha256').update(verifier).digest('base64url') !== pending.challenge) return fail('invalid_grant', 'code_verifier does not match the code_challenge');
        return sendJson(res, 200, await tokensFor(pending.user.username));
      }
      case 'GET /logout': {
        const to = url.searchParams.get('logout_uri');
        if (to !== options.redirectUri) return sendHtml(res, 400, page('Sign-out refused', '<p class="error">logout_uri is not the app</p>'));
        res.writeHead(302, { location: to, 'cache-control': 'no-store' }).end();
        return true;
      }
      default:
        return sendJson(res, 404, { error: 'not_found', error_description: `no ${route} here` });
    }
  }

  /** What Cognito refuses too: another client, another redirect, no PKCE, another flow. */
  function authorizeProblem(q: URLSearchParams): string | undefined {
    if (q.get('client_id') !== options.clientId) return 'unknown client_id';
    if (q.get('redirect_uri') !== options.redirectUri) return `redirect_uri must be ${options.redirectUri}`;
    if (q.get('response_type') !== 'code') return 'response_type must be code';
    if (q.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge') ?? '')) return 'PKCE is required: code_challenge (S256) and code_challenge_method=S256';
    return undefined;
  }

  function loginForm(q: URLSearchParams, error?: string): string {
    const hidden = ['client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'code_challenge', 'code_challenge_method']
      .map((name) => `<input type="hidden" name="${name}" value="${escape(q.get(name) ?? '')}">`)
      .join('');
    const names = options.users.map((u) => `<code>${escape(u.username)}</code>`).join(', ');
    return page(
      'Sign in',
      `${error ? `<p class="error" role="alert">${escape(error)}</p>` : ''}
<form method="post" action="${escape(urls.authorizeUrl)}">${hidden}
  <label>User name <input name="username" autocomplete="username" required autofocus></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit">Sign in</button>
</form>
<p class="muted">Local test users: ${names} (their passwords are printed by <code>npm run serve</code>).</p>`,
    );
  }

  return { ...urls, handle, tokensFor };
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)} (local)</title>
<style>body{font:15px/1.45 system-ui,sans-serif;max-width:380px;margin:60px auto;color:#1d232b}form{display:grid;gap:12px}input{display:block;width:100%;padding:8px;margin-top:4px;box-sizing:border-box}button{padding:9px;border:0;border-radius:6px;background:#ec7211;color:#fff;font-weight:600}.error{color:#d13212}.muted{color:#687684;font-size:13px}</style>
</head><body><h1>${escape(title)}</h1><p class="muted">Local sign-in of <code>npm run serve</code>, standing in for the deployed app's Cognito login.</p>${body}</body></html>`;
}

async function readBody(req: IncomingMessage, limit = 16 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown): true {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
  return true;
}

function sendHtml(res: ServerResponse, status: number, html: string): true {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
  return true;
}
