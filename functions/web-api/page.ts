/**
 * The web app's page, served by web-api at APP_PATH (on AWS and by `npm run serve`): sign in (code
 * flow with PKCE against the user pool's managed login, or the local issuer), drop one or many
 * photos, choose the options, watch each go uploading -> processing -> done, see the redacted photo
 * with its face count and boxes, download it; errors shown with their code and message.
 * Tokens live in this tab's sessionStorage only: the code leaves the address bar as soon as it is
 * read, and nothing is kept once the tab is closed.
 */
import { createHash } from 'node:crypto';
import { SAFE_MARK } from '../detect-faces/contract';
import { APP_PATH, UPLOAD_TYPES } from './contract';
import { optionControls, PAGE_STYLE, SHARED_SCRIPT } from './page-parts';

export interface AppPageConfig {
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  readonly logoutUrl?: string;
  readonly clientId: string;
}

/** How often and how long a processing upload is asked for its result. */
const POLL_MS = 1_500;
const POLL_LIMIT_MS = 180_000;
/**
 * Photos sent at a time: a drop of 50 at once would pass the API's throttle burst (40, stack
 * web-app.ts) in one instant; the others wait their turn. A ticket refused with 429 or 503 is
 * asked for again after 1, 2, 4, 8 s.
 */
const UPLOADS_AT_ONCE = 4;
const TICKET_RETRIES = 4;

/** JSON for an inline <script>: "<" escaped, so no value can close the script element. */
const inlineJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export interface AppPage {
  readonly html: string;
  /**
   * What the page may run and reach: its own inline script and style (by their hashes, so no
   * injected markup runs), connections to this API, the token endpoint and the bucket (uploads,
   * results), images from the bucket and the chosen files; nothing may frame it.
   */
  readonly contentSecurityPolicy: string;
}

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** `bucketSources`: where the presigned URLs point (uploads and redacted images), as CSP sources (UploadBucket.cspSources). */
export function appPage(config: AppPageConfig, bucketSources: string): AppPage {
  const client = { authorizeUrl: config.authorizeUrl, tokenUrl: config.tokenUrl, logoutUrl: config.logoutUrl ?? null, clientId: config.clientId, appPath: APP_PATH };
  const style = `${PAGE_STYLE}
  .hidden { display: none !important; }
  #uploads { display: grid; gap: 14px; }
  .upload { display: grid; grid-template-columns: minmax(0, 3fr) minmax(260px, 2fr); gap: 18px; }
  .upload h3 { margin: 0 0 4px; font-size: 15px; word-break: break-all; }
  .state { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: #e9edf1; }
  .state.done { background: #e3f4e8; color: #1d7a3a; }
  .state.failed { background: #fdf3f1; color: #d13212; }
  .upload:not([data-state="done"]) .marked { opacity: 0.45; }
`;
  const script = `
${SHARED_SCRIPT}
const CLIENT = ${inlineJson(client)};
const POLL_MS = ${POLL_MS};
const POLL_LIMIT_MS = ${POLL_LIMIT_MS};
const UPLOADS_AT_ONCE = ${UPLOADS_AT_ONCE};
const TICKET_RETRIES = ${TICKET_RETRIES};
const $ = (id) => document.getElementById(id);
const show = (el, shown) => el.classList.toggle('hidden', !shown);
const redirectUri = () => location.origin + CLIENT.appPath;

function showError(code, message) {
  $('error-code').textContent = code;
  $('error-message').textContent = message;
  show($('error'), true);
}

const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
const randomText = (n) => b64url(crypto.getRandomValues(new Uint8Array(n)));

/** The code flow with PKCE: the verifier and state wait in sessionStorage for the redirect back. */
async function signIn() {
  const verifier = randomText(48);
  const state = randomText(16);
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem('pkce', JSON.stringify({ verifier, state }));
  const query = new URLSearchParams({ response_type: 'code', client_id: CLIENT.clientId, redirect_uri: redirectUri(), scope: 'openid', state, code_challenge: challenge, code_challenge_method: 'S256' });
  location.assign(CLIENT.authorizeUrl + '?' + query);
}

/** Back from sign-in: the code leaves the address bar at once, then is exchanged for tokens. */
async function completeSignIn() {
  const params = new URLSearchParams(location.search);
  if (!params.has('code') && !params.has('error')) return;
  history.replaceState(null, '', location.pathname);
  const saved = JSON.parse(sessionStorage.getItem('pkce') || 'null');
  sessionStorage.removeItem('pkce');
  // The state first: an error's text in a link from anywhere else is not shown as the sign-in's.
  if (!saved || saved.state !== params.get('state')) return showError('SignInFailed', 'the sign-in answer does not match the request this tab made; sign in again');
  if (params.has('error')) return showError(params.get('error'), params.get('error_description') || 'sign-in did not complete');
  const res = await fetch(CLIENT.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: CLIENT.clientId, code: params.get('code'), redirect_uri: redirectUri(), code_verifier: saved.verifier }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok || !body.access_token) return showError(body.error || 'HTTP ' + res.status, body.error_description || 'the token exchange failed; sign in again');
  sessionStorage.setItem('session', JSON.stringify({ accessToken: body.access_token, expiresAt: Date.now() + (body.expires_in || 3600) * 1000 }));
}

function session() {
  const s = JSON.parse(sessionStorage.getItem('session') || 'null');
  return s && s.expiresAt > Date.now() + 10000 ? s : null;
}

function signOut() {
  sessionStorage.removeItem('session');
  if (CLIENT.logoutUrl) location.assign(CLIENT.logoutUrl + '?' + new URLSearchParams({ client_id: CLIENT.clientId, logout_uri: redirectUri() }));
  else location.reload();
}

/** A call to this API with the session's token; failures thrown as { code, message }. */
async function api(method, path, body) {
  const s = session();
  if (!s) { render(); throw { code: 'Unauthorized', message: 'the session has ended: sign in again' }; }
  const res = await fetch(path, { method, headers: { authorization: 'Bearer ' + s.accessToken, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const answer = await res.json().catch(() => ({}));
  if (res.status === 401) {
    // Expired or revoked (API Gateway's authorizer answers {"message": "Unauthorized"}): back to signing in.
    sessionStorage.removeItem('session');
    render();
    throw { status: 401, code: 'Unauthorized', message: (answer.code ? answer.message : '') || 'the session has ended: sign in again' };
  }
  if (!res.ok) throw { status: res.status, code: answer.code || 'HTTP ' + res.status, message: answer.message || answer.Message || '' };
  return answer;
}

/** S3 answers a refused form POST with an XML error: its code and message. */
async function s3Error(res) {
  const text = await res.text();
  const pick = (tag) => (new RegExp('<' + tag + '>([^<]*)</' + tag + '>').exec(text) || [])[1];
  return { code: pick('Code') || 'HTTP ' + res.status, message: pick('Message') || 'the upload was refused' };
}

function card(name) {
  const el = $('upload-card').content.firstElementChild.cloneNode(true);
  el.querySelector('.name').textContent = name;
  $('uploads').prepend(el);
  return el;
}

function setState(el, state) {
  const badge = el.querySelector('.state');
  badge.textContent = state;
  badge.className = 'state ' + state;
  el.dataset.state = state;
}

function fail(el, error) {
  setState(el, 'failed');
  el.querySelector('.code').textContent = error.code || 'Error';
  el.querySelector('.message').textContent = error.message || '';
  show(el.querySelector('.fail'), true);
}

function showResult(el, result) {
  setState(el, 'done');
  el.querySelector('.faces').textContent = result.faces;
  el.querySelector('.size').textContent = result.width + ' × ' + result.height + ' px, faces from ' + result.minFaceSize + ' px, ' + result.mark;
  show(el.querySelector('.summary'), true);
  fillRows(el.querySelector('.boxes tbody'), faceRows(result.boxes));
  show(el.querySelector('.boxes'), result.boxes.length > 0);
  const img = el.querySelector('.marked');
  img.src = result.outputUrl;
  show(img, true);
  placeLandmarks(el.querySelector('.figure'), result);
  const link = el.querySelector('.download');
  link.href = result.downloadUrl;
  show(link, true);
}

/** The download link is presigned for minutes: a click asks for a fresh one (an error shows on the card). */
async function download(el) {
  try {
    const result = await api('GET', '/uploads/' + encodeURIComponent(el.dataset.id));
    if (result.status !== 'done') return fail(el, result.error);
    el.querySelector('.download').href = result.downloadUrl;
    location.assign(result.downloadUrl);
  } catch (err) {
    fail(el, err.code ? err : { code: 'NetworkError', message: String(err) });
  }
}

/** Asks for the result until there is one (404 meanwhile). */
async function follow(el, id) {
  el.dataset.id = id;
  setState(el, 'processing');
  const until = Date.now() + POLL_LIMIT_MS;
  for (;;) {
    try {
      const result = await api('GET', '/uploads/' + encodeURIComponent(id));
      return result.status === 'done' ? showResult(el, result) : fail(el, result.error);
    } catch (err) {
      // 404: not processed yet; 429 and 503: throttled or briefly unavailable, asked again.
      if (![404, 429, 503].includes(err.status)) return fail(el, err);
      if (Date.now() > until) return fail(el, { code: 'Timeout', message: 'no result after ' + POLL_LIMIT_MS / 1000 + ' s; it may still come: reload later' });
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** The upload ticket; throttled (429) or briefly unavailable (503), asked again after 1, 2, 4, 8 s. */
async function ticketFor(file, options) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await api('POST', '/uploads', { contentType: file.type, size: file.size, options });
    } catch (err) {
      if (![429, 503].includes(err.status) || attempt >= TICKET_RETRIES) throw err;
      await new Promise((r) => setTimeout(r, 1000 * 2 ** attempt));
    }
  }
}

/** Sends one photo (ticket, then the form POST to S3); resolves to its upload id, or undefined when it failed (shown on its card). */
async function send(file, el, options) {
  setState(el, 'uploading');
  try {
    const ticket = await ticketFor(file, options);
    const form = new FormData();
    for (const [name, value] of Object.entries(ticket.fields)) form.append(name, value);
    form.append('file', file);
    const res = await fetch(ticket.url, { method: 'POST', body: form });
    if (!res.ok) return void fail(el, await s3Error(res));
    return ticket.id;
  } catch (err) {
    fail(el, err.code ? err : { code: 'NetworkError', message: String(err) });
  }
}

/** Photos chosen and not yet sent, in order; UPLOADS_AT_ONCE are sent at a time, each followed to its result after. */
const waiting = [];
let sending = 0;
function upload(file) {
  const el = card(file.name);
  setState(el, 'waiting');
  // The photo as chosen, faded, until the redacted one replaces it.
  const preview = el.querySelector('.marked');
  preview.src = URL.createObjectURL(file);
  show(preview, true);
  // The options as they are when the photo is chosen, not when its turn comes.
  waiting.push({ file, el, options: readOptions() });
  nextUploads();
}
function nextUploads() {
  while (sending < UPLOADS_AT_ONCE && waiting.length > 0) {
    const { file, el, options } = waiting.shift();
    sending++;
    send(file, el, options).then((id) => {
      sending--;
      nextUploads();
      if (id) follow(el, id);
    });
  }
}

/** The caller's earlier uploads (this API lists only the caller's own). */
async function listEarlier() {
  try {
    const list = await api('GET', '/uploads');
    const shown = new Set([...document.querySelectorAll('.upload')].map((el) => el.dataset.id));
    for (const u of list.uploads) if (!shown.has(u.id)) follow(card(u.id + ' (' + new Date(u.uploadedAt).toLocaleString() + ')'), u.id);
  } catch (err) {
    showError(err.code || 'Error', err.message || String(err));
  } finally {
    $('uploads').dataset.listed = 'true';
  }
}

function render() {
  const s = session();
  show($('sign-in'), !s);
  show($('signed-out'), !s);
  show($('sign-out'), !!s);
  show($('work'), !!s);
  if (s) {
    // The payload is base64url of UTF-8 JSON (a name like José): decoded as bytes, then as text.
    const bytes = Uint8Array.from(atob(s.accessToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    $('who').textContent = claims.username || claims.sub;
  } else {
    $('who').textContent = '';
  }
}

const files = (list) => [...list].forEach((f) => upload(f));
$('sign-in').addEventListener('click', () => signIn().catch((err) => showError('SignInFailed', String(err))));
$('sign-out').addEventListener('click', signOut);
$('uploads').addEventListener('click', (e) => {
  const link = e.target.closest('.download');
  if (!link) return;
  e.preventDefault();
  download(link.closest('.upload'));
});
const drop = $('drop');
drop.addEventListener('click', () => $('file').click());
drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') $('file').click(); });
$('file').addEventListener('change', () => { files($('file').files); $('file').value = ''; });
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); files(e.dataTransfer.files); });

completeSignIn()
  .catch((err) => showError('SignInFailed', String(err)))
  .finally(() => { render(); if (session()) listEarlier(); });
`;
  const tokenOrigin = new URL(config.tokenUrl).origin;
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src ${sha256(script)}`,
    `style-src ${sha256(style)}`,
    `img-src 'self' blob: ${bucketSources}`,
    `connect-src 'self' ${tokenOrigin} ${bucketSources}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Face redaction</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${style}</style>
</head>
<body>
<header>
  <div class="grow"><h1>Face redaction</h1><p>Sign in, drop photos, get them back with every face redacted</p></div>
  <span id="who"></span>
  <button id="sign-in" class="hidden">Sign in</button>
  <button id="sign-out" class="quiet hidden">Sign out</button>
</header>
<main>
  <section id="error" class="card error hidden" role="alert"><code id="error-code"></code> <span id="error-message"></span></section>
  <section id="signed-out" class="card hidden"><p>Sign in with the account your administrator created for you.</p></section>
  <section id="work" class="card hidden">
    <div id="options">
      ${optionControls({ mark: SAFE_MARK })}
    </div>
    <div id="drop" tabindex="0">Drop photos here, or click to choose (JPEG, PNG, WebP; several at once)
      <input id="file" type="file" accept="${Object.keys(UPLOAD_TYPES).join(',')}" multiple hidden>
    </div>
  </section>
  <section id="uploads" aria-live="polite"></section>
  <template id="upload-card">
    <article class="card upload">
      <div><div class="figure"><img class="marked hidden" alt="redacted photo"></div></div>
      <div>
        <h3 class="name"></h3>
        <span class="state">waiting</span>
        <div class="summary hidden"><span class="count faces">0</span> face(s) <span class="muted size"></span></div>
        <table class="boxes hidden"><thead><tr><th>#</th><th>x</th><th>y</th><th>width</th><th>height</th><th>score</th></tr></thead><tbody></tbody></table>
        <p class="fail error hidden"><code class="code"></code> <span class="message"></span></p>
        <p><a class="download hidden">Download the redacted photo</a></p>
      </div>
    </article>
  </template>
</main>
<script>${script}</script>
</body>
</html>
`;
  return { html, contentSecurityPolicy };
}
