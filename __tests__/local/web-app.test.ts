/// <reference lib="dom" />
/**
 * The web app end to end in real headless Chromium against `npm run serve` (in-process, free
 * ports): sign in through the local issuer's form, upload two photos with `fill`, both come back
 * redacted (uploads -> S3 event -> queue -> detect-faces -> result, read back through web-api),
 * the download is the redacted JPEG; a second user sees neither; no token, 401.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { APP_PATH } from '../../functions/web-api/contract';
import { CHROMIUM } from '../helpers/clients';
import { FACES_DIR } from '../helpers/image-server';
import { startServe } from '../helpers/local-serve';
import { layerOpenCv } from '../helpers/opencv';

jest.setTimeout(240_000);

let local: Awaited<ReturnType<typeof startServe>>;
let browser: Browser;
const contexts: BrowserContext[] = [];
/** Anything the page's Content-Security-Policy blocked: the page must need nothing it does not allow. */
const blocked: string[] = [];

beforeAll(async () => {
  local = await startServe();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

afterEach(() => expect(blocked).toEqual([]));

afterAll(async () => {
  try {
    await browser?.close();
  } finally {
    await local?.close();
  }
});

/**
 * A fresh browser session (its own sessionStorage) signed in as `username` through the local
 * issuer's form, the page opened at `origin` (the endpoint's unless given).
 */
async function signedIn(username: string, origin = local.endpoint): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, acceptDownloads: true });
  contexts.push(context);
  const page = await context.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) blocked.push(m.text());
  });
  await page.goto(`${origin}${APP_PATH}`);
  await page.click('#sign-in');
  await page.waitForURL(/\/local-auth\/authorize\?/);
  const user = local.users.find((u) => u.username === username)!;
  await page.fill('input[name="username"]', user.username);
  await page.fill('input[name="password"]', user.password);
  await page.click('button[type="submit"]');
  await page.waitForSelector('#work:not(.hidden)');
  // The code left the address bar, and nothing of the session is in the URL.
  expect(page.url()).toBe(`${local.endpoint}${APP_PATH}`);
  expect(await page.textContent('#who')).toBe(username);
  return page;
}

const PHOTOS = ['grace_hopper_512x512.jpg', '2008_001322.jpg'];
let aliceIds: string[] = [];

test('alice signs in, uploads two photos with fill: both go waiting -> uploading -> processing -> done, redacted, with counts and boxes', async () => {
  const page = await signedIn('alice');
  await page.selectOption('[data-option="mark"]', 'fill');
  const seen: string[] = [];
  await page.exposeFunction('reportState', (state: string) => void seen.push(state));
  // Every state a card leaves, as the page sets the next (the value before each change: a batch of
  // changes read afterwards would show each card's last state only).
  await page.evaluate(() => {
    new MutationObserver((changes) => {
      for (const c of changes) if (c.attributeName === 'data-state' && c.oldValue) (window as unknown as { reportState(s: string): void }).reportState(c.oldValue);
    }).observe(document.getElementById('uploads')!, { subtree: true, attributes: true, attributeFilter: ['data-state'], attributeOldValue: true });
  });
  await page.setInputFiles('#file', PHOTOS.map((p) => path.join(FACES_DIR, p)));
  await page.waitForFunction(() => Array.from(document.querySelectorAll('.upload')).filter((el) => (el as HTMLElement).dataset.state === 'done').length === 2, undefined, { timeout: 180_000 });
  expect(seen.filter((s) => s === 'waiting')).toHaveLength(2);
  expect(seen.filter((s) => s === 'uploading')).toHaveLength(2);
  expect(seen.filter((s) => s === 'processing')).toHaveLength(2);

  const cards = await page.$$eval('.upload', (els) =>
    els.map((el) => ({
      id: (el as HTMLElement).dataset.id!,
      name: el.querySelector('.name')!.textContent,
      faces: Number(el.querySelector('.faces')!.textContent),
      size: el.querySelector('.size')!.textContent,
      rows: el.querySelectorAll('.boxes tbody tr').length,
      image: (el.querySelector('.marked') as HTMLImageElement).src,
      download: (el.querySelector('.download') as HTMLAnchorElement).href,
    })),
  );
  expect(cards.map((c) => c.name).sort()).toEqual([...PHOTOS].sort());
  const byName = Object.fromEntries(cards.map((c) => [c.name, c]));
  expect(byName['grace_hopper_512x512.jpg']).toMatchObject({ faces: 1, rows: 1, size: expect.stringMatching(/^512 × 512 px, .*, fill$/) });
  // Its three labelled faces, and what else the recall-first point of a redaction patches: a row per face.
  expect(byName['2008_001322.jpg']).toMatchObject({ size: expect.stringMatching(/, fill$/) });
  expect(byName['2008_001322.jpg'].faces).toBeGreaterThanOrEqual(3);
  expect(byName['2008_001322.jpg'].rows).toBe(byName['2008_001322.jpg'].faces);
  aliceIds = cards.map((c) => c.id);
  await page.waitForFunction(() => Array.from(document.querySelectorAll('.upload .marked')).every((img) => (img as HTMLImageElement).naturalWidth > 0));

  // Redacted: the middle of every face box is one solid colour in the image the page shows.
  const { cv } = layerOpenCv();
  for (const card of cards) {
    const result = (await (await fetch(`${local.endpoint}/uploads/${card.id}`, { headers: { authorization: `Bearer ${(await local.issuer.tokensFor('alice')).access_token}` } })).json()) as { boxes: { x: number; y: number; width: number; height: number }[] };
    const image = cv.imdecode(Buffer.from(await (await fetch(card.image)).arrayBuffer()));
    const bgr = image.getData();
    const px = (x: number, y: number) => [...bgr.subarray((y * image.cols + x) * 3, (y * image.cols + x) * 3 + 3)];
    for (const b of result.boxes) {
      const cx = Math.round(b.x + b.width / 2);
      const cy = Math.round(b.y + b.height / 2);
      const samples = [-3, 0, 3].flatMap((dy) => [-3, 0, 3].map((dx) => px(cx + dx, cy + dy)));
      for (const channel of [0, 1, 2]) {
        const values = samples.map((s) => s[channel]);
        expect(Math.max(...values) - Math.min(...values)).toBeLessThanOrEqual(12);
      }
    }
    image.release();
  }

  // The download is the redacted JPEG itself.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(`.upload[data-id="${cards[0].id}"] .download`)]);
  const saved = fs.readFileSync((await download.path())!);
  expect(saved.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
  expect(download.suggestedFilename()).toMatch(/-redacted\.jpg$/);
  if (process.env.SCREENSHOT_APP) await page.screenshot({ path: process.env.SCREENSHOT_APP, fullPage: true });
});

test('bob sees neither of alice\'s uploads, in the page or by asking for her ids', async () => {
  expect(aliceIds).toHaveLength(2);
  const page = await signedIn('bob');
  // The page lists the caller's earlier uploads once signed in: none for bob.
  await page.waitForSelector('#uploads[data-listed]', { state: 'attached' });
  const list = await page.evaluate(async () => {
    const s = JSON.parse(sessionStorage.getItem('session')!);
    return (await fetch('/uploads', { headers: { authorization: `Bearer ${s.accessToken}` } })).json();
  });
  expect(list).toEqual({ uploads: [] });
  expect(await page.$$('.upload')).toHaveLength(0);
  const bob = (await local.issuer.tokensFor('bob')).access_token;
  for (const id of aliceIds) {
    const r = await fetch(`${local.endpoint}/uploads/${id}`, { headers: { authorization: `Bearer ${bob}` } });
    expect(r.status).toBe(404);
  }
  // alice's own list holds both.
  const alice = (await local.issuer.tokensFor('alice')).access_token;
  const hers = (await (await fetch(`${local.endpoint}/uploads`, { headers: { authorization: `Bearer ${alice}` } })).json()) as { uploads: { id: string }[] };
  expect(hers.uploads.map((u) => u.id).sort()).toEqual([...aliceIds].sort());
});

test('errors show their code and message: a refused type, an option out of range, and a file that is not the image it claims', async () => {
  const page = await signedIn('alice');
  const card = (name: string) => `.upload:has(.name:text-is("${name}"))`;
  const failed = async (name: string) => {
    await page.waitForSelector(`${card(name)}[data-state="failed"]`, { timeout: 120_000 });
    return page.$eval(card(name), (el) => [el.querySelector('.code')!.textContent, el.querySelector('.message')!.textContent]);
  };
  await page.setInputFiles('#file', { name: 'anim.gif', mimeType: 'image/gif', buffer: Buffer.from('R0lGODlhAQABAIAAAAAAAP///ywAAAAAAQABAAACAUwAOw==', 'base64') });
  expect(await failed('anim.gif')).toEqual(['UnsupportedImage', 'contentType must be one of image/jpeg, image/png, image/webp, got "image/gif"']);
  await page.fill('[data-option="minFaceSize"]', '5');
  await page.setInputFiles('#file', path.join(FACES_DIR, 'astronaut.png'));
  expect(await failed('astronaut.png')).toEqual(['InvalidInput', 'options.minFaceSize must be a whole number from 10 to 100000, got 5']);
  await page.fill('[data-option="minFaceSize"]', '');
  // Uploaded (S3 takes any bytes under the type it was signed for), then refused by detect-faces: its record's code and message.
  await page.setInputFiles('#file', { name: 'notes.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('these are notes, not a photo\n'.repeat(20)) });
  const [code, message] = await failed('notes.jpg');
  expect(code).toBe('UnsupportedImage');
  expect(message).not.toBe('');
});

test('a token the API refuses (expired, revoked) ends the session: the page asks to sign in again', async () => {
  const page = await signedIn('bob');
  await page.evaluate(() => {
    const s = JSON.parse(sessionStorage.getItem('session')!);
    const [header, , signature] = s.accessToken.split('.');
    const claims = btoa(JSON.stringify({ sub: 'x', username: 'bob', exp: 1 })).replace(/=+$/, '');
    sessionStorage.setItem('session', JSON.stringify({ ...s, accessToken: `${header}.${claims}.${signature}` }));
  });
  await page.setInputFiles('#file', path.join(FACES_DIR, 'grace_hopper_512x512.jpg'));
  await page.waitForSelector('.upload[data-state="failed"]');
  expect(await page.textContent('.upload .code')).toBe('Unauthorized');
  expect(await page.isVisible('#sign-in')).toBe(true);
  expect(await page.isVisible('#work')).toBe(false);
  expect(await page.evaluate(() => sessionStorage.getItem('session'))).toBeNull();
});

test('the app opened as localhost moves to the endpoint and signs in there (its redirect URI and CORS origin)', async () => {
  const page = await signedIn('bob', local.endpoint.replace('127.0.0.1', 'localhost'));
  expect(page.url()).toBe(`${local.endpoint}${APP_PATH}`);
  const moved = await fetch(`${local.endpoint.replace('127.0.0.1', 'localhost')}${APP_PATH}?x=1`, { redirect: 'manual' });
  expect([moved.status, moved.headers.get('location')]).toEqual([308, `${local.endpoint}${APP_PATH}?x=1`]);
  // The API's routes are not moved: a client at localhost keeps its answers.
  expect((await fetch(`${local.endpoint.replace('127.0.0.1', 'localhost')}/uploads`, { redirect: 'manual' })).status).toBe(401);
});

test("the sign-in's error is shown only for this tab's own sign-in: a link's error text is not", async () => {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  const phished = new URLSearchParams({ error: 'AccountLocked', error_description: 'your account is locked: call +1-555-0100' });
  await page.goto(`${local.endpoint}${APP_PATH}?${phished}`);
  await page.waitForSelector('#error:not(.hidden)');
  expect([await page.textContent('#error-code'), await page.textContent('#error-message')]).toEqual(['SignInFailed', 'the sign-in answer does not match the request this tab made; sign in again']);
  // The issuer's own error, for the sign-in this tab started (its state), is shown as it came.
  await page.evaluate(() => sessionStorage.setItem('pkce', JSON.stringify({ verifier: 'v', state: 'tab-state' })));
  await page.goto(`${local.endpoint}${APP_PATH}?${new URLSearchParams({ error: 'access_denied', error_description: 'the user cancelled', state: 'tab-state' })}`);
  await page.waitForSelector('#error:not(.hidden)');
  expect([await page.textContent('#error-code'), await page.textContent('#error-message')]).toEqual(['access_denied', 'the user cancelled']);
  expect(page.url()).toBe(`${local.endpoint}${APP_PATH}`);
});

test('a request without a token: 401', async () => {
  for (const [method, url] of [['GET', '/uploads'], ['POST', '/uploads'], ['GET', `/uploads/${aliceIds[0] ?? 'x'}`]]) {
    const r = await fetch(`${local.endpoint}${url}`, { method, headers: { 'content-type': 'application/json', origin: local.endpoint }, body: method === 'POST' ? '{"contentType":"image/jpeg"}' : undefined });
    expect([url, r.status, ((await r.json()) as { code: string }).code]).toEqual([url, 401, 'Unauthorized']);
  }
});
