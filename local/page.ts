/**
 * The local web page: paste an image URL or drop/choose a file; it invokes detect-faces through
 * the same Lambda Invoke API the CLI uses (with the log tail, for the stage timings) and shows the
 * marked image, the face count, the boxes with scores and each stage's time, or the error code.
 * Its option controls come from the request contract: a new request field shows up here by itself.
 */
import { DETECT_REQUEST } from '../functions/detect-faces/contract';
import type { ValueSpec } from '../functions/common/schema';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** One labelled control per request field: a number input with the contract's bounds, or a choice. */
function optionControls(): string {
  return (Object.entries(DETECT_REQUEST) as [string, ValueSpec][])
    .map(([name, spec]) => {
      const label = escapeHtml(spec.label ?? name);
      const title = escapeHtml(spec.doc);
      if (spec.kind === 'enum') {
        // No default in the contract: an empty choice, so nothing is sent unless the user picks.
        const none = spec.default === undefined ? '<option value="">default</option>' : '';
        const choices = none + spec.values.map((v) => `<option${v === spec.default ? ' selected' : ''}>${escapeHtml(v)}</option>`).join('');
        return `<label title="${title}">${label} <select data-option="${name}" data-kind="string">${choices}</select></label>`;
      }
      if (spec.kind === 'int' || spec.kind === 'number') {
        const step = spec.kind === 'int' ? '1' : '0.05';
        const placeholder = spec.default === undefined ? 'auto' : String(spec.default);
        return `<label title="${title}">${label} <input type="number" data-option="${name}" data-kind="number" min="${spec.min}" max="${spec.max}" step="${step}" placeholder="${placeholder}"></label>`;
      }
      return '';
    })
    .join('\n      ');
}

export function pageHtml(names: { detect: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Face detection (local)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d232b; background: #f4f6f8; }
  header { background: #232f3e; color: #fff; padding: 14px 24px; }
  header h1 { margin: 0; font-size: 19px; font-weight: 600; }
  header p { margin: 2px 0 0; color: #c7d0db; font-size: 13px; }
  main { max-width: 1100px; margin: 0 auto; padding: 20px 24px; display: grid; gap: 18px; }
  .card { background: #fff; border: 1px solid #dde3ea; border-radius: 8px; padding: 16px 18px; }
  form { display: flex; gap: 8px; }
  input[type=url] { flex: 1; padding: 8px 10px; border: 1px solid #b9c3cf; border-radius: 6px; font: inherit; }
  button { padding: 8px 16px; border: 0; border-radius: 6px; background: #ec7211; color: #fff; font: inherit; font-weight: 600; cursor: pointer; }
  button:disabled { background: #c9ccd1; cursor: default; }
  #drop { margin-top: 12px; border: 2px dashed #9fb0c2; border-radius: 8px; padding: 22px; text-align: center; color: #52606d; cursor: pointer; }
  #drop.over { border-color: #ec7211; background: #fff6ee; }
  #result { display: none; grid-template-columns: minmax(0, 3fr) minmax(260px, 2fr); gap: 18px; }
  #result.shown { display: grid; }
  #marked { max-width: 100%; border-radius: 6px; border: 1px solid #dde3ea; display: block; }
  #figure { position: relative; display: inline-block; max-width: 100%; }
  .landmark { position: absolute; width: 6px; height: 6px; margin: -3px 0 0 -3px; border-radius: 50%; background: #ff2bd6; border: 1px solid #fff; pointer-events: none; }
  .count { font-size: 30px; font-weight: 700; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; margin-top: 8px; }
  th, td { text-align: right; padding: 3px 6px; border-bottom: 1px solid #edf0f3; }
  th:first-child, td:first-child { text-align: left; }
  #error { display: none; border-left: 4px solid #d13212; background: #fdf3f1; }
  #error.shown { display: block; }
  #error code { font-weight: 700; color: #d13212; }
  .muted { color: #687684; font-size: 13px; }
  #options { display: flex; flex-wrap: wrap; gap: 14px; margin-top: 10px; font-size: 13px; color: #52606d; }
  #options input { width: 90px; padding: 4px 6px; border: 1px solid #b9c3cf; border-radius: 6px; font: inherit; }
</style>
</head>
<body>
<header><h1>Face detection</h1><p>Local run of <b>${names.detect}</b> with the real OpenCV layer, no AWS account needed</p></header>
<main>
  <section class="card">
    <form id="by-url">
      <input id="url" type="url" placeholder="https://example.com/photo.jpg" required aria-label="Image URL">
      <button id="go" type="submit">Detect faces</button>
    </form>
    <div id="options">
      ${optionControls()}
    </div>
    <div id="drop" tabindex="0">Drop an image here, or click to choose one (JPEG, PNG, WebP)
      <input id="file" type="file" accept="image/jpeg,image/png,image/webp" hidden>
    </div>
    <p id="status" class="muted" aria-live="polite"></p>
  </section>
  <section id="error" class="card" role="alert"><code id="error-code"></code> <span id="error-message"></span></section>
  <section id="result" class="card">
    <div><div id="figure"><img id="marked" alt="marked image"></div></div>
    <div>
      <div><span class="count" id="faces">0</span> face(s) <span class="muted" id="size"></span></div>
      <table id="boxes"><thead><tr><th>#</th><th>x</th><th>y</th><th>width</th><th>height</th><th>score</th></tr></thead><tbody></tbody></table>
      <h3>Stage timings</h3>
      <table id="timings"><thead><tr><th>stage</th><th>ms</th></tr></thead><tbody></tbody></table>
      <p class="muted"><a id="output-link" target="_blank" rel="noopener">marked image in the local bucket</a></p>
    </div>
  </section>
</main>
<script>
const FUNCTION = ${JSON.stringify(names.detect)};
const $ = (id) => document.getElementById(id);
const status = (text) => { $('status').textContent = text; };

/** The request options the user set (empty controls: the function's defaults). */
function options() {
  const out = {};
  for (const el of document.querySelectorAll('[data-option]')) {
    if (el.value === '') continue;
    out[el.dataset.option] = el.dataset.kind === 'number' ? Number(el.value) : el.value;
  }
  return out;
}

function showError(type, message) {
  $('result').classList.remove('shown');
  $('error-code').textContent = type;
  $('error-message').textContent = message;
  $('error').classList.add('shown');
  status('');
}

function rows(tbody, list) {
  tbody.replaceChildren(...list.map((cells) => {
    const tr = document.createElement('tr');
    for (const c of cells) { const td = document.createElement('td'); td.textContent = String(c); tr.append(td); }
    return tr;
  }));
}

/** Stage timings come from the function's structured log line in the log tail. */
function timingsFrom(logBase64) {
  if (!logBase64) return {};
  const text = new TextDecoder().decode(Uint8Array.from(atob(logBase64), (c) => c.charCodeAt(0)));
  for (const line of text.split('\\n').reverse()) {
    if (!line.startsWith('{')) continue;
    try { const entry = JSON.parse(line); if (entry.timingsMs) return entry.timingsMs; } catch {}
  }
  return {};
}

async function detect(imageUrl) {
  $('error').classList.remove('shown');
  $('go').disabled = true;
  status('Detecting…');
  try {
    const res = await fetch('/2015-03-31/functions/' + encodeURIComponent(FUNCTION) + '/invocations', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-amz-log-type': 'Tail' },
      body: JSON.stringify({ imageUrl, ...options() }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) return showError(res.headers.get('x-amzn-errortype') || 'HTTP ' + res.status, body.message || body.Message || '');
    if (res.headers.get('x-amz-function-error')) return showError(body.errorType || 'Error', body.errorMessage || '');
    $('faces').textContent = body.faces;
    $('size').textContent = body.width + ' × ' + body.height + ' px, faces from ' + body.minFaceSize + ' px, ' + body.mark;
    rows($('boxes').tBodies[0], body.boxes.map((b, i) => [i + 1, b.x, b.y, b.width, b.height, b.score.toFixed(3)]));
    rows($('timings').tBodies[0], Object.entries(timingsFrom(res.headers.get('x-amz-log-result'))));
    $('marked').src = body.outputUrl;
    showLandmarks(body);
    $('output-link').href = body.outputUrl;
    $('result').classList.add('shown');
    status('Done.');
  } catch (err) {
    showError('NetworkError', String(err));
  } finally {
    $('go').disabled = false;
  }
}

/** YuNet's five points per face as dots over the image, placed in percent so they follow its scaling. */
function showLandmarks(body) {
  const figure = $('figure');
  figure.querySelectorAll('.landmark').forEach((d) => d.remove());
  for (const box of body.boxes) {
    for (const [name, p] of Object.entries(box.landmarks || {})) {
      const dot = document.createElement('span');
      dot.className = 'landmark';
      dot.title = name;
      dot.style.left = (100 * p.x / body.width) + '%';
      dot.style.top = (100 * p.y / body.height) + '%';
      figure.append(dot);
    }
  }
}

async function detectFile(file) {
  if (!file) return;
  status('Uploading ' + file.name + '…');
  const res = await fetch('/api/files', { method: 'POST', headers: { 'x-file-name': file.name }, body: file });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) return showError(body.errorType || 'HTTP ' + res.status, body.errorMessage || '');
  await detect(body.imageUrl);
}

$('by-url').addEventListener('submit', (e) => { e.preventDefault(); detect($('url').value.trim()); });
const drop = $('drop');
drop.addEventListener('click', () => $('file').click());
drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') $('file').click(); });
$('file').addEventListener('change', () => detectFile($('file').files[0]));
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); detectFile(e.dataTransfer.files[0]); });
</script>
</body>
</html>
`;
}
