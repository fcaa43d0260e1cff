/// <reference lib="dom" />
/**
 * The local web page in real headless Chromium (Debian's package, driven by playwright-core; no
 * browser download): a URL, a chosen file, and a bad URL showing its error code.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { FACES_DIR } from '../helpers/image-server';
import { startServe } from '../helpers/local-serve';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { localS3Client } from '../helpers/s3';
import { CHROMIUM } from '../helpers/clients';
import { DETECT_REQUEST } from '../../functions/detect-faces/contract';

jest.setTimeout(120_000);

let local: Awaited<ReturnType<typeof startServe>>;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  local = await startServe();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
});

afterAll(async () => {
  try {
    await browser?.close();
  } finally {
    await local?.close();
  }
});

async function imageLoaded(): Promise<boolean> {
  return page.$eval('#marked', (img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0);
}

test('an image URL from the local bucket: face count, boxes, timings and the marked image', async () => {
  const s3 = localS3Client(local.stack.s3.endpoint);
  try {
    await s3.send(new PutObjectCommand({ Bucket: local.stack.bucket, Key: 'inputs/group.jpg', Body: fs.readFileSync(path.join(FACES_DIR, '2008_002079.jpg')) }));
  } finally {
    // Whether or not the put worked: no client is left open.
    s3.destroy();
  }
  await page.goto(`${local.endpoint}/`);
  await page.fill('#url', `${local.stack.s3.endpoint}/${local.stack.bucket}/inputs/group.jpg`);
  await page.click('#go');
  await page.waitForSelector('#result.shown');
  // The photo's 6 labelled faces at least (the labels leave out a 15x20 face behind the bar), one row each.
  const faces = Number(await page.textContent('#faces'));
  expect(faces).toBeGreaterThanOrEqual(6);
  expect(await page.$$eval('#boxes tbody tr', (rows) => rows.length)).toBe(faces);
  expect(await page.$$eval('#timings tbody tr td:first-child', (cells) => cells.map((c) => c.textContent))).toEqual(['download', 'decode', 'detect', 'annotate', 'encode', 'upload']);
  await page.waitForFunction(() => (document.getElementById('marked') as HTMLImageElement).naturalWidth > 0);
  expect(await imageLoaded()).toBe(true);
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
});

test('the request options from the contract: smallest face and a bad value\'s error', async () => {
  await page.goto(`${local.endpoint}/`);
  // Every field of the request contract, in its order: a new field shows up by itself.
  expect(await page.$$eval('[data-option]', (els) => els.map((e) => (e as HTMLElement).dataset.option))).toEqual(Object.keys(DETECT_REQUEST));
  await page.fill('[data-option="minFaceSize"]', '24');
  await page.setInputFiles('#file', path.join(FACES_DIR, 'grace_hopper_512x512.jpg'));
  await page.waitForSelector('#result.shown');
  expect(await page.textContent('#size')).toBe('512 × 512 px, faces from 24 px, box');
  // YuNet's five points of the one face, as dots over the image.
  expect(await page.$$eval('.landmark', (dots) => dots.map((d) => (d as HTMLElement).title))).toEqual(['eyeLeft', 'eyeRight', 'nose', 'mouthLeft', 'mouthRight']);
  await page.fill('[data-option="minFaceSize"]', '5');
  // Another file: choosing the same one again fires no change event.
  await page.setInputFiles('#file', path.join(FACES_DIR, '2008_001009.jpg'));
  await page.waitForSelector('#error.shown');
  expect(await page.textContent('#error-code')).toBe('InvalidInput');
  expect(await page.textContent('#error-message')).toMatch(/^minFaceSize must be a whole number from 10/);
});

test('the mode selector redacts: fill, with the mode in the result', async () => {
  await page.goto(`${local.endpoint}/`);
  await page.selectOption('[data-option="mark"]', 'fill');
  await page.setInputFiles('#file', path.join(FACES_DIR, '2008_001322.jpg'));
  await page.waitForSelector('#result.shown');
  expect(await page.textContent('#size')).toMatch(/, fill$/);
  // Its three labelled faces, and what else the recall-first point of a redaction patches.
  expect(Number(await page.textContent('#faces'))).toBeGreaterThanOrEqual(3);
  if (process.env.SCREENSHOT_FILL) await page.screenshot({ path: process.env.SCREENSHOT_FILL, fullPage: true });
});

test('a chosen (dropped) local file', async () => {
  await page.goto(`${local.endpoint}/`);
  await page.setInputFiles('#file', path.join(FACES_DIR, 'grace_hopper_512x512.jpg'));
  await page.waitForSelector('#result.shown');
  expect(Number(await page.textContent('#faces'))).toBe(1);
  await page.waitForFunction(() => (document.getElementById('marked') as HTMLImageElement).naturalWidth === 512);
});

test('a file dropped onto the page', async () => {
  await page.goto(`${local.endpoint}/`);
  const bytes = fs.readFileSync(path.join(FACES_DIR, 'astronaut.png')).toString('base64');
  const transfer = await page.evaluateHandle(async (b64) => {
    const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([data], 'astronaut.png', { type: 'image/png' }));
    return dt;
  }, bytes);
  await page.dispatchEvent('#drop', 'drop', { dataTransfer: transfer });
  await page.waitForSelector('#result.shown');
  expect(Number(await page.textContent('#faces'))).toBe(1);
});

test('a bad URL shows its error code and message, not a blank page', async () => {
  await page.goto(`${local.endpoint}/`);
  await page.fill('#url', 'http://169.254.169.254/latest/meta-data/');
  await page.click('#go');
  await page.waitForSelector('#error.shown');
  expect(await page.textContent('#error-code')).toBe('UrlNotAllowed');
  expect(await page.textContent('#error-message')).toMatch(/link-local/);
  expect(await page.isVisible('#result')).toBe(false);
});
