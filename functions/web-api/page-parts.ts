/**
 * What the two pages share: the deployed app's page (page.ts, served by web-api) and the local
 * try-a-URL page (local/page.ts). The look, the option controls (from the request contract: a new
 * request field shows up in both by itself) and the browser code that reads the options and shows
 * a result (boxes, landmarks).
 */
import type { ValueSpec } from '../common/schema';
import { DETECT_REQUEST } from '../detect-faces/contract';

export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * One labelled control per request field: a number input with the contract's bounds, or a choice.
 * A choice starts on `preset`'s value when it has one, else on an empty "default" that sends
 * nothing (the function's default, or for an upload the deployment's, applies).
 */
export function optionControls(preset: Partial<Record<keyof typeof DETECT_REQUEST, string>> = {}): string {
  return (Object.entries(DETECT_REQUEST) as [keyof typeof DETECT_REQUEST, ValueSpec][])
    .map(([name, spec]) => {
      const label = escapeHtml(spec.label ?? name);
      const title = escapeHtml(spec.doc);
      if (spec.kind === 'enum') {
        const start = preset[name];
        const none = start === undefined ? '<option value="" selected>default</option>' : '';
        const choices = none + spec.values.map((v) => `<option${v === start ? ' selected' : ''}>${escapeHtml(v)}</option>`).join('');
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

export const PAGE_STYLE = `
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d232b; background: #f4f6f8; }
  header { background: #232f3e; color: #fff; padding: 14px 24px; display: flex; align-items: center; gap: 16px; }
  header h1 { margin: 0; font-size: 19px; font-weight: 600; }
  header p { margin: 2px 0 0; color: #c7d0db; font-size: 13px; }
  header .grow { flex: 1; }
  main { max-width: 1100px; margin: 0 auto; padding: 20px 24px; display: grid; gap: 18px; }
  .card { background: #fff; border: 1px solid #dde3ea; border-radius: 8px; padding: 16px 18px; }
  form { display: flex; gap: 8px; }
  input[type=url] { flex: 1; padding: 8px 10px; border: 1px solid #b9c3cf; border-radius: 6px; font: inherit; }
  button { padding: 8px 16px; border: 0; border-radius: 6px; background: #ec7211; color: #fff; font: inherit; font-weight: 600; cursor: pointer; }
  button:disabled { background: #c9ccd1; cursor: default; }
  button.quiet { background: transparent; border: 1px solid #c7d0db; color: inherit; }
  #drop { margin-top: 12px; border: 2px dashed #9fb0c2; border-radius: 8px; padding: 22px; text-align: center; color: #52606d; cursor: pointer; }
  #drop.over { border-color: #ec7211; background: #fff6ee; }
  .marked { max-width: 100%; border-radius: 6px; border: 1px solid #dde3ea; display: block; }
  .figure { position: relative; display: inline-block; max-width: 100%; }
  .landmark { position: absolute; width: 6px; height: 6px; margin: -3px 0 0 -3px; border-radius: 50%; background: #ff2bd6; border: 1px solid #fff; pointer-events: none; }
  .count { font-size: 30px; font-weight: 700; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; margin-top: 8px; }
  th, td { text-align: right; padding: 3px 6px; border-bottom: 1px solid #edf0f3; }
  th:first-child, td:first-child { text-align: left; }
  .error { border-left: 4px solid #d13212; background: #fdf3f1; }
  .error code { font-weight: 700; color: #d13212; }
  .muted { color: #687684; font-size: 13px; }
  #options { display: flex; flex-wrap: wrap; gap: 14px; margin-top: 10px; font-size: 13px; color: #52606d; }
  #options input { width: 90px; padding: 4px 6px; border: 1px solid #b9c3cf; border-radius: 6px; font: inherit; }
`;

/**
 * Browser code both pages run: `readOptions()` (the options the user set; empty controls leave the
 * function's defaults), `fillRows(tbody, rows)`, `faceRows(boxes)` and `placeLandmarks(figure, result)`
 * (YuNet's five points per face as dots, placed in percent so they follow the image's scaling).
 */
export const SHARED_SCRIPT = `
function readOptions() {
  const out = {};
  for (const el of document.querySelectorAll('[data-option]')) {
    if (el.value === '') continue;
    out[el.dataset.option] = el.dataset.kind === 'number' ? Number(el.value) : el.value;
  }
  return out;
}

function fillRows(tbody, list) {
  tbody.replaceChildren(...list.map((cells) => {
    const tr = document.createElement('tr');
    for (const c of cells) { const td = document.createElement('td'); td.textContent = String(c); tr.append(td); }
    return tr;
  }));
}

function faceRows(boxes) {
  return boxes.map((b, i) => [i + 1, b.x, b.y, b.width, b.height, b.score.toFixed(3)]);
}

function placeLandmarks(figure, result) {
  figure.querySelectorAll('.landmark').forEach((d) => d.remove());
  for (const box of result.boxes) {
    for (const [name, p] of Object.entries(box.landmarks || {})) {
      const dot = document.createElement('span');
      dot.className = 'landmark';
      dot.title = name;
      dot.style.left = (100 * p.x / result.width) + '%';
      dot.style.top = (100 * p.y / result.height) + '%';
      figure.append(dot);
    }
  }
}
`;
