/**
 * The local web page: paste an image URL or drop/choose a file; it invokes detect-faces through
 * the same Lambda Invoke API the CLI uses (with the log tail, for the stage timings) and shows the
 * marked image, the face count, the boxes with scores and each stage's time, or the error code.
 * Its look, option controls (from the request contract) and result code are the web app's too
 * (functions/web-api/page-parts.ts); the web app itself is at /app.
 */
import { escapeHtml, optionControls, PAGE_STYLE, SHARED_SCRIPT } from '../functions/web-api/page-parts';

export function pageHtml(names: { detect: string; app: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Face detection (local)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${PAGE_STYLE}
  #result { display: none; grid-template-columns: minmax(0, 3fr) minmax(260px, 2fr); gap: 18px; }
  #result.shown { display: grid; }
  #error { display: none; }
  #error.shown { display: block; }
</style>
</head>
<body>
<header><div class="grow"><h1>Face detection</h1><p>Local run of <b>${escapeHtml(names.detect)}</b> with the real OpenCV layer, no AWS account needed</p></div><a href="${escapeHtml(names.app)}" style="color:#fff">the web app (sign in, upload) →</a></header>
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
  <section id="error" class="card error" role="alert"><code id="error-code"></code> <span id="error-message"></span></section>
  <section id="result" class="card">
    <div><div id="figure" class="figure"><img id="marked" class="marked" alt="marked image"></div></div>
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
${SHARED_SCRIPT}
const FUNCTION = ${JSON.stringify(names.detect)};
const $ = (id) => document.getElementById(id);
const status = (text) => { $('status').textContent = text; };

function showError(type, message) {
  $('result').classList.remove('shown');
  $('error-code').textContent = type;
  $('error-message').textContent = message;
  $('error').classList.add('shown');
  status('');
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
      body: JSON.stringify({ imageUrl, ...readOptions() }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) return showError(res.headers.get('x-amzn-errortype') || 'HTTP ' + res.status, body.message || body.Message || '');
    if (res.headers.get('x-amz-function-error')) return showError(body.errorType || 'Error', body.errorMessage || '');
    $('faces').textContent = body.faces;
    $('size').textContent = body.width + ' × ' + body.height + ' px, faces from ' + body.minFaceSize + ' px, ' + body.mark;
    fillRows($('boxes').tBodies[0], faceRows(body.boxes));
    fillRows($('timings').tBodies[0], Object.entries(timingsFrom(res.headers.get('x-amz-log-result'))));
    $('marked').src = body.outputUrl;
    placeLandmarks($('figure'), body);
    $('output-link').href = body.outputUrl;
    $('result').classList.add('shown');
    status('Done.');
  } catch (err) {
    showError('NetworkError', String(err));
  } finally {
    $('go').disabled = false;
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
