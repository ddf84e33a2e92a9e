// Browser code of the yollava panels. It renders what the extension sends (protocol.ts: HostToPanel) and
// sends back what the user does (PanelToHost). Model output only ever reaches the page as text.
import './style.css';
import type { HostToPanel, PanelToHost, RecognitionItem, TrainingRun } from '../../server/src/protocol';

interface VsCodeApi {
  postMessage(m: PanelToHost): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const app = document.getElementById('app')!;
const mode = document.body.dataset['mode'];

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

const status = el('div', { id: 'status', className: 'note' });

// ─── Chat ────────────────────────────────────────────────────────────────────────────────────────────
const log = el('div', { id: 'log' });
const answers = new Map<string, HTMLElement>();
const input = el('input', {
  id: 'question',
  type: 'text',
  placeholder: 'Ask about your subject, e.g. what color is <bo>?',
});
const send = el('button', { id: 'send', textContent: 'Ask' });
const stop = el('button', { id: 'stop', textContent: 'Stop', disabled: true });
const clear = el('button', { id: 'clear', textContent: 'New conversation' });
const drop = el('div', { id: 'drop', textContent: 'Drop a photo here (Shift+drag from the Explorer) or ' });
const pick = el('button', { id: 'pick', textContent: 'Choose a photo…' });

function setupChat(): void {
  const ask = (): void => {
    const text = input.value.trim();
    if (!text || !stop.disabled) return;
    vscode.postMessage({ type: 'ask', text });
    input.value = '';
  };
  send.addEventListener('click', ask);
  input.addEventListener('keydown', (e) => e.key === 'Enter' && ask());
  stop.addEventListener('click', () => vscode.postMessage({ type: 'stop' }));
  clear.addEventListener('click', () => {
    log.replaceChildren();
    vscode.postMessage({ type: 'clear' });
  });
  pick.addEventListener('click', () => vscode.postMessage({ type: 'pickImage' }));
  drop.append(pick);
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const uri =
      e.dataTransfer?.getData('text/uri-list') || e.dataTransfer?.getData('application/vnd.code.uri-list');
    if (uri) {
      vscode.postMessage({ type: 'dropImage', uri });
      return;
    }
    const file = e.dataTransfer?.files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () =>
      vscode.postMessage({ type: 'dropImage', name: file.name, dataUrl: String(reader.result) });
    reader.readAsDataURL(file);
  });
  app.append(log, el('div', { className: 'row' }, input, send, stop, clear), drop, status);
}

// ─── Recognition preview ─────────────────────────────────────────────────────────────────────────────
const grid = el('div', { className: 'grid', id: 'grid' });
const summary = el('div', { id: 'summary' });

function setupRecognition(): void {
  const folder = el('input', {
    id: 'folder',
    type: 'text',
    placeholder: 'folders of photos, comma-separated (default: the test photos)',
  });
  const run = el('button', { id: 'run', textContent: 'Score' });
  const choose = el('button', { id: 'choose', textContent: 'Choose folder…' });
  run.addEventListener('click', () => vscode.postMessage({ type: 'recognize', folder: folder.value }));
  choose.addEventListener('click', () => vscode.postMessage({ type: 'pickFolder' }));
  const legend = el(
    'div',
    { className: 'legend' },
    el('span', { className: 'yes', textContent: 'recognized (score above the threshold)' }),
    el('span', { className: 'no', textContent: 'not recognized' }),
    el('span', { className: 'wrong', textContent: 'wrong for its label (training/test photo or negative)' }),
  );
  app.append(el('div', { className: 'row' }, folder, run, choose), legend, summary, status, grid);
}

function tile(i: RecognitionItem & { src: string }): HTMLElement {
  const name = i.image.split(/[\\/]/).pop() ?? i.image;
  return el(
    'div',
    { className: `tile ${i.present ? 'yes' : 'no'}${i.wrong ? ' wrong' : ''}`, title: i.image },
    el('img', { src: i.src, alt: name }),
    el('div', { className: 'score', textContent: `${i.present ? '✓' : '✗'} ${i.score.toFixed(2)}` }),
    el('div', { className: 'label', textContent: i.label ? `${i.label}${i.wrong ? ' · wrong' : ''}` : name }),
  );
}

function showRecognition(m: Extract<HostToPanel, { type: 'recognition' }>): void {
  const { report } = m;
  const tiles: HTMLElement[] = [];
  let marked = false;
  for (const i of report.items) {
    if (!marked && i.score <= report.threshold) {
      tiles.push(
        el('div', { className: 'threshold', textContent: `threshold ${report.threshold.toFixed(2)}` }),
      );
      marked = true;
    }
    tiles.push(tile(i));
  }
  if (!marked)
    tiles.push(
      el('div', { className: 'threshold', textContent: `threshold ${report.threshold.toFixed(2)}` }),
    );
  grid.replaceChildren(...tiles);
  const labelled = report.items.filter((i) => i.label);
  const wrong = labelled.filter((i) => i.wrong).length;
  summary.textContent = `<${report.name}> in ${m.folder}: ${report.items.filter((i) => i.present).length} of ${report.items.length} recognized${labelled.length ? `; ${wrong} of ${labelled.length} labelled photos wrong` : ''}${report.mode === 'reference' ? ' (not trained yet: scored with the reference photos)' : ''}`;
  status.textContent = '';
}

// ─── Training dashboard ──────────────────────────────────────────────────────────────────────────────
const SVG = 'http://www.w3.org/2000/svg';
const dash = el('div', { id: 'dashboard' });

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

interface Series {
  /** The points of the line, in order of x. */
  points: { x: number; y: number }[];
  /** A band around it (each bucket's min and max), drawn under the line. */
  band?: { x: number; lo: number; hi: number }[];
}

/** The y range a chart shows: the data's own, padded a little, or a fixed one. */
function dataRange(values: number[]): [number, number] {
  if (!values.length) return [0, 1];
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.05 || 0.05;
  // A loss is never negative: its axis need not go below 0.
  return [lo >= 0 ? Math.max(0, lo - pad) : lo - pad, hi + pad];
}

const axisLabel = (v: number, span: number): string =>
  v.toFixed(span >= 20 ? 0 : span >= 2 ? 1 : span >= 0.2 ? 2 : 3);

function chart(
  id: string,
  title: string,
  series: Series,
  [yMin, yMax]: [number, number],
  cls = '',
): SVGElement {
  const W = 360;
  const H = 140;
  const pad = 34;
  const root = svg('svg', { class: 'chart', id, width: W, height: H, viewBox: `0 0 ${W} ${H}` });
  root.append(svg('text', { x: pad, y: 12 }, title));
  root.append(svg('line', { x1: pad, y1: H - pad, x2: W - 6, y2: H - pad }));
  root.append(svg('line', { x1: pad, y1: 18, x2: pad, y2: H - pad }));
  const span = yMax - yMin;
  root.append(svg('text', { class: 'y-max', x: 2, y: 24 }, axisLabel(yMax, span)));
  root.append(svg('text', { class: 'y-min', x: 2, y: H - pad }, axisLabel(yMin, span)));
  const { points, band } = series;
  if (points.length) {
    const xs = [...points.map((p) => p.x), ...(band ?? []).map((b) => b.x)];
    const xMin = Math.min(...xs);
    const xMax = Math.max(...xs, xMin + 1);
    const sx = (x: number): string => (pad + ((W - pad - 8) * (x - xMin)) / (xMax - xMin)).toFixed(1);
    const sy = (y: number): string =>
      (H - pad - ((H - pad - 20) * (Math.min(Math.max(y, yMin), yMax) - yMin)) / (yMax - yMin || 1)).toFixed(
        1,
      );
    if (band?.length)
      root.append(
        svg('polygon', {
          class: 'band',
          points: [
            ...band.map((b) => `${sx(b.x)},${sy(b.hi)}`),
            ...[...band].reverse().map((b) => `${sx(b.x)},${sy(b.lo)}`),
          ].join(' '),
        }),
      );
    root.append(
      svg('polyline', { class: cls, points: points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(' ') }),
    );
    root.append(svg('text', { class: 'x-min', x: pad, y: H - 10 }, String(xMin)));
    root.append(svg('text', { class: 'x-max', x: W - 40, y: H - 10 }, String(xMax)));
  }
  return root;
}

/** A bucket is drawn at the middle of the steps it covers. */
const middle = (b: TrainingRun['losses'][number]): number => (b.from + b.to) / 2;

function showTraining(run: TrainingRun | null): void {
  if (!run) {
    dash.replaceChildren(
      el('div', {
        className: 'note',
        textContent: 'No training run yet in this session: save the subject file, or run yollava: Train.',
      }),
    );
    return;
  }
  const last = run.lastLoss;
  const head = `${run.state === 'running' ? `training ${Math.floor(run.percent)}%` : run.state}${last !== undefined ? ` · loss ${last.toFixed(3)}` : ''}${run.state === 'running' && run.etaSeconds !== undefined ? ` · ETA ${Math.ceil(run.etaSeconds)} s` : ''}`;
  const rows = run.epochs.map(
    (e) => `epoch ${e.epoch}: loss ${e.loss.toFixed(3)}, training recognition ${e.recognition.toFixed(3)}`,
  );
  dash.replaceChildren(
    el('div', { id: 'run-state', textContent: head }),
    el('div', {
      className: 'note',
      textContent: `started ${new Date(run.startedAt).toLocaleTimeString()}${run.finishedAt ? `, ended ${new Date(run.finishedAt).toLocaleTimeString()}` : ''}${run.error ? ` — ${run.error}` : ''}`,
    }),
    // The whole run: the mean of each bucket of steps, over the band of its min and max.
    chart(
      'loss-chart',
      'loss per step (mean, min–max)',
      {
        points: run.losses.map((b) => ({ x: middle(b), y: b.mean })),
        band: run.losses.map((b) => ({ x: middle(b), lo: b.min, hi: b.max })),
      },
      dataRange(run.losses.flatMap((b) => [b.min, b.max])),
    ),
    chart(
      'recognition-chart',
      'training recognition per epoch',
      { points: run.epochs.map((e) => ({ x: e.epoch, y: e.recognition })) },
      [0, 1],
      'rec',
    ),
    el('div', { id: 'epochs' }, ...rows.map((r) => el('div', { textContent: r }))),
  );
}

// ─── Messages ────────────────────────────────────────────────────────────────────────────────────────
if (mode === 'chat') setupChat();
else if (mode === 'recognition') setupRecognition();
else app.append(dash, status);

window.addEventListener('message', (e: MessageEvent<HostToPanel>) => {
  const m = e.data;
  switch (m.type) {
    case 'answerStart': {
      log.append(el('div', { className: 'msg you', textContent: m.question }));
      const a = el('div', { className: 'msg answer' });
      answers.set(m.id, a);
      log.append(a);
      stop.disabled = false;
      send.disabled = true;
      break;
    }
    case 'delta':
      answers.get(m.id)?.append(document.createTextNode(m.text));
      break;
    case 'answerEnd': {
      const a = answers.get(m.id);
      if (a) {
        a.textContent = m.text;
        if (m.stopped) a.append(el('span', { className: 'note', textContent: ' (stopped)' }));
        if (m.note) a.append(el('div', { className: 'note', textContent: m.note }));
      }
      stop.disabled = true;
      send.disabled = false;
      break;
    }
    case 'image':
      drop.replaceChildren(
        el('img', { src: m.src, alt: m.name }),
        `asking about ${m.name} `,
        el('button', {
          id: 'remove-image',
          textContent: 'Remove',
          onclick: () => vscode.postMessage({ type: 'removeImage' }),
        }),
      );
      break;
    case 'imageCleared':
      drop.replaceChildren('Drop a photo here (Shift+drag from the Explorer) or ', pick);
      break;
    case 'busy':
      status.textContent = m.text;
      break;
    case 'noTestPhotos': {
      status.textContent = '';
      const train = el('button', { id: 'score-training', textContent: 'Score the training photos' });
      const pick = el('button', { id: 'offer-folder', textContent: 'Choose folder…' });
      train.addEventListener('click', () => vscode.postMessage({ type: 'recognize', photos: 'train' }));
      pick.addEventListener('click', () => vscode.postMessage({ type: 'pickFolder' }));
      summary.replaceChildren(
        el('div', { id: 'no-test-photos', textContent: m.text }),
        el('div', { className: 'row' }, train, pick),
      );
      break;
    }
    case 'recognition':
      showRecognition(m);
      break;
    case 'training':
      showTraining(m.run);
      break;
    case 'error':
      status.textContent = '';
      app.append(el('div', { className: 'msg error', textContent: `error: ${m.text}` }));
      break;
    case 'init':
      // The subject's own name (its name: field), not "<bo>".
      input.placeholder = `Ask about your subject, e.g. what color is <${m.name}>?`;
      break;
  }
});

vscode.postMessage({ type: 'ready' });
